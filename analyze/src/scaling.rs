//! Scaling curves with statistics: per platform, workload and metric of the
//! scalability experiment, the cost of one more guest (slope against N with
//! its 95% interval) and the fitted Universal Scalability Law
//! (`stats::usl`), then every pair of platforms compared by their slopes.
//! DNR and failed guests have no value: they are excluded from the fits
//! and counted in the table.

use std::collections::BTreeMap;

use crate::render::{Align, Doc, Value};
use crate::scalability::{GuestStatus, Scalability};
use crate::stats::usl::{self, Estimate, Slope, UslFit};
use crate::stats::RatioInterval;
use crate::table1::interval_text;

/// Caption of the scaling table.
pub const TITLE: &str = "Scaling: cost of one more guest and the fitted scalability law";

/// One (platform, workload, metric) curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    pub column: String,
    pub workload: String,
    pub metric: String,
    pub unit: String,
    /// The N measured (any status), sorted.
    pub ns: Vec<u32>,
    /// Completed guests' (N, value).
    pub points: Vec<(f64, f64)>,
    pub dnr: usize,
    pub failed: usize,
    /// `None` with fewer than two distinct N among completed guests.
    pub slope: Option<Slope>,
    pub model: Option<UslFit>,
}

/// Two platforms' slopes compared on one workload metric.
#[derive(Debug, Clone, PartialEq)]
pub struct SlopeDifference {
    pub a: String,
    pub b: String,
    pub workload: String,
    pub metric: String,
    pub unit: String,
    /// `slope(a) - slope(b)` with its 95% interval.
    pub difference: (f64, f64, f64),
}

/// Every curve and comparison.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scaling {
    pub curves: Vec<Curve>,
    pub differences: Vec<SlopeDifference>,
}

/// Fits every curve of `s`.
pub fn build(s: &Scalability) -> Scaling {
    let mut by: BTreeMap<(&str, &str, &str), Curve> = BTreeMap::new();
    for r in &s.rows {
        let c = by
            .entry((&r.workload, &r.metric, &r.column))
            .or_insert_with(|| Curve {
                column: r.column.clone(),
                workload: r.workload.clone(),
                metric: r.metric.clone(),
                unit: r.unit.clone(),
                ns: Vec::new(),
                points: Vec::new(),
                dnr: 0,
                failed: 0,
                slope: None,
                model: None,
            });
        if !c.ns.contains(&r.n_guests) {
            c.ns.push(r.n_guests);
        }
        match (r.status, r.value) {
            (GuestStatus::Ok, Some(v)) => c.points.push((f64::from(r.n_guests), v)),
            (GuestStatus::Dnr, _) => c.dnr += 1,
            _ => c.failed += 1,
        }
    }
    let mut curves: Vec<Curve> = by.into_values().collect();
    for c in &mut curves {
        c.ns.sort_unstable();
        c.slope = usl::slope(&c.points);
        c.model = usl::fit(&c.points);
    }
    let mut differences = Vec::new();
    for (i, a) in curves.iter().enumerate() {
        for b in &curves[i + 1..] {
            if (&a.workload, &a.metric) != (&b.workload, &b.metric) {
                continue;
            }
            if let (Some(sa), Some(sb)) = (&a.slope, &b.slope) {
                differences.push(SlopeDifference {
                    a: a.column.clone(),
                    b: b.column.clone(),
                    workload: a.workload.clone(),
                    metric: a.metric.clone(),
                    unit: a.unit.clone(),
                    difference: usl::slope_difference(sa, sb),
                });
            }
        }
    }
    Scaling {
        curves,
        differences,
    }
}

/// Notes under the scaling table.
pub const NOTES: &[&str] = &[
    "Slope: the cost of one more guest, the least-squares slope of each completed guest's value against N (per guest, in the metric's unit), with its 95% Student-t interval. Each guest is one observation; guests of one run share the host, so the interval assumes they vary independently around the line.",
    "Model: Gunther's Universal Scalability Law in per-guest time, T(N) = T1 (1 + sigma (N-1) + kappa N (N-1)) (Gunther 2007), fitted by least squares; the full law (contention sigma and coherency kappa) when its AICc is at least 2 below the contention-only law's (kappa = 0; Hurvich & Tsai 1989, Burnham & Anderson 2002), else contention only. T1 with its t-interval; sigma and kappa with Fieller intervals for correlated coefficients.",
    "Excluded: guests that did not return (DNR) or failed; they have no value and are counted, never fitted as 0.",
    "Difference: slope of the first platform minus the second's, with its 95% interval (Welch-Satterthwaite df); an interval that excludes 0 says one platform's cost per added guest is larger.",
];

fn estimate(v: (f64, f64, f64)) -> String {
    format!("{:.3}\n[{:.3}, {:.3}]", v.0, v.1, v.2)
}

fn ratio_estimate(e: Option<Estimate>) -> String {
    match e {
        Some(e) => {
            let i = interval_text(e.interval, 4);
            format!("{:.4}\n{i}", e.value)
        }
        None => "—".into(),
    }
}

fn interval_values(e: Option<Estimate>) -> [Value; 3] {
    match e {
        Some(Estimate {
            value,
            interval: RatioInterval::Bounded(lo, hi),
        }) => [value.into(), lo.into(), hi.into()],
        Some(e) => [e.value.into(), Value::Null, Value::Null],
        None => [Value::Null, Value::Null, Value::Null],
    }
}

const FIELDS: &[&str] = &[
    "kind",
    "column",
    "column_b",
    "workload",
    "metric",
    "unit",
    "n_guests",
    "n_values",
    "dnr",
    "failed",
    "slope",
    "slope_low",
    "slope_high",
    "model",
    "t1",
    "t1_low",
    "t1_high",
    "sigma",
    "sigma_low",
    "sigma_high",
    "kappa",
    "kappa_low",
    "kappa_high",
    "aicc_contention",
    "aicc_usl",
];

impl Scaling {
    pub fn is_empty(&self) -> bool {
        self.curves.is_empty()
    }

    /// The table as a renderable document.
    pub fn doc(&self) -> Doc {
        let mut rows = Vec::new();
        let mut records = Vec::new();
        for c in &self.curves {
            let ns: Vec<String> = c.ns.iter().map(u32::to_string).collect();
            let slope = c.slope.as_ref().map(|s| s.slope);
            let m = c.model.as_ref();
            rows.push(vec![
                crate::table1::stack_label(&c.column),
                format!("{}\n{} ({})", c.workload, c.metric, c.unit),
                ns.join(", "),
                format!("{}\n{} DNR, {} failed", c.points.len(), c.dnr, c.failed),
                slope.map_or("—".into(), estimate),
                m.map_or("—".into(), |m| match m.model {
                    usl::Model::Usl => "USL".to_owned(),
                    usl::Model::Contention => "USL\nkappa = 0".to_owned(),
                }),
                m.map_or("—".into(), |m| estimate(m.t1)),
                ratio_estimate(m.map(|m| m.sigma)),
                ratio_estimate(m.and_then(|m| m.kappa)),
            ]);
            let [s, sl, sh] = slope.map_or([Value::Null, Value::Null, Value::Null], |s| {
                [s.0.into(), s.1.into(), s.2.into()]
            });
            let mut r: Vec<Value> = vec![
                "fit".into(),
                c.column.as_str().into(),
                Value::Null,
                c.workload.as_str().into(),
                c.metric.as_str().into(),
                c.unit.as_str().into(),
                ns.join(" ").into(),
                c.points.len().into(),
                c.dnr.into(),
                c.failed.into(),
                s,
                sl,
                sh,
                m.map(|m| m.model.as_str()).into(),
            ];
            r.extend(m.map_or([Value::Null, Value::Null, Value::Null], |m| {
                [m.t1.0.into(), m.t1.1.into(), m.t1.2.into()]
            }));
            r.extend(interval_values(m.map(|m| m.sigma)));
            r.extend(interval_values(m.and_then(|m| m.kappa)));
            r.push(m.map(|m| m.aicc_contention).into());
            r.push(m.and_then(|m| m.aicc_usl).into());
            records.push(r);
        }
        for d in &self.differences {
            let (v, lo, hi) = d.difference;
            rows.push(vec![
                format!("{} vs\n{}", d.a, d.b),
                format!("{}\n{} ({})", d.workload, d.metric, d.unit),
                String::new(),
                String::new(),
                estimate(d.difference),
                "difference".into(),
                String::new(),
                String::new(),
                String::new(),
            ]);
            let mut r: Vec<Value> = vec![
                "slope-difference".into(),
                d.a.as_str().into(),
                d.b.as_str().into(),
                d.workload.as_str().into(),
                d.metric.as_str().into(),
                d.unit.as_str().into(),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                v.into(),
                lo.into(),
                hi.into(),
            ];
            r.extend(std::iter::repeat_n(Value::Null, FIELDS.len() - r.len()));
            records.push(r);
        }
        Doc {
            name: "scaling".into(),
            title: TITLE.into(),
            header: [
                "Platform",
                "Workload",
                "N",
                "n ok\nexcluded",
                "Slope per guest\n[95% CI]",
                "Model",
                "T1\n[95% CI]",
                "sigma\n[95% CI]",
                "kappa\n[95% CI]",
            ]
            .map(String::from)
            .to_vec(),
            align: vec![
                Align::Left,
                Align::Left,
                Align::Left,
                Align::Right,
                Align::Right,
                Align::Left,
                Align::Right,
                Align::Right,
                Align::Right,
            ],
            rows,
            fields: FIELDS.iter().map(|f| (*f).to_owned()).collect(),
            records,
            notes: NOTES.iter().map(|n| (*n).to_owned()).collect(),
        }
    }
}
