//! Figures: one chart kind per file behind the small [`Figure`] trait, drawn
//! with plotters onto SVG and PNG.
//!
//! Chart kinds take plain input structs, documented in their files, never
//! polars frames, so any table builder can fill them:
//!
//! | file | chart kind | input | paper |
//! |---|---|---|---|
//! | `grouped_bars.rs` | horizontal grouped bars with interval whiskers and a reference line | [`GroupedBars`] | Table 1 |
//! | `heat_table.rs` | table of colored cells, DNR cells dark and hatched | [`HeatTable`] | Table 2 |
//! | `guest_bars.rs` | one bar per guest for each N, DNR guests marked with a red X | [`GuestBars`] | Figures 1 and 2 |
//! | `line_band.rs` | mean against N, one line per platform, 95% interval band | [`LineBand`] | scalability summary |
//!
//! `table1.rs` turns a [`crate::table1::Table1`] into [`GroupedBars`];
//! `table2.rs` turns a [`crate::table2::Table2`] into [`HeatTable`]s.
//!
//! Text is drawn from DejaVu Sans, which the binary carries
//! (`analyze/assets/DejaVuSans.ttf`), so no system font is looked up at run
//! time. PNG text is rasterized by `text.rs` from that font (plotters'
//! own `ab_glyph` path places glyphs at whole pixels without their bearings,
//! and measures them at another size than its SVG writes); SVG files name
//! the same family (`font-family="DejaVu Sans, sans-serif"`) and were laid
//! out with its metrics.
//!
//! Rotated text: no figure uses any. plotters' bitmap backend was reported
//! to draw rotated text horizontally with `ab_glyph`; rather than depend on
//! it, category labels sit beside horizontal bars or under a horizontal
//! axis, and y-axis captions are written horizontally above the axis. The
//! PNG text path of `text.rs` honors rotation all the same (a test checks
//! it), so a future rotated label would come out right.

pub mod grouped_bars;
pub mod guest_bars;
pub mod heat_table;
pub mod line_band;
pub mod pdf;
pub mod scalability;
mod style;
pub mod table1;
pub mod table2;
mod text;

use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

pub use grouped_bars::{Bar, BarGroup, BarSeries, GroupedBars, Slot};
pub use guest_bars::{GuestBars, GuestOutcome, GuestRun};
pub use heat_table::{HeatCell, HeatColumn, HeatTable};
pub use line_band::{BandPoint, BandSeries, FitLine, LineBand};
use text::Embedded;

/// Palette indexes for platform column labels ("Native", "KVM (TCG)",
/// "Xen (PV)", as `frame::column_label` writes them): native 0, KVM 1, Xen 2,
/// anything else 3 on; a label whose preferred index is taken gets the next
/// free one. Builders that pass the same platforms get the same colors in
/// every figure.
pub fn assign_colors<S: AsRef<str>>(labels: &[S]) -> Vec<usize> {
    let mut used = Vec::new();
    for l in labels {
        let l = l.as_ref().to_ascii_lowercase();
        let preferred = if l.starts_with("native") {
            0
        } else if l.starts_with("kvm") {
            1
        } else if l.starts_with("xen") {
            2
        } else {
            3
        };
        let color = (preferred..)
            .find(|c| !used.contains(c))
            .unwrap_or(preferred);
        used.push(color);
    }
    used
}

/// A chart kind: knows its size and draws itself onto any plotters backend.
pub trait Figure {
    /// Width and height in pixels (PNG) or user units (SVG).
    fn size(&self) -> (u32, u32);

    /// Size when laid out `width` wide (a paper column); figures whose
    /// width follows their content keep [`Figure::size`].
    fn size_at(&self, width: u32) -> (u32, u32) {
        let _ = width;
        self.size()
    }

    /// Draws the whole figure onto `area`, which has [`Figure::size`].
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), FigureError>;
}

/// Why a figure could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum FigureError {
    /// The input struct is inconsistent (e.g. a row with too few cells).
    #[error("figure input: {0}")]
    Input(String),
    /// The backend failed.
    #[error("drawing the figure: {0}")]
    Draw(String),
    #[error("encoding the PNG: {0}")]
    Png(#[from] image::ImageError),
    #[error("making the PDF: {0}")]
    Pdf(String),
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for FigureError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        FigureError::Draw(e.to_string())
    }
}

/// The figure as an SVG document.
pub fn svg(figure: &impl Figure) -> Result<String, FigureError> {
    svg_sized(figure, figure.size())
}

/// The figure laid out `width` wide (see [`Figure::size_at`]) as SVG.
pub fn svg_at(figure: &impl Figure, width: u32) -> Result<String, FigureError> {
    svg_sized(figure, figure.size_at(width))
}

fn svg_sized(figure: &impl Figure, size: (u32, u32)) -> Result<String, FigureError> {
    text::register_font();
    let mut out = String::new();
    {
        let root = Embedded {
            inner: SVGBackend::with_string(&mut out, size),
            raster: false,
        }
        .into_drawing_area();
        root.fill(&WHITE)?;
        figure.draw(&root)?;
        root.present()?;
    }
    Ok(out)
}

/// The figure as PNG bytes (8-bit RGB).
pub fn png(figure: &impl Figure) -> Result<Vec<u8>, FigureError> {
    text::register_font();
    let (w, h) = figure.size();
    let mut pixels = vec![0u8; w as usize * h as usize * 3];
    {
        let root = Embedded {
            inner: BitMapBackend::with_buffer(&mut pixels, (w, h)),
            raster: true,
        }
        .into_drawing_area();
        root.fill(&WHITE)?;
        figure.draw(&root)?;
        root.present()?;
    }
    let img = image::RgbImage::from_raw(w, h, pixels)
        .ok_or_else(|| FigureError::Draw("pixel buffer does not match the size".into()))?;
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
}

/// A figure written for a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// Name of the table document it shows (`table1`): the HTML report puts
    /// it under that table. The files are `<dir>/<doc>.svg` and `.png`.
    pub doc: String,
    pub caption: String,
    pub svg: String,
    /// How to read it, printed under it.
    pub notes: Vec<String>,
}

/// Writes every figure the analysis has data for into `dir`: Table 1 and
/// the scalability figures (Table 2's come from [`for_table2`]).
pub fn for_report(a: &crate::analysis::Analysis, dir: &Path) -> Result<Vec<Rendered>, FigureError> {
    let mut out = Vec::new();
    if let Ok(t) = &a.table1 {
        if !t.rows.is_empty() {
            out.push(Rendered {
                doc: "table1".into(),
                caption: table1::CAPTION.into(),
                svg: write(&table1::bars(t), dir, "table1")?,
                notes: table1::NOTES.iter().map(|n| n.to_string()).collect(),
            });
        }
    }
    if !a.scalability.is_empty() {
        let notes: Vec<String> = scalability::NOTES.iter().map(|n| n.to_string()).collect();
        for (stem, bars) in scalability::guest_bars(&a.scalability) {
            out.push(Rendered {
                doc: "scalability".into(),
                caption: format!("{} ({stem})", scalability::BARS_CAPTION),
                svg: write(&bars, dir, &stem)?,
                notes: notes.clone(),
            });
        }
        if let Some(band) = scalability::mean_band(&a.scalability, &a.scaling) {
            out.push(Rendered {
                doc: "scalability_summary".into(),
                caption: scalability::BAND_CAPTION.into(),
                svg: write(&band, dir, "scalability-mean")?,
                notes,
            });
        }
    }
    Ok(out)
}

/// Writes Table 2's heat table(s) into `dir`.
pub fn for_table2(t: &crate::table2::Table2, dir: &Path) -> Result<Vec<Rendered>, FigureError> {
    let notes: Vec<String> = table2::NOTES.iter().map(|n| n.to_string()).collect();
    table2::heat_tables(t)
        .into_iter()
        .map(|(stem, heat)| {
            Ok(Rendered {
                doc: "table2".into(),
                caption: format!("{} (figures/{stem}.svg, .png).", table2::CAPTION),
                svg: write(&heat, dir, &stem)?,
                notes: notes.clone(),
            })
        })
        .collect()
}

/// Width of a figure laid out for a paper's column, in SVG user units:
/// on a [`pdf::COLUMN_PT`] page the smallest text is 6.4pt, the labels 7.2pt.
pub const COLUMN_LAYOUT: u32 = 500;
/// Width of a report figure's PDF page: the text block of a two-column
/// page (acmart sigconf, a `figure*`), where its smallest text is 6.5pt.
pub const REPORT_PDF_PT: f64 = 506.295;

fn put(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), FigureError> {
    fs::create_dir_all(dir).map_err(|source| FigureError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let path = dir.join(name);
    fs::write(&path, bytes).map_err(|source| FigureError::Write { path, source })
}

/// Writes `<dir>/<stem>.svg`, `.png` and `.pdf` (the same drawing, the PDF
/// [`REPORT_PDF_PT`] wide); returns the SVG text (for inlining in the HTML
/// report).
pub fn write(figure: &impl Figure, dir: &Path, stem: &str) -> Result<String, FigureError> {
    let svg = svg(figure)?;
    put(dir, &format!("{stem}.svg"), svg.as_bytes())?;
    put(dir, &format!("{stem}.png"), &png(figure)?)?;
    put(
        dir,
        &format!("{stem}.pdf"),
        &pdf::from_svg(&svg, REPORT_PDF_PT)?,
    )?;
    Ok(svg)
}

/// Writes `<dir>/<stem>.pdf` for a paper: the figure laid out
/// [`COLUMN_LAYOUT`] wide, on a page one column ([`pdf::COLUMN_PT`]) wide.
pub fn write_column_pdf(
    figure: &impl Figure,
    dir: &Path,
    stem: &str,
) -> Result<PathBuf, FigureError> {
    let svg = svg_at(figure, COLUMN_LAYOUT)?;
    put(
        dir,
        &format!("{stem}.pdf"),
        &pdf::from_svg(&svg, pdf::COLUMN_PT)?,
    )?;
    Ok(dir.join(format!("{stem}.pdf")))
}
