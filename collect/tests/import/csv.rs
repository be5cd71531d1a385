//! The CSV long format, the paper's own tables among its sources.

use std::fs;
use std::path::{Path, PathBuf};

use benchvm_format::metrics::{Status, Unit, METRICS_PATH};

use crate::common::*;

#[test]
fn csv_import_verifies_shows_and_reports() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (source, meta) = (data("results.csv"), data("meta.toml"));
    let bundle = import("csv", &source, Some(&meta), tmp.path());
    assert!(bundle
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("lab-03-published-numbers-")));

    // The inputs are kept byte for byte, and the bundle says it was imported.
    let b = open_all(&bundle);
    assert_eq!(
        b.file("import/source.csv"),
        Some(&fs::read(&source).expect("csv")[..])
    );
    assert_eq!(
        b.file("import/meta.toml"),
        Some(&fs::read(&meta).expect("meta")[..])
    );
    let origin: serde_json::Value =
        serde_json::from_slice(b.file("import/origin.json").expect("origin")).expect("json");
    assert_eq!(origin["format"], "csv");
    assert_eq!(
        origin["source_tool"],
        "sysbench 1.0.20 and make, run by hand"
    );
    assert_eq!(b.manifest.tool.name, "collect-import");
    assert_eq!(b.manifest.host, "lab-03");
    assert_eq!(b.manifest.created, "2026-11-02T09:30:00Z");
    assert_eq!(b.manifest.platforms, ["native", "kvm"]);

    // Rows: defaults filled from the metadata, run = the source in the bundle.
    assert_eq!(b.metrics.len(), 12);
    let kvm = &b.metrics[3];
    assert_eq!(
        (kvm.platform.as_str(), kvm.accel.as_str(), kvm.emulated),
        ("kvm", "kvm", false)
    );
    assert_eq!((kvm.guest, kvm.n_guests), (Some(1), Some(1)));
    assert_eq!(
        (kvm.unit.clone(), kvm.value),
        (Unit::EVENTS_PER_SECOND, Some(1602.5))
    );
    assert_eq!(kvm.run, "import/source.csv");
    let dnr = &b.metrics[11];
    assert_eq!((dnr.status, dnr.value), (Status::Dnr, None));
    rederives(&bundle, 11);

    let o = analyze(&[os("show"), bundle.as_os_str()]);
    assert!(o.status.success(), "show: {}", text(&o));
    for needed in ["collect-import", "lab-03 published numbers", "origin"] {
        assert!(
            text(&o).contains(needed),
            "show lacks {needed:?}: {}",
            text(&o)
        );
    }

    let report = tmp.path().join("report");
    let o = analyze(&[
        os("report"),
        os("--out"),
        report.as_os_str(),
        bundle.as_os_str(),
    ]);
    assert!(o.status.success(), "report: {}", text(&o));
    let table = fs::read_to_string(report.join("table1.md")).expect("table1.md");
    // Native's means of the CSV's values: (1661.25 + 1658.5 + 1663.75) / 3
    // and (412.3 + 409.9 + 411.1) / 3; KVM's compile has 2 ok of 3.
    for needed in [
        "| cpu | events_per_sec",
        "mean 1661.2 events/s",
        "| kernel-compile | wall_time",
        "mean 411.10 s",
        "n=2 |",
    ] {
        assert!(
            table.contains(needed),
            "table1.md lacks {needed:?}:\n{table}"
        );
    }
}

/// The paper's Tables 1 and 2 as published: unit `ratio`, the paper's own
/// stressor names, DNR cells, and no host fact the paper does not state.
#[test]
fn the_papers_tables_import_with_no_placeholder_numbers() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bundle = import(
        "csv",
        &data("paper-tables.csv"),
        Some(&data("paper-meta.toml")),
        tmp.path(),
    );
    let b = open_all(&bundle);
    assert_eq!(b.metrics.len(), 12 + 24);
    assert_eq!(b.manifest.platforms, ["native", "xen", "kvm"]);
    let table1: Vec<_> = b
        .metrics
        .iter()
        .filter(|r| r.experiment == "overall")
        .collect();
    assert!(table1.iter().all(|r| r.unit.as_str() == "ratio"));
    let compile = |p: &str| {
        table1
            .iter()
            .find(|r| r.platform == p && r.workload == "kernel-compile")
            .and_then(|r| r.value)
    };
    assert_eq!(
        (compile("native"), compile("xen"), compile("kvm")),
        (Some(1.0), Some(0.487), Some(0.384))
    );
    let cell = |p: &str, stressor: &str, role: &str| {
        let r = b
            .metrics
            .iter()
            .find(|r| {
                r.platform == p
                    && r.stressor.as_deref() == Some(stressor)
                    && r.role.map(|x| format!("{x:?}").to_lowercase()).as_deref() == Some(role)
            })
            .unwrap_or_else(|| panic!("{p} {stressor} {role}"));
        (r.status, r.value, r.unit.as_str().to_owned(), r.n_guests)
    };
    // "Network receiver" is the paper's name of net-receive.
    assert_eq!(
        cell("kvm", "net-receive", "stressed"),
        (Status::Dnr, None, "%".into(), Some(4))
    );
    assert_eq!(
        cell("xen", "net-send", "normal"),
        (Status::Ok, Some(2.08), "%".into(), Some(4))
    );
    assert_eq!(cell("kvm", "disk", "stressed").1, Some(22.2));
    // Host facts the paper does not state are unknown, not numbers.
    let s = summary(&b);
    assert_eq!(
        (s.cpus, s.numa_nodes, s.microcode.as_deref()),
        (None, None, None)
    );
    assert_eq!(s.host, "unknown");
    assert_eq!(s.kernel.as_deref(), Some("2.6.24-18"));
    assert_eq!(s.mem_total_kib, Some(4096 * 1024));
    let json = String::from_utf8_lossy(b.file("env/summary.json").expect("summary")).into_owned();
    assert!(json.contains("\"cpus\": null"), "{json}");
    rederives(&bundle, 31);

    // analyze prints the units as stored.
    let report = tmp.path().join("report");
    let o = analyze(&[
        os("report"),
        os("--out"),
        report.as_os_str(),
        bundle.as_os_str(),
    ]);
    assert!(o.status.success(), "report: {}", text(&o));
    let table = fs::read_to_string(report.join("table1.md")).expect("table1.md");
    assert!(table.contains("normalized_score (ratio"), "{table}");
    let comparability = fs::read_to_string(report.join("comparability.md")).expect("md");
    assert!(
        comparability.contains("Not known for any bundle"),
        "{comparability}"
    );
}

/// Copies a fixture into `dir` with `edit` applied; returns its path.
fn edited(dir: &Path, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let text = fs::read_to_string(data(name)).expect("fixture");
    write(dir, name, &edit(text))
}

/// What is wrong, how the fixture is spoilt, what the error must say.
type Case = (&'static str, fn(String) -> String, &'static [&'static str]);

#[test]
fn bad_csv_is_refused_naming_line_and_column() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let meta = data("meta.toml");
    // Line 4 is the header, line 5 the first row (native cpu rep 1).
    let cases: [Case; 8] = [
        (
            "unknown column",
            |t| t.replace(",value\n", ",colour\n"),
            &[
                "results.csv line 4, column 11 (colour)",
                "unknown column `colour`",
            ],
        ),
        (
            "unit too long",
            |t| t.replacen("events/s", "events per second of wall-clock time", 1),
            &["results.csv line 5, column 5 (unit)", "at most 32"],
        ),
        (
            "two units for one measure",
            |t| t.replacen("events/s", "ops/s", 1),
            &["results.csv line 6", "in events/s", "in ops/s", "line 5"],
        ),
        (
            "non-numeric value",
            |t| t.replace("1658.5", "fast"),
            &[
                "results.csv line 6, column 11 (value)",
                "\"fast\" is not a number",
            ],
        ),
        (
            "NaN",
            |t| t.replace("1663.75", "NaN"),
            &[
                "results.csv line 7, column 11 (value)",
                "\"NaN\" is not a finite number",
            ],
        ),
        (
            "negative duration",
            |t| t.replace("412.3", "-412.3"),
            &[
                "results.csv line 11, column 11 (value)",
                "negative duration",
            ],
        ),
        (
            "platform not in the metadata",
            |t| t.replacen("kvm,", "vmware,", 1),
            &[
                "results.csv line 8, column 1 (platform)",
                "[platforms.vmware]",
            ],
        ),
        (
            "n_guests on a native row",
            |t| {
                t.replacen(
                    "native,overall,cpu,events_per_sec,events/s,higher,1,,,",
                    "native,overall,cpu,events_per_sec,events/s,higher,1,,4,",
                    1,
                )
            },
            &[
                "results.csv line 5, column 9 (n_guests)",
                "native",
                "SPEC.md §7",
            ],
        ),
    ];
    for (what, edit, needed) in cases {
        let source = edited(tmp.path(), "results.csv", edit);
        let err = refused("csv", &source, Some(&meta));
        for n in needed {
            assert!(err.contains(n), "{what}: {n:?} not in {err}");
        }
    }
}

#[test]
fn bad_metadata_is_refused_naming_the_key() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let source = data("results.csv");
    let cases: [Case; 5] = [
        (
            "the citation is required",
            |t| {
                t.replace(
                    "citation = \"Lab notebook 7, pages 12-13: native against KVM on lab-03\"\n",
                    "",
                )
            },
            &["missing required key `source.citation`", "meta.toml line 5"],
        ),
        (
            "unknown key",
            |t| t.replace("cores = 32", "cores = 32\ncolour = \"red\""),
            &["unknown key `host.colour`", "meta.toml line 13, column 1"],
        ),
        (
            "a platform no row uses",
            |t| {
                format!("{t}\n[platforms.xen]\nhypervisor = \"Xen\"\naccel = \"xen-pv\"\nemulated = false\n")
            },
            &["key `platforms.xen`"],
        ),
        (
            "not a date",
            |t| t.replace("2026-11-02T09:30:00Z", "\"last week\""),
            &["key `created`"],
        ),
        (
            "a placeholder count",
            |t| t.replace("cores = 32", "cores = 0"),
            &["key `host.cores`", "leave it out when not known"],
        ),
    ];
    for (what, edit, needed) in cases {
        let meta = edited(tmp.path(), "meta.toml", edit);
        let err = refused("csv", &source, Some(&meta));
        for n in needed {
            assert!(err.contains(n), "{what}: {n:?} not in {err}");
        }
    }
    // Host facts may all be left out: they are unknown.
    let bare = edited(tmp.path(), "meta.toml", |t| {
        let (head, rest) = t.split_once("[host]").expect("host table");
        let rest = rest.split_once("[platforms.native]").expect("platforms").1;
        format!("{head}[platforms.native]{rest}")
    });
    let bundle = import("csv", &source, Some(&bare), tmp.path());
    let s = summary(&open_all(&bundle));
    assert_eq!(
        (s.host.as_str(), s.cpus, s.cpu_model),
        ("unknown", None, None)
    );
}

#[test]
fn rederive_catches_an_edited_metrics_table() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bundle = import(
        "csv",
        &data("results.csv"),
        Some(&data("meta.toml")),
        tmp.path(),
    );
    let forged = tmp.path().join("forged.tar.zst");
    // One value of KVM's compile made better.
    forge(
        &bundle,
        METRICS_PATH,
        |t| t.replace("\"value\":455.6,", "\"value\":355.6,"),
        &forged,
    );
    let o = analyze(&[os("verify"), forged.as_os_str()]);
    assert!(
        o.status.success(),
        "the forgery is self-consistent: {}",
        text(&o)
    );
    let o = analyze(&[os("verify"), os("--rederive"), forged.as_os_str()]);
    assert!(!o.status.success(), "rederive accepted a forged table");
    let out = text(&o);
    assert!(out.contains("metrics.ndjson line 10"), "{out}");
    assert!(out.contains("355.6") && out.contains("455.6"), "{out}");
    assert!(out.contains("import/source.csv"), "{out}");

    // A host fact changed is caught too.
    forge(
        &bundle,
        "env/summary.json",
        |t| t.replace("AMD EPYC 7313P", "AMD EPYC 9654"),
        &forged,
    );
    let o = analyze(&[os("verify"), os("--rederive"), forged.as_os_str()]);
    assert!(!o.status.success(), "rederive accepted a forged summary");
    assert!(
        text(&o).contains("env/summary.json: differs"),
        "{}",
        text(&o)
    );
}
