//! Native: workloads run directly on the host, the baseline of Table 1.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use super::{Platform, RunOutcome};
use crate::steps;
use crate::workload::{StepContext, Steps};

#[derive(Debug)]
pub struct Native {
    scratch: PathBuf,
    cpus: u32,
}

impl Native {
    pub fn new(scratch: PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&scratch)
            .with_context(|| format!("creating scratch {}", scratch.display()))?;
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        Ok(Native {
            scratch,
            cpus: u32::try_from(cpus).unwrap_or(1),
        })
    }
}

impl Platform for Native {
    fn name(&self) -> &'static str {
        "native"
    }

    fn accel(&self) -> String {
        "none".into()
    }

    fn emulated(&self) -> bool {
        false
    }

    fn facts(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("accel".into(), "none".into()),
            ("scratch".into(), self.scratch.display().to_string()),
            ("cpus".into(), self.cpus.to_string()),
        ])
    }

    fn context(&self) -> StepContext {
        StepContext {
            scratch: self.scratch.clone(),
            cpus: self.cpus,
            kernel_source: None,
            agent: None,
        }
    }

    fn execute(
        &mut self,
        steps: &Steps,
        dir: &Path,
        deadline: Duration,
    ) -> anyhow::Result<RunOutcome> {
        Ok(steps::run(
            steps,
            &self.scratch,
            dir,
            deadline,
            steps::CLEANUP,
        )?)
    }
}
