//! Two-sample comparisons: between the platforms of one report, and the
//! same platform across two bundle sets (`analyze compare`).
//!
//! Each row compares sample B against sample A of one (experiment,
//! workload, metric, condition) with [`stats::two_sample`]: ratio B/A of
//! the means with its Fieller interval, Welch's t-test with Hedges' g, the
//! Mann-Whitney U test with the rank-biserial correlation, and a verdict at
//! α = 0.05 from Welch's test.

use std::collections::BTreeMap;

use crate::render::{fixed, p_text, Align, Doc, Value};
use crate::samples::{Key, Sample};
use crate::stats::mann_whitney::MannWhitney;
use crate::stats::ratio::Refusal;
use crate::stats::{self, RatioInterval, TwoSample, Verdict};
use crate::table1::{interval_fields, interval_text, native_column};

/// One comparison of B against A.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub experiment: String,
    pub workload: String,
    pub metric: String,
    pub condition: String,
    pub unit: String,
    pub direction: String,
    /// What A and B are: platform columns, or a column in set A / set B.
    pub a: String,
    pub b: String,
    pub stats: TwoSample,
}

impl Comparison {
    pub fn verdict(&self) -> Verdict {
        self.stats.verdict(self.direction != "lower")
    }
}

type Group<'a> = BTreeMap<&'a str, &'a Sample>;

/// Groups samples by (experiment, workload, metric, condition), keyed by
/// column inside.
fn by_measure(samples: &BTreeMap<Key, Sample>) -> BTreeMap<(&str, &str, &str, &str), Group<'_>> {
    let mut out: BTreeMap<_, Group<'_>> = BTreeMap::new();
    for (k, s) in samples {
        if s.values.is_empty() {
            continue;
        }
        out.entry((
            k.experiment.as_str(),
            k.workload.as_str(),
            k.metric.as_str(),
            k.condition.as_str(),
        ))
        .or_default()
        .insert(k.column.as_str(), s);
    }
    out
}

fn comparison(
    measure: (&str, &str, &str, &str),
    a_name: String,
    a: &Sample,
    b_name: String,
    b: &Sample,
) -> Option<Comparison> {
    let (experiment, workload, metric, condition) = measure;
    Some(Comparison {
        experiment: experiment.to_owned(),
        workload: workload.to_owned(),
        metric: metric.to_owned(),
        condition: condition.to_owned(),
        unit: a.unit.clone(),
        direction: a.direction.clone(),
        a: a_name,
        b: b_name,
        stats: stats::two_sample(&a.values, &b.values)?,
    })
}

/// Every pair of platform columns measured on the same thing: native first
/// (as A) when present, then the others in label order.
pub fn between_platforms(samples: &BTreeMap<Key, Sample>) -> Vec<Comparison> {
    let native = native_column();
    let mut out = Vec::new();
    for (measure, group) in by_measure(samples) {
        let mut columns: Vec<&str> = group.keys().copied().collect();
        columns.sort_by_key(|c| (*c != native, *c));
        for (i, a) in columns.iter().enumerate() {
            for b in &columns[i + 1..] {
                out.extend(comparison(
                    measure,
                    (*a).to_owned(),
                    group[a],
                    (*b).to_owned(),
                    group[b],
                ));
            }
        }
    }
    out
}

/// The same platform column measured in set A and set B.
pub fn between_sets(a: &BTreeMap<Key, Sample>, b: &BTreeMap<Key, Sample>) -> Vec<Comparison> {
    let ga = by_measure(a);
    let gb = by_measure(b);
    let mut out = Vec::new();
    for (measure, in_a) in &ga {
        let Some(in_b) = gb.get(measure) else {
            continue;
        };
        for (column, sa) in in_a {
            if let Some(sb) = in_b.get(column) {
                out.extend(comparison(
                    *measure,
                    format!("{column} in A"),
                    sa,
                    format!("{column} in B"),
                    sb,
                ));
            }
        }
    }
    out
}

/// Notes printed under every comparison table.
pub const NOTES: &[&str] = &[
    "B/A: ratio of B's mean to A's mean, with its 95% interval by Fieller's theorem (Fieller 1954, Welch-Satterthwaite df); 'unbounded' when A's mean is not clearly non-zero; n/a with the reason when a mean is 0 or negative (a ratio needs positive means).",
    "Welch p: two-sided Welch's t-test (Welch 1947); g: Hedges' g of B against A with small-sample correction (Hedges 1981), positive when B's mean is larger. Both need two values per side and are undefined (—) when both samples have zero variance.",
    "MW p: two-sided Mann-Whitney U test (Mann & Whitney 1947), with its method after the value: exact (no ties, n_A*n_B <= 10000), exact-ties (exact permutation distribution given the ties, n_A+n_B <= 60) or normal (approximation with tie and continuity correction); r: rank-biserial correlation (Kerby 2014), positive when B tends to be larger, given with two values per side.",
    "Verdict: B faster (better in the metric's direction) or slower than A when Welch's p < 0.05, else no significant difference; 'undefined: zero variance' when both samples are constant; '(MW disagrees)' when the Mann-Whitney test reaches the other conclusion at 0.05.",
];

const FIELDS: &[&str] = &[
    "experiment",
    "workload",
    "metric",
    "condition",
    "unit",
    "direction",
    "a",
    "b",
    "n_a",
    "mean_a",
    "sd_a",
    "n_b",
    "mean_b",
    "sd_b",
    "ratio",
    "ci_low",
    "ci_high",
    "interval",
    "ratio_reason",
    "welch_t",
    "welch_df",
    "welch_p",
    "hedges_g",
    "mw_u",
    "mw_p",
    "mw_method",
    "rank_biserial",
    "verdict",
    "tests_disagree",
];

fn what(c: &Comparison) -> String {
    let mut extra = Vec::new();
    if c.experiment != "overall" {
        extra.push(c.experiment.clone());
    }
    if !c.condition.is_empty() {
        extra.push(c.condition.clone());
    }
    if extra.is_empty() {
        c.workload.clone()
    } else {
        format!("{} ({})", c.workload, extra.join(", "))
    }
}

fn ratio_text(ratio: &Result<f64, Refusal>, interval: RatioInterval) -> String {
    match ratio {
        Ok(r) => {
            let i = interval_text(interval, 3);
            if i.is_empty() {
                format!("{r:.3}")
            } else {
                format!("{r:.3}\n{i}")
            }
        }
        Err(why) => why.to_string(),
    }
}

/// A p-value with the method beside it.
fn mw_text(m: Option<MannWhitney>) -> String {
    match m {
        Some(m) => format!("{}\n{}", p_text(Some(m.p)), m.method.as_str()),
        None => p_text(None),
    }
}

/// Comparisons as a renderable document named `name`.
pub fn doc(name: &str, title: &str, rows: &[Comparison]) -> Doc {
    let header = [
        "Workload",
        "Metric",
        "A",
        "B",
        "n A",
        "n B",
        "mean A",
        "mean B",
        "B/A [95% CI]",
        "Welch p",
        "g",
        "MW p",
        "r",
        "Verdict (B vs A)",
    ];
    let mut align = vec![Align::Left; 4];
    align.extend([Align::Right; 9]);
    align.push(Align::Left);
    let mut display = Vec::new();
    let mut records = Vec::new();
    for c in rows {
        let s = &c.stats;
        let welch_p = s.welch.map(|w| w.p);
        let mw_p = s.mann_whitney.map(|m| m.p);
        let mut verdict = c.verdict().as_str().to_owned();
        if s.tests_disagree() {
            verdict.push_str(" (MW disagrees)");
        }
        display.push(vec![
            what(c),
            format!("{} ({})", c.metric, c.unit),
            c.a.clone(),
            c.b.clone(),
            s.a.n.to_string(),
            s.b.n.to_string(),
            fixed(Some(s.a.mean), 4),
            fixed(Some(s.b.mean), 4),
            ratio_text(&s.ratio, s.interval),
            if s.zero_variance() {
                "undefined".into()
            } else {
                p_text(welch_p)
            },
            fixed(s.hedges_g, 2),
            mw_text(s.mann_whitney),
            fixed(s.rank_biserial(), 2),
            verdict,
        ]);
        let [lo, hi, kind] = match s.ratio {
            Ok(_) => interval_fields(s.interval),
            Err(_) => [Value::Null, Value::Null, Value::Null],
        };
        records.push(vec![
            c.experiment.as_str().into(),
            c.workload.as_str().into(),
            c.metric.as_str().into(),
            c.condition.as_str().into(),
            c.unit.as_str().into(),
            c.direction.as_str().into(),
            c.a.as_str().into(),
            c.b.as_str().into(),
            s.a.n.into(),
            s.a.mean.into(),
            s.a.sd.into(),
            s.b.n.into(),
            s.b.mean.into(),
            s.b.sd.into(),
            s.ratio.as_ref().ok().copied().into(),
            lo,
            hi,
            kind,
            s.ratio.as_ref().err().map(|e| e.to_string()).into(),
            s.welch.map(|w| w.t).into(),
            s.welch.map(|w| w.df).into(),
            welch_p.into(),
            s.hedges_g.into(),
            s.mann_whitney.map(|m| m.u).into(),
            mw_p.into(),
            s.mann_whitney.map(|m| m.method.as_str()).into(),
            s.rank_biserial().into(),
            c.verdict().as_str().into(),
            Value::Bool(s.tests_disagree()),
        ]);
    }
    Doc {
        name: name.into(),
        title: title.into(),
        header: header.iter().map(|h| (*h).to_owned()).collect(),
        align,
        rows: display,
        fields: FIELDS.iter().map(|f| (*f).to_owned()).collect(),
        records,
        notes: NOTES.iter().map(|n| (*n).to_owned()).collect(),
    }
}

/// Settings of `analyze compare`.
#[derive(Debug, Clone)]
pub struct CompareSettings {
    pub a: Vec<std::path::PathBuf>,
    pub b: Vec<std::path::PathBuf>,
    pub strict: bool,
    pub load: crate::load::LoadOptions,
    pub filters: crate::filter::Filters,
    /// Folder for `compare.*` and `comparability.*` in every format.
    pub out: Option<std::path::PathBuf>,
    /// Format printed on stdout.
    pub format: &'static dyn crate::render::Renderer,
}

fn load_side(
    name: &str,
    paths: &[std::path::PathBuf],
    s: &CompareSettings,
) -> anyhow::Result<(Vec<crate::load::BundleInfo>, BTreeMap<Key, Sample>)> {
    use anyhow::Context;
    let set = crate::load::load_set(paths, &s.load, s.strict)
        .with_context(|| format!("loading set {name}"))?;
    for skipped in &set.skipped {
        log::warn!(
            "set {name}: skipping {}: {}",
            skipped.path.display(),
            skipped.reason
        );
    }
    if set.bundles.is_empty() {
        anyhow::bail!("set {name}: no bundle could be loaded");
    }
    let frame = s.filters.apply(set.frame)?;
    Ok((set.bundles, crate::samples::collect(&frame)?))
}

/// Compares set B against set A and prints the table.
pub fn run(s: &CompareSettings) -> anyhow::Result<std::process::ExitCode> {
    use anyhow::Context;
    let (bundles_a, samples_a) = load_side("A", &s.a, s)?;
    let (bundles_b, samples_b) = load_side("B", &s.b, s)?;
    let rows = between_sets(&samples_a, &samples_b);
    let mut doc = doc("compare", "Set B against set A", &rows);
    let names = |bundles: &[crate::load::BundleInfo]| {
        bundles
            .iter()
            .map(crate::guard::bundle_ref)
            .collect::<Vec<_>>()
            .join("; ")
    };
    doc.notes
        .insert(0, format!("Set B: {}.", names(&bundles_b)));
    doc.notes
        .insert(0, format!("Set A: {}.", names(&bundles_a)));
    let all: Vec<&crate::load::BundleInfo> = bundles_a.iter().chain(&bundles_b).collect();
    let diffs = crate::guard::check(&all);
    let guard_doc = crate::guard::doc(&all, &diffs);
    for d in &diffs {
        log::warn!(
            "the bundles differ in {}: {}",
            d.field,
            d.values
                .iter()
                .map(|(v, held)| format!("{v:?} in {} bundle(s)", held.len()))
                .collect::<Vec<_>>()
                .join(" vs ")
        );
    }
    collect::out!("{}", s.format.render(&doc));
    if let Some(out) = &s.out {
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
        for d in [&doc, &guard_doc] {
            crate::render::write_all(out, d)
                .with_context(|| format!("writing {} in {}", d.name, out.display()))?;
        }
        collect::errln!("written to {}", out.display());
    }
    if rows.is_empty() {
        log::warn!("the two sets share no (platform, workload, metric) with ok values");
    }
    Ok(std::process::ExitCode::SUCCESS)
}
