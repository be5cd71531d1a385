//! The one tar dialect a bundle uses: POSIX ustar, regular files only.
//!
//! Headers are built field by field with [`tar::Header`] as the codec, so a
//! bundle's bytes depend on nothing but the entry's path and size (see
//! SPEC.md, "Tar layer"). Parsing is strict: a header that this module did
//! not, or could not, have written is refused with the reason.

use crate::error::HeaderFault;

/// Size of a tar block.
pub const BLOCK: usize = 512;
/// Permission bits of every entry (`rw-r--r--`).
pub const MODE: u32 = 0o644;
/// Modification time of every entry: the Unix epoch, so that packing the same
/// run twice gives the same bytes.
pub const MTIME: u64 = 0;
/// Largest entry a ustar size field can hold (11 octal digits): 8 GiB - 1.
pub const MAX_ENTRY_SIZE: u64 = 0o777_7777_7777;

/// Builds the ustar header of a regular file.
///
/// `path` must already have passed [`crate::path::check`]; it is split into
/// the `prefix` and `name` fields at a `/` when longer than 100 bytes.
pub fn header(path: &str, size: u64) -> Result<[u8; BLOCK], HeaderFault> {
    if size > MAX_ENTRY_SIZE {
        return Err(HeaderFault::TooLarge(size));
    }
    let (prefix, name) = split_path(path.as_bytes()).ok_or(HeaderFault::PathTooLong)?;
    let mut header = tar::Header::new_ustar();
    {
        let ustar = header.as_ustar_mut().ok_or(HeaderFault::NotUstar)?;
        ustar.name[..name.len()].copy_from_slice(name);
        ustar.prefix[..prefix.len()].copy_from_slice(prefix);
    }
    header.set_mode(MODE);
    header.set_uid(0);
    header.set_gid(0);
    header.set_size(size);
    header.set_mtime(MTIME);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    Ok(*header.as_bytes())
}

/// Splits a path into ustar `prefix` and `name`, or `None` when it cannot fit.
fn split_path(path: &[u8]) -> Option<(&[u8], &[u8])> {
    if path.len() <= 100 {
        return Some((&[], path));
    }
    // The prefix must end at a '/', hold at most 155 bytes, and leave at most
    // 100 bytes (and at least one) for the name. Take the shortest prefix
    // that works so the split is unique.
    (0..path.len())
        .filter(|&i| path[i] == b'/')
        .find(|&i| i <= 155 && path.len() - i - 1 <= 100 && i + 1 < path.len())
        .map(|i| (&path[..i], &path[i + 1..]))
}

/// What a parsed header says: an entry's path and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub path: Vec<u8>,
    pub size: u64,
}

/// Parses a header block written by [`header`], refusing anything else.
///
/// Returns `Ok(None)` for an all-zero block (the end-of-archive marker).
pub fn parse(block: &[u8; BLOCK]) -> Result<Option<Parsed>, HeaderFault> {
    if block.iter().all(|&b| b == 0) {
        return Ok(None);
    }
    let header = tar::Header::from_byte_slice(block);
    let stored = octal(&header.as_old().cksum, "checksum")?;
    if stored != checksum(block) {
        return Err(HeaderFault::Checksum);
    }
    let ustar = header.as_ustar().ok_or(HeaderFault::NotUstar)?;
    if &ustar.version != b"00" {
        return Err(HeaderFault::NotUstar);
    }
    let typeflag = ustar.typeflag[0];
    if typeflag != b'0' {
        return Err(HeaderFault::NotRegular(describe_type(typeflag)));
    }
    for (field, name) in [
        (&ustar.mode[..], "mode"),
        (&ustar.uid[..], "uid"),
        (&ustar.gid[..], "gid"),
        (&ustar.mtime[..], "mtime"),
    ] {
        octal(field, name)?;
    }
    if ustar.linkname.iter().any(|&b| b != 0) {
        return Err(HeaderFault::LinkName);
    }
    let size = octal(&ustar.size, "size")?;
    Ok(Some(Parsed {
        path: path_of(block),
        size,
    }))
}

/// The path that a header's `prefix` and `name` fields spell, whatever the
/// rest of the header holds (used to name a refused entry too).
///
/// Only trailing NULs are cut: a NUL followed by other bytes stays in the
/// path, so that [`crate::path::check`] refuses it rather than the bytes
/// after it being silently dropped (the writer never leaves any).
pub fn path_of(block: &[u8; BLOCK]) -> Vec<u8> {
    let name = trim_nuls(&block[..100]);
    // Old GNU headers keep other fields where ustar has `prefix`.
    let prefix = if &block[257..263] == b"ustar\0" {
        trim_nuls(&block[345..500])
    } else {
        &[]
    };
    let mut path = Vec::with_capacity(prefix.len() + 1 + name.len());
    if !prefix.is_empty() {
        path.extend_from_slice(prefix);
        path.push(b'/');
    }
    path.extend_from_slice(name);
    path
}

/// The ustar checksum: the sum of all bytes with the checksum field as spaces.
fn checksum(block: &[u8; BLOCK]) -> u64 {
    block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum()
}

/// Parses an octal numeric field: optional leading spaces, octal digits, then
/// NUL or space padding only. GNU base-256 and any other byte are refused.
fn octal(field: &[u8], name: &'static str) -> Result<u64, HeaderFault> {
    let bad = || HeaderFault::NotOctal(name);
    let start = field.iter().position(|&b| b != b' ').unwrap_or(field.len());
    let digits_end = field[start..]
        .iter()
        .position(|&b| !(b'0'..=b'7').contains(&b))
        .map_or(field.len(), |p| start + p);
    if digits_end == start || field[digits_end..].iter().any(|&b| b != 0 && b != b' ') {
        return Err(bad());
    }
    field[start..digits_end]
        .iter()
        .try_fold(0u64, |acc, &d| {
            acc.checked_mul(8)?.checked_add(u64::from(d - b'0'))
        })
        .ok_or_else(bad)
}

fn trim_nuls(field: &[u8]) -> &[u8] {
    let end = field.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
    &field[..end]
}

fn describe_type(typeflag: u8) -> String {
    let kind = match typeflag {
        b'1' => "hard link",
        b'2' => "symbolic link",
        b'3' => "character device",
        b'4' => "block device",
        b'5' => "directory",
        b'6' => "FIFO",
        b'7' => "contiguous file",
        b'x' => "PAX extended header",
        b'g' => "PAX global header",
        b'L' | b'K' => "GNU long name",
        b'S' => "GNU sparse file",
        0 => "old-style regular file (typeflag NUL)",
        _ => "unknown type",
    };
    format!("{kind} (typeflag {:?})", char::from(typeflag))
}

/// Number of zero bytes that pad `size` bytes of data to a whole block.
pub fn padding(size: u64) -> usize {
    // The remainder is below 512, so the cast cannot truncate.
    ((BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_short_and_long_paths() {
        let long = format!("runs/{}/{}", "a".repeat(90), "b".repeat(90));
        for path in [
            "manifest.json",
            "runs/native/overall/cpu/rep-01/stdout.log",
            &long,
        ] {
            let block = header(path, 12345).expect("header");
            let parsed = parse(&block).expect("parse").expect("not end");
            assert_eq!(parsed.path, path.as_bytes());
            assert_eq!(parsed.size, 12345);
        }
    }

    #[test]
    fn header_fields_are_fixed() {
        let block = header("a/b", 1).expect("header");
        let h = tar::Header::from_byte_slice(&block);
        assert_eq!(h.mode().expect("mode"), 0o644);
        assert_eq!(h.uid().expect("uid"), 0);
        assert_eq!(h.mtime().expect("mtime"), 0);
        assert_eq!(h.username_bytes(), Some(&b""[..]));
        assert_eq!(h.groupname_bytes(), Some(&b""[..]));
    }

    #[test]
    fn unsplittable_path_is_refused() {
        let path = "x".repeat(101);
        assert!(matches!(header(&path, 0), Err(HeaderFault::PathTooLong)));
    }

    #[test]
    fn octal_rejects_garbage_and_base256() {
        assert_eq!(octal(b"0000644\0", "mode").ok(), Some(0o644));
        assert_eq!(octal(b"  644 \0\0", "mode").ok(), Some(0o644));
        assert!(octal(b"00006x4\0", "mode").is_err());
        assert!(octal(&[0x80, 0, 0, 0, 0, 0, 0, 1], "size").is_err());
        assert!(octal(b"\0\0\0\0", "size").is_err());
    }

    #[test]
    fn padding_fills_to_block() {
        assert_eq!(padding(0), 0);
        assert_eq!(padding(1), 511);
        assert_eq!(padding(512), 0);
        assert_eq!(padding(513), 511);
    }
}
