//! The plan: every run of a suite on the chosen platforms, resolved
//! before anything starts and stored as `config/plan.json`: what may run,
//! and the order ([`order`]) the blocks of runs go in. Runs of adaptive
//! workloads that the stopping rule does not need are planned too, and
//! recorded as not needed when the lane stops (`crate::runner::schedule`).
//!
//! A run names its platform ([`PlatformKind`]) and its experiment
//! ([`Experiment`]: overall, isolation with its phase's stressor, or
//! scalability with N) as enums. `config/plan.json` keeps the layout it
//! always had (`experiment` as a name, `n_guests`, `guest_memory_mib` and
//! `stressor` beside it when they apply: [`WireRun`]), so every bundle's
//! plan reads back and re-derives the same.

pub mod order;

use benchvm_core::registry::PlatformKind;
use serde::{Deserialize, Serialize};

pub use order::{OrderKind, RunOrder};

use crate::isolation::stressor::Stressor;
use crate::suite::{Suite, WorkloadEntry};

/// Whether a run counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "index")]
pub enum Phase {
    /// Discarded; warms caches. 1-based.
    Warmup(u32),
    /// Measured. 1-based.
    Rep(u32),
}

impl Phase {
    pub fn folder(&self) -> String {
        match self {
            Phase::Warmup(i) => format!("warmup-{i:02}"),
            Phase::Rep(i) => format!("rep-{i:02}"),
        }
    }

    /// The warm-up's or repetition's number.
    pub fn index(&self) -> u32 {
        match self {
            Phase::Warmup(i) | Phase::Rep(i) => *i,
        }
    }
}

/// What an isolation phase stresses guest 1 with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stress {
    /// The baseline phase: no stressor (`none` in rows and folders).
    Baseline,
    Stressor(Stressor),
}

impl Stress {
    /// The name in rows, folders and plans.
    pub fn name(self) -> &'static str {
        match self {
            Stress::Baseline => BASELINE,
            Stress::Stressor(s) => s.name(),
        }
    }

    pub fn parse(name: &str) -> Option<Stress> {
        if name == BASELINE {
            return Some(Stress::Baseline);
        }
        Stressor::parse(name).map(Stress::Stressor)
    }

    pub fn stressor(self) -> Option<Stressor> {
        match self {
            Stress::Baseline => None,
            Stress::Stressor(s) => Some(s),
        }
    }
}

/// The stressor name of baseline phases.
pub const BASELINE: &str = "none";

/// The experiment a run belongs to, with what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Experiment {
    /// Table 1: one run of the workload.
    Overall,
    /// Table 2: one phase, `guests` guests at once, guest 1 stressed.
    Isolation {
        stress: Stress,
        guests: u32,
        /// Memory of each guest, when the suite sets it.
        guest_memory_mib: Option<u32>,
    },
    /// Section 4: `n_guests` guests at once, each running the workload.
    Scalability {
        n_guests: u32,
        /// Memory of each guest, when the suite sets it.
        guest_memory_mib: Option<u32>,
    },
}

/// An experiment's name in rows, folders and plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExperimentKind {
    Overall,
    Isolation,
    Scalability,
}

impl ExperimentKind {
    pub fn name(self) -> &'static str {
        match self {
            ExperimentKind::Overall => "overall",
            ExperimentKind::Isolation => "isolation",
            ExperimentKind::Scalability => "scalability",
        }
    }
}

impl Experiment {
    pub fn kind(&self) -> ExperimentKind {
        match self {
            Experiment::Overall => ExperimentKind::Overall,
            Experiment::Isolation { .. } => ExperimentKind::Isolation,
            Experiment::Scalability { .. } => ExperimentKind::Scalability,
        }
    }

    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// Guests started at once: `None` for a run of its own.
    pub fn n_guests(&self) -> Option<u32> {
        match self {
            Experiment::Overall => None,
            Experiment::Isolation { guests, .. } => Some(*guests),
            Experiment::Scalability { n_guests, .. } => Some(*n_guests),
        }
    }

    /// Memory of each of its guests, when the suite sets it.
    pub fn guest_memory_mib(&self) -> Option<u32> {
        match self {
            Experiment::Overall => None,
            Experiment::Isolation {
                guest_memory_mib, ..
            }
            | Experiment::Scalability {
                guest_memory_mib, ..
            } => *guest_memory_mib,
        }
    }

    /// An isolation phase's stress.
    pub fn stress(&self) -> Option<Stress> {
        match self {
            Experiment::Isolation { stress, .. } => Some(*stress),
            Experiment::Overall | Experiment::Scalability { .. } => None,
        }
    }
}

/// One run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "WireRun", try_from = "WireRun")]
pub struct PlannedRun {
    pub platform: PlatformKind,
    pub experiment: Experiment,
    pub workload: WorkloadEntry,
    pub phase: Phase,
}

/// A run as `config/plan.json` holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireRun {
    platform: PlatformKind,
    experiment: ExperimentKind,
    workload: WorkloadEntry,
    phase: Phase,
    /// Scalability and isolation runs: how many guests start at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n_guests: Option<u32>,
    /// Scalability and isolation runs: memory of each guest, when the
    /// suite sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    guest_memory_mib: Option<u32>,
    /// Isolation runs: the phase's stressor (`none` for the baseline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stressor: Option<String>,
}

impl From<PlannedRun> for WireRun {
    fn from(r: PlannedRun) -> Self {
        WireRun {
            platform: r.platform,
            experiment: r.experiment.kind(),
            n_guests: r.experiment.n_guests(),
            guest_memory_mib: r.experiment.guest_memory_mib(),
            stressor: r.experiment.stress().map(|s| s.name().to_owned()),
            workload: r.workload,
            phase: r.phase,
        }
    }
}

impl TryFrom<WireRun> for PlannedRun {
    type Error = String;

    fn try_from(w: WireRun) -> Result<Self, String> {
        let experiment = match (w.experiment, w.n_guests, w.stressor.as_deref()) {
            (ExperimentKind::Overall, None, None) if w.guest_memory_mib.is_none() => {
                Experiment::Overall
            }
            (ExperimentKind::Isolation, Some(guests), Some(name)) => Experiment::Isolation {
                stress: Stress::parse(name).ok_or_else(|| format!("unknown stressor {name:?}"))?,
                guests,
                guest_memory_mib: w.guest_memory_mib,
            },
            (ExperimentKind::Scalability, Some(n_guests), None) => Experiment::Scalability {
                n_guests,
                guest_memory_mib: w.guest_memory_mib,
            },
            (kind, n, s) => {
                return Err(format!(
                    "a {} run with n_guests {n:?} and stressor {s:?}",
                    kind.name()
                ))
            }
        };
        Ok(PlannedRun {
            platform: w.platform,
            experiment,
            workload: w.workload,
            phase: w.phase,
        })
    }
}

impl PlannedRun {
    /// The run's folder inside the bundle.
    pub fn folder(&self) -> String {
        let base = format!(
            "runs/{}/{}/{}",
            self.platform,
            self.experiment.name(),
            self.workload.name
        );
        let phase = self.phase.folder();
        match self.experiment {
            Experiment::Overall => format!("{base}/{phase}"),
            Experiment::Isolation { stress, .. } => format!("{base}/{}/{phase}", stress.name()),
            Experiment::Scalability { n_guests, .. } => format!("{base}/n={n_guests}/{phase}"),
        }
    }

    /// Folder of guest `guest` (1-based) of a multi-guest run.
    pub fn guest_folder(&self, guest: u32) -> String {
        format!("{}/guest-{guest}", self.folder())
    }

    pub fn describe(&self) -> String {
        let i = self.phase.index();
        match self.experiment {
            Experiment::Overall => {
                let phase = match self.phase {
                    Phase::Warmup(i) => {
                        format!("warm-up {i}/{}", self.workload.schedule.planned_warmups())
                    }
                    Phase::Rep(i) => format!("rep {i}/{}", self.workload.schedule.repetitions),
                };
                format!("{} {} {}", self.platform, self.workload.name, phase)
            }
            Experiment::Isolation { stress, guests, .. } => format!(
                "{} isolation {} stressor={} ({guests} guests) rep {i}",
                self.platform,
                self.workload.name,
                stress.name()
            ),
            Experiment::Scalability { n_guests, .. } => format!(
                "{} scalability {} N={n_guests} rep {i}",
                self.platform, self.workload.name
            ),
        }
    }
}

/// The resolved plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub suite: String,
    pub platforms: Vec<PlatformKind>,
    pub guest: crate::suite::GuestSize,
    /// The order of the blocks; absent in plans made before it was
    /// recorded (those ran blocked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<RunOrder>,
    /// Every run that may run: the overall experiment lane by lane, in the
    /// order of the lanes' first blocks (each lane's first block, then the
    /// runs later blocks may take), then per platform its isolation and
    /// scalability runs.
    pub runs: Vec<PlannedRun>,
}

/// [`build_with`] in the blocked order (platform after platform).
pub fn build(suite: &Suite, platforms: &[PlatformKind]) -> Plan {
    build_with(suite, platforms, RunOrder::BLOCKED)
}

/// Expands a suite on the given platforms in `order`: the overall
/// experiment's lanes (see [`order`]), then, on platforms whose registry
/// entry runs them, the isolation phases (per repetition, a baseline and
/// each stressor) and the scalability runs (per N, its repetitions).
pub fn build_with(suite: &Suite, platforms: &[PlatformKind], order: RunOrder) -> Plan {
    let mut runs = Vec::new();
    let names: Vec<&str> = suite.overall.iter().map(|w| w.name.as_str()).collect();
    for group in order.groups(&names, platforms.len()) {
        for (w, p) in group {
            runs.extend(lane(&suite.overall[w], platforms[p]));
        }
    }
    for &platform in platforms {
        let info = platform.info();
        let mut push = |experiment, workload: &WorkloadEntry, phase| {
            runs.push(PlannedRun {
                platform,
                experiment,
                workload: workload.clone(),
                phase,
            })
        };
        if let Some(iso) = suite.isolation.as_ref().filter(|_| info.isolation) {
            // Repetition-major: each repetition measures its own baseline
            // right before its stressors, so slow drift of the host hits
            // both alike.
            for rep in 1..=iso.repetitions {
                let phases = std::iter::once(Stress::Baseline)
                    .chain(iso.stressors.iter().map(|s| Stress::Stressor(*s)));
                for stress in phases {
                    let experiment = Experiment::Isolation {
                        stress,
                        guests: iso.guests,
                        guest_memory_mib: iso.guest_memory_mib,
                    };
                    push(experiment, &iso.workload, Phase::Rep(rep));
                }
            }
        }
        if let Some(s) = suite.scalability.as_ref().filter(|_| info.scalability) {
            for &n in &s.n_guests {
                for rep in 1..=s.repetitions {
                    let experiment = Experiment::Scalability {
                        n_guests: n,
                        guest_memory_mib: s.guest_memory_mib,
                    };
                    push(experiment, &s.workload, Phase::Rep(rep));
                }
            }
        }
    }
    Plan {
        suite: suite.name.clone(),
        platforms: platforms.to_vec(),
        guest: suite.guest.clone(),
        order: Some(order),
        runs,
    }
}

/// The runs of one workload on one platform: its first block (warm-ups,
/// then the first repetitions), then the warm-ups and repetitions later
/// blocks may take.
fn lane(entry: &WorkloadEntry, platform: PlatformKind) -> Vec<PlannedRun> {
    let s = &entry.schedule;
    let first = s.first_block();
    let phases = (1..=s.warmups)
        .map(Phase::Warmup)
        .chain((1..=first).map(Phase::Rep))
        .chain((s.warmups + 1..=s.planned_warmups()).map(Phase::Warmup))
        .chain((first + 1..=s.repetitions).map(Phase::Rep));
    phases
        .map(|phase| PlannedRun {
            platform,
            experiment: Experiment::Overall,
            workload: entry.clone(),
            phase,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smoke() -> Suite {
        crate::suite::load(&crate::suite::SuiteRef::Builtin("smoke".into()))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn isolation_runs_a_baseline_then_each_stressor_on_guest_platforms_only() {
        let plan = build(&smoke(), &[PlatformKind::Native, PlatformKind::Kvm]);
        let iso: Vec<&PlannedRun> = plan
            .runs
            .iter()
            .filter(|r| r.experiment.kind() == ExperimentKind::Isolation)
            .collect();
        assert!(iso
            .iter()
            .all(|r| r.platform == PlatformKind::Kvm && r.experiment.n_guests() == Some(2)));
        let phases: Vec<&str> = iso
            .iter()
            .filter_map(|r| r.experiment.stress().map(Stress::name))
            .collect();
        assert_eq!(
            phases,
            [
                "none",
                "memory",
                "fork",
                "cpu",
                "disk",
                "net-receive",
                "net-send"
            ]
        );
        assert_eq!(iso[3].folder(), "runs/kvm/isolation/web/cpu/rep-01");
        assert_eq!(
            iso[3].guest_folder(2),
            "runs/kvm/isolation/web/cpu/rep-01/guest-2"
        );
        // Scalability runs carry no stressor; overall runs neither.
        assert!(plan
            .runs
            .iter()
            .filter(|r| r.experiment.kind() != ExperimentKind::Isolation)
            .all(|r| r.experiment.stress().is_none()));
    }

    /// The JSON of `config/plan.json` as collect always wrote it: every
    /// run of the smoke suite reads back to itself, the isolation and
    /// scalability runs with the fields they had.
    #[test]
    fn plans_keep_their_json_layout() {
        let plan = build(&smoke(), &[PlatformKind::Native, PlatformKind::Kvm]);
        let json = serde_json::to_value(&plan).expect("json");
        let runs = json["runs"].as_array().expect("runs");
        let overall = &runs[0];
        assert_eq!(overall["platform"], "native");
        assert_eq!(overall["experiment"], "overall");
        assert!(overall.get("n_guests").is_none() && overall.get("stressor").is_none());
        let iso = runs
            .iter()
            .find(|r| r["experiment"] == "isolation")
            .expect("isolation");
        assert_eq!(
            (&iso["n_guests"], &iso["guest_memory_mib"], &iso["stressor"]),
            (&2.into(), &512.into(), &"none".into())
        );
        let scal = runs
            .iter()
            .find(|r| r["experiment"] == "scalability")
            .expect("scalability");
        assert_eq!(scal["n_guests"], 1);
        assert!(scal.get("stressor").is_none());
        let back: Plan = serde_json::from_value(json.clone()).expect("reads back");
        assert_eq!(back.runs, plan.runs);
        assert_eq!(serde_json::to_value(&back).expect("json"), json);
        // A run that mixes experiments is refused.
        let mut bad = overall.clone();
        bad["stressor"] = "cpu".into();
        assert!(serde_json::from_value::<PlannedRun>(bad).is_err());
    }
}
