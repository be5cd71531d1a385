//! Stores in S3, against a real SeaweedFS server each test starts.

use std::path::Path;

use benchvm_format::Limits;
use benchvm_store::{catalog, fetch, push, Location, Store, StoreError};

use crate::scenarios;
use crate::util::{self, weed::Weed, Spec};

fn store(weed: &Weed, bucket: &str, prefix: &str) -> Store {
    Store::with_backend(
        Location::S3 {
            bucket: bucket.into(),
            prefix: prefix.into(),
        },
        Box::new(weed.backend(bucket, prefix)),
    )
}

fn run(scenario: fn(scenarios::Open<'_>, &Path)) {
    let weed = Weed::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let open = || {
        let s = store(&weed, "benchvm", "fleet/runs");
        s.check_marker(true).expect("marker");
        s
    };
    scenario(&open, tmp.path());
}

#[test]
fn s3_push_is_idempotent_and_listed() {
    run(scenarios::push_is_idempotent_and_listed);
}

#[test]
fn s3_tampered_objects_are_refused_and_named() {
    run(scenarios::tampered_objects_are_refused_and_named);
}

#[test]
fn s3_concurrent_pushes_keep_every_entry() {
    run(scenarios::concurrent_pushes_keep_every_entry);
}

#[test]
fn s3_snapshots_save_reads_and_never_hide_entries() {
    run(scenarios::snapshots_save_reads_and_never_hide_entries);
}

/// Large bundles go up in parts, come back whole, and verify; a prefix
/// without a marker is no store, and prefixes do not see each other.
#[test]
fn s3_large_bundles_go_up_in_parts_and_prefixes_stay_apart() {
    let weed = Weed::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let big = util::bundle(
        tmp.path(),
        &Spec {
            label: "big",
            log_bytes: 12 << 20,
            ..Spec::default()
        },
    );
    let mut backend = weed.backend("benchvm", "big");
    backend.multipart_threshold = 1 << 20;
    let s = Store::with_backend(
        Location::S3 {
            bucket: "benchvm".into(),
            prefix: "big".into(),
        },
        Box::new(backend),
    );
    s.check_marker(true).expect("marker");
    let pushed = push::push(&s, &big, &Limits::default()).expect("push in parts");
    assert_eq!(pushed.written, ["bundle", "catalog entry"]);
    let back = fetch::bundle(&s, &pushed.id, &Limits::default(), &|_| false).expect("fetch");
    assert_eq!(
        back.compressed_size,
        std::fs::metadata(&big).expect("size").len()
    );
    assert!(catalog::list(s.backend()).expect("list").bundles.len() == 1);

    let other = store(&weed, "benchvm", "big2");
    let err = other.check_marker(false).expect_err("no marker under big2");
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err}");
    let missing = store(&weed, "no-such-bucket", "");
    assert!(missing.check_marker(false).is_err());
}
