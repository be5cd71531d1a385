//! A platform that runs nothing: it answers each run with canned output
//! chosen by the measured program's name. It exists for fast, deterministic
//! tests of the runner, the run folder and the metrics pipeline; the real
//! platforms have end-to-end tests of their own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use benchvm_format::metrics::Status;

use super::{guest_dir, ParallelRequest, Platform, RunOutcome};
use crate::workload::{StepContext, Steps};

/// What the fake answers for one program.
#[derive(Debug, Clone)]
pub struct Canned {
    pub stdout: String,
    pub status: Status,
    pub wall_s: f64,
}

#[derive(Debug)]
pub struct Fake {
    pub name: &'static str,
    pub accel: String,
    pub emulated: bool,
    /// Program name (`sysbench`, `fio`, `make`) -> answer.
    pub answers: BTreeMap<String, Canned>,
    /// Every measured command, in order.
    pub seen: Vec<Vec<String>>,
    /// Guests (1-based) that do not return in every scalability run.
    pub dnr_guests: Vec<u32>,
}

impl Fake {
    pub fn new(name: &'static str) -> Self {
        Fake {
            name,
            accel: "none".into(),
            emulated: false,
            answers: BTreeMap::new(),
            seen: Vec::new(),
            dnr_guests: Vec::new(),
        }
    }

    /// Makes guest `guest` of every scalability run crash (dnr).
    pub fn crash_guest(mut self, guest: u32) -> Self {
        self.dnr_guests.push(guest);
        self
    }

    pub fn answer(mut self, program: &str, stdout: &str, status: Status, wall_s: f64) -> Self {
        self.answers.insert(
            program.into(),
            Canned {
                stdout: stdout.into(),
                status,
                wall_s,
            },
        );
        self
    }
}

impl Platform for Fake {
    fn name(&self) -> &'static str {
        self.name
    }

    fn accel(&self) -> String {
        self.accel.clone()
    }

    fn emulated(&self) -> bool {
        self.emulated
    }

    fn facts(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("accel".into(), self.accel.clone()),
            ("fake".into(), "true".into()),
        ])
    }

    fn context(&self) -> StepContext {
        StepContext {
            scratch: PathBuf::from("/nonexistent/scratch"),
            cpus: 2,
            kernel_source: None,
            agent: None,
        }
    }

    fn execute(
        &mut self,
        steps: &Steps,
        dir: &Path,
        _deadline: Duration,
    ) -> anyhow::Result<RunOutcome> {
        self.seen.push(steps.measured.clone());
        let program = steps.measured.first().cloned().unwrap_or_default();
        let canned = self.answers.get(&program).cloned().unwrap_or(Canned {
            stdout: String::new(),
            status: Status::Failed,
            wall_s: 0.0,
        });
        std::fs::write(dir.join("stdout.log"), &canned.stdout)?;
        std::fs::write(dir.join("stderr.log"), "")?;
        Ok(match canned.status {
            Status::Ok => RunOutcome {
                status: Status::Ok,
                wall_s: Some(canned.wall_s),
                reason: None,
                exit_code: Some(0),
            },
            other => RunOutcome {
                status: other,
                wall_s: None,
                reason: Some(format!("fake {program}: {other:?}")),
                exit_code: None,
            },
        })
    }

    fn execute_parallel(&mut self, run: &ParallelRequest<'_>) -> anyhow::Result<Vec<RunOutcome>> {
        let mut out = Vec::new();
        for guest in 1..=run.n_guests {
            let dir = guest_dir(run.dir, guest);
            std::fs::create_dir_all(&dir)?;
            if self.dnr_guests.contains(&guest) {
                std::fs::write(
                    dir.join("console.log"),
                    "Kernel panic - not syncing: sysrq triggered crash\n",
                )?;
                out.push(RunOutcome {
                    status: Status::Dnr,
                    wall_s: None,
                    reason: Some(format!("fake guest {guest} crashed")),
                    exit_code: None,
                });
            } else {
                out.push(self.execute(run.steps, &dir, run.deadline)?);
            }
        }
        Ok(out)
    }
}
