//! Table 2: performance isolation, the paper's section 3.
//!
//! Rows are the stress tests in the paper's order (memory, fork, cpu, disk,
//! net-receive, net-send; only those present); each platform has two
//! columns, Stressed VM (guest 1, which runs the stress test) and Normal VM
//! (the other guests). A cell is the % degradation of the good-response
//! rate in that phase against the same guests' baseline phase (stressor
//! `none`) on the same platform, taken from the same bundles:
//! `(1 − phase mean / baseline mean) × 100` (`(ratio − 1) × 100` for a
//! lower-is-better metric). Negative: better than the baseline, kept as is.
//!
//! Means are over repetitions; for the normal guests each repetition first
//! gives the mean over the normal guests that returned ok
//! ([`crate::isolation::Phase`]). The interval is Fieller's interval of the
//! ratio (`stats::ratio`, as in Table 1) mapped through the same formula.
//!
//! DNR rules: a guest of the cell's role that did not return in any
//! repetition of the phase makes the cell DNR, the worst degradation, never
//! a number; a baseline with a DNR, or no baseline, makes it n/a with the
//! reason in the notes. Failed rows are excluded and listed as warnings.

use std::collections::BTreeSet;

use polars::prelude::*;

use crate::figures::heat_table::STRESSORS;
use crate::isolation::{self, IsoRow, Phase, BASELINE};
use crate::stats::{fieller, RatioInterval, Summary};

/// Caption of Table 2.
pub const TITLE: &str =
    "Table 2. Performance isolation: % degradation against the no-stress baseline";

/// The two roles, in column order, with their header names.
pub const ROLES: [(&str, &str); 2] = [("stressed", "Stressed VM"), ("normal", "Normal VM")];

/// Why a cell has no number although its phase was measured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    #[error("no baseline (stressor = none) for these guests in the bundle(s) of this phase")]
    NoBaseline,
    #[error("{dnr} baseline row(s) did not return (DNR): the guest failed without any stress")]
    BaselineDnr { dnr: usize },
    #[error("no ok baseline value ({failed} failed)")]
    NoOkBaseline { failed: usize },
    #[error("no ok value in this phase ({failed} failed)")]
    NoOkPhase { failed: usize },
    #[error("the baseline mean is 0: no relative degradation")]
    ZeroBaseline,
    #[error("the {which} mean is negative: a degradation needs non-negative rates")]
    Negative { which: &'static str },
}

/// A degradation with what it was computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Degradation {
    /// % degradation, higher is worse; negative when better than baseline.
    pub percent: f64,
    /// 95% interval of `percent` (from Fieller's interval of the ratio).
    pub interval: RatioInterval,
    /// Phase mean over baseline mean.
    pub ratio: f64,
    /// Per-repetition values of the phase and of the baseline.
    pub phase: Summary,
    pub baseline: Summary,
}

/// One cell of Table 2.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Value(Degradation),
    /// A guest of this role did not return in the phase.
    Dnr,
    NotAvailable(Unavailable),
    /// The phase has no row of this role on this platform.
    Missing,
}

/// A cell with its lineage.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub state: State,
    /// Guests of this role in the phase.
    pub guests: usize,
    /// Dnr and failed rows of the phase (failed ones are excluded).
    pub dnr: usize,
    pub failed: usize,
    /// Bundles of the phase and of its baseline.
    pub bundles: Vec<String>,
}

/// One stressor of one (workload, metric).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub workload: String,
    pub metric: String,
    pub unit: String,
    pub direction: String,
    pub stressor: String,
    /// Per column: [stressed, normal].
    pub cells: Vec<[Cell; 2]>,
}

/// The table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table2 {
    /// Platform column labels, sorted.
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    /// Failed rows left out, one line per phase and role.
    pub warnings: Vec<String>,
}

/// Builds Table 2 from the combined frame; `None` without isolation rows.
pub fn build(df: &DataFrame) -> PolarsResult<Option<Table2>> {
    let rows = isolation::rows(df)?;
    Ok((!rows.is_empty()).then(|| from_rows(&rows)))
}

/// Position of a stressor in the paper's order; unknown ones after it.
fn order(stressor: &str) -> (usize, &str) {
    let i = STRESSORS.iter().position(|s| *s == stressor);
    (i.unwrap_or(STRESSORS.len()), stressor)
}

/// Builds Table 2 from isolation rows.
pub fn from_rows(rows: &[IsoRow]) -> Table2 {
    let set = |f: fn(&IsoRow) -> &str| -> BTreeSet<&str> { rows.iter().map(f).collect() };
    let columns: Vec<String> = set(|r| &r.column).into_iter().map(str::to_owned).collect();
    let groups: BTreeSet<(&str, &str)> = rows
        .iter()
        .map(|r| (r.workload.as_str(), r.metric.as_str()))
        .collect();
    let mut warnings = BTreeSet::new();
    let mut out = Vec::new();
    for (workload, metric) in groups {
        let of_group: Vec<&IsoRow> = rows
            .iter()
            .filter(|r| r.workload == workload && r.metric == metric)
            .collect();
        let first = of_group[0];
        let mut stressors: Vec<&str> = of_group
            .iter()
            .map(|r| r.stressor.as_str())
            .filter(|s| *s != BASELINE)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        stressors.sort_by_key(|s| order(s));
        let lower = first.direction == "lower";
        for stressor in stressors {
            let cells = columns
                .iter()
                .map(|column| {
                    ROLES.map(|(role, _)| {
                        let pick = |st: &str| -> Vec<&IsoRow> {
                            of_group
                                .iter()
                                .copied()
                                .filter(|r| {
                                    &r.column == column && r.role == role && r.stressor == st
                                })
                                .collect()
                        };
                        let phase = Phase::of(pick(stressor));
                        // The baseline of the same guests, from the same bundles.
                        let baseline = phase.as_ref().and_then(|p| {
                            let same = pick(BASELINE);
                            Phase::of(same.into_iter().filter(|r| p.bundles.contains(&r.bundle_id)))
                        });
                        for (p, st) in [(&phase, stressor), (&baseline, BASELINE)] {
                            if let Some(p) = p.as_ref().filter(|p| p.failed > 0) {
                                warnings.insert(format!(
                                    "{column}, {workload}, stressor {st}, {role}: {} failed row(s) excluded ({})",
                                    p.failed,
                                    p.failed_runs.join(", ")
                                ));
                            }
                        }
                        cell(phase, baseline, lower)
                    })
                })
                .collect();
            out.push(Row {
                workload: workload.to_owned(),
                metric: metric.to_owned(),
                unit: first.unit.clone(),
                direction: first.direction.clone(),
                stressor: stressor.to_owned(),
                cells,
            });
        }
    }
    Table2 {
        columns,
        rows: out,
        warnings: warnings.into_iter().collect(),
    }
}

/// The cell of one role: DNR, n/a, or the degradation.
fn cell(phase: Option<Phase>, baseline: Option<Phase>, lower: bool) -> Cell {
    let Some(phase) = phase else {
        return Cell {
            state: State::Missing,
            guests: 0,
            dnr: 0,
            failed: 0,
            bundles: Vec::new(),
        };
    };
    let mut bundles = phase.bundles.clone();
    if let Some(b) = &baseline {
        bundles.extend(b.bundles.iter().cloned());
    }
    let state = state(&phase, baseline.as_ref(), lower);
    Cell {
        state,
        guests: phase.guests,
        dnr: phase.dnr,
        failed: phase.failed,
        bundles: bundles.into_iter().collect(),
    }
}

fn state(phase: &Phase, baseline: Option<&Phase>, lower: bool) -> State {
    let na = State::NotAvailable;
    if let Some(b) = baseline.filter(|b| b.dnr > 0) {
        return na(Unavailable::BaselineDnr { dnr: b.dnr });
    }
    // A DNR needs no baseline to be seen.
    if phase.dnr > 0 {
        return State::Dnr;
    }
    let Some(b) = baseline else {
        return na(Unavailable::NoBaseline);
    };
    let Some(base) = Summary::of(&b.values) else {
        return na(Unavailable::NoOkBaseline { failed: b.failed });
    };
    let Some(ph) = Summary::of(&phase.values) else {
        return na(Unavailable::NoOkPhase {
            failed: phase.failed,
        });
    };
    if base.mean == 0.0 {
        return na(Unavailable::ZeroBaseline);
    }
    for (mean, which) in [(base.mean, "baseline"), (ph.mean, "phase")] {
        if mean < 0.0 {
            return na(Unavailable::Negative { which });
        }
    }
    State::Value(degradation(ph, base, lower))
}

/// % degradation of `phase` against `baseline`, with the 95% interval
/// mapped from Fieller's interval of the ratio of means.
pub fn degradation(phase: Summary, baseline: Summary, lower: bool) -> Degradation {
    let ratio = phase.mean / baseline.mean;
    let to_percent = |r: f64| {
        if lower {
            (r - 1.0) * 100.0
        } else {
            (1.0 - r) * 100.0
        }
    };
    let interval = match fieller(&phase, &baseline) {
        RatioInterval::Bounded(lo, hi) => {
            let (a, b) = (to_percent(lo), to_percent(hi));
            RatioInterval::Bounded(a.min(b), a.max(b))
        }
        other => other,
    };
    Degradation {
        percent: to_percent(ratio),
        interval,
        ratio,
        phase,
        baseline,
    }
}

impl Table2 {
    /// Distinct (workload, metric) groups, in row order.
    pub fn groups(&self) -> Vec<(&str, &str)> {
        let mut out: Vec<(&str, &str)> = Vec::new();
        for r in &self.rows {
            let g = (r.workload.as_str(), r.metric.as_str());
            if !out.contains(&g) {
                out.push(g);
            }
        }
        out
    }
}

mod doc;
#[cfg(test)]
mod tests;
