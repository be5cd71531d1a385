//! `collect import csv|pts` end to end: the bundles it writes pass
//! `analyze verify --rederive`, `show` and `report` (analyze is the binary
//! built beside collect: `cargo build -p analyze`, or `cargo test
//! --workspace`); the same inputs give the same bytes; bad inputs are
//! refused naming the line, column or key; and an imported bundle whose
//! metrics table was edited and re-hashed is caught by `--rederive`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use benchvm_format::metrics::{self, Direction, Status, Unit, METRICS_PATH};
use benchvm_format::write::{plan, Content, Source};
use benchvm_format::{read, Limits};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/import")
        .join(name)
}

fn collect(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_collect"))
        .args(args)
        .output()
        .expect("run collect")
}

fn analyze(args: &[&std::ffi::OsStr]) -> Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_collect")).with_file_name("analyze");
    assert!(
        bin.exists(),
        "{} is not built: cargo build -p analyze (or cargo test --workspace)",
        bin.display()
    );
    Command::new(bin).args(args).output().expect("run analyze")
}

fn os<S: AsRef<std::ffi::OsStr> + ?Sized>(s: &S) -> &std::ffi::OsStr {
    s.as_ref()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Imports `source` with `meta` into `out`; returns the bundle's path.
fn import(format: &str, source: &Path, meta: &Path, out: &Path) -> PathBuf {
    let o = collect(&[
        os("import"),
        os(format),
        source.as_os_str(),
        os("--meta"),
        meta.as_os_str(),
        os("--out"),
        out.as_os_str(),
    ]);
    assert!(o.status.success(), "collect import: {}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("bundle "))
        .unwrap_or_else(|| panic!("no bundle line in {stdout}"));
    PathBuf::from(line.trim())
}

/// Imports and expects a refusal; returns the error text.
fn refused(format: &str, source: &Path, meta: &Path) -> String {
    let out = tempfile::tempdir().expect("tempdir");
    let o = collect(&[
        os("import"),
        os(format),
        source.as_os_str(),
        os("--meta"),
        meta.as_os_str(),
        os("--out"),
        out.path().as_os_str(),
    ]);
    assert!(!o.status.success(), "accepted: {}", text(&o));
    let written = fs::read_dir(out.path()).map_or(0, |d| d.count());
    assert_eq!(written, 0, "a refused import left files behind");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn open_all(bundle: &Path) -> read::Bundle {
    read::open(bundle, &Limits::default(), &|_| true).expect("bundle verifies")
}

#[test]
fn csv_import_verifies_shows_and_reports() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (source, meta) = (data("results.csv"), data("meta.toml"));
    let bundle = import("csv", &source, &meta, tmp.path());
    assert!(bundle.starts_with(tmp.path()));
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
    assert_eq!(origin["origin"], "import");
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
    assert_eq!(kvm.value, Some(1602.5));
    assert_eq!(kvm.run, "import/source.csv");
    assert!(b.metrics[..3].iter().all(|r| r.guest.is_none()));
    let dnr = &b.metrics[11];
    assert_eq!((dnr.status, dnr.value), (Status::Dnr, None));

    let o = analyze(&[os("verify"), os("--rederive"), bundle.as_os_str()]);
    assert!(o.status.success(), "verify: {}", text(&o));
    assert!(
        text(&o).contains("re-derived 11 values"),
        "verify: {}",
        text(&o)
    );

    let o = analyze(&[os("show"), bundle.as_os_str()]);
    assert!(o.status.success(), "show: {}", text(&o));
    let shown = text(&o);
    for needed in [
        "collect-import",
        "lab-03 published numbers",
        "origin",
        "import",
    ] {
        assert!(shown.contains(needed), "show lacks {needed:?}: {shown}");
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
        "mean 1661.1667",
        "| kernel-compile | wall_time",
        "mean 411.1000",
        "n=2 |",
    ] {
        assert!(
            table.contains(needed),
            "table1.md lacks {needed:?}:\n{table}"
        );
    }
}

#[test]
fn the_same_inputs_give_the_same_bytes() {
    let (a, b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    for (source, meta, format) in [
        ("results.csv", "meta.toml", "csv"),
        ("composite.xml", "pts-meta.toml", "pts"),
    ] {
        let one = import(format, &data(source), &data(meta), a.path());
        let two = import(format, &data(source), &data(meta), b.path());
        assert_eq!(one.file_name(), two.file_name());
        assert_eq!(
            fs::read(&one).expect("one"),
            fs::read(&two).expect("two"),
            "{format} import is not deterministic"
        );
    }
}

/// Copies the CSV fixture into `dir` with `edit` applied; returns its path.
fn edited_csv(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let text = fs::read_to_string(data("results.csv")).expect("csv");
    let path = dir.join("results.csv");
    fs::write(&path, edit(text)).expect("write csv");
    path
}

fn edited_meta(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let text = fs::read_to_string(data("meta.toml")).expect("meta");
    let path = dir.join("meta.toml");
    fs::write(&path, edit(text)).expect("write meta");
    path
}

/// What is wrong, how the fixture is spoilt, what the error must say.
type Case = (&'static str, fn(String) -> String, &'static [&'static str]);

#[test]
fn bad_csv_is_refused_naming_line_and_column() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let meta = data("meta.toml");
    // Line 4 is the header, line 5 the first row (native cpu rep 1).
    let cases: [Case; 6] = [
        (
            "unknown column",
            |t| t.replace(",value\n", ",colour\n"),
            &[
                "results.csv line 4, column 11 (colour)",
                "unknown column `colour`",
            ],
        ),
        (
            "bad unit",
            |t| t.replacen("events/s", "furlongs", 1),
            &[
                "results.csv line 5, column 5 (unit)",
                "unknown variant `furlongs`",
                "`events/s`",
            ],
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
    ];
    for (what, edit, needed) in cases {
        let source = edited_csv(tmp.path(), edit);
        let err = refused("csv", &source, &meta);
        for n in needed {
            assert!(err.contains(n), "{what}: {n:?} not in {err}");
        }
    }
}

#[test]
fn bad_metadata_is_refused_naming_the_key() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let source = data("results.csv");
    let missing = edited_meta(tmp.path(), |t| {
        t.replace("kernel = \"6.1.0-26-amd64\"\n", "")
    });
    let err = refused("csv", &source, &missing);
    assert!(err.contains("missing required key `host.kernel`"), "{err}");
    assert!(err.contains("meta.toml line 9"), "{err}");

    let unknown = edited_meta(tmp.path(), |t| {
        t.replace("cores = 32", "cores = 32\ncolour = \"red\"")
    });
    let err = refused("csv", &source, &unknown);
    assert!(err.contains("unknown key `host.colour`"), "{err}");
    assert!(err.contains("meta.toml line 13, column 1"), "{err}");

    let unused = edited_meta(tmp.path(), |t| {
        format!(
            "{t}\n[platforms.xen]\nhypervisor = \"Xen\"\naccel = \"xen-pv\"\nemulated = false\n"
        )
    });
    let err = refused("csv", &source, &unused);
    assert!(err.contains("key `platforms.xen`"), "{err}");

    let bad_date = edited_meta(tmp.path(), |t| {
        t.replace("2026-11-02T09:30:00Z", "\"last week\"")
    });
    let err = refused("csv", &source, &bad_date);
    assert!(err.contains("key `created`"), "{err}");
}

#[test]
fn pts_composite_becomes_rows_per_result_and_sample() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bundle = import(
        "pts",
        &data("composite.xml"),
        &data("pts-meta.toml"),
        tmp.path(),
    );
    let b = open_all(&bundle);
    assert_eq!(
        b.file("import/composite.xml"),
        Some(&fs::read(data("composite.xml")).expect("xml")[..])
    );
    let rows = metrics::parse(b.file(METRICS_PATH).expect("metrics")).expect("valid");
    // 4 results x 2 systems: 3 samples each, but fio on KVM (Value only)
    // and nginx (2 samples).
    assert_eq!(rows.len(), 3 + 3 + 3 + 3 + 3 + 1 + 2 + 2);
    let pick = |platform: &str, workload: &str| -> Vec<_> {
        rows.iter()
            .filter(|r| r.platform == platform && r.workload == workload)
            .collect()
    };
    let cpu = pick("native", "sysbench");
    assert_eq!(cpu[0].metric, "test_cpu");
    assert_eq!(
        (cpu[0].unit, cpu[0].direction),
        (Unit::EventsPerSecond, Direction::Higher)
    );
    let values: Vec<_> = cpu.iter().map(|r| (r.repetition, r.value)).collect();
    assert_eq!(
        values,
        [
            (1, Some(21498.31)),
            (2, Some(21540.12)),
            (3, Some(21533.18))
        ]
    );
    let build = pick("kvm", "build-linux-kernel");
    assert_eq!(build[0].metric, "build_defconfig");
    assert_eq!(
        (build[0].unit, build[0].direction),
        (Unit::Seconds, Direction::Lower)
    );
    assert_eq!((build[0].accel.as_str(), build[0].emulated), ("kvm", false));
    let fio = pick("kvm", "fio");
    assert_eq!(fio.len(), 1);
    assert_eq!((fio[0].repetition, fio[0].value), (1, Some(987.0)));
    assert_eq!(fio[0].unit, Unit::MegabytesPerSecond);
    assert_eq!(pick("native", "nginx")[0].unit, Unit::RequestsPerSecond);
    assert!(rows.iter().all(|r| r.run == "import/composite.xml"));

    let o = analyze(&[os("verify"), os("--rederive"), bundle.as_os_str()]);
    assert!(o.status.success(), "verify: {}", text(&o));
    assert!(text(&o).contains("re-derived 20 values"), "{}", text(&o));
}

#[test]
fn pts_scale_without_a_spec_unit_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let xml = fs::read_to_string(data("composite.xml")).expect("xml");
    let source = tmp.path().join("composite.xml");
    fs::write(
        &source,
        xml.replace("<Scale>MB/s</Scale>", "<Scale>MiB/s</Scale>"),
    )
    .expect("write");
    let err = refused("pts", &source, &data("pts-meta.toml"));
    let line = xml
        .lines()
        .position(|l| l.contains("<Scale>MB/s</Scale>"))
        .expect("fixture has MB/s")
        + 1;
    assert!(
        err.contains(&format!("composite.xml line {line}, column 5 (<Scale>)")),
        "{err}"
    );
    assert!(err.contains("\"MiB/s\" has no unit in SPEC.md"), "{err}");

    let unmapped = tmp.path().join("meta.toml");
    let meta = fs::read_to_string(data("pts-meta.toml")).expect("meta");
    fs::write(&unmapped, meta.replace("\"KVM Guest\"", "\"KVM guest\"")).expect("write");
    let err = refused("pts", &data("composite.xml"), &unmapped);
    assert!(err.contains("key `platforms.kvm.pts_system`"), "{err}");
}

/// A new, self-consistent bundle made of `bundle`'s entries and manifest
/// fields with entry `path` edited: every hash recomputed, so only
/// `--rederive` can tell.
fn forge(bundle: &Path, path: &str, edit: impl Fn(&str) -> String, dest: &Path) {
    let b = open_all(bundle);
    let sources: Vec<Source> = b
        .kept
        .iter()
        .map(|(p, bytes)| {
            let bytes = if p == path {
                let text = String::from_utf8(bytes.clone()).expect("utf8");
                let edited = edit(&text);
                assert_ne!(edited, text, "the edit of {path} changed nothing");
                edited.into_bytes()
            } else {
                bytes.clone()
            };
            Source {
                path: p.clone(),
                content: Content::Bytes(bytes),
            }
        })
        .collect();
    let planned = plan(b.manifest.meta(), sources).expect("plan");
    let file = fs::File::create(dest).expect("create");
    planned.write(std::io::BufWriter::new(file)).expect("write");
}

#[test]
fn rederive_catches_an_edited_metrics_table() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bundle = import("csv", &data("results.csv"), &data("meta.toml"), tmp.path());
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
