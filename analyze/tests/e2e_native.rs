//! End to end on real tools: `collect run --suite smoke --platform native`,
//! then `analyze verify`, `show` and `report` on the bundle it wrote.

use std::path::{Path, PathBuf};
use std::process::Command;

use benchvm_format::metrics::Status;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn bin(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_analyze")).with_file_name(name);
    assert!(
        path.exists(),
        "{} is not built: run the workspace tests (cargo test --workspace)",
        path.display()
    );
    path
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("spawn");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\nstdout:\n{text}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn smoke_suite_natively_gives_a_bundle_that_verifies_and_reports() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ws = workspace();
    let stdout = run(Command::new(bin("collect"))
        .current_dir(&ws)
        .args([
            "run",
            "--suite",
            "smoke",
            "--platform",
            "native",
            "--label",
            "e2e native",
        ])
        .arg("--out")
        .arg(tmp.path()));
    let bundle = stdout
        .lines()
        .find_map(|l| l.strip_prefix("bundle "))
        .map(|p| PathBuf::from(p.trim()))
        .expect("collect prints the bundle path");
    assert!(bundle.starts_with(tmp.path()), "{}", bundle.display());
    assert!(bundle
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("e2e-native-")));

    // The bundle holds real measurements of every workload.
    let loaded = analyze::load::load(&bundle, &Default::default()).expect("bundle verifies");
    for workload in ["cpu", "kernel-compile", "disk-write", "disk-read"] {
        let rows: Vec<_> = loaded
            .rows
            .iter()
            .filter(|r| r.workload == workload)
            .collect();
        assert!(!rows.is_empty(), "no rows for {workload}");
        assert!(rows
            .iter()
            .all(|r| r.status == Status::Ok && r.platform == "native" && r.accel == "none"));
        assert!(
            rows.iter().all(|r| r.value.is_some_and(|v| v > 0.0)),
            "{workload}: {rows:?}"
        );
    }
    let manifest = &loaded.bundle.manifest;
    for needed in [
        "config/suite.toml",
        "config/plan.json",
        "env/summary.json",
        "env/lscpu.txt",
    ] {
        assert!(
            manifest.files.iter().any(|f| f.path == needed),
            "{needed} missing"
        );
    }
    assert!(manifest.files.iter().any(|f| f
        .path
        .starts_with("runs/native/overall/cpu/rep-01/stdout.log")));
    assert!(loaded.summary.kernel.is_some() && loaded.summary.cpus > Some(0));

    // Packing the kept run folder again gives the very same bytes.
    let run_dir = std::fs::read_dir(tmp.path().join("work"))
        .expect("work dir")
        .next()
        .expect("run dir")
        .expect("entry")
        .path();
    let again = tmp.path().join("again.tar.zst");
    run(Command::new(bin("collect"))
        .args(["pack"])
        .arg(&run_dir)
        .arg("-o")
        .arg(&again));
    assert_eq!(
        std::fs::read(&bundle).expect("read"),
        std::fs::read(&again).expect("read")
    );

    let verify = run(Command::new(bin("analyze")).arg("verify").arg(&bundle));
    assert!(verify.contains(&loaded.bundle.id.hex()), "{verify}");
    let show = run(Command::new(bin("analyze")).arg("show").arg(&bundle));
    assert!(
        show.contains("e2e native") && show.contains("native"),
        "{show}"
    );

    let report_dir = tmp.path().join("report");
    let report = run(Command::new(bin("analyze"))
        .arg("report")
        .arg(&bundle)
        .arg("--out")
        .arg(&report_dir));
    let md = std::fs::read_to_string(report_dir.join("table1.md")).expect("table1.md");
    let csv = std::fs::read_to_string(report_dir.join("table1.csv")).expect("table1.csv");
    assert!(report.contains(md.lines().next().expect("header")));
    for workload in ["cpu", "kernel-compile", "disk-write", "disk-read"] {
        assert!(md.contains(&format!("| {workload} |")), "{md}");
        assert!(
            csv.lines()
                .any(|l| l.starts_with(&format!("{workload},")) && l.contains(",Native,")),
            "{csv}"
        );
    }
    assert!(md.contains("Fieller"));
}

/// cpu in adaptive blocks no real machine stops early (+-0.01%), disk-read
/// fixed: seconds natively.
const ADAPTIVE: &str = r#"
name = "adaptive"
platforms = ["native"]
[defaults]
repetitions = 2
warmups = 1
deadline_s = 60
[experiments.overall]
workloads = ["cpu", "disk-read"]
[workloads.cpu]
kind = "sysbench-cpu"
max_prime = 2000
events = 300
threads = 1
repetitions = { min = 3, max = 6, target_ci = 0.0001 }
[workloads.disk-read]
kind = "fio"
rw = "read"
block_kib = 1024
file_mib = 16
"#;

#[test]
fn a_random_order_with_adaptive_repetitions_is_rederived_and_shown() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let suite = tmp.path().join("adaptive.toml");
    std::fs::write(&suite, ADAPTIVE).expect("suite");
    let stdout = run(Command::new(bin("collect"))
        .args(["run", "--suite"])
        .arg(&suite)
        .args(["--platform", "native", "--order", "random", "--seed", "5"])
        .arg("--out")
        .arg(tmp.path()));
    let bundle = stdout
        .lines()
        .find_map(|l| l.strip_prefix("bundle "))
        .map(|p| PathBuf::from(p.trim()))
        .expect("collect prints the bundle path");
    let verify = run(Command::new(bin("analyze"))
        .args(["verify", "--rederive"])
        .arg(&bundle));
    for needed in [
        "all 12 planned runs accounted for (11 ok, 0 failed, 0 dnr, 1 not needed by their stopping rule)",
        "the random (seed 5) order and the stopping of 2 lanes played again, every quiet and disk claim checked",
    ] {
        assert!(verify.contains(needed), "{needed:?} not in:\n{verify}");
    }
    let show = run(Command::new(bin("analyze")).arg("show").arg(&bundle));
    for needed in [
        "order     random (seed 5)",
        "cpu              max      max of 6 repetitions reached",
        "disk-read        fixed    fixed by the suite: 2 repetitions",
        "host quiet: 11 runs with evidence",
        "runs/native/overall/cpu/warmup-02",
    ] {
        assert!(show.contains(needed), "{needed:?} not in:\n{show}");
    }
    let loaded = analyze::load::load(&bundle, &Default::default()).expect("verifies");
    let step = loaded.design.runs[0].step.as_ref().expect("step figures");
    assert!(step.seconds > 0.0 && step.cpus > 0, "{step:?}");
    assert_eq!(
        loaded.design.disks[0].policy,
        collect::workload::IoPolicy::Direct
    );
}
