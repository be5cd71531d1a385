//! Checks over a whole imported table, shared by every source format.

use std::collections::HashMap;

use benchvm_format::metrics::{Direction, MetricRow, Role, Unit};

use super::error::{ImportError, Location};
use super::meta::ImportMeta;

/// What tells two values apart: rows with equal keys would be one value
/// given twice.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    platform: String,
    accel: String,
    experiment: String,
    workload: String,
    metric: String,
    repetition: u32,
    guest: Option<u32>,
    n_guests: Option<u32>,
    stressor: Option<String>,
    role: Option<Role>,
}

impl Key {
    pub fn of(r: &MetricRow) -> Key {
        Key {
            platform: r.platform.clone(),
            accel: r.accel.clone(),
            experiment: r.experiment.clone(),
            workload: r.workload.clone(),
            metric: r.metric.clone(),
            repetition: r.repetition,
            guest: r.guest,
            n_guests: r.n_guests,
            stressor: r.stressor.clone(),
            role: r.role,
        }
    }
}

/// Checks the table as a whole: at least one row; one unit and one
/// direction per (experiment, workload, metric), since analyze compares
/// platforms on them; every platform of the metadata used by some row.
/// `lines[i]` is the source line of `rows[i]`.
pub fn check_table(
    file: &str,
    meta_file: &str,
    rows: &[MetricRow],
    lines: &[usize],
    meta: &ImportMeta,
) -> Result<(), ImportError> {
    if rows.is_empty() {
        return Err(ImportError::file(
            file,
            "no values: the source holds no rows",
        ));
    }
    let mut measures: HashMap<(&str, &str, &str), (Unit, Direction, usize)> = HashMap::new();
    for (row, &line) in rows.iter().zip(lines) {
        let key = (
            row.experiment.as_str(),
            row.workload.as_str(),
            row.metric.as_str(),
        );
        let (unit, direction, first) =
            *measures
                .entry(key)
                .or_insert((row.unit, row.direction, line));
        if unit != row.unit || direction != row.direction {
            let at = Location {
                file: file.to_owned(),
                line,
                column: None,
            };
            return Err(ImportError::at(
                at,
                format!(
                    "{} {} is in {} ({} is better) here but in {} ({} is better) on line {first}: one measure has one unit and one direction",
                    row.workload,
                    row.metric,
                    row.unit.as_str(),
                    direction_name(row.direction),
                    unit.as_str(),
                    direction_name(direction),
                ),
            ));
        }
    }
    for name in meta.platforms.keys() {
        if !rows.iter().any(|r| &r.platform == name) {
            return Err(ImportError::file(
                meta_file,
                format!("key `platforms.{name}`: no value of {file} is of this platform"),
            ));
        }
    }
    Ok(())
}

fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::Higher => "higher",
        Direction::Lower => "lower",
    }
}

/// Platforms in the order the rows first name them.
pub fn platforms(rows: &[MetricRow]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in rows {
        if !out.contains(&r.platform) {
            out.push(r.platform.clone());
        }
    }
    out
}
