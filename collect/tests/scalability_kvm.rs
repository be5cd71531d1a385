//! The scalability experiment on real QEMU guests under TCG: the smoke
//! suite's scalability step with N = 2, where guest 2 is made to crash
//! (`BENCHVM_TEST_CRASH_GUEST=2`: a kernel panic by sysrq before its
//! compile). Guest 1's compile is an ok row; guest 2's rows are dnr with no
//! value, its console log shows the panic, no QEMU is left, and `analyze
//! report` marks it in the per-guest figure.
//!
//! Needs qemu-system-x86_64, busybox-static, a guest kernel
//! (`collect fetch guest-kernel`) and the linux-source-6.1 tarball;
//! without them the tests say so and pass. The crash test takes about 90 s
//! here (2 busy cores): a probe guest, then two guests at once, each
//! building tools/gpio in about 30 s under TCG. A second test interrupts
//! collect while both guests run and checks that no QEMU outlives it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use benchvm_format::metrics::{self, Status};
mod common;

use collect::platform::CRASH_GUEST_ENV;
use common::{
    assert_gone, bundle_of, guest_missing, kvm_run, qemu_descendants, report_missing,
    signal_and_wait, wait_for_qemus, workspace,
};
use nix::sys::signal::Signal;

/// One test at a time: both boot guests on a 2-core machine and look for
/// QEMU processes of their own.
static TURN: Mutex<()> = Mutex::new(());

/// Whether guests can boot and compile here; prints why not.
fn can_run(test: &str) -> bool {
    let missing = guest_missing().or_else(|| {
        (!Path::new(collect::kernel_source::TARBALL).exists())
            .then(|| "the kernel source (apt-get install -y linux-source-6.1)".to_owned())
    });
    report_missing(test, missing)
}

/// The smoke suite's scalability experiment alone, with N = 2 only.
fn suite(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(workspace().join("suites/smoke.toml")).expect("smoke");
    // The isolation experiment, last in the file, has its own test.
    let text = text
        .split("\n# Isolation (the paper")
        .next()
        .expect("text")
        .to_owned();
    let cut = text
        .replace(
            "[experiments.overall]\nworkloads = [\"cpu\", \"kernel-compile\", \"disk-write\", \"disk-read\"]\n",
            "",
        )
        .replace("n_guests = [1, 2]", "n_guests = [2]");
    assert!(
        !cut.contains("[experiments.overall]") && cut.contains("n_guests = [2]"),
        "suites/smoke.toml changed: update this test"
    );
    let path = dir.join("smoke-scalability.toml");
    std::fs::write(&path, cut).expect("write suite");
    path
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

#[test]
fn a_guest_crashed_during_a_scalability_run_is_dnr_in_the_rows_and_the_figure() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    if !can_run("scalability on kvm") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let suite = suite(tmp.path());
    let start = Instant::now();
    let bundle = bundle_of(
        kvm_run(&suite, tmp.path())
            .env(CRASH_GUEST_ENV, "2")
            .args(["--label", "scalability kvm"]),
    );
    eprintln!(
        "scalability N=2 on kvm (tcg) took {:.0} s",
        start.elapsed().as_secs_f64()
    );
    assert!(
        qemu_descendants(std::process::id()).is_empty(),
        "QEMU left behind"
    );

    let opened = benchvm_format::read::open(&bundle, &Default::default(), &|_| true)
        .expect("the bundle verifies");
    let rows = metrics::parse(opened.file("metrics.ndjson").expect("metrics")).expect("rows");
    assert_eq!(rows.len(), 2, "{rows:?}");
    let run = "runs/kvm/scalability/tools-compile/n=2/rep-01";
    for r in &rows {
        assert_eq!(
            (
                r.experiment.as_str(),
                r.platform.as_str(),
                r.accel.as_str(),
                r.n_guests
            ),
            ("scalability", "kvm", "tcg", Some(2)),
            "{r:?}"
        );
        let g = r.guest.expect("guest");
        assert_eq!(r.run, format!("{run}/guest-{g}"));
        match g {
            1 => {
                assert_eq!(r.status, Status::Ok, "{r:?}");
                assert!(r.value.is_some_and(|v| v > 0.0), "{r:?}");
            }
            _ => assert_eq!((r.status, r.value), (Status::Dnr, None), "{r:?}"),
        }
    }
    let file = |p: &str| {
        String::from_utf8_lossy(
            opened
                .file(p)
                .unwrap_or_else(|| panic!("{p} missing from the bundle")),
        )
        .into_owned()
    };
    assert!(file(&format!("{run}/guest-2/console.log")).contains("Kernel panic"));
    assert!(file(&format!("{run}/guest-2/run.json")).contains("guest kernel panic"));
    for p in [
        format!("{run}/run.json"),
        format!("{run}/guest-1/console.log"),
        format!("{run}/guest-1/boot.json"),
        format!("{run}/guest-1/setup.log"),
        format!("{run}/guest-2/boot.json"),
    ] {
        file(&p);
    }
    let plan = file("config/plan.json");
    assert!(plan.contains("\"n_guests\": 2"), "{plan}");

    // analyze, built beside collect, marks the crashed guest.
    let analyze = Path::new(env!("CARGO_BIN_EXE_collect")).with_file_name("analyze");
    assert!(
        analyze.exists(),
        "{} is not built: cargo build -p analyze (or cargo test --workspace)",
        analyze.display()
    );
    let report = tmp.path().join("report");
    let status = Command::new(&analyze)
        .args(["verify", "--rederive"])
        .arg(&bundle)
        .status()
        .expect("analyze verify");
    assert!(status.success(), "analyze verify --rederive");
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
    let csv = std::fs::read_to_string(report.join("scalability.csv")).expect("scalability.csv");
    assert!(csv.lines().any(|l| l.contains(",2,1,2,dnr,,")), "{csv}");
    let svg = std::fs::read_to_string(report.join("figures/scalability-kvm-tcg.svg"))
        .expect("per-guest figure");
    let labels = texts(&svg);
    for label in ["N = 2", "1 DNR"] {
        assert!(
            labels.iter().any(|t| t == label),
            "{label} missing in {labels:?}"
        );
    }
    assert!(report.join("figures/scalability-kvm-tcg.png").exists());
    assert!(report.join("figures/scalability-mean.svg").exists());
}

#[test]
fn interrupting_a_scalability_run_leaves_none_of_its_guests_behind() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    if !can_run("scalability interrupt") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let suite = suite(tmp.path());
    let mut child = kvm_run(&suite, tmp.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn collect");
    // The probe guest runs alone; wait for the two guests of N = 2.
    let seen = wait_for_qemus(child.id(), Duration::from_secs(240), |q| q.len() >= 2);
    if seen.len() < 2 {
        let _ = child.kill();
        panic!("collect did not start two guests at once within 240 s: {seen:?}");
    }
    let status = signal_and_wait(&mut child, Signal::SIGINT);
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert_gone(&seen, Duration::from_secs(10));
}
