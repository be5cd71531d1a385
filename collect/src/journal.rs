//! The run folder's journal (`.journal`): an append-only log of finished
//! runs, each record framed with its length and CRC-32 and fsynced, so a
//! collector killed at any point loses no finished run and `resume` can
//! tell a torn tail from a record.
//!
//! Record framing: `u32 LE payload length`, `u32 LE CRC-32 (IEEE) of the
//! payload`, payload (one JSON object). Replay stops at the first record
//! that is short or fails its CRC; everything from there on is the torn
//! tail, which `resume` cuts off (and says so).

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

/// What replay found.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    pub records: Vec<Record>,
    /// Bytes of intact records.
    pub valid_len: u64,
    /// Bytes after them (a torn tail), if any.
    pub torn_bytes: u64,
}

/// Reads every intact record of the journal at `path`.
pub fn replay(path: &Path) -> Result<Replay> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .with_context(|| format!("reading {}", path.display()))?;
    let mut records = Vec::new();
    let mut pos = 0usize;
    while let Some(header) = bytes.get(pos..pos + 8) {
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if len > MAX_RECORD {
            break;
        }
        let Some(payload) = bytes.get(pos + 8..pos + 8 + len as usize) else {
            break;
        };
        if crc32fast::hash(payload) != crc {
            break;
        }
        let Ok(record) = serde_json::from_slice::<Record>(payload) else {
            break;
        };
        records.push(record);
        pos += 8 + len as usize;
    }
    Ok(Replay {
        records,
        valid_len: pos as u64,
        torn_bytes: (bytes.len() - pos) as u64,
    })
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
        let payload = serde_json::to_vec(record)?;
        let len = u32::try_from(payload.len()).context("journal record over 4 GiB")?;
        let mut frame = Vec::with_capacity(payload.len() + 8);
        frame.extend_from_slice(&len.to_le_bytes());
        frame.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        frame.extend_from_slice(&payload);
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

    #[test]
    fn a_flipped_byte_ends_replay_at_that_record() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(JOURNAL);
        let mut j = Journal::create(&path).expect("create");
        for f in ["runs/a", "runs/b", "runs/c"] {
            j.append(&run(f)).expect("append");
        }
        drop(j);
        let mut bytes = std::fs::read(&path).expect("read");
        let first_len = 8 + u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        bytes[first_len + 12] ^= 0x20;
        std::fs::write(&path, &bytes).expect("write");
        let r = replay(&path).expect("replay");
        assert_eq!(r.records, vec![run("runs/a")]);
        assert_eq!(r.valid_len, first_len as u64);
    }
}
