//! Platforms: where a workload runs (native Linux, QEMU/KVM guests, Xen
//! domains). One platform per file behind the [`Platform`] trait.

pub mod fake;
mod native;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use benchvm_format::metrics::Status;
use serde::Serialize;

pub use native::Native;

use crate::workload::{StepContext, Steps};

/// How one run ended, as the platform saw it.
#[derive(Debug, Clone, Serialize)]
pub struct RunOutcome {
    pub status: Status,
    /// Wall time of the measured command (monotonic clock), when it ran to the end.
    pub wall_s: Option<f64>,
    /// What went wrong, for failed and dnr runs.
    pub reason: Option<String>,
    /// Exit code of the measured command.
    pub exit_code: Option<i32>,
}

/// A place to run workloads.
pub trait Platform: std::fmt::Debug {
    /// `native`, `kvm` or `xen`.
    fn name(&self) -> &'static str;
    /// Accelerator really used (`none`, `kvm`, `tcg`, `xen-pv`...).
    fn accel(&self) -> String;
    /// True when the numbers come from software emulation.
    fn emulated(&self) -> bool;
    /// Facts recorded in `env/summary.json` under `platforms.<name>`.
    fn facts(&self) -> BTreeMap<String, String>;
    /// Where workloads run: scratch folder and CPU count.
    fn context(&self) -> StepContext;
    /// Runs one run's steps, writing `stdout.log`, `stderr.log` and
    /// `setup.log` (and `console.log` for guests) into `dir`.
    fn execute(
        &mut self,
        steps: &Steps,
        dir: &Path,
        deadline: Duration,
    ) -> anyhow::Result<RunOutcome>;
}
