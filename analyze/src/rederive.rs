//! `analyze verify --rederive`: the metrics table is re-derived from the raw
//! tool output inside the bundle and must match it row by row. A bundle
//! whose table was edited and re-hashed into a new, self-consistent bundle
//! passes every hash check; it does not pass this one.
//!
//! Method: `config/plan.json` names each run's workload and parameters;
//! for every run with `ok` rows, the run's `stdout.log` is parsed again by
//! the same parser collect used (the `collect` library), with the wall time
//! recorded in its `run.json`, and each value must equal the table's
//! exactly (both are the same f64 written in shortest round-trip form).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use benchvm_format::metrics::{self, MetricRow, Status, METRICS_PATH};
use benchvm_format::{read, Limits};
use collect::plan::{Phase, Plan, PlannedRun};
use collect::workload::Output;
use serde::Deserialize;

const PLAN: &str = "config/plan.json";

/// The part of a run's `run.json` needed here.
#[derive(Debug, Deserialize)]
struct RunFile {
    outcome: RunOutcomeFile,
}

#[derive(Debug, Deserialize)]
struct RunOutcomeFile {
    status: Status,
    wall_s: Option<f64>,
}

fn wanted(path: &str) -> bool {
    path == METRICS_PATH
        || path == PLAN
        || (path.starts_with("runs/")
            && (path.ends_with("/stdout.log") || path.ends_with("/run.json")))
}

/// Re-derives every ok value; returns how many values were checked.
pub fn check(path: &Path, limits: &Limits) -> Result<usize> {
    let bundle = read::open(path, limits, &|f| wanted(&f.path))?;
    let plan: Plan = serde_json::from_slice(
        bundle
            .file(PLAN)
            .context("the bundle has no config/plan.json to re-derive from")?,
    )
    .context("parsing config/plan.json")?;
    let rows = metrics::parse(bundle.file(METRICS_PATH).unwrap_or_default())?;
    let mut by_run: BTreeMap<&str, Vec<(usize, &MetricRow)>> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        by_run
            .entry(row.run.as_str())
            .or_default()
            .push((i + 1, row));
    }
    let mut checked = 0;
    for run in &plan.runs {
        let Phase::Rep(repetition) = run.phase else {
            continue;
        };
        // A scalability run keeps each guest's logs (and rows) in a
        // folder of its own.
        let folders: Vec<String> = match run.n_guests {
            None => vec![run.folder()],
            Some(n) => (1..=n).map(|g| run.guest_folder(g)).collect(),
        };
        for folder in folders {
            let table = by_run.remove(folder.as_str()).unwrap_or_default();
            checked += check_run(&bundle, run, &folder, repetition, &table)?;
        }
    }
    if let Some((folder, table)) = by_run.into_iter().next() {
        bail!(
            "metrics.ndjson line {}: run {folder} is not in the plan",
            table[0].0
        );
    }
    Ok(checked)
}

/// Re-derives the values of one run folder against its table rows;
/// returns how many were checked.
fn check_run(
    bundle: &benchvm_format::read::Bundle,
    run: &PlannedRun,
    folder: &str,
    repetition: u32,
    table: &[(usize, &MetricRow)],
) -> Result<usize> {
    let record: Option<RunFile> = bundle
        .file(&format!("{folder}/run.json"))
        .map(serde_json::from_slice)
        .transpose()
        .with_context(|| format!("{folder}/run.json"))?;
    let mut checked = 0;
    let Some(record) = record else {
        if !table.is_empty() {
            bail!(
                "metrics.ndjson line {}: run {folder} has no raw logs in the bundle",
                table[0].0
            );
        }
        return Ok(0);
    };
    let workload = run.workload.spec.workload();
    let defs = workload.metrics();
    if record.outcome.status != Status::Ok {
        if let Some((line, row)) = table.iter().find(|(_, r)| r.status == Status::Ok) {
            bail!(
                "metrics.ndjson line {line}: {} of {folder} is ok, but the run ended {:?}",
                row.metric,
                record.outcome.status
            );
        }
        return Ok(0);
    }
    let stdout = bundle
        .file(&format!("{folder}/stdout.log"))
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    let values = workload
        .measure(&Output {
            stdout: &stdout,
            wall_s: record.outcome.wall_s.unwrap_or(0.0),
        })
        .map_err(|e| anyhow::anyhow!("{folder}: raw output does not parse: {e}"))?;
    for (def, value) in defs.iter().zip(&values) {
        let Some((line, row)) = table.iter().find(|(_, r)| r.metric == def.metric) else {
            bail!(
                "{folder}: the raw output gives {} = {value}, but metrics.ndjson has no such row",
                def.metric
            );
        };
        if row.repetition != repetition || row.value != Some(*value) || row.status != Status::Ok {
            bail!(
                "metrics.ndjson line {line}: {} {} rep {}: the table says {}, the raw output of {folder} gives {value}",
                row.workload,
                row.metric,
                row.repetition,
                row.value.map_or("null".to_owned(), |v| v.to_string()),
            );
        }
        checked += 1;
    }
    Ok(checked)
}
