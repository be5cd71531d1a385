//! Table 2 end to end: bundles with isolation rows (SPEC.md §7) for two
//! platforms go through `analyze report`; Table 2 comes out in every format
//! (snapshots in tests/snapshots/table2.*, `UPDATE_SNAPSHOTS=1` rewrites
//! them) with the degradations worked out below, DNR printed as DNR, and
//! the heat-table figure marks the DNR cells.
//!
//! Every guest's baseline is 99, 100, 101 in repetitions 1-3 (mean 100), and
//! a phase multiplies it by a factor per role, so the degradation is
//! (1 - factor) × 100.

#[path = "suite/common.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use benchvm_format::metrics::{Direction, MetricRow, Role, Status, Unit};
use common::{summary, write_bundle, Platform, KVM_TCG, NATIVE, XEN_PV};

const GUESTS: u32 = 4;
const BASE: [f64; 3] = [99.0, 100.0, 101.0];

/// How a role fares in a phase.
#[derive(Clone, Copy)]
enum Fare {
    /// Baseline × factor.
    Factor(f64),
    /// The guest (for normal: guest 3) did not return in repetition 2.
    Dnr,
    /// Baseline × factor, and guest 4's repetition 1 failed.
    FailedOnce(f64),
}

fn isolation_row(p: Platform, stressor: &str, rep: u32, guest: u32, fare: Fare) -> MetricRow {
    let (status, value) = match fare {
        Fare::Dnr if rep == 2 && (guest == 1 || guest == 3) => (Status::Dnr, None),
        Fare::FailedOnce(_) if rep == 1 && guest == 4 => (Status::Failed, None),
        Fare::Factor(f) | Fare::FailedOnce(f) => (Status::Ok, Some(BASE[rep as usize - 1] * f)),
        Fare::Dnr => (Status::Ok, Some(BASE[rep as usize - 1])),
    };
    MetricRow {
        platform: p.0.into(),
        accel: p.1.into(),
        emulated: p.2,
        experiment: "isolation".into(),
        workload: "web".into(),
        metric: "good_rate".into(),
        unit: Unit::PERCENT,
        direction: Direction::Higher,
        repetition: rep,
        guest: Some(guest),
        n_guests: Some(GUESTS),
        stressor: Some(stressor.into()),
        role: Some(if guest == 1 {
            Role::Stressed
        } else {
            Role::Normal
        }),
        status,
        value,
        run: format!(
            "runs/{}/isolation/web/{stressor}/rep-{rep:02}/guest-{guest}",
            p.0
        ),
    }
}

/// The baseline and `phases` (stressor, stressed fare, normal fare).
fn isolation_rows(p: Platform, phases: &[(&str, Fare, Fare)]) -> Vec<MetricRow> {
    let mut out = Vec::new();
    let all = [("none", Fare::Factor(1.0), Fare::Factor(1.0))];
    for (stressor, stressed, normal) in all.iter().chain(phases) {
        for rep in 1..=3 {
            for guest in 1..=GUESTS {
                let fare = if guest == 1 { *stressed } else { *normal };
                out.push(isolation_row(p, stressor, rep, guest, fare));
            }
        }
    }
    out
}

fn bundles(dir: &Path) -> Vec<PathBuf> {
    use Fare::*;
    let kvm = isolation_rows(
        KVM_TCG,
        &[
            ("net-send", Dnr, Factor(0.98)),
            ("memory", Factor(0.5), Factor(1.0)),
            ("fork", Factor(0.9), Factor(0.99)),
            ("cpu", Factor(0.8), Factor(1.02)),
            ("disk", Factor(0.7), Factor(0.95)),
            ("net-receive", Factor(0.6), Factor(0.97)),
        ],
    );
    // No disk phase on Xen.
    let xen = isolation_rows(
        XEN_PV,
        &[
            ("memory", Dnr, Factor(1.0)),
            ("fork", Factor(0.95), Dnr),
            ("cpu", Factor(1.0), Factor(1.0)),
            ("net-receive", Factor(0.97), Factor(0.993)),
            ("net-send", Factor(0.9), FailedOnce(0.98)),
        ],
    );
    [(KVM_TCG, kvm), (XEN_PV, xen)]
        .into_iter()
        .map(|(p, rows)| {
            let env = summary("lab-01", "AMD EPYC 7B13", "6.1.0-28-amd64", &[p]);
            write_bundle(dir, &format!("isolation {}", p.0), &env, &rows)
        })
        .collect()
}

fn report(out: &Path, bundles: &[PathBuf]) -> String {
    let run = Command::new(env!("CARGO_BIN_EXE_analyze"))
        .arg("report")
        .arg("--out")
        .arg(out)
        .args(bundles)
        .env("RUST_LOG", "warn")
        .output()
        .expect("spawn analyze");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr),
    );
    assert!(run.status.success(), "{stdout}\n{stderr}");
    format!("{stdout}\n{stderr}")
}

/// Compares `actual` with tests/snapshots/`name`.
fn snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot {}: run with UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert_eq!(
        expected, actual,
        "{name} differs (UPDATE_SNAPSHOTS=1 rewrites it)"
    );
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text of every `<text>` element of an SVG, trimmed.
fn texts(svg: &str) -> impl Iterator<Item = &str> {
    svg.split("<text").skip(1).filter_map(|t| {
        let inner = &t[t.find('>')? + 1..];
        Some(inner[..inner.find("</text>")?].trim())
    })
}

/// The JSON record of (column, stressor, role).
fn record<'a>(
    records: &'a [serde_json::Value],
    column: &str,
    stressor: &str,
    role: &str,
) -> &'a serde_json::Value {
    records
        .iter()
        .find(|r| r["column"] == column && r["stressor"] == stressor && r["role"] == role)
        .unwrap_or_else(|| panic!("no record {column} {stressor} {role}"))
}

#[test]
fn table2_from_bundles_in_every_format_with_dnr() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let paths = bundles(tmp.path());
    let out = tmp.path().join("report");
    let printed = report(&out, &paths);
    assert!(
        printed.contains("Table 2. Performance isolation"),
        "{printed}"
    );
    assert!(printed.contains("1 failed row(s) excluded"), "{printed}");

    for ext in ["md", "tex", "csv", "json"] {
        snapshot(
            &format!("table2.{ext}"),
            &read(out.join(format!("table2.{ext}"))),
        );
    }

    let md = read(out.join("table2.md"));
    let line = |stressor: &str| -> Vec<String> {
        let l = md
            .lines()
            .find(|l| l.starts_with(&format!("| {stressor} |")))
            .unwrap_or_else(|| panic!("no {stressor} row in\n{md}"));
        l.trim_matches('|')
            .split(" | ")
            .map(|c| c.trim().to_owned())
            .collect()
    };
    assert!(md.starts_with(
        "| Stressor | KVM (TCG): Stressed VM | KVM (TCG): Normal VM | Xen (PV, emulated host): Stressed VM | Xen (PV, emulated host): Normal VM |"
    ));
    let rows: Vec<Vec<String>> = ["memory", "fork", "cpu", "disk", "net-receive", "net-send"]
        .iter()
        .map(|s| line(s))
        .collect();
    // The paper's order, whatever order the phases ran in.
    let order: Vec<usize> = rows
        .iter()
        .map(|r| md.find(&format!("| {} |", r[0])).expect("row"))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{md}");
    let lead = |c: &str| c.split(' ').next().unwrap_or_default().to_owned();
    let leads: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r[1..].iter().map(|c| lead(c)).collect())
        .collect();
    assert_eq!(
        leads,
        [
            ["50.00", "0.00", "DNR", "0.00"],
            ["10.00", "1.00", "5.00", "DNR"],
            ["20.00", "-2.00", "0.00", "0.00"],
            ["30.00", "5.00", "—", "—"],
            ["40.00", "3.00", "3.00", "0.70"],
            ["DNR", "2.00", "10.00", "2.00"],
        ]
    );
    assert!(rows[0][1].ends_with("n=3/3"), "{:?}", rows[0]);

    let csv = read(out.join("table2.csv"));
    assert!(csv.starts_with("workload,metric,unit,stressor,column,role,status,degradation,"));
    assert!(
        csv.contains("web,good_rate,%,net-send,KVM (TCG),stressed,DNR,,"),
        "{csv}"
    );
    assert!(
        csv.contains("web,good_rate,%,memory,\"Xen (PV, emulated host)\",stressed,DNR,,"),
        "{csv}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&read(out.join("table2.json"))).expect("json");
    let records = json["records"].as_array().expect("records");
    // 6 stressors × 2 roles on KVM, 5 × 2 on Xen.
    assert_eq!(records.len(), 22);
    let cpu = record(records, "KVM (TCG)", "cpu", "normal");
    let d = cpu["degradation"].as_f64().expect("number");
    assert!((d + 2.0).abs() < 1e-9, "{d}");
    assert!(
        cpu["ci_low"].as_f64().expect("low") <= d && d <= cpu["ci_high"].as_f64().expect("high")
    );
    assert_eq!(cpu["interval"], "fieller");
    assert_eq!(
        (cpu["phase_n"].as_u64(), cpu["guests"].as_u64()),
        (Some(3), Some(3))
    );
    let dnr = record(records, "Xen (PV, emulated host)", "fork", "normal");
    assert_eq!(dnr["status"], "DNR");
    assert!(dnr["degradation"].is_null());
    assert_eq!(dnr["dnr"].as_u64(), Some(1));
    let failed = record(records, "Xen (PV, emulated host)", "net-send", "normal");
    assert_eq!(failed["failed"].as_u64(), Some(1));
    assert_eq!(failed["bundle_ids"].as_str().map(|s| s.len()), Some(64));

    // The heat table: one "DNR" per DNR cell, dark cells, and the PNG.
    let svg = read(out.join("figures/table2.svg"));
    assert_eq!(texts(&svg).filter(|t| *t == "DNR").count(), 3, "{svg}");
    assert!(svg.contains("#333333"));
    assert!(out.join("figures/table2.png").is_file());

    let report_md = read(out.join("report.md"));
    let t1 = report_md
        .find("## Table 2. Performance isolation")
        .expect("Table 2 in report.md");
    assert!(report_md[t1..].contains("| net-send | DNR |"));
    let html = read(out.join("report.html"));
    assert!(html.contains("Table 2. Performance isolation"));
    assert!(html.contains("<td class=\"num\">DNR</td>"));
    assert!(html.contains("Figure: Table 2 as a heat table"));
}

#[test]
fn no_isolation_rows_no_table2() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rows: Vec<MetricRow> = common::three_platform_rows()
        .into_iter()
        .filter(|r| r.platform != "xen")
        .collect();
    let env = summary(
        "lab-01",
        "AMD EPYC 7B13",
        "6.1.0-28-amd64",
        &[NATIVE, KVM_TCG],
    );
    let bundle = write_bundle(tmp.path(), "overall only", &env, &rows);
    let out = tmp.path().join("report");
    report(&out, &[bundle]);
    assert!(out.join("table1.md").is_file());
    assert!(!out.join("table2.md").exists());
    assert!(!out.join("figures/table2.svg").exists());
    assert!(!read(out.join("report.md")).contains("Table 2"));
}
