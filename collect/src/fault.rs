//! Fault points for the crash tests. The environment variable
//! `BENCHVM_FAULT` names one point (`NAME`, or `NAME@N` for its N-th
//! visit), and the collector fails there for real:
//! - at a kill point ([`point`]) it kills itself with SIGKILL, which no
//!   handler or destructor softens;
//! - at an fsync point ([`fires`], [`eio`]) that fsync reports EIO instead
//!   of syncing, as a failing disk would.
//!
//! The variable is read once; unset, a visit costs one atomic load.

use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// Kill points, in the order a run reaches them.
pub const POINTS: [&str; 3] = [
    // A run's folder is renamed into place; its journal record is not written yet.
    "before-journal",
    // A run's journal record is written and fsynced.
    "after-journal",
    // The bundle's temporary file is being written.
    "mid-pack",
];

/// Fsync points: visiting one makes that fsync report EIO.
pub const FSYNC_POINTS: [&str; 2] = [
    // The journal's fsync after appending a record (the start record is
    // visit 1, each finished run one more).
    "fsync-error-journal",
    // The fsync of a run's files before its folder is renamed into place
    // (one visit per run).
    "fsync-error-run",
];

/// The point `BENCHVM_FAULT` names, and how often it was visited.
#[derive(Debug)]
struct Spec {
    name: String,
    nth: u32,
    visits: AtomicU32,
}

static SPEC: OnceLock<Option<Spec>> = OnceLock::new();

fn parse(spec: &str) -> Spec {
    let (name, nth) = match spec.split_once('@') {
        Some((n, k)) => (n, k.parse::<u32>().unwrap_or(1)),
        None => (spec, 1),
    };
    if !POINTS.contains(&name) && !FSYNC_POINTS.contains(&name) {
        crate::errln!("fault injection: BENCHVM_FAULT={spec} names no fault point (ignored)");
    }
    Spec {
        name: name.to_owned(),
        nth,
        visits: AtomicU32::new(0),
    }
}

/// Counts a visit of `point`; true when `BENCHVM_FAULT` names this visit.
pub fn fires(point: &'static str) -> bool {
    let spec = SPEC.get_or_init(|| std::env::var("BENCHVM_FAULT").ok().map(|s| parse(&s)));
    let Some(spec) = spec else {
        return false;
    };
    if spec.name != point {
        return false;
    }
    spec.visits.fetch_add(1, Ordering::Relaxed) + 1 == spec.nth
}

/// Kills the process if `BENCHVM_FAULT` names this visit of `point`.
pub fn point(point: &'static str) {
    if fires(point) {
        crate::errln!("fault injection: SIGKILL at {point}");
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    }
}

/// The error an fsync point injects (EIO), saying so on stderr.
pub fn eio(point: &'static str) -> io::Error {
    crate::errln!("fault injection: fsync reports EIO at {point}");
    io::Error::from(nix::errno::Errno::EIO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_names_a_point_and_its_visit() {
        let s = parse("fsync-error-journal@3");
        assert_eq!((s.name.as_str(), s.nth), ("fsync-error-journal", 3));
        let s = parse("mid-pack");
        assert_eq!((s.name.as_str(), s.nth), ("mid-pack", 1));
        assert_eq!(eio("test").raw_os_error(), Some(5));
    }
}
