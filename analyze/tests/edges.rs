//! The edges where a number would mislead, end to end: bundles imported
//! from CSV (`collect import csv`), then `analyze report`, then what the
//! tables say. Each test is one case a user met: an error count of 0, two
//! constant samples, ties in small samples, negative means, native's own
//! cell, isolation guests counted as independent, and dropped or failed
//! cells.

use std::path::{Path, PathBuf};

use analyze::report::{run, ReportSettings};

/// Metadata for an import with native and kvm on one host.
const META: &str = r#"
label = "edges"
created = 2026-01-02T03:04:05Z
[source]
tool = "hand-made"
citation = "analyze/tests/edges.rs"
[host]
hostname = "lab-01"
cpu_model = "AMD EPYC 7B13"
cores = 8
memory_mib = 16384
kernel = "6.1.0-28-amd64"
[platforms.native]
hypervisor = "none"
accel = "none"
emulated = false
[platforms.kvm]
hypervisor = "KVM"
accel = "kvm"
emulated = false
"#;

const HEADER: &str =
    "platform,experiment,workload,metric,unit,direction,repetition,guest,n_guests,stressor,role,status,value\n";

/// Imports `csv` (rows after the header) and reports it; returns the
/// report folder.
fn report(dir: &Path, csv: &str) -> PathBuf {
    report_with(dir, csv, META)
}

/// [`report`] with another metadata file.
fn report_with(dir: &Path, csv: &str, meta_text: &str) -> PathBuf {
    let source = dir.join("rows.csv");
    let meta = dir.join("meta.toml");
    std::fs::write(&source, format!("{HEADER}{csv}")).expect("csv");
    std::fs::write(&meta, meta_text).expect("meta");
    let packed = collect::import::import_files(
        collect::import::Format::Csv,
        &source,
        Some(&meta),
        &dir.join("bundles"),
        collect::import::Options::default(),
    )
    .expect("import")
    .remove(0)
    .packed;
    let out = dir.join("report");
    run(&ReportSettings {
        bundles: vec![packed.path],
        out: Some(out.clone()),
        reports_dir: dir.to_path_buf(),
        strict: true,
        load: Default::default(),
        filters: Default::default(),
        latex: Default::default(),
        paper: None,
    })
    .expect("the report completes");
    out
}

fn read(out: &Path, name: &str) -> String {
    std::fs::read_to_string(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Overall rows `platform,workload,metric,unit,direction` with values.
fn overall(platform: &str, what: &str, values: &[Option<f64>]) -> String {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let (status, value) = match v {
                Some(v) => ("ok", v.to_string()),
                None => ("failed", String::new()),
            };
            let guest = if platform == "native" { "," } else { "1,1" };
            format!(
                "{platform},overall,{what},{},{guest},,,{status},{value}\n",
                i + 1
            )
        })
        .collect()
}

fn ok(v: &[f64]) -> Vec<Option<f64>> {
    v.iter().copied().map(Some).collect()
}

/// The Markdown line of `md` that starts with `| {start}`.
fn line<'a>(md: &'a str, start: &str) -> &'a str {
    md.lines()
        .find(|l| l.starts_with(&format!("| {start}")))
        .unwrap_or_else(|| panic!("no line | {start} in\n{md}"))
}

#[test]
fn an_infinite_score_is_a_cell_that_says_why_and_the_report_completes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let what = "errors,errors,count,lower";
    let csv = overall("native", what, &ok(&[1.0, 1.1, 0.9]))
        + &overall("kvm", what, &ok(&[0.0, 0.0, 0.0]));
    let out = report(tmp.path(), &csv);
    let md = read(&out, "table1.md");
    assert!(line(&md, "errors").contains("n/a: KVM mean is 0"), "{md}");
    // The figures and the HTML report exist: nothing aborted.
    for f in ["figures/table1.svg", "figures/table1.png", "report.html"] {
        assert!(out.join(f).exists(), "{f}");
    }
    // Native's own score is 1 in the CSV, not NaN; kvm's is empty with a reason.
    let csv = read(&out, "table1.csv");
    assert!(
        csv.contains("errors,errors,count,lower,Native,native,3,0,0,1,"),
        "{csv}"
    );
    assert!(csv.contains("n/a: KVM mean is 0"), "{csv}");
    let json = read(&out, "table1.json");
    assert!(!json.contains("NaN") && !json.contains("inf"));
}

#[test]
fn zero_variance_is_undefined_with_a_warning_never_p_below_0_001() {
    let tmp = tempfile::tempdir().expect("tmp");
    let what = "cpu,events_per_sec,events/s,higher";
    let csv = overall("native", what, &ok(&[5.0, 5.0, 5.0]))
        + &overall("kvm", what, &ok(&[4.0, 4.0, 4.0]));
    let out = report(tmp.path(), &csv);
    let platforms = read(&out, "platforms.md");
    let row = line(&platforms, "cpu");
    assert!(row.contains("undefined: zero variance"), "{row}");
    assert!(!row.contains("<0.001"), "{row}");
    let table1 = read(&out, "table1.md");
    assert!(
        line(&table1, "cpu").contains("0.800 [undefined: zero variance]"),
        "{table1}"
    );
    let warnings = read(&out, "warnings.md");
    assert_eq!(
        warnings.matches("| zero-variance |").count(),
        2,
        "{warnings}"
    );
}

#[test]
fn mann_whitney_with_ties_in_small_samples_is_exact_and_says_so() {
    let tmp = tempfile::tempdir().expect("tmp");
    let what = "cpu,events_per_sec,events/s,higher";
    let csv = overall("native", what, &ok(&[1.0, 2.0, 2.0]))
        + &overall("kvm", what, &ok(&[3.0, 3.0, 4.0]));
    let out = report(tmp.path(), &csv);
    let row = line(&read(&out, "platforms.md"), "cpu").to_owned();
    assert!(row.contains("| 0.100 exact-ties |"), "{row}");
    let csv = read(&out, "platforms.csv");
    assert!(csv.contains(",0.1,exact-ties,"), "{csv}");
}

#[test]
fn negative_means_get_no_ratio_score() {
    let tmp = tempfile::tempdir().expect("tmp");
    let what = "drift,offset,%,higher";
    let csv = overall("native", what, &ok(&[1.0, 1.1, 0.9]))
        + &overall("kvm", what, &ok(&[-1.0, -1.2, -0.8]));
    let out = report(tmp.path(), &csv);
    let row = line(&read(&out, "table1.md"), "drift").to_owned();
    assert!(
        row.contains("n/a: KVM mean is negative (-1); a ratio needs positive means"),
        "{row}"
    );
    assert!(!row.contains("-1.000"), "{row}");
    let row = line(&read(&out, "platforms.md"), "drift").to_owned();
    assert!(row.contains("n/a: B mean is negative"), "{row}");
}

#[test]
fn native_cell_carries_its_mean_interval_only() {
    let tmp = tempfile::tempdir().expect("tmp");
    let what = "cpu,events_per_sec,events/s,higher";
    let csv = overall("native", what, &ok(&[100.0, 101.0, 99.0]))
        + &overall("kvm", what, &ok(&[95.0, 96.0, 94.0]));
    let out = report(tmp.path(), &csv);
    let json: serde_json::Value = serde_json::from_str(&read(&out, "table1.json")).expect("json");
    let native = &json["records"][0];
    assert_eq!(native["column"], "Native");
    assert_eq!(native["interval"], "native");
    assert!(native["ci_low"].is_null() && native["ci_high"].is_null());
    let (lo, hi) = (
        native["mean_ci_low"].as_f64().expect("lo"),
        native["mean_ci_high"].as_f64().expect("hi"),
    );
    assert!(lo < 100.0 && 100.0 < hi);
}

#[test]
fn isolation_comparisons_count_repetitions_not_guests() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut csv = String::new();
    // Two guest platforms: native rows have no guests (SPEC.md §7).
    for platform in ["xen", "kvm"] {
        for rep in 1..=4u32 {
            for (stressor, base) in [("none", 100.0), ("cpu", 90.0)] {
                for guest in 1..=4u32 {
                    let role = if guest == 1 { "stressed" } else { "normal" };
                    let v = base
                        - f64::from(guest)
                        - f64::from(rep) * 0.5
                        - if platform == "kvm" { 3.0 } else { 0.0 };
                    csv.push_str(&format!(
                        "{platform},isolation,web,good_rate,%,higher,{rep},{guest},4,{stressor},{role},ok,{v}\n"
                    ));
                }
            }
        }
    }
    let meta = META.replace(
        "[platforms.native]\nhypervisor = \"none\"\naccel = \"none\"",
        "[platforms.xen]\nhypervisor = \"Xen\"\naccel = \"xen-pv\"",
    );
    let out = report_with(tmp.path(), &csv, &meta);
    let json: serde_json::Value =
        serde_json::from_str(&read(&out, "platforms.json")).expect("json");
    let normal: Vec<&serde_json::Value> = json["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| {
            r["condition"]
                .as_str()
                .is_some_and(|c| c.contains("role=normal"))
        })
        .collect();
    assert!(!normal.is_empty());
    for r in normal {
        // 4 repetitions of 3 normal guests: n = 4, not 12.
        assert_eq!(
            (r["n_a"].as_i64(), r["n_b"].as_i64()),
            (Some(4), Some(4)),
            "{r}"
        );
    }
    assert!(read(&out, "report.md").contains("the unit of analysis is the repetition"));
}

#[test]
fn dropped_and_failed_cells_have_notes_and_effects_need_two_per_side() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cpu = "cpu,events_per_sec,events/s,higher";
    let compile = "kernel-compile,wall_time,s,lower";
    let fio = "disk-read,bandwidth,MB/s,higher";
    let csv = overall("native", cpu, &ok(&[100.0, 101.0, 99.0]))
        + &overall("kvm", cpu, &ok(&[95.0]))
        + &overall("native", compile, &ok(&[60.0, 61.0, 59.0]))
        + &overall("kvm", compile, &[None, None])
        // disk-read only on kvm: no native to normalize to.
        + &overall("kvm", fio, &ok(&[500.0, 510.0]));
    let out = report(tmp.path(), &csv);
    let t1 = read(&out, "table1.md");
    assert!(
        line(&t1, "kernel-compile").contains("no ok value (2 failed, 0 DNR)"),
        "{t1}"
    );
    assert!(
        t1.contains(
            "disk-read / bandwidth: not in the table, native did not measure it; measured on KVM"
        ),
        "{t1}"
    );
    let row = line(&read(&out, "platforms.md"), "cpu").to_owned();
    // n_B = 1: no Hedges' g, no rank-biserial r.
    let cells: Vec<&str> = row.split(" | ").collect();
    assert_eq!((cells[10], cells[12]), ("—", "—"), "{row}");
}

#[test]
fn outlier_scores_are_printed_on_their_side_of_the_threshold() {
    let tmp = tempfile::tempdir().expect("tmp");
    // median 10, MAD 1 -> score of 14.5: 4.5 / 1.4826 = 3.0352...
    let what = "cpu,events_per_sec,events/s,higher";
    let csv = overall(
        "native",
        what,
        &ok(&[9.0, 10.0, 11.0, 10.0, 9.0, 11.0, 14.5]),
    ) + &overall("kvm", what, &ok(&[9.5, 9.6, 9.4]));
    let out = report(tmp.path(), &csv);
    let warnings = read(&out, "warnings.md");
    assert!(
        warnings.contains("value 14.5 is 3.04 robust sd from the median 10 (threshold 3)"),
        "{warnings}"
    );
}
