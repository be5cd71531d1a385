//! Heat table: a table whose cells are colored by value, for Table 2
//! (performance isolation). Rows are stressors; columns come in groups (a
//! platform) of sub-columns ("stressed", "normal"). Degradation is colored
//! on a white-to-dark-red ramp up to `saturate_at`; values below 0 (better
//! than baseline) in light blue. A DNR cell is dark gray, hatched and
//! labeled "DNR": it is never drawn as a number, and never as 0. A cell
//! with no data shows "—", one without a usable baseline "n/a".

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::{self, Mark};
use super::{Figure, FigureError};

/// Table 2's rows, in the paper's order (SPEC.md §7 `stressor` values).
pub const STRESSORS: [&str; 6] = benchvm_format::stressor::STRESSORS;

/// Input of a heat table.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatTable {
    pub title: String,
    /// What a number in a cell is, printed under the table, e.g. "Cells: %
    /// degradation of the good-response rate against the no-stress
    /// baseline; higher is worse."
    pub caption: String,
    /// Row labels, top to bottom (for Table 2: [`STRESSORS`]).
    pub rows: Vec<String>,
    /// Column headers, left to right; consecutive columns with the same
    /// `group` share a header (for Table 2: [`table2_columns`]).
    pub columns: Vec<HeatColumn>,
    /// `cells[row][column]`.
    pub cells: Vec<Vec<HeatCell>>,
    /// Unit printed after each value, e.g. "%".
    pub unit: String,
    /// Value at which the color is darkest (e.g. 100.0 for a degradation
    /// in %); larger values get the same color. Values at or below
    /// `-saturate_at / 4` get the darkest blue.
    pub saturate_at: f64,
}

/// One column: its group (e.g. the platform) and its own label.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatColumn {
    pub group: String,
    pub label: String,
}

/// One cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HeatCell {
    Value(f64),
    /// Did not return: the guest crashed, hung or vanished.
    Dnr,
    /// No measurement for this cell.
    Missing,
    /// Measured, but no number can be given (e.g. no usable baseline).
    NotAvailable,
}

/// Table 2's columns: "stressed" and "normal" for each platform.
pub fn table2_columns(platforms: &[String]) -> Vec<HeatColumn> {
    platforms
        .iter()
        .flat_map(|p| {
            ["stressed", "normal"].map(|label| HeatColumn {
                group: p.clone(),
                label: label.into(),
            })
        })
        .collect()
}

const CELL_H: i32 = 40;
const GROUP_GAP: i32 = 12;
const HEAD_GROUP: i32 = 30;
const HEAD_LABEL: i32 = 28;
const MARGIN: i32 = 24;
const SCALE_W: i32 = 320;

/// Stops of the degradation ramp (ColorBrewer OrRd, Brewer 2002), 0 to 1.
const RAMP: [(f64, (u8, u8, u8)); 5] = [
    (0.0, (0xFF, 0xF7, 0xEC)),
    (0.25, (0xFD, 0xD4, 0x9E)),
    (0.5, (0xFC, 0x8D, 0x59)),
    (0.75, (0xD7, 0x30, 0x1F)),
    (1.0, (0x7F, 0x00, 0x00)),
];
/// Better than baseline: ColorBrewer Blues, light to medium.
const BLUE: [(f64, (u8, u8, u8)); 2] = [(0.0, (0xF7, 0xFB, 0xFF)), (1.0, (0x6B, 0xAE, 0xD6))];

fn interpolate(stops: &[(f64, (u8, u8, u8))], t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    for w in stops.windows(2) {
        let ((t0, a), (t1, b)) = (w[0], w[1]);
        if t <= t1 {
            let f = (t - t0) / (t1 - t0);
            let mix = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * f).round() as u8;
            return RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2));
        }
    }
    let last = stops[stops.len() - 1].1;
    RGBColor(last.0, last.1, last.2)
}

impl HeatTable {
    /// The fill of a value.
    pub fn color(&self, v: f64) -> RGBColor {
        if v >= 0.0 {
            interpolate(&RAMP, v / self.saturate_at)
        } else {
            interpolate(&BLUE, -v / (self.saturate_at / 4.0))
        }
    }

    fn row_label_w(&self) -> i32 {
        style::widest(&self.rows, style::LABEL).max(80) + 24
    }

    fn cell_w(&self) -> i32 {
        style::widest(self.columns.iter().map(|c| &c.label), style::LABEL).max(90) + 28
    }

    /// Width of the figure: the table, or the caption if wider.
    fn width(&self) -> i32 {
        (self.table_w() + 2 * MARGIN)
            .max(720)
            .max(style::text_width(&self.caption, style::SMALL) + 2 * MARGIN)
    }

    /// Width of row labels and columns.
    fn table_w(&self) -> i32 {
        let gaps = self
            .columns
            .windows(2)
            .filter(|w| w[0].group != w[1].group)
            .count() as i32;
        self.row_label_w() + self.columns.len() as i32 * self.cell_w() + gaps * GROUP_GAP
    }

    /// Left edge of the row labels: the table is centered.
    fn left(&self) -> i32 {
        (self.width() - self.table_w()) / 2
    }

    /// Start x of each column, with a gap between groups.
    fn column_x(&self) -> Vec<i32> {
        let mut x = self.left() + self.row_label_w();
        let mut out = Vec::new();
        for (i, c) in self.columns.iter().enumerate() {
            if i > 0 && self.columns[i - 1].group != c.group {
                x += GROUP_GAP;
            }
            out.push(x);
            x += self.cell_w();
        }
        out
    }

    fn legend_entries(&self) -> Vec<(Mark, String)> {
        let mut e = vec![(
            Mark::Hatch,
            "DNR: did not return (guest crashed or hung)".to_owned(),
        )];
        if self.cells.iter().flatten().any(|c| *c == HeatCell::Missing) {
            e.push((Mark::Empty, "—: no data".to_owned()));
        }
        if self
            .cells
            .iter()
            .flatten()
            .any(|c| *c == HeatCell::NotAvailable)
        {
            e.push((
                Mark::Empty,
                "n/a: no usable baseline (see the table's notes)".to_owned(),
            ));
        }
        e
    }

    fn check(&self) -> Result<(), FigureError> {
        if self.cells.len() != self.rows.len() {
            return Err(FigureError::Input(format!(
                "{} rows of cells for {} row labels",
                self.cells.len(),
                self.rows.len()
            )));
        }
        if let Some((i, r)) = self
            .cells
            .iter()
            .enumerate()
            .find(|(_, r)| r.len() != self.columns.len())
        {
            return Err(FigureError::Input(format!(
                "row {:?} has {} cells for {} columns",
                self.rows[i],
                r.len(),
                self.columns.len()
            )));
        }
        if !(self.saturate_at.is_finite() && self.saturate_at > 0.0) {
            return Err(FigureError::Input("saturate_at must be positive".into()));
        }
        Ok(())
    }

    fn value_text(&self, v: f64) -> String {
        if self.unit == "%" {
            format!("{v:.1}%")
        } else {
            format!("{} {}", style::short_number(v), self.unit)
        }
    }
}

impl Figure for HeatTable {
    fn size(&self) -> (u32, u32) {
        let w = self.width();
        let table_bottom =
            style::TITLE_BAND + HEAD_GROUP + HEAD_LABEL + self.rows.len() as i32 * CELL_H;
        let legend = style::legend_height(&self.legend_entries(), w as u32);
        (
            w as u32,
            (table_bottom + 24 + 50 + legend + 8 + 26 + MARGIN) as u32,
        )
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), FigureError> {
        self.check()?;
        let width = root.dim_in_pixel().0 as i32;
        let mut y = style::title(root, &self.title)?;
        let xs = self.column_x();
        let cw = self.cell_w();

        // Group headers, one per run of equal groups, underlined.
        let mut start = 0;
        while start < self.columns.len() {
            let group = &self.columns[start].group;
            let end = (start..self.columns.len())
                .find(|&i| &self.columns[i].group != group)
                .unwrap_or(self.columns.len());
            let (x0, x1) = (xs[start], xs[end - 1] + cw);
            root.draw(&Text::new(
                group.clone(),
                ((x0 + x1) / 2, y + HEAD_GROUP / 2),
                style::anchored(style::LABEL, HPos::Center, VPos::Center),
            ))?;
            root.draw(&PathElement::new(
                vec![(x0 + 4, y + HEAD_GROUP - 2), (x1 - 4, y + HEAD_GROUP - 2)],
                style::AXIS.stroke_width(1),
            ))?;
            start = end;
        }
        y += HEAD_GROUP;
        for (c, x) in self.columns.iter().zip(&xs) {
            root.draw(&Text::new(
                c.label.clone(),
                (x + cw / 2, y + HEAD_LABEL / 2),
                style::anchored(style::LABEL, HPos::Center, VPos::Center).color(&style::MUTED),
            ))?;
        }
        y += HEAD_LABEL;

        for (r, row) in self.rows.iter().enumerate() {
            let (y0, y1) = (y + r as i32 * CELL_H, y + (r as i32 + 1) * CELL_H);
            root.draw(&Text::new(
                row.clone(),
                (self.left(), (y0 + y1) / 2),
                style::text(style::LABEL),
            ))?;
            for (c, x) in xs.iter().enumerate() {
                let (a, b) = ((x + 1, y0 + 1), (x + cw - 1, y1 - 1));
                let center = (x + cw / 2, (y0 + y1) / 2);
                let centered = style::anchored(style::LABEL, HPos::Center, VPos::Center);
                match self.cells[r][c] {
                    HeatCell::Value(v) => {
                        let fill = self.color(v);
                        root.draw(&Rectangle::new([a, b], fill.filled()))?;
                        let ink = if luminance(fill) < 0.45 { WHITE } else { BLACK };
                        root.draw(&Text::new(self.value_text(v), center, centered.color(&ink)))?;
                    }
                    HeatCell::Dnr => {
                        style::hatched(root, a, b)?;
                        let (tw, th) =
                            (style::text_width("DNR", style::LABEL), style::LABEL as i32);
                        root.draw(&Rectangle::new(
                            [
                                (center.0 - tw / 2 - 6, center.1 - th / 2 - 2),
                                (center.0 + tw / 2 + 6, center.1 + th / 2 + 2),
                            ],
                            style::DNR_FILL.filled(),
                        ))?;
                        root.draw(&Text::new("DNR", center, centered.color(&WHITE)))?;
                    }
                    HeatCell::Missing | HeatCell::NotAvailable => {
                        let text = if self.cells[r][c] == HeatCell::Missing {
                            "—"
                        } else {
                            "n/a"
                        };
                        root.draw(&Rectangle::new([a, b], style::GRID.stroke_width(1)))?;
                        root.draw(&Text::new(text, center, centered.color(&style::MUTED)))?;
                    }
                }
            }
        }
        y += self.rows.len() as i32 * CELL_H + 24;

        // Color scale: -saturate/4 .. saturate, with ticks.
        let (lo, hi) = (-self.saturate_at / 4.0, self.saturate_at);
        let x0 = (width - SCALE_W) / 2;
        for px in (0..SCALE_W).step_by(2) {
            let v = lo + (hi - lo) * (px as f64 + 1.0) / SCALE_W as f64;
            root.draw(&Rectangle::new(
                [(x0 + px, y), (x0 + px + 2, y + 16)],
                self.color(v).filled(),
            ))?;
        }
        root.draw(&Rectangle::new(
            [(x0, y), (x0 + SCALE_W, y + 16)],
            style::AXIS.stroke_width(1),
        ))?;
        for k in 0..=5 {
            let v = lo + (hi - lo) * k as f64 / 5.0;
            let tx = x0 + (SCALE_W as f64 * k as f64 / 5.0).round() as i32;
            root.draw(&PathElement::new(
                vec![(tx, y + 16), (tx, y + 21)],
                style::AXIS.stroke_width(1),
            ))?;
            let tick = if self.unit == "%" {
                format!("{v:.0}%")
            } else {
                style::short_number(v)
            };
            root.draw(&Text::new(
                tick,
                (tx, y + 24),
                style::anchored(style::SMALL, HPos::Center, VPos::Top),
            ))?;
        }
        y += 50;
        y += style::legend(root, &self.legend_entries(), y)? + 8;
        root.draw(&Text::new(
            self.caption.clone(),
            (width / 2, y + 13),
            style::anchored(style::SMALL, HPos::Center, VPos::Center).color(&style::MUTED),
        ))?;
        Ok(())
    }
}

/// Relative luminance (ITU-R BT.709 weights on sRGB values, no gamma).
fn luminance(c: RGBColor) -> f64 {
    (0.2126 * c.0 as f64 + 0.7152 * c.1 as f64 + 0.0722 * c.2 as f64) / 255.0
}
