//! Hostile metrics tables (shared/reliability.md, part A, item 12): NaN,
//! infinity, negative durations, units that are not printable or not in
//! their canonical spelling, unknown statuses are validation
//! errors naming the line, from the parser, the packer and the reader alike;
//! never a panic, never a silent NaN in a table.
#![allow(clippy::unwrap_used)]

mod common;

use benchvm_format::error::{MetricsError, PackError};
use benchvm_format::metrics;
use benchvm_format::read::Limits;
use benchvm_format::BundleError;
use common::*;

const A: (&str, &[u8]) = ("env/a.txt", b"alpha\n");

const ROW: &str = r#"{"platform":"kvm","accel":"kvm","emulated":false,"experiment":"overall","workload":"kernel-compile","metric":"wall_time","unit":"s","direction":"lower","repetition":1,"guest":1,"n_guests":1,"stressor":null,"role":null,"status":"ok","value":81.5,"run":"runs/kvm/overall/kernel-compile/rep-01"}"#;

/// Two lines: a good one, then the good one edited by `from -> to`.
fn metrics_with(from: &str, to: &str) -> Vec<u8> {
    let bad = ROW.replacen(from, to, 1);
    assert_ne!(bad, ROW);
    format!("{ROW}\n{bad}\n").into_bytes()
}

#[track_caller]
fn assert_metrics_refused(bytes: &[u8], reason: &str) {
    assert_eq!(
        metrics::parse(format!("{ROW}\n").as_bytes()).unwrap().len(),
        1
    );
    let err = metrics::parse(bytes).unwrap_err();
    assert_eq!(err.line, 2, "{err}");
    assert!(err.reason.contains(reason), "{err} lacks {reason:?}");
    assert!(matches!(err, MetricsError { line: 2, .. }));
    assert_names(&err, "metrics.ndjson line 2");
}

/// The hostile rows: (edit from, edit to, expected reason).
const HOSTILE_ROWS: [(&str, &str, &str); 6] = [
    // JSON has no NaN or infinity: the literal is a syntax error and an
    // overflowing number is out of range; neither becomes a float.
    ("81.5", "NaN", "expected value"),
    ("81.5", "1e999", "out of range"),
    ("81.5", "-0.25", "negative duration"),
    ("\"s\"", "\"s\\u0007\"", "control or invisible character"),
    ("\"ok\"", "\"meh\"", "unknown variant `meh`"),
    (
        "\"value\":81.5",
        "\"value\":null",
        "status ok needs a value",
    ),
];

#[test]
fn metrics_nan() {
    let (from, to, reason) = HOSTILE_ROWS[0];
    assert_metrics_refused(&metrics_with(from, to), reason);
}

#[test]
fn metrics_infinity() {
    let (from, to, reason) = HOSTILE_ROWS[1];
    assert_metrics_refused(&metrics_with(from, to), reason);
}

#[test]
fn metrics_negative_duration() {
    let (from, to, reason) = HOSTILE_ROWS[2];
    assert_metrics_refused(&metrics_with(from, to), reason);
    // A negative value of a unit that is not a duration is allowed.
    let delta = ROW
        .replacen("\"s\"", "\"%\"", 1)
        .replacen("81.5", "-0.25", 1);
    assert_eq!(
        metrics::parse(format!("{delta}\n").as_bytes()).unwrap()[0].value,
        Some(-0.25)
    );
}

#[test]
fn metrics_hostile_unit() {
    let (from, to, reason) = HOSTILE_ROWS[3];
    assert_metrics_refused(&metrics_with(from, to), reason);
    // Another spelling of a canonical unit is not how a bundle writes it.
    assert_metrics_refused(
        &metrics_with("\"s\"", "\"Seconds\""),
        "is written \"s\" in a bundle",
    );
    let long = format!("\"{}\"", "x".repeat(33));
    assert_metrics_refused(&metrics_with("\"s\"", &long), "at most 32");
    // Units are an open vocabulary (SPEC.md §7.1): a unit no table knows is
    // a unit.
    let open = ROW.replacen("\"s\"", "\"fortnights\"", 1);
    let rows = metrics::parse(format!("{open}\n").as_bytes()).unwrap();
    assert_eq!(rows[0].unit.as_str(), "fortnights");
}

#[test]
fn metrics_unknown_status() {
    let (from, to, reason) = HOSTILE_ROWS[4];
    assert_metrics_refused(&metrics_with(from, to), reason);
}

#[test]
fn pack_refuses_hostile_metrics() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    std::fs::create_dir_all(run.join("env")).unwrap();
    std::fs::write(run.join("meta.json"), serde_json::to_vec(&meta()).unwrap()).unwrap();
    for (from, to, reason) in HOSTILE_ROWS {
        std::fs::write(run.join("metrics.ndjson"), metrics_with(from, to)).unwrap();
        let dest = tmp.path().join("out.tar.zst");
        let err = benchvm_format::rundir::pack(&run, Some(&dest), tmp.path()).unwrap_err();
        match &err {
            PackError::Metrics { path, error } => {
                assert_eq!(*path, run.join("metrics.ndjson"));
                assert_eq!(error.line, 2);
                assert!(error.reason.contains(reason), "{error} lacks {reason:?}");
            }
            other => panic!("{to}: expected PackError::Metrics, got {other:?}"),
        }
        assert_names(&err, "metrics.ndjson line 2");
        assert!(!dest.exists());
    }
}

#[test]
fn reader_refuses_hostile_metrics() {
    // SPEC.md §9.8: a verified bundle has a valid metrics table, whether or
    // not the caller keeps it.
    for (from, to, reason) in HOSTILE_ROWS {
        let bad = metrics_with(from, to);
        let bytes = valid(&[A, ("metrics.ndjson", &bad)]);
        for keep in [true, false] {
            let result = benchvm_format::read::read(
                &bytes[..],
                bytes.len() as u64,
                &Limits::default(),
                &|_| keep,
            );
            match &result {
                Err(BundleError::Metrics(e)) => {
                    assert_eq!(e.line, 2);
                    assert!(e.reason.contains(reason), "{e} lacks {reason:?}");
                }
                other => panic!("{to}: expected BundleError::Metrics, got {other:?}"),
            }
            assert_names(&result.unwrap_err(), "metrics.ndjson line 2");
        }
    }
}
