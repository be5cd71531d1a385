//! Warnings about the data behind the tables: too few values, high
//! coefficient of variation, failed or dnr runs (`stats::quality`), and
//! MAD outliers (`stats::outliers`), each outlier with the bundle and run
//! folder it came from, and runs measured on a busy host (`design`). Nothing is dropped: the tables use every ok value.

use std::collections::{BTreeMap, HashMap};

use collect::quiet::{OTHERS_LIMIT_PCT, STEAL_LIMIT_PCT};

use polars::prelude::DataFrame;

use crate::design::RunQuiet;
use crate::load::BundleInfo;
use crate::render::{Align, Doc};
use crate::samples::{origin, Key, Sample};
use crate::stats::outliers::{outliers, score_text, THRESHOLD};
use crate::stats::quality::{issues, Issue, CV_LIMIT, MIN_N};
use crate::stats::Summary;

/// Kind of warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    FewValues,
    HighCv,
    ZeroVariance,
    FailedRuns,
    Outlier,
    BusyHost,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::FewValues => "few-values",
            Kind::HighCv => "high-cv",
            Kind::ZeroVariance => "zero-variance",
            Kind::FailedRuns => "failed-runs",
            Kind::Outlier => "outlier",
            Kind::BusyHost => "busy-host",
        }
    }
}

/// One warning.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub kind: Kind,
    pub key: Key,
    pub detail: String,
    /// For outliers: the value, its bundle id and run folder.
    pub value: Option<f64>,
    pub bundle_id: Option<String>,
    pub run: Option<String>,
}

/// Every warning about `samples`, whose rows index `df`.
pub fn collect(df: &DataFrame, samples: &BTreeMap<Key, Sample>) -> Vec<Warning> {
    let mut out = Vec::new();
    for (key, s) in samples {
        let plain = |kind, detail: String| Warning {
            kind,
            key: key.clone(),
            detail,
            value: None,
            bundle_id: None,
            run: None,
        };
        if s.failed + s.dnr > 0 {
            out.push(plain(
                Kind::FailedRuns,
                format!(
                    "{} failed and {} dnr of {} runs",
                    s.failed,
                    s.dnr,
                    s.failed + s.dnr + s.values.len()
                ),
            ));
        }
        let Some(summary) = Summary::of(&s.values) else {
            continue;
        };
        if summary.n >= 2 && summary.sd == 0.0 {
            out.push(plain(
                Kind::ZeroVariance,
                format!(
                    "all {} values equal ({}): against another constant sample the t-test, effect size and ratio interval are undefined",
                    summary.n, summary.mean
                ),
            ));
        }
        for issue in issues(&summary) {
            out.push(match issue {
                Issue::FewValues { n } => plain(
                    Kind::FewValues,
                    format!("n = {n} ok values (fewer than {MIN_N})"),
                ),
                Issue::HighCv { cv } => plain(
                    Kind::HighCv,
                    format!("CV = {:.1}% (above {:.0}%)", cv * 100.0, CV_LIMIT * 100.0),
                ),
            });
        }
        for (i, score) in outliers(&s.values) {
            let from = origin(df, s.rows[i]);
            out.push(Warning {
                kind: Kind::Outlier,
                key: key.clone(),
                detail: format!(
                    "value {} is {} robust sd from the median {} (threshold {THRESHOLD})",
                    s.values[i],
                    score_text(score),
                    summary.median
                ),
                value: Some(s.values[i]),
                bundle_id: Some(from.bundle_id),
                run: Some(from.run),
            });
        }
    }
    out
}

/// A warning per run whose values are in the tables and that measured on
/// a busy host ([`collect::quiet`]: steal or other processes above their
/// limits during the measured step), with its bundle and run folder.
pub fn busy(
    df: &DataFrame,
    samples: &BTreeMap<Key, Sample>,
    bundles: &[&BundleInfo],
) -> Vec<Warning> {
    let mut busy: HashMap<(String, String), &RunQuiet> = HashMap::new();
    for b in bundles {
        for r in b.design.busy() {
            busy.insert((b.id.clone(), r.run.clone()), r);
        }
    }
    if busy.is_empty() {
        return Vec::new();
    }
    let mut found: BTreeMap<(String, String), (Key, Vec<String>, &RunQuiet)> = BTreeMap::new();
    for (key, s) in samples {
        for &row in &s.rows {
            let o = origin(df, row);
            let at = (o.bundle_id, o.run);
            if let Some(&r) = busy.get(&at) {
                let e = found
                    .entry(at)
                    .or_insert_with(|| (key.clone(), Vec::new(), r));
                if !e.1.contains(&key.metric) {
                    e.1.push(key.metric.clone());
                }
            }
        }
    }
    found
        .into_iter()
        .map(|((bundle_id, run), (key, metrics, r))| Warning {
            kind: Kind::BusyHost,
            key: Key {
                metric: metrics.join(", "),
                ..key
            },
            detail: r.busy.join("; "),
            value: None,
            bundle_id: Some(bundle_id),
            run: Some(run),
        })
        .collect()
}

const FIELDS: &[&str] = &[
    "kind",
    "experiment",
    "workload",
    "metric",
    "condition",
    "column",
    "detail",
    "value",
    "bundle_id",
    "run",
];

/// Warnings as a renderable document; the displayed rows stop at `max_rows`
/// (the records hold all).
pub fn doc(warnings: &[Warning], max_rows: usize) -> Doc {
    let mut rows = Vec::new();
    let mut records = Vec::new();
    for w in warnings {
        let k = &w.key;
        let mut what = format!("{} / {}", k.workload, k.metric);
        if k.experiment != "overall" {
            what = format!("{} {what}", k.experiment);
        }
        if !k.condition.is_empty() {
            what = format!("{what} ({})", k.condition);
        }
        if rows.len() < max_rows {
            let origin = match (&w.bundle_id, &w.run) {
                (Some(b), Some(r)) => format!("{} {r}", &b[..b.len().min(12)]),
                _ => String::new(),
            };
            rows.push(vec![
                w.kind.as_str().to_owned(),
                what,
                k.column.clone(),
                w.detail.clone(),
                origin,
            ]);
        }
        records.push(vec![
            w.kind.as_str().into(),
            k.experiment.as_str().into(),
            k.workload.as_str().into(),
            k.metric.as_str().into(),
            k.condition.as_str().into(),
            k.column.as_str().into(),
            w.detail.as_str().into(),
            w.value.into(),
            w.bundle_id.clone().into(),
            w.run.clone().into(),
        ]);
    }
    let mut notes = vec![
        format!("few-values: fewer than {MIN_N} ok values; high-cv: coefficient of variation sd/|mean| above {:.0}%; zero-variance: every value equal (no spread to test with); failed-runs: runs with status failed or dnr (not in the tables).", CV_LIMIT * 100.0),
        "outlier: |x - median| / (1.4826 MAD) > 3 (Leys et al. 2013); flagged, never dropped. Where: bundle id (12 digits) and run folder.".to_owned(),
        format!("busy-host: during the measured step, steal took more than {STEAL_LIMIT_PCT}% of the CPU time or other processes more than {OTHERS_LIMIT_PCT}% of the CPUs' time (on the host's side of a guest's block, steal alone); from each run's quiet.json and host-quiet.json; flagged, never dropped."),
    ];
    if warnings.len() > rows.len() {
        notes.push(format!(
            "{} more warnings are in warnings.csv and warnings.json.",
            warnings.len() - rows.len()
        ));
    }
    Doc {
        name: "warnings".into(),
        title: "Warnings".into(),
        header: ["Kind", "What", "Platform", "Detail", "Where"]
            .iter()
            .map(|h| (*h).to_owned())
            .collect(),
        align: vec![Align::Left; 5],
        rows,
        fields: FIELDS.iter().map(|f| (*f).to_owned()).collect(),
        records,
        notes,
    }
}
