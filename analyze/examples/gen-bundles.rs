//! Generates valid synthetic bundles for the analyze benchmark
//! (scripts/bench-analyze.sh):
//!
//!     gen-bundles OUT_DIR [COUNT=1000] [ROWS=1000]
//!
//! Each bundle holds about ROWS metric rows of native, KVM and Xen over the
//! overall, scalability and isolation experiments, the `stdout.log` of the
//! first repetition of every (platform, experiment, workload), and an
//! environment summary from one of four hosts (two CPU models, two
//! kernels), so the report exercises every table, warning and the
//! comparability guard. The metrics table is most of each bundle, as the
//! benchmark asks. Values are pseudo-random but deterministic.

#[path = "../tests/suite/common.rs"]
mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use benchvm_format::metrics::{MetricRow, Role, Unit};
use benchvm_format::write::{Content, Source};
use common::{summary, write_bundle_with, Platform, Rng, NATIVE};

const KVM: Platform = ("kvm", "kvm", false);
const XEN: Platform = ("xen", "xen-pvh", false);

/// (workload, metric, unit, typical value) of the overall experiment.
const MEASURES: &[(&str, &str, Unit, f64)] = &[
    ("cpu", "events_per_sec", Unit::EVENTS_PER_SECOND, 1650.0),
    ("cpu", "latency_avg", Unit::MILLISECONDS, 0.61),
    ("kernel-compile", "wall_time", Unit::SECONDS, 412.0),
    ("disk-write", "bandwidth", Unit::MEGABYTES_PER_SECOND, 480.0),
    ("disk-read", "bandwidth", Unit::MEGABYTES_PER_SECOND, 910.0),
    ("web", "good_rate", Unit::REQUESTS_PER_SECOND, 5200.0),
];
const HOSTS: &[(&str, &str, &str)] = &[
    ("lab-01", "AMD EPYC 7B13", "6.1.0-28-amd64"),
    ("lab-02", "AMD EPYC 7B13", "6.1.0-28-amd64"),
    ("lab-03", "Intel Xeon Gold 6338", "6.1.0-28-amd64"),
    ("lab-04", "Intel Xeon Gold 6338", "6.1.0-31-amd64"),
];
const STRESSORS: &[&str] = &["none", "memory", "fork", "cpu", "disk", "net-receive"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first().map(PathBuf::from) else {
        eprintln!("usage: gen-bundles OUT_DIR [COUNT] [ROWS]");
        return ExitCode::from(2);
    };
    let count: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let rows_wanted: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1000);
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("creating {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    for i in 0..count {
        let mut rng = Rng(i as u64 + 1);
        let rows = bundle_rows(&mut rng, rows_wanted);
        let runs: BTreeSet<&str> = rows
            .iter()
            .filter(|r| r.repetition == 1 && r.guest.unwrap_or(1) == 1)
            .map(|r| r.run.as_str())
            .collect();
        let extra = runs
            .iter()
            .map(|run| Source {
                path: format!("{run}/stdout.log"),
                content: Content::Bytes(log_text(run, &mut rng).into_bytes()),
            })
            .collect();
        let (host, cpu, kernel) = HOSTS[i % HOSTS.len()];
        let env = summary(host, cpu, kernel, &[NATIVE, KVM, XEN]);
        write_bundle_with(&out, &format!("bench {i:04}"), &env, &rows, extra);
    }
    println!(
        "{count} bundles of about {rows_wanted} rows in {}",
        out.display()
    );
    ExitCode::SUCCESS
}

/// A plausible sysbench-like log.
fn log_text(run: &str, rng: &mut Rng) -> String {
    let mut s = format!("sysbench 1.0.20 (using bundled LuaJIT 2.1.0-beta2)\nrun: {run}\n\n");
    for t in 1..=10 {
        s.push_str(&format!(
            "[ {t}s ] thds: 2 eps: {:.2} lat (ms,95%): {:.2}\n",
            1600.0 + 100.0 * rng.unit(),
            0.6 + 0.1 * rng.unit()
        ));
    }
    s
}

/// Platform factor: how much slower than native a platform is.
fn factor(p: Platform) -> f64 {
    match p.0 {
        "kvm" => 0.97,
        "xen" => 0.94,
        _ => 1.0,
    }
}

fn value(rng: &mut Rng, base: f64, p: Platform, unit: &Unit) -> f64 {
    let f = factor(p);
    let mean = if unit.is_duration() {
        base / f
    } else {
        base * f
    };
    // ~2% noise, and now and then a far value.
    let noise = 1.0 + 0.04 * (rng.unit() - 0.5);
    let spike = if rng.unit() < 0.005 { 1.5 } else { 1.0 };
    mean * noise * spike
}

fn bundle_rows(rng: &mut Rng, wanted: usize) -> Vec<MetricRow> {
    let mut rows = Vec::with_capacity(wanted + 64);
    let mut rep = 0u32;
    while rows.len() < wanted {
        rep += 1;
        for p in [NATIVE, KVM, XEN] {
            for (workload, metric, unit, base) in MEASURES {
                rows.push(common::row(
                    p,
                    workload,
                    metric,
                    unit.clone(),
                    rep,
                    Some(value(rng, *base, p, unit)),
                ));
            }
            if p.0 == "native" {
                continue;
            }
            for n in [2u32, 4] {
                for guest in 1..=n {
                    let mut r = common::row(
                        p,
                        "cpu",
                        "events_per_sec",
                        Unit::EVENTS_PER_SECOND,
                        rep,
                        None,
                    );
                    r.experiment = "scalability".into();
                    r.guest = Some(guest);
                    r.n_guests = Some(n);
                    r.status = benchvm_format::metrics::Status::Ok;
                    r.value = Some(value(
                        rng,
                        1650.0 / f64::from(n),
                        p,
                        &Unit::EVENTS_PER_SECOND,
                    ));
                    r.run = format!(
                        "runs/{}/scalability/cpu-{n}/rep-{rep:02}/guest-{guest}",
                        p.0
                    );
                    rows.push(r);
                }
            }
            for &stressor in STRESSORS {
                for (guest, role) in [(1, Role::Normal), (2, Role::Stressed)] {
                    let mut r =
                        common::row(p, "web", "good_rate", Unit::REQUESTS_PER_SECOND, rep, None);
                    r.experiment = "isolation".into();
                    r.guest = Some(guest);
                    r.n_guests = Some(2);
                    r.stressor = Some(stressor.into());
                    r.role = Some(role);
                    r.status = benchvm_format::metrics::Status::Ok;
                    r.value = Some(value(rng, 5200.0, p, &Unit::REQUESTS_PER_SECOND));
                    r.run = format!(
                        "runs/{}/isolation/{stressor}/rep-{rep:02}/guest-{guest}",
                        p.0
                    );
                    rows.push(r);
                }
            }
        }
    }
    rows
}
