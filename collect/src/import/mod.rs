//! `collect import`: results produced elsewhere, made into a bundle that
//! `analyze` verifies, shows and reports like a collected one (formats in
//! `collect/IMPORT.md`, one file per format here).
//!
//! The bundle holds the source file (and the metadata file, when one was
//! given) byte for byte, `import/origin.json` saying it was imported and
//! from what, the metrics table derived from the source (every row's `run`
//! is the source's path), and `env/summary.json` made of what the source
//! and the metadata say about the host. The manifest's tool is
//! `collect-import`. Nothing depends on the clock or the machine, so the
//! same inputs give the same bundle bytes; and since the derivation is a
//! function of bytes the bundle keeps, `analyze verify --rederive` repeats
//! it ([`derive`]) and compares row by row.

pub mod bundle;
pub mod csv;
pub mod error;
pub mod fio;
pub mod hyperfine;
pub mod meta;
pub mod names;
pub mod pkb;
pub mod pts;
pub mod table;

use std::collections::BTreeMap;
use std::io::{BufRead, Read};

use benchvm_format::limits::MAX_LOADED_BYTES;
use benchvm_format::{EnvSummary, RunMeta, Tool};
use serde::{Deserialize, Serialize};

pub use bundle::{import_files, Imported, Options};
pub use error::{ImportError, Location};
pub use meta::ImportMeta;
pub use table::{Ndjson, RowOut, Table, Written};

/// Where the metadata file is kept in the bundle.
pub const META_PATH: &str = "import/meta.toml";
/// Where the bundle says it was imported, and from what.
pub const ORIGIN_PATH: &str = "import/origin.json";
/// The manifest's host when neither the source nor the metadata names it.
pub const UNKNOWN_HOST: &str = "unknown";

/// A source format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The CSV long format.
    Csv,
    /// A Phoronix Test Suite `composite.xml`.
    Pts,
    /// hyperfine's `--export-json`.
    Hyperfine,
    /// fio's `--output-format=json` or `json+`.
    Fio,
    /// PerfKitBenchmarker's samples, one JSON object per line.
    Pkb,
}

impl Format {
    /// Where the source file is kept in the bundle.
    pub fn source_path(self) -> &'static str {
        match self {
            Format::Csv => "import/source.csv",
            Format::Pts => "import/composite.xml",
            Format::Hyperfine => "import/hyperfine.json",
            Format::Fio => "import/fio.json",
            Format::Pkb => "import/pkb-samples.json",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Pts => "pts",
            Format::Hyperfine => "hyperfine",
            Format::Fio => "fio",
            Format::Pkb => "pkb",
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
    /// The metadata file in the bundle, when one was given.
    pub meta: Option<String>,
    /// The tool that produced the numbers, when known.
    pub source_tool: Option<String>,
    pub citation: String,
    pub url: Option<String>,
    /// PTS `--split`: the one `<System>` this bundle holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
}

/// What a source says about the run beside its rows.
#[derive(Debug, Clone, Default)]
pub struct Described {
    pub label: Option<String>,
    /// RFC 3339 UTC.
    pub created: Option<String>,
    pub tool: Option<String>,
    pub citation: Option<String>,
    /// Host facts the source states (unknown ones `None`, `host` empty when
    /// it names no machine) and each platform's facts.
    pub summary: EnvSummary,
    /// Things a user should know (results kept apart or skipped, counted).
    pub notes: Vec<String>,
}

/// An import's input: the source and, when given, the metadata file, each
/// with the name errors use.
pub struct Input<'a> {
    pub format: Format,
    pub source_name: &'a str,
    pub source: &'a mut dyn BufRead,
    pub meta: Option<(&'a str, &'a [u8])>,
    /// PTS `--split`: only this `<System>`.
    pub system: Option<&'a str>,
}

impl std::fmt::Debug for Input<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("format", &self.format)
            .field("source_name", &self.source_name)
            .field("system", &self.system)
            .finish_non_exhaustive()
    }
}

/// What an import derives; its rows went to the [`RowOut`].
#[derive(Debug, Clone)]
pub struct Derived {
    pub run_meta: RunMeta,
    pub summary: EnvSummary,
    pub origin: Origin,
    pub written: Written,
    pub notes: Vec<String>,
}

/// Parses and validates the source with the metadata; rows go to `out`
/// as they are made.
pub fn derive(input: Input, out: &mut dyn RowOut) -> Result<Derived, ImportError> {
    let Input {
        format,
        source_name,
        source,
        meta,
        system,
    } = input;
    let meta = match meta {
        Some((name, bytes)) => {
            let text = std::str::from_utf8(bytes)
                .map_err(|e| ImportError::file(name, format!("not UTF-8: {e}")))?;
            Some((name, meta::parse(name, text)?))
        }
        None if format == Format::Pts => None,
        None => {
            return Err(ImportError::file(
                source_name,
                format!("collect import {} needs --meta META.toml: the label, the date, the citation and the platform the numbers are of (collect/IMPORT.md)", format.name()),
            ))
        }
    };
    let run = format.source_path();
    let mut table = match format {
        Format::Hyperfine | Format::Fio => Table::new(source_name, out).counting("value"),
        Format::Csv | Format::Pts | Format::Pkb => Table::new(source_name, out),
    };
    let described = {
        let meta_ref = meta.as_ref().map(|(n, m)| (*n, m));
        match (format, meta_ref) {
            (Format::Csv, Some((_, m))) => {
                csv::parse(source_name, source, m, run, &mut table)?;
                Described::default()
            }
            (Format::Pts, m) => {
                let bytes = read_whole(source_name, source)?;
                pts::parse(source_name, &bytes, m, system, run, &mut table)?
            }
            (Format::Hyperfine, Some(m)) => {
                let bytes = read_whole(source_name, source)?;
                hyperfine::parse(source_name, &bytes, m, run, &mut table)?
            }
            (Format::Fio, Some(m)) => {
                let bytes = read_whole(source_name, source)?;
                fio::parse(source_name, &bytes, m, run, &mut table)?
            }
            (Format::Pkb, Some(m)) => pkb::parse(source_name, source, m, run, &mut table)?,
            (_, None) => unreachable_meta(source_name)?,
        }
    };
    let written = table.finish()?;
    if let Some((name, m)) = meta.as_ref().filter(|_| system.is_none()) {
        for platform in m.platforms.keys() {
            if !written.platforms.contains(platform) {
                return Err(ImportError::file(
                    name,
                    format!(
                        "key `platforms.{platform}`: no value of {source_name} is of this platform"
                    ),
                ));
            }
        }
    }
    let meta = meta.as_ref().map(|(_, m)| m);
    combine(format, meta, described, written, system)
}

/// Only PTS imports without metadata; the others were refused above.
fn unreachable_meta(source_name: &str) -> Result<Described, ImportError> {
    Err(ImportError::file(source_name, "this format needs --meta"))
}

/// The bundle's description: the metadata's word over the source's.
fn combine(
    format: Format,
    meta: Option<&ImportMeta>,
    described: Described,
    written: Written,
    system: Option<&str>,
) -> Result<Derived, ImportError> {
    let Described {
        label,
        created,
        tool,
        citation,
        mut summary,
        notes,
    } = described;
    let label = meta.map(|m| m.label.clone()).or(label).unwrap_or_default();
    let created = match meta {
        Some(m) => m.created().unwrap_or_default(),
        None => created.unwrap_or_default(),
    };
    let tool = meta.and_then(|m| m.source.tool.clone()).or(tool);
    let citation = meta.map(|m| m.source.citation.clone()).or(citation);
    let url = meta.and_then(|m| m.source.url.clone());
    if let Some(m) = meta {
        m.apply_host(&mut summary);
    }
    if summary.host.trim().is_empty() {
        UNKNOWN_HOST.clone_into(&mut summary.host);
    }
    let mut platforms = BTreeMap::new();
    for name in &written.platforms {
        let mut facts = summary.platforms.remove(name).unwrap_or_default();
        if let Some(given) = meta.and_then(|m| m.platform_facts(name)) {
            facts.extend(given);
        }
        facts.insert("origin".into(), "import".into());
        if let Some(t) = &tool {
            facts.insert("source_tool".into(), t.clone());
        }
        platforms.insert(name.clone(), facts);
    }
    summary.platforms = platforms;
    summary.tools = tool
        .iter()
        .map(|t| ("source".to_owned(), t.clone()))
        .collect();
    summary.collect_version = crate::build_info::VERSION.to_owned();
    summary.collect_commit = crate::build_info::commit();
    let run_meta = RunMeta {
        tool: Tool {
            name: meta::IMPORTER.to_owned(),
            version: crate::build_info::VERSION.to_owned(),
            git_commit: crate::build_info::commit(),
        },
        created,
        host: summary.host.clone(),
        suite: meta
            .and_then(|m| m.suite.clone())
            .unwrap_or_else(|| meta::DEFAULT_SUITE.into()),
        platforms: written.platforms.clone(),
        label,
    };
    let origin = Origin {
        origin: "import".into(),
        format,
        source: format.source_path().into(),
        meta: meta.map(|_| META_PATH.to_owned()),
        source_tool: tool,
        citation: citation.unwrap_or_default(),
        url,
        system: system.map(str::to_owned),
    };
    Ok(Derived {
        run_meta,
        summary,
        origin,
        written,
        notes,
    })
}

/// A source read whole (formats parsed as one document), at most
/// [`MAX_LOADED_BYTES`]: a reader loads the kept source whole to re-derive.
fn read_whole(name: &str, source: &mut dyn BufRead) -> Result<Vec<u8>, ImportError> {
    let mut bytes = Vec::new();
    source
        .take(MAX_LOADED_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ImportError::file(name, format!("reading: {e}")))?;
    if bytes.len() as u64 > MAX_LOADED_BYTES {
        return Err(ImportError::file(
            name,
            format!(
                "larger than {MAX_LOADED_BYTES} bytes, the limit of a kept source (SPEC.md §9.2)"
            ),
        ));
    }
    Ok(bytes)
}

/// Text of a source read whole, or the line of its first byte that is not
/// UTF-8.
pub(crate) fn utf8<'a>(name: &str, bytes: &'a [u8]) -> Result<&'a str, ImportError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        ImportError::at(
            Location {
                file: name.to_owned(),
                line,
                column: None,
            },
            "not valid UTF-8",
        )
    })
}

/// The one platform the metadata describes, for sources that do not name
/// platforms (hyperfine, fio, PerfKitBenchmarker).
pub(crate) fn single_platform<'m>(
    (meta_file, meta): (&str, &'m ImportMeta),
) -> Result<(String, &'m meta::PlatformFacts), ImportError> {
    let mut all = meta.platforms.iter();
    match (all.next(), all.next()) {
        (Some((name, facts)), None) => Ok((name.clone(), facts)),
        _ => Err(ImportError::file(
            meta_file,
            format!(
                "key `platforms`: describe exactly one platform (this format's numbers are of one platform), not {}",
                meta.platforms.len()
            ),
        )),
    }
}

/// A JSON syntax error with its line and column.
pub(crate) fn json_error(file: &str, e: &serde_json::Error) -> ImportError {
    ImportError::at(
        Location {
            file: file.to_owned(),
            line: e.line(),
            column: Some((e.column(), String::new())),
        },
        format!("not valid JSON: {e}"),
    )
}
