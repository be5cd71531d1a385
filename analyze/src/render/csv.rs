//! CSV: one line per (row, column), every number in its own field.

use crate::stats::RatioInterval;
use crate::table1::Table1;

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn num(v: Option<f64>) -> String {
    v.map(|v| format!("{v}")).unwrap_or_default()
}

pub fn table1(t: &Table1) -> String {
    let mut out = String::from(
        "workload,metric,unit,direction,column,n,mean,sd,score,ci_low,ci_high,interval\n",
    );
    for row in &t.rows {
        for (column, cell) in t.columns.iter().zip(&row.cells) {
            let Some(c) = cell else { continue };
            let (lo, hi, kind) = match c.interval {
                RatioInterval::Bounded(lo, hi) => (Some(lo), Some(hi), "fieller"),
                RatioInterval::Unbounded => (None, None, "unbounded"),
                RatioInterval::TooFew => (None, None, "none"),
            };
            let fields = [
                field(&row.workload),
                field(&row.metric),
                field(&row.unit),
                field(&row.direction),
                field(column),
                c.summary.n.to_string(),
                num(Some(c.summary.mean)),
                num(Some(c.summary.sd)),
                num(Some(c.score)),
                num(lo),
                num(hi),
                kind.to_owned(),
            ];
            out.push_str(&fields.join(","));
            out.push('\n');
        }
    }
    out
}
