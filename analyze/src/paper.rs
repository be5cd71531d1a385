//! `analyze report --paper DIR`: what a paper's evaluation section inputs
//! as it is. Into DIR:
//!
//! - `table1.tex`, `table2.tex`, `scaling.tex` (those the data have), in
//!   the chosen LaTeX form, each a `table` or `table*` float that fits the
//!   column or the page of ACM acmart sigconf and IEEEtran conference;
//! - `figures/<stem>.pdf`: every figure laid out for one column, on a page
//!   one column wide, text kept as text;
//! - `figures.tex`: a `figure` float per PDF (needs `graphicx`);
//! - `methods.tex`: the methods with `\cite` keys; `references.bib`.

use std::fmt::Write;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::analysis::Analysis;
use crate::figures::{self, scalability, table1, table2};
use crate::render::latex::{escape, Form, Latex};
use crate::render::{Doc, Renderer};
use crate::table2::Table2;

/// Tables a paper gets, by document name.
pub const TABLES: [&str; 3] = ["table1", "table2", "scaling"];

/// Writes the paper folder; returns the files written.
pub fn write(
    a: &Analysis,
    docs: &[Doc],
    t2: Option<&Table2>,
    dir: &Path,
    form: Form,
) -> Result<Vec<PathBuf>> {
    let fig_dir = dir.join("figures");
    fs::create_dir_all(&fig_dir).with_context(|| format!("creating {}", fig_dir.display()))?;
    let mut written = Vec::new();
    let mut put = |name: &str, text: String| -> Result<()> {
        let path = dir.join(name);
        fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
        Ok(())
    };
    let latex = Latex { form };
    for doc in docs.iter().filter(|d| TABLES.contains(&d.name.as_str())) {
        put(&format!("{}.tex", doc.name), latex.render(doc))?;
    }
    // acmart asks every figure for a \Description (alt text); other
    // classes do not know the command.
    let mut floats = String::from(
        "% Figures of this evaluation; requires \\usepackage{graphicx}.\n\\providecommand{\\Description}[1]{}\n\n",
    );
    let mut figure = |stem: &str,
                      caption: &str,
                      result: Result<PathBuf, figures::FigureError>|
     -> Result<()> {
        let path = result.with_context(|| format!("writing figures/{stem}.pdf"))?;
        let _ = write!(
            floats,
            "\\begin{{figure}}[tbp]\n\\centering\n\\includegraphics[width=\\columnwidth]{{figures/{stem}.pdf}}\n\\caption{{{c}}}\n\\Description{{{c}}}\n\\label{{fig:{stem}}}\n\\end{{figure}}\n\n",
            c = escape(caption)
        );
        written.push(path);
        Ok(())
    };
    if let Some(t) = a.table1.as_ref().ok().filter(|t| !t.rows.is_empty()) {
        let bars = table1::bars(t);
        figure(
            "table1",
            "Scores normalized to native with 95% intervals (higher is better).",
            figures::write_column_pdf(&bars, &fig_dir, "table1"),
        )?;
    }
    if let Some(t) = t2.filter(|t| !t.rows.is_empty()) {
        for (stem, heat) in table2::heat_tables(t) {
            figure(
                &stem,
                "Performance isolation: % degradation against the no-stress baseline; DNR: the guest did not return.",
                figures::write_column_pdf(&heat, &fig_dir, &stem),
            )?;
        }
    }
    if !a.scalability.is_empty() {
        for (stem, bars) in scalability::guest_bars(&a.scalability) {
            figure(
                &stem,
                "Each guest's result per number of guests N started at once; a red X marks a guest that did not return (DNR).",
                figures::write_column_pdf(&bars, &fig_dir, &stem),
            )?;
        }
        if let Some(band) = scalability::mean_band(&a.scalability, &a.scaling) {
            figure(
                "scalability-mean",
                "Mean per guest against N with its 95% interval, and the fitted Universal Scalability Law with its 95% band (dashed).",
                figures::write_column_pdf(&band, &fig_dir, "scalability-mean"),
            )?;
        }
    }
    written.extend(write_text(dir, "figures.tex", floats)?);
    written.extend(write_text(dir, "methods.tex", crate::methods::latex(a))?);
    written.extend(write_text(dir, "references.bib", crate::methods::bibtex())?);
    Ok(written)
}

fn write_text(dir: &Path, name: &str, text: String) -> Result<Option<PathBuf>> {
    let path = dir.join(name);
    fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(Some(path))
}
