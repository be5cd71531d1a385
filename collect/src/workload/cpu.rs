//! CPU: `sysbench cpu`, a fixed number of prime-search events.

use benchvm_format::metrics::{Direction, Unit};
use serde::{Deserialize, Serialize};

use super::{MetricDef, Output, Requirement, StepContext, Steps, Workload, WALL_TIME};
use crate::parse::sysbench;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CpuParams {
    /// `--cpu-max-prime`.
    pub max_prime: u32,
    /// `--events`: the fixed amount of work (`--time=0`).
    pub events: u64,
    /// `--threads`; 0 means one per available CPU.
    #[serde(default)]
    pub threads: u32,
}

impl Workload for CpuParams {
    fn requirements(&self) -> Vec<Requirement> {
        vec![Requirement {
            what: "sysbench",
            package: "sysbench",
        }]
    }

    fn validate(&self) -> Result<(), (&'static str, String)> {
        if !(3..=10_000_000).contains(&self.max_prime) {
            return Err((
                "max_prime",
                format!("{} is outside 3-10000000", self.max_prime),
            ));
        }
        if !(1..=1_000_000_000).contains(&self.events) {
            return Err(("events", format!("{} is outside 1-1000000000", self.events)));
        }
        if self.threads > 1024 {
            return Err(("threads", format!("{} is over 1024", self.threads)));
        }
        Ok(())
    }

    fn steps(&self, ctx: &StepContext) -> Steps {
        let threads = if self.threads == 0 {
            ctx.cpus
        } else {
            self.threads
        };
        Steps {
            setup: vec![],
            measured: vec![
                "sysbench".into(),
                "cpu".into(),
                format!("--cpu-max-prime={}", self.max_prime),
                format!("--threads={threads}"),
                format!("--events={}", self.events),
                "--time=0".into(),
                "run".into(),
            ],
            cleanup: vec![],
        }
    }

    fn metrics(&self) -> Vec<MetricDef> {
        vec![
            MetricDef {
                metric: "events_per_sec",
                unit: Unit::EVENTS_PER_SECOND,
                direction: Direction::Higher,
            },
            WALL_TIME,
        ]
    }

    fn measure(&self, out: &Output<'_>) -> Result<Vec<f64>, String> {
        let parsed = sysbench::cpu(out.stdout).map_err(|e| e.to_string())?;
        if parsed.total_events != self.events {
            return Err(format!(
                "sysbench ran {} events, the suite asked for {}",
                parsed.total_events, self.events
            ));
        }
        Ok(vec![parsed.events_per_second, out.wall_s])
    }
}
