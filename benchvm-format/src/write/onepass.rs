//! The one-pass writer: every file is read once, hashed and compressed in the
//! same pass, in memory bounded whatever the files' sizes.
//!
//! The two-frame layout (SPEC.md §2) is what makes one pass possible: frame 2
//! (every entry but the manifest) does not depend on the manifest, so it is
//! compressed first, into an unnamed temporary file beside the destination,
//! while the hashes are computed. Then the manifest is built from the hashes,
//! its frame is written to the destination, and frame 2's bytes are appended
//! (`copy_file_range` on Linux, through `std::io::copy`: no pass through user
//! space).
//!
//! Cores: zstd's worker threads compress while the calling thread reads,
//! hashes and hands them the bytes. libzstd's multithreaded output does not
//! depend on the number of workers, so the bytes are those of the reference
//! writer ([`super::Planned::write`], one worker).
//!
//! Memory: one read buffer of [`CHUNK`] bytes, and zstd's job buffers (a few
//! jobs of 4 x 2^21 bytes at level 3).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use super::{check_paths, encoder, manifest_record, replace_durably, temp_path, Content, Source};
use crate::error::PackError;
use crate::manifest::{BundleId, FileEntry, Manifest, RunMeta};
use crate::ustar;

/// Read buffer for file contents: large enough that reads and zstd calls
/// cost little per byte, small enough to stay in the L2 cache.
const CHUNK: usize = 1 << 20;

/// Distinguishes the temporary files of packs running at once in one process.
static STAGED: AtomicU64 = AtomicU64::new(0);

/// A bundle whose frame 2 is compressed and whose manifest is known: all that
/// is left is to write it to its destination (whose name may depend on the
/// id, see [`crate::manifest::file_name`]).
#[derive(Debug)]
pub struct Staged {
    pub manifest: Manifest,
    pub manifest_bytes: Vec<u8>,
    pub id: BundleId,
    /// Frame 2, compressed, in an unlinked file of the destination's folder.
    frame2: File,
    /// Where `frame2` was created, to name it in errors.
    frame2_path: PathBuf,
}

/// Packs `sources` in one pass, with one zstd worker per core. `dir` holds
/// frame 2 until [`Staged::write_file`]; choose the destination's folder, so
/// that appending it is a copy within one file system.
pub fn stage(meta: RunMeta, sources: Vec<Source>, dir: &Path) -> Result<Staged, PackError> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    stage_with_workers(meta, sources, dir, u32::try_from(workers).unwrap_or(1))
}

/// [`stage`] with a given number of zstd workers (at least one). The bytes
/// do not depend on it.
pub fn stage_with_workers(
    meta: RunMeta,
    mut sources: Vec<Source>,
    dir: &Path,
    workers: u32,
) -> Result<Staged, PackError> {
    sources.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    check_paths(&sources)?;

    let serial = STAGED.fetch_add(1, Ordering::Relaxed);
    let frame2_path = temp_path(dir, "bundle", &format!("frame2-{serial}"));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&frame2_path)
        .map_err(PackError::io(&frame2_path))?;
    // Unlinked at once: nothing is left behind whatever happens, and pages
    // freed before writeback never reach the disk.
    fs::remove_file(&frame2_path).map_err(PackError::io(&frame2_path))?;

    let mut enc = encoder(file, workers).map_err(PackError::io(&frame2_path))?;
    let mut buf = vec![0u8; CHUNK];
    let mut files = Vec::with_capacity(sources.len());
    for source in &sources {
        let (size, sha256) = match &source.content {
            Content::Bytes(bytes) => append_bytes(&source.path, bytes, &mut enc),
            Content::File(path) => append_file(&source.path, path, &mut enc, &mut buf),
        }
        .map_err(|e| e.or_output(&frame2_path))?;
        enc.write_all(&[0u8; ustar::BLOCK][..ustar::padding(size)])
            .map_err(PackError::io(&frame2_path))?;
        files.push(FileEntry {
            path: source.path.clone(),
            size,
            sha256,
        });
    }
    enc.write_all(&[0u8; 2 * ustar::BLOCK])
        .map_err(PackError::io(&frame2_path))?;
    let frame2 = enc.finish().map_err(PackError::io(&frame2_path))?;

    let manifest = Manifest::new(meta, files);
    let manifest_bytes = manifest.to_bytes();
    let id = BundleId::of_manifest(&manifest_bytes);
    Ok(Staged {
        manifest,
        manifest_bytes,
        id,
        frame2,
        frame2_path,
    })
}

impl Staged {
    /// Writes the bundle to `dest` durably: frame 1 then frame 2 into a
    /// temporary file beside it, fsynced, renamed over `dest`, then the
    /// folder fsynced. Returns the bundle's size in bytes.
    pub fn write_file(mut self, dest: &Path) -> Result<u64, PackError> {
        replace_durably(dest, |file| {
            let mut enc = encoder(file, 1).map_err(PackError::io(dest))?;
            manifest_record(&mut enc, &self.manifest_bytes).map_err(PackError::io(dest))?;
            let mut file = enc.finish().map_err(PackError::io(dest))?;
            self.frame2
                .seek(SeekFrom::Start(0))
                .map_err(PackError::io(&self.frame2_path))?;
            io::copy(&mut self.frame2, &mut file).map_err(PackError::io(dest))?;
            Ok(file)
        })
    }
}

/// Why appending one entry failed: reading its source, or writing frame 2.
enum AppendError {
    Source(PackError),
    Output(io::Error),
}

impl AppendError {
    fn or_output(self, frame2: &Path) -> PackError {
        match self {
            AppendError::Source(e) => e,
            AppendError::Output(source) => PackError::Io {
                path: frame2.to_path_buf(),
                source,
            },
        }
    }
}

fn header(entry: &str, size: u64) -> Result<[u8; ustar::BLOCK], AppendError> {
    ustar::header(entry, size).map_err(|fault| {
        AppendError::Source(PackError::Header {
            path: entry.to_owned(),
            fault,
        })
    })
}

fn append_bytes(
    entry: &str,
    bytes: &[u8],
    out: &mut impl Write,
) -> Result<(u64, String), AppendError> {
    let size = bytes.len() as u64;
    out.write_all(&header(entry, size)?)
        .map_err(AppendError::Output)?;
    out.write_all(bytes).map_err(AppendError::Output)?;
    Ok((size, hex::encode(Sha256::digest(bytes))))
}

/// Appends the record of the file at `path` (header and data, not the
/// padding) and returns its size and sha256. The header holds the size the
/// file has when opened; a file that then grows or shrinks is an error.
fn append_file(
    entry: &str,
    path: &Path,
    out: &mut impl Write,
    buf: &mut [u8],
) -> Result<(u64, String), AppendError> {
    let source = |e: io::Error| AppendError::Source(PackError::io(path)(e));
    let mut file = File::open(path).map_err(source)?;
    let meta = file.metadata().map_err(source)?;
    // Checked on the open file: a path swapped for a device or a folder
    // since the run folder was listed is refused here.
    if !meta.is_file() {
        return Err(AppendError::Source(PackError::NotRegular {
            path: path.to_path_buf(),
        }));
    }
    let size = meta.len();
    out.write_all(&header(entry, size)?)
        .map_err(AppendError::Output)?;
    let mut hasher = Sha256::new();
    let mut left = size;
    loop {
        let n = match file.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(source(e)),
        };
        let Some(rest) = left.checked_sub(n as u64) else {
            return Err(changed(path, "the file grew while it was read"));
        };
        left = rest;
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(AppendError::Output)?;
    }
    if left > 0 {
        return Err(changed(path, "the file shrank while it was read"));
    }
    Ok((size, hex::encode(hasher.finalize())))
}

fn changed(path: &Path, what: &str) -> AppendError {
    AppendError::Source(PackError::Changed {
        path: path.to_path_buf(),
        source: io::Error::other(what.to_owned()),
    })
}
