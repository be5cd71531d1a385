//! The isolation experiment's rows (SPEC.md §7): in each phase (`stressor`
//! = `none` for the baseline, else the stress test one guest runs), every
//! guest's good-response rate, with its role (`stressed`: guest 1, also in
//! the baseline; `normal`: the others) and its status. A guest that
//! crashed, hung or stopped answering is `dnr` and has no value (never 0).
//!
//! [`Phase`] gathers the rows of one (platform column, workload, metric,
//! stressor, role) from a set of bundles into one value per repetition:
//! the mean over the guests of that role that returned ok in it. The
//! repetitions, not the guests, are the independent units: the guests of
//! one repetition share the host at the same moment.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use crate::frame::column_label;

/// The experiment name of isolation rows.
pub const EXPERIMENT: &str = "isolation";
/// The stressor of the baseline phase.
pub const BASELINE: &str = "none";

/// How a guest's phase ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    Ok(f64),
    Failed,
    Dnr,
}

/// One guest's value in one isolation phase.
#[derive(Debug, Clone, PartialEq)]
pub struct IsoRow {
    /// Platform column label (see [`column_label`]).
    pub column: String,
    pub workload: String,
    pub metric: String,
    pub unit: String,
    pub direction: String,
    pub stressor: String,
    /// `stressed` or `normal`.
    pub role: String,
    pub repetition: u32,
    pub guest: u32,
    pub outcome: Outcome,
    pub bundle_id: String,
    pub run: String,
}

/// Every isolation row of the combined frame that names its stressor and
/// role, in frame order.
pub fn rows(df: &DataFrame) -> PolarsResult<Vec<IsoRow>> {
    let s = |name: &str| df.column(name).and_then(|c| c.str().cloned());
    let (experiment, workload, metric, unit, direction) = (
        s("experiment")?,
        s("workload")?,
        s("metric")?,
        s("unit")?,
        s("direction")?,
    );
    let (platform, accel, stressor, role, status, bundle, run) = (
        s("platform")?,
        s("accel")?,
        s("stressor")?,
        s("role")?,
        s("status")?,
        s("bundle_id")?,
        s("run")?,
    );
    let u = |name: &str| df.column(name).and_then(|c| c.u32().cloned());
    let (repetition, guest) = (u("repetition")?, u("guest")?);
    let emulated = df.column("emulated")?.bool()?.clone();
    let value = df.column("value")?.f64()?.clone();
    let mut out = Vec::new();
    for i in 0..df.height() {
        if experiment.get(i) != Some(EXPERIMENT) {
            continue;
        }
        let (Some(p), Some(a), Some(st), Some(ro)) =
            (platform.get(i), accel.get(i), stressor.get(i), role.get(i))
        else {
            continue;
        };
        let outcome = match (status.get(i), value.get(i)) {
            (Some("ok"), Some(v)) => Outcome::Ok(v),
            (Some("dnr"), _) => Outcome::Dnr,
            _ => Outcome::Failed,
        };
        let text = |c: &StringChunked| c.get(i).unwrap_or_default().to_owned();
        out.push(IsoRow {
            column: column_label(p, a, emulated.get(i).unwrap_or(false)),
            workload: text(&workload),
            metric: text(&metric),
            unit: text(&unit),
            direction: text(&direction),
            stressor: st.to_owned(),
            role: ro.to_owned(),
            repetition: repetition.get(i).unwrap_or(1),
            guest: guest.get(i).unwrap_or(1),
            outcome,
            bundle_id: text(&bundle),
            run: text(&run),
        });
    }
    Ok(out)
}

/// The rows of one role in one phase, gathered by repetition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Phase {
    /// Per repetition (of any bundle): the mean over that role's guests
    /// that returned ok. A repetition where none did has no value.
    pub values: Vec<f64>,
    /// Distinct guests seen with this role.
    pub guests: usize,
    pub failed: usize,
    pub dnr: usize,
    /// Run folders of the dnr and failed rows.
    pub dnr_runs: Vec<String>,
    pub failed_runs: Vec<String>,
    pub bundles: BTreeSet<String>,
}

impl Phase {
    /// Gathers `rows` (all of one column, workload, metric, stressor and
    /// role); returns `None` when there are none.
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a IsoRow>) -> Option<Phase> {
        let mut by_rep: BTreeMap<(&str, u32), Vec<f64>> = BTreeMap::new();
        let mut guests = BTreeSet::new();
        let mut p = Phase::default();
        let mut any = false;
        for r in rows {
            any = true;
            guests.insert((r.bundle_id.as_str(), r.guest));
            p.bundles.insert(r.bundle_id.clone());
            let rep = by_rep
                .entry((r.bundle_id.as_str(), r.repetition))
                .or_default();
            match r.outcome {
                Outcome::Ok(v) => rep.push(v),
                Outcome::Failed => {
                    p.failed += 1;
                    p.failed_runs.push(r.run.clone());
                }
                Outcome::Dnr => {
                    p.dnr += 1;
                    p.dnr_runs.push(r.run.clone());
                }
            }
        }
        if !any {
            return None;
        }
        p.guests = guests.iter().map(|(_, g)| g).collect::<BTreeSet<_>>().len();
        p.values = by_rep
            .values()
            .filter(|v| !v.is_empty())
            .map(|v| v.iter().sum::<f64>() / v.len() as f64)
            .collect();
        Some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn row(rep: u32, guest: u32, outcome: Outcome) -> IsoRow {
        IsoRow {
            column: "KVM".into(),
            workload: "web".into(),
            metric: "good_rate".into(),
            unit: "%".into(),
            direction: "higher".into(),
            stressor: "cpu".into(),
            role: "normal".into(),
            repetition: rep,
            guest,
            outcome,
            bundle_id: "b1".into(),
            run: format!("runs/kvm/isolation/web/cpu/rep-{rep:02}/guest-{guest}"),
        }
    }

    #[test]
    fn one_value_per_repetition_mean_of_its_guests() {
        let rows = [
            row(1, 2, Outcome::Ok(90.0)),
            row(1, 3, Outcome::Ok(80.0)),
            row(1, 4, Outcome::Failed),
            row(2, 2, Outcome::Ok(70.0)),
            row(2, 3, Outcome::Ok(60.0)),
            row(2, 4, Outcome::Ok(50.0)),
            row(3, 2, Outcome::Failed),
        ];
        let p = Phase::of(&rows).expect("phase");
        // Repetition 3 has no ok guest: no value.
        assert_eq!(p.values, vec![85.0, 60.0]);
        assert_eq!((p.guests, p.failed, p.dnr), (3, 2, 0));
        assert_eq!(p.failed_runs.len(), 2);
        assert_eq!(p.bundles.len(), 1);
    }

    #[test]
    fn no_rows_no_phase() {
        assert_eq!(Phase::of(&[]), None);
    }
}
