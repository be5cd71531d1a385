//! The writer: a deterministic bundle from a list of files (SPEC.md §2-§5).
//!
//! Two writers make the same bytes:
//!
//! - [`stage`] (`write/onepass.rs`) reads every file once: it compresses frame 2
//!   into a temporary file while it hashes, then writes the manifest's frame
//!   and appends frame 2. zstd's worker threads compress while the calling
//!   thread reads and hashes, so it uses every core. [`crate::rundir::pack`]
//!   uses it.
//! - [`plan`] then [`Planned::write`] is the reference: it reads every file
//!   twice (once to hash it for the manifest, once to compress it) with one
//!   zstd worker. It is short enough to check against SPEC.md by eye, and the
//!   tests hold the fast writer to its bytes.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::PackError;
use crate::manifest::{BundleId, FileEntry, Manifest, RunMeta, MANIFEST_PATH};
use crate::{path, ustar};

mod onepass;
pub use onepass::{stage, stage_with_workers, Staged};

/// zstd compression level of both frames. Changing it changes every bundle's
/// bytes, so it is part of the format (SPEC.md, "Compression").
pub const ZSTD_LEVEL: i32 = 3;
/// Read buffer for file contents.
const CHUNK: usize = 256 * 1024;

/// Where an entry's bytes come from.
#[derive(Debug, Clone)]
pub enum Content {
    Bytes(Vec<u8>),
    File(PathBuf),
}

/// One entry to archive.
#[derive(Debug, Clone)]
pub struct Source {
    /// Entry path inside the bundle.
    pub path: String,
    pub content: Content,
}

/// A bundle whose manifest is known and whose bytes can now be written.
#[derive(Debug)]
pub struct Planned {
    pub manifest: Manifest,
    pub manifest_bytes: Vec<u8>,
    pub id: BundleId,
    sources: Vec<Source>,
}

/// Hashes every source and builds the manifest. Sources may come in any
/// order; they are sorted by path bytes.
pub fn plan(meta: RunMeta, mut sources: Vec<Source>) -> Result<Planned, PackError> {
    check_meta(&meta)?;
    sources.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    check_paths(&sources)?;
    let mut files = Vec::with_capacity(sources.len());
    for source in &sources {
        let (size, sha256) = hash(&source.content)?;
        files.push(FileEntry {
            path: source.path.clone(),
            size,
            sha256,
        });
    }
    let manifest = Manifest::new(meta, files);
    let manifest_bytes = manifest.to_bytes();
    crate::limits::check_manifest(manifest_bytes.len(), &manifest.files)?;
    let id = BundleId::of_manifest(&manifest_bytes);
    Ok(Planned {
        manifest,
        manifest_bytes,
        id,
        sources,
    })
}

pub(crate) fn check_paths(sources: &[Source]) -> Result<(), PackError> {
    let mut folded = std::collections::BTreeMap::new();
    for source in sources {
        path::check(source.path.as_bytes()).map_err(|fault| PackError::Path {
            path: source.path.clone(),
            fault,
        })?;
        if source.path == MANIFEST_PATH {
            return Err(PackError::Reserved {
                path: source.path.clone(),
            });
        }
        if let Some(other) = folded.insert(path::fold(&source.path), source.path.clone()) {
            return Err(PackError::CaseDuplicate {
                path: source.path.clone(),
                other,
            });
        }
    }
    Ok(())
}

fn open(content: &Content) -> Result<Box<dyn Read + '_>, PackError> {
    Ok(match content {
        Content::Bytes(bytes) => Box::new(&bytes[..]),
        Content::File(path) => Box::new(File::open(path).map_err(PackError::io(path))?),
    })
}

pub(crate) fn content_name(content: &Content) -> PathBuf {
    match content {
        Content::Bytes(_) => PathBuf::from("<memory>"),
        Content::File(path) => path.clone(),
    }
}

fn hash(content: &Content) -> Result<(u64, String), PackError> {
    let mut reader = open(content)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut size = 0u64;
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(PackError::io(content_name(content)))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// A zstd encoder with the format's settings (SPEC.md §2).
pub(crate) fn encoder<W: Write>(
    out: W,
    workers: u32,
) -> io::Result<zstd::stream::write::Encoder<'static, W>> {
    let mut enc = zstd::stream::write::Encoder::new(out, ZSTD_LEVEL)?;
    enc.include_checksum(true)?;
    enc.include_contentsize(false)?;
    enc.include_dictid(false)?;
    // zstd's multithreaded mode: its output does not depend on the number of
    // workers (any n >= 1), so one worker is the reference writer.
    enc.multithread(workers.max(1))?;
    Ok(enc)
}

/// Refuses a run description that would make a manifest readers refuse
/// (SPEC.md §4: `created` in RFC 3339 UTC, host, suite and label sizes).
pub(crate) fn check_meta(meta: &RunMeta) -> Result<(), PackError> {
    Manifest::new(meta.clone(), Vec::new())
        .validate()
        .map_err(PackError::Description)
}

/// Writes the tar record of `manifest.json` (header, data, padding) to `out`.
pub(crate) fn manifest_record(out: &mut impl Write, manifest_bytes: &[u8]) -> io::Result<()> {
    let len = manifest_bytes.len() as u64;
    // A manifest is at most a few MiB; its path is a constant.
    let header = ustar::header(MANIFEST_PATH, len).map_err(io::Error::other)?;
    out.write_all(&header)?;
    out.write_all(manifest_bytes)?;
    out.write_all(&[0u8; ustar::BLOCK][..ustar::padding(len)])
}

impl Planned {
    /// Writes the bundle: frame 1 holds the manifest entry, frame 2 every
    /// other entry and the end-of-archive blocks. Returns the bytes written.
    pub fn write<W: Write>(&self, out: W) -> Result<W, PackError> {
        let sink = PathBuf::from("<output>");
        let io_err = |e: io::Error| PackError::Io {
            path: sink.clone(),
            error: e,
        };
        let mut enc = encoder(out, 1).map_err(io_err)?;
        manifest_record(&mut enc, &self.manifest_bytes).map_err(io_err)?;
        let out = enc.finish().map_err(io_err)?;

        let mut enc = encoder(out, 1).map_err(io_err)?;
        let mut buf = vec![0u8; CHUNK];
        for (source, entry) in self.sources.iter().zip(&self.manifest.files) {
            let header =
                ustar::header(&entry.path, entry.size).map_err(|fault| PackError::Header {
                    path: entry.path.clone(),
                    fault,
                })?;
            enc.write_all(&header).map_err(io_err)?;
            let mut reader = open(&source.content)?;
            let mut hasher = Sha256::new();
            let mut written = 0u64;
            loop {
                let n = reader
                    .read(&mut buf)
                    .map_err(PackError::io(content_name(&source.content)))?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                written += n as u64;
                if written > entry.size {
                    break;
                }
                enc.write_all(&buf[..n]).map_err(io_err)?;
            }
            if written != entry.size || hex::encode(hasher.finalize()) != entry.sha256 {
                return Err(PackError::Changed {
                    path: content_name(&source.content),
                    error: io::Error::other("content differs from the first read"),
                });
            }
            enc.write_all(&[0u8; ustar::BLOCK][..ustar::padding(entry.size)])
                .map_err(io_err)?;
        }
        enc.write_all(&[0u8; 2 * ustar::BLOCK]).map_err(io_err)?;
        enc.finish().map_err(io_err)
    }

    /// Writes the bundle to `dest` durably: a temporary file in the same
    /// folder, fsynced, renamed over `dest`, then the folder fsynced.
    pub fn write_file(&self, dest: &Path) -> Result<u64, PackError> {
        replace_durably(dest, |file| {
            let writer = self.write(BufWriter::with_capacity(CHUNK, file))?;
            writer.into_inner().map_err(|e| PackError::Io {
                path: dest.to_path_buf(),
                error: e.into_error(),
            })
        })
    }
}

/// The folder `dest` lands in.
pub(crate) fn parent_dir(dest: &Path) -> PathBuf {
    match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A hidden name in `dir` for a temporary file on the way to `name`.
pub(crate) fn temp_path(dir: &Path, name: &str, what: &str) -> PathBuf {
    dir.join(format!(".{name}.{what}-{}", std::process::id()))
}

/// Lets `fill` write a temporary file beside `dest`, then fsyncs it, renames
/// it over `dest` and fsyncs the folder. Returns the file's size. The
/// temporary file is removed on failure.
pub(crate) fn replace_durably(
    dest: &Path,
    fill: impl FnOnce(File) -> Result<File, PackError>,
) -> Result<u64, PackError> {
    let dir = parent_dir(dest);
    let name = dest
        .file_name()
        .map_or_else(|| "bundle".to_owned(), |n| n.to_string_lossy().into_owned());
    let tmp = temp_path(&dir, &name, "tmp");
    let result = (|| {
        let file = File::create(&tmp).map_err(PackError::io(&tmp))?;
        let file = fill(file)?;
        file.sync_all().map_err(PackError::io(&tmp))?;
        let len = file.metadata().map_err(PackError::io(&tmp))?.len();
        std::fs::rename(&tmp, dest).map_err(PackError::io(dest))?;
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(PackError::io(&dir))?;
        Ok(len)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
