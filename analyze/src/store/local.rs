//! The local catalog: every bundle analyze has verified, by id, with its
//! metrics rows and lineage as Parquet, under the user's cache folder
//! (`$BENCHVM_CACHE`, else `$XDG_CACHE_HOME/benchvm`, else
//! `~/.cache/benchvm`, in `analyze/v1/`). A report over a store reads
//! the rows of the bundles it has seen from here, and fetches, verifies
//! and decodes only the others, so its cost grows with what is new.
//!
//! An entry is trusted for its exact bundle id alone: the id is the sha256
//! of the manifest, which holds every file's sha256, so a changed bundle
//! has another id and is verified afresh.
//!
//! Layout: `segments/<name>.parquet` holds the rows of a set of bundles
//! (each bundle's rows together, in the order of `<name>.json`), and
//! `segments/<name>.json` lists those bundles (facts, environment summary,
//! where their rows are) with the Parquet file's size and sha256, checked
//! before it is read: a damaged segment is removed and its bundles are
//! verified again. Each report adds one segment for its new bundles; past
//! [`MAX_SEGMENTS`], all but the largest are merged into one. Files are
//! written to a temporary name, fsynced and renamed, the `.json` last; an
//! exclusive lock (`.lock`) keeps two analyze processes from writing at
//! once.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use benchvm_format::EnvSummary;
use nix::fcntl::{Flock, FlockArg};
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Version of this layout; a new one starts an empty catalog beside.
pub const VERSION: &str = "v1";
/// Segments past which the small ones are merged.
pub const MAX_SEGMENTS: usize = 8;

/// Why the local catalog could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Parquet { path: PathBuf, source: PolarsError },
    #[error("{}: locking: {source}", path.display())]
    Lock { path: PathBuf, source: nix::Error },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CacheError + '_ {
    move |source| CacheError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What the catalog keeps of one verified bundle beside its rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub label: String,
    pub host: String,
    pub suite: String,
    pub created: String,
    pub platforms: Vec<String>,
    pub summary: EnvSummary,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Placed {
    #[serde(flatten)]
    record: RecordRef,
    offset: usize,
    rows: usize,
}

/// A record whose summary is an index into the segment's summaries (hosts
/// repeat, summaries with them).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RecordRef {
    id: String,
    label: String,
    host: String,
    suite: String,
    created: String,
    platforms: Vec<String>,
    summary: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SegmentMeta {
    parquet_size: u64,
    parquet_sha256: String,
    summaries: Vec<EnvSummary>,
    bundles: Vec<Placed>,
}

#[derive(Debug)]
struct Segment {
    name: String,
    meta: SegmentMeta,
}

impl Segment {
    fn rows(&self) -> usize {
        self.meta.bundles.iter().map(|b| b.rows).sum()
    }

    fn record(&self, i: usize) -> Record {
        let r = &self.meta.bundles[i].record;
        Record {
            id: r.id.clone(),
            label: r.label.clone(),
            host: r.host.clone(),
            suite: r.suite.clone(),
            created: r.created.clone(),
            platforms: r.platforms.clone(),
            summary: self
                .meta
                .summaries
                .get(r.summary)
                .cloned()
                .unwrap_or_default(),
        }
    }
}

/// The open catalog; holds the lock until dropped.
#[derive(Debug)]
pub struct LocalCatalog {
    dir: PathBuf,
    segments: Vec<Segment>,
    _lock: Flock<File>,
}

/// A bundle found in the catalog: its facts and its rows.
#[derive(Debug, Clone)]
pub struct Hit {
    pub record: Record,
    pub frame: DataFrame,
}

impl LocalCatalog {
    /// Opens (making it when needed) the catalog under `cache`, waiting
    /// for another analyze process that writes it.
    pub fn open(cache: &Path) -> Result<Self, CacheError> {
        let dir = cache.join("analyze").join(VERSION);
        let segments_dir = dir.join("segments");
        fs::create_dir_all(&segments_dir).map_err(io(&segments_dir))?;
        let lock_path = dir.join(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        let lock =
            Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, source)| CacheError::Lock {
                path: lock_path.clone(),
                source,
            })?;
        let mut segments = Vec::new();
        for entry in fs::read_dir(&segments_dir).map_err(io(&segments_dir))? {
            let path = entry.map_err(io(&segments_dir))?.path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
                .filter(|n| !n.starts_with('.'))
            else {
                continue;
            };
            let meta = fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice::<SegmentMeta>(&b).ok());
            match meta {
                Some(meta) => segments.push(Segment {
                    name: name.to_owned(),
                    meta,
                }),
                None => {
                    log::warn!("local catalog: {} is damaged; removed", path.display());
                    remove_segment(&segments_dir, name);
                }
            }
        }
        segments.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(LocalCatalog {
            dir,
            segments,
            _lock: lock,
        })
    }

    fn segments_dir(&self) -> PathBuf {
        self.dir.join("segments")
    }

    /// Bundles the catalog holds.
    pub fn len(&self) -> usize {
        self.segments.iter().map(|s| s.meta.bundles.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bundles of `ids` the catalog holds, with their rows. A segment
    /// that fails its size or hash check is removed, and its bundles are
    /// left out (the caller verifies them again).
    pub fn get(&mut self, ids: &[String]) -> HashMap<String, Hit> {
        let mut wanted: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
        let index: HashMap<&str, (usize, usize)> = self
            .segments
            .iter()
            .enumerate()
            .flat_map(|(s, seg)| {
                seg.meta
                    .bundles
                    .iter()
                    .enumerate()
                    .map(move |(i, b)| (b.record.id.as_str(), (s, i)))
            })
            .collect();
        for id in ids {
            if let Some(&(s, i)) = index.get(id.as_str()) {
                if seen.insert(id.as_str()) {
                    wanted.entry(s).or_default().push(i);
                }
            }
        }
        let mut hits = HashMap::new();
        let mut damaged = Vec::new();
        for (s, items) in wanted {
            let seg = &self.segments[s];
            match self.read_parquet(seg) {
                Ok(frame) => {
                    for i in items {
                        let placed = &seg.meta.bundles[i];
                        hits.insert(
                            placed.record.id.clone(),
                            Hit {
                                record: seg.record(i),
                                frame: frame.slice(placed.offset as i64, placed.rows),
                            },
                        );
                    }
                }
                Err(reason) => {
                    log::warn!(
                        "local catalog: segment {} {reason}; removed, its bundles are verified again",
                        seg.name
                    );
                    damaged.push(s);
                }
            }
        }
        for s in damaged.into_iter().rev() {
            let seg = self.segments.remove(s);
            remove_segment(&self.segments_dir(), &seg.name);
        }
        hits
    }

    fn read_parquet(&self, seg: &Segment) -> Result<DataFrame, String> {
        let path = self.segments_dir().join(format!("{}.parquet", seg.name));
        let bytes = fs::read(&path).map_err(|e| format!("cannot be read: {e}"))?;
        if bytes.len() as u64 != seg.meta.parquet_size
            || hex::encode(Sha256::digest(&bytes)) != seg.meta.parquet_sha256
        {
            return Err("does not match its size and sha256".into());
        }
        let frame = ParquetReader::new(Cursor::new(bytes))
            .finish()
            .map_err(|e| format!("cannot be decoded: {e}"))?;
        if frame.schema().as_ref() != &crate::frame::combined_schema()
            || frame.height() != seg.rows()
        {
            return Err("has other columns or rows than its list says".into());
        }
        Ok(frame)
    }

    /// Adds bundles (each with its rows, in the combined schema) as one new
    /// segment, then merges segments when there are too many.
    pub fn add(&mut self, bundles: Vec<Hit>) -> Result<(), CacheError> {
        if bundles.is_empty() {
            return Ok(());
        }
        let segment = self.write_segment(bundles)?;
        self.segments.push(segment);
        if self.segments.len() > MAX_SEGMENTS {
            self.merge()?;
        }
        Ok(())
    }

    fn write_segment(&self, bundles: Vec<Hit>) -> Result<Segment, CacheError> {
        let mut summaries: Vec<EnvSummary> = Vec::new();
        let mut placed = Vec::with_capacity(bundles.len());
        let mut frames = Vec::with_capacity(bundles.len());
        let mut offset = 0;
        for hit in bundles {
            let r = hit.record;
            let summary = match summaries.iter().position(|s| *s == r.summary) {
                Some(i) => i,
                None => {
                    summaries.push(r.summary);
                    summaries.len() - 1
                }
            };
            let rows = hit.frame.height();
            placed.push(Placed {
                record: RecordRef {
                    id: r.id,
                    label: r.label,
                    host: r.host,
                    suite: r.suite,
                    created: r.created,
                    platforms: r.platforms,
                    summary,
                },
                offset,
                rows,
            });
            offset += rows;
            frames.push(hit.frame);
        }
        let mut frame = concat(&frames).map_err(|source| CacheError::Parquet {
            path: self.segments_dir(),
            source,
        })?;
        let mut parquet = Vec::new();
        ParquetWriter::new(&mut parquet)
            .with_compression(ParquetCompression::Lz4Raw)
            .finish(&mut frame)
            .map_err(|source| CacheError::Parquet {
                path: self.segments_dir(),
                source,
            })?;
        let hash = hex::encode(Sha256::digest(&parquet));
        let name = format!("{:020}-{}", now_nanos(), &hash[..16]);
        let meta = SegmentMeta {
            parquet_size: parquet.len() as u64,
            parquet_sha256: hash,
            summaries,
            bundles: placed,
        };
        let dir = self.segments_dir();
        durable_write(&dir, &format!("{name}.parquet"), &parquet)?;
        let json = serde_json::to_vec(&meta).unwrap_or_default();
        durable_write(&dir, &format!("{name}.json"), &json)?;
        Ok(Segment { name, meta })
    }

    /// Merges every segment but the largest into one.
    fn merge(&mut self) -> Result<(), CacheError> {
        let largest = (0..self.segments.len())
            .max_by_key(|&i| self.segments[i].rows())
            .unwrap_or(0);
        let largest = self.segments.remove(largest);
        let old = std::mem::take(&mut self.segments);
        let mut bundles = Vec::new();
        for seg in &old {
            // A damaged one is dropped: its bundles are verified again.
            if let Ok(frame) = self.read_parquet(seg) {
                for (i, p) in seg.meta.bundles.iter().enumerate() {
                    bundles.push(Hit {
                        record: seg.record(i),
                        frame: frame.slice(p.offset as i64, p.rows),
                    });
                }
            }
        }
        let merged = self.write_segment(bundles);
        self.segments.push(largest);
        let merged = merged?;
        for seg in &old {
            remove_segment(&self.segments_dir(), &seg.name);
        }
        self.segments.push(merged);
        Ok(())
    }
}

/// The frames one after the other, in one chunk.
pub fn concat(frames: &[DataFrame]) -> PolarsResult<DataFrame> {
    let mut iter = frames.iter();
    let Some(first) = iter.next() else {
        return crate::columns::assemble(&[]);
    };
    let mut out = first.clone();
    for f in iter {
        out.vstack_mut(f)?;
    }
    out.rechunk_mut();
    Ok(out)
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// Writes `name` in `dir`: a temporary file, fsynced, renamed, and the
/// folder fsynced.
fn durable_write(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), CacheError> {
    let temp = dir.join(format!(".{name}.{}", std::process::id()));
    let path = dir.join(name);
    let mut f = File::create(&temp).map_err(io(&temp))?;
    f.write_all(bytes).map_err(io(&temp))?;
    f.sync_all().map_err(io(&temp))?;
    fs::rename(&temp, &path).map_err(io(&path))?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

fn remove_segment(dir: &Path, name: &str) {
    // The list first: a segment without it is never read.
    let _ = fs::remove_file(dir.join(format!("{name}.json")));
    let _ = fs::remove_file(dir.join(format!("{name}.parquet")));
}
