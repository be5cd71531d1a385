//! The store's catalog: what each bundle is (label, host, suite, date,
//! platforms), so a store can be listed and filtered without opening its
//! bundles (SPEC.md §12).
//!
//! Every bundle has its own entry, `catalog/entries/<id>.json`, written
//! once, never changed, and a function of the bundle's manifest alone: two
//! writers of one bundle write the same bytes. Nothing is ever rewritten,
//! so concurrent pushes cannot lose each other's entries. Listing needs one
//! LIST of `catalog/entries/` and a GET per entry; to save those GETs, a
//! pusher that finds many entries outside the newest snapshot writes
//! `catalog/snapshots/<count>-<sha256>.ndjson`, every entry it knows in one
//! object, named by its own hash, and removes the snapshots it supersedes.
//! A snapshot only saves reads: entries stay the truth, a reader takes
//! from a snapshot only the entries it lists, and a snapshot removed under
//! its feet costs it the GETs, not a bundle.

use std::collections::{BTreeMap, BTreeSet};

use benchvm_format::Manifest;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::backend::{Backend, Put, Source};
use crate::error::StoreError;

pub const BUNDLES: &str = "bundles/";
pub const ENTRIES: &str = "catalog/entries/";
pub const SNAPSHOTS: &str = "catalog/snapshots/";
/// Suffix of bundle objects.
pub const BUNDLE_SUFFIX: &str = ".tar.zst";
/// Suffix of signature objects (after the bundle's name).
pub const SIGNATURE_SUFFIX: &str = ".tar.zst.minisig";

/// Largest catalog entry (a label, host and suite of 256 bytes each, a few
/// platforms: well under 4 KiB).
pub const ENTRY_CAP: u64 = 64 << 10;
/// Largest snapshot: a million entries' worth.
pub const SNAPSHOT_CAP: u64 = 1 << 30;
/// Entries outside the newest snapshot after which a pusher writes a new one.
pub const SNAPSHOT_AFTER: usize = 100;

/// One bundle in the catalog: the manifest's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Bundle id, 64 lower-case hex digits.
    pub id: String,
    pub label: String,
    pub host: String,
    pub suite: String,
    /// Start of the run, RFC 3339 UTC, as in the manifest.
    pub created: String,
    pub platforms: Vec<String>,
}

impl Entry {
    /// The entry of a verified bundle.
    pub fn of(id: &str, m: &Manifest) -> Entry {
        Entry {
            id: id.to_owned(),
            label: m.label.clone(),
            host: m.host.clone(),
            suite: m.suite.clone(),
            created: m.created.clone(),
            platforms: m.platforms.clone(),
        }
    }

    /// Its bytes in the store: compact JSON and a newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Plain strings: serializing cannot fail.
        let mut bytes = serde_json::to_vec(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Parses an entry read from the store; `id` is the one its key names.
    pub fn parse(bytes: &[u8], id: Option<&str>) -> Result<Entry, String> {
        let e: Entry = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if !is_id(&e.id) {
            return Err(format!("{:?} is not a bundle id", e.id));
        }
        if id.is_some_and(|id| id != e.id) {
            return Err(format!(
                "entry of bundle {}, not of the one its name says",
                e.id
            ));
        }
        let long = [&e.label, &e.host, &e.suite, &e.created]
            .iter()
            .any(|s| s.len() > 256);
        if long || e.platforms.len() > 64 || e.platforms.iter().any(|p| p.len() > 64) {
            return Err("a field is longer than a manifest allows".into());
        }
        Ok(e)
    }
}

/// Whether `s` is a bundle id: 64 lower-case hex digits.
pub fn is_id(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

pub fn bundle_key(id: &str) -> String {
    format!("{BUNDLES}{id}{BUNDLE_SUFFIX}")
}

pub fn signature_key(id: &str) -> String {
    format!("{BUNDLES}{id}{SIGNATURE_SUFFIX}")
}

pub fn entry_key(id: &str) -> String {
    format!("{ENTRIES}{id}.json")
}

/// A bundle of the store as the listing sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub id: String,
    /// Its catalog entry; `None` when the bundle has none (a push stopped
    /// between the bundle and its entry: pushing it again adds it).
    pub entry: Option<Entry>,
    /// Size of the bundle object.
    pub size: u64,
    /// Whether a signature object sits beside it.
    pub signed: bool,
}

/// Every bundle of a store, by id, and what was wrong on the way.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub bundles: Vec<Listed>,
    /// Catalog objects ignored, each with its reason.
    pub warnings: Vec<String>,
    /// Entries read one by one (not from a snapshot).
    pub entries_fetched: usize,
}

/// The newest (largest) snapshot: its key and entries, when there is a
/// sound one.
fn snapshot(
    backend: &dyn Backend,
    warnings: &mut Vec<String>,
) -> Result<(Vec<String>, BTreeMap<String, Entry>), StoreError> {
    let mut keys: Vec<(u64, String)> = backend
        .list(SNAPSHOTS)?
        .into_iter()
        .filter_map(|l| {
            let name = l.key.strip_prefix(SNAPSHOTS)?.strip_suffix(".ndjson")?;
            let (count, _) = name.split_once('-')?;
            Some((count.parse().ok()?, l.key))
        })
        .collect();
    keys.sort();
    let all: Vec<String> = keys.iter().map(|(_, k)| k.clone()).collect();
    let Some((count, key)) = keys.pop() else {
        return Ok((all, BTreeMap::new()));
    };
    let Some(bytes) = backend.get(&key, SNAPSHOT_CAP)? else {
        // Superseded and removed since the listing: the entries say it all.
        return Ok((all, BTreeMap::new()));
    };
    match parse_snapshot(&key, &bytes, count) {
        Ok(entries) => Ok((all, entries)),
        Err(reason) => {
            warnings.push(format!("{} ignored: {reason}", backend.name(&key)));
            Ok((all, BTreeMap::new()))
        }
    }
}

fn parse_snapshot(key: &str, bytes: &[u8], count: u64) -> Result<BTreeMap<String, Entry>, String> {
    let hash = hex::encode(Sha256::digest(bytes));
    if !key.ends_with(&format!("-{hash}.ndjson")) {
        return Err(format!("its sha256 is {hash}, not the one its name says"));
    }
    let mut entries = BTreeMap::new();
    for (i, line) in bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let e = Entry::parse(line, None).map_err(|r| format!("line {}: {r}", i + 1))?;
        entries.insert(e.id.clone(), e);
    }
    if entries.len() as u64 != count {
        return Err(format!(
            "{} entries, not the {count} its name says",
            entries.len()
        ));
    }
    Ok(entries)
}

/// Lists the store: every bundle object, with its catalog entry.
pub fn list(backend: &dyn Backend) -> Result<Listing, StoreError> {
    let mut warnings = Vec::new();
    let mut sizes: BTreeMap<String, u64> = BTreeMap::new();
    let mut signed: BTreeSet<String> = BTreeSet::new();
    for l in backend.list(BUNDLES)? {
        let name = &l.key[BUNDLES.len()..];
        if let Some(id) = name.strip_suffix(SIGNATURE_SUFFIX).filter(|id| is_id(id)) {
            signed.insert(id.to_owned());
        } else if let Some(id) = name.strip_suffix(BUNDLE_SUFFIX).filter(|id| is_id(id)) {
            sizes.insert(id.to_owned(), l.size);
        } else {
            warnings.push(format!(
                "{} ignored: not a bundle's name",
                backend.name(&l.key)
            ));
        }
    }
    let entry_ids: BTreeSet<String> = backend
        .list(ENTRIES)?
        .into_iter()
        .filter_map(|l| {
            let id = l.key.strip_prefix(ENTRIES)?.strip_suffix(".json")?;
            is_id(id).then(|| id.to_owned())
        })
        .collect();
    let (_, mut entries) = snapshot(backend, &mut warnings)?;
    // Only what the entries list is taken from the snapshot.
    entries.retain(|id, _| entry_ids.contains(id));
    let missing: Vec<String> = entry_ids
        .iter()
        .filter(|id| !entries.contains_key(*id))
        .cloned()
        .collect();
    let keys: Vec<String> = missing.iter().map(|id| entry_key(id)).collect();
    for ((id, key), got) in missing
        .iter()
        .zip(&keys)
        .zip(backend.get_many(&keys, ENTRY_CAP))
    {
        match got {
            Ok(Some(bytes)) => match Entry::parse(&bytes, Some(id)) {
                Ok(e) => {
                    entries.insert(id.clone(), e);
                }
                Err(reason) => warnings.push(format!("{} ignored: {reason}", backend.name(key))),
            },
            Ok(None) => {}
            Err(e) => warnings.push(format!("{e} (ignored)")),
        }
    }
    for id in entries.keys().filter(|id| !sizes.contains_key(*id)) {
        warnings.push(format!(
            "{}: no bundle {} beside it (ignored)",
            backend.name(&entry_key(id)),
            bundle_key(id)
        ));
    }
    let bundles = sizes
        .into_iter()
        .map(|(id, size)| Listed {
            entry: entries.get(&id).cloned(),
            signed: signed.contains(&id),
            size,
            id,
        })
        .collect();
    Ok(Listing {
        bundles,
        warnings,
        entries_fetched: keys.len(),
    })
}

/// Writes a snapshot of every entry when more than [`SNAPSHOT_AFTER`] lie
/// outside the newest one, then removes the snapshots it supersedes.
/// Returns the new snapshot's key, if one was written.
pub fn compact(backend: &dyn Backend) -> Result<Option<String>, StoreError> {
    let listing = list(backend)?;
    if listing.entries_fetched <= SNAPSHOT_AFTER {
        return Ok(None);
    }
    let mut text = Vec::new();
    for e in listing.bundles.iter().filter_map(|b| b.entry.as_ref()) {
        text.extend_from_slice(&e.to_bytes());
    }
    let count = listing.bundles.iter().filter(|b| b.entry.is_some()).count();
    let key = format!(
        "{SNAPSHOTS}{count:010}-{}.ndjson",
        hex::encode(Sha256::digest(&text))
    );
    let (older, _) = snapshot(backend, &mut Vec::new())?;
    if backend.put_new(&key, Source::Bytes(&text))? == Put::Existed {
        return Ok(None);
    }
    for old in older.iter().filter(|k| **k < key) {
        backend.delete(old)?;
    }
    Ok(Some(key))
}
