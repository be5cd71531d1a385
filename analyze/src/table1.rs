//! Table 1: overall performance of each platform normalized to native.
//!
//! For every (workload, metric) of the `overall` experiment, a platform's
//! score is its mean over native's mean for higher-is-better metrics, and
//! native's mean over its mean for lower-is-better ones, so that, as in the
//! paper, higher is always better and native is 1.000. Each score carries
//! its n and a 95% Fieller interval (see `stats::ratio`).
//!
//! Every cell says what it is, and nothing is dropped without a note:
//! native's own cell is 1 by definition and carries only its mean's
//! Student-t interval; a score needs both means positive (else the cell
//! reads "n/a: native mean is 0" and the reason is in the records); a
//! platform whose runs all failed reads "no ok value (2 failed)", which is
//! not "—" (no row at all: not measured); a workload without any ok native
//! value cannot be normalized and is named in the notes.

use std::collections::BTreeMap;

use anyhow::Result;
use polars::prelude::*;

use crate::frame::column_label;
use crate::render::{Align, Doc, Value};
use crate::samples::{self, Sample};
use crate::stats::ratio::{positive_means, Refusal};
use crate::stats::{fieller, RatioInterval, Summary};

/// Caption of Table 1 (in Markdown it follows "Table 1."; LaTeX numbers
/// its tables itself).
pub const TITLE: &str = "Table 1. Overall performance normalized to native";

/// Notes printed under every Table 1.
pub const NOTES: &[&str] = &[
    "Scores are normalized to native (native = 1.000); for lower-is-better metrics the ratio is inverted (native / platform) so that higher is always better, as in the paper.",
    "Brackets: 95% confidence interval of the ratio of means by Fieller's theorem (Fieller 1954) with Welch-Satterthwaite degrees of freedom; 'unbounded' when the data cannot bound it; 'undefined' when both samples have zero variance. n: repetitions with status ok.",
    "Native cell: 1 by definition; beside it native's own mean with its 95% Student-t interval.",
    "n/a: a ratio score needs positive means; the reason is in the cell. 'no ok value': the platform ran the workload but every run failed or did not return (DNR). —: not measured.",
    "TCG and emulated-host columns come from software emulation: they are not hardware numbers.",
];

/// What a measured cell's score is.
#[derive(Debug, Clone, PartialEq)]
pub enum Score {
    /// Native's own cell: 1 by definition, no ratio interval.
    Native,
    /// Native-normalized score, higher is better, with its interval.
    Ratio { score: f64, interval: RatioInterval },
    /// No score: a mean is zero, negative or not finite.
    Refused(Refusal),
}

/// A platform with ok values on one row.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub summary: Summary,
    pub score: Score,
    /// Runs that failed or did not return beside the ok ones.
    pub failed: usize,
    pub dnr: usize,
}

impl Cell {
    /// The score as a number (1 for native), when there is one.
    pub fn value(&self) -> Option<f64> {
        match self.score {
            Score::Native => Some(1.0),
            Score::Ratio { score, .. } => Some(score),
            Score::Refused(_) => None,
        }
    }
}

/// One cell of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// No row of this platform for the workload's metric.
    NotMeasured,
    /// Rows, but none ok: every run failed or did not return.
    NoOkValue {
        failed: usize,
        dnr: usize,
    },
    Measured(Cell),
}

impl Entry {
    pub fn cell(&self) -> Option<&Cell> {
        match self {
            Entry::Measured(c) => Some(c),
            _ => None,
        }
    }
}

/// One row: a workload's metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub workload: String,
    pub metric: String,
    pub unit: String,
    pub direction: String,
    /// One per column.
    pub cells: Vec<Entry>,
}

/// The table.
#[derive(Debug, Clone, PartialEq)]
pub struct Table1 {
    /// Column labels; the first is native.
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    /// Workload metrics left out, each with why ("no ok native value").
    pub dropped: Vec<String>,
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
    // (workload, metric) -> unit, direction, column -> sample
    type Group<'a> = (&'a str, &'a str, BTreeMap<&'a str, &'a Sample>);
    let mut groups: BTreeMap<(&str, &str), Group<'_>> = BTreeMap::new();
    let mut columns: Vec<String> = Vec::new();
    for (key, sample) in all {
        if key.experiment != "overall" || !key.condition.is_empty() {
            continue;
        }
        if !columns.contains(&key.column) {
            columns.push(key.column.clone());
        }
        groups
            .entry((&key.workload, &key.metric))
            .or_insert_with(|| (&sample.unit, &sample.direction, BTreeMap::new()))
            .2
            .insert(&key.column, sample);
    }
    let native = native_column();
    let native_ok = groups.values().any(|g| {
        g.2.get(native.as_str())
            .is_some_and(|s| !s.values.is_empty())
    });
    if !native_ok {
        return Err(NoNative);
    }
    columns.retain(|c| c != &native);
    columns.sort();
    columns.insert(0, native.clone());

    let mut rows = Vec::new();
    let mut dropped = Vec::new();
    for ((workload, metric), (unit, direction, by_column)) in groups {
        let base_sample = by_column.get(native.as_str());
        let Some(base) = base_sample.and_then(|s| Summary::of(&s.values)) else {
            let on: Vec<&str> = by_column.keys().copied().collect();
            let why = match base_sample {
                Some(s) => format!(
                    "native ran it but has no ok value ({} failed, {} DNR)",
                    s.failed, s.dnr
                ),
                None => "native did not measure it".to_owned(),
            };
            dropped.push(format!(
                "{workload} / {metric}: not in the table, {why}; measured on {}",
                on.join(", ")
            ));
            continue;
        };
        let cells = columns
            .iter()
            .map(|c| {
                let Some(sample) = by_column.get(c.as_str()) else {
                    return Entry::NotMeasured;
                };
                let Some(summary) = Summary::of(&sample.values) else {
                    return Entry::NoOkValue {
                        failed: sample.failed,
                        dnr: sample.dnr,
                    };
                };
                let score = if c == &native {
                    Score::Native
                } else {
                    score(&base, &summary, c, direction == "lower")
                };
                Entry::Measured(Cell {
                    summary,
                    score,
                    failed: sample.failed,
                    dnr: sample.dnr,
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
    Ok(Table1 {
        columns,
        rows,
        dropped,
    })
}

/// A platform's score against native, or why there is none.
fn score(native: &Summary, platform: &Summary, column: &str, lower: bool) -> Score {
    if let Err(why) = positive_means([(native.mean, "native"), (platform.mean, column)]) {
        return Score::Refused(why);
    }
    let (score, interval) = if lower {
        (native.mean / platform.mean, fieller(native, platform))
    } else {
        (platform.mean / native.mean, fieller(platform, native))
    };
    Score::Ratio { score, interval }
}

/// Table 1 needs native as its baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Table 1 needs native runs as its baseline, and none of the bundles has ok native rows of the overall experiment")]
pub struct NoNative;

/// An interval as printed after a ratio: ` [lo, hi]`, ` [unbounded]`,
/// ` [undefined: zero variance]`, or nothing for n = 1.
pub fn interval_text(interval: RatioInterval, digits: usize) -> String {
    match interval {
        RatioInterval::Bounded(lo, hi) => format!("[{lo:.digits$}, {hi:.digits$}]"),
        RatioInterval::Unbounded => "[unbounded]".into(),
        RatioInterval::Undefined => "[undefined: zero variance]".into(),
        RatioInterval::TooFew => String::new(),
    }
}

/// A score with its interval, as printed in a table cell: the score on the
/// first line, the interval and n on the second (LaTeX's compact form
/// stacks them; Markdown and the full form print one line).
pub fn score_text(score: f64, interval: RatioInterval, n: usize) -> String {
    let i = interval_text(interval, 3);
    if i.is_empty() {
        format!("{score:.3}\nn={n}")
    } else {
        format!("{score:.3}\n{i} n={n}")
    }
}

/// The interval as (low, high, kind) fields of a record.
pub fn interval_fields(interval: RatioInterval) -> [Value; 3] {
    match interval {
        RatioInterval::Bounded(lo, hi) => [lo.into(), hi.into(), "fieller".into()],
        RatioInterval::Unbounded => [Value::Null, Value::Null, "unbounded".into()],
        RatioInterval::Undefined => [Value::Null, Value::Null, "undefined".into()],
        RatioInterval::TooFew => [Value::Null, Value::Null, "none".into()],
    }
}

fn native_text(c: &Cell, unit: &str) -> String {
    let mean = c.summary.mean;
    let d = mean_digits(mean);
    match c.summary.ci {
        Some((lo, hi)) => format!(
            "1.000\n(mean {mean:.d$} {unit},\n[{lo:.d$}, {hi:.d$}]) n={}",
            c.summary.n
        ),
        None => format!("1.000\n(mean {mean:.d$} {unit}) n={}", c.summary.n),
    }
}

/// Decimals for a mean: four significant digits, at most four decimals.
fn mean_digits(v: f64) -> usize {
    let a = v.abs();
    if a >= 1000.0 {
        1
    } else if a >= 100.0 {
        2
    } else if a >= 10.0 {
        3
    } else {
        4
    }
}

/// The text of a cell.
fn entry_text(e: &Entry, unit: &str) -> String {
    match e {
        Entry::NotMeasured => "—".into(),
        Entry::NoOkValue { failed, dnr } => format!("no ok value\n({failed} failed, {dnr} DNR)"),
        Entry::Measured(c) => match &c.score {
            Score::Native => native_text(c, unit),
            Score::Ratio { score, interval } => score_text(*score, *interval, c.summary.n),
            Score::Refused(why) => {
                let text = why.to_string();
                match text.split_once(": ") {
                    Some((head, tail)) => format!("{head}:\n{tail}"),
                    None => text,
                }
            }
        },
    }
}

const FIELDS: &[&str] = &[
    "workload",
    "metric",
    "unit",
    "direction",
    "column",
    "status",
    "n",
    "failed",
    "dnr",
    "mean",
    "sd",
    "score",
    "ci_low",
    "ci_high",
    "interval",
    "reason",
    "median",
    "cv",
    "mean_ci_low",
    "mean_ci_high",
];

fn record(row: &Row, column: &str, e: &Entry) -> Vec<Value> {
    let mut r: Vec<Value> = vec![
        row.workload.as_str().into(),
        row.metric.as_str().into(),
        row.unit.as_str().into(),
        row.direction.as_str().into(),
        column.into(),
    ];
    match e {
        Entry::NotMeasured => {
            r.extend([
                "not-measured".into(),
                0usize.into(),
                0usize.into(),
                0usize.into(),
            ]);
            r.extend(std::iter::repeat_n(Value::Null, 6));
            r.push("not measured: no row of this platform".into());
            r.extend(std::iter::repeat_n(Value::Null, 4));
        }
        Entry::NoOkValue { failed, dnr } => {
            r.extend([
                "no-ok-value".into(),
                0usize.into(),
                (*failed).into(),
                (*dnr).into(),
            ]);
            r.extend(std::iter::repeat_n(Value::Null, 6));
            r.push("no ok value: every run failed or did not return".into());
            r.extend(std::iter::repeat_n(Value::Null, 4));
        }
        Entry::Measured(c) => {
            let s = &c.summary;
            let (status, score, [lo, hi, kind], reason) = match &c.score {
                Score::Native => (
                    "native",
                    Value::Num(1.0),
                    [Value::Null, Value::Null, "native".into()],
                    Value::Null,
                ),
                Score::Ratio { score, interval } => (
                    "ok",
                    Value::Num(*score),
                    interval_fields(*interval),
                    Value::Null,
                ),
                Score::Refused(why) => (
                    "n/a",
                    Value::Null,
                    [Value::Null, Value::Null, Value::Null],
                    why.to_string().into(),
                ),
            };
            let (mlo, mhi) = s.ci.unzip();
            r.extend([
                status.into(),
                s.n.into(),
                c.failed.into(),
                c.dnr.into(),
                s.mean.into(),
                s.sd.into(),
                score,
                lo,
                hi,
                kind,
                reason,
                s.median.into(),
                (s.n > 1 && s.mean != 0.0).then(|| s.cv()).into(),
                mlo.into(),
                mhi.into(),
            ]);
        }
    }
    r
}

impl Table1 {
    /// The table as a renderable document.
    pub fn doc(&self) -> Doc {
        let mut header = vec!["Workload".to_owned(), "Metric".to_owned()];
        header.extend(self.columns.iter().map(|c| stack_label(c)));
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
                format!("{}\n({}, {better} is better)", row.metric, row.unit),
            ];
            for (column, e) in self.columns.iter().zip(&row.cells) {
                line.push(entry_text(e, &row.unit));
                if *e != Entry::NotMeasured {
                    records.push(record(row, column, e));
                }
            }
            rows.push(line);
        }
        let mut notes: Vec<String> = NOTES.iter().map(|n| (*n).to_owned()).collect();
        notes.extend(self.dropped.iter().map(|d| format!("{d}.")));
        Doc {
            name: "table1".into(),
            title: TITLE.into(),
            header,
            align,
            rows,
            fields: FIELDS.iter().map(|f| (*f).to_owned()).collect(),
            records,
            notes,
        }
    }
}

/// A column label with its parenthesized part on a second line: "KVM
/// (TCG)" stacks in LaTeX's compact form and reads as one line elsewhere.
pub fn stack_label(label: &str) -> String {
    match label.split_once(" (") {
        Some((name, rest)) => format!("{name}\n({rest}"),
        None => label.to_owned(),
    }
}
