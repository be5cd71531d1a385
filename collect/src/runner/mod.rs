//! Executes a plan on its platforms, writing the run folder as it goes.
//! The order of the blocks and how many blocks adaptive lanes take come
//! from [`schedule`]; each block goes to its platform at once, so a guest
//! platform boots one guest for it.

pub mod isolation;
mod parallel;
pub mod record;
pub mod schedule;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use benchvm_format::metrics::{MetricRow, Status};

pub use record::Position;

use crate::plan::{ExperimentKind, Plan, PlannedRun};
use crate::platform::{Platform, RunRequest};
use crate::progress::Progress;
use crate::quiet;
use crate::runfolder::RunFolder;
use record::{finish_run, result_of, status_name, How};
use schedule::{Block, RunResult};

/// Totals of a finished plan. `ok`, `failed` and `dnr` count runs, and
/// each guest of a scalability run on its own.
#[derive(Debug, Default, Clone, Copy)]
pub struct Summary {
    pub runs: usize,
    pub ok: usize,
    pub failed: usize,
    pub dnr: usize,
}

/// Runs a plan on the platforms of its runs' names; runs whose folder is
/// in `finished` (a resumed run's journal) are not run again, their
/// journal records standing for them.
pub fn execute(
    plan: &Plan,
    platforms: &mut [Box<dyn Platform>],
    kernel_source: Option<&Path>,
    folder: &RunFolder,
    finished: &BTreeSet<String>,
) -> Result<Summary> {
    let progress = Progress::new();
    progress.add_runs(&todo(plan, finished), |_| 1.0);
    let summary = execute_with(plan, finished, platforms, kernel_source, folder, &progress);
    progress.finish_and_clear();
    summary
}

/// The runs of `plan` expected to run that `finished` does not hold yet:
/// every lane's first block and the multi-guest runs. Later blocks of
/// adaptive lanes join the progress when their stopping rule asks for them.
pub fn todo(plan: &Plan, finished: &BTreeSet<String>) -> Vec<PlannedRun> {
    schedule::expected(plan)
        .into_iter()
        .map(|i| &plan.runs[i])
        .filter(|r| !finished.contains(&r.folder()))
        .cloned()
        .collect()
}

/// [`execute`], reporting to a job's `progress` (which already counts
/// [`todo`]). Writes each lane's `stopping.json` at the end.
pub fn execute_with(
    plan: &Plan,
    finished: &BTreeSet<String>,
    platforms: &mut [Box<dyn Platform>],
    kernel_source: Option<&Path>,
    folder: &RunFolder,
    progress: &Progress,
) -> Result<Summary> {
    let known: BTreeMap<String, (Status, Vec<MetricRow>)> = folder
        .recorded_runs()?
        .into_iter()
        .filter(|(f, _)| finished.contains(f))
        .collect();
    let expected: BTreeSet<usize> = schedule::expected(plan).into_iter().collect();
    let mut runner = Runner {
        platforms,
        kernel_source,
        folder,
        progress,
        start: Instant::now(),
        summary: Summary::default(),
    };
    let mut sequence = 0u32;
    let played = schedule::play(plan, |block| {
        let mut results: Vec<Option<RunResult>> = vec![None; block.runs.len()];
        let mut todo = Vec::new();
        for (k, &i) in block.runs.iter().enumerate() {
            sequence += 1;
            let run = &plan.runs[i];
            match known.get(&run.folder()) {
                Some((status, rows)) => results[k] = Some(result_of(run, *status, rows)),
                None => todo.push(Todo {
                    slot: k,
                    run,
                    position: Position {
                        sequence,
                        block: block.number,
                    },
                }),
            }
        }
        let later: Vec<PlannedRun> = block
            .runs
            .iter()
            .filter(|i| !expected.contains(i))
            .map(|&i| plan.runs[i].clone())
            .filter(|r| !finished.contains(&r.folder()))
            .collect();
        if !later.is_empty() {
            runner
                .progress
                .add_runs(&later, crate::commands::run::eta_factor);
        }
        if !todo.is_empty() {
            for (slot, result) in runner.block(block, &todo)? {
                results[slot] = Some(result);
            }
        }
        results
            .into_iter()
            .enumerate()
            .map(|(k, r)| {
                r.with_context(|| {
                    format!(
                        "{}: the platform reported nothing",
                        plan.runs[block.runs[k]].folder()
                    )
                })
            })
            .collect()
    })?;
    for lane in &played.lanes {
        folder.write_file(&lane.path(), &serde_json::to_vec_pretty(lane)?)?;
        if lane.rule.is_some() {
            log::info!(
                "{} on {}: {} ({} planned runs not needed)",
                lane.workload,
                lane.platform,
                lane.why(),
                lane.not_needed.len()
            );
        }
    }
    Ok(runner.summary)
}

/// A run of a block still to run.
struct Todo<'p> {
    /// Its place in the block.
    slot: usize,
    run: &'p PlannedRun,
    position: Position,
}

/// What the blocks of one plan share.
struct Runner<'a> {
    platforms: &'a mut [Box<dyn Platform>],
    kernel_source: Option<&'a Path>,
    folder: &'a RunFolder,
    progress: &'a Progress,
    start: Instant,
    summary: Summary,
}

impl Runner<'_> {
    /// Runs the unfinished runs of a block (all of one workload on one
    /// platform) and returns each one's result by its place in the block.
    fn block(&mut self, block: &Block, todo: &[Todo<'_>]) -> Result<Vec<(usize, RunResult)>> {
        let first = todo[0].run;
        let bar = self.progress;
        bar.set_message(match todo.len() {
            1 => first.describe(),
            n => format!(
                "{} {} ({n} runs, block {})",
                first.platform, first.workload.name, block.number
            ),
        });
        let platform = self
            .platforms
            .iter_mut()
            .find(|p| p.name() == first.platform.name())
            .with_context(|| format!("platform {} is not set up", first.platform))?;
        let mut ctx = platform.context();
        ctx.kernel_source = self.kernel_source.map(Path::to_path_buf);
        let steps = first.workload.spec.workload().steps(&ctx);
        let mut out = Vec::with_capacity(todo.len());
        if let Some(kind) = first.experiment.n_guests().map(|_| first.experiment.kind()) {
            // Multi-guest runs (isolation phases, scalability steps), each
            // counting its guests.
            let how = How {
                accel: platform.accel(),
                emulated: platform.emulated(),
                guests: None,
                steps: &steps,
                facts: platform.facts(),
            };
            for t in todo {
                let run = t.run;
                bar.set_message(run.describe());
                let counts = match kind {
                    ExperimentKind::Isolation => {
                        isolation::run_phase(run, platform.as_mut(), &ctx, t.position, self.folder)?
                    }
                    ExperimentKind::Scalability | ExperimentKind::Overall => {
                        parallel::run_parallel(
                            run,
                            platform.as_mut(),
                            &how,
                            t.position,
                            self.folder,
                        )?
                    }
                };
                self.summary.runs += 1;
                self.summary.ok += counts.ok;
                self.summary.failed += counts.failed;
                self.summary.dnr += counts.dnr;
                let at = bar.finish(&run.folder(), run.platform.name(), run.experiment.name());
                let start = self.start;
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
                out.push((
                    t.slot,
                    RunResult {
                        status: counts.worst(),
                        values: Vec::new(),
                    },
                ));
            }
            return Ok(out);
        }
        let mut dirs = Vec::with_capacity(todo.len());
        for t in todo {
            dirs.push(self.folder.begin_run(&t.run.folder())?);
        }
        let requests: Vec<RunRequest<'_>> = todo
            .iter()
            .zip(&dirs)
            .map(|(t, dir)| RunRequest {
                steps: &steps,
                dir,
                deadline: Duration::from_secs(t.run.workload.schedule.deadline_s),
                name: t.run.folder(),
            })
            .collect();
        let how = How {
            accel: platform.accel(),
            emulated: platform.emulated(),
            guests: platform.guests(),
            steps: &steps,
            facts: platform.facts(),
        };
        let (folder, start, summary) = (self.folder, self.start, &mut self.summary);
        // The host's own view of a guest's block, from its start to each
        // run's report.
        let host_before = how.guests.map(|_| quiet::snapshot());
        platform
            .execute_all(&requests, &mut |i, outcome| {
                let t = todo.get(i).context("platform reported an unknown run")?;
                let dir = dirs.get(i).context("platform reported an unknown run")?;
                let run = t.run;
                if let Some(before) = &host_before {
                    let evidence = quiet::Evidence {
                        scope: quiet::Scope::Block,
                        before: before.clone(),
                        after: quiet::snapshot(),
                    };
                    std::fs::write(
                        dir.join(quiet::HOST_FILE),
                        serde_json::to_vec_pretty(&evidence)?,
                    )?;
                }
                let (outcome, rows, result) =
                    finish_run(run, &how, t.position, dir, outcome, folder)?;
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
                out.push((t.slot, result));
                Ok(())
            })
            .with_context(|| {
                format!(
                    "running {} {} ({} runs)",
                    first.platform,
                    first.workload.name,
                    todo.len()
                )
            })?;
        if out.len() != todo.len() {
            anyhow::bail!(
                "platform {} reported {} of {} runs of {}",
                first.platform,
                out.len(),
                todo.len(),
                first.workload.name
            );
        }
        Ok(out)
    }
}

/// Default folder for a run's files.
pub fn default_run_dir(bundles: &Path, suite: &str, created: &str) -> PathBuf {
    let stamp: String = created.chars().filter(|c| c.is_ascii_digit()).collect();
    bundles.join("work").join(format!("{suite}-{stamp}"))
}
