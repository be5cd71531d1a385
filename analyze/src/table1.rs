//! Table 1: overall performance of each platform normalized to native.
//!
//! For every (workload, metric) of the `overall` experiment, a platform's
//! score is its mean over native's mean for higher-is-better metrics, and
//! native's mean over its mean for lower-is-better ones, so that, as in the
//! paper, higher is always better and native is 1.000. Each score carries
//! its n and a 95% Fieller interval (see `stats::ratio`).

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use polars::prelude::*;

use crate::frame::column_label;
use crate::stats::{fieller, RatioInterval, Summary};

/// One cell: a platform's score on one row.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub summary: Summary,
    /// Native-normalized score, higher is better.
    pub score: f64,
    pub interval: RatioInterval,
}

/// One row: a workload's metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub workload: String,
    pub metric: String,
    pub unit: String,
    pub direction: String,
    /// One per column; `None` where the platform has no ok value.
    pub cells: Vec<Option<Cell>>,
}

/// The table.
#[derive(Debug, Clone, PartialEq)]
pub struct Table1 {
    /// Column labels; the first is native.
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

/// Builds Table 1 from the combined metrics frame.
pub fn build(df: &DataFrame) -> Result<Table1> {
    let ok = df
        .clone()
        .lazy()
        .filter(
            col("experiment")
                .eq(lit("overall"))
                .and(col("status").eq(lit("ok"))),
        )
        .select([
            col("workload"),
            col("metric"),
            col("unit"),
            col("direction"),
            col("platform"),
            col("accel"),
            col("emulated"),
            col("value"),
        ])
        .collect()?;
    // (workload, metric) -> unit, direction, column -> values
    type Key = (String, String);
    let mut groups: BTreeMap<Key, (String, String, BTreeMap<String, Vec<f64>>)> = BTreeMap::new();
    let mut columns: Vec<String> = Vec::new();
    let s = |name: &str| ok.column(name).and_then(|c| c.str().cloned());
    let (workload, metric, unit, direction, platform, accel) = (
        s("workload")?,
        s("metric")?,
        s("unit")?,
        s("direction")?,
        s("platform")?,
        s("accel")?,
    );
    let emulated = ok.column("emulated")?.bool()?.clone();
    let value = ok.column("value")?.f64()?.clone();
    for i in 0..ok.height() {
        let (Some(w), Some(m), Some(u), Some(d), Some(p), Some(a), Some(v)) = (
            workload.get(i),
            metric.get(i),
            unit.get(i),
            direction.get(i),
            platform.get(i),
            accel.get(i),
            value.get(i),
        ) else {
            continue;
        };
        let column = column_label(p, a, emulated.get(i).unwrap_or(false));
        if !columns.contains(&column) {
            columns.push(column.clone());
        }
        let entry = groups
            .entry((w.to_owned(), m.to_owned()))
            .or_insert_with(|| (u.to_owned(), d.to_owned(), BTreeMap::new()));
        entry.2.entry(column).or_default().push(v);
    }
    let native = column_label("native", "none", false);
    if !columns.contains(&native) {
        bail!("Table 1 needs native runs as its baseline, and none of the bundles has ok native rows of the overall experiment");
    }
    columns.retain(|c| c != &native);
    columns.sort();
    columns.insert(0, native.clone());

    let mut rows = Vec::new();
    for ((workload, metric), (unit, direction, by_column)) in groups {
        let Some(base) = by_column.get(&native).and_then(|v| Summary::of(v)) else {
            continue;
        };
        let cells = columns
            .iter()
            .map(|c| {
                let summary = Summary::of(by_column.get(c)?)?;
                let (score, interval) = if direction == "lower" {
                    (base.mean / summary.mean, fieller(&base, &summary))
                } else {
                    (summary.mean / base.mean, fieller(&summary, &base))
                };
                Some(Cell {
                    summary,
                    score,
                    interval,
                })
            })
            .collect();
        rows.push(Row {
            workload,
            metric,
            unit,
            direction,
            cells,
        });
    }
    Ok(Table1 { columns, rows })
}
