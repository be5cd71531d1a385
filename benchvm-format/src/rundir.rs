//! A run folder, as `collect` leaves it, and how it becomes a bundle.
//!
//! ```text
//! RUN_DIR/
//!   meta.json        RunMeta: label, host, suite, platforms, creation time
//!   metrics.ndjson   the metrics table
//!   env/ config/ runs/
//!   .*               the collector's own state (journal, lock, temp folders): not packed
//! ```

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::error::PackError;
use crate::manifest::{self, BundleId, RunMeta};
use crate::metrics::{self, METRICS_PATH};
use crate::write::{self, Content, Source};

/// The run folder's description of itself.
pub const META_PATH: &str = "meta.json";
/// Top-level folders that are packed whole.
pub const FOLDERS: [&str; 3] = ["config", "env", "runs"];

/// A bundle written to disk.
#[derive(Debug, Clone)]
pub struct Packed {
    pub path: PathBuf,
    pub id: BundleId,
    pub bytes: u64,
    pub files: usize,
}

/// Reads `meta.json` and lists every file to pack, refusing anything that
/// would be silently left out.
pub fn sources(run_dir: &Path) -> Result<(RunMeta, Vec<Source>), PackError> {
    let meta_path = run_dir.join(META_PATH);
    let text = crate::input::read(&meta_path, crate::input::META_CAP, "run description")
        .map_err(PackError::Input)?;
    let meta: RunMeta = serde_json::from_slice(&text).map_err(|e| PackError::Meta {
        path: meta_path.clone(),
        reason: e.to_string(),
    })?;
    let mut sources = Vec::new();
    let entries = fs::read_dir(run_dir).map_err(PackError::io(run_dir))?;
    for entry in entries {
        let entry = entry.map_err(PackError::io(run_dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let kind = entry.file_type().map_err(PackError::io(&path))?;
        if name.starts_with('.') || name == META_PATH {
            continue;
        }
        if FOLDERS.contains(&name.as_str()) && kind.is_dir() {
            walk(&path, &name, &mut sources)?;
        } else if name == METRICS_PATH && kind.is_file() {
            let bytes = fs::read(&path).map_err(PackError::io(&path))?;
            metrics::parse(&bytes).map_err(|error| PackError::Metrics {
                path: path.clone(),
                error,
            })?;
            sources.push(Source {
                path: name,
                content: Content::Bytes(bytes),
            });
        } else if kind.is_symlink() {
            return Err(PackError::NotRegular { path });
        } else {
            return Err(PackError::Unexpected { path });
        }
    }
    if !sources.iter().any(|s| s.path == METRICS_PATH) {
        let path = run_dir.join(METRICS_PATH);
        return Err(PackError::Io {
            path,
            error: std::io::ErrorKind::NotFound.into(),
        });
    }
    Ok((meta, sources))
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<Source>) -> Result<(), PackError> {
    for entry in fs::read_dir(dir).map_err(PackError::io(dir))? {
        let entry = entry.map_err(PackError::io(dir))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(PackError::io(&path))?;
        let name = entry.file_name();
        let inner = format!("{prefix}/{}", name.to_string_lossy());
        // Checked here, on the raw bytes, so a non-UTF-8 name is named as such.
        let mut raw = format!("{prefix}/").into_bytes();
        raw.extend_from_slice(name.as_bytes());
        crate::path::check(&raw).map_err(|fault| PackError::Path {
            path: inner.clone(),
            fault,
        })?;
        if kind.is_dir() {
            walk(&path, &inner, out)?;
        } else if kind.is_file() {
            out.push(Source {
                path: inner,
                content: Content::File(path),
            });
        } else {
            return Err(PackError::NotRegular { path });
        }
    }
    Ok(())
}

/// Packs a run folder into `dest`, or into `default_dir` under its default
/// name (`<label>-<id12>.tar.zst`). Reads every file once (see
/// [`write::stage`]).
pub fn pack(run_dir: &Path, dest: Option<&Path>, default_dir: &Path) -> Result<Packed, PackError> {
    pack_with_hook(run_dir, dest, default_dir, &|| {})
}

/// [`pack`], calling `staged` once the bulk of the bundle sits in its
/// temporary file and before the bundle is committed under its name (the
/// collector's crash tests kill it there).
pub fn pack_with_hook(
    run_dir: &Path,
    dest: Option<&Path>,
    default_dir: &Path,
    staged_hook: &dyn Fn(),
) -> Result<Packed, PackError> {
    let (meta, sources) = sources(run_dir)?;
    let dir = match dest {
        Some(d) => write::parent_dir(d),
        None => {
            fs::create_dir_all(default_dir).map_err(PackError::io(default_dir))?;
            default_dir.to_path_buf()
        }
    };
    let staged = write::stage(meta, sources, &dir)?;
    let path = match dest {
        Some(d) => d.to_path_buf(),
        None => dir.join(manifest::file_name(&staged.manifest.label, &staged.id)),
    };
    let (id, files) = (staged.id, staged.manifest.files.len() + 1);
    staged_hook();
    let bytes = staged.write_file(&path)?;
    Ok(Packed {
        path,
        id,
        bytes,
        files,
    })
}
