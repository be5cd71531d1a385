//! The one-pass writer against the reference writer: same bytes for every
//! input, whatever the number of zstd workers (issue 9).
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::path::Path;

use benchvm_format::error::PackError;
use benchvm_format::write::{self, Content, Source};
use common::*;

/// Deterministic bytes: `text` gives log-like lines (compressible), otherwise
/// splitmix64 output (incompressible).
fn bytes(len: usize, seed: u64, text: bool) -> Vec<u8> {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut out = Vec::with_capacity(len + 64);
    while out.len() < len {
        if text {
            let n = next();
            out.extend_from_slice(
                format!(
                    "[{:8}.{:06}] CC drivers/net/{:x}.o\n",
                    n % 9999,
                    n % 999_999,
                    n % 4096
                )
                .as_bytes(),
            );
        } else {
            out.extend_from_slice(&next().to_le_bytes());
        }
    }
    out.truncate(len);
    out
}

/// Writes `files` under `root` and returns them as sources: on disk, or in
/// memory for the paths ending in `.mem`.
fn sources(root: &Path, files: &[(&str, Vec<u8>)]) -> Vec<Source> {
    files
        .iter()
        .map(|(path, data)| {
            let content = if path.ends_with(".mem") {
                Content::Bytes(data.clone())
            } else {
                let file = root.join(path);
                fs::create_dir_all(file.parent().unwrap()).unwrap();
                fs::write(&file, data).unwrap();
                Content::File(file)
            };
            Source {
                path: (*path).into(),
                content,
            }
        })
        .collect()
}

/// Packs `files` with both writers (the one-pass one with 1 to 4 workers)
/// and asserts the bytes are the same; returns them.
fn same_bytes(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let tmp = tempfile::tempdir().unwrap();
    let sources = sources(&tmp.path().join("src"), files);
    let planned = write::plan(meta(), sources.clone()).unwrap();
    let reference = planned.write(Vec::new()).unwrap();
    for workers in 1..=4 {
        let out = tmp.path().join("out");
        fs::create_dir_all(&out).unwrap();
        let dest = out.join(format!("b{workers}.tar.zst"));
        let staged = write::stage_with_workers(meta(), sources.clone(), &out, workers).unwrap();
        assert_eq!(staged.id, planned.id);
        assert_eq!(staged.manifest_bytes, planned.manifest_bytes);
        let len = staged.write_file(&dest).unwrap();
        let fast = fs::read(&dest).unwrap();
        assert_eq!(len, fast.len() as u64);
        assert!(fast == reference, "{workers} workers: bytes differ");
        // Only the bundle is left in its folder: no temporary file.
        assert_eq!(fs::read_dir(&out).unwrap().count(), 1);
        fs::remove_dir_all(&out).unwrap();
    }
    let bundle = verify(&reference).unwrap();
    assert_eq!(bundle.id, planned.id);
    reference
}

#[test]
fn no_files() {
    same_bytes(&[]);
}

#[test]
fn empty_files_and_block_boundaries() {
    same_bytes(&[
        ("a/empty.log", Vec::new()),
        ("a/empty.mem", Vec::new()),
        ("b/one.log", b"x".to_vec()),
        ("b/511.log", bytes(511, 1, true)),
        ("b/512.log", bytes(512, 2, true)),
        ("b/512.mem", bytes(512, 3, false)),
        ("b/513.log", bytes(513, 4, false)),
        ("b/1024.log", bytes(1024, 5, true)),
        ("c/z-last.log", Vec::new()),
    ]);
}

#[test]
fn read_buffer_boundaries() {
    // The one-pass writer reads 256 KiB at a time.
    same_bytes(&[
        ("runs/0.log", bytes((256 << 10) - 1, 16, true)),
        ("runs/1.log", bytes(256 << 10, 17, false)),
        ("runs/2.log", bytes((256 << 10) + 1, 18, true)),
        ("runs/a.log", bytes((1 << 20) - 1, 6, true)),
        ("runs/b.log", bytes(1 << 20, 7, true)),
        ("runs/c.log", bytes((1 << 20) + 1, 8, false)),
        ("runs/d.mem", bytes(3 << 20, 9, true)),
    ]);
}

#[test]
fn large_files_over_several_zstd_jobs() {
    // zstd's multithreaded jobs are 4 x 2^21 = 8 MiB at level 3: these span
    // several, compressible and not, and one job holds parts of two files.
    same_bytes(&[
        ("runs/native/build/stdout.log", bytes(21 << 20, 10, true)),
        ("runs/native/build/stderr.log", bytes(5 << 20, 11, false)),
        (
            "runs/native/fio/stdout.log",
            bytes((9 << 20) + 333, 12, true),
        ),
        ("metrics.ndjson", Vec::new()),
        ("env/cpuinfo.txt", bytes(70_000, 13, true)),
    ]);
}

#[test]
fn a_destination_in_another_folder_gets_a_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let files = [("runs/a.log", bytes(300_000, 14, true))];
    let sources = sources(&tmp.path().join("src"), &files);
    let reference = write::plan(meta(), sources.clone())
        .unwrap()
        .write(Vec::new())
        .unwrap();
    let (staging, elsewhere) = (tmp.path().join("staging"), tmp.path().join("elsewhere"));
    fs::create_dir_all(&staging).unwrap();
    fs::create_dir_all(&elsewhere).unwrap();
    let staged = write::stage(meta(), sources, &staging).unwrap();
    let dest = elsewhere.join("b.tar.zst");
    staged.write_file(&dest).unwrap();
    assert!(fs::read(&dest).unwrap() == reference);
    assert_eq!(fs::read_dir(&staging).unwrap().count(), 0);
    assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 1);
}

#[test]
fn a_staged_bundle_dropped_unnamed_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let files = [("runs/a.log", bytes(10_000, 15, true))];
    let sources = sources(&tmp.path().join("src"), &files);
    let out = tmp.path().join("out");
    fs::create_dir_all(&out).unwrap();
    let staged = write::stage(meta(), sources, &out).unwrap();
    assert_eq!(fs::read_dir(&out).unwrap().count(), 1);
    drop(staged);
    assert_eq!(fs::read_dir(&out).unwrap().count(), 0);
}

#[test]
fn refuses_a_source_that_is_not_a_regular_file() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join("folder");
    fs::create_dir(&folder).unwrap();
    let sources = vec![Source {
        path: "runs/x.log".into(),
        content: Content::File(folder.clone()),
    }];
    let out = tmp.path().join("out");
    fs::create_dir(&out).unwrap();
    let err = write::stage(meta(), sources, &out).unwrap_err();
    assert!(
        matches!(&err, PackError::NotRegular { path } if *path == folder),
        "{err:?}"
    );
    assert_eq!(fs::read_dir(&out).unwrap().count(), 0);
}

#[test]
fn refuses_what_the_reference_writer_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    for paths in [
        vec!["manifest.json"],
        vec!["a/B.log", "a/b.log"],
        vec!["../escape"],
    ] {
        let sources: Vec<Source> = paths
            .iter()
            .map(|p| Source {
                path: (*p).into(),
                content: Content::Bytes(Vec::new()),
            })
            .collect();
        let reference = write::plan(meta(), sources.clone()).unwrap_err();
        let fast = write::stage(meta(), sources, tmp.path()).unwrap_err();
        assert_eq!(fast.to_string(), reference.to_string());
    }
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
}
