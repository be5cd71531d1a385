//! Each row of the metrics table against what the plan and its run's raw
//! files give, field by field; every planned value has exactly one row.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Result};
use benchvm_format::metrics::{Direction, MetricRow, Role, Status};
use collect::plan::{Phase, Plan, PlannedRun};

use super::plan::{PLAN, SUITE};
use super::runs::{status_name, Found, Unit};
use super::Rederived;

/// Refuses a row whose run folder the plan does not have (checked before
/// anything else: such a row names the forgery most directly).
pub fn check_planned(rows: &[MetricRow], plan: &Plan) -> Result<()> {
    let mut folders = BTreeSet::new();
    for run in &plan.runs {
        match run.experiment.n_guests() {
            None => {
                folders.insert(run.folder());
            }
            Some(n) => folders.extend((1..=n).map(|g| run.guest_folder(g))),
        }
    }
    for (i, row) in rows.iter().enumerate() {
        if !folders.contains(&row.run) {
            bail!(
                "metrics.ndjson line {} ({}): run {} is not a run folder {PLAN} plans",
                i + 1,
                describe(row),
                row.run
            );
        }
    }
    Ok(())
}

/// Checks every row against the runs found; returns what was checked.
pub fn check(rows: &[MetricRow], found: &[Found<'_>]) -> Result<Rederived> {
    let mut by_folder: BTreeMap<&str, Vec<(usize, &MetricRow)>> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        by_folder.entry(&row.run).or_default().push((i + 1, row));
    }
    let mut done = Rederived::default();
    for f in found {
        for unit in &f.units {
            let table = by_folder.remove(unit.folder.as_str()).unwrap_or_default();
            if !f.counted() {
                if let Some((line, row)) = table.first() {
                    bail!(
                        "metrics.ndjson line {line} ({}): {} is a warm-up in {PLAN}, and warm-ups have no rows",
                        describe(row),
                        unit.folder
                    );
                }
                continue;
            }
            let (rows, values) = check_unit(f.run, unit, &table)?;
            done.rows += rows;
            done.values += values;
        }
    }
    if let Some((line, row)) = by_folder.values().flatten().next() {
        bail!(
            "metrics.ndjson line {line} ({}): run {} belongs to no planned run",
            describe(row),
            row.run
        );
    }
    Ok(done)
}

/// The rows of one folder: one per metric its workload reports, each
/// claiming exactly what was derived. Returns rows and values checked.
fn check_unit(
    run: &PlannedRun,
    unit: &Unit,
    table: &[(usize, &MetricRow)],
) -> Result<(usize, usize)> {
    let metrics: Vec<&str> = unit.values.iter().map(|(d, _)| d.metric).collect();
    if let Some((line, row)) = table
        .iter()
        .find(|(_, r)| !metrics.contains(&r.metric.as_str()))
    {
        bail!(
            "metrics.ndjson line {line} ({}): metric {} is not one the {} workload of {SUITE} reports ({})",
            describe(row),
            row.metric,
            run.workload.name,
            metrics.join(", ")
        );
    }
    let mut values = 0;
    for (def, value) in &unit.values {
        let mine: Vec<&(usize, &MetricRow)> = table
            .iter()
            .filter(|(_, r)| r.metric == def.metric)
            .collect();
        let (line, row) = match mine[..] {
            [one] => *one,
            [] => bail!(
                "metrics.ndjson has no row for {} of {} ({}): {}; a planned value is missing",
                def.metric,
                unit.folder,
                value.map_or("no value".to_owned(), |v| format!("value {v}")),
                unit.status_from,
            ),
            [(a, _), (b, _), ..] => bail!(
                "metrics.ndjson lines {a} and {b} both give {} of {}: one value, two rows",
                def.metric,
                unit.folder
            ),
        };
        let expected = Expected {
            run,
            unit,
            unit_str: def.unit.as_str(),
            direction: def.direction,
            value: *value,
        };
        for (field, told, derived, source) in expected.fields(row) {
            if told != derived {
                bail!(
                    "metrics.ndjson line {line} ({}): {field} is {told}, but the raw files give {derived}: {source}",
                    describe(row)
                );
            }
        }
        values += usize::from(value.is_some());
    }
    Ok((table.len(), values))
}

/// What one row must claim.
struct Expected<'a> {
    run: &'a PlannedRun,
    unit: &'a Unit,
    unit_str: &'a str,
    direction: Direction,
    value: Option<f64>,
}

impl Expected<'_> {
    /// (field, the row's claim, the derived claim, the raw files that give it).
    fn fields(&self, row: &MetricRow) -> Vec<(&'static str, String, String, String)> {
        let (run, unit, host) = (self.run, self.unit, &self.unit.host);
        let folder = &unit.folder;
        let plan = |field: &str, value: &str| format!("{PLAN} plans {folder} with {field} {value}");
        let repetition = match run.phase {
            Phase::Rep(i) | Phase::Warmup(i) => i,
        };
        // Multi-guest runs number their guests; a guest platform's own
        // runs are guest 1 of 1; the host's have none.
        let (guest, n_guests) = match (run.experiment.n_guests(), unit.guest, &host.boot) {
            (Some(n), g, _) => (g, Some(n)),
            (None, _, Some(_)) => (Some(1), Some(1)),
            (None, _, None) => (None, None),
        };
        let role = run.experiment.stress().map(|_| match unit.guest {
            Some(1) => Role::Stressed,
            _ => Role::Normal,
        });
        let measures = format!(
            "the {} workload of {SUITE} reports {}",
            run.workload.name, row.metric
        );
        let fields = [
            (
                "platform",
                row.platform.clone(),
                run.platform.name().to_owned(),
                format!(
                    "{}, and {}",
                    plan("platform", run.platform.name()),
                    host.evidence
                ),
            ),
            (
                "accel",
                row.accel.clone(),
                host.accel.clone(),
                host.evidence.clone(),
            ),
            (
                "emulated",
                row.emulated.to_string(),
                host.emulated.to_string(),
                host.evidence.clone(),
            ),
            (
                "experiment",
                row.experiment.clone(),
                run.experiment.name().to_owned(),
                String::new(),
            ),
            (
                "workload",
                row.workload.clone(),
                run.workload.name.clone(),
                String::new(),
            ),
            (
                "unit",
                row.unit.as_str().to_owned(),
                self.unit_str.to_owned(),
                format!("{measures} in {}", self.unit_str),
            ),
            (
                "direction",
                direction_name(row.direction).to_owned(),
                direction_name(self.direction).to_owned(),
                format!("{measures}, {} is better", direction_name(self.direction)),
            ),
            (
                "repetition",
                row.repetition.to_string(),
                repetition.to_string(),
                String::new(),
            ),
            ("guest", opt(row.guest), opt(guest), String::new()),
            ("n_guests", opt(row.n_guests), opt(n_guests), String::new()),
            (
                "stressor",
                opt(row.stressor.as_ref()),
                opt(run.experiment.stress().map(|s| s.name())),
                String::new(),
            ),
            (
                "role",
                opt(row.role.map(role_name)),
                opt(role.map(role_name)),
                "guest 1 of an isolation phase is the stressed one, the others are normal"
                    .to_owned(),
            ),
            (
                "status",
                status_name(row.status).to_owned(),
                status_name(unit.status).to_owned(),
                unit.status_from.clone(),
            ),
            (
                "value",
                opt(row.value),
                opt(self.value),
                unit.values_from.clone(),
            ),
        ];
        fields
            .into_iter()
            .map(|(field, told, derived, source)| {
                let source = if source.is_empty() {
                    plan(field, &derived)
                } else {
                    source
                };
                (field, told, derived, source)
            })
            .collect()
    }
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "null".to_owned(), |v| v.to_string())
}

fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::Higher => "higher",
        Direction::Lower => "lower",
    }
}

fn role_name(r: Role) -> &'static str {
    match r {
        Role::Stressed => "stressed",
        Role::Normal => "normal",
    }
}

/// One row in words, for a person: `native overall cpu events_per_sec
/// rep 3`, with its guest and stressor when it has them.
pub fn describe(r: &MetricRow) -> String {
    let mut s = format!(
        "{} {} {} {} rep {}",
        r.platform, r.experiment, r.workload, r.metric, r.repetition
    );
    if let (Some(g), Some(n)) = (r.guest, r.n_guests) {
        s.push_str(&format!(" guest {g} of {n}"));
    }
    if let Some(stressor) = &r.stressor {
        s.push_str(&format!(" stressor {stressor}"));
    }
    if r.status != Status::Ok {
        s.push_str(&format!(" {}", status_name(r.status)));
    }
    s
}
