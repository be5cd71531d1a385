//! Loading bundles: verification first, then the structured entries.

use std::path::{Path, PathBuf};

use benchvm_format::env::{EnvSummary, SUMMARY_PATH};
use benchvm_format::metrics::{self, MetricRow, METRICS_PATH};
use benchvm_format::{read, Bundle, BundleError, Limits};

/// How bundles are read.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub limits: Limits,
}

/// A verified bundle and its parsed tables.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: PathBuf,
    pub bundle: Bundle,
    pub rows: Vec<MetricRow>,
    pub summary: EnvSummary,
}

/// Entries loaded into memory; everything else is only hashed.
fn wanted(path: &str) -> bool {
    path == METRICS_PATH || path == SUMMARY_PATH || path == "config/plan.json"
}

/// Verifies the bundle at `path` and parses its metrics and summary.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Loaded, BundleError> {
    let bundle = read::open(path, &options.limits, &|f| wanted(&f.path))?;
    let rows = match bundle.file(METRICS_PATH) {
        Some(bytes) => metrics::parse(bytes)?,
        None => Vec::new(),
    };
    let summary = match bundle.file(SUMMARY_PATH) {
        Some(bytes) => serde_json::from_slice(bytes).map_err(|e| BundleError::Content {
            entry: SUMMARY_PATH.into(),
            reason: e.to_string(),
        })?,
        None => EnvSummary::default(),
    };
    Ok(Loaded {
        path: path.to_path_buf(),
        bundle,
        rows,
        summary,
    })
}
