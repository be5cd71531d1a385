//! Table 1 as grouped bars: one group per (workload, metric) row, one bar per
//! platform column, the score with its 95% interval, a line at native = 1.0.

use super::assign_colors;
use super::grouped_bars::{Bar, BarGroup, BarSeries, GroupedBars};
use crate::stats::RatioInterval;
use crate::table1::{Cell, Table1};

/// Figure title, also used as the HTML caption.
pub const TITLE: &str = "Table 1. Overall performance normalized to native";

/// Caption under the figure in the HTML report.
pub const CAPTION: &str =
    "Figure: Table 1 as bars, one group per workload metric, one bar per platform (figures/table1.svg, .png).";

/// How to read the figure.
pub const NOTES: &[&str] = &[
    "Bar: the platform's score relative to native (higher is better; lower-is-better metrics are inverted as in the table). Dashed line: native = 1.0.",
    "Whisker: the 95% Fieller interval of the score; on native's bar, native's own 95% Student-t interval relative to its mean. No whisker: one repetition, or an interval the data cannot bound (the label says which).",
    "\"no data\": the platform has no ok value for that metric.",
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
                bars: row
                    .cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        c.as_ref()
                            .map(|c| if i == 0 { native_bar(c, lower) } else { bar(c) })
                    })
                    .collect(),
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

fn bar(c: &Cell) -> Bar {
    let (interval, text) = match c.interval {
        RatioInterval::Bounded(lo, hi) => (Some((lo, hi)), format!("{:.3}", c.score)),
        RatioInterval::Unbounded => (None, format!("{:.3} (interval unbounded)", c.score)),
        RatioInterval::TooFew => (
            None,
            format!("{:.3} (n={}, no interval)", c.score, c.summary.n),
        ),
    };
    Bar {
        value: c.score.max(0.0),
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
