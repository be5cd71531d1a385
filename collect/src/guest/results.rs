//! The results channel from a guest to the host: a raw disk (a sparse file
//! on the host, a block device in the guest) holding framed records, one per
//! finished run, written and flushed as each run ends, so a guest that dies
//! keeps the runs it finished. Needs no networking; Xen guests can use it as
//! well as QEMU guests.
//!
//! Record layout, each record starting at a multiple of 4096 bytes:
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `BVREC001` |
//! | 8 | payload length, u64 little-endian |
//! | 32 | sha256 of the payload |
//! | n | payload |
//! | .. | zeros up to the next multiple of 4096 |
//!
//! The host reads records in order and stops at the first one that is
//! missing (zeros: the disk is fresh and sparse), torn (shorter than its
//! length) or fails its hash. The payload of a run is a small ustar archive
//! of its files ([`pack`], [`unpack`]).

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;

use sha2::{Digest, Sha256};

pub const MAGIC: &[u8; 8] = b"BVREC001";
pub const ALIGN: u64 = 4096;
const HEADER_LEN: usize = 8 + 8 + 32;
/// No run's files are anywhere near this; a larger length is garbage.
pub const MAX_PAYLOAD: u64 = 1 << 30;

/// One record's bytes, padded to [`ALIGN`].
pub fn encode(payload: &[u8]) -> Vec<u8> {
    let mut rec = Vec::with_capacity(HEADER_LEN + payload.len() + ALIGN as usize);
    rec.extend_from_slice(MAGIC);
    rec.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    rec.extend_from_slice(&Sha256::digest(payload));
    rec.extend_from_slice(payload);
    let padded = (rec.len() as u64).div_ceil(ALIGN) * ALIGN;
    rec.resize(usize::try_from(padded).unwrap_or(rec.len()), 0);
    rec
}

/// Appends records to a results disk (guest side).
#[derive(Debug)]
pub struct RecordWriter {
    file: File,
    offset: u64,
}

impl RecordWriter {
    /// Opens an existing device or file; records start at offset 0.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        Ok(RecordWriter { file, offset: 0 })
    }

    /// Writes one record and flushes it to the device before returning.
    pub fn append(&mut self, payload: &[u8]) -> io::Result<()> {
        let rec = encode(payload);
        self.file.write_all_at(&rec, self.offset)?;
        self.file.sync_data()?;
        self.offset += rec.len() as u64;
        Ok(())
    }
}

/// Why reading stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// No further record (zeros or end of the disk).
    Clean,
    /// A record header without the magic.
    Garbage { offset: u64 },
    /// A record shorter than its declared length, or an absurd length.
    Torn { offset: u64 },
    /// A record whose payload does not match its sha256.
    BadHash { offset: u64 },
}

/// The records of a results disk, in order.
#[derive(Debug, Clone)]
pub struct Records {
    pub payloads: Vec<Vec<u8>>,
    pub end: End,
}

/// Reads records from the start of `reader`.
pub fn read(mut reader: impl Read) -> io::Result<Records> {
    let mut payloads = Vec::new();
    let mut offset = 0u64;
    loop {
        let mut header = [0u8; HEADER_LEN];
        let got = read_full(&mut reader, &mut header)?;
        if got == 0 || header.iter().all(|b| *b == 0) {
            return Ok(Records {
                payloads,
                end: End::Clean,
            });
        }
        if got < HEADER_LEN {
            return Ok(Records {
                payloads,
                end: End::Torn { offset },
            });
        }
        if &header[..8] != MAGIC {
            return Ok(Records {
                payloads,
                end: End::Garbage { offset },
            });
        }
        let len = u64::from_le_bytes(header[8..16].try_into().unwrap_or([0xff; 8]));
        if len > MAX_PAYLOAD {
            return Ok(Records {
                payloads,
                end: End::Torn { offset },
            });
        }
        let mut payload = vec![0u8; usize::try_from(len).unwrap_or(0)];
        if read_full(&mut reader, &mut payload)? < payload.len() {
            return Ok(Records {
                payloads,
                end: End::Torn { offset },
            });
        }
        if Sha256::digest(&payload).as_slice() != &header[16..48] {
            return Ok(Records {
                payloads,
                end: End::BadHash { offset },
            });
        }
        let used = HEADER_LEN as u64 + len;
        let padded = used.div_ceil(ALIGN) * ALIGN;
        io::copy(&mut (&mut reader).take(padded - used), &mut io::sink())?;
        payloads.push(payload);
        offset += padded;
    }
}

/// Reads the records of a results disk file (host side).
pub fn read_file(path: &Path) -> io::Result<Records> {
    read(io::BufReader::new(File::open(path)?))
}

fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// A run's files as a record payload: a ustar archive, mode 0644, mtime 0.
pub fn pack(files: &[(String, Vec<u8>)]) -> io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, bytes) in files {
        check_name(name)?;
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, name, bytes.as_slice())?;
    }
    builder.into_inner()
}

/// The files of a record payload.
pub fn unpack(payload: &[u8]) -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut archive = tar::Archive::new(payload);
    let mut files = Vec::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let name = entry.path()?.to_string_lossy().into_owned();
        check_name(&name)?;
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes)?;
        files.push((name, bytes));
    }
    Ok(files)
}

/// Record files are plain names: no folders, nothing hidden.
fn check_name(name: &str) -> io::Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("record file name {name:?} is not a plain name"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk(payloads: &[&[u8]]) -> Vec<u8> {
        let mut d: Vec<u8> = payloads.iter().flat_map(|p| encode(p)).collect();
        d.resize(d.len() + 3 * ALIGN as usize, 0); // the sparse rest
        d
    }

    #[test]
    fn round_trip() {
        let big = vec![7u8; 10_000];
        let d = disk(&[b"first", &big, b""]);
        let r = read(d.as_slice()).expect("read");
        assert_eq!(r.end, End::Clean);
        assert_eq!(r.payloads, vec![b"first".to_vec(), big, Vec::new()]);
    }

    #[test]
    fn records_are_aligned() {
        assert_eq!(encode(b"x").len(), 4096);
        assert_eq!(encode(&[1u8; 4096 - 48]).len(), 4096);
        assert_eq!(encode(&[1u8; 4096 - 47]).len(), 8192);
        assert_eq!(&encode(b"x")[..8], MAGIC);
    }

    #[test]
    fn torn_last_record_is_ignored() {
        let mut d = encode(b"kept");
        let second = encode(&[9u8; 6000]);
        d.extend_from_slice(&second[..3000]); // the guest died mid-write
        let r = read(d.as_slice()).expect("read");
        assert_eq!(r.payloads, vec![b"kept".to_vec()]);
        assert_eq!(r.end, End::Torn { offset: 4096 });
        // Torn and followed by zeros (sparse disk): the hash catches it.
        let mut d = encode(b"kept");
        let mut torn = second.clone();
        torn[3000..].fill(0);
        d.extend_from_slice(&torn);
        let r = read(d.as_slice()).expect("read");
        assert_eq!(r.payloads.len(), 1);
        assert_eq!(r.end, End::BadHash { offset: 4096 });
    }

    #[test]
    fn corrupted_hash_stops_reading() {
        let mut d = disk(&[b"one", b"two", b"three"]);
        d[4096 + 48] ^= 1; // flip a payload bit of record 2
        let r = read(d.as_slice()).expect("read");
        assert_eq!(r.payloads, vec![b"one".to_vec()]);
        assert_eq!(r.end, End::BadHash { offset: 4096 });
    }

    #[test]
    fn garbage_and_absurd_lengths_stop_reading() {
        let mut d = disk(&[b"one"]);
        d[4096..4104].copy_from_slice(b"NOTAREC!");
        assert_eq!(
            read(d.as_slice()).expect("read").end,
            End::Garbage { offset: 4096 }
        );
        let mut d = encode(b"one");
        let mut bad = encode(b"two");
        bad[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        d.extend_from_slice(&bad);
        assert_eq!(
            read(d.as_slice()).expect("read").end,
            End::Torn { offset: 4096 }
        );
    }

    #[test]
    fn writer_appends_to_a_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("results.img");
        File::create(&path)
            .and_then(|f| f.set_len(1 << 20))
            .expect("sparse file");
        let mut w = RecordWriter::open(&path).expect("open");
        w.append(b"a").expect("append");
        w.append(b"bb").expect("append");
        let r = read_file(&path).expect("read");
        assert_eq!(r.payloads, vec![b"a".to_vec(), b"bb".to_vec()]);
        assert_eq!(r.end, End::Clean);
    }

    #[test]
    fn payload_tar_round_trip() {
        let files = vec![
            ("stdout.log".to_owned(), b"hello\n".to_vec()),
            ("outcome.json".to_owned(), b"{}".to_vec()),
        ];
        let payload = pack(&files).expect("pack");
        assert_eq!(unpack(&payload).expect("unpack"), files);
        assert!(pack(&[("../x".to_owned(), Vec::new())]).is_err());
    }
}
