//! Stores in a folder.

use std::path::Path;

use benchvm_store::{Location, Store, StoreError};

use crate::scenarios;

fn run(scenario: fn(scenarios::Open<'_>, &Path)) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("store");
    let open = || Store::open_or_create(&Location::Folder(root.clone())).expect("store");
    let bundles = tmp.path().join("bundles");
    std::fs::create_dir(&bundles).expect("bundles dir");
    scenario(&open, &bundles);
}

#[test]
fn folder_push_is_idempotent_and_listed() {
    run(scenarios::push_is_idempotent_and_listed);
}

#[test]
fn folder_tampered_objects_are_refused_and_named() {
    run(scenarios::tampered_objects_are_refused_and_named);
}

#[test]
fn folder_concurrent_pushes_keep_every_entry() {
    run(scenarios::concurrent_pushes_keep_every_entry);
}

#[test]
fn folder_snapshots_save_reads_and_never_hide_entries() {
    run(scenarios::snapshots_save_reads_and_never_hide_entries);
}

#[test]
fn a_folder_without_the_marker_is_no_store() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("x.tar.zst"), b"not a store").expect("write");
    let err = Store::open(&Location::Folder(tmp.path().to_path_buf())).expect_err("no marker");
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err}");
    assert!(err.to_string().contains("collect push"), "{err}");
}

#[test]
fn objects_that_are_not_regular_files_are_refused_before_opening() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = Store::open_or_create(&Location::Folder(tmp.path().to_path_buf())).expect("store");
    let id = "a".repeat(64);
    std::fs::create_dir(tmp.path().join("bundles")).expect("bundles");
    std::os::unix::fs::symlink(
        "/dev/zero",
        tmp.path().join(format!("bundles/{id}.tar.zst")),
    )
    .expect("symlink");
    let err = benchvm_store::fetch::bundle(&store, &id, &Default::default(), &|_| false)
        .expect_err("symlink");
    assert!(err.to_string().contains("not a regular file"), "{err}");
}
