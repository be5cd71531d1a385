//! PDF figures for LaTeX: the SVG a figure writes, converted by `svg2pdf`
//! (vector paths stay paths; text stays text, set in the embedded DejaVu
//! Sans, subset into the file, so a PDF viewer can search and copy it),
//! on a page as wide as asked (e.g. a paper's column).

use svg2pdf::usvg;

use super::FigureError;

/// Width of one column of ACM `acmart` sigconf, in points (IEEEtran's
/// conference column is 252pt; the narrower is used).
pub const COLUMN_PT: f64 = 241.14;

/// Converts `svg` into a one-page PDF `page_width_pt` points wide (the
/// height follows the figure's aspect ratio).
pub fn from_svg(svg: &str, page_width_pt: f64) -> Result<Vec<u8>, FigureError> {
    let mut options = usvg::Options::default();
    options
        .fontdb_mut()
        .load_font_data(super::text::font_bytes().to_vec());
    let tree = usvg::Tree::from_str(svg, &options)
        .map_err(|e| FigureError::Pdf(format!("reading the SVG: {e}")))?;
    let width = f64::from(tree.size().width());
    if !(width > 0.0 && page_width_pt > 0.0) {
        return Err(FigureError::Pdf(format!(
            "cannot fit a figure {width} wide on a page {page_width_pt}pt wide"
        )));
    }
    // svg2pdf maps `dpi` user units to an inch (72pt).
    let dpi = (72.0 * width / page_width_pt) as f32;
    svg2pdf::to_pdf(
        &tree,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions { dpi },
    )
    .map_err(|e| FigureError::Pdf(format!("converting to PDF: {e}")))
}
