//! Decompression bomb (shared/reliability.md, part A, item 8): one entry of
//! 600 MiB of zeros, which zstd squeezes into a few KiB.
//!
//! What bounds the reader's memory, whatever the bundle: the 256 KiB input
//! buffer, the decoded chunks on their way from the decompressing thread to
//! the checking one (at most `(frame::PIPELINE_DEPTH + 2) x frame::CHUNK`),
//! the zstd window (at most 2^27 bytes, by `Limits::window_log_max`, checked
//! before decoding), the manifest (at most `Limits::max_manifest`) and the
//! entries the caller keeps (at most `Limits::max_kept`). Verifying streams
//! everything else.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use benchvm_format::manifest::{FileEntry, Manifest};
use benchvm_format::read::{self, Limits};
use benchvm_format::BundleError;
use common::*;
use sha2::{Digest, Sha256};

const BOMB_PATH: &str = "runs/zeros.bin";
const BOMB_SIZE: u64 = 600 << 20;
/// Set in the child process to the bomb's file: the child verifies it.
const CHILD_ENV: &str = "BENCHVM_FORMAT_BOMB_CHILD";
/// This test's name, to run it alone in the child process.
const TEST_NAME: &str = "bomb_is_refused_by_default_and_verifies_in_bounded_memory_when_allowed";
const PEAK_RSS_CAP_KIB: u64 = 256 << 10;

/// Writes the bomb bundle to `dest`, streaming the zeros through the encoder
/// (nothing near 600 MiB is ever held), and returns its size.
fn build_bomb(dest: &Path) -> u64 {
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    enc.include_checksum(true).unwrap();
    enc.write_all(&header(BOMB_PATH, BOMB_SIZE)).unwrap();
    let zeros = vec![0u8; 1 << 20];
    let mut hasher = Sha256::new();
    for _ in 0..BOMB_SIZE / zeros.len() as u64 {
        enc.write_all(&zeros).unwrap();
        hasher.update(&zeros);
    }
    assert_eq!(BOMB_SIZE % BLOCK as u64, 0, "no padding needed");
    enc.write_all(&END).unwrap();
    let frame2 = enc.finish().unwrap();

    let file = FileEntry {
        path: BOMB_PATH.into(),
        size: BOMB_SIZE,
        sha256: hex::encode(hasher.finalize()),
    };
    let manifest = Manifest::new(meta(), vec![file]).to_bytes();
    let mut bytes = zstd_frame(&manifest_frame(&manifest));
    bytes.extend_from_slice(&frame2);
    fs::write(dest, &bytes).unwrap();
    bytes.len() as u64
}

fn allowing_1_gib() -> Limits {
    Limits {
        max_decoded: Some(1 << 30),
        ..Limits::default()
    }
}

/// Peak resident set size of this process so far, in KiB.
fn peak_rss_kib() -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The child's part: verify the bomb under a 1 GiB cap, keeping nothing,
/// then report this process's peak RSS.
fn child(bomb: &Path) {
    let bundle = read::open(bomb, &allowing_1_gib(), &|_| false).unwrap();
    assert_eq!(bundle.manifest.files.len(), 1);
    assert_eq!(bundle.manifest.files[0].size, BOMB_SIZE);
    assert!(bundle.kept.is_empty());
    println!("peak_rss_kib={}", peak_rss_kib());
}

#[test]
fn bomb_is_refused_by_default_and_verifies_in_bounded_memory_when_allowed() {
    if let Some(bomb) = std::env::var_os(CHILD_ENV) {
        child(Path::new(&bomb));
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let bomb = tmp.path().join("bomb.tar.zst");
    let compressed = build_bomb(&bomb);
    assert!(compressed < 1 << 20, "{compressed} bytes");

    // Default cap: max(512 MiB, 20 x the file size) = 512 MiB. Refused from
    // the manifest alone, before frame 2 is decoded.
    let err = read::open(&bomb, &Limits::default(), &|_| true).unwrap_err();
    assert!(
        matches!(err, BundleError::DeclaredTooLarge { declared, cap } if declared > BOMB_SIZE && cap == 512 << 20),
        "{err:?}"
    );
    assert_names(&err, "--max-size");

    // Allowed, but asked to keep it in memory: refused by `max_kept`, naming it.
    let err = read::open(&bomb, &allowing_1_gib(), &|_| true).unwrap_err();
    assert!(
        matches!(&err, BundleError::Content { entry, .. } if entry == BOMB_PATH),
        "{err:?}"
    );
    assert_names(&err, BOMB_PATH);

    // Allowed and streamed: verified by a child process (this test alone),
    // whose peak RSS is its own, unmixed with the other tests' threads.
    let output = Command::new(std::env::current_exe().unwrap())
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &bomb)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let peak: u64 = stdout
        .lines()
        .find_map(|l| l.split_once("peak_rss_kib=").map(|(_, n)| n.trim()))
        .unwrap_or_else(|| panic!("no peak RSS in the child's output: {stdout}"))
        .parse()
        .unwrap();
    eprintln!("verifying {BOMB_SIZE} bytes of zeros: child peak RSS {peak} KiB");
    assert!(peak < PEAK_RSS_CAP_KIB, "peak RSS {peak} KiB");
}
