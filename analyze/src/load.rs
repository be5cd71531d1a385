//! Loading bundles: verification first, then the structured entries.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use benchvm_format::env::{EnvSummary, SUMMARY_PATH};
use benchvm_format::manifest::FileEntry;
use benchvm_format::metrics::{MetricRow, METRICS_PATH};
use benchvm_format::{read, Bundle, BundleError, Limits};
use polars::prelude::{DataFrame, PolarsError};

use crate::columns::Columns;
use crate::design::Design;

/// How bundles are read.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub limits: Limits,
    /// The user's cache folder, whose local catalog ([`crate::store::local`])
    /// keeps the rows of every store bundle verified before; `None`: every
    /// bundle is fetched and verified.
    pub cache: Option<PathBuf>,
}

/// A verified bundle and its parsed tables.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: PathBuf,
    pub bundle: Bundle,
    pub rows: Vec<MetricRow>,
    pub summary: EnvSummary,
    pub design: Design,
}

/// Entries loaded into memory; everything else is only hashed.
fn wanted(path: &str) -> bool {
    path == METRICS_PATH || path == SUMMARY_PATH || crate::design::wanted(path)
}

fn parse_summary(bundle: &Bundle) -> Result<EnvSummary, BundleError> {
    match bundle.file(SUMMARY_PATH) {
        Some(bytes) => serde_json::from_slice(bytes).map_err(|e| BundleError::Content {
            entry: SUMMARY_PATH.into(),
            reason: e.to_string(),
        }),
        None => Ok(EnvSummary::default()),
    }
}

/// Verifies the bundle at `path` and parses its metrics and summary.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Loaded, BundleError> {
    let mut bundle = read::open(path, &options.limits, &|f| wanted(&f.path))?;
    // Parsed and validated by the reader.
    let rows = std::mem::take(&mut bundle.metrics);
    let summary = parse_summary(&bundle)?;
    let design = Design::of(&bundle, &summary);
    Ok(Loaded {
        path: path.to_path_buf(),
        bundle,
        rows,
        summary,
        design,
    })
}

/// What a report keeps of a verified bundle once its metrics are in the
/// combined frame.
#[derive(Debug, Clone)]
pub struct BundleInfo {
    pub path: PathBuf,
    /// Bundle id, 64 hex digits.
    pub id: String,
    pub label: String,
    pub host: String,
    pub suite: String,
    /// Start of the run (RFC 3339 UTC).
    pub created: String,
    /// Platforms the manifest lists.
    pub platforms: Vec<String>,
    /// Rows of its metrics table.
    pub rows: usize,
    pub summary: EnvSummary,
    /// How its runs were ordered and stopped, and their quiet evidence.
    pub design: Design,
}

/// A bundle left out of a report, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// Bundles loaded for a report: their facts, the ones skipped, and every
/// metric row of the loaded ones in one frame (see [`crate::frame`]).
#[derive(Debug, Clone)]
pub struct LoadedSet {
    /// In the order given.
    pub bundles: Vec<BundleInfo>,
    pub skipped: Vec<Skipped>,
    pub frame: DataFrame,
}

/// Loading a set of bundles failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum SetError {
    /// A bundle failed verification and `strict` was asked for.
    #[error("{}: {source}", path.display())]
    Strict { path: PathBuf, source: BundleError },
    #[error("building the metrics frame: {0}")]
    Frame(#[from] PolarsError),
    /// A store could not be opened or listed.
    #[error(transparent)]
    Store(#[from] benchvm_store::StoreError),
}

/// Verifies and loads one bundle: its facts and its metrics as columns
/// (the metrics bytes, validated by the reader, are read once more, into
/// columns, and then dropped).
fn load_columns(path: &Path, options: &LoadOptions) -> Result<(BundleInfo, Columns), BundleError> {
    // The reader validates the metrics and hands back their rows: the bytes
    // need not be kept.
    let keep = |f: &FileEntry| f.path == SUMMARY_PATH || crate::design::wanted(&f.path);
    let t0 = std::time::Instant::now();
    let bundle = read::open(path, &options.limits, &keep)?;
    OPEN_NS.fetch_add(t0.elapsed().as_nanos() as usize, Ordering::Relaxed);
    let t0 = std::time::Instant::now();
    let summary = parse_summary(&bundle)?;
    let design = Design::of(&bundle, &summary);
    let id = bundle.id.hex();
    let m = &bundle.manifest;
    let columns = crate::columns::from_rows(&bundle.metrics, &id, &m.label, &m.host);
    PARSE_NS.fetch_add(t0.elapsed().as_nanos() as usize, Ordering::Relaxed);
    let info = BundleInfo {
        path: path.to_path_buf(),
        label: m.label.clone(),
        host: m.host.clone(),
        suite: m.suite.clone(),
        created: m.created.clone(),
        platforms: m.platforms.clone(),
        rows: columns.len(),
        id,
        summary,
        design,
    };
    Ok((info, columns))
}

/// Time spent verifying and parsing, summed over the loader threads (for
/// `RUST_LOG=debug`).
static OPEN_NS: AtomicUsize = AtomicUsize::new(0);
static PARSE_NS: AtomicUsize = AtomicUsize::new(0);

type Outcome = Result<(BundleInfo, Columns), BundleError>;

/// Loads `paths`, bundle files and stores (`STORE[/filter]`, see
/// [`crate::store`]), each bundle once, in the order given; the same
/// bundle given twice is skipped the second time. A bundle that fails
/// verification is skipped and reported, or, with `strict`, fails the set.
pub fn load_set(
    paths: &[PathBuf],
    options: &LoadOptions,
    strict: bool,
) -> Result<LoadedSet, SetError> {
    if paths.iter().any(|p| benchvm_store::location::is_store(p)) {
        return crate::store::load_inputs(paths, options, strict);
    }
    load_files(paths, options, strict)
}

/// Loads bundle files on every core (as [`load_set`]).
pub fn load_files(
    paths: &[PathBuf],
    options: &LoadOptions,
    strict: bool,
) -> Result<LoadedSet, SetError> {
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(paths.len())
        .max(1);
    OPEN_NS.store(0, Ordering::Relaxed);
    PARSE_NS.store(0, Ordering::Relaxed);
    let next = AtomicUsize::new(0);
    let mut outcomes: Vec<Option<Outcome>> = Vec::new();
    outcomes.resize_with(paths.len(), || None);
    let done: Vec<Vec<(usize, Outcome)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = paths.get(i) else { break };
                        mine.push((i, load_columns(path, options)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    for (i, outcome) in done.into_iter().flatten() {
        outcomes[i] = Some(outcome);
    }
    let mut bundles = Vec::new();
    let mut frames = Vec::new();
    let mut skipped = Vec::new();
    let mut seen: std::collections::HashMap<String, PathBuf> = std::collections::HashMap::new();
    for (path, outcome) in paths.iter().zip(outcomes) {
        match outcome {
            Some(Ok((info, frame))) => {
                if let Some(first) = seen.get(&info.id) {
                    skipped.push(Skipped {
                        path: path.clone(),
                        reason: format!("the same bundle as {}", first.display()),
                    });
                    continue;
                }
                seen.insert(info.id.clone(), path.clone());
                bundles.push(info);
                frames.push(frame);
            }
            Some(Err(source)) if strict => {
                return Err(SetError::Strict {
                    path: path.clone(),
                    source,
                })
            }
            Some(Err(err)) => skipped.push(Skipped {
                path: path.clone(),
                reason: err.to_string(),
            }),
            None => skipped.push(Skipped {
                path: path.clone(),
                reason: "its loader thread panicked".into(),
            }),
        }
    }
    log::debug!(
        "open {:.3} s, parse {:.3} s (summed over threads)",
        OPEN_NS.load(Ordering::Relaxed) as f64 / 1e9,
        PARSE_NS.load(Ordering::Relaxed) as f64 / 1e9
    );
    let started = std::time::Instant::now();
    let frame = crate::columns::assemble(&frames)?;
    log::debug!(
        "assembling {} bundles: {:.3} s",
        bundles.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(LoadedSet {
        bundles,
        skipped,
        frame,
    })
}
