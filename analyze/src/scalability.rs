//! The scalability experiment (the paper's section 4): for each N, N guests
//! started at once, each running the same workload. Every guest of every
//! run is one row here, with its status: a guest that crashed or hung is
//! `dnr` and has no value (never 0); one whose tool failed is `failed`.
//!
//! The summary per (platform, N) is the mean of the guests that completed,
//! with its 95% Student-t interval (`stats::Summary`), and the count of
//! guests that did not return beside it: the mean alone would hide them.

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::frame::column_label;
use crate::render::{fixed, Align, Doc, Value};
use crate::stats::Summary;

/// Caption of the per-guest table.
pub const TITLE: &str = "Scalability: each guest's result with N guests started at once";
/// Caption of the summary table.
pub const SUMMARY_TITLE: &str = "Scalability: mean over the guests that completed, per N";

/// How a guest ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GuestStatus {
    Ok,
    Failed,
    Dnr,
}

impl GuestStatus {
    pub fn name(self) -> &'static str {
        match self {
            GuestStatus::Ok => "ok",
            GuestStatus::Failed => "failed",
            GuestStatus::Dnr => "dnr",
        }
    }
}

/// One guest of one scalability run.
#[derive(Debug, Clone, PartialEq)]
pub struct GuestRow {
    /// Platform column label (see [`column_label`]).
    pub column: String,
    pub platform: String,
    pub accel: String,
    pub emulated: bool,
    pub workload: String,
    pub metric: String,
    pub unit: String,
    pub n_guests: u32,
    pub repetition: u32,
    pub guest: u32,
    pub status: GuestStatus,
    /// Only for `ok`.
    pub value: Option<f64>,
    pub bundle_id: String,
    pub run: String,
}

/// Every guest row of the scalability experiment, sorted by column,
/// workload, metric, N, repetition, guest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scalability {
    pub rows: Vec<GuestRow>,
}

/// One (column, workload, metric, N) of the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub column: String,
    pub workload: String,
    pub metric: String,
    pub unit: String,
    pub n_guests: u32,
    /// Ok values of every guest and repetition.
    pub values: Vec<f64>,
    pub failed: usize,
    pub dnr: usize,
}

impl Point {
    pub fn summary(&self) -> Option<Summary> {
        Summary::of(&self.values)
    }
}

/// Collects the scalability rows of the combined frame.
pub fn build(df: &DataFrame) -> PolarsResult<Scalability> {
    let s = |name: &str| df.column(name).and_then(|c| c.str().cloned());
    let (experiment, workload, metric, unit, platform, accel, status, bundle, run) = (
        s("experiment")?,
        s("workload")?,
        s("metric")?,
        s("unit")?,
        s("platform")?,
        s("accel")?,
        s("status")?,
        s("bundle_id")?,
        s("run")?,
    );
    let u = |name: &str| df.column(name).and_then(|c| c.u32().cloned());
    let (n_guests, repetition, guest) = (u("n_guests")?, u("repetition")?, u("guest")?);
    let emulated = df.column("emulated")?.bool()?.clone();
    let value = df.column("value")?.f64()?.clone();
    let mut rows = Vec::new();
    for i in 0..df.height() {
        if experiment.get(i) != Some("scalability") {
            continue;
        }
        let (Some(p), Some(a), Some(n), Some(g)) =
            (platform.get(i), accel.get(i), n_guests.get(i), guest.get(i))
        else {
            continue;
        };
        let em = emulated.get(i).unwrap_or(false);
        let st = match status.get(i) {
            Some("ok") => GuestStatus::Ok,
            Some("dnr") => GuestStatus::Dnr,
            _ => GuestStatus::Failed,
        };
        let v = value.get(i).filter(|_| st == GuestStatus::Ok);
        rows.push(GuestRow {
            column: column_label(p, a, em),
            platform: p.to_owned(),
            accel: a.to_owned(),
            emulated: em,
            workload: workload.get(i).unwrap_or_default().to_owned(),
            metric: metric.get(i).unwrap_or_default().to_owned(),
            unit: unit.get(i).unwrap_or_default().to_owned(),
            n_guests: n,
            repetition: repetition.get(i).unwrap_or(1),
            guest: g,
            // An ok row without a value cannot be drawn: count it failed.
            status: if st == GuestStatus::Ok && v.is_none() {
                GuestStatus::Failed
            } else {
                st
            },
            value: v,
            bundle_id: bundle.get(i).unwrap_or_default().to_owned(),
            run: run.get(i).unwrap_or_default().to_owned(),
        });
    }
    rows.sort_by(|a, b| {
        (
            &a.column,
            &a.workload,
            &a.metric,
            a.n_guests,
            a.repetition,
            a.guest,
        )
            .cmp(&(
                &b.column,
                &b.workload,
                &b.metric,
                b.n_guests,
                b.repetition,
                b.guest,
            ))
    });
    Ok(Scalability { rows })
}

impl Scalability {
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Platform column labels, in row order.
    pub fn columns(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in &self.rows {
            if !out.contains(&r.column) {
                out.push(r.column.clone());
            }
        }
        out
    }

    /// The summary points, by (column, workload, metric, N).
    pub fn points(&self) -> Vec<Point> {
        let mut by: BTreeMap<(&str, &str, &str, u32), Point> = BTreeMap::new();
        for r in &self.rows {
            let p = by
                .entry((&r.column, &r.workload, &r.metric, r.n_guests))
                .or_insert_with(|| Point {
                    column: r.column.clone(),
                    workload: r.workload.clone(),
                    metric: r.metric.clone(),
                    unit: r.unit.clone(),
                    n_guests: r.n_guests,
                    values: Vec::new(),
                    failed: 0,
                    dnr: 0,
                });
            match (r.status, r.value) {
                (GuestStatus::Ok, Some(v)) => p.values.push(v),
                (GuestStatus::Dnr, _) => p.dnr += 1,
                _ => p.failed += 1,
            }
        }
        by.into_values().collect()
    }

    /// The per-guest table: what each guest gave, DNR printed as DNR.
    pub fn doc(&self) -> Doc {
        let rows = self
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.column.clone(),
                    r.workload.clone(),
                    format!("{} ({})", r.metric, r.unit),
                    r.n_guests.to_string(),
                    r.repetition.to_string(),
                    r.guest.to_string(),
                    status_text(r.status).to_owned(),
                    match r.status {
                        GuestStatus::Ok => fixed(r.value, 3),
                        GuestStatus::Dnr => "DNR".into(),
                        GuestStatus::Failed => "failed".into(),
                    },
                ]
            })
            .collect();
        let records = self
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.platform.as_str().into(),
                    r.accel.as_str().into(),
                    Value::Bool(r.emulated),
                    r.workload.as_str().into(),
                    r.metric.as_str().into(),
                    r.unit.as_str().into(),
                    Value::Int(r.n_guests.into()),
                    Value::Int(r.repetition.into()),
                    Value::Int(r.guest.into()),
                    r.status.name().into(),
                    r.value.into(),
                    r.bundle_id.as_str().into(),
                    r.run.as_str().into(),
                ]
            })
            .collect();
        Doc {
            name: "scalability".into(),
            title: TITLE.into(),
            header: [
                "Platform", "Workload", "Metric", "N", "Rep", "Guest", "Status", "Value",
            ]
            .map(String::from)
            .to_vec(),
            align: vec![
                Align::Left,
                Align::Left,
                Align::Left,
                Align::Right,
                Align::Right,
                Align::Right,
                Align::Left,
                Align::Right,
            ],
            rows,
            fields: [
                "platform",
                "accel",
                "emulated",
                "workload",
                "metric",
                "unit",
                "n_guests",
                "repetition",
                "guest",
                "status",
                "value",
                "bundle_id",
                "run",
            ]
            .map(String::from)
            .to_vec(),
            records,
            notes: NOTES.iter().map(|n| n.to_string()).collect(),
        }
    }

    /// The summary table: per platform and N, the mean over the guests
    /// that completed, its interval, and how many did not.
    pub fn summary_doc(&self) -> Doc {
        let mut rows = Vec::new();
        let mut records = Vec::new();
        for p in self.points() {
            let s = p.summary();
            let mean = s.as_ref().map(|s| s.mean);
            let ci = s.as_ref().and_then(|s| s.ci);
            rows.push(vec![
                p.column.clone(),
                p.workload.clone(),
                format!("{} ({})", p.metric, p.unit),
                p.n_guests.to_string(),
                fixed(mean, 3),
                ci.map_or("—".into(), |(lo, hi)| format!("[{lo:.3}, {hi:.3}]")),
                p.values.len().to_string(),
                p.dnr.to_string(),
                p.failed.to_string(),
            ]);
            records.push(vec![
                p.column.as_str().into(),
                p.workload.as_str().into(),
                p.metric.as_str().into(),
                p.unit.as_str().into(),
                Value::Int(p.n_guests.into()),
                mean.into(),
                ci.map(|c| c.0).into(),
                ci.map(|c| c.1).into(),
                p.values.len().into(),
                p.dnr.into(),
                p.failed.into(),
            ]);
        }
        Doc {
            name: "scalability_summary".into(),
            title: SUMMARY_TITLE.into(),
            header: [
                "Platform", "Workload", "Metric", "N", "Mean", "95% CI", "n ok", "DNR", "Failed",
            ]
            .map(String::from)
            .to_vec(),
            align: vec![
                Align::Left,
                Align::Left,
                Align::Left,
                Align::Right,
                Align::Right,
                Align::Right,
                Align::Right,
                Align::Right,
                Align::Right,
            ],
            rows,
            fields: [
                "column", "workload", "metric", "unit", "n_guests", "mean", "ci_low", "ci_high",
                "n_ok", "dnr", "failed",
            ]
            .map(String::from)
            .to_vec(),
            records,
            notes: vec![
                "Mean and 95% Student-t interval over every guest and repetition that completed; DNR guests (crashed or hung) have no value and are counted, never averaged as 0.".into(),
            ],
        }
    }
}

fn status_text(s: GuestStatus) -> &'static str {
    match s {
        GuestStatus::Ok => "ok",
        GuestStatus::Failed => "failed",
        GuestStatus::Dnr => "DNR",
    }
}

/// Notes under the per-guest table.
pub const NOTES: &[&str] = &[
    "N guests were started at once, each running the same workload run; one row per guest.",
    "DNR (did not return): the guest crashed, hung or vanished before reporting; it has no value. failed: the tool ran and erred.",
    "TCG rows come from software emulation: they are not hardware numbers.",
];
