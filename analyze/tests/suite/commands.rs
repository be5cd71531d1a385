//! The commands end to end on synthetic bundles: `report` over three
//! platforms (every format, Parquet, skipped and strict, filters,
//! comparability), `compare` and `diff`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use polars::prelude::*;

use crate::common::*;
use crate::snapshots::three_platform_bundles;

fn analyze(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_analyze"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("spawn analyze")
}

fn os<S: AsRef<std::ffi::OsStr> + ?Sized>(s: &S) -> &std::ffi::OsStr {
    s.as_ref()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A bundle of native and kvm from another host with another CPU and QEMU.
fn other_host_bundle(dir: &Path) -> PathBuf {
    let rows: Vec<_> = three_platform_rows()
        .into_iter()
        .filter(|r| r.platform != "xen")
        .collect();
    let mut env = summary(
        "lab-02",
        "Intel Xeon Gold 6338",
        "6.1.0-31-amd64",
        &[NATIVE, KVM_TCG],
    );
    env.platforms
        .get_mut("kvm")
        .expect("kvm facts")
        .insert("qemu_version".into(), "QEMU emulator version 8.2.2".into());
    write_bundle(dir, "other host", &env, &rows)
}

fn report(out: &Path, bundles: &[PathBuf], extra: &[&str]) -> Output {
    let mut args: Vec<&std::ffi::OsStr> = vec![os("report"), os("--out"), out.as_os_str()];
    args.extend(bundles.iter().map(|b| b.as_os_str()));
    args.extend(extra.iter().map(os));
    analyze(&args)
}

/// Reads the Parquet file with pyarrow (what pandas uses) when python3 has
/// it; skipped, with a note, on machines without it.
fn read_with_pyarrow(path: &Path, rows: usize) {
    let script = "import sys, pyarrow.parquet as pq; t = pq.read_table(sys.argv[1]); \
                  print(t.num_rows, t.column('bundle_id')[0], t.column('value').type)";
    let has = Command::new("python3")
        .args(["-c", "import pyarrow.parquet"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has {
        eprintln!("note: python3 with pyarrow not found; data.parquet checked with polars only");
        return;
    }
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with(&format!("{rows} ")) && stdout.trim_end().ends_with("double"),
        "{stdout}"
    );
}

#[test]
fn report_over_three_platforms_writes_every_format_and_parquet() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut bundles = three_platform_bundles(tmp.path());
    let broken = tmp.path().join("broken.tar.zst");
    std::fs::write(&broken, b"not a bundle").expect("write");
    bundles.push(broken.clone());
    let out_dir = tmp.path().join("report");
    let out = report(&out_dir, &bundles, &[]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("broken.tar.zst"),
        "the bad bundle is reported: {stderr}"
    );
    assert!(
        stdout.contains("| cpu |")
            && stdout.contains("KVM (TCG)")
            && stdout.contains("Xen (PV, emulated host)"),
        "{stdout}"
    );

    for name in ["table1", "platforms", "comparability", "warnings"] {
        for ext in ["md", "tex", "csv", "json"] {
            let path = out_dir.join(format!("{name}.{ext}"));
            let body = std::fs::read_to_string(&path)
                .unwrap_or_else(|_| panic!("{} missing", path.display()));
            assert!(!body.is_empty(), "{}", path.display());
        }
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out_dir.join(format!("{name}.json"))).expect("json"),
        )
        .expect("valid json");
        assert_eq!(json["table"], name);
    }
    let tex = std::fs::read_to_string(out_dir.join("table1.tex")).expect("tex");
    assert!(tex.contains("\\toprule") && tex.contains("\\midrule") && tex.contains("\\bottomrule"));
    assert!(
        tex.contains("disk-write") && tex.contains("events\\_\\allowbreak{}per"),
        "{tex}"
    );

    let md = std::fs::read_to_string(out_dir.join("report.md")).expect("report.md");
    for needed in [
        "## Skipped bundles",
        "broken.tar.zst",
        "## Table 1. Overall performance normalized to native",
        "## Platform comparisons",
        "## Comparability",
        "## Warnings",
        "## Methods",
        "Fieller",
        "Welch",
        "Mann-Whitney",
        "Hedges",
        "rank-biserial",
        "Leys",
        "outlier",
        "runs/kvm/overall/kernel-compile/rep-05",
        "high-cv",
        "few-values",
        "failed-runs",
    ] {
        assert!(md.contains(needed), "report.md lacks {needed:?}:\n{md}");
    }

    // The tidy data reads back with its lineage.
    let file = std::fs::File::open(out_dir.join("data.parquet")).expect("parquet");
    let df = ParquetReader::new(file).finish().expect("read parquet");
    assert_eq!(df.height(), three_platform_rows().len());
    for column in [
        "platform",
        "accel",
        "emulated",
        "value",
        "run",
        "bundle_id",
        "label",
        "host",
    ] {
        assert!(df.column(column).is_ok(), "{column} missing");
    }
    let ids = df
        .column("bundle_id")
        .expect("ids")
        .n_unique()
        .expect("unique");
    assert_eq!(ids, 3);
    read_with_pyarrow(&out_dir.join("data.parquet"), three_platform_rows().len());

    // --strict makes the broken bundle fatal.
    let strict = report(&tmp.path().join("strict"), &bundles, &["--strict"]);
    assert!(!strict.status.success());
    assert!(text(&strict).1.contains("broken.tar.zst"));
}

#[test]
fn filters_and_the_comparability_guard() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut bundles = three_platform_bundles(tmp.path());
    bundles.push(other_host_bundle(tmp.path()));

    let out_dir = tmp.path().join("all");
    let out = report(&out_dir, &bundles, &[]);
    assert!(out.status.success(), "{:?}", text(&out));
    let guard = std::fs::read_to_string(out_dir.join("comparability.csv")).expect("csv");
    for needed in [
        "cpu_model,AMD EPYC 7B13",
        "cpu_model,Intel Xeon Gold 6338",
        "kernel,",
        "kvm.qemu_version,QEMU emulator version 8.2.2",
    ] {
        assert!(guard.contains(needed), "{needed:?} not in\n{guard}");
    }
    assert!(
        !guard.contains("xen.xen_version"),
        "one Xen bundle only: nothing differs\n{guard}"
    );

    // Filtering to one host removes the difference.
    let one_host = tmp.path().join("one-host");
    let out = report(
        &one_host,
        &bundles,
        &[
            "--host",
            "lab-01",
            "--platform",
            "native",
            "--platform",
            "kvm",
        ],
    );
    assert!(out.status.success(), "{:?}", text(&out));
    let guard = std::fs::read_to_string(one_host.join("comparability.csv")).expect("csv");
    assert_eq!(guard.lines().count(), 1, "only the header:\n{guard}");
    let table = std::fs::read_to_string(one_host.join("table1.csv")).expect("csv");
    assert!(
        table.contains(",KVM (TCG),") && !table.contains("Xen"),
        "{table}"
    );
    let md = std::fs::read_to_string(one_host.join("report.md")).expect("md");
    assert!(
        md.contains("Filters: host = lab-01; platform = native or kvm."),
        "{md}"
    );

    // A filter that keeps nothing is an error, not an empty report.
    let none = report(
        &tmp.path().join("none"),
        &bundles,
        &["--experiment", "isolation"],
    );
    assert!(!none.status.success());
}

#[test]
fn compare_two_sets_in_every_format() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let set_a = three_platform_bundles(tmp.path());
    let b = other_host_bundle(tmp.path());
    let mut args: Vec<&std::ffi::OsStr> = vec![os("compare")];
    for a in &set_a {
        args.extend([os("--a"), a.as_os_str()]);
    }
    args.extend([os("--b"), b.as_os_str()]);
    let out_dir = tmp.path().join("cmp");
    args.extend([os("--out"), out_dir.as_os_str(), os("--format"), os("csv")]);
    let out = analyze(&args);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("experiment,workload,metric,"),
        "{stdout}"
    );
    // Same values in both sets: nothing differs significantly.
    assert_eq!(stdout.lines().count(), 1 + 8, "{stdout}");
    assert!(
        stdout
            .lines()
            .skip(1)
            .all(|l| l.contains(",no significant difference,")),
        "{stdout}"
    );
    assert!(stderr.contains("cpu_model"), "the hosts differ: {stderr}");
    for ext in ["md", "tex", "csv", "json"] {
        assert!(out_dir.join(format!("compare.{ext}")).exists());
        assert!(out_dir.join(format!("comparability.{ext}")).exists());
    }
}

#[test]
fn diff_names_every_environment_difference() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = three_platform_bundles(tmp.path()).remove(1);
    let b = other_host_bundle(tmp.path());
    let out = analyze(&[os("diff"), a.as_os_str(), b.as_os_str()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    for needed in [
        "summary.cpu_model",
        "Intel Xeon Gold 6338",
        "summary.kernel",
        "summary.platforms.kvm.qemu_version",
        "summary.platforms.native.accel",
        "file env/uname.txt",
        "file env/summary.json",
        "manifest.host",
    ] {
        assert!(stdout.contains(needed), "{needed:?} not in\n{stdout}");
    }
    let same = analyze(&[os("diff"), a.as_os_str(), a.as_os_str()]);
    assert_eq!(same.status.code(), Some(0), "{:?}", text(&same));
}
