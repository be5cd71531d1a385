//! Horizontal grouped bars: one group per row (e.g. a workload's metric),
//! one bar per series (e.g. a platform), each with an optional interval
//! whisker, a printed value and a dashed reference line (e.g. native = 1.0).
//!
//! Bars are horizontal so that group labels, which are long
//! ("kernel-compile", "wall_time (s), lower is better"), stay horizontal
//! text beside them (see the module doc of `figures` on rotated text).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::{self, Mark};
use super::{Figure, FigureError};

/// Input of a grouped bar chart.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupedBars {
    pub title: String,
    /// Caption of the value axis, with its unit or meaning, e.g.
    /// "score relative to native (higher is better)".
    pub value_label: String,
    /// The series; bar `i` of every group belongs to series `i`.
    pub series: Vec<BarSeries>,
    pub groups: Vec<BarGroup>,
    /// A dashed vertical line at this value and its legend text, e.g.
    /// `(1.0, "native = 1.0")`.
    pub reference: Option<(f64, String)>,
    /// What the whiskers are, for the legend, e.g. "95% Fieller interval".
    pub interval_label: Option<String>,
}

/// A series: its legend name and palette index (see
/// [`super::assign_colors`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BarSeries {
    pub name: String,
    pub color: usize,
}

/// One group: a label on the left, one slot per series.
#[derive(Debug, Clone, PartialEq)]
pub struct BarGroup {
    /// First line of the label, e.g. the workload.
    pub label: String,
    /// Optional second line in smaller gray text, e.g. "events_per_sec
    /// (events/s), higher is better".
    pub detail: Option<String>,
    /// One entry per series.
    pub bars: Vec<Slot>,
}

/// What one series shows in a group.
#[derive(Debug, Clone, PartialEq)]
pub enum Slot {
    Bar(Bar),
    /// No bar; the text says why at the bar's place ("no data", "n/a:
    /// native mean is 0"), never a bar of 0.
    Empty(String),
}

impl Slot {
    pub fn bar(&self) -> Option<&Bar> {
        match self {
            Slot::Bar(b) => Some(b),
            Slot::Empty(_) => None,
        }
    }
}

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Length of the bar; must be finite and not negative.
    pub value: f64,
    /// Whisker `(low, high)`; `None` draws none (say why in `text`).
    pub interval: Option<(f64, f64)>,
    /// Printed right of the bar, e.g. "0.982" or "0.982 (interval unbounded)".
    pub text: String,
}

/// Width of the default layout.
const WIDTH: u32 = 1000;
const BAR: i32 = 20;
const GROUP_PAD: i32 = 16;
const MIN_GROUP: i32 = 50;
const RIGHT: i32 = 30;
const BOTTOM: i32 = 58;

impl GroupedBars {
    fn group_height(&self) -> i32 {
        (self.series.len() as i32 * BAR + GROUP_PAD).max(MIN_GROUP)
    }

    fn legend_entries(&self) -> Vec<(Mark, String)> {
        let mut entries: Vec<(Mark, String)> = self
            .series
            .iter()
            .map(|s| (Mark::Swatch(style::series_color(s.color)), s.name.clone()))
            .collect();
        if let Some(label) = &self.interval_label {
            entries.push((Mark::Whisker(BLACK), label.clone()));
        }
        if let Some((_, label)) = &self.reference {
            entries.push((Mark::Dashed(style::AXIS), label.clone()));
        }
        entries
    }

    fn check(&self) -> Result<(), FigureError> {
        for g in &self.groups {
            if g.bars.len() != self.series.len() {
                return Err(FigureError::Input(format!(
                    "group {:?} has {} bars for {} series",
                    g.label,
                    g.bars.len(),
                    self.series.len()
                )));
            }
            for b in g.bars.iter().filter_map(Slot::bar) {
                if !(b.value.is_finite() && b.value >= 0.0) {
                    return Err(FigureError::Input(format!(
                        "group {:?}: bar value {} is not a finite non-negative number",
                        g.label, b.value
                    )));
                }
            }
        }
        Ok(())
    }

    fn header_height(&self, width: u32) -> i32 {
        style::TITLE_BAND + style::legend_height(&self.legend_entries(), width) + 14
    }
}

impl Figure for GroupedBars {
    fn size(&self) -> (u32, u32) {
        self.size_at(WIDTH)
    }

    fn size_at(&self, width: u32) -> (u32, u32) {
        let plot = self.groups.len().max(1) as i32 * self.group_height();
        (width, (self.header_height(width) + plot + BOTTOM) as u32)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), FigureError> {
        self.check()?;
        let y0 = style::title(root, &self.title)?;
        style::legend(root, &self.legend_entries(), y0)?;
        let width = root.dim_in_pixel().0;
        let top = self.header_height(width);

        let label_w =
            style::widest(self.groups.iter().map(|g| &g.label), style::LABEL).max(style::widest(
                self.groups.iter().filter_map(|g| g.detail.as_ref()),
                style::SMALL,
            ));
        let left = label_w + 24;
        let plot_w = width as i32 - left - RIGHT;
        // A caption wider than the plot (a paper column) is set left-aligned
        // under the axis instead of centered on it.
        let desc_fits = style::text_width(&self.value_label, style::LABEL) <= plot_w;

        // Clip whiskers far beyond every bar so one wild interval does not
        // squash the chart; a clipped whisker ends in an arrowhead.
        let max_value = self
            .groups
            .iter()
            .flat_map(|g| g.bars.iter().filter_map(Slot::bar))
            .map(|b| b.value)
            .fold(0.0f64, f64::max);
        let clip = (max_value * 2.5).max(self.reference.as_ref().map_or(0.0, |r| r.0 * 1.5));
        // The axis must leave room for every printed value right of its bar.
        let mut x_max = self.reference.as_ref().map_or(0.0, |r| r.0 * 1.1).max(1e-9);
        for b in self
            .groups
            .iter()
            .flat_map(|g| g.bars.iter().filter_map(Slot::bar))
        {
            let end = b
                .interval
                .map_or(b.value, |(_, hi)| hi.min(clip).max(b.value));
            let tw = style::text_width(&b.text, style::SMALL);
            let room = (plot_w - 12 - tw).max(plot_w / 4) as f64;
            x_max = x_max.max(end * plot_w as f64 / room);
        }

        let total = (self.groups.len().max(1) as i32 * self.group_height()) as f64;
        let decimals = style::tick_decimals(x_max);
        let mut chart = ChartBuilder::on(root)
            .margin_top(top)
            .margin_right(RIGHT)
            .x_label_area_size(BOTTOM)
            .y_label_area_size(left)
            .build_cartesian_2d(0.0..x_max, total..0.0)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .disable_y_axis()
            .x_labels(8)
            .x_label_formatter(&|v| format!("{v:.decimals$}"))
            .x_label_style(style::text(style::SMALL))
            .x_desc(if desc_fits {
                self.value_label.as_str()
            } else {
                ""
            })
            .axis_desc_style(style::text(style::LABEL))
            .bold_line_style(style::GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(style::AXIS)
            .draw()?;

        let px = |x: f64, y: f64| chart.backend_coord(&(x, y));
        let gh = self.group_height() as f64;
        // Backgrounds of every other group, then the reference line, so
        // bars, whiskers and labels lie on top of both.
        for gi in (1..self.groups.len()).step_by(2) {
            let g_top = gi as f64 * gh;
            chart.plotting_area().draw(&Rectangle::new(
                [(0.0, g_top), (x_max, g_top + gh)],
                style::BAND_BG.filled(),
            ))?;
        }
        if let Some((r, _)) = &self.reference {
            let (x, y_top) = px(*r, 0.0);
            let (_, y_bottom) = px(*r, total);
            style::dashed(root, (x, y_top), (x, y_bottom), style::AXIS)?;
        }
        for (gi, g) in self.groups.iter().enumerate() {
            let g_top = gi as f64 * gh;
            let (lx, ly) = px(0.0, g_top + gh / 2.0);
            let label_pos = (lx - 12, if g.detail.is_some() { ly - 9 } else { ly });
            root.draw(&Text::new(
                g.label.clone(),
                label_pos,
                style::anchored(style::LABEL, HPos::Right, VPos::Center),
            ))?;
            if let Some(d) = &g.detail {
                root.draw(&Text::new(
                    d.clone(),
                    (lx - 12, ly + 10),
                    style::anchored(style::SMALL, HPos::Right, VPos::Center).color(&style::MUTED),
                ))?;
            }
            let first = g_top + (gh - (self.series.len() as i32 * BAR) as f64) / 2.0;
            for (si, bar) in g.bars.iter().enumerate() {
                let (b0, b1) = (
                    first + (si as i32 * BAR) as f64,
                    first + ((si + 1) as i32 * BAR) as f64,
                );
                let mid = (b0 + b1) / 2.0;
                let bar = match bar {
                    Slot::Bar(b) => b,
                    Slot::Empty(why) => {
                        root.draw(&Text::new(
                            why.clone(),
                            (px(0.0, mid).0 + 6, px(0.0, mid).1),
                            style::text(style::SMALL).color(&style::MUTED),
                        ))?;
                        continue;
                    }
                };
                chart.plotting_area().draw(&Rectangle::new(
                    [(0.0, b0 + 2.0), (bar.value, b1 - 2.0)],
                    style::series_color(self.series[si].color).filled(),
                ))?;
                let mut end = bar.value;
                if let Some((lo, hi)) = bar.interval {
                    let (lo, hi_c) = (lo.max(0.0), hi.min(clip));
                    let (xl, y) = px(lo, mid);
                    let (xh, _) = px(hi_c, mid);
                    let s = BLACK.stroke_width(2);
                    root.draw(&PathElement::new(vec![(xl, y), (xh, y)], s))?;
                    root.draw(&PathElement::new(vec![(xl, y - 6), (xl, y + 6)], s))?;
                    if hi > clip {
                        root.draw(&Polygon::new(
                            vec![(xh, y), (xh - 9, y - 5), (xh - 9, y + 5)],
                            BLACK.filled(),
                        ))?;
                    } else {
                        root.draw(&PathElement::new(vec![(xh, y - 6), (xh, y + 6)], s))?;
                    }
                    end = end.max(hi_c);
                }
                let (tx, ty) = px(end, mid);
                // Kept inside the figure: a text too long for the room right
                // of its bar ends at the plot's edge, on its white box.
                let tw = style::text_width(&bar.text, style::SMALL);
                let tx = (tx + 8).min(width as i32 - RIGHT / 2 - tw);
                style::label_on_white(root, &bar.text, (tx, ty), style::SMALL)?;
            }
        }
        if !desc_fits {
            let (_, base) = px(0.0, total);
            root.draw(&Text::new(
                self.value_label.clone(),
                (8, base + BOTTOM - 18),
                style::anchored(style::LABEL, HPos::Left, VPos::Center),
            ))?;
        }
        // The value axis starts at 0: draw its line over the bars' roots.
        let (x, y_top) = px(0.0, 0.0);
        let (_, y_bottom) = px(0.0, total);
        root.draw(&PathElement::new(
            vec![(x, y_top), (x, y_bottom)],
            style::AXIS.stroke_width(1),
        ))?;
        Ok(())
    }
}
