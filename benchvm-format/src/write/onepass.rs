//! The one-pass writer: every file is read once, hashed and compressed in the
//! same pass, in memory bounded whatever the files' sizes.
//!
//! The two-frame layout (SPEC.md §2) is what makes one pass possible: frame 2
//! (every entry but the manifest) does not depend on the manifest, so it is
//! compressed first, into an unlinked temporary file, while the hashes are
//! computed. Once the last file is read, the manifest is known, and the
//! bundle is assembled under a temporary name beside the destination while
//! zstd's workers still compress the last jobs: frame 1, then frame 2 so far
//! (`copy_file_range` on Linux, through `std::io::copy`), then the rest of
//! frame 2 straight from the encoder. A helper thread starts writing it to
//! disk meanwhile, so the final fsync has little left to do.
//!
//! Cores: zstd's worker threads compress while the calling thread reads,
//! hashes and hands them the bytes. libzstd's multithreaded output does not
//! depend on the number of workers, so the bytes are those of the reference
//! writer ([`super::Planned::write`], one worker).
//!
//! Memory: one read buffer of [`CHUNK`] bytes, and zstd's buffers: per
//! worker a job of 4 x 2^21 bytes at level 3 and its output, plus two jobs
//! of slack (`ZSTDMT_resize`), about 20 MiB a worker.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use sha2::{Digest, Sha256};

use super::{
    check_paths, encoder, manifest_record, parent_dir, replace_durably, temp_path, Content, Source,
};
use crate::error::PackError;
use crate::manifest::{BundleId, FileEntry, Manifest, RunMeta};
use crate::ustar;

/// Read buffer for file contents: small enough that what is read is still
/// in the L2 cache when it is hashed and handed to zstd.
const CHUNK: usize = 256 * 1024;

/// Frame 2 is copied into the bundle in pieces of this size, each flushed to
/// disk by a helper thread while the next is copied.
const SYNC_PIECE: u64 = 16 << 20;

/// Distinguishes the temporary files of packs running at once in one process.
static STAGED: AtomicU64 = AtomicU64::new(0);

/// A bundle written in full under a temporary name, not yet durable: all
/// that is left is to name it (the name may depend on the id, see
/// [`crate::manifest::file_name`]) with [`Staged::write_file`]. Dropped
/// instead, it removes its temporary file.
#[derive(Debug)]
pub struct Staged {
    pub manifest: Manifest,
    pub manifest_bytes: Vec<u8>,
    pub id: BundleId,
    file: File,
    /// The temporary name, in `dir`.
    tmp: PathBuf,
    dir: PathBuf,
    /// Whether `tmp` was renamed to its destination.
    renamed: bool,
}

/// Packs `sources` in one pass into a temporary file of `dir`, with one zstd
/// worker per core and one more (it keeps both cores busy while a worker
/// waits for its next job: about 3% faster on 2 cores). Pass the
/// destination's folder as `dir`: [`Staged::write_file`] then only renames.
pub fn stage(meta: RunMeta, sources: Vec<Source>, dir: &Path) -> Result<Staged, PackError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    stage_with_workers(meta, sources, dir, u32::try_from(cores + 1).unwrap_or(2))
}

/// [`stage`] with a given number of zstd workers (at least one). The bytes
/// do not depend on it.
pub fn stage_with_workers(
    meta: RunMeta,
    mut sources: Vec<Source>,
    dir: &Path,
    workers: u32,
) -> Result<Staged, PackError> {
    super::check_meta(&meta)?;
    sources.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    check_paths(&sources)?;

    let serial = STAGED.fetch_add(1, Ordering::Relaxed);
    let frame2_path = temp_path(dir, "bundle", &format!("frame2-{serial}"));
    let frame2 = create_new(&frame2_path)?;
    // Unlinked at once: nothing is left behind whatever happens, and pages
    // freed before writeback never reach the disk.
    fs::remove_file(&frame2_path).map_err(PackError::io(&frame2_path))?;

    let mut enc = encoder(frame2, workers).map_err(PackError::io(&frame2_path))?;
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
    drop(buf);

    let manifest = Manifest::new(meta, files);
    let manifest_bytes = manifest.to_bytes();
    crate::limits::check_manifest(manifest_bytes.len(), &manifest.files)?;
    let id = BundleId::of_manifest(&manifest_bytes);
    let tmp = temp_path(dir, "bundle", &format!("tmp-{serial}"));
    let file = create_new(&tmp)?;
    // From here on, `staged` removes the temporary file if anything fails.
    let staged = Staged {
        manifest,
        manifest_bytes,
        id,
        file,
        tmp: tmp.clone(),
        dir: dir.to_path_buf(),
        renamed: false,
    };
    let io_tmp = PackError::io(&tmp);
    let mut frame1 = encoder(&staged.file, 1).map_err(PackError::io(&tmp))?;
    manifest_record(&mut frame1, &staged.manifest_bytes).map_err(PackError::io(&tmp))?;
    frame1.finish().map_err(PackError::io(&tmp))?;

    // Frame 2 so far, then the rest of it straight into the bundle. What the
    // encoder holds but has not written yet goes after what it has written.
    // A helper thread writes the bundle to disk as it grows.
    let (grew, growing) = mpsc::channel::<()>();
    let syncing = staged.file.try_clone().map_err(PackError::io(&tmp))?;
    let syncer = std::thread::spawn(move || -> io::Result<()> {
        while growing.recv().is_ok() {
            while growing.try_recv().is_ok() {}
            syncing.sync_data()?;
        }
        Ok(())
    });
    let written = enc.get_mut();
    written
        .seek(SeekFrom::Start(0))
        .map_err(PackError::io(&frame2_path))?;
    loop {
        let piece = io::copy(&mut written.take(SYNC_PIECE), &mut &staged.file)
            .map_err(PackError::io(&tmp))?;
        if piece == 0 {
            break;
        }
        let _ = grew.send(());
    }
    let bundle = staged.file.try_clone().map_err(PackError::io(&tmp))?;
    drop(std::mem::replace(enc.get_mut(), bundle));
    let finished = enc.finish().map(drop);
    drop(grew);
    let synced = syncer
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    finished.and(synced).map_err(io_tmp)?;
    Ok(staged)
}

impl Staged {
    /// Makes the bundle durable as `dest`: fsyncs it, renames it over `dest`
    /// and fsyncs the folder. A `dest` outside the folder given to [`stage`]
    /// gets a durable copy instead. Returns the bundle's size in bytes.
    pub fn write_file(mut self, dest: &Path) -> Result<u64, PackError> {
        let tmp = self.tmp.clone();
        self.file.sync_all().map_err(PackError::io(&tmp))?;
        let len = self.file.metadata().map_err(PackError::io(&tmp))?.len();
        // What a reader will decode: every record, padded, and the end marker.
        let record = |size: u64| ustar::BLOCK as u64 + size + ustar::padding(size) as u64;
        let content = self
            .manifest
            .files
            .iter()
            .map(|f| record(f.size))
            .sum::<u64>()
            + record(self.manifest_bytes.len() as u64)
            + 2 * ustar::BLOCK as u64;
        crate::limits::check_decoded(content, len)?;
        if parent_dir(dest) != self.dir {
            return replace_durably(dest, |mut out| {
                self.file
                    .seek(SeekFrom::Start(0))
                    .map_err(PackError::io(&tmp))?;
                io::copy(&mut self.file, &mut out).map_err(PackError::io(dest))?;
                Ok(out)
            });
        }
        fs::rename(&tmp, dest).map_err(PackError::io(dest))?;
        self.renamed = true;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(PackError::io(&self.dir))?;
        Ok(len)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.renamed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

fn create_new(path: &Path) -> Result<File, PackError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(PackError::io(path))
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
            AppendError::Output(error) => PackError::Io {
                path: frame2.to_path_buf(),
                error,
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
        error: io::Error::other(what.to_owned()),
    })
}
