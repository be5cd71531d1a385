//! What every chart kind shares: the embedded font, text sizes, the palette,
//! the legend, and the marks for DNR.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{text, FigureError};

/// Text sizes as plotters counts them: the em size is size / 1.24 pixels
/// (19.4, 14.5 and 12.9 px).
pub const TITLE: f64 = 24.0;
pub const LABEL: f64 = 18.0;
pub const SMALL: f64 = 16.0;

/// Black text of `size`, anchored left and centered vertically.
pub fn text(size: f64) -> TextStyle<'static> {
    TextStyle::from((FontFamily::Name(text::FAMILY), size).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center))
}

/// Text with an anchor.
pub fn anchored(size: f64, h: HPos, v: VPos) -> TextStyle<'static> {
    text(size).pos(Pos::new(h, v))
}

/// Series colors: the Okabe-Ito palette (Okabe & Ito, 2008, "Color Universal
/// Design"), distinguishable with the common color-vision deficiencies.
/// Series `i` of any chart gets `SERIES[i % 7]`, so a builder that orders
/// platforms the same way gets the same colors in every figure.
pub const SERIES: [RGBColor; 7] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0x00, 0x00, 0x00), // black
];

pub fn series_color(i: usize) -> RGBColor {
    SERIES[i % SERIES.len()]
}

/// DNR marks: a red that stays distinct from every series color.
pub const DNR_RED: RGBColor = RGBColor(0xC8, 0x10, 0x2E);
/// Failed runs (the tool erred): dark gray.
pub const FAILED_GRAY: RGBColor = RGBColor(0x55, 0x55, 0x55);
pub const GRID: RGBColor = RGBColor(0xE2, 0xE2, 0xE2);
pub const AXIS: RGBColor = RGBColor(0x44, 0x44, 0x44);
pub const MUTED: RGBColor = RGBColor(0x66, 0x66, 0x66);
pub const BAND_BG: RGBColor = RGBColor(0xF3, 0xF3, 0xF3);

/// A legend entry's symbol.
#[derive(Debug, Clone, Copy)]
pub enum Mark {
    /// Filled square (bars, cells).
    Swatch(RGBColor),
    /// Short line with a dot (line series).
    Line(RGBColor),
    /// Light filled square (interval band).
    Band(RGBColor),
    /// Dashed line (reference line).
    Dashed(RGBColor),
    /// X cross (DNR, failed).
    Cross(RGBColor),
    /// Interval whisker |-|.
    Whisker(RGBColor),
    /// Empty outlined square (no data).
    Empty,
    /// Dark hatched square (DNR cell).
    Hatch,
}

/// Width of a legend symbol; squares are `SQUARE` wide, centered in it.
const MARK: i32 = 26;
const SQUARE: i32 = 16;
const MARK_GAP: i32 = 6;
const ENTRY_GAP: i32 = 26;
const LEGEND_ROW: i32 = 24;

/// Width in pixels of `s` drawn at `size` with the embedded font.
pub fn text_width(s: &str, size: f64) -> i32 {
    text::width(s, size).ceil() as i32
}

/// Width in pixels of the widest of `labels` at `size`.
pub fn widest<S: AsRef<str>>(labels: impl IntoIterator<Item = S>, size: f64) -> i32 {
    labels
        .into_iter()
        .map(|l| text_width(l.as_ref(), size))
        .max()
        .unwrap_or(0)
}

/// Legend entries split into rows that fit `width`.
fn legend_rows(entries: &[(Mark, String)], width: i32) -> Vec<Vec<(Mark, &str, i32)>> {
    let mut rows: Vec<Vec<(Mark, &str, i32)>> = vec![Vec::new()];
    let mut used = 0;
    for (mark, label) in entries {
        let w = MARK + MARK_GAP + text_width(label, SMALL);
        if used > 0 && used + ENTRY_GAP + w > width - 20 {
            rows.push(Vec::new());
            used = 0;
        }
        used += if used > 0 { ENTRY_GAP } else { 0 } + w;
        if let Some(row) = rows.last_mut() {
            row.push((*mark, label, w));
        }
    }
    rows
}

/// Height [`legend`] takes for `entries` in a figure `width` wide.
pub fn legend_height(entries: &[(Mark, String)], width: u32) -> i32 {
    legend_rows(entries, width as i32).len() as i32 * LEGEND_ROW
}

/// Draws legend entries centered in rows starting at `top`, wrapping at the
/// area's width; returns the height used.
pub fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(Mark, String)],
    top: i32,
) -> Result<i32, FigureError> {
    let style = text(SMALL);
    let width = area.dim_in_pixel().0 as i32;
    let rows = legend_rows(entries, width);
    for (r, row) in rows.iter().enumerate() {
        let total: i32 = row.iter().map(|e| e.2).sum::<i32>() + ENTRY_GAP * (row.len() as i32 - 1);
        let mut x = (width - total) / 2;
        let y = top + r as i32 * LEGEND_ROW + LEGEND_ROW / 2;
        for (mark, label, w) in row {
            draw_mark(area, *mark, x, y)?;
            area.draw(&Text::new(
                label.to_string(),
                (x + MARK + MARK_GAP, y),
                style.clone(),
            ))?;
            x += w + ENTRY_GAP;
        }
    }
    Ok(rows.len() as i32 * LEGEND_ROW)
}

/// Draws a legend symbol `MARK` wide, left edge `x`, centered on `ym`.
fn draw_mark<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    mark: Mark,
    x: i32,
    ym: i32,
) -> Result<(), FigureError> {
    let (x0, x1) = (x + (MARK - SQUARE) / 2, x + (MARK + SQUARE) / 2);
    let (y0, y1) = (ym - SQUARE / 2, ym + SQUARE / 2);
    match mark {
        Mark::Swatch(c) => {
            area.draw(&Rectangle::new([(x0, y0), (x1, y1)], c.filled()))?;
        }
        Mark::Band(c) => {
            area.draw(&Rectangle::new([(x0, y0), (x1, y1)], c.mix(0.25).filled()))?;
        }
        Mark::Line(c) => {
            area.draw(&PathElement::new(
                vec![(x + 1, ym), (x + MARK - 1, ym)],
                c.stroke_width(3),
            ))?;
            area.draw(&Circle::new((x + MARK / 2, ym), 4, c.filled()))?;
        }
        Mark::Dashed(c) => dashed(area, (x + 1, ym), (x + MARK - 1, ym), c)?,
        Mark::Whisker(c) => {
            let s = c.stroke_width(2);
            let (a, b) = (x + 2, x + MARK - 2);
            area.draw(&PathElement::new(vec![(a, ym), (b, ym)], s))?;
            area.draw(&PathElement::new(vec![(a, ym - 6), (a, ym + 6)], s))?;
            area.draw(&PathElement::new(vec![(b, ym - 6), (b, ym + 6)], s))?;
        }
        Mark::Empty => {
            area.draw(&Rectangle::new([(x0, y0), (x1, y1)], MUTED.stroke_width(1)))?;
        }
        Mark::Cross(c) => cross(area, ((x0 + x1) / 2, ym), (x1 - x0) / 2, c)?,
        Mark::Hatch => hatched(area, (x0, y0), (x1, y1))?,
    }
    Ok(())
}

/// An X centered at `c` with half-size `r`, for DNR and failed runs.
pub fn cross<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    r: i32,
    color: RGBColor,
) -> Result<(), FigureError> {
    let s = color.stroke_width(3);
    area.draw(&PathElement::new(vec![(x - r, y - r), (x + r, y + r)], s))?;
    area.draw(&PathElement::new(vec![(x - r, y + r), (x + r, y - r)], s))?;
    Ok(())
}

/// A horizontal or vertical dashed line in pixels.
pub fn dashed<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
    color: RGBColor,
) -> Result<(), FigureError> {
    const DASH: i32 = 7;
    const GAP: i32 = 5;
    let len = (x1 - x0).abs().max((y1 - y0).abs());
    let (dx, dy) = ((x1 - x0).signum(), (y1 - y0).signum());
    let mut t = 0;
    while t < len {
        let e = (t + DASH).min(len);
        area.draw(&PathElement::new(
            vec![(x0 + dx * t, y0 + dy * t), (x0 + dx * e, y0 + dy * e)],
            color.stroke_width(2),
        ))?;
        t += DASH + GAP;
    }
    Ok(())
}

/// A dashed polyline through `points` in any direction; the dash pattern
/// runs on across the vertices, so a curve of many short segments is
/// dashed too.
pub fn dashed_path<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    points: &[(i32, i32)],
    color: RGBColor,
) -> Result<(), FigureError> {
    const DASH: f64 = 9.0;
    const PERIOD: f64 = 15.0;
    // Arc length at each vertex.
    let mut at = vec![0.0f64];
    for w in points.windows(2) {
        let d = f64::from(w[1].0 - w[0].0).hypot(f64::from(w[1].1 - w[0].1));
        at.push(at[at.len() - 1] + d);
    }
    let total = at.last().copied().unwrap_or(0.0);
    let point = |t: f64| -> (i32, i32) {
        let i = at.partition_point(|&a| a <= t).clamp(1, points.len() - 1);
        let (a0, a1) = (at[i - 1], at[i]);
        let f = if a1 > a0 { (t - a0) / (a1 - a0) } else { 0.0 };
        let (p0, p1) = (points[i - 1], points[i]);
        (
            p0.0 + (f64::from(p1.0 - p0.0) * f).round() as i32,
            p0.1 + (f64::from(p1.1 - p0.1) * f).round() as i32,
        )
    };
    if points.len() < 2 {
        return Ok(());
    }
    let mut t = 0.0;
    while t < total {
        let e = (t + DASH).min(total);
        // The dash with the vertices it passes, so it bends with the curve.
        let mut dash = vec![point(t)];
        dash.extend(
            at.iter()
                .zip(points)
                .filter(|(a, _)| **a > t && **a < e)
                .map(|(_, p)| *p),
        );
        dash.push(point(e));
        area.draw(&PathElement::new(dash, color.stroke_width(2)))?;
        t += PERIOD;
    }
    Ok(())
}

/// Fill of DNR cells: dark gray.
pub const DNR_FILL: RGBColor = RGBColor(0x33, 0x33, 0x33);
const HATCH_LINE: RGBColor = RGBColor(0x80, 0x80, 0x80);

/// A dark rectangle with 45° hatching, the DNR cell.
pub fn hatched<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x0, y0): (i32, i32),
    (x1, y1): (i32, i32),
) -> Result<(), FigureError> {
    const STEP: i32 = 8;
    area.draw(&Rectangle::new([(x0, y0), (x1, y1)], DNR_FILL.filled()))?;
    // Lines x + y = c, clipped to the rectangle.
    let mut c = x0 + y0 + STEP;
    while c < x1 + y1 {
        let xa = x0.max(c - y1);
        let xb = x1.min(c - y0);
        if xa < xb {
            area.draw(&PathElement::new(
                vec![(xa, c - xa), (xb, c - xb)],
                HATCH_LINE.stroke_width(2),
            ))?;
        }
        c += STEP;
    }
    Ok(())
}

/// Height of the title band.
pub const TITLE_BAND: i32 = 14 + TITLE as i32 + 10;

/// Draws `title` centered at the top; returns the y just below it.
pub fn title<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<i32, FigureError> {
    let width = area.dim_in_pixel().0 as i32;
    // A title wider than a narrow (paper column) figure is set smaller.
    let size = [TITLE, LABEL, SMALL]
        .into_iter()
        .find(|&s| text_width(title, s) <= width - 16)
        .unwrap_or(SMALL);
    area.draw(&Text::new(
        title.to_owned(),
        (width / 2, 14),
        anchored(size, HPos::Center, VPos::Top),
    ))?;
    Ok(TITLE_BAND)
}

/// Left-anchored text on a translucent white box, readable over grid and
/// reference lines.
pub fn label_on_white<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &str,
    (x, y): (i32, i32),
    size: f64,
) -> Result<(), FigureError> {
    let (w, h) = (text_width(s, size), (size / 1.24) as i32);
    area.draw(&Rectangle::new(
        [(x - 3, y - h / 2 - 2), (x + w + 3, y + h / 2 + 2)],
        WHITE.mix(0.85).filled(),
    ))?;
    area.draw(&Text::new(s.to_owned(), (x, y), text(size)))?;
    Ok(())
}

/// Tick labels of an axis spanning `range`: as many decimals as a tick
/// step of about range / 8 needs, the same for every tick.
pub fn tick_decimals(range: f64) -> usize {
    let step = (range / 8.0).abs();
    if !(step.is_finite() && step > 0.0) {
        return 0;
    }
    (-step.log10().floor()).clamp(0.0, 6.0) as usize
}

/// Short decimal form: 3 significant digits, no exponent for usual ranges.
pub fn short_number(v: f64) -> String {
    let a = v.abs();
    let decimals = if v == v.round() || a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.decimals$}")
}
