//! A guest that reboots itself mid-run (reliability.md B8), on real QEMU
//! guests under TCG: the run it rebooted in is dnr with a reason that says
//! so, never ok and never re-run; the runs before it keep their results.
//! Guests run with -no-reboot, so a reboot ends QEMU (exit status 0, as a
//! power-off would): the console's restart line and the boot id the agent
//! reports with its ready marker and in each record tell them apart.
//!
//! Needs qemu-system-x86_64, busybox-static and a guest kernel
//! (`collect fetch guest-kernel`); without them the test says so and passes.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use benchvm_format::metrics::Status;
use collect::platform::{Platform, RunOutcome, RunRequest};

mod common;
use common::{can_boot, qemu_descendants, small_tcg_guests, steps};

#[test]
fn a_guest_that_reboots_mid_run_makes_that_run_dnr_and_keeps_the_runs_before() {
    if !can_boot("reboot") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut qemu = small_tcg_guests(tmp.path().join("work"));

    // Guest 1: a run that works, then an immediate reboot (sysrq b: no
    // sync, no shutdown). Guest 2: busybox's `reboot -f` (reboot(2) at
    // once; the host's systemd `reboot` needs a running systemd).
    let fine = steps(&["uname", "-r"]);
    let sysrq = steps(&["sh", "-c", "echo b > /proc/sysrq-trigger; sleep 60"]);
    let forced = steps(&["sh", "-c", "busybox reboot -f; sleep 60"]);
    let names = ["fine", "sysrq-b", "reboot-f"];
    let dirs: Vec<PathBuf> = names
        .iter()
        .map(|n| {
            let d = tmp.path().join(n);
            std::fs::create_dir_all(&d).expect("dir");
            d
        })
        .collect();
    let runs = [(&fine, &dirs[0]), (&sysrq, &dirs[1]), (&forced, &dirs[2])].map(|(steps, dir)| {
        RunRequest {
            steps,
            dir,
            deadline: Duration::from_secs(60),
            name: dir.display().to_string(),
        }
    });
    let mut outcomes: Vec<(usize, RunOutcome)> = Vec::new();
    let start = Instant::now();
    qemu.execute_all(&runs, &mut |i, o| {
        outcomes.push((i, o));
        Ok(())
    })
    .expect("execute_all");
    let took = start.elapsed();
    eprintln!("three runs, two reboots: {:.0} s", took.as_secs_f64());
    let order: Vec<usize> = outcomes.iter().map(|(i, _)| *i).collect();
    assert_eq!(order, [0, 1, 2], "{outcomes:?}");

    // The run before the reboot keeps its result.
    let (_, fine) = &outcomes[0];
    assert_eq!(fine.status, Status::Ok, "{fine:?}");
    let release = std::fs::read_to_string(dirs[0].join("stdout.log")).expect("stdout.log");
    assert!(!release.trim().is_empty());

    for (i, line) in [(1, "sysrq: Resetting"), (2, "reboot: Restarting system")] {
        let (_, o) = &outcomes[i];
        assert_eq!(o.status, Status::Dnr, "{o:?}");
        let reason = o.reason.as_deref().unwrap_or("");
        let expected = format!("guest rebooted during run {} ({line})", dirs[i].display());
        assert_eq!(reason, expected, "{o:?}");
        assert_eq!(o.wall_s, None);
        let console = std::fs::read_to_string(dirs[i].join("console.log")).expect("console.log");
        assert!(console.contains(line), "{console}");
        // The agent said ready with the guest's boot id.
        let ready = console
            .lines()
            .find(|l| l.starts_with("BENCHVM-READY "))
            .expect("ready marker");
        assert_eq!(ready.split_whitespace().count(), 3, "{ready}");
        let boot: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dirs[i].join("boot.json")).expect("boot.json"))
                .expect("json");
        // -no-reboot: QEMU ends on the guest's reset, exiting 0.
        assert_eq!(boot["qemu_ended"], "exit status 0", "{boot}");
    }
    let left = qemu_descendants(std::process::id());
    assert!(left.is_empty(), "QEMU processes left: {left:?}");
    assert_eq!(
        qemu.facts().get("guests_booted").map(String::as_str),
        Some("2")
    );
}
