//! Driving one guest through a job: start QEMU, follow its console with a
//! deadline for every stage (boot, each run, power-off), then read the
//! results disk. Every way a guest can end is an outcome, not an error:
//! the runs it finished come from their records (those of the boot that
//! said ready); the run it was in when it panicked, hung, rebooted or
//! vanished is reported as the failure. A QEMU killed by a signal collect
//! did not send is told apart ([`Driven::killed_by`]): the guest did not
//! fail, its host did.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use benchvm_core::outcome::RunOutcome;

use super::agent::{GuestOutcome, Job, OUTCOME_FILE};
use super::console::Event;
use super::results;
use super::session::{Ended, GuestProcess, Session};

/// How long each stage of a guest may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From QEMU's start to the agent's ready marker.
    pub boot: Duration,
    /// Time cleanup commands get after each run (passed to the agent).
    pub cleanup: Duration,
    /// Slack on top of every stage: records, power-off, a slow emulator.
    pub margin: Duration,
}

/// A finished run of the job: its outcome and files from its record.
#[derive(Debug, Clone)]
pub struct Finished {
    pub outcome: GuestOutcome,
    /// The run's files (`stdout.log`, `stderr.log`, `setup.log`).
    pub files: Vec<(String, Vec<u8>)>,
}

/// What became of a guest.
#[derive(Debug, Clone)]
pub struct Report {
    /// Records of the runs it finished, by job index.
    pub finished: Vec<Finished>,
    /// Why it stopped before finishing the job, if it did.
    pub failure: Option<String>,
    /// Seconds from QEMU's start to the ready marker (host monotonic clock).
    pub boot_to_ready_s: Option<f64>,
    /// Guest uptime the ready marker carried.
    pub ready_uptime_s: Option<f64>,
    /// How QEMU ended.
    pub ended: String,
}

impl Report {
    /// The outcome of job run `index`: from its record, whose files are
    /// written into `dir`; without a record, `dnr` for `missing()`.
    pub fn keep_run(
        &self,
        index: usize,
        dir: &Path,
        missing: impl FnOnce() -> String,
    ) -> std::io::Result<RunOutcome> {
        match self.finished.iter().find(|f| f.outcome.index == index) {
            Some(f) => {
                for (name, bytes) in &f.files {
                    std::fs::write(dir.join(name), bytes)?;
                }
                Ok(f.outcome.outcome.clone())
            }
            None => Ok(RunOutcome {
                status: benchvm_format::metrics::Status::Dnr,
                wall_s: None,
                reason: Some(missing()),
                exit_code: None,
            }),
        }
    }
}

/// A guest's [`Report`], and whether its host process was killed from
/// outside.
#[derive(Debug, Clone)]
pub struct Driven {
    pub report: Report,
    /// The signal that ended the host process (QEMU) when collect did not
    /// send it and the guest had not failed on its own before: an
    /// infrastructure failure, not the benchmark's (`report.failure` says
    /// so).
    pub killed_by: Option<i32>,
}

/// Runs `argv` (a QEMU command line whose guest runs `job`) to its end.
/// The console goes to `console_log`, QEMU's messages to `qemu_log`; the
/// agent writes its records to `results_disk` (none for a boot probe).
pub fn run(
    argv: &[String],
    job: &Job,
    timeouts: Timeouts,
    console_log: &Path,
    qemu_log: &Path,
    results_disk: Option<&Path>,
) -> Result<Report> {
    run_driven(argv, job, timeouts, console_log, qemu_log, results_disk).map(|d| d.report)
}

/// [`run`], also telling whether QEMU was killed from outside.
pub fn run_driven(
    argv: &[String],
    job: &Job,
    timeouts: Timeouts,
    console_log: &Path,
    qemu_log: &Path,
    results_disk: Option<&Path>,
) -> Result<Driven> {
    let session = Session::start(argv, console_log, qemu_log)
        .with_context(|| format!("starting {}", argv.first().map_or("", String::as_str)))?;
    follow(Box::new(session), job, timeouts, qemu_log, results_disk)
}

/// Follows a started guest through `job` to its end, as [`run`] does; the
/// last line of `host_log` (QEMU's or xl's messages) names a crash.
pub fn follow(
    session: Box<dyn GuestProcess>,
    job: &Job,
    timeouts: Timeouts,
    host_log: &Path,
    results_disk: Option<&Path>,
) -> Result<Driven> {
    let what = session.what();
    let started = session.started();
    let mut deadline = started + timeouts.boot;
    let mut stage = String::from("boot: no ready marker");
    let mut ready = None;
    let mut ready_boot: Option<String> = None;
    // The run in progress, to name it when the guest reboots.
    let mut current: Option<usize> = None;
    let folder = |i: usize| job.runs.get(i).map_or("?", |r| r.folder.as_str());
    let rebooted = |current: Option<usize>, booted: bool, why: &str| match current {
        Some(i) => format!("guest rebooted during run {} ({why})", folder(i)),
        None if booted => format!("guest rebooted between runs ({why})"),
        None => format!("guest rebooted while booting ({why})"),
    };
    let mut failure = None;
    let mut done = false;
    let mut timed_out = false;
    loop {
        let Some((at, event)) = session.next(deadline) else {
            timed_out = true;
            let waited = Instant::now().saturating_duration_since(started);
            failure = Some(format!(
                "guest hung ({stage}); killed after {:.0} s",
                waited.as_secs_f64()
            ));
            break;
        };
        match event {
            Event::Ready { .. } if ready.is_some() => {
                failure = Some(rebooted(current, true, "it booted and said ready again"));
                break;
            }
            Event::Ready { uptime_s, boot_id } => {
                ready = Some((
                    at.saturating_duration_since(started).as_secs_f64(),
                    uptime_s,
                ));
                ready_boot = boot_id;
                stage = "no run started after ready".into();
                deadline = at + timeouts.margin;
            }
            Event::Begin(i) => {
                current = Some(i);
                let limit = job.runs.get(i).map_or(0, |r| r.deadline_s);
                stage = format!(
                    "run {} gave no result within its {limit} s deadline, cleanup and margin",
                    folder(i)
                );
                deadline = at + Duration::from_secs(limit) + timeouts.cleanup + timeouts.margin;
            }
            Event::End(_) => {
                current = None;
                stage = "no progress after a run ended".into();
                deadline = at + timeouts.margin;
            }
            Event::Done => {
                done = true;
                break;
            }
            Event::InitFailed(reason) => {
                failure = Some(format!("guest init failed: {reason}"));
                break;
            }
            Event::Panic(line) => {
                failure = Some(format!("guest kernel panic: {line}"));
                break;
            }
            Event::Reboot(line) => {
                failure = Some(rebooted(current, ready.is_some(), &line));
                break;
            }
            Event::Closed => break,
        }
    }
    // After a clean end, a panic, a reboot (-no-reboot) or an init failure
    // QEMU exits by itself (poweroff, or panic=-1 with -no-reboot); give it
    // the margin.
    let grace = if timed_out {
        Duration::ZERO
    } else {
        timeouts.margin
    };
    let ended = session
        .stop(grace)
        .with_context(|| format!("stopping {what}"))?;
    let ended_text = match ended {
        Ended::Exited(s) => match s.code() {
            Some(c) => format!("exit status {c}"),
            None => format!("ended by {s}"),
        },
        Ended::Killed => "killed".to_owned(),
    };
    let mut killed_by = None;
    if failure.is_none() && !done {
        failure = Some(match ended {
            Ended::Exited(s) if s.success() => {
                "guest powered off before finishing its runs".to_owned()
            }
            // Collect kills only at deadlines (Ended::Killed): a signal
            // came from outside.
            Ended::Exited(s) if s.signal().is_some() => {
                let n = s.signal().unwrap_or(0);
                killed_by = Some(n);
                let name = nix::sys::signal::Signal::try_from(n).map_or("?", |s| s.as_str());
                format!(
                    "{what} was killed by signal {n} ({name}), not by collect: an infrastructure failure{}",
                    last_line(host_log)
                )
            }
            _ => format!("{what} crashed ({ended_text}){}", last_line(host_log)),
        });
    }
    let mut report = Report {
        finished: Vec::new(),
        failure,
        boot_to_ready_s: ready.map(|r| r.0),
        ready_uptime_s: ready.map(|r| r.1).filter(|u| u.is_finite()),
        ended: ended_text,
    };
    if let Some(results_disk) = results_disk {
        read_records(&mut report, results_disk, ready_boot.as_deref())?;
    }
    Ok(Driven { report, killed_by })
}

/// Adds the records of `results_disk` to `report`. A record from a boot
/// other than the one that said ready (`boot`) is dropped: the guest
/// rebooted and ran it again, and the run counts as the reboot's failure.
fn read_records(report: &mut Report, results_disk: &Path, boot: Option<&str>) -> Result<()> {
    let records = results::read_file(results_disk)
        .with_context(|| format!("reading the results disk {}", results_disk.display()))?;
    for payload in &records.payloads {
        let mut files = results::unpack(payload).context("unpacking a results record")?;
        let pos = files
            .iter()
            .position(|(n, _)| n == OUTCOME_FILE)
            .context("a results record has no outcome.json")?;
        let (_, bytes) = files.remove(pos);
        let outcome: GuestOutcome =
            serde_json::from_slice(&bytes).context("parsing a record's outcome.json")?;
        if let (Some(ready), Some(id)) = (boot, outcome.boot_id.as_deref()) {
            if ready != id {
                log::warn!(
                    "dropped the record of {}: written by boot {id}, not by boot {ready} that ran the job",
                    outcome.folder
                );
                report.failure.get_or_insert_with(|| {
                    format!(
                        "guest rebooted during run {}: its record comes from boot {id}, not {ready}",
                        outcome.folder
                    )
                });
                continue;
            }
        }
        if report
            .finished
            .iter()
            .all(|f| f.outcome.index != outcome.index)
        {
            report.finished.push(Finished { outcome, files });
        }
    }
    if records.end != results::End::Clean {
        log::warn!(
            "results disk {}: reading stopped at {:?}",
            results_disk.display(),
            records.end
        );
    }
    Ok(())
}

/// `: <last line of QEMU's log>`, when there is one.
fn last_line(log: &Path) -> String {
    std::fs::read_to_string(log)
        .ok()
        .and_then(|s| {
            s.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(str::to_owned)
        })
        .map(|l| format!(": {}", l.trim()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guest::agent::JobRun;
    use crate::workload::Steps;
    use benchvm_format::metrics::Status;

    fn job(deadline_s: u64) -> Job {
        Job {
            runs: vec![JobRun {
                folder: "runs/kvm/overall/x/rep-01".into(),
                steps: Steps {
                    setup: Vec::new(),
                    measured: vec!["true".into()],
                    cleanup: Vec::new(),
                },
                deadline_s,
            }],
            cleanup_s: 0,
        }
    }

    fn quick() -> Timeouts {
        Timeouts {
            boot: Duration::from_secs(10),
            cleanup: Duration::ZERO,
            margin: Duration::from_secs(1),
        }
    }

    /// Runs `script` as if it were QEMU; `record` is written to the results
    /// disk first, as an agent would have.
    fn guest(script: &str, job: &Job, record: Option<&[u8]>) -> (Report, String, Duration) {
        let (driven, log, took) = driven(script, job, record);
        (driven.report, log, took)
    }

    fn driven(script: &str, job: &Job, record: Option<&[u8]>) -> (Driven, String, Duration) {
        let dir = tempfile::tempdir().expect("tempdir");
        let disk = dir.path().join("results.img");
        std::fs::File::create(&disk)
            .and_then(|f| f.set_len(1 << 20))
            .expect("disk");
        if let Some(payload) = record {
            let mut w = results::RecordWriter::open(&disk).expect("open");
            w.append(payload).expect("append");
        }
        let console = dir.path().join("console.log");
        let argv = vec!["sh".to_owned(), "-c".to_owned(), script.to_owned()];
        let start = Instant::now();
        let report = run_driven(
            &argv,
            job,
            quick(),
            &console,
            &dir.path().join("qemu.log"),
            Some(&disk),
        )
        .expect("run");
        let log = std::fs::read_to_string(&console).expect("console");
        (report, log, start.elapsed())
    }

    fn record() -> Vec<u8> {
        let outcome = GuestOutcome {
            index: 0,
            folder: "runs/kvm/overall/x/rep-01".into(),
            outcome: RunOutcome {
                status: Status::Ok,
                wall_s: Some(1.5),
                reason: None,
                exit_code: Some(0),
            },
            started_uptime_s: 2.0,
            ended_uptime_s: 3.5,
            boot_id: Some("b1".into()),
        };
        results::pack(&[
            (
                OUTCOME_FILE.to_owned(),
                serde_json::to_vec(&outcome).expect("json"),
            ),
            ("stdout.log".to_owned(), b"out\n".to_vec()),
        ])
        .expect("pack")
    }

    #[test]
    fn a_clean_guest_gives_its_records() {
        let script = "echo boot; echo BENCHVM-READY 2.5; echo BENCHVM-BEGIN 0 x; \
                      echo BENCHVM-END 0 ok; echo BENCHVM-DONE";
        let (report, log, _) = guest(script, &job(10), Some(&record()));
        assert_eq!(report.failure, None);
        assert_eq!(report.ended, "exit status 0");
        assert_eq!(report.ready_uptime_s, Some(2.5));
        assert!(report.boot_to_ready_s.is_some_and(|t| t >= 0.0));
        assert_eq!(report.finished.len(), 1);
        assert_eq!(report.finished[0].outcome.outcome.wall_s, Some(1.5));
        assert_eq!(
            report.finished[0].files,
            [("stdout.log".to_owned(), b"out\n".to_vec())]
        );
        assert!(log.starts_with("boot\n"));
    }

    #[test]
    fn a_crash_is_reported_with_qemus_last_words() {
        let script = "echo BENCHVM-READY 1; echo BENCHVM-BEGIN 0 x; \
                      echo 'qemu: something broke' >&2; exit 3";
        let (report, _, _) = guest(script, &job(10), None);
        let failure = report.failure.expect("failure");
        assert!(
            failure.contains("QEMU crashed (exit status 3)"),
            "{failure}"
        );
        assert!(failure.contains("something broke"), "{failure}");
        assert!(report.finished.is_empty());
    }

    #[test]
    fn a_hang_is_killed_at_the_run_deadline() {
        let script = "echo BENCHVM-READY 1; echo BENCHVM-BEGIN 0 x; exec sleep 60";
        let (report, _, took) = guest(script, &job(1), None);
        let failure = report.failure.expect("failure");
        assert!(failure.starts_with("guest hung (run runs/kvm"), "{failure}");
        assert_eq!(report.ended, "killed");
        // 1 s deadline + 0 cleanup + 1 s margin
        assert!(took < Duration::from_secs(10), "{took:?}");
    }

    #[test]
    fn a_panic_ends_the_guest_and_names_the_panic() {
        let script = "echo BENCHVM-READY 1; echo BENCHVM-BEGIN 0 x; \
                      echo '[ 3.1] Kernel panic - not syncing: test'; exec sleep 60";
        let (report, log, took) = guest(script, &job(60), None);
        let failure = report.failure.expect("failure");
        assert_eq!(
            failure,
            "guest kernel panic: Kernel panic - not syncing: test"
        );
        assert!(log.contains("Kernel panic"));
        // QEMU did not exit by itself: killed after the margin.
        assert_eq!(report.ended, "killed");
        assert!(took < Duration::from_secs(10), "{took:?}");
    }

    #[test]
    fn a_reboot_mid_run_is_that_runs_failure() {
        let script = "echo 'BENCHVM-READY 1 b1'; echo 'BENCHVM-BEGIN 0 x'; \
                      echo '[ 3.08] sysrq: Resetting'; exit 0";
        let (report, _, _) = guest(script, &job(60), None);
        assert_eq!(
            report.failure.as_deref(),
            Some("guest rebooted during run runs/kvm/overall/x/rep-01 (sysrq: Resetting)")
        );
        assert_eq!(report.ended, "exit status 0");
        // A second boot that says ready is a reboot too.
        let script = "echo 'BENCHVM-READY 1 b1'; echo 'BENCHVM-BEGIN 0 x'; \
                      echo 'BENCHVM-READY 1 b2'; exec sleep 60";
        let (report, _, took) = guest(script, &job(60), None);
        let failure = report.failure.expect("failure");
        assert!(
            failure.starts_with("guest rebooted during run runs/kvm/overall/x/rep-01"),
            "{failure}"
        );
        assert!(took < Duration::from_secs(10), "{took:?}");
    }

    #[test]
    fn a_record_from_another_boot_is_dropped() {
        // The record says boot b1; the guest that said ready was boot b0.
        let script = "echo 'BENCHVM-READY 1 b0'; echo BENCHVM-BEGIN 0 x; \
                      echo BENCHVM-END 0 ok; echo BENCHVM-DONE";
        let (report, _, _) = guest(script, &job(10), Some(&record()));
        assert!(report.finished.is_empty());
        let failure = report.failure.expect("failure");
        assert!(failure.contains("comes from boot b1, not b0"), "{failure}");
        // The same record under its own boot is kept.
        let script = script.replace("b0", "b1");
        let (report, _, _) = guest(&script, &job(10), Some(&record()));
        assert_eq!((report.finished.len(), report.failure), (1, None));
    }

    #[test]
    fn a_signal_from_outside_is_an_infrastructure_failure() {
        let script = "echo BENCHVM-READY 1; echo BENCHVM-BEGIN 0 x; kill -9 $$";
        let (killed, _, _) = driven(script, &job(10), None);
        assert_eq!(killed.killed_by, Some(9));
        let failure = killed.report.failure.expect("failure");
        assert!(
            failure.starts_with("QEMU was killed by signal 9 (SIGKILL), not by collect"),
            "{failure}"
        );
        // Killed by collect at a deadline: the guest's failure, not infrastructure.
        let script = "echo BENCHVM-READY 1; echo BENCHVM-BEGIN 0 x; exec sleep 60";
        let (hung, _, _) = driven(script, &job(1), None);
        assert_eq!(hung.killed_by, None);
    }

    #[test]
    fn a_guest_that_never_gets_ready_is_a_boot_hang() {
        let script = "echo 'Probing EDD'; exec sleep 60";
        let mut t = quick();
        t.boot = Duration::from_secs(1);
        let dir = tempfile::tempdir().expect("tempdir");
        let argv = vec!["sh".to_owned(), "-c".to_owned(), script.to_owned()];
        let report = run(
            &argv,
            &job(10),
            t,
            &dir.path().join("c.log"),
            &dir.path().join("q.log"),
            None,
        )
        .expect("run");
        let failure = report.failure.expect("failure");
        assert!(failure.starts_with("guest hung (boot"), "{failure}");
        assert_eq!(report.boot_to_ready_s, None);
    }
}
