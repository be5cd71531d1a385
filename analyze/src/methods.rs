//! The report's methods: which statistical method each number comes from
//! (with a citation key), the unit of analysis, and the rules of rigorous
//! benchmarking the report follows or not, each said plainly. Rendered as
//! Markdown (report.md, report.html) and as LaTeX (`methods.tex` with
//! `\cite` keys, `references.bib` holding every key).

use std::collections::BTreeMap;
use std::fmt::Write;

use collect::quiet::{OTHERS_LIMIT_PCT, STEAL_LIMIT_PCT};

use crate::analysis::Analysis;
use crate::render::latex::escape;

/// One reference: its BibTeX key and entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference {
    pub key: &'static str,
    /// Short form for Markdown.
    pub short: &'static str,
    pub bibtex: &'static str,
}

/// Every reference the methods cite.
pub const REFERENCES: &[Reference] = &[
    Reference { key: "fieller1954", short: "Fieller 1954", bibtex: "@article{fieller1954,\n  author = {Fieller, E. C.},\n  title = {Some Problems in Interval Estimation},\n  journal = {Journal of the Royal Statistical Society. Series B},\n  volume = {16},\n  number = {2},\n  pages = {175--185},\n  year = {1954}\n}" },
    Reference { key: "welch1947", short: "Welch 1947", bibtex: "@article{welch1947,\n  author = {Welch, B. L.},\n  title = {The Generalization of `{S}tudent's' Problem when Several Different Population Variances are Involved},\n  journal = {Biometrika},\n  volume = {34},\n  number = {1--2},\n  pages = {28--35},\n  year = {1947}\n}" },
    Reference { key: "mann1947", short: "Mann & Whitney 1947", bibtex: "@article{mann1947,\n  author = {Mann, H. B. and Whitney, D. R.},\n  title = {On a Test of Whether one of Two Random Variables is Stochastically Larger than the Other},\n  journal = {The Annals of Mathematical Statistics},\n  volume = {18},\n  number = {1},\n  pages = {50--60},\n  year = {1947}\n}" },
    Reference { key: "leys2013", short: "Leys et al. 2013", bibtex: "@article{leys2013,\n  author = {Leys, Christophe and Ley, Christophe and Klein, Olivier and Bernard, Philippe and Licata, Laurent},\n  title = {Detecting outliers: Do not use standard deviation around the mean, use absolute deviation around the median},\n  journal = {Journal of Experimental Social Psychology},\n  volume = {49},\n  number = {4},\n  pages = {764--766},\n  year = {2013}\n}" },
    Reference { key: "gunther2007", short: "Gunther 2007", bibtex: "@book{gunther2007,\n  author = {Gunther, Neil J.},\n  title = {Guerrilla Capacity Planning: A Tactical Approach to Planning for Highly Scalable Applications and Services},\n  publisher = {Springer},\n  year = {2007}\n}" },
    Reference { key: "hurvich1989", short: "Hurvich & Tsai 1989", bibtex: "@article{hurvich1989,\n  author = {Hurvich, Clifford M. and Tsai, Chih-Ling},\n  title = {Regression and time series model selection in small samples},\n  journal = {Biometrika},\n  volume = {76},\n  number = {2},\n  pages = {297--307},\n  year = {1989}\n}" },
    Reference { key: "hedges1981", short: "Hedges 1981", bibtex: "@article{hedges1981,\n  author = {Hedges, Larry V.},\n  title = {Distribution Theory for {G}lass's Estimator of Effect Size and Related Estimators},\n  journal = {Journal of Educational Statistics},\n  volume = {6},\n  number = {2},\n  pages = {107--128},\n  year = {1981}\n}" },
    Reference { key: "kerby2014", short: "Kerby 2014", bibtex: "@article{kerby2014,\n  author = {Kerby, Dave S.},\n  title = {The Simple Difference Formula: An Approach to Teaching Nonparametric Correlation},\n  journal = {Comprehensive Psychology},\n  volume = {3},\n  year = {2014}\n}" },
    Reference { key: "hoefler2015", short: "Hoefler & Belli 2015", bibtex: "@inproceedings{hoefler2015,\n  author = {Hoefler, Torsten and Belli, Roberto},\n  title = {Scientific Benchmarking of Parallel Computing Systems: Twelve Ways to Tell the Masses when Reporting Performance Results},\n  booktitle = {Proceedings of the International Conference for High Performance Computing, Networking, Storage and Analysis (SC '15)},\n  publisher = {ACM},\n  year = {2015}\n}" },
    Reference { key: "mytkowicz2009", short: "Mytkowicz et al. 2009", bibtex: "@inproceedings{mytkowicz2009,\n  author = {Mytkowicz, Todd and Diwan, Amer and Hauswirth, Matthias and Sweeney, Peter F.},\n  title = {Producing Wrong Data Without Doing Anything Obviously Wrong!},\n  booktitle = {Proceedings of the 14th International Conference on Architectural Support for Programming Languages and Operating Systems (ASPLOS '09)},\n  pages = {265--276},\n  publisher = {ACM},\n  year = {2009}\n}" },
    Reference { key: "kalibera2013", short: "Kalibera & Jones 2013", bibtex: "@inproceedings{kalibera2013,\n  author = {Kalibera, Tomas and Jones, Richard},\n  title = {Rigorous Benchmarking in Reasonable Time},\n  booktitle = {Proceedings of the 2013 International Symposium on Memory Management (ISMM '13)},\n  pages = {63--74},\n  publisher = {ACM},\n  year = {2013}\n}" },
];

/// Whether the report follows a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Followed {
    Yes,
    Partly,
    No,
}

impl Followed {
    pub fn as_str(self) -> &'static str {
        match self {
            Followed::Yes => "followed",
            Followed::Partly => "partly followed",
            Followed::No => "not followed",
        }
    }
}

/// A rule of rigorous benchmarking and what the report does about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Citation key of the rule's source.
    pub source: &'static str,
    pub rule: &'static str,
    pub followed: Followed,
    pub how: &'static str,
}

/// The rules, in the order the report lists them.
pub const RULES: &[Rule] = &[
    Rule { source: "hoefler2015", rule: "report absolute baselines, not only ratios", followed: Followed::Yes, how: "Table 1 prints native's absolute mean with its interval beside the normalized scores; CSV and JSON hold every mean" },
    Rule { source: "hoefler2015", rule: "say whether the data are deterministic", followed: Followed::Yes, how: "samples whose values are all equal are flagged (zero-variance), and their tests and intervals are called undefined instead of certain" },
    Rule { source: "hoefler2015", rule: "report confidence intervals of nondeterministic results", followed: Followed::Yes, how: "every mean, ratio, degradation, slope and model parameter carries its 95% interval" },
    Rule { source: "hoefler2015", rule: "do not assume normality without a check", followed: Followed::Partly, how: "the t-based intervals assume roughly normal means; the rank-based Mann-Whitney test is printed beside Welch's test and a disagreement is flagged, but no normality test is run" },
    Rule { source: "hoefler2015", rule: "compare with statistically sound tests and report effect sizes", followed: Followed::Yes, how: "Welch's t-test and the Mann-Whitney test with Hedges' g and the rank-biserial r, effect sizes only where defined (two values per side)" },
    Rule { source: "hoefler2015", rule: "summarize ratios only from summarized costs", followed: Followed::Yes, how: "scores are ratios of means with Fieller intervals, never means of per-run ratios; no mean over workloads is formed" },
    Rule { source: "hoefler2015", rule: "document every factor of the setup", followed: Followed::Yes, how: "each bundle records the host, kernels, hypervisor versions and configuration, the order its runs ran in, each run's quiet evidence and each disk workload's cache policy; the comparability section names every fact in which bundles differ" },
    Rule { source: "mytkowicz2009", rule: "randomize or interleave the order of the compared setups", followed: Followed::Partly, how: "collect interleaves the platforms' blocks when several platforms run on one host (or draws their order from a recorded seed), and the design section says which order each bundle ran in; a platform run in another bundle (the Xen lab) ran at another time" },
    Rule { source: "hoefler2015", rule: "show bounds to interpret results", followed: Followed::Partly, how: "native is the bound of virtualized performance (score 1); no other bound is modelled" },
    Rule { source: "kalibera2013", rule: "treat each level of repetition as a source of variation", followed: Followed::Partly, how: "isolation guests within a repetition are averaged into one value per repetition (one unit of analysis); repetitions from different bundles are pooled, not modelled as a level of their own" },
    Rule { source: "kalibera2013", rule: "size repetitions from a dimensioning run", followed: Followed::Partly, how: "a workload with adaptive repetitions runs a first block as its dimensioning run and sizes the next blocks from its 95% interval until the interval is within the target (each lane's decisions and stopping reason are in the bundle and re-derived); a workload with a fixed count runs the suite's count; the design section says which" },
    Rule { source: "kalibera2013", rule: "report a ratio of means with its confidence interval", followed: Followed::Yes, how: "Fieller's interval of the ratio of means, unbounded when the denominator is not clearly non-zero" },
];

/// What the bundles say about how their runs were designed: the order,
/// why each workload stopped, the quiet of the host, the disks' cache
/// policy; "not recorded" where a bundle does not say.
pub fn design(a: &Analysis) -> Vec<String> {
    let bundles = a.used_bundles();
    let id = |b: &crate::load::BundleInfo| b.id[..12.min(b.id.len())].to_owned();
    let mut out = Vec::new();
    let mut orders: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for b in &bundles {
        let d = &b.design;
        let text = match (d.planned, d.order) {
            _ if d.unread => "not read (loaded from a store, whose catalog keeps no design; analyze report on the bundle file shows it)".to_owned(),
            (true, Some(o)) => format!("{}: {}", o.describe(), crate::design::order_meaning(&o)),
            (true, None) => "blocked, not recorded in the plan (each platform's repetitions in one block, so drift over time can fall on one platform)".to_owned(),
            (false, _) => "not recorded (results imported from elsewhere)".to_owned(),
        };
        orders.entry(text).or_default().push(id(b));
    }
    let order = match orders.len() {
        1 => orders.into_keys().collect::<Vec<_>>().join(""),
        _ => orders
            .into_iter()
            .map(|(text, ids)| format!("{text} (bundles {})", ids.join(", ")))
            .collect::<Vec<_>>()
            .join("; "),
    };
    out.push(format!(
        "Run order: {order}. A block is one workload's warm-ups and repetitions on one platform (one guest boot). Isolation phases and scalability steps keep their own order after the overall experiment."
    ));
    let lanes: Vec<(String, &collect::runner::schedule::LaneRecord)> = bundles
        .iter()
        .flat_map(|b| b.design.lanes.iter().map(move |l| (id(b), l)))
        .collect();
    let unread = bundles.iter().filter(|b| b.design.unread).count();
    if lanes.is_empty() && unread > 0 {
        out.push(format!("Stopping: not read for the {unread} bundle(s) loaded from a store (its catalog keeps no design)."));
    } else if lanes.is_empty() {
        out.push(
            "Stopping: not recorded in these bundles (repetition counts fixed by the suite)."
                .into(),
        );
    } else {
        let fixed = lanes.iter().filter(|(_, l)| l.rule.is_none()).count();
        let mut parts: Vec<String> = lanes
            .iter()
            .filter(|(_, l)| l.rule.is_some())
            .map(|(b, l)| format!("{} on {} ({b}): {}", l.workload, l.platform, l.why()))
            .collect();
        match fixed {
            0 => {}
            1 => parts.push("1 workload on 1 platform ran the suite's fixed count".into()),
            n => parts.push(format!(
                "{n} workload-platform lanes ran the suite's fixed count"
            )),
        }
        out.push(format!(
            "Stopping (adaptive lanes stop when every metric's 95% interval is within the target of its mean, at their maximum, or after a failed repetition; each decision re-derived from the values by analyze verify --rederive): {}.",
            parts.join("; ")
        ));
    }
    let runs: usize = bundles.iter().map(|b| b.design.runs.len()).sum();
    if runs == 0 && unread > 0 {
        out.push(format!("Host quiet: not read for the {unread} bundle(s) loaded from a store (its catalog keeps no design)."));
    } else if runs == 0 {
        out.push("Host quiet: not recorded in these bundles (no load, steal or frequency evidence per run).".into());
    } else {
        let busy: Vec<&crate::design::RunQuiet> =
            bundles.iter().flat_map(|b| b.design.busy()).collect();
        let warmups = busy.iter().filter(|r| r.run.contains("/warmup-")).count();
        out.push(format!(
            "Host quiet: {runs} runs (warm-ups included) carry evidence from /proc and /sys before and after the measured step where it ran (load average, steal, iowait, other processes' CPU time, frequency, governor; on guest platforms also the host's view of the guest's block); {} measured on a busy host (steal above {STEAL_LIMIT_PCT}% of the CPU time or other processes above {OTHERS_LIMIT_PCT}% of the CPUs' time during the step, or host steal above {STEAL_LIMIT_PCT}% during a guest's block), {warmups} of them warm-ups; the repetitions among them are named in the warnings and kept in the tables; the load average is shown, not judged (it lags a minute and counts the previous repetition's own load).",
            busy.len()
        ));
    }
    let designs: Vec<&crate::design::Design> = bundles.iter().map(|b| &b.design).collect();
    let workloads: Vec<String> = designs
        .iter()
        .flat_map(|d| d.disks.iter().map(|x| x.workload.clone()))
        .collect();
    let shown: Vec<&str> = workloads.iter().map(String::as_str).collect();
    for note in crate::design::disk_notes(&designs, &shown) {
        out.push(format!("Disk cache policy: {note}"));
    }
    out
}

/// Each statistical method of the report with the keys it cites.
pub const METHODS: &[(&str, &[&str])] = &[
    ("Scores and ratios: ratio of means with its 95% interval by Fieller's theorem, Welch-Satterthwaite degrees of freedom; refused for means of 0 or below", &["fieller1954", "welch1947"]),
    ("Means: 95% Student-t intervals", &[]),
    ("Comparisons: Welch's t-test; Hedges' g with small-sample correction", &["welch1947", "hedges1981"]),
    ("Comparisons: Mann-Whitney U test, exact without ties (n_A n_B <= 10000), exact permutation distribution with ties (n_A + n_B <= 60), else normal approximation with tie and continuity correction, the method printed per row; rank-biserial correlation", &["mann1947", "kerby2014"]),
    ("Outliers: |x - median| / (1.4826 MAD) > 3, flagged and kept", &["leys2013"]),
    ("Scaling: least-squares slope of each completed guest's value against N; the Universal Scalability Law in per-guest time, the full law when its AICc is at least 2 below the contention-only law's", &["gunther2007", "hurvich1989"]),
];

/// The methods as Markdown lines.
pub fn markdown(a: &Analysis) -> String {
    let short = |k: &'static str| -> &'static str {
        REFERENCES
            .iter()
            .find(|r| r.key == k)
            .map_or(k, |r| r.short)
    };
    let mut out = String::new();
    for m in crate::stats::METHODS {
        let _ = writeln!(out, "- {}: {}.", m.name, m.reference);
    }
    let _ = writeln!(out, "- {}", crate::samples::ISOLATION_UNIT);
    out.push_str("\n### Rules of rigorous benchmarking\n\n");
    for r in RULES {
        let _ = writeln!(
            out,
            "- {} ({}): {}. {}.",
            r.rule,
            short(r.source),
            r.followed.as_str(),
            capitalize(r.how)
        );
    }
    out.push_str("\n### Design of the runs\n\n");
    for d in design(a) {
        let _ = writeln!(out, "- {d}");
    }
    out
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// `methods.tex`: a paragraph to `\input` in an evaluation section, every
/// method with its `\cite` key (see [`bibtex`]).
pub fn latex(a: &Analysis) -> String {
    let mut out = String::from(
        "% Statistical methods of this evaluation; the keys are in references.bib.\n\\paragraph{Statistical methods.}\n",
    );
    for (text, keys) in METHODS {
        let cite = if keys.is_empty() {
            String::new()
        } else {
            format!("~\\cite{{{}}}", keys.join(","))
        };
        let _ = writeln!(out, "{}{cite}.", escape(text));
    }
    let _ = writeln!(out, "{}\n", escape(crate::samples::ISOLATION_UNIT));
    out.push_str("\\paragraph{Rules of rigorous benchmarking.}\nThe report states for each rule of Hoefler and Belli~\\cite{hoefler2015}, of Kalibera and Jones~\\cite{kalibera2013} and of Mytkowicz et al.~\\cite{mytkowicz2009} whether it follows it.\n");
    for r in RULES {
        let _ = writeln!(
            out,
            "{} (\\cite{{{}}}): {}; {}.",
            capitalize(&escape(r.rule)),
            r.source,
            r.followed.as_str(),
            escape(r.how)
        );
    }
    out.push('\n');
    for d in design(a) {
        let _ = writeln!(out, "{}", escape(&d));
    }
    out
}

/// `references.bib`: every reference the methods cite.
pub fn bibtex() -> String {
    let mut out = String::new();
    for r in REFERENCES {
        out.push_str(r.bibtex);
        out.push_str("\n\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cited_key_has_an_entry() {
        let keys: Vec<&str> = METHODS
            .iter()
            .flat_map(|m| m.1.iter().copied())
            .chain(RULES.iter().map(|r| r.source))
            .collect();
        let bib = bibtex();
        for k in keys {
            assert!(bib.contains(&format!("{{{k},")), "{k}");
        }
        for k in [
            "fieller1954",
            "welch1947",
            "mann1947",
            "leys2013",
            "gunther2007",
            "hoefler2015",
            "kalibera2013",
        ] {
            assert!(bib.contains(&format!("{{{k},")), "{k}");
        }
    }
}
