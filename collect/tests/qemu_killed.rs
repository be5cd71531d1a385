//! QEMU killed from outside (reliability.md B7), on real QEMU guests under
//! TCG: a test thread SIGKILLs the QEMU of a run while the run is going.
//! That is an infrastructure failure, not the benchmark's: the run is
//! retried on a fresh guest (up to [`HOST_RETRIES`] times), each attempt's
//! console kept in the run's folder and listed in its `boot.json`; with the
//! retries used up the run is dnr saying QEMU was killed by signal 9. Runs
//! before and after keep their results, and no QEMU is left behind.
//!
//! Needs qemu-system-x86_64, busybox-static and a guest kernel
//! (`collect fetch guest-kernel`); without them each test says so and passes.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use benchvm_format::metrics::Status;
use collect::platform::kvm::Kvm;
use collect::platform::HOST_RETRIES;
use collect::platform::{Platform, RunOutcome, RunRequest};

mod common;
use common::{can_boot, qemu_descendants, small_tcg_guests, steps};

/// One test at a time: both boot guests and look for QEMU processes.
static TURN: Mutex<()> = Mutex::new(());

/// The guest tag (`guest-NNN`) of a QEMU process, from its job argument.
fn tag_of(pid: u32) -> Option<String> {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let text = String::from_utf8_lossy(&cmdline);
    let at = text.find("benchvm.job=")?;
    let job = text[at..].split(['\0', ' ']).next()?;
    let name = Path::new(job).file_name()?.to_string_lossy().into_owned();
    name.strip_suffix("-job.json").map(str::to_owned)
}

/// A thread that SIGKILLs, `kills` times, a QEMU of this test whose
/// console shows that `target` began; it returns the pids it killed.
fn killer(
    work: PathBuf,
    target: String,
    kills: usize,
    stop: Arc<AtomicBool>,
) -> JoinHandle<Vec<u32>> {
    std::thread::spawn(move || {
        let me = std::process::id();
        let deadline = Instant::now() + Duration::from_secs(900);
        let mut killed = Vec::new();
        while killed.len() < kills && !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
            for pid in qemu_descendants(me) {
                if killed.contains(&pid) {
                    continue;
                }
                let Some(tag) = tag_of(pid) else { continue };
                let console = std::fs::read_to_string(work.join(format!("{tag}-console.log")))
                    .unwrap_or_default();
                let began = console
                    .lines()
                    .any(|l| l.starts_with("BENCHVM-BEGIN ") && l.ends_with(target.as_str()));
                if began {
                    let pid_t = nix::unistd::Pid::from_raw(i32::try_from(pid).expect("pid"));
                    nix::sys::signal::kill(pid_t, nix::sys::signal::Signal::SIGKILL).expect("kill");
                    eprintln!("killed QEMU {pid} ({tag}) in run {target}");
                    killed.push(pid);
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        killed
    })
}

/// Runs `fine`, `target` (killed `kills` times) and `after` on the kvm
/// platform; returns the outcomes and the runs' folders.
fn run_with_kills(tmp: &Path, kills: usize) -> (Vec<(usize, RunOutcome)>, Vec<PathBuf>, Kvm) {
    let work = tmp.join("work");
    let mut qemu = small_tcg_guests(work.clone());
    let fine = steps(&["uname", "-r"]);
    // Long enough for the killer to see it begin; short when not killed.
    let target = steps(&["sleep", "5"]);
    let dirs: Vec<PathBuf> = ["fine", "target", "after"]
        .iter()
        .map(|n| {
            let d = tmp.join(n);
            std::fs::create_dir_all(&d).expect("dir");
            d
        })
        .collect();
    let runs = [(&fine, &dirs[0]), (&target, &dirs[1]), (&fine, &dirs[2])].map(|(steps, dir)| {
        RunRequest {
            steps,
            dir,
            deadline: Duration::from_secs(60),
            name: dir.display().to_string(),
        }
    });
    let stop = Arc::new(AtomicBool::new(false));
    let thread = killer(
        work,
        dirs[1].display().to_string(),
        kills,
        Arc::clone(&stop),
    );
    let mut outcomes = Vec::new();
    let start = Instant::now();
    let result = qemu.execute_all(&runs, &mut |i, o| {
        outcomes.push((i, o));
        Ok(())
    });
    stop.store(true, Ordering::Relaxed);
    let killed = thread.join().expect("killer thread");
    result.expect("execute_all");
    eprintln!(
        "{} runs, QEMU killed {} times: {:.0} s",
        runs.len(),
        killed.len(),
        start.elapsed().as_secs_f64()
    );
    assert_eq!(killed.len(), kills, "the killer did not find the run");
    let order: Vec<usize> = outcomes.iter().map(|(i, _)| *i).collect();
    assert_eq!(order, [0, 1, 2], "{outcomes:?}");
    for i in [0, 2] {
        assert_eq!(outcomes[i].1.status, Status::Ok, "{:?}", outcomes[i]);
    }
    let left = qemu_descendants(std::process::id());
    assert!(left.is_empty(), "QEMU processes left: {left:?}");
    (outcomes, dirs, qemu)
}

fn boot_json(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("boot.json")).expect("boot.json")).expect("json")
}

#[test]
fn a_run_whose_qemu_is_killed_is_retried_on_a_fresh_guest() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    if !can_boot("qemu killed once") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let (outcomes, dirs, _) = run_with_kills(tmp.path(), 1);
    let (_, target) = &outcomes[1];
    assert_eq!(target.status, Status::Ok, "{target:?}");
    assert!(target.wall_s.is_some_and(|w| w >= 5.0), "{target:?}");

    let target_dir = &dirs[1];
    let killed = std::fs::read_to_string(target_dir.join("attempt-1-console.log"))
        .expect("the killed attempt's console is kept");
    assert!(
        killed.contains(&format!("BENCHVM-BEGIN 1 {}", target_dir.display())),
        "{killed}"
    );
    assert!(!killed.contains("BENCHVM-END 1"), "{killed}");
    let console = std::fs::read_to_string(target_dir.join("console.log")).expect("console");
    assert!(console.contains("BENCHVM-END 0 ok"), "{console}");

    let boot = boot_json(target_dir);
    let attempts = boot["attempts"].as_array().expect("attempts in boot.json");
    assert_eq!(attempts.len(), 1, "{boot}");
    assert_eq!(attempts[0]["console"], "attempt-1-console.log", "{boot}");
    assert_eq!(
        attempts[0]["qemu_ended"], "ended by signal: 9 (SIGKILL)",
        "{boot}"
    );
    assert!(
        attempts[0]["failure"]
            .as_str()
            .is_some_and(|f| f.starts_with("QEMU was killed by signal 9 (SIGKILL), not by collect")),
        "{boot}"
    );
    assert_ne!(attempts[0]["guest"], boot["guest"], "a fresh guest: {boot}");
    assert_eq!(
        (boot["position"].as_u64(), boot["failure"].is_null()),
        (Some(0), true),
        "{boot}"
    );
    // The run before keeps its guest and result; the run after shares the retry's guest.
    assert_eq!(boot_json(&dirs[0])["guest"], attempts[0]["guest"]);
    assert_eq!(boot_json(&dirs[2])["guest"], boot["guest"]);
    assert!(boot_json(&dirs[0]).get("attempts").is_none());
}

#[test]
fn a_run_whose_qemu_is_killed_every_time_is_dnr_saying_so() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    if !can_boot("qemu killed every time") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let (outcomes, dirs, qemu) = run_with_kills(tmp.path(), HOST_RETRIES + 1);
    let (_, target) = &outcomes[1];
    assert_eq!(target.status, Status::Dnr, "{target:?}");
    let reason = target.reason.as_deref().unwrap_or("");
    assert!(
        reason.starts_with("QEMU was killed by signal 9 (SIGKILL), not by collect"),
        "{reason}"
    );
    assert!(
        reason.ends_with(&format!(
            "(in all {} attempts: retried {HOST_RETRIES} times on fresh guests)",
            HOST_RETRIES + 1
        )),
        "{reason}"
    );
    let boot = boot_json(&dirs[1]);
    let attempts = boot["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), HOST_RETRIES, "{boot}");
    for k in 1..=HOST_RETRIES {
        let log = dirs[1].join(format!("attempt-{k}-console.log"));
        assert!(log.is_file(), "{} missing", log.display());
    }
    assert_eq!(boot["qemu_ended"], "ended by signal: 9 (SIGKILL)", "{boot}");
    // fine + the target's three guests + after: four guests, each ready.
    assert_eq!(
        qemu.facts().get("guests_booted").map(String::as_str),
        Some("4")
    );
}
