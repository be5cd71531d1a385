//! Fault points for the crash tests: when the environment variable
//! `BENCHVM_FAULT` names a point (`NAME` or `NAME@N` for its N-th visit),
//! the collector kills itself there with SIGKILL, a real kill that no
//! handler or destructor softens. Unset, a fault point costs one lookup.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Fault points, in the order a run reaches them.
pub const POINTS: [&str; 3] = [
    // A run's folder is renamed into place; its journal record is not written yet.
    "before-journal",
    // A run's journal record is written and fsynced.
    "after-journal",
    // The bundle's temporary file is being written.
    "mid-pack",
];

static VISITS: Mutex<BTreeMap<&'static str, u32>> = Mutex::new(BTreeMap::new());

/// Kills the process if `BENCHVM_FAULT` names this visit of `point`.
pub fn point(point: &'static str) {
    let Ok(spec) = std::env::var("BENCHVM_FAULT") else {
        return;
    };
    let (name, nth) = match spec.split_once('@') {
        Some((n, k)) => (n.to_owned(), k.parse::<u32>().unwrap_or(1)),
        None => (spec, 1),
    };
    if name != point {
        return;
    }
    let visit = VISITS
        .lock()
        .map(|mut v| {
            let c = v.entry(point).or_insert(0);
            *c += 1;
            *c
        })
        .unwrap_or(0);
    if visit == nth {
        eprintln!("fault injection: SIGKILL at {point} (visit {visit})");
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    }
}
