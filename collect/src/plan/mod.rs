//! The plan: every run of a suite on the chosen platforms, resolved
//! before anything starts and stored as `config/plan.json`: what may run,
//! and the order ([`order`]) the blocks of runs go in. Runs of adaptive
//! workloads that the stopping rule does not need are planned too, and
//! recorded as not needed when the lane stops (`crate::runner::schedule`).

pub mod order;

use serde::{Deserialize, Serialize};

pub use order::{OrderKind, RunOrder};

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
}

/// One run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlannedRun {
    pub platform: String,
    pub experiment: String,
    pub workload: WorkloadEntry,
    pub phase: Phase,
    /// Scalability runs: how many guests start at once, each running the
    /// workload (their files in `guest-<i>/` of the run's folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_guests: Option<u32>,
    /// Scalability runs: memory of each guest, when the suite sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_memory_mib: Option<u32>,
    /// Isolation runs: the phase's stressor (`none` for the baseline); the
    /// run starts `n_guests` guests and guest 1 runs the stressor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stressor: Option<String>,
}

impl PlannedRun {
    /// The run's folder inside the bundle.
    pub fn folder(&self) -> String {
        if let Some(stressor) = &self.stressor {
            return format!(
                "runs/{}/{}/{}/{stressor}/{}",
                self.platform,
                self.experiment,
                self.workload.name,
                self.phase.folder()
            );
        }
        match self.n_guests {
            None => format!(
                "runs/{}/{}/{}/{}",
                self.platform,
                self.experiment,
                self.workload.name,
                self.phase.folder()
            ),
            Some(n) => format!(
                "runs/{}/{}/{}/n={n}/{}",
                self.platform,
                self.experiment,
                self.workload.name,
                self.phase.folder()
            ),
        }
    }

    /// Folder of guest `guest` (1-based) of a scalability run.
    pub fn guest_folder(&self, guest: u32) -> String {
        format!("{}/guest-{guest}", self.folder())
    }

    pub fn describe(&self) -> String {
        let phase = match self.phase {
            Phase::Warmup(i) => format!("warm-up {i}/{}", self.workload.schedule.planned_warmups()),
            Phase::Rep(i) => format!("rep {i}/{}", self.workload.schedule.repetitions),
        };
        if let Some(stressor) = &self.stressor {
            return format!(
                "{} isolation {} stressor={stressor} ({} guests) rep {}",
                self.platform,
                self.workload.name,
                self.n_guests.unwrap_or(0),
                match self.phase {
                    Phase::Rep(i) | Phase::Warmup(i) => i,
                }
            );
        }
        match self.n_guests {
            None => format!("{} {} {}", self.platform, self.workload.name, phase),
            Some(n) => format!(
                "{} scalability {} N={n} rep {}",
                self.platform,
                self.workload.name,
                match self.phase {
                    Phase::Rep(i) | Phase::Warmup(i) => i,
                }
            ),
        }
    }
}

/// The resolved plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub suite: String,
    pub platforms: Vec<String>,
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

/// Platforms that can start N guests at once
/// ([`crate::platform::Platform::execute_parallel`]): the scalability
/// experiment runs on these and skips the others (native has no guests).
pub const SCALABILITY_PLATFORMS: [&str; 2] = ["kvm", "xen"];

/// Platforms whose guests get a NIC on a private bridge
/// ([`crate::platform::Platform::execute_isolation`]): the isolation
/// experiment runs on these and skips the others (kvm: taps, xen: vifs,
/// each on a bridge in a namespace of the run's own).
pub const ISOLATION_PLATFORMS: [&str; 2] = ["kvm", "xen"];

/// Whether the isolation experiment runs on `platform`.
pub fn runs_isolation(platform: &str) -> bool {
    ISOLATION_PLATFORMS.contains(&platform)
}

/// Whether the scalability experiment runs on `platform`.
pub fn runs_scalability(platform: &str) -> bool {
    SCALABILITY_PLATFORMS.contains(&platform)
}

/// [`build_with`] in the blocked order (platform after platform).
pub fn build(suite: &Suite, platforms: &[String]) -> Plan {
    build_with(suite, platforms, RunOrder::BLOCKED)
}

/// Expands a suite on the given platforms in `order`: the overall
/// experiment's lanes (see [`order`]), then per platform its isolation
/// runs (per repetition a baseline, then each stressor) and scalability
/// runs (per N, its repetitions).
pub fn build_with(suite: &Suite, platforms: &[String], order: RunOrder) -> Plan {
    let mut runs = Vec::new();
    let names: Vec<&str> = suite.overall.iter().map(|w| w.name.as_str()).collect();
    for group in order.groups(&names, platforms.len()) {
        for (w, p) in group {
            runs.extend(lane(&suite.overall[w], &platforms[p]));
        }
    }
    for platform in platforms {
        if let Some(iso) = suite
            .isolation
            .as_ref()
            .filter(|_| runs_isolation(platform))
        {
            // Repetition-major: each repetition measures its own baseline
            // right before its stressors, so slow drift of the host hits
            // both alike.
            for rep in 1..=iso.repetitions {
                let phases = std::iter::once("none").chain(iso.stressors.iter().map(|s| s.name()));
                for stressor in phases {
                    runs.push(PlannedRun {
                        platform: platform.clone(),
                        experiment: "isolation".into(),
                        workload: iso.workload.clone(),
                        phase: Phase::Rep(rep),
                        n_guests: Some(iso.guests),
                        guest_memory_mib: iso.guest_memory_mib,
                        stressor: Some(stressor.into()),
                    });
                }
            }
        }
        let Some(s) = suite
            .scalability
            .as_ref()
            .filter(|_| runs_scalability(platform))
        else {
            continue;
        };
        for &n in &s.n_guests {
            for rep in 1..=s.repetitions {
                runs.push(PlannedRun {
                    platform: platform.clone(),
                    experiment: "scalability".into(),
                    workload: s.workload.clone(),
                    phase: Phase::Rep(rep),
                    n_guests: Some(n),
                    guest_memory_mib: s.guest_memory_mib,
                    stressor: None,
                });
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
fn lane(entry: &WorkloadEntry, platform: &str) -> Vec<PlannedRun> {
    let s = &entry.schedule;
    let first = s.first_block();
    let phases = (1..=s.warmups)
        .map(Phase::Warmup)
        .chain((1..=first).map(Phase::Rep))
        .chain((s.warmups + 1..=s.planned_warmups()).map(Phase::Warmup))
        .chain((first + 1..=s.repetitions).map(Phase::Rep));
    phases
        .map(|phase| PlannedRun {
            platform: platform.to_owned(),
            experiment: "overall".into(),
            workload: entry.clone(),
            phase,
            n_guests: None,
            guest_memory_mib: None,
            stressor: None,
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
        let plan = build(&smoke(), &["native".to_owned(), "kvm".to_owned()]);
        let iso: Vec<&PlannedRun> = plan
            .runs
            .iter()
            .filter(|r| r.experiment == "isolation")
            .collect();
        assert!(iso
            .iter()
            .all(|r| r.platform == "kvm" && r.n_guests == Some(2)));
        let phases: Vec<&str> = iso.iter().filter_map(|r| r.stressor.as_deref()).collect();
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
            .filter(|r| r.experiment != "isolation")
            .all(|r| r.stressor.is_none()));
    }
}
