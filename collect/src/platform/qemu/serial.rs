//! The overall experiment on the kvm platform: one guest boots for a
//! workload's runs (its warm-ups and repetitions) and runs them in order;
//! a guest that panics, hangs or reboots costs the run it was in (dnr) and
//! a fresh guest takes the remaining runs. A QEMU killed from outside is
//! an infrastructure failure: the run it was in is retried on a fresh
//! guest, up to [`QEMU_RETRIES`] times, each attempt's logs kept.

use std::fs;

use anyhow::{Context, Result};
use serde::Serialize;

use super::{BootRecord, Qemu, RESULTS_DISK_BYTES};
use crate::guest::agent::{Job, JobRun};
use crate::guest::drive::{self, Report};
use crate::guest::qemu::{self, Drive};
use crate::guest::{RESULTS_SERIAL, SCRATCH_SERIAL};
use crate::platform::{RunOutcome, RunRequest};

/// How often a run is retried on a fresh guest when its QEMU is killed by
/// a signal collect did not send (reliability.md B7). Two retries ride out
/// a stray kill or an OOM kill of the host's QEMU, and bound the cost of a
/// host that keeps killing it to three boots per run. A constant: `collect
/// run` has no setting for it. A guest's own panic, hang or reboot is a
/// result (dnr), never retried.
pub const QEMU_RETRIES: usize = 2;

/// A guest whose QEMU was killed from outside during a run, before the
/// run was retried; `boot.json` lists them under `attempts`.
#[derive(Debug, Clone, Serialize)]
struct Attempt {
    guest: String,
    qemu_ended: String,
    failure: String,
    /// Its console and QEMU log, kept in the run's folder.
    console: String,
    qemu_log: Option<String>,
}

/// `boot.json` of a serial run: the guest, the boot id its records carry,
/// and the attempts before it.
#[derive(Debug, Serialize)]
struct SerialBoot<'a> {
    #[serde(flatten)]
    boot: BootRecord<'a>,
    boot_id: Option<&'a str>,
    #[serde(skip_serializing_if = "<[Attempt]>::is_empty")]
    attempts: &'a [Attempt],
}

/// How one guest of [`Qemu::one_guest`] ended.
#[derive(Debug)]
enum GuestEnd {
    /// It reported this many runs (the last one dnr when it failed).
    Reported(usize),
    /// It reported `reported` runs, then QEMU was killed from outside
    /// during the next one: that run goes to a fresh guest.
    Retry { reported: usize, attempt: Attempt },
}

impl Qemu {
    /// [`crate::platform::Platform::execute_all`] for the kvm platform:
    /// guests one after the other until every run is reported.
    pub(super) fn serial(
        &mut self,
        runs: &[RunRequest<'_>],
        done: &mut dyn FnMut(usize, RunOutcome) -> Result<()>,
    ) -> Result<()> {
        let mut next = 0;
        // Guests of runs[next] whose QEMU was killed from outside.
        let mut attempts = Vec::new();
        while next < runs.len() {
            // Each guest reports a run or adds an attempt (at most
            // QEMU_RETRIES per run), so this ends.
            match self.one_guest(&runs[next..], next, &attempts, done)? {
                GuestEnd::Reported(n) => {
                    next += n.max(1);
                    attempts.clear();
                }
                GuestEnd::Retry { reported, attempt } => {
                    if reported > 0 {
                        next += reported;
                        attempts.clear();
                    }
                    attempts.push(attempt);
                }
            }
        }
        Ok(())
    }

    /// Boots one guest for `batch` and reports the runs it finished, and
    /// the run it failed in, to `done` (indices offset by `first`), unless
    /// QEMU was killed from outside and `batch[0]`'s earlier `attempts`
    /// leave a retry for the run it was in.
    fn one_guest(
        &mut self,
        batch: &[RunRequest<'_>],
        first: usize,
        attempts: &[Attempt],
        done: &mut dyn FnMut(usize, RunOutcome) -> Result<()>,
    ) -> Result<GuestEnd> {
        self.guests += 1;
        let tag = format!("guest-{:03}", self.guests);
        let work = &self.s.work;
        let scratch = work.join(format!("{tag}-scratch.img"));
        let results = work.join(format!("{tag}-results.img"));
        let job_path = work.join(format!("{tag}-job.json"));
        let console = work.join(format!("{tag}-console.log"));
        let qemu_log = work.join(format!("{tag}-qemu.log"));
        crate::guest::scratch::fresh(&scratch, self.s.guest.scratch_gib)?;
        qemu::sparse_file(&results, RESULTS_DISK_BYTES)?;
        let job = Job {
            runs: batch
                .iter()
                .map(|r| JobRun {
                    folder: r.name.clone(),
                    steps: r.steps.clone(),
                    deadline_s: r.deadline.as_secs(),
                })
                .collect(),
            cleanup_s: self.timeouts.cleanup.as_secs(),
        };
        let job_bytes = serde_json::to_vec_pretty(&job)?;
        fs::write(&job_path, &job_bytes)
            .with_context(|| format!("writing {}", job_path.display()))?;
        let cmd = self
            .command(self.accel)
            .kernel_arg("benchvm.job", &job_path.to_string_lossy())
            .drive(Drive {
                id: "scratch".into(),
                path: scratch.clone(),
                serial: SCRATCH_SERIAL.into(),
                cache: self.cache_mode.into(),
                readonly: false,
            })
            .drive(Drive {
                id: "results".into(),
                path: results.clone(),
                serial: RESULTS_SERIAL.into(),
                cache: "writeback".into(),
                readonly: false,
            });
        let line = cmd.line();
        self.record_config(&format!("{tag}.cmdline"), format!("{line}\n").as_bytes())?;
        self.record_config(&format!("{tag}-job.json"), &job_bytes)?;
        self.facts
            .entry("qemu_command_line".into())
            .or_insert_with(|| line.clone());

        let driven = drive::run_driven(
            &cmd.argv(),
            &job,
            self.timeouts,
            &console,
            &qemu_log,
            Some(&results),
        );
        for f in [&scratch, &results, &job_path] {
            let _ = fs::remove_file(f);
        }
        let driven = driven?;
        let report = &driven.report;
        if let Some(t) = report.boot_to_ready_s {
            self.boots.push(t);
            self.update_boot_facts();
        }
        let console_bytes = fs::read(&console).unwrap_or_default();
        let qemu_bytes = fs::read(&qemu_log).unwrap_or_default();
        let names: Vec<&str> = batch.iter().map(|r| r.name.as_str()).collect();
        let mut reported = 0;
        let mut end = GuestEnd::Reported(0);
        for (i, req) in batch.iter().enumerate() {
            let record = report.finished.iter().find(|f| f.outcome.index == i);
            let earlier = if i == 0 { attempts } else { &[] };
            if let (None, Some(_)) = (record, driven.killed_by) {
                if earlier.len() < QEMU_RETRIES {
                    let k = earlier.len() + 1;
                    let attempt = Attempt {
                        guest: tag.clone(),
                        qemu_ended: report.ended.clone(),
                        failure: report.failure.clone().unwrap_or_default(),
                        console: format!("attempt-{k}-console.log"),
                        qemu_log: (!qemu_bytes.is_empty()).then(|| format!("attempt-{k}-qemu.log")),
                    };
                    fs::write(req.dir.join(&attempt.console), &console_bytes)?;
                    if let Some(q) = &attempt.qemu_log {
                        fs::write(req.dir.join(q), &qemu_bytes)?;
                    }
                    log::warn!(
                        "{}: {}; retrying it on a fresh guest (retry {k} of {QEMU_RETRIES})",
                        req.name,
                        attempt.failure,
                    );
                    end = GuestEnd::Retry { reported, attempt };
                    break;
                }
            }
            let outcome = report.keep_run(i, req.dir, || {
                dnr_reason(report, driven.killed_by, earlier.len())
            })?;
            fs::write(req.dir.join("console.log"), &console_bytes)?;
            if !qemu_bytes.is_empty() {
                fs::write(req.dir.join("qemu.log"), &qemu_bytes)?;
            }
            let boot = SerialBoot {
                boot: BootRecord {
                    guest: &tag,
                    accel: self.accel,
                    boot_to_ready_s: report.boot_to_ready_s,
                    ready_uptime_s: report.ready_uptime_s,
                    runs: names.clone(),
                    position: i,
                    qemu_ended: &report.ended,
                    failure: report.failure.as_deref(),
                    command_line: &line,
                },
                boot_id: record.and_then(|f| f.outcome.boot_id.as_deref()),
                attempts: earlier,
            };
            fs::write(req.dir.join("boot.json"), serde_json::to_vec_pretty(&boot)?)?;
            done(first + i, outcome)?;
            reported += 1;
            end = GuestEnd::Reported(reported);
            if record.is_none() {
                break;
            }
        }
        for f in [&console, &qemu_log] {
            let _ = fs::remove_file(f);
        }
        Ok(end)
    }
}

/// Why a run without a record is dnr; after retries, how many attempts
/// QEMU was killed in.
fn dnr_reason(report: &Report, killed_by: Option<i32>, retries: usize) -> String {
    let failure = report
        .failure
        .clone()
        .unwrap_or_else(|| "the guest ended without a record of this run".to_owned());
    match (killed_by, retries) {
        (Some(_), n) if n > 0 => format!(
            "{failure} (in all {} attempts: retried {n} times on fresh guests)",
            n + 1
        ),
        (None, n) if n > 0 => format!(
            "{failure} (on retry {n}, after QEMU was killed from outside in the attempt before)"
        ),
        _ => failure,
    }
}
