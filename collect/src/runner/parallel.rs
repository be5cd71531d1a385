//! One scalability run: N guests started at once, each running the same
//! workload; every guest's `run.json` and rows, and the run's own record.

use std::fs;
use std::time::Duration;

use anyhow::{Context, Result};

use super::record::{metric_rows, GuestCounts, How, ParallelRecord, Place, Position, RunRecord};
use crate::plan::PlannedRun;
use crate::platform::{guest_dir, ParallelRequest, Platform};
use crate::runfolder::RunFolder;

/// Runs one scalability run (N guests at once), writes each guest's
/// `run.json` and the run's, and commits the run with every guest's rows.
/// Returns its guests' counts.
pub(super) fn run_parallel(
    run: &PlannedRun,
    platform: &mut dyn Platform,
    how: &How<'_>,
    position: Position,
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
        let record = RunRecord::new(run, how, position, &dir, outcome, guest_rows.len());
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
        position,
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
