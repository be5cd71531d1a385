//! `collect import FORMAT SOURCE [--meta META.toml]`: results produced
//! elsewhere into bundles ([`crate::import::import_files`]).

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Serialize;

use super::printed::{print_json, BundleOut};

use crate::cli::ImportCommand;
use crate::import::{Format, Options};

pub fn run(command: ImportCommand) -> Result<()> {
    let (format, a) = match command {
        ImportCommand::Pts(a) => {
            return import(Format::Pts, a.source, a.meta, a.out, a.split, a.json.json)
        }
        ImportCommand::Csv(a) => (Format::Csv, a),
        ImportCommand::Hyperfine(a) => (Format::Hyperfine, a),
        ImportCommand::Fio(a) => (Format::Fio, a),
        ImportCommand::Pkb(a) => (Format::Pkb, a),
    };
    import(format, a.source, Some(a.meta), a.out, false, a.json.json)
}

/// The bundles one import makes; with `json`, one object: `{"bundles":
/// [{path, id, files, bytes, rows, notes}]}`.
fn import(
    format: Format,
    source: PathBuf,
    meta: Option<PathBuf>,
    out: PathBuf,
    split: bool,
    json: bool,
) -> Result<()> {
    let imported =
        crate::import::import_files(format, &source, meta.as_deref(), &out, Options { split })
            .with_context(|| format!("importing {}", source.display()))?;
    if json {
        let bundles: Vec<_> = imported
            .iter()
            .map(|i| Imported {
                bundle: BundleOut::from(&i.packed),
                rows: i.rows,
                notes: &i.notes,
            })
            .collect();
        return print_json(&serde_json::json!({ "bundles": bundles }));
    }
    for i in &imported {
        for note in &i.notes {
            crate::errln!("note: {note}");
        }
        super::pack::print_packed(&i.packed);
    }
    Ok(())
}

/// One imported bundle in `--json`: [`BundleOut`]'s fields, its metric
/// rows and the importer's notes.
#[derive(Debug, Serialize)]
struct Imported<'a> {
    #[serde(flatten)]
    bundle: BundleOut,
    rows: usize,
    notes: &'a [String],
}
