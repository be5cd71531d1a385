//! `analyze export INPUT... --parquet DIR`: every metric row of the inputs
//! (stores or bundle files) with its lineage, as a hive-partitioned
//! Parquet dataset that DuckDB, polars, pandas (pyarrow) or Spark read as
//! one table:
//!
//! ```text
//! DIR/platform=<platform>/host=<host>/data.parquet
//! ```
//!
//! Each file holds the metrics columns of SPEC.md §7 but `platform`, and
//! the lineage `bundle_id`, `label`, `suite` and `created` (the run's
//! start, RFC 3339 UTC); `platform` and `host` are in the folder names,
//! every byte outside `[A-Za-z0-9._-]` escaped as `%XX`, as Hive does.
//! The folder is written whole beside DIR and swapped into place; DIR may
//! be absent, empty, or an earlier export (marked by [`MARKER`]).

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use benchvm_store::location::percent_encode;
use polars::prelude::*;

use crate::filter::Filters;
use crate::load::{load_set, LoadOptions, LoadedSet};

/// The file that marks a folder as an export.
pub const MARKER: &str = ".benchvm-export";
/// Name of each partition's file.
pub const PART_FILE: &str = "data.parquet";

/// Settings of one export.
#[derive(Debug, Clone)]
pub struct ExportSettings {
    pub inputs: Vec<PathBuf>,
    pub out: PathBuf,
    pub strict: bool,
    pub load: LoadOptions,
    pub filters: Filters,
}

pub fn run(s: &ExportSettings) -> Result<ExitCode> {
    let set = load_set(&s.inputs, &s.load, s.strict)?;
    for skipped in &set.skipped {
        log::warn!("skipping {}: {}", skipped.path.display(), skipped.reason);
    }
    if set.bundles.is_empty() {
        bail!("no bundle could be loaded");
    }
    let bundles = set.bundles.len();
    let frame = with_lineage(&set, &s.filters)?;
    let stage = Stage::new(&s.out)?;
    let parts = write_partitions(&frame, stage.path())?;
    stage.commit()?;
    collect::outln!(
        "{} rows of {bundles} bundle(s) in {parts} partition(s) (platform, host): {}",
        frame.height(),
        s.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The filtered rows, with each bundle's suite and start added.
pub fn with_lineage(set: &LoadedSet, filters: &Filters) -> Result<DataFrame> {
    let mut frame = filters.apply(set.frame.clone())?;
    let by_id: HashMap<&str, (&str, &str)> = set
        .bundles
        .iter()
        .map(|b| (b.id.as_str(), (b.suite.as_str(), b.created.as_str())))
        .collect();
    let ids = frame.column("bundle_id")?.str()?.clone();
    let pick = |i: usize| -> StringChunked {
        ids.iter()
            .map(|id| {
                id.and_then(|id| by_id.get(id))
                    .map(|t| if i == 0 { t.0 } else { t.1 })
            })
            .collect()
    };
    frame.with_column(pick(0).with_name("suite".into()).into_column())?;
    frame.with_column(pick(1).with_name("created".into()).into_column())?;
    Ok(frame)
}

/// Writes one Parquet file per (platform, host); returns how many.
fn write_partitions(frame: &DataFrame, dir: &Path) -> Result<usize> {
    let platforms = frame.column("platform")?.str()?.clone();
    let hosts = frame.column("host")?.str()?.clone();
    let mut groups: BTreeMap<(String, String), Vec<bool>> = BTreeMap::new();
    for (i, (p, h)) in platforms.iter().zip(hosts.iter()).enumerate() {
        let key = (
            p.unwrap_or_default().to_owned(),
            h.unwrap_or_default().to_owned(),
        );
        groups
            .entry(key)
            .or_insert_with(|| vec![false; frame.height()])[i] = true;
    }
    for ((platform, host), mask) in &groups {
        let mask = BooleanChunked::from_slice("mask".into(), mask);
        let mut part = frame.filter(&mask)?.drop("platform")?.drop("host")?;
        let folder = dir
            .join(format!("platform={}", percent_encode(platform)))
            .join(format!("host={}", percent_encode(host)));
        fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
        let path = folder.join(PART_FILE);
        let file =
            fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        ParquetWriter::new(std::io::BufWriter::new(file))
            .finish(&mut part)
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    }
    Ok(groups.len())
}

/// An export being written beside its destination.
#[derive(Debug)]
struct Stage {
    target: PathBuf,
    fresh: PathBuf,
}

impl Stage {
    fn new(target: &Path) -> Result<Stage> {
        if target.exists() {
            let owned = target.join(MARKER).is_file()
                || fs::read_dir(target)
                    .with_context(|| format!("reading {}", target.display()))?
                    .next()
                    .is_none();
            if !owned {
                bail!(
                    "{} holds files and is not an export (no {MARKER} in it): refusing to replace it; give --parquet a new or empty folder, or an earlier export",
                    target.display()
                );
            }
        }
        let name = target
            .file_name()
            .map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned());
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        let fresh = parent.join(format!(".{name}.new-{}", std::process::id()));
        let _ = fs::remove_dir_all(&fresh);
        fs::create_dir(&fresh).with_context(|| format!("creating {}", fresh.display()))?;
        fs::write(fresh.join(MARKER), "written by analyze export\n")
            .with_context(|| format!("writing {}", fresh.join(MARKER).display()))?;
        Ok(Stage {
            target: target.to_path_buf(),
            fresh,
        })
    }

    fn path(&self) -> &Path {
        &self.fresh
    }

    /// Swaps the fresh folder into place (the old export aside, then gone).
    fn commit(self) -> Result<()> {
        let old = self.fresh.with_file_name(
            self.fresh
                .file_name()
                .map(|n| n.to_string_lossy().replace(".new-", ".old-"))
                .unwrap_or_default(),
        );
        if self.target.exists() {
            fs::rename(&self.target, &old)
                .with_context(|| format!("moving {} aside", self.target.display()))?;
        }
        fs::rename(&self.fresh, &self.target)
            .with_context(|| format!("moving the export into {}", self.target.display()))?;
        let _ = fs::remove_dir_all(&old);
        Ok(())
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        // Left only when the export failed: nothing of it is kept.
        let _ = fs::remove_dir_all(&self.fresh);
    }
}
