//! `analyze report`: load bundles, analyze them, write every table in every
//! format, the tidy data as Parquet, the figures as SVG and PNG, and the
//! whole report as Markdown and as one self-contained HTML file.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use polars::prelude::*;

use crate::analysis::{self, Analysis};
use crate::filter::Filters;
use crate::load::{load_set, BundleInfo, LoadOptions};
use crate::render::{self, latex::Form, markdown::Markdown, Renderer};
use crate::table2::{self, Table2};

/// Settings of one report.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    pub bundles: Vec<PathBuf>,
    pub out: Option<PathBuf>,
    pub reports_dir: PathBuf,
    pub strict: bool,
    pub load: LoadOptions,
    pub filters: Filters,
    /// Form of the LaTeX tables (report folder and paper folder).
    pub latex: Form,
    /// Also write a paper folder here (`paper.rs`).
    pub paper: Option<PathBuf>,
}

/// Name of the tidy data file in a report folder.
pub const DATA_FILE: &str = "data.parquet";

/// Logs (at debug level) how long each phase took: `-v` or `RUST_LOG=debug`.
struct Lap(std::time::Instant);

impl Lap {
    fn done(&mut self, phase: &str) {
        log::debug!("{phase}: {:.3} s", self.0.elapsed().as_secs_f64());
        self.0 = std::time::Instant::now();
    }
}

pub fn run(settings: &ReportSettings) -> Result<ExitCode> {
    let mut lap = Lap(std::time::Instant::now());
    let set = load_set(&settings.bundles, &settings.load, settings.strict)?;
    lap.done("load and verify");
    for s in &set.skipped {
        log::warn!("skipping {}: {}", s.path.display(), s.reason);
    }
    if set.bundles.is_empty() {
        bail!("no bundle could be loaded");
    }
    let analysis = analysis::analyze(set, &settings.filters)?;
    lap.done("analyze");
    if analysis.used.is_empty() {
        bail!(
            "no metric row passes the filters ({})",
            analysis.filters.describe().join("; ")
        );
    }
    let out = settings.out.clone().unwrap_or_else(|| {
        settings
            .reports_dir
            .join(report_name(&analysis.used_bundles()))
    });
    // Written whole into a fresh folder, then swapped into place.
    let staging = crate::report_dir::Staging::new(&out)?;
    let out = staging.path().to_path_buf();
    let table2 = table2::build(&analysis.frame)?;
    if let Some(t) = &table2 {
        for w in &t.warnings {
            log::warn!("Table 2: {w}");
        }
    }
    let docs = docs(&analysis, table2.as_ref());
    for doc in &docs {
        render::write_all_with(&out, doc, settings.latex)
            .with_context(|| format!("writing {} in {}", doc.name, out.display()))?;
    }
    lap.done("tables");
    write_parquet(&out.join(DATA_FILE), &analysis)?;
    lap.done("parquet");
    write(
        &out.join("report.md"),
        &render::report_md::render(&analysis, &docs),
    )?;
    let mut figures = crate::figures::for_report(&analysis, &out.join("figures"))?;
    if let Some(t) = table2.as_ref().filter(|t| !t.rows.is_empty()) {
        figures.extend(crate::figures::for_table2(t, &out.join("figures"))?);
    }
    write(
        &out.join("report.html"),
        &render::html::from_analysis(&analysis, &docs, &figures),
    )?;
    lap.done("report.md, figures, report.html");
    let out = staging.commit()?;
    if let Some(dir) = &settings.paper {
        crate::paper::write(&analysis, &docs, table2.as_ref(), dir, settings.latex)
            .with_context(|| format!("writing the paper folder {}", dir.display()))?;
        lap.done("paper folder");
        collect::outln!("paper folder: {}", dir.display());
    }
    print_summary(&analysis, &docs);
    collect::outln!("\nwritten to {}", out.display());
    Ok(ExitCode::SUCCESS)
}

/// Every table of the report in order: the analysis' documents, with
/// Table 2 after Table 1 when there are isolation rows.
pub fn docs(a: &Analysis, table2: Option<&Table2>) -> Vec<render::Doc> {
    let mut docs = a.docs();
    if let Some(t) = table2 {
        let at = docs
            .iter()
            .position(|d| d.name == "table1")
            .map_or(0, |i| i + 1);
        docs.insert(at, t.doc());
    }
    docs
}

fn print_summary(a: &Analysis, docs: &[render::Doc]) {
    match docs.iter().find(|d| d.name == "table1") {
        Some(t) => {
            collect::outln!("{}\n", t.title);
            collect::out!("{}", Markdown.render(t));
        }
        None => {
            if let Err(e) = &a.table1 {
                collect::outln!("Table 1 not built: {e}");
            }
        }
    }
    if let Some(t) = docs.iter().find(|d| d.name == "table2") {
        collect::outln!("\n{}\n", t.title);
        collect::out!("{}", Markdown.render(t));
    }
    collect::outln!(
        "\n{} bundle(s) used, {} skipped; {} platform comparison(s); {} comparability difference(s); {} warning(s)",
        a.used.len(),
        a.skipped.len(),
        a.platforms.len(),
        a.comparability.len(),
        a.warnings.len()
    );
}

/// Writes the filtered, combined frame (tidy, with lineage) as Parquet.
pub fn write_parquet(path: &Path, a: &Analysis) -> Result<()> {
    let file = fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut df = a.frame.clone();
    ParquetWriter::new(std::io::BufWriter::new(file))
        .finish(&mut df)
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// `reports/<label>`: the bundles' labels, slugged and joined.
fn report_name(bundles: &[&BundleInfo]) -> String {
    let mut labels: Vec<&str> = bundles.iter().map(|b| b.label.as_str()).collect();
    labels.sort_unstable();
    labels.dedup();
    let joined = labels.join("+");
    let slug: String = joined
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(100)
        .collect();
    if slug.is_empty() {
        "report".into()
    } else {
        slug
    }
}
