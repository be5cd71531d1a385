//! One isolation phase: `n_guests` networked guests, guest 1 running the
//! phase's stressor, the host's load client measuring each guest's share
//! of good responses ([`crate::isolation::phase`]); one `good_rate` row
//! per guest.
//!
//! A guest's row is `dnr` (no value) when it crashed, hung or rebooted
//! (its platform outcome is dnr), never answered its control channel by
//! the boot deadline, or answered none of the window's requests at all
//! (it stopped answering): DNR is a state, never 0 %. Otherwise the value
//! is the client's `good_rate_pct`, also when the guest's own phase
//! command reported a problem afterwards (recorded in its `run.json`).
//! When the host's own part failed (e.g. its iperf3 did not start) before
//! it measured a guest, that guest's row is `failed`: the host's fault is
//! not the guest's DNR.

use std::fs;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use benchvm_format::metrics::{MetricRow, Role, Status};
use serde::Serialize;

use super::record::{GuestCounts, Position};
use crate::isolation::client::GOOD_RATE;
use crate::isolation::phase::{GuestView, Phase as HostPhase};
use crate::plan::{Experiment, Phase, PlannedRun};
use crate::platform::{guest_dir, ParallelRequest, Platform, RunOutcome};
use crate::runfolder::RunFolder;
use crate::workload::{StepContext, Steps, WorkloadSpec};

/// `run.json` of each guest of an isolation phase.
#[derive(Debug, Serialize)]
struct GuestRecord<'a> {
    platform: &'a str,
    accel: String,
    emulated: bool,
    experiment: &'a str,
    workload: &'a str,
    stressor: &'a str,
    role: &'a str,
    phase: Phase,
    #[serde(flatten)]
    position: Position,
    deadline_s: u64,
    steps: &'a Steps,
    /// How the guest itself ended (its phase command's outcome).
    guest_outcome: &'a RunOutcome,
    /// What the host saw: readiness, go/stop, the load report.
    host_view: &'a GuestView,
    /// The row's verdict.
    status: Status,
    reason: Option<&'a str>,
}

/// Runs one phase and commits its rows; returns its guests' counts.
pub(super) fn run_phase(
    run: &PlannedRun,
    platform: &mut dyn Platform,
    ctx: &StepContext,
    position: Position,
    folder: &RunFolder,
) -> Result<GuestCounts> {
    let WorkloadSpec::Web(params) = &run.workload.spec else {
        bail!(
            "{}: the isolation workload is not of kind web",
            run.describe()
        );
    };
    let Experiment::Isolation {
        stress,
        guests: n,
        guest_memory_mib,
    } = run.experiment
    else {
        bail!("{}: not an isolation run", run.describe());
    };
    let name = stress.name();
    let stressor = stress.stressor();
    let rel = run.folder();
    let tmp = folder.begin_run(&rel)?;
    let agent = ctx
        .agent
        .as_ref()
        .context("the platform runs no guest agent")?
        .to_string_lossy();
    let deadline_s = run.workload.schedule.deadline_s;
    let steps = |stress: &[String]| Steps {
        setup: Vec::new(),
        measured: params.guest_command(&agent, deadline_s, stress),
        cleanup: Vec::new(),
    };
    let normal = steps(&[]);
    let stressed = steps(
        &stressor
            .map(|s| s.guest_argv(params.phase_s(), &ctx.scratch))
            .unwrap_or_default(),
    );
    let mut host = HostPhase::new(params, stressor, tmp.clone());
    let request = ParallelRequest {
        steps: &normal,
        dir: &tmp,
        deadline: Duration::from_secs(deadline_s),
        name: rel.clone(),
        n_guests: n,
        memory_mib: guest_memory_mib,
    };
    let outcomes = platform
        .execute_isolation(&request, &stressed, &mut host)
        .with_context(|| format!("running {}", run.describe()))?;
    if outcomes.len() != n as usize {
        bail!(
            "platform reported {} of {n} guests of {}",
            outcomes.len(),
            run.describe()
        );
    }
    let repetition = run.phase.index();
    let (accel, emulated) = (platform.accel(), platform.emulated());
    let mut rows = Vec::new();
    let mut counts = GuestCounts::default();
    for (guest, outcome) in (1..=n).zip(&outcomes) {
        let view = host
            .guests
            .get(guest as usize - 1)
            .cloned()
            .unwrap_or_default();
        let (status, value, reason) = judge(outcome, &view);
        let role = if guest == 1 { "stressed" } else { "normal" };
        let dir = guest_dir(&tmp, guest);
        fs::create_dir_all(&dir)?;
        let record = GuestRecord {
            platform: run.platform.name(),
            accel: accel.clone(),
            emulated,
            experiment: run.experiment.name(),
            workload: &run.workload.name,
            stressor: name,
            role,
            phase: run.phase,
            position,
            deadline_s,
            steps: if guest == 1 { &stressed } else { &normal },
            guest_outcome: outcome,
            host_view: &view,
            status,
            reason: reason.as_deref(),
        };
        fs::write(dir.join("run.json"), serde_json::to_vec_pretty(&record)?)?;
        if let Some(load) = &view.load {
            fs::write(dir.join("load.json"), serde_json::to_vec_pretty(load)?)?;
        }
        counts.add(status);
        rows.push(MetricRow {
            platform: run.platform.name().to_owned(),
            accel: accel.clone(),
            emulated,
            experiment: run.experiment.name().to_owned(),
            workload: run.workload.name.clone(),
            metric: GOOD_RATE.metric.into(),
            unit: GOOD_RATE.unit,
            direction: GOOD_RATE.direction,
            repetition,
            guest: Some(guest),
            n_guests: Some(n),
            stressor: Some(name.into()),
            role: Some(if guest == 1 {
                Role::Stressed
            } else {
                Role::Normal
            }),
            status,
            value,
            run: run.guest_folder(guest),
        });
    }
    folder.commit_run(&tmp, &rel, counts.worst(), &rows)?;
    Ok(counts)
}

/// A guest's row: status, value and why, from how it ended and what the
/// host saw (see the module doc).
pub fn judge(outcome: &RunOutcome, view: &GuestView) -> (Status, Option<f64>, Option<String>) {
    if outcome.status == Status::Dnr {
        let why = outcome
            .reason
            .clone()
            .unwrap_or_else(|| "the guest did not return".into());
        return (Status::Dnr, None, Some(why));
    }
    if let Some(e) = view.host_error.as_ref().filter(|_| view.load.is_none()) {
        return (
            Status::Failed,
            None,
            Some(format!("the host's part failed: {e}")),
        );
    }
    if view.ready_s.is_none() {
        let why = view.problem.clone().unwrap_or_else(|| "never ready".into());
        return (Status::Dnr, None, Some(why));
    }
    let Some(load) = &view.load else {
        let why = view.problem.clone().or_else(|| outcome.reason.clone());
        return (
            Status::Failed,
            None,
            why.or(Some("no load was measured".into())),
        );
    };
    if load.good + load.tolerable == 0 {
        return (
            Status::Dnr,
            None,
            Some(format!(
                "stopped answering: none of {} requests got a complete response ({:?})",
                load.scheduled, load.failures
            )),
        );
    }
    (Status::Ok, Some(load.good_rate_pct), None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isolation::client::{FailureCounts, LoadReport, Qos, REPORT_FORMAT};

    fn outcome(status: Status) -> RunOutcome {
        RunOutcome {
            status,
            wall_s: None,
            reason: (status != Status::Ok).then(|| "guest kernel panic".into()),
            exit_code: None,
        }
    }

    fn load(good: u64, tolerable: u64, failed: u64) -> LoadReport {
        let scheduled = good + tolerable + failed;
        LoadReport {
            format: REPORT_FORMAT,
            server: "10.77.0.2:80".into(),
            rate_per_s: 5.0,
            duration_s: 10.0,
            max_in_flight: 256,
            qos: Qos::SPECWEB2005_SUPPORT,
            scheduled,
            sent: scheduled,
            good,
            tolerable,
            failed,
            failures: FailureCounts {
                timeout: failed,
                ..FailureCounts::default()
            },
            good_rate_pct: crate::isolation::client::share_pct(good, scheduled),
            tolerable_rate_pct: crate::isolation::client::share_pct(good + tolerable, scheduled),
            meets_qos: false,
            latency_ms: None,
            send_lag_ms: None,
        }
    }

    fn view(ready: bool, load: Option<LoadReport>) -> GuestView {
        GuestView {
            ready_s: ready.then_some(12.0),
            problem: (!ready).then(|| "never ready: no answer".into()),
            went: ready,
            stopped: ready,
            load,
            host_error: None,
        }
    }

    #[test]
    fn a_guest_that_answered_gets_its_good_share() {
        let (s, v, why) = judge(&outcome(Status::Ok), &view(true, Some(load(30, 10, 10))));
        assert_eq!((s, v, why), (Status::Ok, Some(60.0), None));
        // A phase command that failed after the window does not hide the
        // value the host measured.
        let (s, v, _) = judge(&outcome(Status::Failed), &view(true, Some(load(5, 0, 0))));
        assert_eq!((s, v), (Status::Ok, Some(100.0)));
    }

    #[test]
    fn crashed_silent_or_never_ready_guests_are_dnr_never_zero() {
        let crashed = judge(&outcome(Status::Dnr), &view(true, Some(load(10, 0, 40))));
        assert_eq!((crashed.0, crashed.1), (Status::Dnr, None));
        assert!(crashed.2.expect("why").contains("panic"));
        let silent = judge(&outcome(Status::Ok), &view(true, Some(load(0, 0, 50))));
        assert_eq!((silent.0, silent.1), (Status::Dnr, None));
        assert!(silent.2.expect("why").starts_with("stopped answering"));
        let never = judge(&outcome(Status::Ok), &view(false, None));
        assert_eq!((never.0, never.1), (Status::Dnr, None));
        assert!(never.2.expect("why").starts_with("never ready"));
    }

    #[test]
    fn a_failure_of_the_host_is_failed_not_dnr() {
        let mut v = view(false, None);
        v.host_error = Some("starting iperf3: No such file or directory".into());
        let (s, val, why) = judge(&outcome(Status::Ok), &v);
        assert_eq!((s, val), (Status::Failed, None));
        assert!(why.expect("why").contains("iperf3"));
        // A guest that crashed is still dnr, whatever the host did.
        assert_eq!(judge(&outcome(Status::Dnr), &v).0, Status::Dnr);
    }

    #[test]
    fn a_ready_guest_without_a_load_report_is_failed() {
        let (s, v, why) = judge(&outcome(Status::Ok), &view(true, None));
        assert_eq!((s, v), (Status::Failed, None));
        assert!(why.is_some());
    }
}
