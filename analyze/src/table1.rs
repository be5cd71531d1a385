//! Table 1: overall performance of each platform normalized to native.
//!
//! For every (workload, metric) of the `overall` experiment, a platform's
//! score is its mean over native's mean for higher-is-better metrics, and
//! native's mean over its mean for lower-is-better ones, so that, as in the
//! paper, higher is always better and native is 1.000. Each score carries
//! its n and a 95% Fieller interval (see `stats::ratio`).

use std::collections::BTreeMap;

use anyhow::Result;
use polars::prelude::*;

use crate::frame::column_label;
use crate::render::{Align, Doc, Value};
use crate::samples::{self, Sample};
use crate::stats::{fieller, RatioInterval, Summary};

/// Caption of Table 1.
pub const TITLE: &str = "Table 1. Overall performance normalized to native";

/// Notes printed under every Table 1.
pub const NOTES: &[&str] = &[
    "Scores are normalized to native (native = 1.000); for lower-is-better metrics the ratio is inverted (native / platform) so that higher is always better, as in the paper.",
    "Brackets: 95% confidence interval of the ratio of means by Fieller's theorem (Fieller 1954) with Welch-Satterthwaite degrees of freedom; 'unbounded' when the data cannot bound it. n: repetitions with status ok.",
    "Native cell: native's own mean with its 95% Student-t interval.",
    "TCG and emulated-host columns come from software emulation: they are not hardware numbers.",
];

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

/// The label of native's column.
pub fn native_column() -> String {
    column_label("native", "none", false)
}

/// Builds Table 1 from the combined metrics frame.
pub fn build(df: &DataFrame) -> Result<Table1> {
    Ok(from_samples(&samples::collect(df)?)?)
}

/// Builds Table 1 from grouped samples (only `overall`, single-guest ones).
pub fn from_samples(all: &BTreeMap<samples::Key, Sample>) -> std::result::Result<Table1, NoNative> {
    // (workload, metric) -> unit, direction, column -> values
    type Group<'a> = (&'a str, &'a str, BTreeMap<&'a str, &'a [f64]>);
    let mut groups: BTreeMap<(&str, &str), Group<'_>> = BTreeMap::new();
    let mut columns: Vec<String> = Vec::new();
    for (key, sample) in all {
        if key.experiment != "overall" || !key.condition.is_empty() || sample.values.is_empty() {
            continue;
        }
        if !columns.contains(&key.column) {
            columns.push(key.column.clone());
        }
        groups
            .entry((&key.workload, &key.metric))
            .or_insert_with(|| (&sample.unit, &sample.direction, BTreeMap::new()))
            .2
            .insert(&key.column, &sample.values);
    }
    let native = native_column();
    if !columns.contains(&native) {
        return Err(NoNative);
    }
    columns.retain(|c| c != &native);
    columns.sort();
    columns.insert(0, native.clone());

    let mut rows = Vec::new();
    for ((workload, metric), (unit, direction, by_column)) in groups {
        let Some(base) = by_column.get(native.as_str()).and_then(|v| Summary::of(v)) else {
            continue;
        };
        let cells = columns
            .iter()
            .map(|c| {
                let summary = Summary::of(by_column.get(c.as_str())?)?;
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
            workload: workload.to_owned(),
            metric: metric.to_owned(),
            unit: unit.to_owned(),
            direction: direction.to_owned(),
            cells,
        });
    }
    Ok(Table1 { columns, rows })
}

/// Table 1 needs native as its baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Table 1 needs native runs as its baseline, and none of the bundles has ok native rows of the overall experiment")]
pub struct NoNative;

/// A score with its interval, as printed in a table cell.
pub fn score_text(score: f64, interval: RatioInterval, n: usize) -> String {
    match interval {
        RatioInterval::Bounded(lo, hi) => format!("{score:.3} [{lo:.3}, {hi:.3}] n={n}"),
        RatioInterval::Unbounded => format!("{score:.3} [unbounded] n={n}"),
        RatioInterval::TooFew => format!("{score:.3} n={n}"),
    }
}

/// The interval as (low, high, kind) fields of a record.
pub fn interval_fields(interval: RatioInterval) -> [Value; 3] {
    match interval {
        RatioInterval::Bounded(lo, hi) => [lo.into(), hi.into(), "fieller".into()],
        RatioInterval::Unbounded => [Value::Null, Value::Null, "unbounded".into()],
        RatioInterval::TooFew => [Value::Null, Value::Null, "none".into()],
    }
}

fn native_text(c: &Cell, unit: &str) -> String {
    let mean = c.summary.mean;
    match c.summary.ci {
        Some((lo, hi)) => format!(
            "1.000 (mean {mean:.4} [{lo:.4}, {hi:.4}] {unit}) n={}",
            c.summary.n
        ),
        None => format!("1.000 (mean {mean:.4} {unit}) n={}", c.summary.n),
    }
}

const FIELDS: &[&str] = &[
    "workload",
    "metric",
    "unit",
    "direction",
    "column",
    "n",
    "mean",
    "sd",
    "score",
    "ci_low",
    "ci_high",
    "interval",
    "median",
    "cv",
    "mean_ci_low",
    "mean_ci_high",
];

impl Table1 {
    /// The table as a renderable document.
    pub fn doc(&self) -> Doc {
        let mut header = vec!["Workload".to_owned(), "Metric".to_owned()];
        header.extend(self.columns.iter().cloned());
        let mut align = vec![Align::Left, Align::Left];
        align.extend(self.columns.iter().map(|_| Align::Right));
        let mut rows = Vec::new();
        let mut records = Vec::new();
        for row in &self.rows {
            let better = if row.direction == "lower" {
                "lower"
            } else {
                "higher"
            };
            let mut line = vec![
                row.workload.clone(),
                format!("{} ({}, {better} is better)", row.metric, row.unit),
            ];
            for (i, (column, cell)) in self.columns.iter().zip(&row.cells).enumerate() {
                let Some(c) = cell else {
                    line.push("—".into());
                    continue;
                };
                line.push(if i == 0 {
                    native_text(c, &row.unit)
                } else {
                    score_text(c.score, c.interval, c.summary.n)
                });
                let [lo, hi, kind] = interval_fields(c.interval);
                let (mlo, mhi) = c.summary.ci.unzip();
                records.push(vec![
                    row.workload.as_str().into(),
                    row.metric.as_str().into(),
                    row.unit.as_str().into(),
                    row.direction.as_str().into(),
                    column.as_str().into(),
                    c.summary.n.into(),
                    c.summary.mean.into(),
                    c.summary.sd.into(),
                    c.score.into(),
                    lo,
                    hi,
                    kind,
                    c.summary.median.into(),
                    (c.summary.n > 1).then(|| c.summary.cv()).into(),
                    mlo.into(),
                    mhi.into(),
                ]);
            }
            rows.push(line);
        }
        Doc {
            name: "table1".into(),
            title: TITLE.into(),
            header,
            align,
            rows,
            fields: FIELDS.iter().map(|f| (*f).to_owned()).collect(),
            records,
            notes: NOTES.iter().map(|n| (*n).to_owned()).collect(),
        }
    }
}
