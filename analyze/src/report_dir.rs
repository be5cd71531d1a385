//! Report folders are owned: `analyze report` writes a whole report into a
//! fresh folder beside its destination, then swaps it into place, so a
//! folder never mixes the files of two reports (a `table2.md` left from an
//! earlier analysis beside a new Table 1).
//!
//! The destination may be absent, an empty folder, or a report folder: one
//! that holds [`MARKER`], which every report gets, or, from before the
//! marker, both `report.md` and `data.parquet`. Any other folder is
//! refused before anything is written, and left as it is.
//!
//! The swap: the old report is renamed aside, the new one renamed into
//! place, the old one removed. Both renames stay in the destination's
//! parent folder (one file system), so at every moment the destination is
//! the old report or the new one, but for the instant between the two
//! renames, when it is absent (and the old report is still whole beside it).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The file that marks a folder as a report `analyze report` wrote.
pub const MARKER: &str = ".benchvm-report";

/// A report being written, not yet in place.
#[derive(Debug)]
pub struct Staging {
    target: PathBuf,
    fresh: PathBuf,
    placed: bool,
}

/// Whether `dir` is a folder `analyze report` may replace.
fn owned(dir: &Path) -> Result<bool> {
    if dir.join(MARKER).is_file() {
        return Ok(true);
    }
    if dir.join("report.md").is_file() && dir.join("data.parquet").is_file() {
        return Ok(true);
    }
    let mut entries = fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    Ok(entries.next().is_none())
}

/// A sibling of `target` named `.<name>.<what>-<pid>`.
fn sibling(target: &Path, what: &str) -> PathBuf {
    let name = target
        .file_name()
        .map_or_else(|| "report".into(), |n| n.to_string_lossy().into_owned());
    let parent = target.parent().filter(|p| !p.as_os_str().is_empty());
    parent
        .unwrap_or(Path::new("."))
        .join(format!(".{name}.{what}-{}", std::process::id()))
}

impl Staging {
    /// Checks that `target` may receive a report and makes the fresh folder
    /// to write it into.
    pub fn new(target: &Path) -> Result<Staging> {
        if target.exists() {
            if !target.is_dir() {
                bail!(
                    "{} is not a folder: a report goes into a folder of its own",
                    target.display()
                );
            }
            if !owned(target)? {
                bail!(
                    "{} holds files and is not a report folder (no {MARKER} in it): refusing to replace it; give --out a new or empty folder, or a report folder",
                    target.display()
                );
            }
        }
        let fresh = sibling(target, "new");
        if let Some(parent) = fresh.parent() {
            fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        let _ = fs::remove_dir_all(&fresh);
        fs::create_dir(&fresh).with_context(|| format!("creating {}", fresh.display()))?;
        fs::write(
            fresh.join(MARKER),
            "a report folder written by `analyze report`; the next report into it replaces it whole\n",
        )
        .with_context(|| format!("writing {}", fresh.join(MARKER).display()))?;
        Ok(Staging {
            target: target.to_path_buf(),
            fresh,
            placed: false,
        })
    }

    /// The folder to write the report into.
    pub fn path(&self) -> &Path {
        &self.fresh
    }

    /// Swaps the written report into place; returns where it is.
    pub fn commit(mut self) -> Result<PathBuf> {
        let old = sibling(&self.target, "old");
        let had_old = self.target.exists();
        if had_old {
            let _ = fs::remove_dir_all(&old);
            fs::rename(&self.target, &old).with_context(|| {
                format!("moving the previous report {} aside", self.target.display())
            })?;
        }
        if let Err(e) = fs::rename(&self.fresh, &self.target) {
            if had_old {
                let _ = fs::rename(&old, &self.target);
            }
            return Err(e)
                .with_context(|| format!("moving the new report into {}", self.target.display()));
        }
        self.placed = true;
        if had_old {
            fs::remove_dir_all(&old).with_context(|| {
                format!("removing the previous report (moved to {})", old.display())
            })?;
        }
        Ok(self.target.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.placed {
            let _ = fs::remove_dir_all(&self.fresh);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_replaces_a_report_whole() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("r");
        let first = Staging::new(&out).expect("absent is fine");
        fs::write(first.path().join("table2.md"), "old").expect("write");
        first.commit().expect("commit");
        let second = Staging::new(&out).expect("a report folder is fine");
        fs::write(second.path().join("table1.md"), "new").expect("write");
        assert!(out.join("table2.md").exists(), "in place until the swap");
        second.commit().expect("commit");
        assert!(out.join("table1.md").exists());
        assert!(
            !out.join("table2.md").exists(),
            "nothing of the old report is left"
        );
        assert!(out.join(MARKER).exists());
        let left: Vec<_> = fs::read_dir(tmp.path()).expect("list").collect();
        assert_eq!(left.len(), 1, "no staging or old folder left: {left:?}");
    }

    #[test]
    fn a_folder_of_other_files_is_refused_and_left_alone() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("thesis");
        fs::create_dir(&out).expect("mkdir");
        fs::write(out.join("chapter1.tex"), "mine").expect("write");
        let err = Staging::new(&out).expect_err("not a report").to_string();
        assert!(
            err.contains("holds files and is not a report folder"),
            "{err}"
        );
        assert_eq!(fs::read(out.join("chapter1.tex")).expect("kept"), b"mine");
        // Empty is fine; an abandoned staging folder goes with its owner.
        let empty = tmp.path().join("empty");
        fs::create_dir(&empty).expect("mkdir");
        let staging = Staging::new(&empty).expect("empty");
        let fresh = staging.path().to_path_buf();
        drop(staging);
        assert!(!fresh.exists());
    }
}
