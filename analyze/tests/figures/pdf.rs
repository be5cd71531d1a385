//! The PDF figures: the report's and the paper's, opened with poppler
//! (pdftoppm renders the page, pdftotext finds the labels).

use super::{figures, has_color, sample_lines};

/// Runs a poppler tool; the PDF tests need poppler-utils.
fn poppler(tool: &str, args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} could not run ({e}): install poppler-utils"));
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn pdf_figures_open_at_a_columns_width_with_searchable_text() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let lines = sample_lines();
    // The report's PDF: the same drawing as its SVG, the page of a figure*.
    figures::write(&lines, tmp.path(), "lines").expect("write");
    // The paper's PDF: laid out for one column, a page one column wide.
    let column =
        figures::write_column_pdf(&lines, &tmp.path().join("paper"), "lines").expect("column pdf");
    for (pdf, width_pt) in [
        (tmp.path().join("lines.pdf"), figures::REPORT_PDF_PT),
        (column, figures::pdf::COLUMN_PT),
    ] {
        let path = pdf.to_str().expect("utf-8 path");
        // pdftoppm renders it; at 72 dpi a point is a pixel.
        let stem = format!("{path}-page");
        poppler(
            "pdftoppm",
            &["-r", "72", "-png", "-singlefile", path, &stem],
        );
        let img = image::open(format!("{stem}.png"))
            .expect("rendered page")
            .to_rgb8();
        assert!(
            (f64::from(img.width()) - width_pt).abs() <= 1.0,
            "{path}: {} px wide, page should be {width_pt} pt",
            img.width()
        );
        assert!(has_color(&img, "#D55E00") || img.pixels().any(|p| p.0 != [255, 255, 255]));
        let text = poppler("pdftotext", &[path, "-"]).stdout;
        let text = String::from_utf8_lossy(&text);
        for needed in ["KVM", "Xen", "guests started at once (N)", "4 DNR"] {
            assert!(
                text.contains(needed),
                "{needed} not searchable in {path}:\n{text}"
            );
        }
    }
}
