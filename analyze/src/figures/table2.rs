//! Table 2 as a heat table: one row per stressor, a Stressed and a Normal
//! column per platform, cells colored by % degradation; DNR cells dark and
//! hatched, n/a cells marked as such.

use super::heat_table::{table2_columns, HeatCell, HeatTable};
use crate::table2::{State, Table2};

/// Figure title.
pub const TITLE: &str = "Table 2. Performance isolation";

/// Caption under the figure in the HTML report.
pub const CAPTION: &str =
    "Figure: Table 2 as a heat table, one row per stress test, Stressed and Normal VM per platform";

/// How to read the figure.
pub const NOTES: &[&str] = &[
    "Cell: % degradation of the good-response rate against the same guests' no-stress baseline; darker red is worse, blue is better than the baseline. Intervals and n are in the table.",
    "DNR (dark, hatched): a guest of that role did not return in at least one repetition, the worst possible result. n/a: no usable baseline (see the table's notes).",
];

/// Darkest color at 100% degradation (the good-response rate fell to 0).
const SATURATE_AT: f64 = 100.0;

/// One heat table per (workload, metric) of `t`: (file stem, figure). The
/// stem is `table2` when there is one, else `table2-<workload>-<metric>`.
pub fn heat_tables(t: &Table2) -> Vec<(String, HeatTable)> {
    let groups = t.groups();
    let single = groups.len() == 1;
    groups
        .into_iter()
        .map(|(workload, metric)| {
            let rows: Vec<_> = t
                .rows
                .iter()
                .filter(|r| r.workload == workload && r.metric == metric)
                .collect();
            let cells = rows
                .iter()
                .map(|r| {
                    r.cells
                        .iter()
                        .flat_map(|pair| pair.iter().map(|c| heat_cell(&c.state)))
                        .collect()
                })
                .collect();
            let stem = if single {
                "table2".to_owned()
            } else {
                format!("table2-{workload}-{metric}")
            };
            let figure = HeatTable {
                title: format!("{TITLE}: {workload}, {metric}"),
                caption: "Cells: % degradation against the no-stress baseline; higher is worse."
                    .into(),
                rows: rows.iter().map(|r| r.stressor.clone()).collect(),
                columns: table2_columns(&t.columns),
                cells,
                unit: "%".into(),
                saturate_at: SATURATE_AT,
            };
            (stem, figure)
        })
        .collect()
}

fn heat_cell(s: &State) -> HeatCell {
    match s {
        State::Value(d) => HeatCell::Value(d.percent),
        State::Dnr => HeatCell::Dnr,
        State::NotAvailable(_) => HeatCell::NotAvailable,
        State::Missing => HeatCell::Missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isolation::{IsoRow, Outcome};
    use crate::table2::from_rows;

    fn iso(column: &str, stressor: &str, guest: u32, outcome: Outcome) -> IsoRow {
        IsoRow {
            column: column.into(),
            workload: "web".into(),
            metric: "good_rate".into(),
            unit: "%".into(),
            direction: "higher".into(),
            stressor: stressor.into(),
            role: if guest == 1 { "stressed" } else { "normal" }.into(),
            repetition: 1,
            guest,
            outcome,
            bundle_id: "b1".into(),
            run: String::new(),
        }
    }

    #[test]
    fn cells_keep_value_dnr_and_not_available_apart() {
        use Outcome::{Dnr, Ok as V};
        let rows = [
            // KVM: baseline of both roles; Xen: of the normal guest only.
            iso("KVM", "none", 1, V(100.0)),
            iso("KVM", "none", 2, V(100.0)),
            iso("Xen", "none", 2, V(100.0)),
            iso("KVM", "cpu", 1, V(75.0)),
            iso("KVM", "cpu", 2, Dnr),
            iso("Xen", "cpu", 1, V(75.0)),
            iso("Xen", "cpu", 2, V(110.0)),
        ];
        let figures = heat_tables(&from_rows(&rows));
        let [(stem, heat)] = figures.as_slice() else {
            panic!("one figure expected, got {}", figures.len());
        };
        assert_eq!(stem, "table2");
        assert_eq!(heat.rows, ["cpu"]);
        let cells = &heat.cells[0];
        assert_eq!(cells[1..3], [HeatCell::Dnr, HeatCell::NotAvailable]);
        // 75 / 100: 25% worse; 110 / 100: 10% better, kept negative.
        for (cell, want) in [(cells[0], 25.0), (cells[3], -10.0)] {
            let HeatCell::Value(v) = cell else {
                panic!("a value expected, got {cell:?}");
            };
            assert!((v - want).abs() < 1e-9, "{v} != {want}");
        }
        let svg = crate::figures::svg(heat).expect("svg");
        assert!(svg.contains("n/a: no usable baseline"));
    }
}
