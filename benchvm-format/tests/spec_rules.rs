//! Plain verification enforces every rule of SPEC.md that needs no raw
//! file: the canonical manifest bytes (one content, one id), `created` in
//! RFC 3339 UTC, every row's platform among the manifest's, and no value
//! given twice; and the exact tar header bytes of §3.
#![allow(clippy::unwrap_used)]

mod common;

use benchvm_format::error::HeaderFault;
use benchvm_format::{BundleError, ManifestError};
use common::*;

const ROW: &str = r#"{"platform":"kvm","accel":"kvm","emulated":false,"experiment":"overall","workload":"cpu","metric":"events_per_sec","unit":"events/s","direction":"higher","repetition":1,"guest":1,"n_guests":1,"stressor":null,"role":null,"status":"ok","value":1661.25,"run":"runs/kvm/overall/cpu/rep-01"}"#;

fn table(lines: &[String]) -> Vec<u8> {
    lines
        .iter()
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        .into_bytes()
}

/// A bundle of `metrics.ndjson` alone whose manifest bytes are `edit`ed.
fn with_manifest(metrics: &[u8], edit: impl Fn(Vec<u8>) -> Vec<u8>) -> Vec<u8> {
    let files: &[(&str, &[u8])] = &[("metrics.ndjson", metrics)];
    two_frames(
        &manifest_frame(&edit(manifest_bytes(files))),
        &files_frame(files),
    )
}

#[test]
fn the_reference_bundle_passes() {
    let metrics = table(&[ROW.to_owned()]);
    verify(&with_manifest(&metrics, |m| m)).unwrap();
}

#[test]
fn a_manifest_in_another_byte_layout_is_refused() {
    let metrics = table(&[ROW.to_owned()]);
    let layouts: [fn(Vec<u8>) -> Vec<u8>; 3] = [
        // The same JSON, compact.
        |m| {
            let v: serde_json::Value = serde_json::from_slice(&m).unwrap();
            let mut out = serde_json::to_vec(&v).unwrap();
            out.push(b'\n');
            out
        },
        // Without its final newline.
        |mut m| {
            m.pop();
            m
        },
        // Indented with four spaces.
        |m| {
            String::from_utf8(m)
                .unwrap()
                .replace("\n  ", "\n    ")
                .into_bytes()
        },
    ];
    for layout in layouts {
        let err = refused(&with_manifest(&metrics, layout));
        assert!(
            matches!(err, BundleError::Manifest(ManifestError::NotCanonical)),
            "{err}"
        );
        assert_names(&err, "manifest.json");
    }
}

#[test]
fn a_created_time_that_is_not_rfc3339_utc_is_refused() {
    let metrics = table(&[ROW.to_owned()]);
    for created in [
        "yesterday",
        "2026-11-25 18:00:00",
        "2026-11-25T19:00:00+01:00",
    ] {
        let bundle = with_manifest(&metrics, |m| {
            String::from_utf8(m)
                .unwrap()
                .replace("2026-11-25T18:00:00Z", created)
                .into_bytes()
        });
        let err = refused(&bundle);
        assert!(
            matches!(err, BundleError::Manifest(ManifestError::Created(_))),
            "{created}: {err}"
        );
        assert_names(&err, created);
    }
}

#[test]
fn a_row_of_a_platform_the_manifest_does_not_list_is_refused() {
    // The manifest lists native and kvm.
    let xen = ROW.replace("\"platform\":\"kvm\"", "\"platform\":\"xen\"");
    let err = refused(&with_manifest(&table(&[ROW.to_owned(), xen]), |m| m));
    assert_names(&err, "metrics.ndjson line 2");
    assert_names(&err, "platform \"xen\" is not one the manifest lists");
}

#[test]
fn a_value_given_twice_is_refused_naming_both_lines() {
    let rep2 = ROW.replace("\"repetition\":1", "\"repetition\":2");
    // The best row again, with another run folder: still one value twice.
    let again = ROW.replace("rep-01", "rep-09");
    let err = refused(&with_manifest(
        &table(&[ROW.to_owned(), rep2.clone(), again]),
        |m| m,
    ));
    assert_names(&err, "metrics.ndjson line 3");
    assert_names(&err, "same value as line 1");
    // Other guests, repetitions or stressors are other values.
    let guest2 = ROW.replace("\"guest\":1,\"n_guests\":1", "\"guest\":2,\"n_guests\":2");
    verify(&with_manifest(
        &table(&[ROW.to_owned(), rep2, guest2]),
        |m| m,
    ))
    .unwrap();
}

/// SPEC.md §3's table, built field by field: the header of `path` (at most
/// 100 bytes) and `size`.
fn spec_header(path: &str, size: u64) -> [u8; BLOCK] {
    let mut block = [0u8; BLOCK];
    let mut put = |at: usize, bytes: &[u8]| block[at..at + bytes.len()].copy_from_slice(bytes);
    put(0, path.as_bytes());
    put(100, b"0000644\0");
    put(108, b"0000000\0");
    put(116, b"0000000\0");
    put(124, format!("{size:011o}\0").as_bytes());
    put(136, b"00000000000\0");
    put(156, b"0");
    put(257, b"ustar\x0000");
    let chksum = checksum_field(&block, 7);
    block[148..156].copy_from_slice(&chksum);
    block
}

#[test]
fn the_writer_s_tar_header_is_byte_for_byte_the_one_spec_section_3_lists() {
    for (path, size) in [
        ("metrics.ndjson", 0),
        ("env/summary.json", 1234),
        ("a", 0o77_777_777_777),
    ] {
        assert_eq!(
            header(path, size)[..],
            spec_header(path, size)[..],
            "{path} ({size} bytes)"
        );
    }
}

#[test]
fn a_checksum_spelled_the_other_ustar_way_is_refused_as_not_canonical() {
    // `010457\0 ` (six digits, NUL, space: valid ustar, GNU tar's spelling)
    // means the same checksum as `0010457\0`, but is not SPEC.md §3's byte.
    let data: &[u8] = b"abc";
    let mut block = header("sum.txt", 3);
    let canonical = block;
    block[field::CHKSUM].copy_from_slice(&checksum_field(&canonical, 6));
    assert_ne!(block, canonical);
    let mut frame2 = record(&block, data);
    frame2.extend_from_slice(&END);
    let err = refused(&with_frame2(&[("sum.txt", data)], &frame2));
    assert!(
        matches!(
            &err,
            BundleError::Header {
                fault: HeaderFault::NotCanonical,
                ..
            }
        ),
        "{err:?}"
    );
    assert_names(&err, "sum.txt");
    // The canonical header of the same entry is accepted.
    let mut frame2 = record(&canonical, data);
    frame2.extend_from_slice(&END);
    verify(&with_frame2(&[("sum.txt", data)], &frame2)).unwrap();
}
