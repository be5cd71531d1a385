//! The kvm platform on real QEMU guests under TCG: the smoke suite end to
//! end, a guest panic and a guest hang (both dnr, with their console logs,
//! and no QEMU left behind), and Ctrl-C during a run.
//!
//! Needs qemu-system-x86_64, busybox-static and a guest kernel
//! (`collect fetch guest-kernel`); without them each test says so and
//! passes. The tests take turns: each boots guests on a 2-core machine.
//!
//! The smoke suite runs without its kernel-compile workload and without
//! its scalability experiment (tested in scalability_kvm.rs) by default:
//! under TCG here one compile run takes about 7 minutes. Set
//! BENCHVM_KVM_FULL_SMOKE=1 to run it whole.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use benchvm_format::metrics::{self, Status};
mod common;

use collect::guest;

use collect::platform::{Platform, RunOutcome, RunRequest};
use common::{
    assert_gone, bundle_of, cache, can_boot, kvm_run, qemu_descendants, signal_and_wait,
    small_tcg_guests, steps, wait_for_qemus, workspace,
};

/// One test at a time: they all boot guests, and they look for QEMU
/// processes of their own.
static TURN: Mutex<()> = Mutex::new(());

/// The smoke suite, without kernel-compile unless asked for.
fn smoke_suite(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(workspace().join("suites/smoke.toml")).expect("smoke");
    let text = if std::env::var_os("BENCHVM_KVM_FULL_SMOKE").is_some() {
        text
    } else {
        let cut = text.replace(
            r#"workloads = ["cpu", "kernel-compile", "disk-write", "disk-read"]"#,
            r#"workloads = ["cpu", "disk-write", "disk-read"]"#,
        );
        assert_ne!(cut, text, "suites/smoke.toml changed: update this test");
        // The scalability and isolation experiments have their own tests
        // (scalability_kvm.rs, isolation_kvm.rs).
        let mut cut = cut;
        for section in ["[experiments.scalability]", "[experiments.isolation]"] {
            let start = cut
                .find(section)
                .expect("suites/smoke.toml changed: update this test");
            let end = cut[start..].find("\n\n").map_or(cut.len(), |e| start + e);
            cut = format!("{}{}", &cut[..start], &cut[end..]);
        }
        cut
    };
    let path = dir.join("smoke.toml");
    std::fs::write(&path, text).expect("write suite");
    path
}

#[test]
fn smoke_on_kvm_under_tcg_gives_a_verified_bundle_marked_tcg() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    if !can_boot("smoke on kvm") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let suite = smoke_suite(tmp.path());
    let start = Instant::now();
    let bundle = bundle_of(kvm_run(&suite, tmp.path()).args(["--label", "e2e kvm"]));
    eprintln!(
        "smoke on kvm (tcg) took {:.0} s",
        start.elapsed().as_secs_f64()
    );

    let opened = benchvm_format::read::open(&bundle, &Default::default(), &|_| true)
        .expect("the bundle verifies");
    let rows = metrics::parse(opened.file("metrics.ndjson").expect("metrics")).expect("rows");
    for workload in ["cpu", "disk-write", "disk-read"] {
        let of: Vec<_> = rows.iter().filter(|r| r.workload == workload).collect();
        assert!(!of.is_empty(), "no rows for {workload}");
        for r in of {
            assert_eq!(
                (r.platform.as_str(), r.accel.as_str(), r.emulated, r.status),
                ("kvm", "tcg", true, Status::Ok),
                "{r:?}"
            );
            assert!(r.value.is_some_and(|v| v > 0.0), "{r:?}");
        }
    }
    let has = |p: &str| opened.manifest.files.iter().any(|f| f.path == p);
    for p in [
        "runs/kvm/overall/cpu/rep-01/console.log",
        "runs/kvm/overall/cpu/rep-01/boot.json",
        "runs/kvm/overall/cpu/rep-01/stdout.log",
        "runs/kvm/overall/disk-read/rep-03/console.log",
        "config/kvm/probe-tcg.cmdline",
        "config/kvm/guest-001.cmdline",
        "config/kvm/guest-001-job.json",
    ] {
        assert!(has(p), "{p} missing from the bundle");
    }
    let boot: serde_json::Value = serde_json::from_slice(
        opened
            .file("runs/kvm/overall/cpu/rep-01/boot.json")
            .expect("boot.json"),
    )
    .expect("boot.json parses");
    let ready = boot["boot_to_ready_s"].as_f64().expect("boot_to_ready_s");
    eprintln!("boot to ready (first cpu guest): {ready:.1} s");
    assert!(ready > 0.0 && ready < 180.0, "{boot}");

    let summary: serde_json::Value =
        serde_json::from_slice(opened.file("env/summary.json").expect("summary")).expect("json");
    let kvm = &summary["platforms"]["kvm"];
    assert_eq!(kvm["accel"], "tcg", "{kvm}");
    assert_eq!(kvm["cpu_model"], "qemu64", "{kvm}");
    assert!(
        kvm["qemu_version"]
            .as_str()
            .is_some_and(|v| v.contains("QEMU")),
        "{kvm}"
    );
    assert!(kvm["qemu_command_line"]
        .as_str()
        .is_some_and(|v| v.contains("-accel tcg")));
    assert!(kvm["guest_kernel"].as_str().is_some_and(|v| !v.is_empty()));
    assert!(kvm["machine"].as_str().is_some_and(|v| v.starts_with("pc")));
    assert_eq!(kvm["initramfs_sha256"].as_str().map(str::len), Some(64));
    let mean: f64 = kvm["boot_to_ready_s_mean"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("boot_to_ready_s_mean");
    eprintln!(
        "boot to ready over {} guests: mean {mean:.1} s, max {} s",
        kvm["guests_booted"], kvm["boot_to_ready_s_max"]
    );
    assert!(qemu_descendants(std::process::id()).is_empty());
}

#[test]
fn guest_panic_and_guest_hang_are_dnr_with_console_logs_and_no_qemu_is_left() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    if !can_boot("panic and hang") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut qemu = small_tcg_guests(tmp.path().join("work"));
    assert_eq!((qemu.accel().as_str(), qemu.emulated()), ("tcg", true));

    // A guest panic; then, in a fresh guest, a run that works and a hang:
    // the agent stops itself, so the guest never answers again.
    let panic = steps(&["sh", "-c", "echo c > /proc/sysrq-trigger; sleep 60"]);
    let fine = steps(&["uname", "-r"]);
    let hang = steps(&["sh", "-c", "kill -STOP $PPID; exec sleep 1000"]);
    let dirs: Vec<PathBuf> = ["panic", "fine", "hang"]
        .iter()
        .map(|n| {
            let d = tmp.path().join(n);
            std::fs::create_dir_all(&d).expect("dir");
            d
        })
        .collect();
    let runs = [
        (&panic, &dirs[0], 60),
        (&fine, &dirs[1], 60),
        (&hang, &dirs[2], 5),
    ]
    .map(|(steps, dir, s)| RunRequest {
        steps,
        dir,
        deadline: Duration::from_secs(s),
        name: dir.display().to_string(),
    });
    let mut outcomes: Vec<(usize, RunOutcome)> = Vec::new();
    let start = Instant::now();
    qemu.execute_all(&runs, &mut |i, o| {
        outcomes.push((i, o));
        Ok(())
    })
    .expect("execute_all");
    eprintln!(
        "panic, fine and hang runs took {:.0} s",
        start.elapsed().as_secs_f64()
    );
    let order: Vec<usize> = outcomes.iter().map(|(i, _)| *i).collect();
    assert_eq!(order, [0, 1, 2]);

    let (_, panicked) = &outcomes[0];
    assert_eq!(panicked.status, Status::Dnr, "{panicked:?}");
    assert!(
        panicked
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("panic")),
        "{panicked:?}"
    );
    let console = std::fs::read_to_string(dirs[0].join("console.log")).expect("console.log");
    assert!(console.contains("Kernel panic"), "{console}");

    let (_, ok) = &outcomes[1];
    assert_eq!(ok.status, Status::Ok, "{ok:?}");
    let release = std::fs::read_to_string(dirs[1].join("stdout.log")).expect("stdout.log");
    let kernel = guest::kernel::find(None, &cache()).expect("kernel");
    assert_eq!(
        release.trim(),
        kernel.version,
        "the guest runs the guest kernel"
    );

    let (_, hung) = &outcomes[2];
    assert_eq!(hung.status, Status::Dnr, "{hung:?}");
    assert!(
        hung.reason.as_deref().is_some_and(|r| r.contains("hung")),
        "{hung:?}"
    );
    let console = std::fs::read_to_string(dirs[2].join("console.log")).expect("console.log");
    assert!(console.contains("BENCHVM-BEGIN 1"), "{console}");
    let boot: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dirs[2].join("boot.json")).expect("boot.json"))
            .expect("json");
    assert_eq!(boot["qemu_ended"], "killed", "{boot}");
    assert!(boot["boot_to_ready_s"].as_f64().is_some_and(|t| t > 0.0));

    let left = qemu_descendants(std::process::id());
    assert!(left.is_empty(), "QEMU processes left: {left:?}");
    let facts = qemu.facts();
    assert_eq!(facts.get("guests_booted").map(String::as_str), Some("2"));
}

#[test]
fn interrupting_collect_leaves_no_qemu_behind() {
    stopping_collect_leaves_no_qemu_behind(nix::sys::signal::Signal::SIGINT, Some(130));
}

#[test]
fn killing_collect_leaves_no_qemu_behind() {
    stopping_collect_leaves_no_qemu_behind(nix::sys::signal::Signal::SIGKILL, None);
}

fn stopping_collect_leaves_no_qemu_behind(signal: nix::sys::signal::Signal, code: Option<i32>) {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    if !can_boot("interrupt") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let suite = smoke_suite(tmp.path());
    let mut child = kvm_run(&suite, tmp.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn collect");
    let seen = wait_for_qemus(child.id(), Duration::from_secs(120), |q| !q.is_empty());
    assert!(!seen.is_empty(), "collect started no QEMU within 120 s");
    let status = signal_and_wait(&mut child, signal);
    assert_eq!(status.code(), code, "{status:?}");
    assert_gone(&seen, Duration::from_secs(10));
}
