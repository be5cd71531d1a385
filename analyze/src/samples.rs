//! The combined frame grouped into samples: every ok value of one
//! (experiment, workload, metric, condition, platform column), each value
//! keeping the bundle and run folder it came from.
//!
//! Unit of analysis: one value per independent run. In the isolation
//! experiment the guests of one repetition share the host at the same
//! moment, so they are not independent: a sample holds one value per
//! (bundle, repetition), the mean over that role's guests that returned ok
//! ([`ISOLATION_UNIT`]), as Table 2 does (`isolation::Phase`). Elsewhere
//! each ok row is one value (the overall experiment has one row per
//! repetition; the scalability summary treats each guest as a value and
//! says so).

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;

use crate::frame::column_label;

/// What a sample measures and where.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub experiment: String,
    pub workload: String,
    pub metric: String,
    /// Isolation phase and guest count, e.g. `stressor=memory, role=normal`
    /// or `n_guests=4`; empty for a single run of the workload.
    pub condition: String,
    /// Platform column label (see [`column_label`]).
    pub column: String,
}

/// How isolation samples are formed, as the report's methods state it.
pub const ISOLATION_UNIT: &str = "Isolation: the unit of analysis is the repetition. The guests of one repetition run at the same moment on one host and are not independent, so each repetition gives one value per role (the mean over that role's guests that returned ok), in the isolation table and in the platform comparisons alike; n counts repetitions.";

/// Where one value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub bundle_id: String,
    pub run: String,
}

/// All values of one key.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub unit: String,
    pub direction: String,
    pub platform: String,
    pub accel: String,
    pub emulated: bool,
    /// Ok values, in frame order.
    pub values: Vec<f64>,
    /// `rows[i]` is the frame row of `values[i]` (see [`origin`]).
    pub rows: Vec<usize>,
    /// Rows with status `failed` or `dnr`.
    pub failed: usize,
    pub dnr: usize,
}

impl Sample {
    pub fn higher_is_better(&self) -> bool {
        self.direction != "lower"
    }
}

/// Where the value in row `row` of the combined frame came from.
pub fn origin(df: &DataFrame, row: usize) -> Origin {
    let get = |name: &str| {
        df.column(name)
            .ok()
            .and_then(|c| c.str().ok().and_then(|s| s.get(row).map(str::to_owned)))
            .unwrap_or_default()
    };
    Origin {
        bundle_id: get("bundle_id"),
        run: get("run"),
    }
}

/// Replaces a sample's values by one per (bundle, repetition): the mean of
/// that repetition's values, kept at the frame row of its first value.
fn per_repetition(sample: &mut Sample, units: &[(&str, u32)]) {
    let mut by: BTreeMap<(&str, u32), (f64, usize, usize)> = BTreeMap::new();
    for ((&v, &row), &unit) in sample.values.iter().zip(&sample.rows).zip(units) {
        let e = by.entry(unit).or_insert((0.0, 0, row));
        e.0 += v;
        e.1 += 1;
        e.2 = e.2.min(row);
    }
    let (values, rows) = by
        .into_values()
        .map(|(sum, n, row)| (sum / n as f64, row))
        .unzip();
    sample.values = values;
    sample.rows = rows;
}

/// The condition text of a row.
fn condition(n_guests: Option<u32>, stressor: Option<&str>, role: Option<&str>) -> String {
    let mut parts = Vec::new();
    if let Some(s) = stressor {
        parts.push(format!("stressor={s}"));
    }
    if let Some(r) = role {
        parts.push(format!("role={r}"));
    }
    if let Some(n) = n_guests.filter(|&n| n > 1) {
        parts.push(format!("n_guests={n}"));
    }
    parts.join(", ")
}

/// Groups every row of `df` (the combined frame, [`crate::frame`]) into
/// samples, sorted by key.
pub fn collect(df: &DataFrame) -> PolarsResult<BTreeMap<Key, Sample>> {
    let s = |name: &str| df.column(name).and_then(|c| c.str().cloned());
    let (experiment, workload, metric, unit, direction, platform, accel, stressor, role, status) = (
        s("experiment")?,
        s("workload")?,
        s("metric")?,
        s("unit")?,
        s("direction")?,
        s("platform")?,
        s("accel")?,
        s("stressor")?,
        s("role")?,
        s("status")?,
    );
    let emulated = df.column("emulated")?.bool()?.clone();
    let n_guests = df.column("n_guests")?.u32()?.clone();
    let repetition = df.column("repetition")?.u32()?.clone();
    let bundle = s("bundle_id")?;
    let value = df.column("value")?.f64()?.clone();

    // Borrowed keys while scanning; owned once per sample at the end.
    type Borrowed<'a> = (
        &'a str,
        &'a str,
        &'a str,
        Option<u32>,
        Option<&'a str>,
        Option<&'a str>,
        &'a str,
        &'a str,
        bool,
    );
    let mut index: HashMap<Borrowed<'_>, usize> = HashMap::new();
    let mut found: Vec<(Key, Sample)> = Vec::new();
    // Per found sample: the (bundle, repetition) of each value.
    let mut units: Vec<Vec<(&str, u32)>> = Vec::new();
    for i in 0..df.height() {
        let (Some(e), Some(w), Some(m), Some(p), Some(a)) = (
            experiment.get(i),
            workload.get(i),
            metric.get(i),
            platform.get(i),
            accel.get(i),
        ) else {
            continue;
        };
        let em = emulated.get(i).unwrap_or(false);
        let (ng, st, ro) = (n_guests.get(i), stressor.get(i), role.get(i));
        let ng_key = ng.filter(|&n| n > 1);
        let slot = *index
            .entry((e, w, m, ng_key, st, ro, p, a, em))
            .or_insert_with(|| {
                found.push((
                    Key {
                        experiment: e.to_owned(),
                        workload: w.to_owned(),
                        metric: m.to_owned(),
                        condition: condition(ng, st, ro),
                        column: column_label(p, a, em),
                    },
                    Sample {
                        unit: unit.get(i).unwrap_or_default().to_owned(),
                        direction: direction.get(i).unwrap_or_default().to_owned(),
                        platform: p.to_owned(),
                        accel: a.to_owned(),
                        emulated: em,
                        values: Vec::new(),
                        rows: Vec::new(),
                        failed: 0,
                        dnr: 0,
                    },
                ));
                units.push(Vec::new());
                found.len() - 1
            });
        let sample = &mut found[slot].1;
        match (status.get(i), value.get(i)) {
            (Some("ok"), Some(v)) => {
                sample.values.push(v);
                sample.rows.push(i);
                units[slot].push((
                    bundle.get(i).unwrap_or_default(),
                    repetition.get(i).unwrap_or(1),
                ));
            }
            (Some("dnr"), _) => sample.dnr += 1,
            _ => sample.failed += 1,
        }
    }
    for ((key, sample), units) in found.iter_mut().zip(&units) {
        if key.experiment == crate::isolation::EXPERIMENT {
            per_repetition(sample, units);
        }
    }
    let mut out: BTreeMap<Key, Sample> = BTreeMap::new();
    for (key, sample) in found {
        // Two (platform, accel) pairs could share a label only if a label
        // rule were ambiguous; merge rather than lose values.
        match out.get_mut(&key) {
            Some(existing) => {
                existing.values.extend(sample.values);
                existing.rows.extend(sample.rows);
                existing.failed += sample.failed;
                existing.dnr += sample.dnr;
            }
            None => {
                out.insert(key, sample);
            }
        }
    }
    Ok(out)
}
