//! Executes a plan on its platforms, writing the run folder as it goes.

pub mod isolation;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use benchvm_format::metrics::{MetricRow, Status};
use serde::Serialize;

use crate::plan::{ExperimentKind, Phase, Plan, PlannedRun};
use crate::platform::{guest_dir, ParallelRequest, Platform, RunOutcome, RunRequest};
use crate::progress::Progress;
use crate::runfolder::RunFolder;
use crate::workload::Output;

/// What `run.json` of each run records.
#[derive(Debug, Serialize)]
struct RunRecord<'a> {
    platform: &'a str,
    accel: String,
    emulated: bool,
    experiment: &'a str,
    workload: &'a str,
    phase: Phase,
    deadline_s: u64,
    steps: &'a crate::workload::Steps,
    outcome: &'a RunOutcome,
    metrics: usize,
}

impl<'a> RunRecord<'a> {
    fn new(run: &'a PlannedRun, how: &'a How<'_>, outcome: &'a RunOutcome, metrics: usize) -> Self {
        RunRecord {
            platform: run.platform.name(),
            accel: how.accel.clone(),
            emulated: how.emulated,
            experiment: run.experiment.name(),
            workload: &run.workload.name,
            phase: run.phase,
            deadline_s: run.workload.schedule.deadline_s,
            steps: how.steps,
            outcome,
            metrics,
        }
    }
}

/// How the guests of one multi-guest run ended.
#[derive(Debug, Default, Clone, Copy)]
struct GuestCounts {
    ok: usize,
    failed: usize,
    dnr: usize,
}

impl GuestCounts {
    fn add(&mut self, status: Status) {
        match status {
            Status::Ok => self.ok += 1,
            Status::Failed => self.failed += 1,
            Status::Dnr => self.dnr += 1,
        }
    }

    /// The run's status in the journal: its worst guest's.
    fn worst(&self) -> Status {
        if self.dnr > 0 {
            Status::Dnr
        } else if self.failed > 0 {
            Status::Failed
        } else {
            Status::Ok
        }
    }
}

/// What `run.json` of a scalability run records: the run, and how each of
/// its guests ended (each guest's folder has its own `run.json` too).
#[derive(Debug, Serialize)]
struct ParallelRecord<'a> {
    platform: &'a str,
    accel: String,
    emulated: bool,
    experiment: &'a str,
    workload: &'a str,
    phase: Phase,
    n_guests: u32,
    guest_memory_mib: Option<u32>,
    deadline_s: u64,
    steps: &'a crate::workload::Steps,
    guests: Vec<&'a RunOutcome>,
    metrics: usize,
}

/// Totals of a finished plan. `ok`, `failed` and `dnr` count runs, and
/// each guest of a scalability run on its own.
#[derive(Debug, Default, Clone, Copy)]
pub struct Summary {
    pub runs: usize,
    pub ok: usize,
    pub failed: usize,
    pub dnr: usize,
}

/// Runs every planned run on the platform of its name. Consecutive runs of
/// one workload on one platform (its warm-ups and repetitions) go to the
/// platform together, so a guest platform can boot one guest for them.
///
/// Runs whose folder is in `finished` (a resumed run's journal) are skipped.
pub fn execute(
    plan: &Plan,
    platforms: &mut [Box<dyn Platform>],
    kernel_source: Option<&Path>,
    folder: &RunFolder,
    finished: &BTreeSet<String>,
) -> Result<Summary> {
    let progress = Progress::new();
    let todo = todo(plan, finished);
    progress.add_runs(&todo, |_| 1.0);
    let summary = execute_with(&todo, platforms, kernel_source, folder, &progress);
    progress.finish_and_clear();
    summary
}

/// The runs of `plan` that `finished` does not hold yet.
pub fn todo(plan: &Plan, finished: &BTreeSet<String>) -> Vec<PlannedRun> {
    plan.runs
        .iter()
        .filter(|r| !finished.contains(&r.folder()))
        .cloned()
        .collect()
}

/// [`execute`] of the runs `todo`, reporting to a job's `progress` (which
/// already counts them).
pub fn execute_with(
    todo: &[PlannedRun],
    platforms: &mut [Box<dyn Platform>],
    kernel_source: Option<&Path>,
    folder: &RunFolder,
    progress: &Progress,
) -> Result<Summary> {
    let bar = progress;
    let start = Instant::now();
    let mut summary = Summary::default();
    for group in groups(todo) {
        let first = &group[0];
        bar.set_message(match group.len() {
            1 => first.describe(),
            n => format!("{} {} ({n} runs)", first.platform, first.workload.name),
        });
        let platform = platforms
            .iter_mut()
            .find(|p| p.name() == first.platform.name())
            .with_context(|| format!("platform {} is not set up", first.platform))?;
        let mut ctx = platform.context();
        ctx.kernel_source = kernel_source.map(Path::to_path_buf);
        let workload = first.workload.spec.workload();
        let steps = workload.steps(&ctx);
        if let Some(kind) = first.experiment.n_guests().map(|_| first.experiment.kind()) {
            // Multi-guest runs (isolation phases, scalability steps), one
            // after the other, each counting its guests.
            let how = How {
                accel: platform.accel(),
                emulated: platform.emulated(),
                guests: None,
                steps: &steps,
            };
            for run in group {
                bar.set_message(run.describe());
                let counts = match kind {
                    ExperimentKind::Isolation => {
                        isolation::run_phase(run, platform.as_mut(), &ctx, folder)?
                    }
                    ExperimentKind::Scalability | ExperimentKind::Overall => {
                        run_parallel(run, platform.as_mut(), &how, folder)?
                    }
                };
                summary.runs += 1;
                summary.ok += counts.ok;
                summary.failed += counts.failed;
                summary.dnr += counts.dnr;
                let at = bar.finish(&run.folder(), run.platform.name(), run.experiment.name());
                bar.suspend(|| {
                    log::info!(
                        "[{:>6.0} s] {}: {} guests ok, {} failed, {} dnr [{at}]",
                        start.elapsed().as_secs_f64(),
                        run.describe(),
                        counts.ok,
                        counts.failed,
                        counts.dnr
                    )
                });
            }
            continue;
        }
        let mut dirs = Vec::with_capacity(group.len());
        for run in group {
            dirs.push(folder.begin_run(&run.folder())?);
        }
        let requests: Vec<RunRequest<'_>> = group
            .iter()
            .zip(&dirs)
            .map(|(run, dir)| RunRequest {
                steps: &steps,
                dir,
                deadline: Duration::from_secs(run.workload.schedule.deadline_s),
                name: run.folder(),
            })
            .collect();
        let how = How {
            accel: platform.accel(),
            emulated: platform.emulated(),
            guests: platform.guests(),
            steps: &steps,
        };
        let mut finished = 0;
        platform
            .execute_all(&requests, &mut |i, outcome| {
                let run = group.get(i).context("platform reported an unknown run")?;
                let dir = dirs.get(i).context("platform reported an unknown run")?;
                let (outcome, rows) = finish_run(run, &how, dir, outcome, folder)?;
                summary.runs += 1;
                match outcome.status {
                    Status::Ok => summary.ok += 1,
                    Status::Failed => summary.failed += 1,
                    Status::Dnr => summary.dnr += 1,
                }
                let what = match (&outcome.status, &outcome.reason) {
                    (Status::Ok, _) => format!("ok in {:.2} s", outcome.wall_s.unwrap_or(0.0)),
                    (s, r) => format!("{}: {}", status_name(*s), r.as_deref().unwrap_or("")),
                };
                let at = bar.finish(&run.folder(), run.platform.name(), run.experiment.name());
                bar.suspend(|| {
                    log::info!(
                        "[{:>6.0} s] {}: {what} ({} metrics) [{at}]",
                        start.elapsed().as_secs_f64(),
                        run.describe(),
                        rows
                    )
                });
                finished += 1;
                Ok(())
            })
            .with_context(|| {
                format!(
                    "running {} {} ({} runs)",
                    first.platform,
                    first.workload.name,
                    group.len()
                )
            })?;
        if finished != group.len() {
            anyhow::bail!(
                "platform {} reported {finished} of {} runs of {}",
                first.platform,
                group.len(),
                first.workload.name
            );
        }
    }
    Ok(summary)
}

/// Consecutive runs of the same platform, experiment and workload.
fn groups(runs: &[PlannedRun]) -> Vec<&[PlannedRun]> {
    let mut out = Vec::new();
    let mut rest = runs;
    while let Some(first) = rest.first() {
        let n = rest
            .iter()
            .take_while(|r| {
                r.platform == first.platform
                    && r.experiment == first.experiment
                    && r.workload.name == first.workload.name
            })
            .count();
        let (group, tail) = rest.split_at(n);
        out.push(group);
        rest = tail;
    }
    out
}

/// What a group of runs shares.
struct How<'a> {
    accel: String,
    emulated: bool,
    guests: Option<u32>,
    steps: &'a crate::workload::Steps,
}

/// Parses, records and commits one finished run.
fn finish_run(
    run: &PlannedRun,
    how: &How<'_>,
    tmp: &Path,
    mut outcome: RunOutcome,
    folder: &RunFolder,
) -> Result<(RunOutcome, usize)> {
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
    let record = RunRecord::new(run, how, &outcome, rows.len());
    fs::write(tmp.join("run.json"), serde_json::to_vec_pretty(&record)?)?;
    folder.commit_run(tmp, &rel, outcome.status, &rows)?;
    Ok((outcome, rows.len()))
}

/// Runs one scalability run (N guests at once), writes each guest's
/// `run.json` and the run's, and commits the run with every guest's rows.
/// Returns its guests' counts.
fn run_parallel(
    run: &PlannedRun,
    platform: &mut dyn Platform,
    how: &How<'_>,
    folder: &RunFolder,
) -> Result<GuestCounts> {
    let n = run.experiment.n_guests().context("not a scalability run")?;
    let rel = run.folder();
    let tmp = folder.begin_run(&rel)?;
    let mut outcomes = platform
        .execute_parallel(&ParallelRequest {
            steps: how.steps,
            dir: &tmp,
            deadline: Duration::from_secs(run.workload.schedule.deadline_s),
            name: rel.clone(),
            n_guests: n,
            memory_mib: run.experiment.guest_memory_mib(),
        })
        .with_context(|| format!("running {}", run.describe()))?;
    if outcomes.len() != n as usize {
        anyhow::bail!(
            "platform {} reported {} of {n} guests of {}",
            run.platform,
            outcomes.len(),
            run.describe()
        );
    }
    let repetition = run.phase.index();
    let mut rows = Vec::new();
    let mut counts = GuestCounts::default();
    for (guest, outcome) in (1..=n).zip(outcomes.iter_mut()) {
        let dir = guest_dir(&tmp, guest);
        fs::create_dir_all(&dir)?;
        let place = Place {
            guest: Some(guest),
            n_guests: Some(n),
            folder: run.guest_folder(guest),
        };
        let guest_rows = metric_rows(run, how, repetition, &dir, outcome, place);
        counts.add(outcome.status);
        let record = RunRecord::new(run, how, outcome, guest_rows.len());
        fs::write(dir.join("run.json"), serde_json::to_vec_pretty(&record)?)?;
        rows.extend(guest_rows);
    }
    let record = ParallelRecord {
        platform: run.platform.name(),
        accel: how.accel.clone(),
        emulated: how.emulated,
        experiment: run.experiment.name(),
        workload: &run.workload.name,
        phase: run.phase,
        n_guests: n,
        guest_memory_mib: run.experiment.guest_memory_mib(),
        deadline_s: run.workload.schedule.deadline_s,
        steps: how.steps,
        guests: outcomes.iter().collect(),
        metrics: rows.len(),
    };
    fs::write(tmp.join("run.json"), serde_json::to_vec_pretty(&record)?)?;
    folder.commit_run(&tmp, &rel, counts.worst(), &rows)?;
    Ok(counts)
}

/// Where a run's rows say their values come from.
struct Place {
    guest: Option<u32>,
    n_guests: Option<u32>,
    /// The `runs/...` folder holding the raw logs.
    folder: String,
}

/// Parses a finished run into metric rows; a parse failure turns the run
/// into `failed` (raw output kept) with one failed row per expected metric.
fn metric_rows(
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

/// Default folder for a run's files.
pub fn default_run_dir(bundles: &Path, suite: &str, created: &str) -> PathBuf {
    let stamp: String = created.chars().filter(|c| c.is_ascii_digit()).collect();
    bundles.join("work").join(format!("{suite}-{stamp}"))
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Ok => "ok",
        Status::Failed => "failed",
        Status::Dnr => "dnr",
    }
}
