//! The platform API: what the runner hands a platform and gets back, and
//! the [`Platform`] trait every platform implements (native on the host,
//! the guest platforms through [`super::engine`], the fake for tests).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use benchvm_core::outcome::RunOutcome;

use crate::workload::{StepContext, Steps};

/// One run handed to a platform.
#[derive(Debug, Clone)]
pub struct RunRequest<'a> {
    pub steps: &'a Steps,
    /// The folder that receives the run's files.
    pub dir: &'a Path,
    pub deadline: Duration,
    /// The run's folder in the bundle (`runs/...`), to name it in logs.
    pub name: String,
}

/// A scalability run handed to a platform: `n_guests` guests started at
/// once, each running `steps` under `deadline`.
#[derive(Debug, Clone)]
pub struct ParallelRequest<'a> {
    pub steps: &'a Steps,
    /// The run's folder; guest `i`'s files go into [`guest_dir`]`(dir, i)`.
    pub dir: &'a Path,
    pub deadline: Duration,
    /// The run's folder in the bundle (`runs/...`), to name it in logs.
    pub name: String,
    pub n_guests: u32,
    /// Memory of each guest; `None`: the platform's guest size.
    pub memory_mib: Option<u32>,
}

/// The host's part of an isolation phase (load client, host-side
/// stressors), run on the caller's thread while the guests run.
pub trait HostSide {
    /// Called once, right after every guest was started. `net` is the
    /// namespace holding the guests' bridge; `guests[i]` is guest `i + 1`'s
    /// address; a guest not answering by `ready_by` never became ready.
    fn during(
        &mut self,
        net: &crate::isolation::netns::Netns,
        guests: &[std::net::Ipv4Addr],
        ready_by: std::time::Instant,
    ) -> anyhow::Result<()>;
}

/// Folder of guest `guest` (1-based) inside a scalability run's folder.
pub fn guest_dir(dir: &Path, guest: u32) -> PathBuf {
    dir.join(format!("guest-{guest}"))
}

/// A place to run workloads.
pub trait Platform: std::fmt::Debug {
    /// `native`, `kvm` or `xen`.
    fn name(&self) -> &'static str;
    /// Accelerator really used (`none`, `kvm`, `tcg`, `xen-pv`...).
    fn accel(&self) -> String;
    /// True when the numbers come from software emulation.
    fn emulated(&self) -> bool;
    /// Guests running at once when this platform runs a workload (the
    /// `n_guests` of its metric rows, each row's `guest` being 1); `None`
    /// when workloads run on the host itself.
    fn guests(&self) -> Option<u32> {
        None
    }
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
    /// Runs consecutive runs of one workload (its warm-ups, then its
    /// repetitions) in order, reporting each outcome to `done` with the
    /// run's index as soon as it is known. The default runs them one by one
    /// with [`Platform::execute`]; guest platforms boot one guest for all.
    fn execute_all(
        &mut self,
        runs: &[RunRequest<'_>],
        done: &mut dyn FnMut(usize, RunOutcome) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        for (i, run) in runs.iter().enumerate() {
            let outcome = self.execute(run.steps, run.dir, run.deadline)?;
            done(i, outcome)?;
        }
        Ok(())
    }
    /// Starts `run.n_guests` guests at once, each running the same steps,
    /// and returns each guest's outcome (`[i]` is guest `i + 1`) once all
    /// ended; guest `i`'s files (`stdout.log`, `console.log`...) go into
    /// [`guest_dir`]. A guest that crashes or hangs is `dnr`, never an
    /// error. The default refuses: workloads on the host have no guests.
    fn execute_parallel(&mut self, run: &ParallelRequest<'_>) -> anyhow::Result<Vec<RunOutcome>> {
        anyhow::bail!(
            "the {} platform cannot start guests, so it cannot run {} ({} at once)",
            self.name(),
            run.name,
            run.n_guests
        )
    }
    /// As [`Platform::execute_parallel`], but every guest also gets a NIC
    /// on a bridge in a network namespace of its own (torn down after, also
    /// on error and Ctrl-C), guest 1 runs `stressed` instead of
    /// `run.steps`, and `host` runs its part while the guests run. The
    /// default refuses: the platform has no guest networking.
    fn execute_isolation(
        &mut self,
        run: &ParallelRequest<'_>,
        stressed: &Steps,
        host: &mut dyn HostSide,
    ) -> anyhow::Result<Vec<RunOutcome>> {
        let _ = (stressed, host);
        anyhow::bail!(
            "the {} platform cannot give guests a network, so it cannot run {}",
            self.name(),
            run.name
        )
    }
}

/// [`Platform::execute`] for platforms whose unit of work is
/// [`Platform::execute_all`] (one guest for a batch of runs): a batch of one.
pub(crate) fn execute_one(
    platform: &mut dyn Platform,
    steps: &Steps,
    dir: &Path,
    deadline: Duration,
) -> anyhow::Result<RunOutcome> {
    let req = RunRequest {
        steps,
        dir,
        deadline,
        name: dir.display().to_string(),
    };
    let mut out = None;
    platform.execute_all(std::slice::from_ref(&req), &mut |_, o| {
        out = Some(o);
        Ok(())
    })?;
    out.ok_or_else(|| anyhow::anyhow!("{}: the guest reported no outcome", platform.name()))
}
