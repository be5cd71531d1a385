//! `analyze verify STORE[/filter]` and `analyze show STORE[/filter]`.

use std::fs::File;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use benchvm_store::catalog::{bundle_key, Entry, Listed};
use benchvm_store::location::{self, Facts};
use benchvm_store::{fetch, Store, Target};

use crate::load::LoadOptions;
use crate::verify::Checks;

/// Opens the store of `spec` and lists the bundles its filter wants
/// (those without a catalog entry too: nothing says they are not wanted).
fn wanted(spec: &Path) -> Result<(Target, Store, Vec<Listed>, usize)> {
    let target = location::parse(&spec.to_string_lossy())?;
    let store = Store::open(&target.location)?;
    let listing = store
        .list()
        .with_context(|| format!("listing {}", target.location))?;
    for w in &listing.warnings {
        log::warn!("{w}");
    }
    let total = listing.bundles.len();
    let bundles = listing
        .bundles
        .into_iter()
        .filter(|l| {
            l.entry
                .as_ref()
                .is_none_or(|e| target.filter.matches(Facts::from(e)))
        })
        .collect();
    Ok((target, store, bundles, total))
}

/// Whether a catalog entry says what the verified manifest says.
fn entry_agrees(listed: &Listed, loaded: &crate::load::Loaded) -> Result<Vec<String>> {
    let id = loaded.bundle.id.hex();
    if id != listed.id {
        anyhow::bail!("holds bundle {id}, not the bundle its name says");
    }
    match &listed.entry {
        None => Ok(vec![
            "no catalog entry: `collect push` of it again adds one".into(),
        ]),
        Some(e) if *e == Entry::of(&id, &loaded.bundle.manifest) => {
            Ok(vec!["catalog entry agrees with the manifest".into()])
        }
        Some(e) => anyhow::bail!(
            "its catalog entry ({} / {} / {} / {}) is not what its manifest says",
            e.label,
            e.host,
            e.suite,
            e.created
        ),
    }
}

/// Verifies every wanted bundle of a store, each fetched whole into a
/// private folder (with its signature) and checked there as a file is:
/// hashes, metrics, `--rederive`, `--trusted-key`, and the bundle's id
/// and catalog entry. Returns (failed, verified) counts.
pub fn verify(spec: &Path, options: &LoadOptions, checks: &Checks) -> Result<(usize, usize)> {
    let (_, store, bundles, _) = wanted(spec)?;
    let scratch = tempfile::tempdir().context("making a private folder to verify in")?;
    let mut failed = 0;
    for listed in &bundles {
        let shown = store.bundle_name(&listed.id);
        let local = scratch.path().join(format!("{}.tar.zst", listed.id));
        let sound = match download(&store, &listed.id, &local) {
            Ok(false) if checks.trusted_key.is_some() => {
                crate::verify::print_failed(
                    &shown,
                    "no signature beside it in the store (a trusted key was given, so one is required)",
                    checks.json,
                );
                false
            }
            Ok(_) => crate::verify::check(&shown, &local, options, checks, &|loaded| {
                entry_agrees(listed, loaded)
            }),
            Err(e) => {
                crate::verify::print_failed(&shown, &collect::output::sentence(&e), checks.json);
                false
            }
        };
        let _ = std::fs::remove_file(&local);
        let _ = std::fs::remove_file(benchvm_format::sign::signature_path(&local));
        if !sound {
            failed += 1;
        }
    }
    Ok((failed, bundles.len()))
}

/// Copies bundle `id` and its signature, if any, to `local`; true when it
/// has a signature.
fn download(store: &Store, id: &str, local: &Path) -> Result<bool> {
    let (mut reader, _) = store
        .backend()
        .open(&bundle_key(id))?
        .with_context(|| format!("{} is gone", store.bundle_name(id)))?;
    let mut out = File::create(local).with_context(|| format!("creating {}", local.display()))?;
    std::io::copy(&mut reader, &mut out)
        .with_context(|| format!("reading {}", store.bundle_name(id)))?;
    let Some(sig) = fetch::signature(store, id)? else {
        return Ok(false);
    };
    let path = benchvm_format::sign::signature_path(local);
    std::fs::write(&path, sig).with_context(|| format!("writing {}", path.display()))?;
    Ok(true)
}

/// Lists the wanted bundles of a store from its catalog, oldest run first:
/// text, or with `json` one JSON object.
pub fn show(spec: &Path, json: bool) -> Result<ExitCode> {
    let (target, _, mut bundles, total) = wanted(spec)?;
    let key = |l: &Listed| {
        l.entry
            .as_ref()
            .map(|e| (e.created.clone(), l.id.clone()))
            .unwrap_or_else(|| (String::from("~"), l.id.clone()))
    };
    bundles.sort_by_key(key);
    if json {
        let listed: Vec<_> = bundles
            .iter()
            .map(|l| serde_json::json!({"id": l.id, "signed": l.signed, "bytes": l.size, "entry": l.entry}))
            .collect();
        let v = serde_json::json!({
            "store": target.location.to_string(),
            "filter": (!target.filter.is_empty()).then(|| target.filter.describe()),
            "total": total,
            "bundles": listed,
        });
        collect::outln!("{v}");
        return Ok(ExitCode::SUCCESS);
    }
    collect::outln!("store     {}", target.location);
    if !target.filter.is_empty() {
        collect::outln!("filter    {}", target.filter.describe());
    }
    collect::outln!("bundles   {} of {total}", bundles.len());
    collect::outln!();
    collect::outln!(
        "{:<12}  {:<20}  {:<12}  {:<10}  {:<6}  {:>10}  {:<18}  label",
        "id",
        "created",
        "host",
        "suite",
        "signed",
        "bytes",
        "platforms"
    );
    for l in &bundles {
        let signed = if l.signed { "yes" } else { "no" };
        match &l.entry {
            Some(e) => collect::outln!(
                "{:<12}  {:<20}  {:<12}  {:<10}  {signed:<6}  {:>10}  {:<18}  {}",
                &l.id[..12],
                e.created,
                e.host,
                e.suite,
                l.size,
                e.platforms.join(","),
                e.label
            ),
            None => collect::outln!(
                "{:<12}  {:<20}  {:<12}  {:<10}  {signed:<6}  {:>10}  {:<18}  (no catalog entry)",
                &l.id[..12],
                "?",
                "?",
                "?",
                l.size,
                "?"
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}
