//! Helpers to craft bundles, valid and hostile, byte by byte.
//!
//! Every test binary uses a different subset of these helpers.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::Write;

use benchvm_format::manifest::{FileEntry, Manifest, RunMeta, Tool, MANIFEST_PATH};
use benchvm_format::read::{self, Bundle, Limits};
use benchvm_format::{ustar, BundleError};
use sha2::{Digest, Sha256};

/// Size of a tar block.
pub const BLOCK: usize = ustar::BLOCK;
/// The end-of-archive marker: two zero blocks.
pub const END: [u8; 2 * BLOCK] = [0; 2 * BLOCK];
/// zstd frame magic number, little-endian.
pub const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// Byte ranges of the ustar header fields (POSIX.1-1988).
pub mod field {
    use std::ops::Range;
    pub const NAME: Range<usize> = 0..100;
    pub const MODE: Range<usize> = 100..108;
    pub const UID: Range<usize> = 108..116;
    pub const GID: Range<usize> = 116..124;
    pub const SIZE: Range<usize> = 124..136;
    pub const MTIME: Range<usize> = 136..148;
    pub const CHKSUM: Range<usize> = 148..156;
    pub const TYPEFLAG: Range<usize> = 156..157;
    pub const LINKNAME: Range<usize> = 157..257;
    pub const MAGIC: Range<usize> = 257..263;
    pub const VERSION: Range<usize> = 263..265;
    pub const UNAME: Range<usize> = 265..297;
    pub const PREFIX: Range<usize> = 345..500;
}

/// A fixed run description, so bundles built from it are reproducible.
pub fn meta() -> RunMeta {
    RunMeta {
        tool: Tool {
            name: "collect".into(),
            version: "0.1.0".into(),
            git_commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
        },
        created: "2026-11-25T18:00:00Z".into(),
        host: "lab-03".into(),
        suite: "smoke".into(),
        platforms: vec!["native".into(), "kvm".into()],
        label: "integration test".into(),
    }
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The manifest entry of one file.
pub fn entry(path: &str, data: &[u8]) -> FileEntry {
    FileEntry {
        path: path.into(),
        size: data.len() as u64,
        sha256: sha256_hex(data),
    }
}

/// A valid manifest listing exactly `files` (sorted here by path bytes).
pub fn manifest(files: &[(&str, &[u8])]) -> Manifest {
    let mut entries: Vec<FileEntry> = files.iter().map(|(p, d)| entry(p, d)).collect();
    entries.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    Manifest::new(meta(), entries)
}

/// The canonical bytes of [`manifest`].
pub fn manifest_bytes(files: &[(&str, &[u8])]) -> Vec<u8> {
    manifest(files).to_bytes()
}

/// The ustar header this crate writes for a regular file.
pub fn header(path: &str, size: u64) -> [u8; BLOCK] {
    ustar::header(path, size).unwrap()
}

/// A header with a raw `name` field (any bytes, at most 100), a `typeflag`
/// and a `size`; every other field as the writer sets it.
pub fn raw_header(name: &[u8], typeflag: u8, size: u64) -> [u8; BLOCK] {
    let mut block = header("x", size);
    set(&mut block, field::NAME, name);
    set(&mut block, field::TYPEFLAG, &[typeflag]);
    block
}

/// Writes `value` into a header field, NUL-fills the rest of the field and
/// recomputes the checksum.
pub fn set(block: &mut [u8; BLOCK], range: std::ops::Range<usize>, value: &[u8]) {
    assert!(value.len() <= range.len(), "value longer than the field");
    let field = &mut block[range];
    field.fill(0);
    field[..value.len()].copy_from_slice(value);
    fix_checksum(block);
}

/// Recomputes the ustar checksum as a bundle writes it (seven octal
/// digits, NUL; SPEC.md §3), so a crafted header is refused for the fault
/// under test, not for its checksum's spelling.
pub fn fix_checksum(block: &mut [u8; BLOCK]) {
    let sum = checksum_field(block, 7);
    block[field::CHKSUM].copy_from_slice(&sum);
}

/// The checksum field of `block` written with `digits` octal digits
/// (7: NUL after them; 6: NUL then space, as GNU tar writes it).
pub fn checksum_field(block: &[u8; BLOCK], digits: usize) -> [u8; 8] {
    let mut spaced = *block;
    spaced[field::CHKSUM].fill(b' ');
    let sum: u32 = spaced.iter().map(|&b| u32::from(b)).sum();
    let text = match digits {
        7 => format!("{sum:07o}\0"),
        _ => format!("{sum:06o}\0 "),
    };
    text.as_bytes().try_into().expect("8 bytes")
}

/// A header block, the data and the zero padding to a whole block.
pub fn record(header: &[u8; BLOCK], data: &[u8]) -> Vec<u8> {
    let mut out = header.to_vec();
    out.extend_from_slice(data);
    out.resize(out.len() + ustar::padding(data.len() as u64), 0);
    out
}

/// The tar record of a regular file, as the writer makes it.
pub fn file(path: &str, data: &[u8]) -> Vec<u8> {
    record(&header(path, data.len() as u64), data)
}

/// Decoded frame 1: the record of `manifest.json`.
pub fn manifest_frame(manifest: &[u8]) -> Vec<u8> {
    file(MANIFEST_PATH, manifest)
}

/// Decoded frame 2: the records of `files` in the order given, then the
/// end-of-archive marker.
pub fn files_frame(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out: Vec<u8> = files.iter().flat_map(|(p, d)| file(p, d)).collect();
    out.extend_from_slice(&END);
    out
}

/// One zstd frame holding `plain`, with the writer's settings.
pub fn zstd_frame(plain: &[u8]) -> Vec<u8> {
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    enc.include_checksum(true).unwrap();
    enc.include_contentsize(false).unwrap();
    enc.write_all(plain).unwrap();
    enc.finish().unwrap()
}

/// A bundle of two frames from their decoded contents.
pub fn two_frames(frame1: &[u8], frame2: &[u8]) -> Vec<u8> {
    let mut out = zstd_frame(frame1);
    out.extend_from_slice(&zstd_frame(frame2));
    out
}

/// A bundle whose manifest lists `listed` and whose archive holds `stored`,
/// in the order given.
pub fn craft(listed: &[(&str, &[u8])], stored: &[(&str, &[u8])]) -> Vec<u8> {
    two_frames(
        &manifest_frame(&manifest_bytes(listed)),
        &files_frame(stored),
    )
}

/// A bundle whose manifest lists `listed` and whose frame 2 is `frame2`.
pub fn with_frame2(listed: &[(&str, &[u8])], frame2: &[u8]) -> Vec<u8> {
    two_frames(&manifest_frame(&manifest_bytes(listed)), frame2)
}

/// A valid bundle of `files`, crafted by hand.
pub fn valid(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut sorted = files.to_vec();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    craft(&sorted, &sorted)
}

/// Splits a bundle into its frames' compressed bytes (any number of frames).
pub fn compressed_frames(bundle: &[u8]) -> Vec<&[u8]> {
    let mut frames = Vec::new();
    let mut rest = bundle;
    while !rest.is_empty() {
        let len = zstd::zstd_safe::find_frame_compressed_size(rest).unwrap();
        frames.push(&rest[..len]);
        rest = &rest[len..];
    }
    frames
}

/// The decoded contents of each frame of a bundle.
pub fn decoded_frames(bundle: &[u8]) -> Vec<Vec<u8>> {
    compressed_frames(bundle)
        .into_iter()
        .map(|f| zstd::decode_all(f).unwrap())
        .collect()
}

/// Path, data offset and size of every entry in decoded tar bytes.
pub fn tar_entries(plain: &[u8]) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + BLOCK <= plain.len() {
        let block: &[u8; BLOCK] = plain[at..at + BLOCK].try_into().unwrap();
        let Some(parsed) = ustar::parse(block).unwrap() else {
            break;
        };
        let size = usize::try_from(parsed.size).unwrap();
        out.push((String::from_utf8(parsed.path).unwrap(), at + BLOCK, size));
        at += BLOCK + size + ustar::padding(parsed.size);
    }
    out
}

/// Verifies a bundle held in memory, keeping every entry.
pub fn verify_with(bytes: &[u8], limits: &Limits) -> Result<Bundle, BundleError> {
    read::read(bytes, bytes.len() as u64, limits, &|_| true)
}

pub fn verify(bytes: &[u8]) -> Result<Bundle, BundleError> {
    verify_with(bytes, &Limits::default())
}

/// The error a hostile bundle must raise.
pub fn refused_with(bytes: &[u8], limits: &Limits) -> BundleError {
    match verify_with(bytes, limits) {
        Ok(bundle) => panic!("hostile bundle accepted: {:?}", bundle.manifest.files),
        Err(err) => err,
    }
}

pub fn refused(bytes: &[u8]) -> BundleError {
    refused_with(bytes, &Limits::default())
}

/// Asserts that the error message names `what` (an entry path).
#[track_caller]
pub fn assert_names(err: &impl std::fmt::Display, what: &str) {
    let text = err.to_string();
    assert!(
        text.contains(what),
        "message {text:?} does not name {what:?}"
    );
}
