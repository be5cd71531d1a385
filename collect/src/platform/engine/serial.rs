//! The overall experiment on a guest platform: one guest boots for a
//! workload's runs (its warm-ups and repetitions) and runs them in order;
//! a guest that panics, hangs or reboots costs the run it was in (dnr) and
//! a fresh guest takes the remaining runs. Two infrastructure failures
//! are not the benchmark's and are retried: a guest the hypervisor did not
//! create ([`super::vmm::StartError::NotCreated`], tried again before it
//! ran anything), and a hypervisor process killed by a signal collect did
//! not send (the run it was in goes to a fresh guest, up to
//! [`HOST_RETRIES`] times, each attempt's logs kept).

use std::fs;

use anyhow::Result;

use super::guest::{drive, Left};
use super::vmm::{Attempt, BootInfo, SerialBoot, Vmm};
use super::{group, GuestPlatform};
use crate::guest::agent::{Job, JobRun};
use crate::guest::drive::Report;
use crate::platform::api::RunRequest;
use benchvm_core::outcome::RunOutcome;

/// How often a run is retried on a fresh guest when its hypervisor process
/// (QEMU) is killed by a signal collect did not send (reliability.md B7).
/// Two retries ride out a stray kill or an OOM kill of the host's QEMU,
/// and bound the cost of a host that keeps killing it to three boots per
/// run. A constant: `collect run` has no setting for it. A guest's own
/// panic, hang or reboot is a result (dnr), never retried.
pub const HOST_RETRIES: usize = 2;

/// How one guest of [`GuestPlatform::one_guest`] ended.
#[derive(Debug)]
enum GuestEnd {
    /// It reported this many runs (the last one dnr when it failed).
    Reported(usize),
    /// It reported `reported` runs, then its hypervisor process was killed
    /// from outside during the next one: that run goes to a fresh guest.
    Retry { reported: usize, attempt: Attempt },
}

impl<V: Vmm> GuestPlatform<V> {
    /// [`crate::platform::Platform::execute_all`]: guests one after the
    /// other until every run is reported.
    pub(super) fn serial(
        &mut self,
        runs: &[RunRequest<'_>],
        done: &mut dyn FnMut(usize, RunOutcome) -> Result<()>,
    ) -> Result<()> {
        let mut next = 0;
        // Guests of runs[next] whose hypervisor was killed from outside.
        let mut attempts = Vec::new();
        while next < runs.len() {
            // Each guest reports a run or adds an attempt (at most
            // HOST_RETRIES per run), so this ends.
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
    /// its hypervisor was killed from outside and `batch[0]`'s earlier
    /// `attempts` leave a retry for the run it was in.
    fn one_guest(
        &mut self,
        batch: &[RunRequest<'_>],
        first: usize,
        attempts: &[Attempt],
        done: &mut dyn FnMut(usize, RunOutcome) -> Result<()>,
    ) -> Result<GuestEnd> {
        let crash = group::crashes_first_run(self.next_number());
        let job = Job {
            runs: batch
                .iter()
                .enumerate()
                .map(|(i, r)| JobRun {
                    folder: r.name.clone(),
                    steps: if i == 0 && crash {
                        group::crash_steps(V::GUEST)
                    } else {
                        r.steps.clone()
                    },
                    deadline_s: r.deadline.as_secs(),
                })
                .collect(),
            cleanup_s: self.timeouts.cleanup.as_secs(),
        };
        let memory = self.base.settings.guest.memory_mib;
        let g = self.prepare(job, memory, None)?;
        log::info!(
            "{}: starting a {} for {} runs",
            g.tag,
            V::GUEST,
            batch.len()
        );
        let driven = drive(&self.vmm, &g, self.timeouts)?;
        let report = &driven.report;
        if let Some(t) = report.boot_to_ready_s {
            log::info!("{}: boot to ready {t:.1} s", g.tag);
        }
        self.booted(report.boot_to_ready_s);
        let left = Left::of(&g);
        self.vmm.after_guests(&self.base)?;
        let names: Vec<&str> = batch.iter().map(|r| r.name.as_str()).collect();
        let mut reported = 0;
        let mut end = GuestEnd::Reported(0);
        for (i, req) in batch.iter().enumerate() {
            let record = report.finished.iter().find(|f| f.outcome.index == i);
            let earlier = if i == 0 { attempts } else { &[] };
            if let (None, Some(_)) = (record, driven.killed_by) {
                if earlier.len() < HOST_RETRIES {
                    let k = earlier.len() + 1;
                    let attempt = Attempt {
                        guest: g.tag.clone(),
                        ended: report.ended.clone(),
                        failure: report.failure.clone().unwrap_or_default(),
                        console: format!("attempt-{k}-console.log"),
                        host_log: (!left.host_log.is_empty())
                            .then(|| format!("attempt-{k}-{}", V::HOST_LOG)),
                    };
                    fs::write(req.dir.join(&attempt.console), &left.console)?;
                    if let Some(q) = &attempt.host_log {
                        fs::write(req.dir.join(q), &left.host_log)?;
                    }
                    log::warn!(
                        "{}: {}; retrying it on a fresh guest (retry {k} of {HOST_RETRIES})",
                        req.name,
                        attempt.failure,
                    );
                    end = GuestEnd::Retry { reported, attempt };
                    break;
                }
            }
            let boot = BootInfo {
                tag: &g.tag,
                report,
                runs: names.clone(),
                position: i,
                serial: Some(SerialBoot {
                    boot_id: record.and_then(|f| f.outcome.boot_id.as_deref()),
                    attempts: earlier,
                }),
            };
            let outcome = left.keep(&g, V::HOST_LOG, req.dir, &boot, || {
                dnr_reason::<V>(report, driven.killed_by, earlier.len())
            })?;
            done(first + i, outcome)?;
            reported += 1;
            end = GuestEnd::Reported(reported);
            if record.is_none() {
                break;
            }
        }
        Ok(end)
    }
}

/// Why a run without a record is dnr; after retries, how many attempts
/// the hypervisor process was killed in.
fn dnr_reason<V: Vmm>(report: &Report, killed_by: Option<i32>, retries: usize) -> String {
    let failure = report
        .failure
        .clone()
        .unwrap_or_else(|| format!("the {} ended without a record of this run", V::GUEST));
    match (killed_by, retries) {
        (Some(_), n) if n > 0 => format!(
            "{failure} (in all {} attempts: retried {n} times on fresh guests)",
            n + 1
        ),
        (None, n) if n > 0 => format!(
            "{failure} (on retry {n}, after {} was killed from outside in the attempt before)",
            V::START
        ),
        _ => failure,
    }
}
