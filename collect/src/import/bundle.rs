//! Writing an import's bundle: the source streams through the parser while
//! the rows stream into a temporary `metrics.ndjson` beside the output, so
//! memory does not grow with the source; then the bundle is staged from
//! files. The limits table (SPEC.md §9.2) is checked before anything is
//! written, and a source that changes while it is imported is refused.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use benchvm_format::env::SUMMARY_PATH;
use benchvm_format::limits::{self, LimitError, MAX_KEPT_BYTES, MAX_LOADED_BYTES};
use benchvm_format::metrics::METRICS_PATH;
use benchvm_format::rundir::Packed;
use benchvm_format::write::{self, Content, Source};
use sha2::{Digest, Sha256};

use super::error::ImportError;
use super::{derive, pts, Derived, Format, Input, Ndjson, META_PATH, ORIGIN_PATH};

/// How to import.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// PTS: one bundle per `<System>` instead of one bundle for the file.
    pub split: bool,
}

/// One bundle written, and what the user should know about it.
#[derive(Debug)]
pub struct Imported {
    pub packed: Packed,
    pub rows: usize,
    pub notes: Vec<String>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ImportError + '_ {
    move |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Imports `source` (with `meta`, when given) into bundles in `out_dir`
/// (`<label>-<id12>.tar.zst`): one, or with [`Options::split`] one per PTS
/// system.
pub fn import_files(
    format: Format,
    source: &Path,
    meta: Option<&Path>,
    out_dir: &Path,
    options: Options,
) -> Result<Vec<Imported>, ImportError> {
    let source_size = regular_file(source)?;
    if source_size > MAX_LOADED_BYTES {
        return Err(ImportError::Limit {
            file: source.display().to_string(),
            source: LimitError::Loaded {
                path: format.source_path().into(),
                size: source_size,
            },
        });
    }
    let meta_bytes = match meta {
        Some(path) => Some(
            benchvm_format::input::read(path, benchvm_format::input::META_CAP, "metadata file")
                .map_err(|e| ImportError::file(&path.display().to_string(), e.why()))?,
        ),
        None => None,
    };
    std::fs::create_dir_all(out_dir).map_err(io(out_dir))?;
    let systems: Vec<Option<String>> = if options.split {
        if format != Format::Pts {
            return Err(ImportError::file(
                &source.display().to_string(),
                "--split is for PTS result files (one bundle per <System>)",
            ));
        }
        let bytes = std::fs::read(source).map_err(io(source))?;
        pts::system_ids(&source.display().to_string(), &bytes)?
            .into_iter()
            .map(Some)
            .collect()
    } else {
        vec![None]
    };
    // Every bundle is derived (and so checked) before any is written.
    let mut staged = Vec::new();
    for system in &systems {
        staged.push(stage_one(
            format,
            source,
            meta.zip(meta_bytes.as_deref()),
            system.as_deref(),
            out_dir,
        )?);
    }
    let mut out = Vec::new();
    for (staged, rows, notes) in staged {
        let path = out_dir.join(benchvm_format::manifest::file_name(
            &staged.manifest.label,
            &staged.id,
        ));
        let (id, files) = (staged.id, staged.manifest.files.len() + 1);
        let bytes = staged.write_file(&path)?;
        out.push(Imported {
            packed: Packed {
                path,
                id,
                bytes,
                files,
            },
            rows,
            notes,
        });
    }
    Ok(out)
}

type StagedOne = (write::Staged, usize, Vec<String>);

fn stage_one(
    format: Format,
    source: &Path,
    meta: Option<(&Path, &[u8])>,
    system: Option<&str>,
    out_dir: &Path,
) -> Result<StagedOne, ImportError> {
    let metrics = tempfile::Builder::new()
        .prefix(".import-metrics-")
        .tempfile_in(out_dir)
        .map_err(io(out_dir))?;
    let file = File::open(source).map_err(io(source))?;
    let mut reader = BufReader::with_capacity(
        256 << 10,
        Hashing {
            inner: file,
            hash: Sha256::new(),
            bytes: 0,
        },
    );
    let (source_name, meta_name) = (
        source.display().to_string(),
        meta.map(|(p, _)| p.display().to_string()),
    );
    let mut out = Ndjson(BufWriter::with_capacity(256 << 10, metrics.as_file()));
    let derived = derive(
        Input {
            format,
            source_name: &source_name,
            source: &mut reader,
            meta: meta_name.as_deref().zip(meta.map(|(_, b)| b)),
            system,
        },
        &mut out,
    )?;
    out.0.flush().map_err(io(metrics.path()))?;
    drop(out);
    // The rest of the source, had the parser stopped before its end.
    std::io::copy(&mut reader, &mut std::io::sink()).map_err(io(source))?;
    let hashing = reader.into_inner();
    let source_sha = hex::encode(hashing.hash.finalize());
    let metrics_size = metrics
        .as_file()
        .metadata()
        .map_err(io(metrics.path()))?
        .len();
    let kept = metrics_size + hashing.bytes + meta.map_or(0, |(_, b)| b.len() as u64);
    let limit = |source| ImportError::Limit {
        file: source_name.clone(),
        source,
    };
    if metrics_size > MAX_LOADED_BYTES {
        return Err(limit(LimitError::Loaded {
            path: METRICS_PATH.into(),
            size: metrics_size,
        }));
    }
    if kept > MAX_KEPT_BYTES {
        return Err(limit(LimitError::Kept(kept)));
    }
    let Derived {
        run_meta,
        summary,
        origin,
        written,
        notes,
    } = derived;
    let mut sources = vec![
        file_source(METRICS_PATH, metrics.path()),
        bytes_source(SUMMARY_PATH, pretty(&summary)),
        bytes_source(ORIGIN_PATH, pretty(&origin)),
        file_source(&origin.source, source),
    ];
    if let Some((_, bytes)) = meta {
        sources.push(bytes_source(META_PATH, bytes.to_vec()));
    }
    let staged = write::stage(run_meta, sources, out_dir)?;
    let kept_sha = staged
        .manifest
        .files
        .iter()
        .find(|f| f.path == origin.source)
        .map(|f| f.sha256.clone());
    if kept_sha.as_deref() != Some(source_sha.as_str()) {
        return Err(ImportError::file(
            &source_name,
            "the file changed while it was imported: import it again once it is complete",
        ));
    }
    limits::check_manifest(staged.manifest_bytes.len(), &staged.manifest.files).map_err(limit)?;
    Ok((staged, written.rows, notes))
}

/// The size of a regular file; anything else (a FIFO, a device, a folder)
/// is refused before it is read.
fn regular_file(path: &Path) -> Result<u64, ImportError> {
    let m = std::fs::metadata(path).map_err(io(path))?;
    if !m.is_file() {
        return Err(ImportError::file(
            &path.display().to_string(),
            "not a regular file",
        ));
    }
    Ok(m.len())
}

fn file_source(path: &str, file: &Path) -> Source {
    Source {
        path: path.to_owned(),
        content: Content::File(PathBuf::from(file)),
    }
}

fn bytes_source(path: &str, bytes: Vec<u8>) -> Source {
    Source {
        path: path.to_owned(),
        content: Content::Bytes(bytes),
    }
}

/// Pretty JSON with a final newline, for the bundle's JSON entries.
pub fn pretty<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Plain structs of strings, integers and maps cannot fail.
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// A reader that hashes and counts what passes through it.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
    bytes: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}
