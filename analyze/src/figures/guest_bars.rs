//! Per-guest bars, the paper's Figures 1 and 2: for each number of guests N
//! started at once, one bar per guest with its compile time. A guest that
//! did not return (crashed or hung) gets a red X at its bar's place and is
//! counted under its N: it is never a bar of 0. A guest whose tool failed
//! gets a gray X.
//!
//! The y-axis caption is horizontal, above the axis (see the module doc of
//! `figures` on rotated text).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::{self, Mark};
use super::{Figure, FigureError};

/// Input of a per-guest bar chart (one platform).
#[derive(Debug, Clone, PartialEq)]
pub struct GuestBars {
    /// E.g. "Figure 1. KVM: compile time of each guest".
    pub title: String,
    /// Caption of the value axis with its unit, e.g. "compile time (s)".
    pub value_label: String,
    /// One group of bars per N, left to right.
    pub runs: Vec<GuestRun>,
    /// Top of the value axis; set the same value on two platforms' figures
    /// to compare them. `None`: 10% above the tallest bar.
    pub y_max: Option<f64>,
    /// Palette index of the bars' color (the platform's series index in
    /// the other figures).
    pub color: usize,
}

/// The guests of one run with N guests at once.
#[derive(Debug, Clone, PartialEq)]
pub struct GuestRun {
    pub n_guests: u32,
    /// `guests[i]` is guest `i + 1`.
    pub guests: Vec<GuestOutcome>,
}

/// What one guest gave.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GuestOutcome {
    /// Completed; the value (e.g. seconds), finite and not negative.
    Value(f64),
    /// Did not return: crashed, hung or vanished (status `dnr`).
    Dnr,
    /// The tool ran but failed (status `failed`).
    Failed,
}

/// Blank slots between two groups of bars.
const GAP: usize = 3;
const LEFT: i32 = 80;
const RIGHT: i32 = 30;
const BOTTOM: i32 = 86;
const HEIGHT_PLOT: i32 = 420;
const MIN_SLOT_PX: usize = 7;
const MAX_BAR_PX: f64 = 40.0;

impl GuestBars {
    fn slots(&self) -> usize {
        let bars: usize = self.runs.iter().map(|r| r.guests.len().max(1)).sum();
        bars + GAP * self.runs.len().saturating_sub(1)
    }

    fn has(&self, what: GuestOutcome) -> bool {
        self.runs.iter().flat_map(|r| &r.guests).any(|g| *g == what)
    }

    fn legend_entries(&self) -> Vec<(Mark, String)> {
        let mut e = vec![(
            Mark::Swatch(style::series_color(self.color)),
            "one guest".to_owned(),
        )];
        // The DNR entry is always shown, so a figure without it says so.
        e.push((
            Mark::Cross(style::DNR_RED),
            "DNR: guest crashed or hung (no value)".to_owned(),
        ));
        if self.has(GuestOutcome::Failed) {
            e.push((
                Mark::Cross(style::FAILED_GRAY),
                "failed: the tool erred".to_owned(),
            ));
        }
        e
    }

    fn header(&self, width: u32) -> i32 {
        style::TITLE_BAND + style::legend_height(&self.legend_entries(), width) + 36
    }

    fn check(&self) -> Result<(), FigureError> {
        for r in &self.runs {
            for g in &r.guests {
                if let GuestOutcome::Value(v) = g {
                    if !(v.is_finite() && *v >= 0.0) {
                        return Err(FigureError::Input(format!(
                            "N={}: value {v} is not a finite non-negative number",
                            r.n_guests
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

impl Figure for GuestBars {
    fn size(&self) -> (u32, u32) {
        self.size_at(1000)
    }

    fn size_at(&self, width: u32) -> (u32, u32) {
        let w = (LEFT + RIGHT + (self.slots() * MIN_SLOT_PX) as i32).max(width as i32) as u32;
        (w, (self.header(w) + HEIGHT_PLOT + BOTTOM) as u32)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), FigureError> {
        self.check()?;
        let width = root.dim_in_pixel().0;
        let y0 = style::title(root, &self.title)?;
        style::legend(root, &self.legend_entries(), y0)?;
        let top = self.header(width);

        let tallest = self
            .runs
            .iter()
            .flat_map(|r| &r.guests)
            .filter_map(|g| match g {
                GuestOutcome::Value(v) => Some(*v),
                _ => None,
            })
            .fold(0.0f64, f64::max);
        let y_max = self.y_max.unwrap_or(tallest * 1.1).max(1e-9);
        let slots = self.slots().max(1) as f64;
        let decimals = style::tick_decimals(y_max);
        let mut chart = ChartBuilder::on(root)
            .margin_top(top)
            .margin_right(RIGHT)
            .x_label_area_size(BOTTOM)
            .y_label_area_size(LEFT)
            .build_cartesian_2d(0.0..slots, 0.0..y_max)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(8)
            .y_label_formatter(&|v| format!("{v:.decimals$}"))
            .y_label_style(style::text(style::SMALL))
            .bold_line_style(style::GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(style::AXIS)
            .draw()?;

        // The value axis' caption, horizontal, above the axis.
        let (ax, ay) = chart.backend_coord(&(0.0, y_max));
        root.draw(&Text::new(
            self.value_label.clone(),
            (ax - 50, ay - 14),
            style::anchored(style::LABEL, HPos::Left, VPos::Bottom),
        ))?;

        let px = |x: f64, y: f64| chart.backend_coord(&(x, y));
        let slot_px = px(1.0, 0.0).0 - px(0.0, 0.0).0;
        let r = (slot_px / 2).clamp(3, 8);
        let bar_color = style::series_color(self.color);
        let mut x = 0usize;
        for run in &self.runs {
            let n = run.guests.len().max(1);
            for (i, g) in run.guests.iter().enumerate() {
                let (s0, s1) = ((x + i) as f64, (x + i + 1) as f64);
                // A gap between bars when there is room; bars at most
                // MAX_BAR_PX wide when there are few guests.
                let gap: f64 = if slot_px >= 6 { 0.12 } else { 0.0 };
                let inset = gap.max(0.5 - MAX_BAR_PX / 2.0 / slot_px.max(1) as f64);
                let (cx, base) = px((s0 + s1) / 2.0, 0.0);
                match g {
                    GuestOutcome::Value(v) => {
                        chart.plotting_area().draw(&Rectangle::new(
                            [(s0 + inset, 0.0), (s1 - inset, v.min(y_max))],
                            bar_color.filled(),
                        ))?;
                    }
                    GuestOutcome::Dnr => style::cross(root, (cx, base - r - 4), r, style::DNR_RED)?,
                    GuestOutcome::Failed => {
                        style::cross(root, (cx, base - r - 4), r, style::FAILED_GRAY)?
                    }
                }
            }
            // Under the group: its N, then how many did not return.
            let (gx, base) = px(x as f64 + n as f64 / 2.0, 0.0);
            root.draw(&Text::new(
                format!("N = {}", run.n_guests),
                (gx, base + 10),
                style::anchored(style::LABEL, HPos::Center, VPos::Top),
            ))?;
            let count = |what| run.guests.iter().filter(|g| **g == what).count();
            let mut line = base + 34;
            for (what, word, color) in [
                (GuestOutcome::Dnr, "DNR", style::DNR_RED),
                (GuestOutcome::Failed, "failed", style::FAILED_GRAY),
            ] {
                let k = count(what);
                if k > 0 {
                    root.draw(&Text::new(
                        format!("{k} {word}"),
                        (gx, line),
                        style::anchored(style::SMALL, HPos::Center, VPos::Top).color(&color),
                    ))?;
                    line += 20;
                }
            }
            x += n + GAP;
        }
        Ok(())
    }
}
