//! The reader: every bundle is hostile until proven sound (SPEC.md,
//! "Reading a bundle"). It streams the archive once, never writes to disk,
//! and keeps in memory only the entries the caller asks for.
//!
//! Two threads share the work of frame 2 (the bulk): the calling thread
//! decompresses, another parses the tar records and hashes them, so
//! verifying takes about as long as decompressing alone. They exchange
//! decoded bytes in a few chunks of [`frame::CHUNK`] bytes (see
//! [`frame::pump`]); the checks run in stream order, as on one thread, so a
//! bundle with several faults is refused for the first one.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;
use std::sync::mpsc;

use sha2::{Digest, Sha256};

use crate::error::{BundleError, HeaderFault};
use crate::frame::{self, check_header, ChunkReader, LimitExceeded, Limited, PeekReader};
use crate::manifest::{BundleId, FileEntry, Manifest, MANIFEST_PATH};
use crate::metrics::{self, MetricRow, METRICS_PATH};
use crate::{path, ustar};

/// Caps that bound what a hostile bundle can make the reader do.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest `manifest.json` (bytes).
    pub max_manifest: u64,
    /// Most entries, the manifest included.
    pub max_entries: usize,
    /// Most decoded bytes; `None` means max(512 MiB, 20 x the compressed
    /// size), the rule cargo applies to `.crate` files.
    pub max_decoded: Option<u64>,
    /// Largest zstd window, as a power of two.
    pub window_log_max: u32,
    /// Most bytes of kept entries held in memory at once.
    pub max_kept: u64,
}

impl Default for Limits {
    fn default() -> Self {
        // The limits table every writer checks too (SPEC.md §9.2).
        use crate::limits;
        Limits {
            max_manifest: limits::MAX_MANIFEST_BYTES,
            max_entries: limits::MAX_ENTRIES,
            max_decoded: None,
            window_log_max: limits::WINDOW_LOG_MAX,
            max_kept: limits::MAX_KEPT_BYTES,
        }
    }
}

impl Limits {
    fn decoded_cap(&self, compressed: u64) -> u64 {
        self.max_decoded
            .unwrap_or_else(|| crate::limits::decoded_cap(compressed))
    }
}

/// A bundle that passed every check.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub id: BundleId,
    pub manifest: Manifest,
    pub manifest_bytes: Vec<u8>,
    pub compressed_size: u64,
    /// The entries the caller asked to keep, by path.
    pub kept: BTreeMap<String, Vec<u8>>,
    /// The rows of `metrics.ndjson`, parsed and validated while verifying
    /// (§9.8), so a caller need not parse them again; empty when the bundle
    /// has no metrics table.
    pub metrics: Vec<MetricRow>,
}

impl Bundle {
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        self.kept.get(path).map(Vec::as_slice)
    }
}

/// Opens and fully verifies the bundle at `path`.
pub fn open(
    path: &Path,
    limits: &Limits,
    keep: &dyn Fn(&FileEntry) -> bool,
) -> Result<Bundle, BundleError> {
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    read(file, size, limits, keep)
}

/// Verifies a bundle read from `input`, `compressed_size` bytes long.
pub fn read<R: Read>(
    input: R,
    compressed_size: u64,
    limits: &Limits,
    keep: &dyn Fn(&FileEntry) -> bool,
) -> Result<Bundle, BundleError> {
    let mut input = PeekReader::new(input, 256 * 1024);

    check_header(&mut input, 1, limits.window_log_max)?;
    let (manifest_bytes, manifest) = {
        let decoder = decoder(&mut input, 1, limits.window_log_max)?;
        let mut frame = Limited {
            inner: decoder,
            read: 0,
            // Header, data, padding, and the one block read to check that
            // nothing follows: at most 3 blocks beside the data.
            limit: limits.max_manifest + 3 * ustar::BLOCK as u64,
        };
        read_manifest(&mut frame, limits).map_err(|e| frame_error(e, 1))?
    };
    let id = BundleId::of_manifest(&manifest_bytes);
    if manifest.files.len() >= limits.max_entries {
        return Err(BundleError::TooManyEntries {
            cap: limits.max_entries,
        });
    }
    let declared = declared_size(&manifest.files);
    let cap = limits.decoded_cap(compressed_size);
    if declared.saturating_add(manifest_bytes.len() as u64) > cap {
        return Err(BundleError::DeclaredTooLarge { declared, cap });
    }

    check_header(&mut input, 2, limits.window_log_max)?;
    // Asked here, on this thread: `keep` need not be shareable.
    let keep: Vec<bool> = manifest.files.iter().map(keep).collect();
    let (kept, metrics) = {
        let decoder = decoder(&mut input, 2, limits.window_log_max)?;
        // One block of slack: the check for data after the end-of-archive
        // blocks reads one block, and must report it as TrailingData.
        let limit = declared.saturating_add(ustar::BLOCK as u64);
        let (full_tx, full_rx) = mpsc::sync_channel(frame::PIPELINE_DEPTH);
        let (empty_tx, empty_rx) = mpsc::channel();
        let files = &manifest.files;
        let checked = std::thread::scope(|scope| {
            let checker = scope.spawn(move || {
                let mut frame = ChunkReader::new(full_rx, empty_tx);
                read_entries(&mut frame, files, limits, &keep)
            });
            frame::pump(decoder, limit, &full_tx, &empty_rx);
            // Hangs up, so the checker sees the end of the frame.
            drop(full_tx);
            checker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        checked.map_err(|e| frame_error(e, 2))?
    };
    crate::table::check(&metrics, &manifest.platforms)?;
    let trailing = input.remaining(1 << 20)?;
    if trailing > 0 {
        return Err(BundleError::TrailingFrames { count: trailing });
    }
    Ok(Bundle {
        id,
        manifest,
        manifest_bytes,
        compressed_size,
        kept,
        metrics,
    })
}

fn decoder<'a, R: Read>(
    input: &'a mut PeekReader<R>,
    frame: u8,
    window_log_max: u32,
) -> Result<impl Read + 'a, BundleError> {
    let fail = |e: io::Error| BundleError::Frame {
        frame,
        reason: e.to_string(),
    };
    let mut decoder = zstd::stream::read::Decoder::with_buffer(input)
        .map_err(fail)?
        .single_frame();
    decoder.window_log_max(window_log_max).map_err(fail)?;
    Ok(decoder)
}

/// Turns I/O errors raised inside a frame into the error they stand for.
fn frame_error(err: BundleError, frame: u8) -> BundleError {
    match err {
        BundleError::Io(e) => {
            if let Some(LimitExceeded(limit)) = e.get_ref().and_then(|i| i.downcast_ref()) {
                return BundleError::DecodedTooLarge { limit: *limit };
            }
            if e.kind() == io::ErrorKind::UnexpectedEof {
                return BundleError::Truncated {
                    what: format!("zstd frame {frame} ends early"),
                };
            }
            BundleError::Frame {
                frame,
                reason: e.to_string(),
            }
        }
        other => other,
    }
}

/// Decoded bytes of frame 2 when it holds exactly the manifest's files.
fn declared_size(files: &[FileEntry]) -> u64 {
    let block = ustar::BLOCK as u64;
    files
        .iter()
        .map(|f| block.saturating_add(f.size.div_ceil(block).saturating_mul(block)))
        .fold(2 * block, u64::saturating_add)
}

/// Reads one block; `Ok(false)` at a clean end of input.
fn read_block(frame: &mut impl Read, block: &mut [u8; ustar::BLOCK]) -> Result<bool, BundleError> {
    let mut filled = 0;
    while filled < block.len() {
        let n = frame.read(&mut block[filled..])?;
        if n == 0 {
            if filled == 0 {
                return Ok(false);
            }
            return Err(BundleError::Truncated {
                what: "a header block is cut short".into(),
            });
        }
        filled += n;
    }
    Ok(true)
}

fn header(block: &[u8; ustar::BLOCK], index: usize) -> Result<Option<(String, u64)>, BundleError> {
    // A refused header still names the entry: its position and the path its
    // name fields spell, escaped (they are untrusted bytes).
    let entry = || {
        let raw = ustar::path_of(block);
        format!("#{index} {:?}", String::from_utf8_lossy(&raw))
    };
    let Some(parsed) = ustar::parse(block).map_err(|fault| BundleError::Header {
        entry: entry(),
        fault,
    })?
    else {
        return Ok(None);
    };
    let shown = String::from_utf8_lossy(&parsed.path).into_owned();
    path::check(&parsed.path).map_err(|fault| BundleError::Path {
        entry: shown.clone(),
        fault,
    })?;
    // Only the canonical header of this path and size is accepted, so one
    // manifest (one bundle id) stands for exactly one byte sequence.
    let canonical = ustar::header(&shown, parsed.size).map_err(|fault| BundleError::Header {
        entry: entry(),
        fault,
    })?;
    if &canonical != block {
        return Err(BundleError::Header {
            entry: entry(),
            fault: HeaderFault::NotCanonical,
        });
    }
    Ok(Some((shown, parsed.size)))
}

fn read_manifest(
    frame: &mut impl Read,
    limits: &Limits,
) -> Result<(Vec<u8>, Manifest), BundleError> {
    let mut block = [0u8; ustar::BLOCK];
    if !read_block(frame, &mut block)? {
        return Err(BundleError::Truncated {
            what: "zstd frame 1 is empty".into(),
        });
    }
    let (entry, size) = header(&block, 0)?.ok_or_else(|| BundleError::Truncated {
        what: "archive holds no entry".into(),
    })?;
    if entry != MANIFEST_PATH {
        return Err(BundleError::ManifestNotFirst { entry });
    }
    if size > limits.max_manifest {
        return Err(BundleError::ManifestTooLarge {
            size,
            cap: limits.max_manifest,
        });
    }
    // Bounded by max_manifest just above.
    let mut bytes = vec![0u8; size as usize];
    read_exact(frame, &mut bytes, MANIFEST_PATH)?;
    read_padding(frame, size, MANIFEST_PATH)?;
    if frame.read(&mut block)? != 0 {
        return Err(BundleError::ManifestFrameNotAlone);
    }
    let manifest = Manifest::parse(&bytes)?;
    Ok((bytes, manifest))
}

fn read_exact(frame: &mut impl Read, buf: &mut [u8], entry: &str) -> Result<(), BundleError> {
    frame.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => BundleError::Truncated {
            what: format!("entry {entry} is cut short"),
        },
        _ => BundleError::Io(e),
    })
}

fn read_padding(frame: &mut impl Read, size: u64, entry: &str) -> Result<(), BundleError> {
    let mut pad = [0u8; ustar::BLOCK];
    let pad = &mut pad[..ustar::padding(size)];
    read_exact(frame, pad, entry)?;
    if pad.iter().any(|&b| b != 0) {
        return Err(BundleError::Content {
            entry: entry.into(),
            reason: "non-zero bytes in tar padding".into(),
        });
    }
    Ok(())
}

/// The next decoded bytes of `entry`'s data; errors as [`read_exact`] makes
/// them.
fn fill<'a>(frame: &'a mut impl BufRead, entry: &str) -> Result<&'a [u8], BundleError> {
    match frame.fill_buf() {
        Ok([]) => Err(BundleError::Truncated {
            what: format!("entry {entry} is cut short"),
        }),
        Ok(bytes) => Ok(bytes),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(BundleError::Truncated {
            what: format!("entry {entry} is cut short"),
        }),
        Err(e) => Err(BundleError::Io(e)),
    }
}

/// Checks frame 2: every record against `files` (the manifest's list), and
/// keeps the entries whose flag in `keep` (one per file) is set.
/// Entries kept in memory, by path.
type Kept = BTreeMap<String, Vec<u8>>;

fn read_entries(
    frame: &mut impl BufRead,
    files: &[FileEntry],
    limits: &Limits,
    keep: &[bool],
) -> Result<(Kept, Vec<MetricRow>), BundleError> {
    let mut kept = BTreeMap::new();
    let mut rows = Vec::new();
    let mut kept_bytes = 0u64;
    let mut seen = BTreeSet::new();
    let mut folded: BTreeMap<String, String> = BTreeMap::new();
    // Frame 2 is sorted on its own: `config/` and `env/` sort before
    // `manifest.json`, which is first only because it has a frame of its own.
    let mut previous = String::new();
    let mut cursor = 0;
    let mut block = [0u8; ustar::BLOCK];
    for index in 1.. {
        if !read_block(frame, &mut block)? {
            return Err(BundleError::Truncated {
                what: "archive ends before its end-of-archive blocks".into(),
            });
        }
        let Some((entry, size)) = header(&block, index)? else {
            if !read_block(frame, &mut block)? || block.iter().any(|&b| b != 0) {
                return Err(BundleError::Truncated {
                    what: "only one end-of-archive block".into(),
                });
            }
            if frame.read(&mut block)? != 0 {
                return Err(BundleError::TrailingData);
            }
            break;
        };
        if index >= limits.max_entries {
            return Err(BundleError::TooManyEntries {
                cap: limits.max_entries,
            });
        }
        if entry == MANIFEST_PATH || !seen.insert(entry.clone()) {
            return Err(BundleError::Duplicate { entry });
        }
        if let Some(other) = folded.insert(path::fold(&entry), entry.clone()) {
            return Err(BundleError::CaseDuplicate { entry, other });
        }
        if entry.as_bytes() < previous.as_bytes() {
            return Err(BundleError::OutOfOrder { entry, previous });
        }
        let expected = match files.get(cursor) {
            Some(f) if f.path == entry => f,
            Some(f) if f.path.as_bytes() < entry.as_bytes() => {
                return Err(BundleError::Missing {
                    entry: f.path.clone(),
                });
            }
            _ => return Err(BundleError::NotInManifest { entry }),
        };
        let keeping = keep[cursor];
        cursor += 1;
        if size != expected.size {
            return Err(BundleError::SizeMismatch {
                entry,
                expected: expected.size,
                actual: size,
            });
        }
        // The metrics table is validated whether or not the caller keeps it
        // (SPEC.md §9.8), so it is held in memory either way.
        let holding = keeping || entry == METRICS_PATH;
        if holding {
            if size > crate::limits::MAX_LOADED_BYTES {
                return Err(BundleError::Content {
                    entry,
                    reason: format!(
                        "{size} bytes, over the limit of {} for an entry loaded whole",
                        crate::limits::MAX_LOADED_BYTES
                    ),
                });
            }
            kept_bytes += size;
            if kept_bytes > limits.max_kept {
                return Err(BundleError::Content {
                    entry,
                    reason: format!("entries to load exceed {} bytes in memory", limits.max_kept),
                });
            }
        }
        let mut data = Vec::new();
        let mut hasher = Sha256::new();
        let mut left = size;
        // Hashed where the bytes were decoded: no copy.
        while left > 0 {
            let bytes = fill(frame, &entry)?;
            let n = bytes.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            hasher.update(&bytes[..n]);
            if holding {
                data.extend_from_slice(&bytes[..n]);
            }
            frame.consume(n);
            left -= n as u64;
        }
        read_padding(frame, size, &entry)?;
        let actual = hex::encode(hasher.finalize());
        if actual != expected.sha256 {
            return Err(BundleError::HashMismatch {
                entry,
                expected: expected.sha256.clone(),
                actual,
            });
        }
        if entry == METRICS_PATH {
            rows = metrics::parse(&data)?;
        }
        if keeping {
            kept.insert(entry.clone(), data);
        } else if holding {
            kept_bytes -= size;
        }
        previous = entry;
    }
    if let Some(missing) = files.get(cursor) {
        return Err(BundleError::Missing {
            entry: missing.path.clone(),
        });
    }
    Ok((kept, rows))
}
