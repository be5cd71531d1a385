//! `analyze report`: load bundles, build the tables, write them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use crate::load::{load, LoadOptions, Loaded};
use crate::{frame, render, table1};

/// Settings of one report.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    pub bundles: Vec<PathBuf>,
    pub out: Option<PathBuf>,
    pub reports_dir: PathBuf,
    pub strict: bool,
    pub load: LoadOptions,
}

pub fn run(settings: &ReportSettings) -> Result<ExitCode> {
    let mut loaded: Vec<Loaded> = Vec::new();
    for path in &settings.bundles {
        match load(path, &settings.load) {
            Ok(l) => loaded.push(l),
            Err(err) if settings.strict => bail!("{}: {err}", path.display()),
            Err(err) => log::warn!("skipping {}: {err}", path.display()),
        }
    }
    if loaded.is_empty() {
        bail!("no bundle could be loaded");
    }
    let df = frame::combine(&loaded)?;
    let table = table1::build(&df)?;
    let out = settings
        .out
        .clone()
        .unwrap_or_else(|| settings.reports_dir.join(report_name(&loaded)));
    fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let md = render::markdown::table1(&table);
    write(&out.join("table1.md"), &md)?;
    write(&out.join("table1.csv"), &render::csv::table1(&table))?;
    println!("Table 1. Overall performance normalized to native\n");
    print!("{md}");
    println!("\nwritten to {}", out.display());
    Ok(ExitCode::SUCCESS)
}

fn write(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// `reports/<label>`: the bundles' labels, slugged and joined.
fn report_name(loaded: &[Loaded]) -> String {
    let mut labels: Vec<&str> = loaded
        .iter()
        .map(|l| l.bundle.manifest.label.as_str())
        .collect();
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
