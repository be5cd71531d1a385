//! Writing the run folder as the suite goes: every run's files land in a
//! temporary folder that is fsynced and renamed into place, then its metric
//! rows are appended to `metrics.ndjson` and fsynced.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use benchvm_format::metrics::{self, MetricRow};
use benchvm_format::rundir::META_PATH;
use benchvm_format::RunMeta;

/// A run folder being written.
#[derive(Debug)]
pub struct RunFolder {
    root: PathBuf,
}

impl RunFolder {
    /// Creates the folder with its `meta.json` and empty metrics table.
    pub fn create(root: &Path, meta: &RunMeta) -> Result<Self> {
        if root.join(META_PATH).exists() {
            anyhow::bail!(
                "{} already holds a run (meta.json exists); choose another --run-dir",
                root.display()
            );
        }
        for sub in ["env", "config", "runs"] {
            fs::create_dir_all(root.join(sub))
                .with_context(|| format!("creating {}", root.join(sub).display()))?;
        }
        let folder = RunFolder {
            root: root.to_path_buf(),
        };
        folder.write_file(META_PATH, &serde_json::to_vec_pretty(meta)?)?;
        folder.write_file(metrics::METRICS_PATH, b"")?;
        Ok(folder)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes `rel` durably (temp file, fsync, rename, fsync folder).
    pub fn write_file(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        let dest = self.root.join(rel);
        let dir = dest.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&dir)?;
        let tmp = dir.join(format!(
            ".tmp-{}",
            dest.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        ));
        let mut file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, &dest).with_context(|| format!("renaming into {}", dest.display()))?;
        sync_dir(&dir)
    }

    /// A fresh temporary folder for one run's files.
    pub fn begin_run(&self, rel: &str) -> Result<PathBuf> {
        let tmp = self
            .root
            .join(format!(".inflight-{}", rel.replace('/', "_")));
        if tmp.exists() {
            fs::remove_dir_all(&tmp)?;
        }
        fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        Ok(tmp)
    }

    /// Moves a finished run's folder into place and records its rows.
    pub fn commit_run(&self, tmp: &Path, rel: &str, rows: &[MetricRow]) -> Result<()> {
        for entry in fs::read_dir(tmp)? {
            File::open(entry?.path())?.sync_all()?;
        }
        sync_dir(tmp)?;
        let dest = self.root.join(rel);
        let parent = dest.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&parent)?;
        if dest.exists() {
            fs::remove_dir_all(&dest)?;
        }
        fs::rename(tmp, &dest).with_context(|| format!("renaming into {}", dest.display()))?;
        sync_dir(&parent)?;
        if !rows.is_empty() {
            let path = self.root.join(metrics::METRICS_PATH);
            let mut file = OpenOptions::new()
                .append(true)
                .open(&path)
                .with_context(|| format!("opening {}", path.display()))?;
            file.write_all(&metrics::to_ndjson(rows))?;
            file.sync_all()
                .with_context(|| format!("fsync of {}", path.display()))?;
        }
        Ok(())
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("fsync of folder {}", dir.display()))
}
