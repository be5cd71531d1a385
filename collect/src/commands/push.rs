//! `collect push`: bundles into a bundle store (benchvm-store), verified
//! first, each under its id; then a catalog snapshot when enough entries
//! lie outside the newest one.

use anyhow::{bail, Context, Result};
use benchvm_store::{catalog, location, push, Store};

use crate::cli::PushArgs;

pub fn run(a: &PushArgs) -> Result<()> {
    let target = location::parse(&a.to)?;
    if !target.filter.is_empty() {
        bail!(
            "{}: bundles are pushed to a store, not to a filter of one ({})",
            a.to,
            target.filter.describe()
        );
    }
    let store = Store::open_or_create(&target.location)
        .with_context(|| format!("opening the store {}", target.location))?;
    let mut failed = 0;
    for path in &a.bundles {
        match push::push(&store, path, &Default::default()) {
            Ok(p) => {
                if p.written.is_empty() {
                    crate::outln!(
                        "already in {}: {} ({}), nothing written",
                        target.location,
                        p.id,
                        p.label
                    );
                } else {
                    crate::outln!(
                        "pushed {} -> {}\n       id {}; wrote {}",
                        path.display(),
                        store.bundle_name(&p.id),
                        p.id,
                        p.written.join(", ")
                    );
                }
                for note in &p.notes {
                    log::warn!("{note}");
                }
            }
            Err(e) => {
                failed += 1;
                crate::errln!("error: not pushed: {e}");
            }
        }
    }
    match catalog::compact(store.backend()) {
        Ok(Some(key)) => log::info!("catalog snapshot {}", store.backend().name(&key)),
        Ok(None) => {}
        // Entries are the catalog; a snapshot only saves reads.
        Err(e) => log::warn!("no catalog snapshot written: {e}"),
    }
    if failed > 0 {
        bail!("{failed} of {} bundle(s) not pushed", a.bundles.len());
    }
    Ok(())
}
