//! Checks over the metrics table as a whole that need the manifest
//! (SPEC.md §7 and §9.8): every row's platform is one the manifest lists,
//! and no value is given twice.

use std::collections::HashMap;

use crate::error::MetricsError;
use crate::metrics::{MetricRow, Role};

/// What tells two values apart: two rows with equal keys would be one
/// value given twice (a padded sample).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key<'a> {
    platform: &'a str,
    accel: &'a str,
    experiment: &'a str,
    workload: &'a str,
    metric: &'a str,
    repetition: u32,
    guest: Option<u32>,
    n_guests: Option<u32>,
    stressor: Option<&'a str>,
    role: Option<Role>,
}

impl<'a> Key<'a> {
    fn of(r: &'a MetricRow) -> Self {
        Key {
            platform: &r.platform,
            accel: &r.accel,
            experiment: &r.experiment,
            workload: &r.workload,
            metric: &r.metric,
            repetition: r.repetition,
            guest: r.guest,
            n_guests: r.n_guests,
            stressor: r.stressor.as_deref(),
            role: r.role,
        }
    }
}

/// Checks `rows` (line `i + 1` of `metrics.ndjson` is `rows[i]`) against
/// the manifest's `platforms`.
pub fn check(rows: &[MetricRow], platforms: &[String]) -> Result<(), MetricsError> {
    let mut seen: HashMap<Key<'_>, usize> = HashMap::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let line = i + 1;
        if !platforms.contains(&row.platform) {
            return Err(MetricsError {
                line,
                reason: format!(
                    "platform {:?} is not one the manifest lists ({})",
                    row.platform,
                    platforms.join(", ")
                ),
            });
        }
        if let Some(first) = seen.insert(Key::of(row), line) {
            return Err(MetricsError {
                line,
                reason: format!(
                    "gives the same value as line {first} ({} {} {} {} repetition {}{}): no two rows may share platform, accel, experiment, workload, metric, repetition, guest, n_guests, stressor and role",
                    row.platform,
                    row.experiment,
                    row.workload,
                    row.metric,
                    row.repetition,
                    row.guest.map(|g| format!(" guest {g}")).unwrap_or_default(),
                ),
            });
        }
    }
    Ok(())
}
