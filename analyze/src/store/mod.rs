//! Bundle stores as inputs: `analyze report|compare|verify|show|export
//! STORE[/filter]`, where STORE is a folder or `s3://bucket/prefix`
//! (benchvm-store), beside or instead of bundle files.
//!
//! - [`load`] reads a store's bundles for a report: those in the local
//!   catalog ([`local`]) from there, the others fetched, verified and added
//!   to it;
//! - [`commands`]: `verify` and `show` of a store;
//! - [`export`]: every row with its lineage as a hive-partitioned Parquet
//!   dataset.

pub mod commands;
pub mod export;
pub mod load;
pub mod local;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use benchvm_store::location;
use polars::prelude::*;

use crate::load::{LoadOptions, LoadedSet, SetError, Skipped};

/// Loads files and stores in the order given: runs of files together
/// ([`crate::load::load_files`]), each store on its own ([`load::load`]),
/// then one set, each bundle once.
pub fn load_inputs(
    inputs: &[PathBuf],
    options: &LoadOptions,
    strict: bool,
) -> Result<LoadedSet, SetError> {
    let mut sets = Vec::new();
    let mut files: Vec<PathBuf> = Vec::new();
    for input in inputs {
        if location::is_store(input) {
            if !files.is_empty() {
                sets.push(crate::load::load_files(&files, options, strict)?);
                files.clear();
            }
            let target = location::parse(&input.to_string_lossy())?;
            sets.push(load::load(&target, options, strict)?);
        } else {
            files.push(input.clone());
        }
    }
    if !files.is_empty() {
        sets.push(crate::load::load_files(&files, options, strict)?);
    }
    merge(sets)
}

/// One set of several: a bundle already in an earlier set is skipped (and
/// its rows left out).
pub fn merge(sets: Vec<LoadedSet>) -> Result<LoadedSet, SetError> {
    let mut bundles = Vec::new();
    let mut skipped = Vec::new();
    let mut frames = Vec::new();
    let mut first: HashMap<String, PathBuf> = HashMap::new();
    for set in sets {
        skipped.extend(set.skipped);
        let mut dropped = HashSet::new();
        for b in set.bundles {
            if let Some(path) = first.get(&b.id) {
                skipped.push(Skipped {
                    path: b.path.clone(),
                    reason: format!("the same bundle as {}", path.display()),
                });
                dropped.insert(b.id);
                continue;
            }
            first.insert(b.id.clone(), b.path.clone());
            bundles.push(b);
        }
        let frame = if dropped.is_empty() {
            set.frame
        } else {
            let ids = set.frame.column("bundle_id")?.str()?.clone();
            let mask: BooleanChunked = ids
                .iter()
                .map(|id| Some(!id.is_some_and(|id| dropped.contains(id))))
                .collect();
            set.frame.filter(&mask)?
        };
        frames.push(frame);
    }
    Ok(LoadedSet {
        bundles,
        skipped,
        frame: local::concat(&frames)?,
    })
}
