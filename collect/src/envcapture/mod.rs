//! Environment capture.
//!
//! [`capture`] records the host into an `env/` folder: one plain-text raw
//! file per source (`uname.txt`, `lscpu.txt`, `cpuinfo.txt`, `numa.txt`,
//! `vulnerabilities.txt`, `tools.txt`...) and, derived from them,
//! `summary.json` ([`EnvSummary`]). A source that is missing, unreadable,
//! failing or too slow never fails the capture: its raw file says what
//! happened and the summary field falls back or stays empty. Only failing to
//! create or write `env_dir` is an error.
//!
//! Every external command runs under [`command::run_with_deadline`] (10 s).

pub mod command;
pub mod parsers;
mod sources;
pub mod summary;
pub mod sysfs;

#[cfg(test)]
mod capture_tests;
#[cfg(test)]
mod parsers_tests;
#[cfg(test)]
mod test_samples;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use benchvm_format::env::EnvSummary;

pub use command::{run_with_deadline, CommandOutcome};

/// File name of the summary inside the env folder.
pub const SUMMARY_FILE: &str = "summary.json";

pub use crate::build_info::ToolProbe;

/// What makes a capture fail: the env folder cannot be created or written.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot create env folder {path}: {source}")]
    CreateDir { path: PathBuf, source: io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot serialize the environment summary: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// The env folder the raw files go to.
#[derive(Debug)]
pub(crate) struct RawDir {
    dir: PathBuf,
}

impl RawDir {
    fn create(dir: &Path) -> Result<RawDir, CaptureError> {
        fs::create_dir_all(dir).map_err(|source| CaptureError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
        Ok(RawDir {
            dir: dir.to_path_buf(),
        })
    }

    /// Writes `name` in the folder, replacing any previous file.
    pub(crate) fn write(&self, name: &str, contents: &str) -> Result<(), CaptureError> {
        let path = self.dir.join(name);
        fs::write(&path, contents).map_err(|source| CaptureError::Write { path, source })
    }
}

/// Captures the host environment into `env_dir` (created if needed): the raw
/// files, then `summary.json`, which is also returned. `scratch` is the
/// folder whose file system is recorded; `tools` are probed for their
/// version line. `platforms` of the summary is left empty.
pub fn capture(
    env_dir: &Path,
    scratch: &Path,
    tools: &[ToolProbe],
    collect_version: &str,
    collect_commit: Option<&str>,
) -> Result<EnvSummary, CaptureError> {
    let raw = RawDir::create(env_dir)?;
    let inputs = sources::gather(&raw, scratch, tools, collect_version, collect_commit)?;
    let summary = summary::build(&inputs, collect_version, collect_commit);
    let json = serde_json::to_string_pretty(&summary)? + "\n";
    raw.write(SUMMARY_FILE, &json)?;
    Ok(summary)
}
