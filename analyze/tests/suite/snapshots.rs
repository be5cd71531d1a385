//! Snapshot tests: every table in every format on fixed synthetic data.
//! Run with `UPDATE_SNAPSHOTS=1` to rewrite the files in tests/snapshots/
//! after a deliberate change, then review the diff.

use std::path::{Path, PathBuf};

use analyze::analysis::{analyze, Analysis};
use analyze::filter::Filters;
use analyze::load::load_set;
use analyze::render::{Doc, RENDERERS};

use crate::common::*;

fn snapshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots")
}

/// Compares `actual` with the stored snapshot `name`.
pub fn check(name: &str, actual: &str) {
    let path = snapshot_dir().join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot {}: run with UPDATE_SNAPSHOTS=1 and review it\n--- actual ---\n{actual}",
            path.display()
        )
    });
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "snapshot {name} differs from line {}:\n--- expected ---\n{}\n--- actual ---\n{}\n(UPDATE_SNAPSHOTS=1 rewrites it)",
            first + 1,
            expected.lines().skip(first).take(5).collect::<Vec<_>>().join("\n"),
            actual.lines().skip(first).take(5).collect::<Vec<_>>().join("\n"),
        );
    }
}

fn check_all_formats(doc: &Doc) {
    for r in RENDERERS {
        check(&format!("{}.{}", doc.name, r.extension()), &r.render(doc));
    }
}

/// One bundle per platform, all from one host.
pub fn three_platform_bundles(dir: &Path) -> Vec<PathBuf> {
    let all = three_platform_rows();
    [NATIVE, KVM_TCG, XEN_PV]
        .iter()
        .map(|p| {
            let rows: Vec<_> = all.iter().filter(|r| r.platform == p.0).cloned().collect();
            let env = summary("lab-01", "AMD EPYC 7B13", "6.1.0-28-amd64", &[*p]);
            write_bundle(dir, &format!("synthetic {}", p.0), &env, &rows)
        })
        .collect()
}

fn analysis_of(paths: &[PathBuf]) -> Analysis {
    let set = load_set(paths, &Default::default(), true).expect("load");
    analyze(set, &Filters::default()).expect("analysis")
}

#[test]
fn table1_in_every_format() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = analysis_of(&three_platform_bundles(tmp.path()));
    let docs = a.docs();
    let table1 = docs.iter().find(|d| d.name == "table1").expect("table1");
    check_all_formats(table1);
}

#[test]
fn platform_comparisons_and_warnings_in_every_format() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = analysis_of(&three_platform_bundles(tmp.path()));
    for doc in a.docs().iter().filter(|d| d.name != "table1") {
        check_all_formats(doc);
    }
}

#[test]
fn compare_table_in_every_format() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let set_a = three_platform_bundles(tmp.path());
    // Set B: Xen 8% faster on cpu, the rest unchanged but shifted slightly.
    let b_rows: Vec<_> = three_platform_rows()
        .into_iter()
        .filter(|r| r.platform != "kvm")
        .map(|mut r| {
            if let Some(v) = r.value.as_mut() {
                if r.platform == "xen" && r.workload == "cpu" {
                    *v *= 1.08;
                } else {
                    *v *= 1.001;
                }
            }
            r
        })
        .collect();
    let env_b = summary(
        "lab-01",
        "AMD EPYC 7B13",
        "6.1.0-28-amd64",
        &[NATIVE, XEN_PV],
    );
    let b = write_bundle(tmp.path(), "synthetic b", &env_b, &b_rows);
    let sa = load_set(&set_a, &Default::default(), true).expect("load a");
    let sb = load_set(&[b], &Default::default(), true).expect("load b");
    let samples_a = analyze::samples::collect(&sa.frame).expect("samples a");
    let samples_b = analyze::samples::collect(&sb.frame).expect("samples b");
    let rows = analyze::compare::between_sets(&samples_a, &samples_b);
    assert_eq!(rows.len(), 8, "4 workloads x (native, xen)");
    let cpu_xen = rows
        .iter()
        .find(|c| c.workload == "cpu" && c.a.starts_with("Xen"))
        .expect("cpu xen row");
    assert_eq!(cpu_xen.verdict(), analyze::stats::Verdict::Faster);
    check_all_formats(&analyze::compare::doc(
        "compare",
        "Set B against set A",
        &rows,
    ));
}

/// Scalability rows of one platform: per N, one row per guest; `dnr` lists
/// the (N, guest) pairs that did not return.
fn scalability_rows(
    p: Platform,
    base: f64,
    dnr: &[(u32, u32)],
) -> Vec<benchvm_format::metrics::MetricRow> {
    let mut out = Vec::new();
    for n in [1u32, 2, 4] {
        for g in 1..=n {
            let crashed = dnr.contains(&(n, g));
            let mut r = row(
                p,
                "compile",
                "wall_time",
                benchvm_format::metrics::Unit::SECONDS,
                1,
                (!crashed).then(|| base * f64::from(n) + f64::from(g) * 0.25),
            );
            r.experiment = "scalability".into();
            r.guest = Some(g);
            r.n_guests = Some(n);
            if crashed {
                r.status = benchvm_format::metrics::Status::Dnr;
            }
            r.run = format!("runs/{}/scalability/compile/n={n}/rep-01/guest-{g}", p.0);
            out.push(r);
        }
    }
    out
}

#[test]
fn scalability_in_every_format() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let paths: Vec<PathBuf> = [(KVM_TCG, 60.0, &[(4, 3)][..]), (XEN_PV, 55.0, &[][..])]
        .into_iter()
        .map(|(p, base, dnr)| {
            let env = summary("lab-01", "AMD EPYC 7B13", "6.1.0-28-amd64", &[p]);
            write_bundle(
                tmp.path(),
                &format!("scalability {}", p.0),
                &env,
                &scalability_rows(p, base, dnr),
            )
        })
        .collect();
    let a = analysis_of(&paths);
    let docs = a.docs();
    for name in ["scalability", "scalability_summary", "scaling"] {
        check_all_formats(docs.iter().find(|d| d.name == name).expect(name));
    }
    // Both platforms fitted, and their slopes compared.
    assert_eq!(a.scaling.curves.len(), 2);
    assert_eq!(a.scaling.differences.len(), 1);
}
