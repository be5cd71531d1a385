//! The scalability experiment through the whole pipeline on the fake
//! platform: suite -> plan (one run per N) -> runner (N guests, guest 2
//! crashes) -> metric rows with guest, n_guests and a dnr row -> run folder
//! -> bundle -> `analyze report` -> per-guest table and CSV, and figures
//! that mark the crashed guest. Fast and deterministic; the real kvm
//! platform has its own test (collect/tests/scalability_kvm.rs).

use std::path::Path;

use analyze::filter::Filters;
use analyze::report::{self, ReportSettings};
use benchvm_core::registry::PlatformKind;
use benchvm_format::metrics::{self, Status};
use benchvm_format::{RunMeta, Tool};
use collect::journal::Record;
use collect::platform::fake::Fake;
use collect::platform::Platform;
use collect::runfolder::RunFolder;
use collect::{plan, runner, suite};

const SUITE: &str = r#"
name = "fake-scalability"
platforms = ["native", "kvm"]
[defaults]
repetitions = 1
warmups = 0
deadline_s = 60
[experiments.scalability]
workload = "compile"
n_guests = [1, 2, 4]
guest_memory_mib = 256
[workloads.compile]
kind = "tools-compile"
tool = "gpio"
"#;

fn meta() -> RunMeta {
    RunMeta {
        tool: Tool {
            name: "collect".into(),
            version: "0.0.0".into(),
            git_commit: None,
        },
        created: "2026-01-01T00:00:00Z".into(),
        host: "test".into(),
        suite: "fake-scalability".into(),
        platforms: vec!["native".into(), "kvm".into()],
        label: "fake scalability".into(),
    }
}

#[test]
fn a_crashed_guest_is_dnr_from_the_platform_to_the_figure() {
    let suite = suite::parse(SUITE, Path::new("fake.toml")).expect("suite");
    // native has no guests: the scalability experiment skips it.
    let plan = plan::build(&suite, &[PlatformKind::Native, PlatformKind::Kvm]);
    let folders: Vec<String> = plan.runs.iter().map(|r| r.folder()).collect();
    assert_eq!(
        folders,
        [
            "runs/kvm/scalability/compile/n=1/rep-01",
            "runs/kvm/scalability/compile/n=2/rep-01",
            "runs/kvm/scalability/compile/n=4/rep-01",
        ]
    );
    assert!(plan
        .runs
        .iter()
        .all(|r| r.experiment.kind() == plan::ExperimentKind::Scalability
            && r.experiment.guest_memory_mib() == Some(256)));

    let tmp = tempfile::tempdir().expect("tempdir");
    let start = Record::Start {
        collect_version: "0.0.0".into(),
        suite_sha256: String::new(),
        suite_path: "fake.toml".into(),
        runs: plan.runs.len(),
    };
    let folder = RunFolder::create(&tmp.path().join("run"), &meta(), &start).expect("folder");
    folder
        .write_file(
            "config/plan.json",
            &serde_json::to_vec_pretty(&plan).expect("plan json"),
        )
        .expect("plan");
    folder
        .write_file("config/suite.toml", SUITE.as_bytes())
        .expect("suite");
    // A kvm platform as on a machine without KVM: TCG guests, each leaving
    // its boot.json, console and QEMU command line as the real one does.
    let fake = Fake::new("kvm")
        .recording(folder.root())
        .expect("recording")
        .answer("make", "", Status::Ok, 12.5)
        .crash_guest(2);
    let mut summary = benchvm_format::EnvSummary::default();
    summary.platforms.insert("kvm".into(), fake.facts());
    folder
        .write_file(
            benchvm_format::env::SUMMARY_PATH,
            &serde_json::to_vec_pretty(&summary).expect("summary"),
        )
        .expect("summary");
    let mut platforms: Vec<Box<dyn Platform>> = vec![Box::new(fake)];
    let totals = runner::execute(&plan, &mut platforms, None, &folder, &Default::default())
        .expect("execute");
    assert_eq!((totals.runs, totals.ok, totals.dnr), (3, 5, 2));
    assert_eq!(folder.finalize().expect("metrics"), 1 + 2 + 4);

    let rows = metrics::parse(&std::fs::read(folder.root().join("metrics.ndjson")).expect("read"))
        .expect("valid table");
    for r in &rows {
        assert_eq!(r.experiment, "scalability");
        let (g, n) = (r.guest.expect("guest"), r.n_guests.expect("n_guests"));
        assert_eq!(
            r.run,
            format!("runs/kvm/scalability/compile/n={n}/rep-01/guest-{g}")
        );
        if g == 2 {
            assert_eq!((r.status, r.value), (Status::Dnr, None), "{r:?}");
        } else {
            assert_eq!((r.status, r.value), (Status::Ok, Some(12.5)), "{r:?}");
        }
    }
    let guest2 = folder
        .root()
        .join("runs/kvm/scalability/compile/n=4/rep-01/guest-2");
    assert!(std::fs::read_to_string(guest2.join("console.log"))
        .expect("console")
        .contains("Kernel panic"));
    let run_json = std::fs::read_to_string(guest2.join("run.json")).expect("run.json");
    assert!(run_json.contains("\"dnr\""), "{run_json}");

    // A resumed collector finds every scalability run finished and drops
    // nothing (their folders are a level deeper than other runs').
    let root = folder.root().to_path_buf();
    drop(folder);
    let resumed = RunFolder::resume(&root).expect("resume");
    assert!(resumed.dropped.is_empty(), "{:?}", resumed.dropped);
    assert_eq!(resumed.finished.len(), 3);
    let folder = resumed.folder;

    let packed = benchvm_format::rundir::pack(
        folder.root(),
        Some(&tmp.path().join("b.tar.zst")),
        tmp.path(),
    )
    .expect("pack");
    let out = tmp.path().join("report");
    report::run(&ReportSettings {
        bundles: vec![packed.path.clone()],
        out: Some(out.clone()),
        reports_dir: tmp.path().to_path_buf(),
        strict: true,
        load: Default::default(),
        filters: Filters::default(),
        latex: Default::default(),
        paper: None,
    })
    .expect("report");
    // The raw logs re-derive the table, guest by guest.
    let checked = analyze::rederive::check(&packed.path, &Default::default()).expect("rederive");
    assert_eq!((checked.rows, checked.values, checked.dnr), (7, 5, 2));

    let csv = std::fs::read_to_string(out.join("scalability.csv")).expect("csv");
    assert!(csv.starts_with(
        "platform,accel,emulated,workload,metric,unit,n_guests,repetition,guest,status,value,"
    ));
    let dnr_lines: Vec<&str> = csv.lines().filter(|l| l.contains(",dnr,")).collect();
    assert_eq!(dnr_lines.len(), 2, "{csv}");
    assert!(
        dnr_lines
            .iter()
            .all(|l| l.contains(",2,1,2,dnr,,") || l.contains(",4,1,2,dnr,,")),
        "{csv}"
    );
    let md = std::fs::read_to_string(out.join("scalability.md")).expect("md");
    assert!(md.contains("| DNR | DNR |"), "{md}");

    let svg = std::fs::read_to_string(out.join("figures/scalability-kvm-tcg.svg")).expect("svg");
    let labels = texts(&svg);
    for label in ["N = 1", "N = 2", "N = 4", "1 DNR"] {
        assert!(
            labels.iter().any(|t| t == label),
            "{label} missing in {labels:?}"
        );
    }
    // One red X per crashed guest, plus the legend's: two strokes each.
    assert_eq!(
        svg.matches("stroke=\"#C8102E\"").count(),
        2 * (2 + 1),
        "{svg}"
    );
    assert!(out.join("figures/scalability-kvm-tcg.png").exists());
    let mean = std::fs::read_to_string(out.join("figures/scalability-mean.svg")).expect("mean");
    assert!(
        texts(&mean).iter().any(|t| t == "1 DNR"),
        "the mean figure counts the DNR guests"
    );
    let html = std::fs::read_to_string(out.join("report.html")).expect("html");
    assert!(
        html.contains("Scalability: each guest"),
        "table in the report"
    );
    assert_eq!(html.matches("<figure>").count(), 2, "bars and mean figures");
}

/// The text of every `<text>` element of an SVG, trimmed.
fn texts(svg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find("<text") {
        rest = &rest[i..];
        let (Some(open_end), Some(close)) = (rest.find('>'), rest.find("</text>")) else {
            break;
        };
        out.push(rest[open_end + 1..close].trim().to_owned());
        rest = &rest[close..];
    }
    out
}
