//! The run folder's journal (`.journal`): an append-only log of finished
//! runs, each record framed with its length and CRC-32 and fsynced, so a
//! collector killed at any point loses no finished run and `resume` can
//! tell a torn tail from a record.
//!
//! Record framing: `u32 LE payload length`, `u32 LE CRC-32 (IEEE) of the
//! payload`, payload (one JSON object).
//!
//! Replay reads every intact record. A record that is short or fails its
//! CRC is one of two things:
//! - a torn tail, when no intact record follows it: the collector stopped
//!   while appending; `resume` cuts it off (and says so);
//! - corruption, when intact records follow it (a flipped bit, a bad
//!   sector): the records before and after it stand, the corrupt one is
//!   reported by its position and byte range, and its run, which no record
//!   vouches for any more, is run again. `resume` rewrites the journal
//!   without it and keeps the old bytes in `.journal.corrupt`.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use benchvm_format::metrics::MetricRow;
use serde::{Deserialize, Serialize};

/// Name of the journal inside a run folder.
pub const JOURNAL: &str = ".journal";
/// Largest record accepted on replay.
const MAX_RECORD: u32 = 64 << 20;

/// One journal record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Record {
    /// First record: what the run was started with.
    Start {
        collect_version: String,
        /// sha256 of `config/suite.toml`.
        suite_sha256: String,
        /// Where the suite file was read from.
        suite_path: PathBuf,
        runs: usize,
    },
    /// A run whose folder is in place, with its metric rows.
    Run {
        folder: String,
        status: String,
        rows: Vec<MetricRow>,
    },
}

/// A record in the middle of the journal that fails its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrupt {
    /// Its position among the journal's records, 1-based (the start
    /// record is 1).
    pub position: usize,
    /// Where its bytes start, and how many there are up to the next
    /// intact record.
    pub offset: u64,
    pub bytes: u64,
    pub why: String,
}

impl std::fmt::Display for Corrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "journal record {} (bytes {}-{}) {}",
            self.position,
            self.offset,
            self.offset + self.bytes - 1,
            self.why
        )
    }
}

/// What replay found.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// Every intact record, in order.
    pub records: Vec<Record>,
    /// Bytes up to the end of the last intact record.
    pub valid_len: u64,
    /// Bytes after it (a torn tail), if any.
    pub torn_bytes: u64,
    /// Records in the middle that failed their checks, intact ones after
    /// them.
    pub corrupt: Vec<Corrupt>,
}

/// The record framed at `pos`, and where the next one starts; or why
/// there is none.
fn frame_at(bytes: &[u8], pos: usize) -> Result<(Record, usize), String> {
    let Some(header) = bytes.get(pos..pos + 8) else {
        return Err("is cut short in its header".into());
    };
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
    let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if len > MAX_RECORD {
        return Err(format!(
            "declares {len} bytes, over the cap of {MAX_RECORD}"
        ));
    }
    let end = pos + 8 + len as usize;
    let Some(payload) = bytes.get(pos + 8..end) else {
        return Err(format!(
            "declares {len} bytes, and the journal ends before them"
        ));
    };
    if crc32fast::hash(payload) != crc {
        return Err("fails its CRC-32".into());
    }
    let record = serde_json::from_slice::<Record>(payload)
        .map_err(|e| format!("passes its CRC-32 but is not a record ({e})"))?;
    Ok((record, end))
}

/// Reads every intact record of the journal at `path`.
pub fn replay(path: &Path) -> Result<Replay> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(replay_bytes(&bytes))
}

/// [`replay`] of journal bytes.
pub fn replay_bytes(bytes: &[u8]) -> Replay {
    let mut replay = Replay {
        records: Vec::new(),
        valid_len: 0,
        torn_bytes: 0,
        corrupt: Vec::new(),
    };
    let mut pos = 0usize;
    while pos < bytes.len() {
        match frame_at(bytes, pos) {
            Ok((record, next)) => {
                replay.records.push(record);
                pos = next;
                replay.valid_len = pos as u64;
            }
            Err(why) => {
                // Corruption when an intact record follows; else a torn tail.
                let Some(next) = (pos + 1..bytes.len()).find(|&p| frame_at(bytes, p).is_ok())
                else {
                    break;
                };
                replay.corrupt.push(Corrupt {
                    position: replay.records.len() + replay.corrupt.len() + 1,
                    offset: pos as u64,
                    bytes: (next - pos) as u64,
                    why,
                });
                pos = next;
            }
        }
    }
    // Whatever no intact record follows: a torn tail.
    replay.torn_bytes = (bytes.len() - pos) as u64;
    replay
}

/// Replaces the journal at `path` by one holding `records` (durably: a
/// temporary file, fsynced, renamed over it, the folder fsynced), keeping
/// its old bytes in `<path>.corrupt`. Returns the new length.
pub fn rewrite(path: &Path, records: &[Record]) -> Result<u64> {
    let mut bytes = Vec::new();
    for record in records {
        bytes.extend_from_slice(&frame(record)?);
    }
    let old = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let keep = path.with_extension("corrupt");
    let tmp = path.with_extension("rewrite");
    for (dest, content) in [(&keep, &old), (&tmp, &bytes)] {
        File::create(dest)
            .and_then(|mut f| {
                f.write_all(content)?;
                f.sync_all()
            })
            .with_context(|| format!("writing {}", dest.display()))?;
    }
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} over {}", tmp.display(), path.display()))?;
    if let Some(dir) = path.parent() {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("fsync of folder {}", dir.display()))?;
    }
    Ok(bytes.len() as u64)
}

/// A record's frame: length, CRC-32, payload.
fn frame(record: &Record) -> Result<Vec<u8>> {
    let payload = serde_json::to_vec(record)?;
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|&l| l <= MAX_RECORD)
        .with_context(|| {
            format!(
                "a journal record of {} bytes, over the cap of {MAX_RECORD}",
                payload.len()
            )
        })?;
    let mut frame = Vec::with_capacity(payload.len() + 8);
    frame.extend_from_slice(&len.to_le_bytes());
    frame.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    frame.extend_from_slice(&payload);
    Ok(frame)
}

/// An open journal, appending.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
    /// Bytes of records fsynced so far.
    len: u64,
}

impl Journal {
    /// Creates a new, empty journal.
    pub fn create(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(path)
            .with_context(|| format!("creating {}", path.display()))?;
        Ok(Journal {
            file,
            path: path.to_path_buf(),
            len: 0,
        })
    }

    /// Opens an existing journal for appending after cutting it to
    /// `valid_len` bytes (the end of its last intact record).
    pub fn reopen(path: &Path, valid_len: u64) -> Result<Self> {
        let mut file = OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        file.set_len(valid_len)
            .with_context(|| format!("cutting {}", path.display()))?;
        file.sync_all()
            .with_context(|| format!("fsync of {}", path.display()))?;
        file.seek(SeekFrom::End(0))?;
        Ok(Journal {
            file,
            path: path.to_path_buf(),
            len: valid_len,
        })
    }

    /// Appends one record and fsyncs it. An fsync error is fatal and the
    /// record is never trusted: it is cut off again (so no replay sees it,
    /// and `resume` runs its run again), and the error says so.
    pub fn append(&mut self, record: &Record) -> Result<()> {
        let frame = frame(record)?;
        self.file
            .write_all(&frame)
            .with_context(|| format!("appending to {}", self.path.display()))?;
        let synced = if crate::fault::fires("fsync-error-journal") {
            Err(crate::fault::eio("fsync-error-journal"))
        } else {
            self.file.sync_data()
        };
        if let Err(e) = synced {
            let cut = self
                .file
                .set_len(self.len)
                .and_then(|()| self.file.sync_all());
            let what = match cut {
                Ok(()) => "it was cut off again; `collect resume` redoes its run".to_owned(),
                Err(c) => format!("cutting it off failed too: {c}"),
            };
            return Err(anyhow::Error::new(e).context(format!(
                "fsync of {} failed; the record is not trusted ({what})",
                self.path.display()
            )));
        }
        self.len += frame.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(folder: &str) -> Record {
        Record::Run {
            folder: folder.into(),
            status: "ok".into(),
            rows: vec![],
        }
    }

    #[test]
    fn records_round_trip_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(JOURNAL);
        let mut j = Journal::create(&path).expect("create");
        j.append(&run("runs/a")).expect("append");
        j.append(&run("runs/b")).expect("append");
        drop(j);
        let whole = std::fs::read(&path).expect("read");
        // A power cut in the middle of a third record.
        let mut torn = whole.clone();
        torn.extend_from_slice(&[40, 0, 0, 0, 1, 2, 3, 4, b'{', b'"']);
        std::fs::write(&path, &torn).expect("write");
        let r = replay(&path).expect("replay");
        assert_eq!(r.records, vec![run("runs/a"), run("runs/b")]);
        assert_eq!((r.valid_len, r.torn_bytes), (whole.len() as u64, 10));

        let mut j = Journal::reopen(&path, r.valid_len).expect("reopen");
        j.append(&run("runs/c")).expect("append");
        let r = replay(&path).expect("replay");
        assert_eq!(r.records.len(), 3);
        assert_eq!(r.torn_bytes, 0);
    }

    /// A journal of `folders` (a start record first) and each record's
    /// byte range.
    fn journal(folders: &[String]) -> (Vec<u8>, Vec<Record>, Vec<std::ops::Range<usize>>) {
        let mut records = vec![Record::Start {
            collect_version: "0.1.0".into(),
            suite_sha256: "ab".repeat(32),
            suite_path: "suites/smoke.toml".into(),
            runs: folders.len(),
        }];
        records.extend(folders.iter().map(|f| run(f)));
        let (mut bytes, mut ranges) = (Vec::new(), Vec::new());
        for r in &records {
            let start = bytes.len();
            bytes.extend_from_slice(&frame(r).expect("frame"));
            ranges.push(start..bytes.len());
        }
        (bytes, records, ranges)
    }

    #[test]
    fn a_corrupt_record_in_the_middle_is_reported_and_the_others_kept() {
        let folders: Vec<String> = ["runs/a", "runs/b", "runs/c"].map(String::from).to_vec();
        let (mut bytes, records, ranges) = journal(&folders);
        // One bit of run record runs/a (the journal's second record).
        bytes[ranges[1].start + 20] ^= 0x04;
        let r = replay_bytes(&bytes);
        assert_eq!(
            r.records,
            vec![records[0].clone(), records[2].clone(), records[3].clone()]
        );
        assert_eq!(r.torn_bytes, 0);
        assert_eq!(r.valid_len, bytes.len() as u64);
        let bad = &r.corrupt[..];
        assert_eq!(bad.len(), 1, "{bad:?}");
        assert_eq!(
            (bad[0].position, bad[0].offset, bad[0].bytes),
            (2, ranges[1].start as u64, ranges[1].len() as u64)
        );
        assert_eq!(
            bad[0].to_string(),
            format!(
                "journal record 2 (bytes {}-{}) fails its CRC-32",
                ranges[1].start,
                ranges[1].end - 1
            )
        );

        // Rewritten, the journal holds the intact records alone; the old
        // bytes are kept beside it.
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(JOURNAL);
        std::fs::write(&path, &bytes).expect("write");
        let len = rewrite(&path, &r.records).expect("rewrite");
        let again = replay(&path).expect("replay");
        assert_eq!(
            (again.records, again.corrupt, len),
            (r.records, vec![], again.valid_len)
        );
        assert_eq!(
            std::fs::read(path.with_extension("corrupt")).expect("kept"),
            bytes
        );
    }

    #[test]
    fn every_single_bit_flip_costs_exactly_the_record_it_hits() {
        let folders: Vec<String> = ["runs/a", "runs/bb", "runs/ccc"].map(String::from).to_vec();
        let (bytes, records, ranges) = journal(&folders);
        let last = ranges.len() - 1;
        for bit in 0..bytes.len() * 8 {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            let hit = ranges
                .iter()
                .position(|r| r.contains(&(bit / 8)))
                .expect("in a record");
            let r = replay_bytes(&flipped);
            let kept: Vec<Record> = (0..records.len())
                .filter(|&i| i != hit)
                .map(|i| records[i].clone())
                .collect();
            assert_eq!(r.records, kept, "bit {bit}");
            if hit == last {
                // Nothing intact follows: a torn tail, cut.
                assert!(r.corrupt.is_empty(), "bit {bit}: {:?}", r.corrupt);
                assert_eq!(r.torn_bytes, ranges[last].len() as u64, "bit {bit}");
                assert_eq!(r.valid_len, ranges[last].start as u64, "bit {bit}");
            } else {
                assert_eq!(r.torn_bytes, 0, "bit {bit}");
                assert_eq!(r.corrupt.len(), 1, "bit {bit}");
                assert_eq!(r.corrupt[0].position, hit + 1, "bit {bit}");
                assert_eq!(r.corrupt[0].offset, ranges[hit].start as u64, "bit {bit}");
                assert_eq!(r.corrupt[0].bytes, ranges[hit].len() as u64, "bit {bit}");
            }
        }
    }

    proptest::proptest! {
        /// Any bytes changed anywhere: replay keeps exactly the records
        /// whose bytes were not touched, in order, and never panics.
        #[test]
        fn damage_costs_only_the_records_it_touches(
            folders in proptest::collection::vec("runs/[a-z]{1,12}", 1..6),
            damage in proptest::collection::vec((0.0f64..1.0, 1u8..=255), 1..4),
        ) {
            let (mut bytes, records, ranges) = journal(&folders);
            let hit: Vec<usize> = damage.iter().map(|&(at, xor)| {
                let i = ((at * bytes.len() as f64) as usize).min(bytes.len() - 1);
                bytes[i] ^= xor;
                i
            }).collect();
            let untouched: Vec<Record> = records
                .iter()
                .zip(&ranges)
                .filter(|(_, range)| !hit.iter().any(|h| range.contains(h)))
                .map(|(r, _)| r.clone())
                .collect();
            let r = replay_bytes(&bytes);
            proptest::prop_assert_eq!(r.records, untouched);
        }
    }
}
