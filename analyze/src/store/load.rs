//! A store's bundles for a report. The catalog says which bundles the
//! filter wants; the local catalog gives the rows of those verified
//! before; the others are fetched, verified as they stream in, decoded,
//! and added to the local catalog. A bundle that fails is skipped and
//! named (its object), and the rest goes on; `strict` makes it fatal.
//! Bundles come in the order of their runs' start, then id.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use benchvm_format::env::{EnvSummary, SUMMARY_PATH};
use benchvm_store::location::Facts;
use benchvm_store::{fetch, Store, StoreError, Target};

use crate::load::{BundleInfo, LoadOptions, LoadedSet, SetError, Skipped};
use crate::store::local::{self, Hit, LocalCatalog, Record};

/// What a failed bundle's object is, and why it failed (the object not
/// repeated).
fn failure(store: &Store, id: &str, err: StoreError) -> (String, String) {
    let object = store.bundle_name(id);
    let reason = match err {
        StoreError::Bundle { source, .. } => source.to_string(),
        StoreError::WrongId { holds, .. } => {
            format!("holds bundle {holds}, not the bundle its name says")
        }
        other => other.to_string(),
    };
    (object, reason)
}

/// Fetches, verifies and decodes one bundle of the store.
fn fetch_one(store: &Store, id: &str, options: &LoadOptions) -> Result<Hit, StoreError> {
    let keep = |f: &benchvm_format::FileEntry| f.path == SUMMARY_PATH;
    let bundle = fetch::bundle(store, id, &options.limits, &keep)?;
    let summary: EnvSummary = match bundle.file(SUMMARY_PATH) {
        Some(bytes) => serde_json::from_slice(bytes).map_err(|e| StoreError::Bundle {
            object: store.bundle_name(id),
            source: benchvm_format::BundleError::Content {
                entry: SUMMARY_PATH.into(),
                reason: e.to_string(),
            },
        })?,
        None => EnvSummary::default(),
    };
    let m = &bundle.manifest;
    let columns = crate::columns::from_rows(&bundle.metrics, id, &m.label, &m.host);
    let frame = crate::columns::assemble(&[columns]).map_err(|e| StoreError::Refused {
        object: store.bundle_name(id),
        reason: format!("building its metrics frame: {e}"),
    })?;
    Ok(Hit {
        record: Record {
            id: id.to_owned(),
            label: m.label.clone(),
            host: m.host.clone(),
            suite: m.suite.clone(),
            created: m.created.clone(),
            platforms: m.platforms.clone(),
            summary,
        },
        frame,
    })
}

/// Fetches `ids` on every core, in order.
fn fetch_all(store: &Store, ids: &[String], options: &LoadOptions) -> Vec<Result<Hit, StoreError>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(ids.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let mut out: Vec<Option<Result<Hit, StoreError>>> = Vec::new();
    out.resize_with(ids.len(), || None);
    let done: Vec<Vec<(usize, Result<Hit, StoreError>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(id) = ids.get(i) else { break };
                        mine.push((i, fetch_one(store, id, options)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    for (i, r) in done.into_iter().flatten() {
        out[i] = Some(r);
    }
    out.into_iter()
        .zip(ids)
        .map(|(r, id)| {
            r.unwrap_or_else(|| {
                Err(StoreError::Refused {
                    object: store.bundle_name(id),
                    reason: "its loader thread panicked".into(),
                })
            })
        })
        .collect()
}

/// The bundles of `target` (see the module doc).
pub fn load(target: &Target, options: &LoadOptions, strict: bool) -> Result<LoadedSet, SetError> {
    let started = Instant::now();
    let store = Store::open(&target.location)?;
    let listing = store.list()?;
    for w in &listing.warnings {
        log::warn!("{w}");
    }
    // Bundles without a catalog entry are candidates until verified.
    let ids: Vec<String> = listing
        .bundles
        .iter()
        .filter(|l| {
            l.entry
                .as_ref()
                .is_none_or(|e| target.filter.matches(Facts::from(e)))
        })
        .map(|l| l.id.clone())
        .collect();
    log::debug!(
        "{}: {} of {} bundles wanted, listed in {:.3} s",
        target,
        ids.len(),
        listing.bundles.len(),
        started.elapsed().as_secs_f64()
    );
    let mut catalog = match &options.cache {
        Some(cache) => match LocalCatalog::open(cache) {
            Ok(c) => Some(c),
            Err(e) => {
                log::warn!("local catalog not used: {e}");
                None
            }
        },
        None => None,
    };
    let mut hits = catalog.as_mut().map(|c| c.get(&ids)).unwrap_or_default();
    let missing: Vec<String> = ids
        .iter()
        .filter(|id| !hits.contains_key(*id))
        .cloned()
        .collect();
    log::debug!(
        "{} from the local catalog, {} to fetch and verify ({:.3} s)",
        hits.len(),
        missing.len(),
        started.elapsed().as_secs_f64()
    );
    let mut skipped = Vec::new();
    let mut fresh = Vec::new();
    for (id, result) in missing.iter().zip(fetch_all(&store, &missing, options)) {
        match result {
            Ok(hit) => fresh.push(hit),
            Err(err) => {
                let (object, reason) = failure(&store, id, err);
                if strict {
                    return Err(SetError::Store(StoreError::Refused { object, reason }));
                }
                skipped.push(Skipped {
                    path: object.into(),
                    reason,
                });
            }
        }
    }
    log::info!(
        "{target}: {} of {} bundle(s) wanted; {} from the local catalog, {} fetched and verified, {} refused",
        ids.len(),
        listing.bundles.len(),
        ids.len() - missing.len(),
        fresh.len(),
        skipped.len()
    );
    if let Some(c) = catalog.as_mut() {
        if let Err(e) = c.add(fresh.clone()) {
            log::warn!("local catalog not updated: {e}");
        }
    }
    drop(catalog);
    hits.extend(fresh.into_iter().map(|h| (h.record.id.clone(), h)));
    // The filter again, on the verified facts: a catalog entry can only
    // have proposed a bundle.
    let mut chosen: Vec<Hit> = hits
        .into_values()
        .filter(|h| target.filter.matches(facts(&h.record)))
        .collect();
    chosen
        .sort_by(|a, b| (&a.record.created, &a.record.id).cmp(&(&b.record.created, &b.record.id)));
    let frame = local::concat(&chosen.iter().map(|h| h.frame.clone()).collect::<Vec<_>>())?;
    let bundles = chosen
        .into_iter()
        .map(|h| BundleInfo {
            path: store.bundle_name(&h.record.id).into(),
            rows: h.frame.height(),
            id: h.record.id,
            label: h.record.label,
            host: h.record.host,
            suite: h.record.suite,
            created: h.record.created,
            platforms: h.record.platforms,
            summary: h.record.summary,
            design: crate::design::Design::unread(),
        })
        .collect();
    log::debug!(
        "{target}: loaded in {:.3} s",
        started.elapsed().as_secs_f64()
    );
    Ok(LoadedSet {
        bundles,
        skipped,
        frame,
    })
}

fn facts(r: &Record) -> Facts<'_> {
    Facts {
        id: &r.id,
        label: &r.label,
        host: &r.host,
        suite: &r.suite,
        created: &r.created,
    }
}
