//! Markdown tables.

use std::fmt::Write;

use super::{score_text, TABLE1_NOTES};
use crate::table1::Table1;

pub fn table1(t: &Table1) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| Workload | Metric | {} |", t.columns.join(" | "));
    let _ = writeln!(out, "|---|---|{}", "---:|".repeat(t.columns.len()));
    for row in &t.rows {
        let arrow = if row.direction == "lower" {
            "lower is better"
        } else {
            "higher is better"
        };
        let mut line = format!(
            "| {} | {} ({}, {arrow}) |",
            row.workload, row.metric, row.unit
        );
        for (i, cell) in row.cells.iter().enumerate() {
            let text = match cell {
                None => "—".to_owned(),
                Some(c) if i == 0 => {
                    let mean = c.summary.mean;
                    match c.summary.ci {
                        Some((lo, hi)) => format!(
                            "1.000 (mean {mean:.4} [{lo:.4}, {hi:.4}] {}) n={}",
                            row.unit, c.summary.n
                        ),
                        None => format!("1.000 (mean {mean:.4} {}) n={}", row.unit, c.summary.n),
                    }
                }
                Some(c) => score_text(c.score, c.interval, c.summary.n),
            };
            let _ = write!(line, " {text} |");
        }
        let _ = writeln!(out, "{line}");
    }
    out.push('\n');
    for note in TABLE1_NOTES {
        let _ = writeln!(out, "- {note}");
    }
    out
}
