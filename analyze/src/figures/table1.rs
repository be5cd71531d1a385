//! Table 1 as grouped bars: one group per (workload, metric) row, one bar per
//! platform column, the score with its 95% interval, a line at native = 1.0.

use super::assign_colors;
use super::grouped_bars::{Bar, BarGroup, BarSeries, GroupedBars, Slot};
use crate::stats::RatioInterval;
use crate::table1::{Cell, Entry, Score, Table1};

/// Figure title, also used as the HTML caption.
pub const TITLE: &str = "Table 1. Overall performance normalized to native";

/// Caption under the figure in the HTML report.
pub const CAPTION: &str =
    "Figure: Table 1 as bars, one group per workload metric, one bar per platform (figures/table1.svg, .png).";

/// How to read the figure.
pub const NOTES: &[&str] = &[
    "Bar: the platform's score relative to native (higher is better; lower-is-better metrics are inverted as in the table). Dashed line: native = 1.0.",
    "Whisker: the 95% Fieller interval of the score; on native's bar, native's own 95% Student-t interval relative to its mean. No whisker: one repetition, or an interval the data cannot bound (the label says which).",
    "No bar: \"not measured\", \"no ok value\" (every run failed or did not return), or \"n/a\" with the reason a score cannot be given (a mean of 0 or below); never a bar of 0.",
];

/// The grouped-bar figure of `t`.
pub fn bars(t: &Table1) -> GroupedBars {
    let groups = t
        .rows
        .iter()
        .map(|row| {
            let lower = row.direction == "lower";
            let better = if lower { "lower" } else { "higher" };
            BarGroup {
                label: row.workload.clone(),
                detail: Some(format!("{} ({}), {better} is better", row.metric, row.unit)),
                bars: row.cells.iter().map(|e| slot(e, lower)).collect(),
            }
        })
        .collect();
    GroupedBars {
        title: TITLE.into(),
        value_label: "score relative to native (higher is better)".into(),
        series: t
            .columns
            .iter()
            .zip(assign_colors(&t.columns))
            .map(|(name, color)| BarSeries {
                name: name.clone(),
                color,
            })
            .collect(),
        groups,
        reference: Some((1.0, "native = 1.0".into())),
        interval_label: Some("95% interval (Fieller; native: Student t)".into()),
    }
}

fn slot(e: &Entry, lower: bool) -> Slot {
    match e {
        Entry::NotMeasured => Slot::Empty("not measured".into()),
        Entry::NoOkValue { failed, dnr } => {
            Slot::Empty(format!("no ok value ({failed} failed, {dnr} DNR)"))
        }
        Entry::Measured(c) => match &c.score {
            Score::Native => Slot::Bar(native_bar(c, lower)),
            Score::Refused(why) => Slot::Empty(why.to_string()),
            Score::Ratio { score, interval } => Slot::Bar(bar(*score, *interval, c.summary.n)),
        },
    }
}

fn bar(score: f64, interval: RatioInterval, n: usize) -> Bar {
    let (interval, text) = match interval {
        RatioInterval::Bounded(lo, hi) => (Some((lo, hi)), format!("{score:.3}")),
        RatioInterval::Unbounded => (None, format!("{score:.3} (interval unbounded)")),
        RatioInterval::Undefined => (None, format!("{score:.3} (zero variance, no interval)")),
        RatioInterval::TooFew => (None, format!("{score:.3} (n={n}, no interval)")),
    };
    Bar {
        value: score,
        interval,
        text,
    }
}

/// Native is 1.0 by definition; its whisker is its own mean's t-interval
/// relative to the mean (inverted for lower-is-better metrics, as the
/// scores are), so the reader sees native's run-to-run spread.
fn native_bar(c: &Cell, lower: bool) -> Bar {
    let m = c.summary.mean;
    let interval = c.summary.ci.and_then(|(lo, hi)| {
        if m <= 0.0 {
            None
        } else if lower {
            (lo > 0.0).then(|| (m / hi, m / lo))
        } else {
            Some((lo / m, hi / m))
        }
    });
    let text = match interval {
        Some(_) => "1.000".to_owned(),
        None => format!("1.000 (n={}, no interval)", c.summary.n),
    };
    Bar {
        value: 1.0,
        interval,
        text,
    }
}
