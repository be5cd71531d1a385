//! The run folder, written crash-safely as the suite goes (SPEC of the
//! folder in `benchvm_format::rundir`):
//!
//! 1. each run's files land in a temporary folder (`.inflight-*`), are
//!    fsynced, and the folder is renamed into `runs/...`, then its parent
//!    fsynced;
//! 2. only then the journal (`.journal`) records the run with its metric
//!    rows, fsynced: a run is finished exactly when its record is there;
//! 3. `metrics.ndjson` is written from the journal when the suite ends.
//!
//! An exclusive lock (`.lock`) keeps a second collector out. `resume`
//! replays the journal, cuts a torn tail, drops corrupt records from the
//! middle of it (keeping every intact one), and drops what no record
//! vouches for (temporary folders, run folders renamed just before a kill,
//! the run of a corrupt record).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use benchvm_format::metrics::{self, MetricRow, Status};
use benchvm_format::rundir::META_PATH;
use benchvm_format::RunMeta;

use crate::journal::{self, Journal, Record, JOURNAL};
use crate::lock::{self, RunLock};

/// A run folder being written.
#[derive(Debug)]
pub struct RunFolder {
    root: PathBuf,
    journal: Mutex<Journal>,
    _lock: RunLock,
}

/// What `resume` found in a run folder.
#[derive(Debug)]
pub struct Resumed {
    pub folder: RunFolder,
    /// The journal's first record.
    pub start: Record,
    /// Folders of finished runs.
    pub finished: BTreeSet<String>,
    /// Bytes of a torn last record that were cut off.
    pub torn_bytes: u64,
    /// Corrupt records in the middle of the journal, dropped from it (their
    /// runs are run again; the old journal is kept in `.journal.corrupt`).
    pub corrupt: Vec<journal::Corrupt>,
    /// What was dropped because no record vouched for it.
    pub dropped: Vec<String>,
}

impl RunFolder {
    /// Creates the folder: lock, `meta.json`, and a journal opened by `start`.
    pub fn create(root: &Path, meta: &RunMeta, start: &Record) -> Result<Self> {
        if root.join(META_PATH).exists() {
            bail!("{} already holds a run (meta.json exists): resume it with `collect resume {}` or choose another --run-dir", root.display(), root.display());
        }
        fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
        let lock = lock::acquire(root)?;
        for sub in ["env", "config", "runs"] {
            fs::create_dir_all(root.join(sub))
                .with_context(|| format!("creating {}", root.join(sub).display()))?;
        }
        let mut journal = Journal::create(&root.join(JOURNAL))?;
        journal.append(start)?;
        let folder = RunFolder {
            root: root.to_path_buf(),
            journal: Mutex::new(journal),
            _lock: lock,
        };
        folder.write_file(META_PATH, &serde_json::to_vec_pretty(meta)?)?;
        sync_dir(root)?;
        Ok(folder)
    }

    /// Reopens a folder left by a stopped collector.
    pub fn resume(root: &Path) -> Result<Resumed> {
        if !root.join(META_PATH).exists() {
            bail!("{} is not a run folder (no meta.json)", root.display());
        }
        let lock = lock::acquire(root)?;
        let path = root.join(JOURNAL);
        let replay = journal::replay(&path)?;
        if let Some(first) = replay.corrupt.first().filter(|c| c.position == 1) {
            bail!(
                "{}: {first}: the start record, which says what the run was started with, is lost; the run cannot be resumed",
                path.display()
            );
        }
        // Corrupt records go; every intact one stays, before and after them.
        let valid_len = if replay.corrupt.is_empty() {
            replay.valid_len
        } else {
            journal::rewrite(&path, &replay.records)?
        };
        let mut records = replay.records.into_iter();
        let start = match records.next() {
            Some(r @ Record::Start { .. }) => r,
            _ => bail!(
                "{}: the journal has no start record; the run cannot be resumed",
                path.display()
            ),
        };
        let finished: BTreeSet<String> = records
            .filter_map(|r| match r {
                Record::Run { folder, .. } => Some(folder),
                Record::Start { .. } => None,
            })
            .collect();
        let journal = Journal::reopen(&path, valid_len)?;
        let folder = RunFolder {
            root: root.to_path_buf(),
            journal: Mutex::new(journal),
            _lock: lock,
        };
        let dropped = folder.drop_unrecorded(&finished)?;
        Ok(Resumed {
            folder,
            start,
            finished,
            torn_bytes: replay.torn_bytes,
            corrupt: replay.corrupt,
            dropped,
        })
    }

    /// Removes temporary folders and run folders without a journal record.
    fn drop_unrecorded(&self, finished: &BTreeSet<String>) -> Result<Vec<String>> {
        let mut dropped = Vec::new();
        for entry in fs::read_dir(&self.root)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".inflight-") || name.starts_with(".tmp-") {
                remove(&entry.path())?;
                dropped.push(name);
            }
        }
        // runs/<platform>/<experiment>/<workload>/<phase>, and for
        // scalability runs .../<workload>/n=<N>/<phase>: a folder stays
        // when it is a finished run or holds one.
        let mut stack = vec![("runs".to_owned(), self.root.join("runs"))];
        while let Some((rel, dir)) = stack.pop() {
            if !dir.is_dir() {
                continue;
            }
            for entry in fs::read_dir(&dir)? {
                let path = entry?.path();
                if !path.is_dir() {
                    continue;
                }
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                let child = format!("{rel}/{name}");
                let prefix = format!("{child}/");
                if finished.contains(&child) {
                    continue;
                }
                if finished.iter().any(|f| f.starts_with(&prefix)) {
                    stack.push((child, path));
                } else {
                    remove(&path)?;
                    dropped.push(child);
                }
            }
        }
        sync_dir(&self.root)?;
        Ok(dropped)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes `rel` durably (temp file, fsync, rename, fsync folder).
    pub fn write_file(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        let dest = self.root.join(rel);
        let dir = dest.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&dir)?;
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".tmp-{name}"));
        let result = (|| {
            let mut file = File::create(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&tmp, &dest)
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(e).with_context(|| format!("writing {}", dest.display()));
        }
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

    /// Moves a finished run's folder into place, then records it.
    pub fn commit_run(
        &self,
        tmp: &Path,
        rel: &str,
        status: Status,
        rows: &[MetricRow],
    ) -> Result<()> {
        // An fsync error is fatal: the run is neither renamed into place nor
        // recorded, and `resume` runs it again.
        sync_tree(tmp, crate::fault::fires("fsync-error-run"))?;
        let dest = self.root.join(rel);
        let parent = dest.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&parent)?;
        if dest.exists() {
            fs::remove_dir_all(&dest)?;
        }
        fs::rename(tmp, &dest).with_context(|| format!("renaming into {}", dest.display()))?;
        sync_dir(&parent)?;
        crate::fault::point("before-journal");
        let record = Record::Run {
            folder: rel.to_owned(),
            status: status_name(status).into(),
            rows: rows.to_vec(),
        };
        self.journal
            .lock()
            .map_err(|_| anyhow::anyhow!("journal lock poisoned"))?
            .append(&record)?;
        crate::fault::point("after-journal");
        Ok(())
    }

    /// The runs the journal holds so far: each folder's status and rows
    /// (what `resume` and the schedule know of runs already finished).
    pub fn recorded_runs(&self) -> Result<BTreeMap<String, (Status, Vec<MetricRow>)>> {
        let replay = journal::replay(&self.root.join(JOURNAL))?;
        let mut out = BTreeMap::new();
        for record in replay.records {
            if let Record::Run {
                folder,
                status,
                rows,
            } = record
            {
                let status = match status.as_str() {
                    "ok" => Status::Ok,
                    "failed" => Status::Failed,
                    _ => Status::Dnr,
                };
                out.insert(folder, (status, rows));
            }
        }
        Ok(out)
    }

    /// Writes `metrics.ndjson` from the journal's records, in their order.
    pub fn finalize(&self) -> Result<usize> {
        let path = self.root.join(JOURNAL);
        let replay = journal::replay(&path)?;
        if let Some(bad) = replay.corrupt.first() {
            bail!(
                "{}: {bad}; `collect resume {}` drops it and runs its run again",
                path.display(),
                self.root.display()
            );
        }
        if replay.torn_bytes > 0 {
            bail!(
                "{}: {} bytes after its last intact record; `collect resume {}` cuts them and runs what they held again",
                path.display(),
                replay.torn_bytes,
                self.root.display()
            );
        }
        let rows: Vec<MetricRow> = replay
            .records
            .into_iter()
            .flat_map(|r| match r {
                Record::Run { rows, .. } => rows,
                Record::Start { .. } => Vec::new(),
            })
            .collect();
        self.write_file(metrics::METRICS_PATH, &metrics::to_ndjson(&rows))?;
        Ok(rows.len())
    }
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Ok => "ok",
        Status::Failed => "failed",
        Status::Dnr => "dnr",
    }
}

fn remove(path: &Path) -> Result<()> {
    let result = if path.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
    result.with_context(|| format!("removing {}", path.display()))
}

/// Fsyncs every file and folder under `dir` (a scalability run has a
/// folder per guest), then `dir` itself. `inject`: the first file's fsync
/// reports EIO (the `fsync-error-run` fault point).
fn sync_tree(dir: &Path, mut inject: bool) -> Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            sync_tree(&path, false)?;
        } else {
            let fail = std::mem::take(&mut inject);
            File::open(&path)
                .and_then(|f| {
                    if fail {
                        Err(crate::fault::eio("fsync-error-run"))
                    } else {
                        f.sync_all()
                    }
                })
                .with_context(|| {
                    format!(
                        "fsync of {} failed; its run is not recorded (`collect resume` redoes it)",
                        path.display()
                    )
                })?;
        }
    }
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("fsync of folder {}", dir.display()))
}
