//! The guest-platform engine: everything the hypervisor platforms share,
//! around one [`Vmm`] each (`super::kvm`, `super::xen`).
//!
//! Guests boot a Debian kernel with collect's own initramfs, see the
//! host's root read-only under a tmpfs overlay, read their workloads'
//! inputs from a read-only data disk, get a fresh scratch disk (a sparse
//! copy of an ext4 image the host formatted) and a results disk, and run
//! `collect guest-agent`, which writes one framed record per run to the
//! results disk ([`crate::guest`]). The engine holds:
//!
//! - set-up: kernel, initramfs, the agent's copy, the common facts;
//! - each guest's files (disks, job, logs) and generated config, recorded
//!   under `config/<platform>/`;
//! - [`serial`]: the overall experiment, one guest per workload's runs, a
//!   fresh guest after a crash, infrastructure failures retried;
//! - [`parallel`]: N guests at once (scalability, isolation with its
//!   network), the crash hook, deadlines stretched for shared CPUs;
//! - boot facts (boot-to-ready times) and `boot.json` of every run.

mod group;
mod guest;
mod parallel;
mod serial;
pub mod vmm;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};

pub use group::CRASH_GUEST_ENV;
pub use serial::HOST_RETRIES;
pub use vmm::{
    Attempt, BootInfo, Capacity, GuestConfig, GuestSpec, LogFiles, Network, Nic, SerialBoot,
    StartError, Vmm,
};

use super::api::{execute_one, HostSide, ParallelRequest, Platform, RunRequest};
use crate::guest::drive::Timeouts;
use crate::guest::initramfs::{self, Contents, Initramfs};
use crate::guest::kernel::{self, GuestKernel};
use crate::guest::{modules, SCRATCH_MOUNT};
use crate::runfolder::RunFolder;
use crate::suite::GuestSize;
use crate::workload::{StepContext, Steps};
use benchvm_core::outcome::RunOutcome;

/// What every guest platform is set up from.
#[derive(Debug, Clone)]
pub struct GuestSettings {
    /// `--kernel`; default: the newest fetched or /boot kernel.
    pub kernel: Option<PathBuf>,
    /// Cache folder (fetched kernel, built initramfs).
    pub cache: PathBuf,
    /// Folder for disk images, jobs and live logs (absolute).
    pub work: PathBuf,
    /// The collect binary the guests run as their agent (absolute).
    pub agent: PathBuf,
    pub guest: GuestSize,
    /// `None`: the hypervisor's [`Vmm::default_timeouts`].
    pub timeouts: Option<Timeouts>,
    /// Where generated configs, jobs and probe logs are recorded.
    pub folder: Option<Arc<RunFolder>>,
    /// The guests' read-only data disk (`crate::guest::data_disk`).
    pub data_disk: Option<PathBuf>,
}

/// What a guest platform's guests share, set up by the engine and handed
/// to its [`Vmm`].
#[derive(Debug)]
pub struct Base {
    pub settings: GuestSettings,
    pub kernel: GuestKernel,
    pub initramfs: Initramfs,
    /// The agent the guests run, once installed.
    pub agent: PathBuf,
    config_dir: String,
}

/// File name of the agent's copy.
const AGENT_NAME: &str = "collect-agent";

impl Base {
    /// Copies the collect binary to `dir` (in the guests' view of the host
    /// root), so that rebuilding collect during a run cannot change the
    /// agent under its later guests; returns the copy.
    pub fn install_agent(&mut self, dir: &Path) -> Result<PathBuf> {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let agent = dir.join(AGENT_NAME);
        fs::copy(&self.settings.agent, &agent).with_context(|| {
            format!(
                "copying {} to {}",
                self.settings.agent.display(),
                agent.display()
            )
        })?;
        self.agent = agent.clone();
        Ok(agent)
    }

    /// Records `bytes` as `config/<platform>/<name>` of the run folder.
    pub fn record(&self, name: &str, bytes: &[u8]) -> Result<()> {
        match &self.settings.folder {
            Some(f) => f.write_file(&format!("{}/{name}", self.config_dir), bytes),
            None => Ok(()),
        }
    }

    /// `config/<platform>` inside the run folder.
    pub fn config_dir(&self) -> &str {
        &self.config_dir
    }

    pub fn work(&self) -> &Path {
        &self.settings.work
    }
}

/// A hypervisor platform: the engine around its [`Vmm`].
#[derive(Debug)]
pub struct GuestPlatform<V: Vmm> {
    vmm: V,
    base: Base,
    timeouts: Timeouts,
    /// Facts every guest platform records.
    facts: BTreeMap<String, String>,
    /// Seconds from start to ready of every guest that got ready.
    boots: Vec<f64>,
    /// Guests started so far.
    guests: u32,
}

impl<V: Vmm> GuestPlatform<V> {
    /// Finds the kernel, builds the initramfs and sets up the hypervisor
    /// (which checks its host and, for kvm, boots a guest to check all).
    pub fn new(settings: GuestSettings, vmm: V::Settings) -> Result<Self> {
        for (what, p) in [
            ("collect binary", &settings.agent),
            ("work folder", &settings.work),
        ] {
            if p.to_string_lossy().contains(char::is_whitespace) || !p.is_absolute() {
                bail!(
                    "{what} {}: guests need an absolute path without spaces (it goes on the kernel command line)",
                    p.display()
                );
            }
        }
        fs::create_dir_all(&settings.work)
            .with_context(|| format!("creating {}", settings.work.display()))?;
        let kernel = kernel::find(settings.kernel.as_deref(), &settings.cache)?;
        let mut wanted = modules::GUEST_MODULES.to_vec();
        wanted.extend(V::modules(&vmm));
        let initramfs = initramfs::build_with(
            &kernel,
            &settings.cache,
            Contents {
                init: initramfs::INIT,
                modules: &wanted,
            },
        )?;
        let mut facts = BTreeMap::new();
        let mut put = |k: &str, v: String| facts.insert(k.to_owned(), v);
        put("guest_kernel", kernel.version.clone());
        put("guest_kernel_path", kernel.vmlinuz.display().to_string());
        put("initramfs_sha256", initramfs.sha256.clone());
        put("initramfs_modules", initramfs.modules.len().to_string());
        put("vcpus", settings.guest.vcpus.to_string());
        put("memory_mib", settings.guest.memory_mib.to_string());
        put("scratch_gib", settings.guest.scratch_gib.to_string());
        if let Some(image) = &settings.data_disk {
            put("data_disk", data_disk_fact(image));
        }
        let mut base = Base {
            agent: settings.agent.clone(),
            config_dir: format!("config/{}", V::PLATFORM.name()),
            settings,
            kernel,
            initramfs,
        };
        let vmm = V::new(vmm, &mut base)?;
        let timeouts = base
            .settings
            .timeouts
            .unwrap_or_else(|| vmm.default_timeouts());
        Ok(GuestPlatform {
            vmm,
            base,
            timeouts,
            facts,
            boots: Vec::new(),
            guests: 0,
        })
    }

    /// The hypervisor.
    pub fn vmm(&self) -> &V {
        &self.vmm
    }

    /// Counts a guest's boot-to-ready time into the boot facts.
    fn booted(&mut self, boot_to_ready_s: Option<f64>) {
        let Some(t) = boot_to_ready_s else { return };
        self.boots.push(t);
        let n = self.boots.len() as f64;
        let min = self.boots.iter().copied().fold(f64::INFINITY, f64::min);
        let max = self.boots.iter().copied().fold(0.0, f64::max);
        let mean = self.boots.iter().sum::<f64>() / n;
        let mut put = |k: &str, v: String| self.facts.insert(k.to_owned(), v);
        put("guests_booted", self.boots.len().to_string());
        put("boot_to_ready_s_min", format!("{min:.3}"));
        put("boot_to_ready_s_mean", format!("{mean:.3}"));
        put("boot_to_ready_s_max", format!("{max:.3}"));
    }
}

impl<V: Vmm> Platform for GuestPlatform<V> {
    fn name(&self) -> &'static str {
        V::PLATFORM.name()
    }

    fn accel(&self) -> String {
        self.vmm.accel()
    }

    fn emulated(&self) -> bool {
        self.vmm.emulated()
    }

    fn guests(&self) -> Option<u32> {
        Some(1)
    }

    fn facts(&self) -> BTreeMap<String, String> {
        let mut facts = self.facts.clone();
        facts.extend(self.vmm.facts());
        facts
    }

    fn context(&self) -> StepContext {
        StepContext {
            scratch: PathBuf::from(SCRATCH_MOUNT),
            cpus: self.base.settings.guest.vcpus,
            kernel_source: None,
            agent: Some(self.base.agent.clone()),
        }
    }

    fn execute(&mut self, steps: &Steps, dir: &Path, deadline: Duration) -> Result<RunOutcome> {
        execute_one(self, steps, dir, deadline)
    }

    fn execute_all(
        &mut self,
        runs: &[RunRequest<'_>],
        done: &mut dyn FnMut(usize, RunOutcome) -> Result<()>,
    ) -> Result<()> {
        self.serial(runs, done)
    }

    fn execute_parallel(&mut self, run: &ParallelRequest<'_>) -> Result<Vec<RunOutcome>> {
        self.parallel(run, None)
    }

    fn execute_isolation(
        &mut self,
        run: &ParallelRequest<'_>,
        stressed: &Steps,
        host: &mut dyn HostSide,
    ) -> Result<Vec<RunOutcome>> {
        self.parallel(run, Some(parallel::Networked { stressed, host }))
    }
}

/// The `data_disk` fact of a guest platform.
pub fn data_disk_fact(image: &Path) -> String {
    format!(
        "workload inputs (kernel tree, build folders) on a read-only ext4 disk of the guest's own: {}",
        image.file_name().unwrap_or_default().to_string_lossy()
    )
}
