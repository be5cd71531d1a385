//! How each planned run ended, derived from its own files: its record
//! (`run.json`, and a multi-guest run's own `run.json`), where it ran
//! ([`super::host`]), and its values parsed again from the raw output.

use anyhow::{bail, Context, Result};
use benchvm_format::env::{EnvSummary, SUMMARY_PATH};
use benchvm_format::metrics::Status;
use collect::isolation::client::{share_pct, LoadReport, GOOD_RATE};
use collect::isolation::phase::GuestView;
use collect::plan::{Phase, PlannedRun};
use collect::platform::RunOutcome;
use collect::runner::isolation::judge;
use collect::workload::{MetricDef, Output};
use serde::Deserialize;
use serde_json::Value;

use super::host::{self, Host};
use super::plan::PLAN;
use super::Files;

/// The claims every `run.json` makes (a run's `RunRecord`, a scalability
/// run's `ParallelRecord`, an isolation guest's `GuestRecord`).
#[derive(Debug, Deserialize)]
struct RunFile {
    platform: String,
    accel: String,
    emulated: bool,
    experiment: String,
    workload: String,
    phase: Phase,
    #[serde(default)]
    n_guests: Option<u32>,
    #[serde(default)]
    stressor: Option<String>,
    #[serde(default)]
    role: Option<String>,
    /// A run, or a guest of a scalability run.
    #[serde(default)]
    outcome: Option<RunOutcome>,
    /// A scalability run: each guest's outcome.
    #[serde(default)]
    guests: Option<Vec<RunOutcome>>,
    /// An isolation guest: its own outcome, what the host saw, the verdict.
    #[serde(default)]
    guest_outcome: Option<RunOutcome>,
    #[serde(default)]
    host_view: Option<GuestView>,
    #[serde(default)]
    status: Option<Status>,
    #[serde(default)]
    reason: Option<String>,
    /// The run's place in the order runs ran (`collect::runner::Position`).
    #[serde(default)]
    sequence: Option<u32>,
    #[serde(default)]
    block: Option<u32>,
    /// Its quiet evidence's figures and verdict; absent in records made
    /// before they were recorded.
    #[serde(default, deserialize_with = "present")]
    quiet: Option<Value>,
    /// A disk workload's cache policy.
    #[serde(default, deserialize_with = "present")]
    disk: Option<Value>,
}

/// A key that is there, even as `null`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// One folder that holds rows: a run, or one guest of a multi-guest run.
#[derive(Debug, Clone)]
pub struct Unit {
    pub folder: String,
    /// Its guest number in a multi-guest run.
    pub guest: Option<u32>,
    pub host: Host,
    pub status: Status,
    /// The raw file that gives the status.
    pub status_from: String,
    /// Each metric the run reports, with its value when ok.
    pub values: Vec<(MetricDef, Option<f64>)>,
    /// The raw files that give the values.
    pub values_from: String,
    /// Its `run.json`'s claim of where the run sits in the order:
    /// (sequence, block).
    pub position: (Option<u32>, Option<u32>),
}

/// A planned run and what its files say.
#[derive(Debug, Clone)]
pub struct Found<'p> {
    pub run: &'p PlannedRun,
    pub units: Vec<Unit>,
}

impl Found<'_> {
    /// The run's status: its worst unit's.
    pub fn worst(&self) -> Status {
        let has = |s| self.units.iter().any(|u| u.status == s);
        if has(Status::Dnr) {
            Status::Dnr
        } else if has(Status::Failed) {
            Status::Failed
        } else {
            Status::Ok
        }
    }

    /// Whether its rows belong in the table (repetitions, not warm-ups).
    pub fn counted(&self) -> bool {
        matches!(self.run.phase, Phase::Rep(_))
    }
}

/// The bundle's environment summary, which every run's host evidence
/// must agree with.
pub fn summary(files: &Files<'_>) -> Result<EnvSummary> {
    files
        .json(SUMMARY_PATH)?
        .with_context(|| format!("the bundle has no {SUMMARY_PATH}"))
}

/// Finds one planned run's files and derives how it ended. `recorded`:
/// its records must carry the quiet, disk and order claims (plans that
/// record their order).
pub fn derive<'p>(
    files: &Files<'_>,
    summary: &EnvSummary,
    run: &'p PlannedRun,
    recorded: bool,
) -> Result<Found<'p>> {
    let ctx = Ctx {
        files,
        summary,
        recorded,
    };
    let units = match (run.experiment.n_guests(), run.experiment.stress()) {
        (Some(n), Some(_)) => (1..=n)
            .map(|g| isolation_guest(files, run, g))
            .collect::<Result<Vec<_>>>()?,
        (Some(n), None) => scalability(&ctx, run, n)?,
        (None, _) => vec![single(&ctx, run, &run.folder(), None, None)?],
    };
    for unit in &units {
        host::check_facts(summary, &unit.host)?;
    }
    Ok(Found { run, units })
}

/// What deriving a run needs besides the run.
struct Ctx<'a, 'b> {
    files: &'a Files<'b>,
    summary: &'a EnvSummary,
    recorded: bool,
}

/// The record of a planned folder; a missing one is a missing run.
fn record(files: &Files<'_>, run: &PlannedRun, folder: &str) -> Result<RunFile> {
    let path = format!("{folder}/run.json");
    files.json(&path)?.with_context(|| {
        format!(
            "{PLAN} plans {} ({}), but the bundle has no {path}: a planned run is missing",
            run.folder(),
            run.describe()
        )
    })
}

/// Where `folder` ran, which must be the platform the plan gives it.
fn host_of(files: &Files<'_>, run: &PlannedRun, folder: &str) -> Result<Host> {
    let host = host::of(files, folder)?;
    if host.platform != run.platform.name() {
        bail!(
            "{folder}: {PLAN} plans a {} run here, but {}",
            run.platform,
            host.evidence
        );
    }
    Ok(host)
}

/// Checks what a `run.json` claims against the plan and the host.
fn check_claims(path: &str, told: &RunFile, run: &PlannedRun, host: &Host) -> Result<()> {
    let phase = |p: &Phase| p.folder();
    let claims = [
        (
            "platform",
            told.platform.clone(),
            run.platform.name().to_owned(),
            PLAN.to_owned(),
        ),
        (
            "accel",
            told.accel.clone(),
            host.accel.clone(),
            host.evidence.clone(),
        ),
        (
            "emulated",
            told.emulated.to_string(),
            host.emulated.to_string(),
            host.evidence.clone(),
        ),
        (
            "experiment",
            told.experiment.clone(),
            run.experiment.name().to_owned(),
            PLAN.to_owned(),
        ),
        (
            "workload",
            told.workload.clone(),
            run.workload.name.clone(),
            PLAN.to_owned(),
        ),
        (
            "phase",
            phase(&told.phase),
            phase(&run.phase),
            PLAN.to_owned(),
        ),
    ];
    for (field, told, derived, source) in claims {
        if told != derived {
            bail!("{path}: says {field} {told}, but the raw files give {derived}: {source}");
        }
    }
    Ok(())
}

/// An outcome that is not ok must say why.
fn check_reason(path: &str, status: Status, reason: Option<&str>) -> Result<()> {
    if status != Status::Ok && reason.is_none_or(|r| r.trim().is_empty()) {
        bail!(
            "{path}: the run is {} but gives no reason",
            status_name(status)
        );
    }
    Ok(())
}

/// A run of its own (overall), or one guest of a scalability run.
fn single(
    ctx: &Ctx<'_, '_>,
    run: &PlannedRun,
    folder: &str,
    guest: Option<u32>,
    parent: Option<&RunOutcome>,
) -> Result<Unit> {
    let files = ctx.files;
    let told = record(files, run, folder)?;
    let path = format!("{folder}/run.json");
    let host = host_of(files, run, folder)?;
    check_claims(&path, &told, run, &host)?;
    let outcome = told
        .outcome
        .as_ref()
        .with_context(|| format!("{path}: no outcome"))?;
    if let Some(p) = parent.filter(|p| *p != outcome) {
        bail!(
            "{path}: its outcome ({}) is not the one the run's own run.json gives guest {} ({})",
            describe_outcome(outcome),
            guest.unwrap_or(0),
            describe_outcome(p)
        );
    }
    check_reason(&path, outcome.status, outcome.reason.as_deref())?;
    let workload = run.workload.spec.workload();
    let defs = workload.metrics();
    let mut values: Vec<(MetricDef, Option<f64>)> =
        defs.iter().map(|d| (d.clone(), None)).collect();
    if outcome.status == Status::Ok {
        host::check_console(files, folder, &host)?;
        let stdout = files
            .text(&format!("{folder}/stdout.log"))
            .unwrap_or_default();
        let parsed = workload
            .measure(&Output {
                stdout: &stdout,
                wall_s: outcome.wall_s.unwrap_or(0.0),
            })
            .map_err(|e| {
                anyhow::anyhow!("{path} says ok, but {folder}/stdout.log does not parse: {e}")
            })?;
        if parsed.len() != defs.len() || parsed.iter().any(|v| !v.is_finite()) {
            bail!(
                "{path} says ok, but {folder}/stdout.log does not give one finite value per metric"
            );
        }
        for (slot, v) in values.iter_mut().zip(parsed) {
            slot.1 = Some(v);
        }
    }
    super::design::check_quiet(files, folder, told.quiet.as_ref(), ctx.recorded)?;
    super::design::check_disk(
        files,
        ctx.summary,
        run,
        folder,
        told.disk.as_ref(),
        ctx.recorded,
    )?;
    Ok(Unit {
        folder: folder.to_owned(),
        guest,
        host,
        status: outcome.status,
        status_from: format!("{path} says the run ended {}", status_name(outcome.status)),
        values,
        values_from: format!("{folder}/stdout.log parsed again, with the wall time of {path}"),
        position: (told.sequence, told.block),
    })
}

/// A scalability run: its own `run.json`, then each guest.
fn scalability(ctx: &Ctx<'_, '_>, run: &PlannedRun, n: u32) -> Result<Vec<Unit>> {
    let files = ctx.files;
    let folder = run.folder();
    let path = format!("{folder}/run.json");
    let told = record(files, run, &folder)?;
    let guests = told
        .guests
        .as_ref()
        .filter(|g| g.len() == n as usize && told.n_guests == Some(n))
        .with_context(|| format!("{path}: does not give the outcome of {n} guests"))?;
    let mut units = Vec::with_capacity(guests.len());
    for (g, outcome) in (1..=n).zip(guests) {
        let mut unit = single(ctx, run, &run.guest_folder(g), Some(g), Some(outcome))?;
        check_claims(&path, &told, run, &unit.host)?;
        if unit.position != (told.sequence, told.block) {
            bail!(
                "{}/run.json: its place in the order is not the one {path} gives",
                unit.folder
            );
        }
        unit.position = (told.sequence, told.block);
        units.push(unit);
    }
    Ok(units)
}

/// One guest of an isolation phase: the verdict is judged again from what
/// the host saw, and its value from the load client's report.
fn isolation_guest(files: &Files<'_>, run: &PlannedRun, guest: u32) -> Result<Unit> {
    let folder = run.guest_folder(guest);
    let path = format!("{folder}/run.json");
    let told = record(files, run, &folder)?;
    let host = host_of(files, run, &folder)?;
    check_claims(&path, &told, run, &host)?;
    let role = if guest == 1 { "stressed" } else { "normal" };
    for (field, claim, derived) in [
        (
            "stressor",
            told.stressor.as_deref(),
            run.experiment.stress().map(|s| s.name()),
        ),
        ("role", told.role.as_deref(), Some(role)),
    ] {
        if claim != derived {
            bail!(
                "{path}: says {field} {}, but {PLAN} gives {}",
                claim.unwrap_or("none"),
                derived.unwrap_or("none")
            );
        }
    }
    let (Some(outcome), Some(view), Some(status)) =
        (&told.guest_outcome, &told.host_view, told.status)
    else {
        bail!("{path}: lacks the guest's outcome, the host's view or the verdict");
    };
    let load_path = format!("{folder}/load.json");
    let load: Option<LoadReport> = files.json(&load_path)?;
    if load != view.load {
        bail!("{load_path}: is not the load report {path} says the host measured");
    }
    let (judged, value, _) = judge(outcome, view);
    if judged != status {
        bail!(
            "{path}: says the guest's row is {}, but what the host saw and the guest's outcome in it give {}",
            status_name(status),
            status_name(judged)
        );
    }
    check_reason(&path, status, told.reason.as_deref())?;
    if let (Some(load), Status::Ok) = (&load, status) {
        host::check_console(files, &folder, &host)?;
        let answered = load.good + load.tolerable;
        if answered + load.failed != load.scheduled
            || value != Some(share_pct(load.good, load.scheduled))
        {
            bail!("{load_path}: its counts do not add up to its good rate");
        }
    }
    Ok(Unit {
        folder: folder.clone(),
        guest: Some(guest),
        host,
        status,
        status_from: format!(
            "{path}: what the host saw of the guest, judged again, makes it {}",
            status_name(status)
        ),
        values: vec![(GOOD_RATE, value)],
        values_from: format!("{load_path}: the load client's counts"),
        position: (told.sequence, told.block),
    })
}

pub fn status_name(status: Status) -> &'static str {
    match status {
        Status::Ok => "ok",
        Status::Failed => "failed",
        Status::Dnr => "dnr",
    }
}

fn describe_outcome(o: &RunOutcome) -> String {
    match (&o.reason, o.wall_s) {
        (Some(r), _) => format!("{}: {r}", status_name(o.status)),
        (None, Some(w)) => format!("{} in {w} s", status_name(o.status)),
        (None, None) => status_name(o.status).to_owned(),
    }
}
