//! A `newc` cpio writer, the format Linux unpacks as its initramfs
//! (Documentation/driver-api/early-userspace/buffer-format.rst).
//!
//! Each entry is a 110-byte ASCII header (`070701` then thirteen 8-digit
//! hex fields), the NUL-terminated name padded to a multiple of 4 bytes
//! (counting the header), then the data padded to a multiple of 4. The
//! archive ends with an entry named `TRAILER!!!`. Entries are written with
//! uid/gid 0 and mtime 0 so the same inputs give the same bytes.

use std::io::{self, Write};

/// The `newc` magic.
pub const MAGIC: &[u8; 6] = b"070701";
/// Name of the last entry.
pub const TRAILER: &str = "TRAILER!!!";
/// Size of a header.
pub const HEADER_LEN: usize = 110;

const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFCHR: u32 = 0o020_000;

/// Writes a `newc` archive to `W`.
#[derive(Debug)]
pub struct Writer<W: Write> {
    out: W,
    written: u64,
    next_ino: u32,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W) -> Self {
        Writer {
            out,
            written: 0,
            next_ino: 1,
        }
    }

    /// A folder (`mode` holds the permission bits only).
    pub fn dir(&mut self, name: &str, mode: u32) -> io::Result<()> {
        self.entry(name, S_IFDIR | (mode & 0o7777), 2, (0, 0), &[])
    }

    /// A regular file.
    pub fn file(&mut self, name: &str, mode: u32, data: &[u8]) -> io::Result<()> {
        self.entry(name, S_IFREG | (mode & 0o7777), 1, (0, 0), data)
    }

    /// A symbolic link to `target`.
    pub fn symlink(&mut self, name: &str, target: &str) -> io::Result<()> {
        self.entry(name, S_IFLNK | 0o777, 1, (0, 0), target.as_bytes())
    }

    /// A character device node.
    pub fn char_dev(&mut self, name: &str, mode: u32, major: u32, minor: u32) -> io::Result<()> {
        self.entry(name, S_IFCHR | (mode & 0o7777), 1, (major, minor), &[])
    }

    /// Writes the trailer and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.raw_entry(TRAILER, 0, 0, 1, (0, 0), &[])?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn entry(
        &mut self,
        name: &str,
        mode: u32,
        nlink: u32,
        rdev: (u32, u32),
        data: &[u8],
    ) -> io::Result<()> {
        if name.is_empty() || name.starts_with('/') || name == TRAILER || name.contains('\0') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("cpio entry name {name:?} is not a relative path"),
            ));
        }
        let ino = self.next_ino;
        self.next_ino += 1;
        self.raw_entry(name, ino, mode, nlink, rdev, data)
    }

    fn raw_entry(
        &mut self,
        name: &str,
        ino: u32,
        mode: u32,
        nlink: u32,
        rdev: (u32, u32),
        data: &[u8],
    ) -> io::Result<()> {
        let size = u32::try_from(data.len()).map_err(|_| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("{name}: over 4 GiB"))
        })?;
        let namesize = u32::try_from(name.len() + 1)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "name too long"))?;
        let fields = [
            ino, mode, 0, // uid
            0, // gid
            nlink, 0, // mtime
            size, 0, // devmajor
            0, // devminor
            rdev.0, rdev.1, namesize, 0, // check
        ];
        let mut header = Vec::with_capacity(HEADER_LEN + name.len() + 4);
        header.extend_from_slice(MAGIC);
        for f in fields {
            header.extend_from_slice(format!("{f:08X}").as_bytes());
        }
        header.extend_from_slice(name.as_bytes());
        header.push(0);
        self.write(&header)?;
        self.pad()?;
        self.write(data)?;
        self.pad()
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn pad(&mut self) -> io::Result<()> {
        let n = (4 - (self.written % 4) as usize) % 4;
        self.write(&[0u8; 3][..n])
    }
}

/// One entry read back by [`parse`] (tests and checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub mode: u32,
    pub rdev: (u32, u32),
    pub data: Vec<u8>,
}

/// Parses a `newc` archive up to its trailer.
pub fn parse(mut bytes: &[u8]) -> Result<Vec<Entry>, String> {
    let total = bytes.len();
    let mut entries = Vec::new();
    loop {
        let at = total - bytes.len();
        if bytes.len() < HEADER_LEN || &bytes[..6] != MAGIC {
            return Err(format!("no newc header at offset {at}"));
        }
        let field = |i: usize| -> Result<u32, String> {
            let s = std::str::from_utf8(&bytes[6 + 8 * i..14 + 8 * i])
                .map_err(|_| format!("non-ASCII field at offset {at}"))?;
            u32::from_str_radix(s, 16).map_err(|_| format!("bad hex field {s:?} at offset {at}"))
        };
        let (mode, size, rdev) = (field(1)?, field(6)? as usize, (field(9)?, field(10)?));
        let namesize = field(11)? as usize;
        let name_end = HEADER_LEN + namesize;
        let data_start = name_end.div_ceil(4) * 4;
        let data_end = data_start + size;
        if namesize == 0 || bytes.len() < data_end || bytes[name_end - 1] != 0 {
            return Err(format!("truncated entry at offset {at}"));
        }
        let name = String::from_utf8(bytes[HEADER_LEN..name_end - 1].to_vec())
            .map_err(|_| format!("non-UTF-8 name at offset {at}"))?;
        if bytes[name_end..data_start].iter().any(|b| *b != 0) {
            return Err(format!("non-zero name padding at offset {at}"));
        }
        if name == TRAILER {
            return Ok(entries);
        }
        entries.push(Entry {
            name,
            mode,
            rdev,
            data: bytes[data_start..data_end].to_vec(),
        });
        bytes = &bytes[(data_end.div_ceil(4) * 4).min(bytes.len())..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive() -> Vec<u8> {
        let mut w = Writer::new(Vec::new());
        w.dir("bin", 0o755).expect("dir");
        w.file("bin/busybox", 0o755, b"\x7fELF..").expect("file");
        w.symlink("bin/sh", "busybox").expect("symlink");
        w.char_dev("dev/console", 0o600, 5, 1).expect("dev");
        w.file("init", 0o755, b"#!/bin/sh\n").expect("file");
        w.finish().expect("finish")
    }

    #[test]
    fn round_trip() {
        let bytes = archive();
        let entries = parse(&bytes).expect("parse");
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            ["bin", "bin/busybox", "bin/sh", "dev/console", "init"]
        );
        assert_eq!(entries[0].mode, 0o040_755);
        assert_eq!(entries[1].mode, 0o100_755);
        assert_eq!(entries[1].data, b"\x7fELF..");
        assert_eq!(entries[2].mode, 0o120_777);
        assert_eq!(entries[2].data, b"busybox");
        assert_eq!(entries[3].mode, 0o020_600);
        assert_eq!(entries[3].rdev, (5, 1));
    }

    #[test]
    fn header_layout_and_padding() {
        let mut w = Writer::new(Vec::new());
        // "ab" + NUL = 3 bytes of name: 110 + 3 = 113, padded to 116.
        w.file("ab", 0o644, b"xyzzy").expect("file");
        let bytes = w.finish().expect("finish");
        assert_eq!(&bytes[..6], b"070701");
        let header = std::str::from_utf8(&bytes[..HEADER_LEN]).expect("ascii");
        assert_eq!(&header[6..14], "00000001", "ino");
        assert_eq!(&header[14..22], "000081A4", "mode 0100644");
        assert_eq!(&header[54..62], "00000005", "filesize");
        assert_eq!(&header[94..102], "00000003", "namesize counts the NUL");
        assert_eq!(&header[102..110], "00000000", "check");
        assert_eq!(&bytes[110..113], b"ab\0");
        assert_eq!(&bytes[113..116], &[0, 0, 0]);
        assert_eq!(&bytes[116..121], b"xyzzy");
        // data padded to 124, then the trailer header.
        assert_eq!(&bytes[121..124], &[0, 0, 0]);
        assert_eq!(&bytes[124..130], b"070701");
        let trailer_name = 124 + HEADER_LEN;
        assert_eq!(&bytes[trailer_name..trailer_name + 11], b"TRAILER!!!\0");
        assert_eq!(bytes.len() % 4, 0);
    }

    #[test]
    fn every_header_is_aligned() {
        let bytes = archive();
        let mut at = 0;
        let mut headers = 0;
        while let Some(pos) = bytes[at..].windows(6).position(|w| w == MAGIC) {
            assert_eq!((at + pos) % 4, 0, "header at {}", at + pos);
            headers += 1;
            at += pos + 6;
        }
        assert_eq!(headers, 6, "five entries and the trailer");
    }

    #[test]
    fn refuses_absolute_names() {
        let mut w = Writer::new(Vec::new());
        assert!(w.file("/init", 0o755, b"").is_err());
        assert!(w.file(TRAILER, 0o644, b"").is_err());
    }
}
