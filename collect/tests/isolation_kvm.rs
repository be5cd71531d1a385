//! The isolation experiment on real QEMU guests under TCG: the smoke
//! suite's isolation step (2 guests, a baseline and all six stressors, 10 s
//! of load per phase), with the normal guest of the cpu phase made to crash
//! (`BENCHVM_TEST_CRASH_GUEST=2@cpu`: a kernel panic by sysrq before it
//! serves). Every other guest is an ok `good_rate` row; the crashed one is
//! dnr with no value, its console shows the panic; the stressors really
//! ran (their output is in the stressed guest's logs, the network ones'
//! host part in the phase's folder); no QEMU and no network namespace
//! is left; `analyze verify --rederive` re-derives every value from the
//! load reports, and `analyze report` prints Table 2 with DNR in the cpu
//! row's Normal VM cell.
//!
//! Needs qemu-system-x86_64, busybox-static, a guest kernel
//! (`collect fetch guest-kernel`), nginx, stress-ng, iperf3 and root (for
//! `ip netns`); without them the test says so and passes. About 4 minutes
//! here (2 busy cores): 7 phases of two guests, ~30 s each. A second test
//! interrupts collect while both guests of the first phase run and checks
//! that neither a QEMU nor the run's network namespace outlives it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use benchvm_format::metrics::{self, Role, Status};
mod common;

use collect::platform::CRASH_GUEST_ENV;
use common::{
    assert_gone, bundle_of, guest_missing, kvm_run, qemu_descendants, report_missing,
    signal_and_wait, wait_for_qemus, workspace,
};
use nix::sys::signal::Signal;

/// One test at a time: both boot guests and look for namespaces and QEMU
/// processes of their own.
static TURN: Mutex<()> = Mutex::new(());

const STRESSORS: [&str; 6] = ["memory", "fork", "cpu", "disk", "net-receive", "net-send"];

/// Whether guests can boot and serve here; prints why not.
fn can_run() -> bool {
    let missing = guest_missing().or_else(|| {
        ["nginx", "stress-ng", "iperf3", "ip"]
            .into_iter()
            .find(|t| !collect::tools::present(t))
            .map(|t| format!("{t} (scripts/install-deps.sh)"))
    });
    let missing = missing.or_else(|| {
        let root = std::fs::metadata("/proc/self").is_ok_and(|m| {
            use std::os::unix::fs::MetadataExt;
            m.uid() == 0
        });
        (!root).then(|| "root, for ip netns".to_owned())
    });
    report_missing("isolation on kvm", missing)
}

/// The smoke suite's isolation experiment alone.
fn suite(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(workspace().join("suites/smoke.toml")).expect("smoke");
    let (head, iso) = text
        .split_once("[experiments.overall]")
        .expect("suites/smoke.toml changed: update this test");
    let iso = iso
        .split_once("\n# Isolation (the paper")
        .expect("suites/smoke.toml changed: update this test")
        .1;
    let cut = format!("{head}\n# Isolation (the paper{iso}");
    assert!(cut.contains("guests = 2") && !cut.contains("[experiments.scalability]"));
    let path = dir.join("smoke-isolation.toml");
    std::fs::write(&path, cut).expect("write suite");
    path
}

fn namespaces() -> Vec<String> {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|n| n.starts_with("benchvm-"))
        .collect()
}

#[test]
fn isolation_phases_give_good_rate_rows_with_a_crashed_guest_as_dnr() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    if !can_run() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let suite = suite(tmp.path());
    let before = namespaces();
    let start = Instant::now();
    let bundle = bundle_of(
        kvm_run(&suite, tmp.path())
            .env(CRASH_GUEST_ENV, "2@cpu")
            .args(["--label", "isolation kvm"]),
    );
    eprintln!(
        "isolation (7 phases, 2 guests) on kvm (tcg) took {:.0} s",
        start.elapsed().as_secs_f64()
    );
    assert!(
        qemu_descendants(std::process::id()).is_empty(),
        "QEMU left behind"
    );
    assert_eq!(namespaces(), before, "a network namespace was left behind");

    let opened = benchvm_format::read::open(&bundle, &Default::default(), &|_| true)
        .expect("the bundle verifies");
    let file = |p: &str| {
        String::from_utf8_lossy(opened.file(p).unwrap_or_else(|| panic!("{p} missing")))
            .into_owned()
    };
    let rows = metrics::parse(opened.file("metrics.ndjson").expect("metrics")).expect("rows");
    assert_eq!(rows.len(), 14, "{rows:?}");
    for r in &rows {
        let stressor = r.stressor.as_deref().expect("stressor");
        let g = r.guest.expect("guest");
        assert_eq!(
            (
                r.experiment.as_str(),
                r.platform.as_str(),
                r.accel.as_str(),
                r.emulated
            ),
            ("isolation", "kvm", "tcg", true),
            "{r:?}"
        );
        assert_eq!(
            (r.metric.as_str(), r.n_guests),
            ("good_rate", Some(2)),
            "{r:?}"
        );
        let role = if g == 1 { Role::Stressed } else { Role::Normal };
        assert_eq!(r.role, Some(role), "{r:?}");
        let folder = format!("runs/kvm/isolation/web/{stressor}/rep-01/guest-{g}");
        assert_eq!(r.run, folder);
        if (stressor, g) == ("cpu", 2) {
            assert_eq!((r.status, r.value), (Status::Dnr, None), "{r:?}");
            assert!(file(&format!("{folder}/console.log")).contains("Kernel panic"));
        } else {
            assert_eq!(r.status, Status::Ok, "{r:?}");
            assert!(r.value.is_some_and(|v| (0.0..=100.0).contains(&v)), "{r:?}");
            file(&format!("{folder}/load.json"));
        }
    }
    let phases: std::collections::BTreeSet<_> =
        rows.iter().filter_map(|r| r.stressor.clone()).collect();
    assert_eq!(phases.len(), 7, "{phases:?}");
    // The stressors ran in guest 1 between go and stop.
    for s in STRESSORS {
        let log = file(&format!(
            "runs/kvm/isolation/web/{s}/rep-01/guest-1/stdout.log"
        ));
        let tool = if s.starts_with("net-") {
            "iperf3"
        } else {
            "stress-ng"
        };
        assert!(
            log.contains("\"went\":true") && log.contains(tool),
            "{s}: {log}"
        );
    }
    for s in ["net-receive", "net-send"] {
        let log = file(&format!(
            "runs/kvm/isolation/web/{s}/rep-01/host-stressor.log"
        ));
        assert!(log.contains("bits/sec"), "{s}: {log}");
    }

    let analyze = Path::new(env!("CARGO_BIN_EXE_collect")).with_file_name("analyze");
    assert!(
        analyze.exists(),
        "{} is not built: cargo build -p analyze",
        analyze.display()
    );
    let status = Command::new(&analyze)
        .args(["verify", "--rederive"])
        .arg(&bundle)
        .status()
        .expect("analyze verify");
    assert!(status.success(), "analyze verify --rederive");
    let report = tmp.path().join("report");
    let out = Command::new(&analyze)
        .arg("report")
        .arg(&bundle)
        .arg("--out")
        .arg(&report)
        .output()
        .expect("analyze report");
    assert!(
        out.status.success(),
        "analyze report: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = std::fs::read_to_string(report.join("table2.md")).expect("table2.md");
    let cpu = md
        .lines()
        .find(|l| l.starts_with("| cpu"))
        .expect("cpu row");
    let cells: Vec<&str> = cpu.split('|').map(str::trim).collect();
    assert_eq!(cells.get(3), Some(&"DNR"), "{md}");
    assert_ne!(cells.get(2), Some(&"DNR"), "{md}");
    for s in STRESSORS {
        assert!(
            md.lines().any(|l| l.starts_with(&format!("| {s} "))),
            "{s} row missing:\n{md}"
        );
    }
    assert!(report.join("figures/table2.svg").exists());
}

#[test]
fn interrupting_an_isolation_phase_leaves_no_guest_and_no_namespace() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    if !can_run() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let suite = suite(tmp.path());
    let mut child = kvm_run(&suite, tmp.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn collect");
    let pid = child.id();
    let ours = |ns: &String| ns.starts_with(&format!("benchvm-{pid}-"));
    // The probe guest runs alone, outside any namespace; wait for the
    // first phase's two guests and its namespace.
    let seen = wait_for_qemus(pid, Duration::from_secs(240), |q| {
        q.len() >= 2 && namespaces().iter().any(ours)
    });
    if seen.len() < 2 {
        let _ = child.kill();
        panic!("collect did not start the phase's two guests within 240 s: {seen:?}");
    }
    let status = signal_and_wait(&mut child, Signal::SIGINT);
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert_gone(&seen, Duration::from_secs(10));
    let left: Vec<String> = namespaces().into_iter().filter(|n| ours(n)).collect();
    assert!(left.is_empty(), "namespaces left behind: {left:?}");
}
