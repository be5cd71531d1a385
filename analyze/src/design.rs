//! The design of the runs behind a bundle, as its files record it: the
//! order the blocks ran in (`config/plan.json`), why each lane stopped
//! (`stopping.json`), each run's quiet evidence (`quiet.json`,
//! `host-quiet.json`, figures computed here from the raw counters by
//! `collect::quiet`, never taken from a claim) and each disk workload's
//! cache policy (the plan's workloads and the platforms' facts).

use std::collections::BTreeMap;

use benchvm_format::env::EnvSummary;
use benchvm_format::Bundle;
use collect::plan::{Experiment, Plan, RunOrder};
use collect::quiet::{self, Evidence, Figures};
use collect::quiet::{OTHERS_LIMIT_PCT, STEAL_LIMIT_PCT};
use collect::runner::schedule::{LaneRecord, STOPPING_FILE};
use collect::workload::{scratch_attachment, IoPolicy, WorkloadSpec};

use crate::load::BundleInfo;
use crate::render::{Align, Doc, Value};

/// Where the plan is.
pub const PLAN: &str = "config/plan.json";

/// Whether a bundle entry is one the design needs.
pub fn wanted(path: &str) -> bool {
    path == PLAN
        || (path.starts_with("runs/")
            && (path.ends_with(&format!("/{STOPPING_FILE}"))
                || path.ends_with(&format!("/{}", quiet::FILE))
                || path.ends_with(&format!("/{}", quiet::HOST_FILE))))
}

/// One run's quiet evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct RunQuiet {
    /// The run folder (`runs/...`).
    pub run: String,
    pub platform: String,
    /// Where the measured step ran (the host natively, the guest on
    /// guest platforms).
    pub step: Option<Figures>,
    /// The host during the guest's block.
    pub host: Option<Figures>,
    /// Why it counts as measured on a busy host; empty when quiet.
    pub busy: Vec<String>,
}

/// A disk workload's cache policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskPolicy {
    pub workload: String,
    pub policy: IoPolicy,
    /// Each platform's scratch disk attachment.
    pub scratch: Vec<(String, String)>,
}

/// The design of one bundle's runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Design {
    /// Whether the bundle has a plan (`collect run` made it).
    pub planned: bool,
    /// The recorded order; none in plans made before it was recorded.
    pub order: Option<RunOrder>,
    pub lanes: Vec<LaneRecord>,
    pub runs: Vec<RunQuiet>,
    pub disks: Vec<DiskPolicy>,
    /// The bundle's design files were not read: a bundle loaded from a
    /// store, whose local catalog keeps its facts and rows, not its design.
    pub unread: bool,
}

impl Design {
    /// The design of a bundle loaded from a store: not read.
    pub fn unread() -> Design {
        Design {
            unread: true,
            ..Design::default()
        }
    }

    /// Reads the design from a bundle's kept entries (see [`wanted`]).
    pub fn of(bundle: &Bundle, summary: &EnvSummary) -> Design {
        let mut d = Design::default();
        let plan: Option<Plan> = bundle
            .file(PLAN)
            .and_then(|b| serde_json::from_slice(b).ok());
        if let Some(plan) = &plan {
            d.planned = true;
            d.order = plan.order;
            let mut seen = Vec::new();
            for run in &plan.runs {
                if let WorkloadSpec::Fio(p) = &run.workload.spec {
                    if run.experiment == Experiment::Overall && !seen.contains(&run.workload.name) {
                        seen.push(run.workload.name.clone());
                        let scratch = plan
                            .platforms
                            .iter()
                            .map(|pl| {
                                let facts = summary
                                    .platforms
                                    .get(pl.name())
                                    .cloned()
                                    .unwrap_or_default();
                                (pl.name().to_owned(), scratch_attachment(pl.name(), &facts))
                            })
                            .collect();
                        d.disks.push(DiskPolicy {
                            workload: run.workload.name.clone(),
                            policy: p.io,
                            scratch,
                        });
                    }
                }
            }
        }
        let mut evidence: BTreeMap<&str, (Option<Evidence>, Option<Evidence>)> = BTreeMap::new();
        for f in &bundle.manifest.files {
            let path = f.path.as_str();
            let parse = || {
                bundle
                    .file(path)
                    .and_then(|b| serde_json::from_slice::<Evidence>(b).ok())
            };
            if let Some(run) = path.strip_suffix(&format!("/{}", quiet::FILE)) {
                evidence.entry(run).or_default().0 = parse();
            } else if let Some(run) = path.strip_suffix(&format!("/{}", quiet::HOST_FILE)) {
                evidence.entry(run).or_default().1 = parse();
            } else if path.ends_with(&format!("/{STOPPING_FILE}")) {
                if let Some(lane) = bundle
                    .file(path)
                    .and_then(|b| serde_json::from_slice::<LaneRecord>(b).ok())
                {
                    d.lanes.push(lane);
                }
            }
        }
        for (run, (step, host)) in evidence {
            let Some(claim) = quiet::claim(step.as_ref(), host.as_ref()) else {
                continue;
            };
            d.runs.push(RunQuiet {
                run: run.to_owned(),
                platform: run.split('/').nth(1).unwrap_or_default().to_owned(),
                step: claim.step,
                host: claim.host,
                busy: claim.busy,
            });
        }
        d
    }

    /// Runs measured on a busy host.
    pub fn busy(&self) -> impl Iterator<Item = &RunQuiet> {
        self.runs.iter().filter(|r| !r.busy.is_empty())
    }
}

/// What an order means, in a sentence.
pub fn order_meaning(order: &RunOrder) -> &'static str {
    match order.kind {
        collect::plan::OrderKind::Blocked => {
            "platform after platform, each running every workload to its end, so drift over the suite falls between platforms"
        }
        collect::plan::OrderKind::Interleaved => {
            "workload after workload, the platforms' blocks alternating and the first platform rotating from workload to workload, so drift falls on all platforms alike"
        }
        collect::plan::OrderKind::Random => {
            "the workloads and each round's platforms in an order drawn from the seed, so drift falls on all platforms alike on average"
        }
    }
}

/// Notes on the cache policy of the disk workloads among `shown`.
pub fn disk_notes(designs: &[&Design], shown: &[&str]) -> Vec<String> {
    let mut by: BTreeMap<(String, IoPolicy), Vec<(String, String)>> = BTreeMap::new();
    for d in designs {
        for disk in d
            .disks
            .iter()
            .filter(|d| shown.contains(&d.workload.as_str()))
        {
            let entry = by.entry((disk.workload.clone(), disk.policy)).or_default();
            for s in &disk.scratch {
                if !entry.contains(s) {
                    entry.push(s.clone());
                }
            }
        }
    }
    // Per policy: its workloads, and each platform's scratch disk (platform, how).
    type Scratch = Vec<(String, String)>;
    let mut workloads: BTreeMap<IoPolicy, (Vec<String>, Scratch)> = BTreeMap::new();
    for ((w, policy), scratch) in by {
        let e = workloads.entry(policy).or_default();
        e.0.push(w);
        for s in scratch {
            if !e.1.contains(&s) {
                e.1.push(s);
            }
        }
    }
    workloads
        .into_iter()
        .map(|(policy, (names, scratch))| {
            let disks: Vec<String> = scratch
                .iter()
                .map(|(p, how)| format!("{p}: {how}"))
                .collect();
            match policy {
                IoPolicy::Direct => format!(
                    "{}: direct I/O on every platform (fio --direct=1, past the page cache of the system running fio); scratch disks: {}.",
                    names.join(", "),
                    disks.join("; ")
                ),
                IoPolicy::Cached => format!(
                    "{}: cached I/O on purpose (the suite's io = \"cached\"): buffered through the page cache of the system running fio, dropped before each run where allowed, so these numbers include the page cache; scratch disks: {}.",
                    names.join(", "),
                    disks.join("; ")
                ),
            }
        })
        .collect()
}

/// Each lane's stopping record, of every bundle, as a document.
pub fn stopping_doc(bundles: &[&BundleInfo]) -> Doc {
    let mut rows = Vec::new();
    let mut records = Vec::new();
    for b in bundles {
        for l in &b.design.lanes {
            let rule = l.rule.map_or("fixed".to_owned(), |r| {
                format!("{}-{}, +-{}%", r.min, r.max, r.target_ci * 100.0)
            });
            rows.push(vec![
                b.id[..12.min(b.id.len())].to_owned(),
                l.platform.clone(),
                l.workload.clone(),
                rule.clone(),
                l.blocks.len().to_string(),
                l.repetitions.to_string(),
                l.stopped.as_str().to_owned(),
                l.why(),
            ]);
            records.push(vec![
                b.id.as_str().into(),
                l.platform.as_str().into(),
                l.workload.as_str().into(),
                rule.into(),
                l.blocks.len().into(),
                (l.repetitions as usize).into(),
                l.not_needed.len().into(),
                l.stopped.as_str().into(),
                l.why().into(),
            ]);
        }
    }
    Doc {
        name: "stopping".into(),
        title: "Why each workload stopped, per platform".into(),
        header: ["Bundle", "Platform", "Workload", "Rule", "Blocks", "Reps", "Stopped", "Why"]
            .map(String::from)
            .to_vec(),
        align: vec![
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Left,
            Align::Left,
        ],
        rows,
        fields: [
            "bundle_id",
            "platform",
            "workload",
            "rule",
            "blocks",
            "repetitions",
            "not_needed",
            "stopped",
            "why",
        ]
        .map(String::from)
        .to_vec(),
        records,
        notes: vec![
            "Rule: fixed (the suite's count) or min-max repetitions until each metric's 95% Student-t interval is within +-target of its mean, checked after each block (Kalibera & Jones 2013 style); a block whose repetition failed or did not return ends the lane. Re-derived from the values by analyze verify --rederive.".into(),
        ],
    }
}

/// Every run's quiet figures, of every bundle, as a document; the
/// displayed rows stop at `max_rows` (the records hold all).
pub fn quiet_doc(bundles: &[&BundleInfo], max_rows: usize) -> Doc {
    let pct = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.1}"));
    let num = |v: Option<f64>| -> Value { v.into() };
    let mut rows = Vec::new();
    let mut records = Vec::new();
    let mut total = 0;
    for b in bundles {
        for r in &b.design.runs {
            total += 1;
            let step = r.step.as_ref();
            let host = r.host.as_ref();
            if rows.len() < max_rows {
                rows.push(vec![
                    format!("{} {}", &b.id[..12.min(b.id.len())], r.run),
                    step.map_or("-".into(), |f| {
                        format!("{:.2} -> {:.2}", f.load1_before, f.load1_after)
                    }),
                    pct(step.and_then(|f| f.steal_pct)),
                    pct(step.and_then(|f| f.iowait_pct)),
                    pct(step.and_then(|f| f.others_pct)),
                    step.and_then(|f| f.freq_mhz_after)
                        .map_or("-".into(), |m| format!("{m:.0}")),
                    pct(host.and_then(|f| f.steal_pct)),
                    if r.busy.is_empty() { "quiet" } else { "busy" }.to_owned(),
                ]);
            }
            records.push(vec![
                b.id.as_str().into(),
                r.run.as_str().into(),
                r.platform.as_str().into(),
                num(step.map(|f| f.seconds)),
                num(step.map(|f| f.load1_before)),
                num(step.map(|f| f.load1_after)),
                num(step.and_then(|f| f.steal_pct)),
                num(step.and_then(|f| f.iowait_pct)),
                num(step.and_then(|f| f.others_pct)),
                num(step.and_then(|f| f.freq_mhz_before)),
                num(step.and_then(|f| f.freq_mhz_after)),
                step.and_then(|f| f.governor.clone()).into(),
                num(host.and_then(|f| f.steal_pct)),
                num(host.and_then(|f| f.others_pct)),
                r.busy.join("; ").into(),
            ]);
        }
    }
    let mut notes = vec![
        format!("Figures over the measured step where it ran (the host natively, the guest on guest platforms), from the raw counters of quiet.json: load average (1 min) before -> after, steal and iowait as shares of all CPUs' time, others: CPU time of processes other than the measured command and collect, frequency after (MHz). Host steal: the host during the guest's block (host-quiet.json). Busy: steal above {STEAL_LIMIT_PCT}% or others above {OTHERS_LIMIT_PCT}% during the step, or host steal above {STEAL_LIMIT_PCT}%; the load average is shown, not judged (it lags a minute and counts the previous repetition's own load)."),
    ];
    if total > rows.len() {
        notes.push(format!(
            "{} more runs are in quiet.csv and quiet.json.",
            total - rows.len()
        ));
    }
    Doc {
        name: "quiet".into(),
        title: "Host quiet per run".into(),
        header: [
            "Run",
            "Load 1 min",
            "Steal %",
            "Iowait %",
            "Others %",
            "MHz",
            "Host steal %",
            "Verdict",
        ]
        .map(String::from)
        .to_vec(),
        align: vec![
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Left,
        ],
        rows,
        fields: [
            "bundle_id",
            "run",
            "platform",
            "seconds",
            "load1_before",
            "load1_after",
            "steal_pct",
            "iowait_pct",
            "others_pct",
            "freq_mhz_before",
            "freq_mhz_after",
            "governor",
            "host_steal_pct",
            "host_others_pct",
            "busy",
        ]
        .map(String::from)
        .to_vec(),
        records,
        notes,
    }
}
