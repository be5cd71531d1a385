//! `collect import`: results produced elsewhere, made into a bundle that
//! `analyze` verifies, shows and reports like a collected one (formats in
//! `collect/IMPORT.md`).
//!
//! The bundle holds the source file and the metadata file byte for byte
//! (`import/source.csv` or `import/composite.xml`, and `import/meta.toml`),
//! `import/origin.json` saying it was imported and from what, the metrics
//! table derived from the source (every row's `run` is the source's path),
//! and `env/summary.json` made of the metadata. The manifest's tool is
//! `collect-import`. Nothing depends on the clock or the machine, so the
//! same inputs give the same bundle bytes; and since the derivation is a
//! function of bytes the bundle keeps, `analyze verify --rederive` repeats
//! it ([`derive`]) and compares.

pub mod csv;
pub mod error;
pub mod meta;
pub mod pts;
pub mod rows;

use std::path::Path;

use benchvm_format::env::SUMMARY_PATH;
use benchvm_format::metrics::{self, MetricRow, METRICS_PATH};
use benchvm_format::rundir::Packed;
use benchvm_format::write::{self, Content, Source};
use benchvm_format::{EnvSummary, RunMeta};
use serde::{Deserialize, Serialize};

pub use error::{ImportError, Location};
pub use meta::ImportMeta;

/// Where the metadata file is kept in the bundle.
pub const META_PATH: &str = "import/meta.toml";
/// Where the bundle says it was imported, and from what.
pub const ORIGIN_PATH: &str = "import/origin.json";

/// A source format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The CSV long format.
    Csv,
    /// A Phoronix Test Suite `composite.xml`.
    Pts,
}

impl Format {
    /// Where the source file is kept in the bundle.
    pub fn source_path(self) -> &'static str {
        match self {
            Format::Csv => "import/source.csv",
            Format::Pts => "import/composite.xml",
        }
    }
}

/// `import/origin.json`: this bundle was imported, not collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Origin {
    /// Always `import`.
    pub origin: String,
    pub format: Format,
    /// The source file in the bundle.
    pub source: String,
    /// The metadata file in the bundle.
    pub meta: String,
    /// The tool that produced the numbers (the metadata's `source.tool`).
    pub source_tool: String,
    pub citation: String,
    pub url: Option<String>,
}

/// What an import derives from its two input files.
#[derive(Debug, Clone)]
pub struct Derived {
    pub run_meta: RunMeta,
    pub summary: EnvSummary,
    pub origin: Origin,
    pub rows: Vec<MetricRow>,
}

/// Parses and validates the source (`source_name`, its bytes) with the
/// metadata (`meta_name`, its bytes); the names appear in errors.
pub fn derive(
    format: Format,
    (source_name, source): (&str, &[u8]),
    (meta_name, meta_bytes): (&str, &[u8]),
) -> Result<Derived, ImportError> {
    let meta_text = std::str::from_utf8(meta_bytes)
        .map_err(|e| ImportError::file(meta_name, format!("not UTF-8: {e}")))?;
    let meta = meta::parse(meta_name, meta_text)?;
    let run = format.source_path();
    let rows = match format {
        Format::Csv => csv::parse(source_name, source, (meta_name, &meta), run)?,
        Format::Pts => {
            let text = std::str::from_utf8(source).map_err(|e| {
                let (line, _) = error::line_col(
                    &String::from_utf8_lossy(&source[..e.valid_up_to()]),
                    e.valid_up_to(),
                );
                let at = Location {
                    file: source_name.to_owned(),
                    line,
                    column: None,
                };
                ImportError::at(at, "not valid UTF-8")
            })?;
            pts::parse(source_name, text, (meta_name, &meta), run)?
        }
    };
    let origin = Origin {
        origin: "import".into(),
        format,
        source: run.into(),
        meta: META_PATH.into(),
        source_tool: meta.source.tool.clone(),
        citation: meta.source.citation.clone(),
        url: meta.source.url.clone(),
    };
    Ok(Derived {
        run_meta: meta.run_meta(rows::platforms(&rows)),
        summary: meta.summary(),
        origin,
        rows,
    })
}

/// Imports `source` with `meta` into a bundle in `out_dir`
/// (`<label>-<id12>.tar.zst`).
pub fn import_files(
    format: Format,
    source: &Path,
    meta: &Path,
    out_dir: &Path,
) -> Result<Packed, ImportError> {
    let read = |p: &Path| {
        std::fs::read(p).map_err(|source| ImportError::Io {
            path: p.to_path_buf(),
            source,
        })
    };
    let meta_bytes =
        benchvm_format::input::read(meta, benchvm_format::input::META_CAP, "metadata file")
            .map_err(|e| ImportError::Io {
                path: meta.to_path_buf(),
                source: std::io::Error::other(e.why()),
            })?;
    let source_bytes = read(source)?;
    let derived = derive(
        format,
        (&source.display().to_string(), &source_bytes),
        (&meta.display().to_string(), &meta_bytes),
    )?;
    let sources = sources(&derived, source_bytes, meta_bytes);
    std::fs::create_dir_all(out_dir).map_err(|e| ImportError::Io {
        path: out_dir.to_path_buf(),
        source: e,
    })?;
    let staged = write::stage(derived.run_meta, sources, out_dir)?;
    let path = out_dir.join(benchvm_format::manifest::file_name(
        &staged.manifest.label,
        &staged.id,
    ));
    let (id, files) = (staged.id, staged.manifest.files.len() + 1);
    let bytes = staged.write_file(&path)?;
    Ok(Packed {
        path,
        id,
        bytes,
        files,
    })
}

/// Every entry of the bundle but the manifest.
fn sources(derived: &Derived, source: Vec<u8>, meta: Vec<u8>) -> Vec<Source> {
    let table = metrics::to_ndjson(&derived.rows);
    [
        (METRICS_PATH, table),
        (SUMMARY_PATH, pretty(&derived.summary)),
        (ORIGIN_PATH, pretty(&derived.origin)),
        (derived.origin.source.as_str(), source),
        (META_PATH, meta),
    ]
    .into_iter()
    .map(|(path, bytes)| Source {
        path: path.to_owned(),
        content: Content::Bytes(bytes),
    })
    .collect()
}

/// Pretty JSON with a final newline, for the bundle's JSON entries.
fn pretty<T: Serialize>(value: &T) -> Vec<u8> {
    // Plain structs of strings, integers and maps cannot fail.
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
