//! Bundles as the writer makes them: round trip, determinism, golden bytes,
//! tampering, and packing a run folder.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::path::Path;

use benchvm_format::error::PackError;
use benchvm_format::manifest::{BundleId, MANIFEST_PATH};
use benchvm_format::read::{self, Limits};
use benchvm_format::rundir;
use benchvm_format::write::{self, Content, Source};
use benchvm_format::{BundleError, RunMeta};
use common::*;

fn sources(files: &[(&str, &[u8])]) -> Vec<Source> {
    files
        .iter()
        .map(|(path, data)| Source {
            path: (*path).into(),
            content: Content::Bytes(data.to_vec()),
        })
        .collect()
}

fn write_bundle(meta: RunMeta, files: &[(&str, &[u8])]) -> Vec<u8> {
    write::plan(meta, sources(files))
        .unwrap()
        .write(Vec::new())
        .unwrap()
}

const METRICS: &[u8] = br#"{"platform":"native","accel":"none","emulated":false,"experiment":"overall","workload":"cpu","metric":"events_per_sec","unit":"events/s","direction":"higher","repetition":1,"guest":null,"n_guests":null,"stressor":null,"role":null,"status":"ok","value":1661.25,"run":"runs/native/overall/cpu/rep-01"}
"#;

/// Several files, spread on both sides of `manifest.json` in byte order,
/// one of them empty and one over a block long.
fn sample() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "runs/native/overall/cpu/rep-01/stdout.log",
            b"events per second: 1661.25\n".to_vec(),
        ),
        ("config/suite.toml", b"name = \"smoke\"\n".to_vec()),
        ("env/summary.json", b"{}\n".to_vec()),
        ("metrics.ndjson", METRICS.to_vec()),
        ("runs/native/overall/cpu/rep-01/stderr.log", Vec::new()),
        (
            "env/cpuinfo.txt",
            (0..3000u32).map(|i| (i % 251) as u8).collect(),
        ),
        ("Z-upper-first.txt", b"sorted before lower case\n".to_vec()),
    ]
}

fn borrowed<'a>(files: &'a [(&'static str, Vec<u8>)]) -> Vec<(&'static str, &'a [u8])> {
    files.iter().map(|(p, d)| (*p, d.as_slice())).collect()
}

#[test]
fn round_trip_keeps_every_file_and_the_manifest() {
    let files = sample();
    let files = borrowed(&files);
    let planned = write::plan(meta(), sources(&files)).unwrap();
    let bytes = planned.write(Vec::new()).unwrap();

    let bundle = verify(&bytes).unwrap();
    assert_eq!(bundle.manifest, planned.manifest);
    assert_eq!(bundle.manifest.meta(), meta());
    assert_eq!(bundle.manifest_bytes, planned.manifest_bytes);
    assert_eq!(bundle.id, planned.id);
    assert_eq!(bundle.id, BundleId::of_manifest(&bundle.manifest_bytes));
    assert_eq!(bundle.id.hex(), sha256_hex(&bundle.manifest_bytes));
    assert_eq!(bundle.compressed_size, bytes.len() as u64);
    assert_eq!(bundle.kept.len(), files.len());
    for (path, data) in &files {
        assert_eq!(bundle.file(path), Some(*data), "{path}");
    }
    let listed: Vec<&str> = bundle
        .manifest
        .files
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    let mut expected: Vec<&str> = files.iter().map(|(p, _)| *p).collect();
    expected.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    assert_eq!(listed, expected);

    // The layout: exactly two frames, the first holding the manifest alone.
    let frames = decoded_frames(&bytes);
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0], manifest_frame(&planned.manifest_bytes));
    assert_eq!(
        frames[1],
        files_frame(&{
            let mut sorted = files.clone();
            sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            sorted
        })
    );
}

#[test]
fn reader_keeps_only_what_it_is_asked_for() {
    let files = sample();
    let bytes = write_bundle(meta(), &borrowed(&files));
    let bundle = read::read(&bytes[..], bytes.len() as u64, &Limits::default(), &|f| {
        f.path == "metrics.ndjson"
    })
    .unwrap();
    assert_eq!(bundle.kept.keys().collect::<Vec<_>>(), ["metrics.ndjson"]);

    let limits = Limits {
        max_kept: 1000,
        ..Limits::default()
    };
    let err = read::read(&bytes[..], bytes.len() as u64, &limits, &|_| true).unwrap_err();
    assert!(
        matches!(&err, BundleError::Content { entry, .. } if entry == "env/cpuinfo.txt"),
        "{err:?}"
    );
    assert_names(&err, "env/cpuinfo.txt");
}

#[test]
fn writer_is_deterministic_and_ignores_input_order() {
    let files = sample();
    let files = borrowed(&files);
    let first = write_bundle(meta(), &files);
    let second = write_bundle(meta(), &files);
    assert_eq!(first, second);

    let mut reversed = files.clone();
    reversed.reverse();
    assert_eq!(write_bundle(meta(), &reversed), first);
    let mut rotated = files.clone();
    rotated.rotate_left(3);
    assert_eq!(write_bundle(meta(), &rotated), first);
}

#[test]
fn golden_bytes() {
    let mut meta = meta();
    meta.label = "golden".into();
    let bytes = write_bundle(
        meta,
        &[
            ("config/suite.toml", b"name = \"smoke\"\n"),
            ("metrics.ndjson", METRICS),
            ("runs/native/overall/cpu/rep-01/stdout.log", b"ok\n"),
        ],
    );
    verify(&bytes).unwrap();
    // This value changes only when the format changes (SPEC.md §2-§5: tar
    // headers, manifest bytes, zstd settings) or when the zstd library pinned
    // by Cargo.lock (zstd-sys, libzstd 1.5.7) changes its output. Either is a
    // deliberate event: bump it then, never to make a refactor pass.
    assert_eq!(
        sha256_hex(&bytes),
        "409a4972d6b2ba043dd3fa67e41ccab3729d4bd54f44e9f02386f74f819fd363"
    );
}

/// Decodes a bundle, lets `edit` change frame 2's decoded bytes, and
/// recompresses both frames with the manifest left as is.
fn edit_frame2(bundle: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut frames = decoded_frames(bundle);
    assert_eq!(frames.len(), 2);
    edit(&mut frames[1]);
    two_frames(&frames[0], &frames[1])
}

#[test]
fn a_flipped_byte_in_any_stored_file_is_a_hash_mismatch_naming_it() {
    let files = sample();
    let files: Vec<_> = borrowed(&files)
        .into_iter()
        .filter(|(_, d)| !d.is_empty())
        .collect();
    let bytes = write_bundle(meta(), &files);
    let entries = tar_entries(&decoded_frames(&bytes)[1]);
    assert_eq!(entries.len(), files.len());
    for (path, offset, size) in entries {
        for at in [offset, offset + size / 2, offset + size - 1] {
            let tampered = edit_frame2(&bytes, |plain| plain[at] ^= 0x20);
            let err = refused(&tampered);
            match &err {
                BundleError::HashMismatch {
                    entry,
                    expected,
                    actual,
                } => {
                    assert_eq!(entry, &path);
                    assert_ne!(expected, actual);
                }
                other => panic!("{path}: expected HashMismatch, got {other:?}"),
            }
            assert_names(&err, &path);
        }
    }
}

#[test]
fn a_flipped_compressed_byte_is_an_error_never_a_panic() {
    let bytes = write_bundle(
        meta(),
        &[
            ("config/suite.toml", b"name = \"smoke\"\n"),
            ("metrics.ndjson", METRICS),
        ],
    );
    let original = verify(&bytes).unwrap();
    let (mut refused, mut tried) = (0, 0);
    for at in 0..bytes.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut flipped = bytes.clone();
            flipped[at] ^= mask;
            tried += 1;
            // A panic here fails the test. Not every compressed bit matters
            // (a larger window in the frame header, an unused table entry
            // decode the same bytes), so a flip may pass, but only when the
            // content is unchanged: the checksums and hashes catch the rest.
            match verify(&flipped) {
                Err(_) => refused += 1,
                Ok(bundle) => {
                    assert_eq!(bundle.manifest_bytes, original.manifest_bytes, "byte {at}");
                    assert_eq!(bundle.kept, original.kept, "byte {at} ^ {mask:#04x}");
                }
            }
        }
    }
    // 769 bytes x 3 masks; 8 flips were found harmless when this was written.
    assert!(
        refused * 100 >= tried * 98,
        "only {refused} of {tried} flips refused"
    );
}

// ---- run folders -------------------------------------------------------

fn write_file(path: &Path, data: &[u8]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, data).unwrap();
}

/// A run folder as `collect` leaves it, with its private dot-files.
fn run_dir(root: &Path) {
    write_file(
        &root.join("meta.json"),
        &serde_json::to_vec_pretty(&meta()).unwrap(),
    );
    write_file(&root.join("metrics.ndjson"), METRICS);
    write_file(&root.join("env/summary.json"), b"{\"host\": \"lab-03\"}\n");
    write_file(&root.join("env/uname.txt"), b"Linux lab-03 6.12.0\n");
    write_file(&root.join("config/suite.toml"), b"name = \"smoke\"\n");
    write_file(&root.join("config/plan.json"), b"[]\n");
    let rep = root.join("runs/native/overall/cpu/rep-01");
    write_file(&rep.join("stdout.log"), b"events per second: 1661.25\n");
    write_file(&rep.join("stderr.log"), b"");
    write_file(&rep.join("run.json"), b"{\"status\": \"ok\"}\n");
    // The collector's own state: never packed.
    write_file(&root.join(".journal"), b"journal");
    write_file(&root.join(".lock"), b"");
    write_file(&root.join(".tmp/partial.log"), b"half");
}

#[test]
fn pack_is_reproducible_and_skips_dot_files() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    run_dir(&run);
    let a = rundir::pack(&run, Some(&tmp.path().join("a.tar.zst")), tmp.path()).unwrap();
    let b = rundir::pack(&run, Some(&tmp.path().join("b.tar.zst")), tmp.path()).unwrap();
    let bytes = fs::read(&a.path).unwrap();
    assert_eq!(bytes, fs::read(&b.path).unwrap());
    assert_eq!(a.id, b.id);
    assert_eq!(a.bytes, bytes.len() as u64);

    // Default name: <label slug>-<id12>.tar.zst, same bytes again.
    let out = tmp.path().join("out");
    let c = rundir::pack(&run, None, &out).unwrap();
    assert_eq!(
        c.path,
        out.join(format!("integration-test-{}.tar.zst", a.id.short()))
    );
    assert_eq!(fs::read(&c.path).unwrap(), bytes);
    // No temporary file is left beside the bundles.
    assert_eq!(fs::read_dir(&out).unwrap().count(), 1);

    let bundle = read::open(&a.path, &Limits::default(), &|_| true).unwrap();
    assert_eq!(bundle.id, a.id);
    assert_eq!(bundle.manifest.meta(), meta());
    let paths: Vec<&str> = bundle.kept.keys().map(String::as_str).collect();
    assert_eq!(
        paths,
        [
            "config/plan.json",
            "config/suite.toml",
            "env/summary.json",
            "env/uname.txt",
            "metrics.ndjson",
            "runs/native/overall/cpu/rep-01/run.json",
            "runs/native/overall/cpu/rep-01/stderr.log",
            "runs/native/overall/cpu/rep-01/stdout.log",
        ]
    );
    assert_eq!(a.files, paths.len() + 1);
    for path in paths {
        assert_eq!(
            bundle.file(path).unwrap(),
            fs::read(run.join(path)).unwrap()
        );
    }
    assert!(bundle
        .kept
        .keys()
        .all(|p| !p.contains("journal") && p != MANIFEST_PATH));
}

#[test]
fn pack_refuses_a_symlink() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    run_dir(&run);
    let link = run.join("env/hosts");
    std::os::unix::fs::symlink("/etc/hosts", &link).unwrap();
    let err = rundir::pack(&run, Some(&tmp.path().join("x.tar.zst")), tmp.path()).unwrap_err();
    assert!(
        matches!(&err, PackError::NotRegular { path } if *path == link),
        "{err:?}"
    );
    assert_names(&err, &link.display().to_string());
    assert!(!tmp.path().join("x.tar.zst").exists());

    // A symlink at the top level too.
    fs::remove_file(&link).unwrap();
    let top = run.join("runs-old");
    std::os::unix::fs::symlink(run.join("runs"), &top).unwrap();
    let err = rundir::pack(&run, Some(&tmp.path().join("x.tar.zst")), tmp.path()).unwrap_err();
    assert!(
        matches!(&err, PackError::NotRegular { path } if *path == top),
        "{err:?}"
    );
    assert_names(&err, "runs-old");
}

#[test]
fn pack_refuses_an_unexpected_top_level_file() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    run_dir(&run);
    write_file(&run.join("notes.txt"), b"forgot to tidy up");
    let err = rundir::pack(&run, Some(&tmp.path().join("x.tar.zst")), tmp.path()).unwrap_err();
    assert!(
        matches!(&err, PackError::Unexpected { path } if *path == run.join("notes.txt")),
        "{err:?}"
    );
    assert_names(&err, "notes.txt");
}

#[test]
fn pack_refuses_invalid_metrics_naming_the_line() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    run_dir(&run);
    let good = std::str::from_utf8(METRICS).unwrap();
    let bad = good.replace("\"events/s\"", "\"Events Per Second\"");
    write_file(
        &run.join("metrics.ndjson"),
        format!("{good}{bad}").as_bytes(),
    );
    let err = rundir::pack(&run, Some(&tmp.path().join("x.tar.zst")), tmp.path()).unwrap_err();
    match &err {
        PackError::Metrics { path, error } => {
            assert_eq!(*path, run.join("metrics.ndjson"));
            assert_eq!(error.line, 2);
            assert!(
                error.reason.contains("is written \"events/s\""),
                "{}",
                error.reason
            );
        }
        other => panic!("expected PackError::Metrics, got {other:?}"),
    }
    assert_names(&err, "metrics.ndjson line 2");
    assert!(!tmp.path().join("x.tar.zst").exists());
}
