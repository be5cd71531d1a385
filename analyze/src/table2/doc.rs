//! Table 2 as a renderable document: rounded cells for Markdown and LaTeX,
//! tidy records (one per platform, stressor and role) for CSV and JSON.

use super::{Cell, Row, State, Table2, ROLES};
use crate::render::{Align, Doc, Value};
use crate::stats::RatioInterval;
use crate::table1::interval_fields;

/// Notes printed under every Table 2 (cells that need one add their own).
pub const NOTES: &[&str] = &[
    "Cell: % degradation of the good-response rate in the stress phase against the same guest(s)' baseline phase (stressor none) on the same platform, from the same bundles: (1 - phase mean / baseline mean) × 100. Higher is worse; a negative value (better than the baseline) is shown as is.",
    "Stressed VM: guest 1, which runs the stress test (guest 1 in the baseline too). Normal VM: the other guests, pooled per repetition (each repetition's value is the mean over the normal guests that returned ok), then averaged over repetitions. n: repetitions of the phase / of the baseline.",
    "Brackets: 95% interval of the degradation, mapped from Fieller's interval of the ratio of means (Fieller 1954, Welch-Satterthwaite df; as in Table 1); 'unbounded' when the data cannot bound it; none for n = 1.",
    "DNR (did not return): a guest of that role crashed, hung or stopped answering in at least one repetition of the phase; the worst possible degradation, never averaged as 0. n/a: no usable baseline or phase value (the reason in a note below). —: not measured.",
    "TCG and emulated-host columns come from software emulation: they are not hardware numbers.",
];

const FIELDS: &[&str] = &[
    "workload",
    "metric",
    "unit",
    "stressor",
    "column",
    "role",
    "status",
    "degradation",
    "ci_low",
    "ci_high",
    "interval",
    "ratio",
    "phase_mean",
    "phase_n",
    "baseline_mean",
    "baseline_n",
    "guests",
    "dnr",
    "failed",
    "reason",
    "bundle_ids",
];

/// A cell as printed in Markdown and LaTeX.
pub fn cell_text(c: &Cell) -> String {
    match &c.state {
        State::Value(d) => {
            let n = format!("n={}/{}", d.phase.n, d.baseline.n);
            match d.interval {
                RatioInterval::Bounded(lo, hi) => {
                    format!("{:.2} [{lo:.2}, {hi:.2}] {n}", d.percent)
                }
                RatioInterval::Unbounded => format!("{:.2} [unbounded] {n}", d.percent),
                RatioInterval::TooFew => format!("{:.2} {n}", d.percent),
                RatioInterval::Undefined => {
                    format!("{:.2} [undefined: zero variance] {n}", d.percent)
                }
            }
        }
        State::Dnr => "DNR".into(),
        State::NotAvailable(_) => "n/a".into(),
        State::Missing => "—".into(),
    }
}

/// The status field of a record.
fn status(s: &State) -> &'static str {
    match s {
        State::Value(_) => "ok",
        State::Dnr => "DNR",
        State::NotAvailable(_) => "n/a",
        State::Missing => "missing",
    }
}

fn record(row: &Row, column: &str, role: &str, c: &Cell) -> Vec<Value> {
    let d = match &c.state {
        State::Value(d) => Some(d),
        _ => None,
    };
    let [lo, hi, kind] = d.map_or([Value::Null, Value::Null, Value::Null], |d| {
        interval_fields(d.interval)
    });
    vec![
        row.workload.as_str().into(),
        row.metric.as_str().into(),
        row.unit.as_str().into(),
        row.stressor.as_str().into(),
        column.into(),
        role.into(),
        status(&c.state).into(),
        d.map(|d| d.percent).into(),
        lo,
        hi,
        kind,
        d.map(|d| d.ratio).into(),
        d.map(|d| d.phase.mean).into(),
        d.map(|d| d.phase.n).into(),
        d.map(|d| d.baseline.mean).into(),
        d.map(|d| d.baseline.n).into(),
        c.guests.into(),
        c.dnr.into(),
        c.failed.into(),
        match &c.state {
            State::NotAvailable(why) => why.to_string().into(),
            _ => Value::Null,
        },
        c.bundles.join(" ").into(),
    ]
}

impl Table2 {
    /// The table as a renderable document.
    pub fn doc(&self) -> Doc {
        let groups = self.groups();
        let mut header = vec!["Stressor".to_owned()];
        let mut align = vec![Align::Left];
        for column in &self.columns {
            for (_, name) in ROLES {
                header.push(format!("{column}: {name}"));
                align.push(Align::Right);
            }
        }
        let mut rows = Vec::new();
        let mut records = Vec::new();
        let mut notes: Vec<String> = NOTES.iter().map(|n| (*n).to_owned()).collect();
        if self.rows.iter().any(|r| r.direction == "lower") {
            notes.push("Lower-is-better metrics: (phase mean / baseline mean - 1) × 100, so higher is still worse.".into());
        }
        for row in &self.rows {
            let label = if groups.len() > 1 {
                format!("{} ({}): {}", row.workload, row.metric, row.stressor)
            } else {
                row.stressor.clone()
            };
            let mut line = vec![label];
            for (column, pair) in self.columns.iter().zip(&row.cells) {
                for ((role, name), c) in ROLES.iter().zip(pair) {
                    line.push(cell_text(c));
                    if c.state == State::Missing {
                        continue;
                    }
                    records.push(record(row, column, role, c));
                    if let State::NotAvailable(why) = &c.state {
                        notes.push(format!("n/a, {column}, {name}, {}: {why}.", row.stressor));
                    }
                }
            }
            rows.push(line);
        }
        if let [(workload, metric)] = groups.as_slice() {
            let unit = self.rows.first().map_or("", |r| r.unit.as_str());
            notes.insert(0, format!("Workload {workload}, metric {metric} ({unit})."));
        }
        notes.extend(self.warnings.iter().map(|w| format!("Warning: {w}.")));
        Doc {
            name: "table2".into(),
            title: super::TITLE.into(),
            header,
            align,
            rows,
            fields: FIELDS.iter().map(|f| (*f).to_owned()).collect(),
            records,
            notes,
        }
    }
}
