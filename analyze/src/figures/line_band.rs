//! Mean against N with an interval band: one line per platform through the
//! mean of the guests that completed, a translucent band for the 95%
//! Student-t interval of that mean, and the count of guests that did not
//! return written at each point that has any. An N where every guest was
//! DNR has no mean: it gets a red X on the axis, never a point at 0.
//!
//! Fitted curves (a model's mean against x with its 95% confidence band)
//! are drawn dashed over the points, in the color of their series. When
//! every x is a whole number (a count of guests) the x axis has ticks at
//! the measured x only, never at 0.5 guests.
//!
//! The y-axis caption is horizontal, above the axis (see the module doc of
//! `figures` on rotated text).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::{self, Mark};
use super::{Figure, FigureError};
use crate::stats::Summary;

/// Input of a line-and-band chart.
#[derive(Debug, Clone, PartialEq)]
pub struct LineBand {
    pub title: String,
    /// Caption of the x axis with its unit, e.g. "guests started at once (N)".
    pub x_label: String,
    /// Caption of the y axis with its unit, e.g. "mean compile time (s)".
    pub y_label: String,
    /// What the band is, for the legend, e.g. "95% t-interval of the mean".
    pub band_label: String,
    pub series: Vec<BandSeries>,
    /// Fitted curves drawn over the points.
    pub fits: Vec<FitLine>,
}

/// A fitted curve with its confidence band.
#[derive(Debug, Clone, PartialEq)]
pub struct FitLine {
    /// Legend name, e.g. "KVM: USL fit, 95% band".
    pub name: String,
    /// Palette index of its series.
    pub color: usize,
    /// `(x, fitted, band low, band high)` in increasing x, finite.
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// One line.
#[derive(Debug, Clone, PartialEq)]
pub struct BandSeries {
    /// Legend name, e.g. "KVM".
    pub name: String,
    /// Palette index (see [`super::assign_colors`]).
    pub color: usize,
    /// Points in increasing `x`.
    pub points: Vec<BandPoint>,
}

/// One x of one line.
#[derive(Debug, Clone, PartialEq)]
pub struct BandPoint {
    pub x: f64,
    /// Mean of the completed values; `None` when none completed.
    pub mean: Option<f64>,
    /// 95% interval of the mean; `None` when fewer than two completed.
    pub interval: Option<(f64, f64)>,
    /// Values that completed.
    pub n: usize,
    /// Values that did not return (DNR).
    pub dnr: usize,
}

impl BandPoint {
    /// The point of the completed `values` at `x` (mean and Student-t
    /// interval, `stats::Summary`), with `dnr` guests that did not return.
    pub fn from_values(x: f64, values: &[f64], dnr: usize) -> BandPoint {
        let s = Summary::of(values);
        BandPoint {
            x,
            mean: s.as_ref().map(|s| s.mean),
            interval: s.as_ref().and_then(|s| s.ci),
            n: values.len(),
            dnr,
        }
    }
}

/// Width of the default layout.
const WIDTH: u32 = 1000;
const LEFT: i32 = 80;
const RIGHT: i32 = 40;
const BOTTOM: i32 = 58;
const HEIGHT_PLOT: i32 = 420;

impl LineBand {
    fn legend_entries(&self) -> Vec<(Mark, String)> {
        let mut e: Vec<(Mark, String)> = self
            .series
            .iter()
            .map(|s| (Mark::Line(style::series_color(s.color)), s.name.clone()))
            .collect();
        e.push((Mark::Band(style::AXIS), self.band_label.clone()));
        for f in &self.fits {
            e.push((Mark::Dashed(style::series_color(f.color)), f.name.clone()));
        }
        if self.points().any(|p| p.mean.is_none()) {
            e.push((
                Mark::Cross(style::DNR_RED),
                "every guest DNR (no mean)".into(),
            ));
        }
        e
    }

    fn header(&self, width: u32) -> i32 {
        style::TITLE_BAND + style::legend_height(&self.legend_entries(), width) + 36
    }

    /// The distinct x of the points when all are whole numbers.
    fn whole_ticks(&self) -> Option<Vec<f64>> {
        let mut xs: Vec<f64> = self.points().map(|p| p.x).collect();
        if xs.is_empty() || xs.iter().any(|x| x.fract() != 0.0) {
            return None;
        }
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        Some(xs)
    }

    fn points(&self) -> impl Iterator<Item = &BandPoint> {
        self.series.iter().flat_map(|s| &s.points)
    }

    fn check(&self) -> Result<(), FigureError> {
        for p in self.points() {
            let finite = p.x.is_finite()
                && p.mean.is_none_or(f64::is_finite)
                && p.interval
                    .is_none_or(|(a, b)| a.is_finite() && b.is_finite());
            if !finite {
                return Err(FigureError::Input(format!(
                    "point at x={} is not finite",
                    p.x
                )));
            }
        }
        for f in &self.fits {
            if f.points.iter().any(|&(x, m, lo, hi)| {
                !(x.is_finite() && m.is_finite() && lo.is_finite() && hi.is_finite())
            }) {
                return Err(FigureError::Input(format!(
                    "fit {:?} is not finite",
                    f.name
                )));
            }
        }
        Ok(())
    }
}

impl Figure for LineBand {
    fn size(&self) -> (u32, u32) {
        self.size_at(WIDTH)
    }

    fn size_at(&self, width: u32) -> (u32, u32) {
        (width, (self.header(width) + HEIGHT_PLOT + BOTTOM) as u32)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), FigureError> {
        self.check()?;
        let width = root.dim_in_pixel().0;
        let y0 = style::title(root, &self.title)?;
        style::legend(root, &self.legend_entries(), y0)?;

        let xs = self.points().map(|p| p.x);
        let x_max = xs.fold(1.0f64, f64::max);
        let x_min = self.points().map(|p| p.x).fold(x_max, f64::min).min(0.0);
        let y_top = self
            .points()
            .flat_map(|p| p.mean.into_iter().chain(p.interval.map(|i| i.1)))
            .chain(self.fits.iter().flat_map(|f| f.points.iter().map(|p| p.3)))
            .fold(0.0f64, f64::max);
        let y_max = (y_top * 1.15).max(1e-9);
        let x_pad = (x_max - x_min) * 0.04;
        let (xd, yd) = (
            style::tick_decimals(x_max - x_min),
            style::tick_decimals(y_max),
        );
        let ticks = self.whole_ticks();
        let mut chart = ChartBuilder::on(root)
            .margin_top(self.header(width))
            .margin_right(RIGHT)
            .x_label_area_size(BOTTOM)
            .y_label_area_size(LEFT)
            .build_cartesian_2d(x_min - x_pad..x_max + x_pad, 0.0..y_max)?;
        chart
            .configure_mesh()
            .x_labels(if ticks.is_some() { 0 } else { 10 })
            .y_labels(8)
            .x_label_formatter(&|v| format!("{v:.xd$}"))
            .y_label_formatter(&|v| format!("{v:.yd$}"))
            .x_label_style(style::text(style::SMALL))
            .y_label_style(style::text(style::SMALL))
            .x_desc(self.x_label.as_str())
            .axis_desc_style(style::text(style::LABEL))
            .bold_line_style(style::GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(style::AXIS)
            .draw()?;
        let (ax, ay) = chart.backend_coord(&(x_min - x_pad, y_max));
        root.draw(&Text::new(
            self.y_label.clone(),
            (ax - 50, ay - 14),
            style::anchored(style::LABEL, HPos::Left, VPos::Bottom),
        ))?;

        if let Some(ticks) = &ticks {
            for &x in ticks {
                let (px, base) = chart.backend_coord(&(x, 0.0));
                let (_, top) = chart.backend_coord(&(x, y_max));
                root.draw(&PathElement::new(vec![(px, top), (px, base)], style::GRID))?;
                root.draw(&PathElement::new(
                    vec![(px, base), (px, base + 5)],
                    style::AXIS,
                ))?;
                root.draw(&Text::new(
                    format!("{x:.0}"),
                    (px, base + 8),
                    style::anchored(style::SMALL, HPos::Center, VPos::Top),
                ))?;
            }
        }
        // Fitted bands under everything, then the fitted curves dashed.
        for f in &self.fits {
            let color = style::series_color(f.color);
            for w in f.points.windows(2) {
                chart.plotting_area().draw(&Polygon::new(
                    vec![
                        (w[0].0, w[0].2),
                        (w[1].0, w[1].2),
                        (w[1].0, w[1].3),
                        (w[0].0, w[0].3),
                    ],
                    color.mix(0.12).filled(),
                ))?;
            }
        }
        for f in &self.fits {
            let color = style::series_color(f.color);
            let px: Vec<(i32, i32)> = f
                .points
                .iter()
                .map(|p| chart.backend_coord(&(p.0, p.1)))
                .collect();
            style::dashed_path(root, &px, color)?;
        }
        // Bands first, so lines and marks stay on top. A band spans two
        // neighbouring points only when both have an interval.
        for s in &self.series {
            let color = style::series_color(s.color);
            for w in s.points.windows(2) {
                if let (Some((a0, a1)), Some((b0, b1))) = (w[0].interval, w[1].interval) {
                    chart.plotting_area().draw(&Polygon::new(
                        vec![(w[0].x, a0), (w[1].x, b0), (w[1].x, b1), (w[0].x, a1)],
                        color.mix(0.18).filled(),
                    ))?;
                }
            }
            // A lone interval (neighbours without one) as a whisker.
            for (i, p) in s.points.iter().enumerate() {
                let alone = |j: Option<usize>| {
                    j.and_then(|j| s.points.get(j))
                        .is_none_or(|q| q.interval.is_none())
                };
                if let (Some((lo, hi)), true, true) =
                    (p.interval, alone(i.checked_sub(1)), alone(Some(i + 1)))
                {
                    chart.plotting_area().draw(&PathElement::new(
                        vec![(p.x, lo), (p.x, hi)],
                        color.mix(0.5).stroke_width(6),
                    ))?;
                }
            }
        }
        let small = style::anchored(style::SMALL, HPos::Left, VPos::Bottom);
        for s in &self.series {
            let color = style::series_color(s.color);
            // The line breaks where a mean is missing.
            for w in s.points.windows(2) {
                if let (Some(a), Some(b)) = (w[0].mean, w[1].mean) {
                    chart.plotting_area().draw(&PathElement::new(
                        vec![(w[0].x, a), (w[1].x, b)],
                        color.stroke_width(3),
                    ))?;
                }
            }
            for p in &s.points {
                match p.mean {
                    Some(m) => {
                        chart
                            .plotting_area()
                            .draw(&Circle::new((p.x, m), 5, color.filled()))?;
                        if p.dnr > 0 {
                            let (x, y) = chart.backend_coord(&(p.x, m));
                            root.draw(&Text::new(
                                format!("{} DNR", p.dnr),
                                (x + 7, y - 6),
                                small.color(&style::DNR_RED),
                            ))?;
                        }
                    }
                    None => {
                        let (x, y) = chart.backend_coord(&(p.x, 0.0));
                        style::cross(root, (x, y - 10), 7, style::DNR_RED)?;
                        // Left of the mark when it is near the right edge.
                        let (tx, h) = if x > (width as i32) * 3 / 4 {
                            (x - 10, HPos::Right)
                        } else {
                            (x + 10, HPos::Left)
                        };
                        root.draw(&Text::new(
                            format!("{}: all {} DNR", s.name, p.dnr),
                            (tx, y - 20),
                            style::anchored(style::SMALL, h, VPos::Bottom).color(&style::DNR_RED),
                        ))?;
                    }
                }
            }
        }
        Ok(())
    }
}
