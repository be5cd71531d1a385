//! The plan: every run of a suite on the chosen platforms, in order,
//! resolved before anything starts and stored as `config/plan.json`.

use serde::{Deserialize, Serialize};

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
}

impl PlannedRun {
    /// The run's folder inside the bundle.
    pub fn folder(&self) -> String {
        format!(
            "runs/{}/{}/{}/{}",
            self.platform,
            self.experiment,
            self.workload.name,
            self.phase.folder()
        )
    }

    pub fn describe(&self) -> String {
        let phase = match self.phase {
            Phase::Warmup(i) => format!("warm-up {i}/{}", self.workload.schedule.warmups),
            Phase::Rep(i) => format!("rep {i}/{}", self.workload.schedule.repetitions),
        };
        format!("{} {} {}", self.platform, self.workload.name, phase)
    }
}

/// The resolved plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub suite: String,
    pub platforms: Vec<String>,
    pub guest: crate::suite::GuestSize,
    pub runs: Vec<PlannedRun>,
}

/// Expands a suite on the given platforms: per platform, per workload, its
/// warm-ups then its repetitions.
pub fn build(suite: &Suite, platforms: &[String]) -> Plan {
    let mut runs = Vec::new();
    for platform in platforms {
        for entry in &suite.overall {
            let phases = (1..=entry.schedule.warmups)
                .map(Phase::Warmup)
                .chain((1..=entry.schedule.repetitions).map(Phase::Rep));
            for phase in phases {
                runs.push(PlannedRun {
                    platform: platform.clone(),
                    experiment: "overall".into(),
                    workload: entry.clone(),
                    phase,
                });
            }
        }
    }
    Plan {
        suite: suite.name.clone(),
        platforms: platforms.to_vec(),
        guest: suite.guest.clone(),
        runs,
    }
}
