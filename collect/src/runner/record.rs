//! What a finished run leaves: its `run.json` and its metric rows.

use std::fs;
use std::path::Path;

use anyhow::Result;
use benchvm_format::metrics::{MetricRow, Status};
use serde::{Deserialize, Serialize};

use super::schedule::RunResult;
use crate::plan::{Phase, PlannedRun};
use crate::platform::RunOutcome;
use crate::quiet;
use crate::runfolder::RunFolder;
use crate::workload::{DiskRecord, Output, WorkloadSpec};

/// Where a run sits in the order runs ran (see `schedule`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// 1-based among every run of the bundle that ran, warm-ups included.
    pub sequence: u32,
    /// 1-based number of its block (the runs one guest ran together).
    pub block: u32,
}

/// What `run.json` of each run records.
#[derive(Debug, Serialize)]
pub(super) struct RunRecord<'a> {
    pub platform: &'a str,
    pub accel: String,
    pub emulated: bool,
    pub experiment: &'a str,
    pub workload: &'a str,
    pub phase: Phase,
    #[serde(flatten)]
    pub position: Position,
    pub deadline_s: u64,
    pub steps: &'a crate::workload::Steps,
    pub outcome: &'a RunOutcome,
    pub metrics: usize,
    /// Figures of its `quiet.json` and `host-quiet.json`, and why it
    /// counts as measured on a busy host ([`crate::quiet`]).
    pub quiet: Option<quiet::Claim>,
    /// A disk workload's cache policy as this run met it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk: Option<DiskRecord>,
}

impl<'a> RunRecord<'a> {
    /// The record of a run whose files are in `dir`.
    pub fn new(
        run: &'a PlannedRun,
        how: &'a How<'_>,
        position: Position,
        dir: &Path,
        outcome: &'a RunOutcome,
        metrics: usize,
    ) -> Self {
        let (step, host) = quiet::read(dir);
        let disk = match &run.workload.spec {
            WorkloadSpec::Fio(p) => Some(p.record(
                run.platform.name(),
                &how.facts,
                &fs::read_to_string(dir.join("setup.log")).unwrap_or_default(),
            )),
            _ => None,
        };
        RunRecord {
            platform: run.platform.name(),
            accel: how.accel.clone(),
            emulated: how.emulated,
            experiment: run.experiment.name(),
            workload: &run.workload.name,
            phase: run.phase,
            position,
            deadline_s: run.workload.schedule.deadline_s,
            steps: how.steps,
            outcome,
            metrics,
            quiet: quiet::claim(step.as_ref(), host.as_ref()),
            disk,
        }
    }
}

/// What `run.json` of a scalability run records: the run, and how each of
/// its guests ended (each guest's folder has its own `run.json` too).
#[derive(Debug, Serialize)]
pub(super) struct ParallelRecord<'a> {
    pub platform: &'a str,
    pub accel: String,
    pub emulated: bool,
    pub experiment: &'a str,
    pub workload: &'a str,
    pub phase: Phase,
    #[serde(flatten)]
    pub position: Position,
    pub n_guests: u32,
    pub guest_memory_mib: Option<u32>,
    pub deadline_s: u64,
    pub steps: &'a crate::workload::Steps,
    pub guests: Vec<&'a RunOutcome>,
    pub metrics: usize,
}

/// How the guests of one multi-guest run ended.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct GuestCounts {
    pub ok: usize,
    pub failed: usize,
    pub dnr: usize,
}

impl GuestCounts {
    pub fn add(&mut self, status: Status) {
        match status {
            Status::Ok => self.ok += 1,
            Status::Failed => self.failed += 1,
            Status::Dnr => self.dnr += 1,
        }
    }

    /// The run's status in the journal: its worst guest's.
    pub fn worst(&self) -> Status {
        if self.dnr > 0 {
            Status::Dnr
        } else if self.failed > 0 {
            Status::Failed
        } else {
            Status::Ok
        }
    }
}

/// What a block of runs shares.
pub(super) struct How<'a> {
    pub accel: String,
    pub emulated: bool,
    pub guests: Option<u32>,
    pub steps: &'a crate::workload::Steps,
    /// The platform's facts (how it attaches scratch disks).
    pub facts: std::collections::BTreeMap<String, String>,
}

/// Parses, records and commits one finished run; returns its outcome,
/// its rows and what the schedule needs of it.
pub(super) fn finish_run(
    run: &PlannedRun,
    how: &How<'_>,
    position: Position,
    tmp: &Path,
    mut outcome: RunOutcome,
    folder: &RunFolder,
) -> Result<(RunOutcome, usize, RunResult)> {
    let rel = run.folder();
    // Warm-ups are parsed too, so a warm-up whose output makes no sense is
    // marked failed; only repetitions enter the metrics table.
    let (repetition, counted) = match run.phase {
        Phase::Rep(i) => (i, true),
        Phase::Warmup(i) => (i, false),
    };
    let place = Place {
        guest: how.guests.map(|_| 1),
        n_guests: how.guests,
        folder: rel.clone(),
    };
    let mut rows = metric_rows(run, how, repetition, tmp, &mut outcome, place);
    if !counted {
        rows.clear();
    }
    let record = RunRecord::new(run, how, position, tmp, &outcome, rows.len());
    fs::write(tmp.join("run.json"), serde_json::to_vec_pretty(&record)?)?;
    folder.commit_run(tmp, &rel, outcome.status, &rows)?;
    let result = result_of(run, outcome.status, &rows);
    Ok((outcome, rows.len(), result))
}

/// What the schedule needs of a run: its status and, for a repetition of
/// the overall experiment, its value per metric in the workload's order.
pub fn result_of(run: &PlannedRun, status: Status, rows: &[MetricRow]) -> RunResult {
    let values = match (run.phase, run.experiment.n_guests()) {
        (Phase::Rep(_), None) => run
            .workload
            .spec
            .workload()
            .metrics()
            .iter()
            .map(|d| {
                rows.iter()
                    .find(|r| r.metric == d.metric)
                    .and_then(|r| r.value)
            })
            .collect(),
        _ => Vec::new(),
    };
    RunResult { status, values }
}

/// Where a run's rows say their values come from.
pub(super) struct Place {
    pub guest: Option<u32>,
    pub n_guests: Option<u32>,
    /// The `runs/...` folder holding the raw logs.
    pub folder: String,
}

/// Parses a finished run into metric rows; a parse failure turns the run
/// into `failed` (raw output kept) with one failed row per expected metric.
pub(super) fn metric_rows(
    run: &PlannedRun,
    how: &How<'_>,
    repetition: u32,
    dir: &Path,
    outcome: &mut RunOutcome,
    place: Place,
) -> Vec<MetricRow> {
    let workload = run.workload.spec.workload();
    let base = MetricRow {
        platform: run.platform.name().to_owned(),
        accel: how.accel.clone(),
        emulated: how.emulated,
        experiment: run.experiment.name().to_owned(),
        workload: run.workload.name.clone(),
        metric: String::new(),
        unit: benchvm_format::metrics::Unit::SECONDS,
        direction: benchvm_format::metrics::Direction::Lower,
        repetition,
        guest: place.guest,
        n_guests: place.n_guests,
        stressor: None,
        role: None,
        status: outcome.status,
        value: None,
        run: place.folder,
    };
    let defs = workload.metrics();
    let row = |def: &crate::workload::MetricDef, status: Status, value: Option<f64>| MetricRow {
        metric: def.metric.into(),
        unit: def.unit.clone(),
        direction: def.direction,
        status,
        value,
        ..base.clone()
    };
    if outcome.status == Status::Ok {
        let stdout = fs::read_to_string(dir.join("stdout.log")).unwrap_or_default();
        match workload.measure(&Output {
            stdout: &stdout,
            wall_s: outcome.wall_s.unwrap_or(0.0),
        }) {
            Ok(values) if values.len() == defs.len() && values.iter().all(|v| v.is_finite()) => {
                return defs
                    .iter()
                    .zip(values)
                    .map(|(d, v)| row(d, Status::Ok, Some(v)))
                    .collect();
            }
            Ok(values) => {
                outcome.status = Status::Failed;
                outcome.reason = Some(format!(
                    "workload gave {} values for {} metrics, or a non-finite one",
                    values.len(),
                    defs.len()
                ));
            }
            Err(reason) => {
                outcome.status = Status::Failed;
                outcome.reason = Some(format!("output not understood: {reason}"));
            }
        }
    }
    defs.iter().map(|d| row(d, outcome.status, None)).collect()
}

pub(super) fn status_name(status: Status) -> &'static str {
    match status {
        Status::Ok => "ok",
        Status::Failed => "failed",
        Status::Dnr => "dnr",
    }
}
