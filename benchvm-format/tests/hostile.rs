//! Hostile bundles, zstd and manifest layers: frames, the manifest entry and
//! files against the manifest (shared/reliability.md, part A, items 7, 9-11).
//! The tar layer is in `hostile_tar.rs`, the metrics table in
//! `hostile_metrics.rs`, the decompression bomb in `bomb.rs`.
#![allow(clippy::unwrap_used)]

mod common;

use benchvm_format::error::ManifestError;
use benchvm_format::manifest::MANIFEST_PATH;
use benchvm_format::read::Limits;
use benchvm_format::BundleError;
use common::*;

const A: (&str, &[u8]) = ("env/a.txt", b"alpha\n");
const B: (&str, &[u8]) = ("runs/b.log", b"bravo\n");
const C: (&str, &[u8]) = ("runs/c.log", b"charlie\n");

// ---- zstd frames --------------------------------------------------------

/// A zstd frame made by hand: no checksum, no content size, the given window
/// descriptor byte, and `plain` as one raw block.
fn hand_frame(window_descriptor: u8, plain: &[u8]) -> Vec<u8> {
    let mut out = ZSTD_MAGIC.to_vec();
    out.push(0x00); // descriptor: no single segment, checksum or dictionary
    out.push(window_descriptor);
    let block_header = 1 | (u32::try_from(plain.len()).unwrap() << 3); // last, raw
    out.extend_from_slice(&block_header.to_le_bytes()[..3]);
    out.extend_from_slice(plain);
    out
}

/// Window descriptor byte for a window of exactly 2^log bytes.
fn window(log: u8) -> u8 {
    (log - 10) << 3
}

#[test]
fn frame1_declaring_a_2_pow_28_window_is_refused_before_decoding() {
    let mut bytes = hand_frame(window(28), &manifest_frame(&manifest_bytes(&[A])));
    bytes.extend_from_slice(&zstd_frame(&files_frame(&[A])));
    let err = refused(&bytes);
    assert!(
        matches!(
            err,
            BundleError::Window {
                frame: 1,
                log: 28,
                max_log: 27
            }
        ),
        "{err:?}"
    );
    assert_names(&err, "zstd frame 1");
}

#[test]
fn frame2_declaring_a_2_pow_31_window_is_refused_before_decoding() {
    let mut bytes = zstd_frame(&manifest_frame(&manifest_bytes(&[A])));
    bytes.extend_from_slice(&hand_frame(window(31), &files_frame(&[A])));
    let err = refused(&bytes);
    assert!(
        matches!(
            err,
            BundleError::Window {
                frame: 2,
                log: 31,
                ..
            }
        ),
        "{err:?}"
    );
    assert_names(&err, "zstd frame 2");
}

#[test]
fn single_segment_frame_declaring_a_huge_content_size_is_refused() {
    // Single segment: the window is the content size, here 2^40 bytes.
    let mut bytes = zstd_frame(&manifest_frame(&manifest_bytes(&[A])));
    bytes.extend_from_slice(&ZSTD_MAGIC);
    bytes.push(0xE0); // 8-byte content size, single segment
    bytes.extend_from_slice(&(1u64 << 40).to_le_bytes());
    bytes.extend_from_slice(&[1, 0, 0]);
    let err = refused(&bytes);
    assert!(
        matches!(
            err,
            BundleError::Window {
                frame: 2,
                log: 40,
                ..
            }
        ),
        "{err:?}"
    );
    assert_names(&err, "zstd frame 2 declares a window of 2^40");
}

#[test]
fn a_2_pow_27_window_is_within_the_cap() {
    let mut bytes = hand_frame(window(27), &manifest_frame(&manifest_bytes(&[A])));
    bytes.extend_from_slice(&hand_frame(window(27), &files_frame(&[A])));
    assert_eq!(verify(&bytes).unwrap().file(A.0), Some(A.1));
}

#[test]
fn truncated_frame2() {
    let bytes = valid(&[A, B]);
    let cut = &bytes[..bytes.len() - 6];
    let err = refused(cut);
    assert!(
        matches!(&err, BundleError::Truncated { what } if what.contains("frame 2")),
        "{err:?}"
    );
    assert_names(&err, "zstd frame 2 ends early");
}

#[test]
fn truncated_frame1() {
    let bytes = valid(&[A]);
    let frame1 = compressed_frames(&bytes)[0].len();
    let err = refused(&bytes[..frame1 / 2]);
    assert!(
        matches!(&err, BundleError::Truncated { what } if what.contains("frame 1")),
        "{err:?}"
    );
    assert_names(&err, "zstd frame 1 ends early");
}

#[test]
fn frame2_missing() {
    let bytes = valid(&[A]);
    let frame1 = compressed_frames(&bytes)[0].len();
    let err = refused(&bytes[..frame1]);
    assert!(
        matches!(&err, BundleError::Truncated { what } if what.contains("frame 2 is missing")),
        "{err:?}"
    );
    assert_names(&err, "zstd frame 2 is missing");
}

#[test]
fn empty_file() {
    let err = refused(b"");
    assert!(
        matches!(&err, BundleError::Truncated { what } if what.contains("frame 1 is missing")),
        "{err:?}"
    );
    assert_names(&err, "zstd frame 1 is missing");
}

#[test]
fn not_zstd_at_all() {
    let err = refused(&manifest_frame(&manifest_bytes(&[])));
    assert!(
        matches!(&err, BundleError::Frame { frame: 1, reason } if reason.contains("magic")),
        "{err:?}"
    );
    assert_names(&err, "zstd frame 1");
}

#[test]
fn tar_without_end_blocks() {
    let frame2: Vec<u8> = [file(A.0, A.1), file(B.0, B.1)].concat();
    let err = refused(&with_frame2(&[A, B], &frame2));
    assert!(
        matches!(&err, BundleError::Truncated { what } if what.contains("end-of-archive")),
        "{err:?}"
    );
}

#[test]
fn tar_with_one_end_block() {
    let frame2: Vec<u8> = [file(A.0, A.1), vec![0; BLOCK]].concat();
    let err = refused(&with_frame2(&[A], &frame2));
    assert!(
        matches!(&err, BundleError::Truncated { what } if what.contains("one end-of-archive")),
        "{err:?}"
    );
}

#[test]
fn data_after_the_end_blocks() {
    // An entry hidden after the end marker, which `tar -i` would still list.
    let mut frame2 = files_frame(&[A]);
    frame2.extend_from_slice(&file("hidden.txt", b"not in the manifest"));
    let err = refused(&with_frame2(&[A], &frame2));
    assert!(matches!(err, BundleError::TrailingData), "{err:?}");
}

#[test]
fn zero_blocks_after_the_end_blocks() {
    let mut frame2 = files_frame(&[A]);
    frame2.extend_from_slice(&END);
    let err = refused(&with_frame2(&[A], &frame2));
    assert!(matches!(err, BundleError::TrailingData), "{err:?}");
}

#[test]
fn third_frame_appended() {
    let mut bytes = valid(&[A]);
    let extra = zstd_frame(&file("extra.txt", b"smuggled"));
    bytes.extend_from_slice(&extra);
    let err = refused(&bytes);
    assert!(
        matches!(err, BundleError::TrailingFrames { count } if count == extra.len()),
        "{err:?}"
    );
}

#[test]
fn skippable_frame_appended() {
    let mut bytes = valid(&[A]);
    bytes.extend_from_slice(&[0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, b's', b'i', b'g', b'!']);
    let err = refused(&bytes);
    assert!(
        matches!(err, BundleError::TrailingFrames { count: 12 }),
        "{err:?}"
    );
}

#[test]
fn skippable_frame_in_place_of_frame2() {
    let mut bytes = zstd_frame(&manifest_frame(&manifest_bytes(&[])));
    bytes.extend_from_slice(&[0x50, 0x2A, 0x4D, 0x18, 0, 0, 0, 0]);
    bytes.extend_from_slice(&zstd_frame(&END));
    let err = refused(&bytes);
    assert!(
        matches!(&err, BundleError::Frame { frame: 2, reason } if reason.contains("skippable")),
        "{err:?}"
    );
}

#[test]
fn one_frame_tar_zst() {
    // An ordinary `tar --zstd` of the same entries: everything in frame 1.
    let plain = [manifest_frame(&manifest_bytes(&[A])), files_frame(&[A])].concat();
    let err = refused(&zstd_frame(&plain));
    assert!(matches!(err, BundleError::ManifestFrameNotAlone), "{err:?}");
    assert_names(&err, "zstd frame 1");
}

// ---- manifest.json ------------------------------------------------------

#[test]
fn manifest_missing() {
    let bytes = two_frames(&file("metrics.ndjson", b""), &END);
    let err = refused(&bytes);
    assert!(
        matches!(&err, BundleError::ManifestNotFirst { entry } if entry == "metrics.ndjson"),
        "{err:?}"
    );
    assert_names(&err, "\"metrics.ndjson\"");
}

#[test]
fn manifest_not_first() {
    let frame1 = [file(A.0, A.1), manifest_frame(&manifest_bytes(&[A]))].concat();
    let err = refused(&two_frames(&frame1, &END));
    assert!(
        matches!(&err, BundleError::ManifestNotFirst { entry } if entry == A.0),
        "{err:?}"
    );
    assert_names(&err, A.0);
}

#[test]
fn manifest_twice() {
    let manifest = manifest_bytes(&[A]);
    let frame2 = [manifest_frame(&manifest), files_frame(&[A])].concat();
    let err = refused(&two_frames(&manifest_frame(&manifest), &frame2));
    assert!(
        matches!(&err, BundleError::Duplicate { entry } if entry == MANIFEST_PATH),
        "{err:?}"
    );
    assert_names(&err, "entry manifest.json");
}

#[test]
fn manifest_frame_with_another_entry_at_the_manifest_cap() {
    let manifest = manifest_bytes(&[A]);
    assert_ne!(manifest.len() % BLOCK, 0, "the case needs padding");
    let limits = Limits {
        max_manifest: manifest.len() as u64,
        ..Limits::default()
    };
    verify_with(&valid(&[A]), &limits).unwrap();
    let frame1 = [manifest_frame(&manifest), file(A.0, A.1)].concat();
    let err = refused_with(&two_frames(&frame1, &END), &limits);
    assert!(matches!(err, BundleError::ManifestFrameNotAlone), "{err:?}");
    assert_names(&err, "more than manifest.json");
}

#[test]
fn manifest_over_its_cap() {
    let limits = Limits {
        max_manifest: 100,
        ..Limits::default()
    };
    let size = manifest_bytes(&[A]).len() as u64;
    let err = refused_with(&valid(&[A]), &limits);
    assert!(
        matches!(err, BundleError::ManifestTooLarge { size: s, cap: 100 } if s == size),
        "{err:?}"
    );
    assert_names(&err, "manifest.json");
}

#[test]
fn manifest_frame_empty() {
    let err = refused(&two_frames(b"", &END));
    assert!(
        matches!(&err, BundleError::Truncated { what } if what.contains("frame 1 is empty")),
        "{err:?}"
    );
    assert_names(&err, "zstd frame 1 is empty");
}

#[test]
fn manifest_cut_short() {
    let manifest = manifest_bytes(&[A]);
    let frame1 = manifest_frame(&manifest);
    let err = refused(&two_frames(&frame1[..BLOCK + 100], &files_frame(&[A])));
    assert!(
        matches!(&err, BundleError::Truncated { what } if what.contains("manifest.json")),
        "{err:?}"
    );
    assert_names(&err, "manifest.json");
}

/// The error for a bundle whose manifest bytes are `manifest`.
fn manifest_error(manifest: &[u8]) -> BundleError {
    refused(&two_frames(&manifest_frame(manifest), &END))
}

#[test]
fn manifest_invalid_utf8() {
    let mut bytes = manifest_bytes(&[]);
    let at = bytes.iter().position(|&b| b == b'l').unwrap(); // inside "lab-03"
    bytes[at] = 0xff;
    let err = manifest_error(&bytes);
    assert!(
        matches!(err, BundleError::Manifest(ManifestError::Utf8)),
        "{err:?}"
    );
    assert_names(&err, "manifest.json");
}

#[test]
fn manifest_duplicate_json_keys() {
    // serde_json's maps keep the last value silently; the manifest must not.
    let text = String::from_utf8(manifest_bytes(&[])).unwrap();
    let doubled = text.replacen(
        "\"host\": \"lab-03\",",
        "\"host\": \"lab-03\", \"host\": \"evil\",",
        1,
    );
    assert_ne!(doubled, text);
    let err = manifest_error(doubled.as_bytes());
    assert!(
        matches!(&err, BundleError::Manifest(ManifestError::Json(e)) if e.to_string().contains("duplicate field `host`")),
        "{err:?}"
    );
    assert_names(&err, "manifest.json");
}

#[test]
fn manifest_absurd_nesting() {
    // A million nested arrays (2 MB, under the manifest cap): refused with a
    // JSON error, without overflowing the stack, wherever they stand.
    let text = String::from_utf8(manifest_bytes(&[])).unwrap();
    let deep = format!("{}{}", "[".repeat(1_000_000), "]".repeat(1_000_000));
    for nested in [
        text.replacen("\"integration test\"", &deep, 1),
        text.replacen("\"host\":", &format!("\"x\": {deep},\n  \"host\":"), 1),
        text.replacen("\"native\"", &deep, 1),
        deep.clone(),
    ] {
        assert_ne!(nested, text);
        let err = manifest_error(nested.as_bytes());
        assert!(
            matches!(&err, BundleError::Manifest(ManifestError::Json(_))),
            "{err:?}"
        );
        assert_names(&err, "manifest.json: invalid JSON");
    }
}

#[test]
fn manifest_unknown_format_version() {
    let text = String::from_utf8(manifest_bytes(&[A])).unwrap();
    let v2 = text.replacen("\"format_version\": 1", "\"format_version\": 2", 1);
    let err = manifest_error(v2.as_bytes());
    assert!(
        matches!(
            err,
            BundleError::Manifest(ManifestError::UnsupportedVersion {
                found: 2,
                supported: 1
            })
        ),
        "{err:?}"
    );
    assert_names(&err, "format_version 2");
    assert_names(&err, "manifest.json");
}

#[test]
fn manifest_of_another_format() {
    let text = String::from_utf8(manifest_bytes(&[])).unwrap();
    let other = text.replacen("\"benchvm-bundle\"", "\"oci-image\"", 1);
    let err = manifest_error(other.as_bytes());
    assert!(
        matches!(&err, BundleError::Manifest(ManifestError::WrongFormat(f)) if f == "oci-image"),
        "{err:?}"
    );
    assert_names(&err, "manifest.json");
}

#[test]
fn manifest_unknown_key() {
    let text = String::from_utf8(manifest_bytes(&[])).unwrap();
    let extra = text.replacen("\"host\":", "\"signature\": \"trust me\",\n  \"host\":", 1);
    let err = manifest_error(extra.as_bytes());
    assert!(
        matches!(&err, BundleError::Manifest(ManifestError::Json(e)) if e.to_string().contains("unknown field `signature`")),
        "{err:?}"
    );
    assert_names(&err, "manifest.json");
}

// ---- files against the manifest -----------------------------------------

#[test]
fn file_not_in_the_manifest() {
    let err = refused(&craft(&[A, C], &[A, B, C]));
    assert!(
        matches!(&err, BundleError::NotInManifest { entry } if entry == B.0),
        "{err:?}"
    );
    assert_names(&err, "entry runs/b.log");
}

#[test]
fn manifest_entry_with_no_file_at_the_end() {
    let err = refused(&craft(&[A, B], &[A]));
    assert!(
        matches!(&err, BundleError::Missing { entry } if entry == B.0),
        "{err:?}"
    );
    assert_names(&err, "entry runs/b.log");
}

#[test]
fn manifest_entry_with_no_file_in_the_middle() {
    let err = refused(&craft(&[A, B, C], &[A, C]));
    assert!(
        matches!(&err, BundleError::Missing { entry } if entry == B.0),
        "{err:?}"
    );
    assert_names(&err, "entry runs/b.log");
}

#[test]
fn size_mismatch() {
    let err = refused(&craft(&[A, B], &[A, (B.0, b"bravo!\n")]));
    assert!(
        matches!(&err, BundleError::SizeMismatch { entry, expected: 6, actual: 7 } if entry == B.0),
        "{err:?}"
    );
    assert_names(&err, "entry runs/b.log");
}

#[test]
fn sha256_mismatch() {
    let err = refused(&craft(&[A, B], &[A, (B.0, b"BRAVO\n")]));
    assert!(
        matches!(&err, BundleError::HashMismatch { entry, expected, actual }
            if entry == B.0 && *expected == sha256_hex(B.1) && *actual == sha256_hex(b"BRAVO\n")),
        "{err:?}"
    );
    assert_names(&err, "entry runs/b.log");
}

#[test]
fn non_zero_padding() {
    let mut frame2 = files_frame(&[A, B]);
    frame2[BLOCK + A.1.len() + 3] = b'!'; // in A's padding
    let err = refused(&with_frame2(&[A, B], &frame2));
    assert!(
        matches!(&err, BundleError::Content { entry, reason } if entry == A.0 && reason.contains("padding")),
        "{err:?}"
    );
    assert_names(&err, A.0);
}

#[test]
fn file_data_cut_short() {
    let frame2 = [header(B.0, 4000).to_vec(), vec![b'b'; 1000]].concat();
    let mut big = manifest(&[]);
    big.files.push(benchvm_format::FileEntry {
        path: B.0.into(),
        size: 4000,
        sha256: sha256_hex(&[b'b'; 4000]),
    });
    let err = refused(&two_frames(&manifest_frame(&big.to_bytes()), &frame2));
    assert!(
        matches!(&err, BundleError::Truncated { what } if what.contains(B.0)),
        "{err:?}"
    );
    assert_names(&err, "entry runs/b.log");
}

#[test]
fn declared_sizes_that_overflow() {
    let mut manifest = manifest(&[]);
    for (i, size) in [u64::MAX, u64::MAX / 2].into_iter().enumerate() {
        manifest.files.push(benchvm_format::FileEntry {
            path: format!("huge-{i}"),
            size,
            sha256: "0".repeat(64),
        });
    }
    let err = refused(&two_frames(&manifest_frame(&manifest.to_bytes()), &END));
    assert!(
        matches!(
            err,
            BundleError::DeclaredTooLarge {
                declared: u64::MAX,
                ..
            }
        ),
        "{err:?}"
    );
    assert_names(&err, "--max-size");
}
