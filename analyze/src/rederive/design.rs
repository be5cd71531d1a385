//! The design of the runs, derived again from the raw files:
//!
//! - the order: collect's own schedule (`collect::runner::schedule`) is
//!   played again on `config/plan.json`'s order and seed, fed with each
//!   run's status and values as parsed again from its raw files; every run
//!   that ran must sit where the replay puts it (its `run.json`'s
//!   `sequence` and `block`), and the planned runs the replay does not run
//!   are exactly those the stopping rule did not need, which must have no
//!   file and no row;
//! - why each lane stopped: its `stopping.json` must be the record the
//!   replay makes (every block, the rule's check after it with each
//!   metric's interval, the decision, the runs not needed);
//! - each run's quiet claim in `run.json`: the figures and verdict its
//!   `quiet.json` and `host-quiet.json` give (`collect::quiet`);
//! - each disk run's cache policy in `run.json`: what the suite's workload
//!   asks for, the platform's facts (how it attaches scratch disks) and
//!   the run's `setup.log` give.

use anyhow::{bail, Context, Result};
use benchvm_format::env::EnvSummary;
use collect::plan::{Phase, Plan, PlannedRun};
use collect::quiet::{self, Evidence};
use collect::runner::schedule::{self, LaneRecord, RunResult, Schedule};
use collect::stopping::Decision;
use collect::workload::WorkloadSpec;
use serde_json::Value;

use super::plan::PLAN;
use super::runs::{self, Found};
use super::Files;

/// Plays the plan again with each run's results as its raw files give
/// them; returns every run that ran (in order) with what its files say,
/// and the schedule.
pub fn replay<'p>(files: &Files<'_>, plan: &'p Plan) -> Result<(Vec<Found<'p>>, Schedule)> {
    let summary = runs::summary(files)?;
    let recorded = plan.order.is_some();
    let mut found = Vec::with_capacity(plan.runs.len());
    let played = schedule::play(plan, |block| {
        block
            .runs
            .iter()
            .map(|&i| {
                let f = runs::derive(files, &summary, &plan.runs[i], recorded)?;
                let result = result_of(&f);
                found.push(f);
                Ok(result)
            })
            .collect()
    })?;
    Ok((found, played))
}

/// What the schedule needs of a run, from its derived units.
fn result_of(f: &Found<'_>) -> RunResult {
    let values = match (f.run.phase, f.run.experiment.n_guests(), f.units.first()) {
        (Phase::Rep(_), None, Some(unit)) => unit.values.iter().map(|(_, v)| *v).collect(),
        _ => Vec::new(),
    };
    RunResult {
        status: f.worst(),
        values,
    }
}

/// Every run that ran sits where the replay puts it.
pub fn check_order(plan: &Plan, found: &[Found<'_>], played: &Schedule) -> Result<()> {
    let Some(order) = plan.order else {
        return Ok(());
    };
    for (e, f) in played.executed.iter().zip(found) {
        for unit in &f.units {
            let derived = (Some(e.sequence), Some(e.block));
            if unit.position != derived {
                let told = match unit.position {
                    (Some(s), Some(b)) => format!("run {s} of the bundle, in block {b}"),
                    _ => "no place in the order".to_owned(),
                };
                bail!(
                    "{}/run.json: says it ran as {told}, but {PLAN}'s order ({}) played again with the runs' values puts it at run {} in block {}",
                    unit.folder,
                    order.describe(),
                    e.sequence,
                    e.block
                );
            }
        }
    }
    Ok(())
}

/// Every lane's `stopping.json` is the record the replay makes.
pub fn check_stopping(files: &Files<'_>, plan: &Plan, played: &Schedule) -> Result<()> {
    if plan.order.is_none() {
        return Ok(());
    }
    for lane in &played.lanes {
        let path = lane.path();
        let told: Value = files.json(&path)?.with_context(|| {
            format!(
                "the bundle has no {path}: why {} stopped on {} is not recorded",
                lane.workload, lane.platform
            )
        })?;
        if told == serde_json::to_value(lane)? {
            continue;
        }
        let why = match serde_json::from_value::<LaneRecord>(told) {
            Err(e) => format!("it is no stopping record ({e})"),
            Ok(t) => difference(&t, lane),
        };
        bail!(
            "{path}: {why}; the stopping rule decided again from the values of the raw files: {}",
            lane.why()
        );
    }
    Ok(())
}

/// Where a stopping record parts from the derived one, for a person.
fn difference(told: &LaneRecord, derived: &LaneRecord) -> String {
    if told.stopped != derived.stopped || told.repetitions != derived.repetitions {
        return format!(
            "says the lane stopped ({}) after {} repetitions, not ({}) after {}",
            told.stopped.as_str(),
            told.repetitions,
            derived.stopped.as_str(),
            derived.repetitions
        );
    }
    if told.not_needed != derived.not_needed {
        return format!(
            "lists {} runs as not needed, not {}",
            told.not_needed.len(),
            derived.not_needed.len()
        );
    }
    for (t, d) in told.blocks.iter().zip(&derived.blocks) {
        if t != d {
            return format!(
                "its check after block {} differs (it says {}, the values say {})",
                d.block,
                decision(&t.decision),
                decision(&d.decision)
            );
        }
    }
    "its rule, platform, workload or blocks differ".to_owned()
}

fn decision(d: &Decision) -> String {
    match d {
        Decision::Continue { next } => format!("run {next} more"),
        Decision::Stop { reason } => format!("stop ({})", reason.as_str()),
    }
}

/// A run's quiet claim is what its evidence files give.
pub fn check_quiet(
    files: &Files<'_>,
    folder: &str,
    told: Option<&Value>,
    recorded: bool,
) -> Result<()> {
    let step: Option<Evidence> = files.json(&format!("{folder}/{}", quiet::FILE))?;
    let host: Option<Evidence> = files.json(&format!("{folder}/{}", quiet::HOST_FILE))?;
    let derived = serde_json::to_value(quiet::claim(step.as_ref(), host.as_ref()))?;
    match told {
        None if recorded => bail!("{folder}/run.json: gives no quiet evidence claim"),
        None => Ok(()),
        Some(t) if *t == derived => Ok(()),
        Some(t) => bail!(
            "{folder}/run.json: its quiet claim ({}) is not what {folder}/{} and {} give ({})",
            verdict(t),
            quiet::FILE,
            quiet::HOST_FILE,
            verdict(&derived)
        ),
    }
}

/// A quiet claim in a few words.
fn verdict(claim: &Value) -> String {
    match claim.get("busy").and_then(Value::as_array) {
        None => "no evidence".to_owned(),
        Some(why) if why.is_empty() => "quiet".to_owned(),
        Some(why) => format!(
            "busy: {}",
            why.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

/// A disk run's cache policy claim is what the suite, the platform's
/// facts and its setup log give.
pub fn check_disk(
    files: &Files<'_>,
    summary: &EnvSummary,
    run: &PlannedRun,
    folder: &str,
    told: Option<&Value>,
    recorded: bool,
) -> Result<()> {
    let WorkloadSpec::Fio(params) = &run.workload.spec else {
        if told.is_some_and(|t| !t.is_null()) {
            bail!("{folder}/run.json: claims a disk cache policy, but its workload is no disk workload");
        }
        return Ok(());
    };
    let facts = summary
        .platforms
        .get(run.platform.name())
        .cloned()
        .unwrap_or_default();
    let setup = files
        .text(&format!("{folder}/setup.log"))
        .unwrap_or_default();
    let derived = params.record(run.platform.name(), &facts, &setup);
    match told {
        None if recorded => bail!("{folder}/run.json: gives no disk cache policy"),
        None => Ok(()),
        Some(t) if *t == serde_json::to_value(&derived)? => Ok(()),
        Some(t) => bail!(
            "{folder}/run.json: says its disk cache policy was {t}, but the suite's workload, env/summary.json's facts of {} and {folder}/setup.log give {}",
            run.platform,
            serde_json::to_value(&derived)?
        ),
    }
}
