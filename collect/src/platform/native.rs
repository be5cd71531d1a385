//! Native: workloads run directly on the host, the baseline of Table 1.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use benchvm_format::metrics::Status;

use super::{Platform, RunOutcome};
use crate::process;
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
        }
    }

    fn execute(
        &mut self,
        steps: &Steps,
        dir: &Path,
        deadline: Duration,
    ) -> anyhow::Result<RunOutcome> {
        let deadline = Instant::now() + deadline;
        let setup_log = dir.join("setup.log");
        let log = || {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(&setup_log)
        };
        let mut outcome = None;
        for argv in &steps.setup {
            writeln!(log()?, "$ {}", argv.join(" "))?;
            let done = process::run(argv, &self.scratch, log()?, log()?, deadline)?;
            if !done.success() {
                outcome = Some(failed(
                    format!("setup `{}`: {}", argv.join(" "), done.describe()),
                    None,
                ));
                break;
            }
        }
        if outcome.is_none() {
            let stdout = File::create(dir.join("stdout.log"))?;
            let stderr = File::create(dir.join("stderr.log"))?;
            let done = process::run(&steps.measured, &self.scratch, stdout, stderr, deadline)?;
            outcome = Some(if done.success() {
                RunOutcome {
                    status: Status::Ok,
                    wall_s: Some(done.wall.as_secs_f64()),
                    reason: None,
                    exit_code: done.code,
                }
            } else {
                failed(done.describe(), done.code)
            });
        }
        // Cleanup gets its own short deadline, so a timed-out run still cleans.
        let cleanup_deadline = Instant::now() + Duration::from_secs(120);
        for argv in &steps.cleanup {
            writeln!(log()?, "$ {}", argv.join(" "))?;
            process::run(argv, &self.scratch, log()?, log()?, cleanup_deadline)?;
        }
        Ok(outcome.unwrap_or_else(|| failed("no command ran".into(), None)))
    }
}

fn failed(reason: String, exit_code: Option<i32>) -> RunOutcome {
    RunOutcome {
        status: Status::Failed,
        wall_s: None,
        reason: Some(reason),
        exit_code,
    }
}
