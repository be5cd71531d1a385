//! What a user relies on from any store, run against a folder and against
//! a real S3 server alike. Each takes `open`, which opens (or makes) the
//! same store again, as a second process would.

use std::path::Path;

use benchvm_format::Limits;
use benchvm_store::backend::Source;
use benchvm_store::catalog::{self, bundle_key, SNAPSHOTS, SNAPSHOT_AFTER};
use benchvm_store::location::{self, Facts};
use benchvm_store::{fetch, push, Store, StoreError};

use crate::util::{self, Spec};

pub type Open<'a> = &'a (dyn Fn() -> Store + Sync);

/// A second push of a bundle writes nothing and says so; the signature
/// travels with its bundle; the catalog lists by label, host, suite, date.
pub fn push_is_idempotent_and_listed(open: Open<'_>, tmp: &Path) {
    let a = util::bundle(
        tmp,
        &Spec {
            label: "xen vs kvm",
            ..Spec::default()
        },
    );
    util::sign(&a);
    let b = util::bundle(
        tmp,
        &Spec {
            label: "other",
            host: "lab-02",
            created: "2026-12-02T08:00:00Z",
            seed: 2,
            ..Spec::default()
        },
    );
    let store = open();
    let first = push::push(&store, &a, &Limits::default()).expect("push a");
    assert_eq!(first.written, ["bundle", "signature", "catalog entry"]);
    assert_eq!(first.id, util::id_of(&a));
    let again = push::push(&open(), &a, &Limits::default()).expect("push a again");
    assert!(again.written.is_empty(), "{again:?}");
    assert!(again.notes.is_empty(), "{again:?}");
    push::push(&store, &b, &Limits::default()).expect("push b");

    let listing = open().list().expect("list");
    assert!(listing.warnings.is_empty(), "{:?}", listing.warnings);
    assert_eq!(listing.bundles.len(), 2);
    let listed_a = listing
        .bundles
        .iter()
        .find(|l| l.id == first.id)
        .expect("a listed");
    assert!(listed_a.signed);
    assert_eq!(listed_a.size, std::fs::metadata(&a).expect("size").len());
    let entry = listed_a.entry.as_ref().expect("a's entry");
    assert_eq!(
        (entry.label.as_str(), entry.host.as_str()),
        ("xen vs kvm", "lab-01")
    );
    let select = |spec: &str| -> Vec<String> {
        let target = location::parse(&format!("s3://any/{spec}")).expect("filter");
        listing
            .bundles
            .iter()
            .filter(|l| {
                l.entry
                    .as_ref()
                    .is_some_and(|e| target.filter.matches(Facts::from(e)))
            })
            .map(|l| {
                l.entry
                    .as_ref()
                    .map(|e| e.label.clone())
                    .unwrap_or_default()
            })
            .collect()
    };
    assert_eq!(select("label=xen%20vs%20kvm"), ["xen vs kvm"]);
    assert_eq!(select("host=lab-02"), ["other"]);
    assert_eq!(select("suite=quick").len(), 2);
    assert_eq!(select("date=2026-12"), ["other"]);
    assert_eq!(
        select("date=2026-11-01..2026-11-30/host=lab-01"),
        ["xen vs kvm"]
    );

    // What comes back is the bundle pushed, verified, with its signature.
    let back = fetch::bundle(&store, &first.id, &Limits::default(), &|_| false).expect("fetch");
    assert_eq!(back.manifest.label, "xen vs kvm");
    let sig = fetch::signature(&store, &first.id)
        .expect("signature")
        .expect("present");
    assert_eq!(
        sig,
        std::fs::read_to_string(benchvm_format::sign::signature_path(&a)).expect("sig")
    );
}

/// A tampered object is refused with its name; the others still read.
pub fn tampered_objects_are_refused_and_named(open: Open<'_>, tmp: &Path) {
    let a = util::bundle(
        tmp,
        &Spec {
            label: "a",
            log_bytes: 4096,
            ..Spec::default()
        },
    );
    let b = util::bundle(
        tmp,
        &Spec {
            label: "b",
            seed: 2,
            ..Spec::default()
        },
    );
    let store = open();
    let id_a = push::push(&store, &a, &Limits::default()).expect("push").id;
    let id_b = push::push(&store, &b, &Limits::default()).expect("push").id;
    let backend = store.backend();
    let bad = util::flipped(std::fs::read(&a).expect("read"));
    backend.delete(&bundle_key(&id_a)).expect("delete");
    backend
        .put_new(&bundle_key(&id_a), Source::Bytes(&bad))
        .expect("tamper");
    let err = fetch::bundle(&store, &id_a, &Limits::default(), &|_| false).expect_err("tampered");
    assert!(matches!(err, StoreError::Bundle { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains(&format!("bundles/{id_a}.tar.zst")), "{text}");
    fetch::bundle(&store, &id_b, &Limits::default(), &|_| false).expect("b still reads");

    // A sound bundle under another bundle's name is refused too.
    let other = "f".repeat(64);
    backend
        .put_new(&bundle_key(&other), Source::File(&b))
        .expect("misnamed copy");
    let err = fetch::bundle(&store, &other, &Limits::default(), &|_| false).expect_err("misnamed");
    assert!(
        matches!(err, StoreError::WrongId { ref holds, .. } if *holds == id_b),
        "{err}"
    );
}

/// Pushes from many writers at once, the same bundle among them, leave
/// every bundle once with its entry.
pub fn concurrent_pushes_keep_every_entry(open: Open<'_>, tmp: &Path) {
    let shared = util::bundle(
        tmp,
        &Spec {
            label: "shared",
            seed: 100,
            ..Spec::default()
        },
    );
    let own: Vec<_> = (0..6)
        .map(|i| {
            let host = format!("lab-{i:02}");
            let label = format!("run {i}");
            util::bundle(
                tmp,
                &Spec {
                    label: &label,
                    host: &host,
                    seed: i,
                    ..Spec::default()
                },
            )
        })
        .collect();
    let shared_written: Vec<Vec<&str>> = std::thread::scope(|scope| {
        let handles: Vec<_> = own
            .iter()
            .map(|path| {
                let shared = &shared;
                scope.spawn(move || {
                    let store = open();
                    let s = push::push(&store, shared, &Limits::default()).expect("push shared");
                    push::push(&store, path, &Limits::default()).expect("push own");
                    s.written
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("pusher"))
            .collect()
    });
    // Exactly one writer wrote the shared bundle and its entry.
    let bundles = shared_written
        .iter()
        .filter(|w| w.contains(&"bundle"))
        .count();
    let entries = shared_written
        .iter()
        .filter(|w| w.contains(&"catalog entry"))
        .count();
    assert_eq!((bundles, entries), (1, 1), "{shared_written:?}");
    let listing = open().list().expect("list");
    assert_eq!(listing.bundles.len(), 7);
    assert!(
        listing.bundles.iter().all(|l| l.entry.is_some()),
        "{listing:?}"
    );
    assert!(listing.warnings.is_empty(), "{:?}", listing.warnings);
}

/// A snapshot saves the reads of the entries it holds; a damaged one is
/// named and ignored, and no bundle is lost.
pub fn snapshots_save_reads_and_never_hide_entries(open: Open<'_>, tmp: &Path) {
    let store = open();
    let n = SNAPSHOT_AFTER + 5;
    for i in 0..n {
        let label = format!("bulk {i}");
        let path = util::bundle(
            tmp,
            &Spec {
                label: &label,
                seed: i as u64,
                ..Spec::default()
            },
        );
        push::push(&store, &path, &Limits::default()).expect("push");
    }
    let before = store.list().expect("list");
    assert_eq!(before.entries_fetched, n);
    let key = catalog::compact(store.backend())
        .expect("compact")
        .expect("a snapshot");
    assert!(key.starts_with(&format!("{SNAPSHOTS}{n:010}-")), "{key}");
    let after = open().list().expect("list");
    assert_eq!(after.entries_fetched, 0);
    assert_eq!(after.bundles, before.bundles);

    let late = util::bundle(
        tmp,
        &Spec {
            label: "late",
            seed: 9999,
            ..Spec::default()
        },
    );
    push::push(&store, &late, &Limits::default()).expect("push late");
    let listing = open().list().expect("list");
    assert_eq!((listing.bundles.len(), listing.entries_fetched), (n + 1, 1));

    let backend = store.backend();
    let bytes = backend.get(&key, u64::MAX).expect("get").expect("snapshot");
    backend.delete(&key).expect("delete");
    let mut forged = bytes.clone();
    forged.extend_from_slice(&bytes[..bytes.iter().position(|&b| b == b'\n').unwrap_or(0) + 1]);
    backend
        .put_new(&key, Source::Bytes(&forged))
        .expect("forge");
    let listing = open().list().expect("list");
    assert_eq!(
        (listing.bundles.len(), listing.entries_fetched),
        (n + 1, n + 1)
    );
    assert!(listing.bundles.iter().all(|l| l.entry.is_some()));
    assert_eq!(listing.warnings.len(), 1, "{:?}", listing.warnings);
    assert!(
        listing.warnings[0].contains("not the one its name says"),
        "{:?}",
        listing.warnings
    );
}
