//! Plain verification enforces every rule of SPEC.md that needs no raw
//! file: the canonical manifest bytes (one content, one id), `created` in
//! RFC 3339 UTC, every row's platform among the manifest's, and no value
//! given twice.
#![allow(clippy::unwrap_used)]

mod common;

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
