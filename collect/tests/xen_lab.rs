//! The xen platform for real: `collect lab xen` boots Debian's Xen 4.17
//! and a dom0 under QEMU TCG, runs the lab-smoke suite on platform xen in
//! dom0 (one PV domU running sysbench cpu once), and brings the bundle back.
//! The bundle must verify and carry xen rows (ok, xen-pv, emulated host),
//! the Xen facts (4.17, its command line, xl info, xl.cfg, consoles) and
//! the lab marker.
//!
//! Needs qemu-system-x86_64, busybox-static, xen-utils-4.17,
//! qemu-system-xen, a guest kernel (`collect fetch guest-kernel`) and the
//! hypervisor (`collect fetch xen`); without them it says so and passes.
//! Takes about 7 minutes on an otherwise idle 2-core machine (dom0 up in
//! about 1 minute, the domU ready about 2 minutes after `xl create`); the
//! deadlines leave room for a loaded one.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

mod common;

use benchvm_format::metrics::{self, Status};
use common::{cache, lab_dir, lab_missing, workspace};

#[test]
#[ignore = "boots the Xen lab (minutes); run with `scripts/test.sh --ignored`. CI runs the same path (lab, xen overall, isolation, scalability) in its main-job stage and checks the Xen facts there"]
fn lab_smoke_on_xen_gives_a_verified_bundle_with_xen_facts() {
    if let Some(m) = lab_missing() {
        eprintln!("SKIPPED xen lab: missing {m}");
        return;
    }
    // Under target/, kept when the lab fails: its serial log, run folder
    // and consoles are in <dir>/work/lab-*/.
    let tmp = lab_dir("xen-lab-test-");
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_collect"))
        .current_dir(workspace())
        .args(["lab", "xen", "--dom0-timeout", "600", "--timeout", "1200"])
        .arg("--cache")
        .arg(cache())
        .arg("--out")
        .arg(tmp.path())
        .args([
            "--",
            "--suite",
            "lab-smoke",
            "--platform",
            "xen",
            "--label",
            "e2e xen lab",
        ])
        .output()
        .expect("run collect lab xen");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!(
        "collect lab xen took {:.0} s",
        start.elapsed().as_secs_f64()
    );
    if !out.status.success() {
        let kept = tmp.keep();
        panic!(
            "lab failed; its files are kept in {}\n{stdout}\n{stderr}",
            kept.display()
        );
    }
    let bundle = stdout
        .lines()
        .find_map(|l| l.strip_prefix("bundle "))
        .map(|p| PathBuf::from(p.trim()))
        .expect("the lab prints the bundle path");
    assert_eq!(bundle.parent(), Some(tmp.path()), "bundle brought to --out");
    assert!(
        stdout.lines().any(|l| l.starts_with("id ")),
        "the lab prints the bundle id\n{stdout}"
    );

    let opened = benchvm_format::read::open(&bundle, &Default::default(), &|_| true)
        .expect("the bundle verifies");
    let rows = metrics::parse(opened.file("metrics.ndjson").expect("metrics")).expect("rows");
    let xen: Vec<_> = rows.iter().filter(|r| r.platform == "xen").collect();
    assert!(!xen.is_empty(), "no xen rows: {rows:?}");
    for r in &xen {
        assert_eq!(
            (r.accel.as_str(), r.emulated, r.status, r.n_guests),
            ("xen-pv", true, Status::Ok, Some(1)),
            "{r:?}"
        );
        assert!(r.value.is_some_and(|v| v > 0.0), "{r:?}");
    }

    let has = |p: &str| opened.manifest.files.iter().any(|f| f.path == p);
    for p in [
        "config/xen/guest-001.cfg",
        "config/xen/guest-001-job.json",
        "config/xen/xl-info.txt",
        "config/xen/xl-dmesg.txt",
        "runs/xen/overall/cpu/rep-01/console.log",
        "runs/xen/overall/cpu/rep-01/boot.json",
        "runs/xen/overall/cpu/rep-01/stdout.log",
    ] {
        assert!(has(p), "{p} missing from the bundle");
    }
    let cfg =
        String::from_utf8_lossy(opened.file("config/xen/guest-001.cfg").expect("cfg")).into_owned();
    assert!(cfg.contains("type = \"pv\""), "{cfg}");
    let console = String::from_utf8_lossy(
        opened
            .file("runs/xen/overall/cpu/rep-01/console.log")
            .expect("console"),
    )
    .into_owned();
    assert!(console.contains("BENCHVM-READY"), "{console}");

    let summary: serde_json::Value =
        serde_json::from_slice(opened.file("env/summary.json").expect("summary")).expect("json");
    let facts = &summary["platforms"]["xen"];
    eprintln!("xen facts: {facts}");
    assert!(
        facts["xen_version"]
            .as_str()
            .is_some_and(|v| v.starts_with("4.17.")),
        "{facts}"
    );
    assert!(
        facts["xen_commandline"]
            .as_str()
            .is_some_and(|v| v.contains("dom0_mem=")),
        "{facts}"
    );
    assert_eq!(facts["lab"], "qemu-tcg", "{facts}");
    assert_eq!(facts["accel"], "xen-pv", "{facts}");
    assert!(facts["dom0_kernel"].as_str().is_some_and(|v| !v.is_empty()));
    assert_eq!(facts["guests_booted"], "1", "{facts}");
}
