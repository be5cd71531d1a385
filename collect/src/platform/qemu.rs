//! KVM: QEMU guests that boot a Debian kernel with collect's own initramfs
//! and run the host's own root (read-only 9p under a tmpfs overlay), so
//! they run the very same tool binaries as native runs. One guest boots per
//! workload and runs its warm-ups and repetitions in order; a guest that
//! panics, hangs or vanishes costs the run it was in (dnr) and a fresh guest
//! takes the remaining runs. A QEMU killed from outside (a signal collect
//! did not send) is an infrastructure failure, not the benchmark's: the run
//! it was in is retried on a fresh guest, up to [`QEMU_RETRIES`] times.
//! With `--accel auto` KVM is probed by booting a guest under a deadline,
//! and TCG is used when that fails. [`serial`] runs the overall
//! experiment (one guest per workload), [`parallel`] the multi-guest ones.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::Serialize;

use super::{steps, ParallelRequest, Platform, RunOutcome, RunRequest};
use crate::guest::agent::Job;
use crate::guest::drive::{self, Report};
use crate::guest::initramfs::{self, Initramfs};
use crate::guest::kernel::{self, GuestKernel};
use crate::guest::qemu::{self, Accel, Drive, QemuCommand};
use crate::guest::SCRATCH_MOUNT;
use crate::guest::{data_disk, scratch};
use crate::runfolder::RunFolder;
use crate::suite::GuestSize;
use crate::workload::{StepContext, Steps};

pub use crate::guest::drive::Timeouts;

mod parallel;
mod serial;

pub use serial::QEMU_RETRIES;

/// Where generated configs go inside the run folder.
const CONFIG_DIR: &str = "config/kvm";
/// Size of the sparse results disk; records are a few KiB each.
const RESULTS_DISK_BYTES: u64 = 256 << 20;
const BANNER: &str = "==================================================================";
/// How long a KVM probe guest may take to say it is ready.
const KVM_PROBE: Duration = Duration::from_secs(20);
/// `--accel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccelChoice {
    /// KVM if a probe guest boots under it, else TCG with a warning.
    Auto,
    Kvm,
    Tcg,
}

impl AccelChoice {
    fn name(self) -> &'static str {
        match self {
            AccelChoice::Auto => "auto",
            AccelChoice::Kvm => "kvm",
            AccelChoice::Tcg => "tcg",
        }
    }
}

impl Timeouts {
    /// Defaults: boot is slow under emulation; cleanup as native.
    pub fn for_accel(accel: Accel) -> Self {
        Timeouts {
            boot: Duration::from_secs(match accel {
                Accel::Kvm => 60,
                Accel::Tcg => 180,
            }),
            cleanup: steps::CLEANUP,
            margin: Duration::from_secs(60),
        }
    }
}

/// What the kvm platform is set up from.
#[derive(Debug, Clone)]
pub struct QemuSettings {
    /// `--kernel`; default: the newest fetched or /boot kernel.
    pub kernel: Option<PathBuf>,
    /// Cache folder (fetched kernel, built initramfs).
    pub cache: PathBuf,
    /// Folder for disk images, jobs and live console logs (absolute).
    pub work: PathBuf,
    /// The collect binary the guests run as their agent (absolute).
    pub agent: PathBuf,
    pub accel: AccelChoice,
    pub guest: GuestSize,
    /// `None`: [`Timeouts::for_accel`].
    pub timeouts: Option<Timeouts>,
    /// Where generated command lines, jobs and probe logs are recorded.
    pub folder: Option<Arc<RunFolder>>,
    /// The guests' read-only data disk (`crate::guest::data_disk`).
    pub data_disk: Option<PathBuf>,
}

/// The kvm platform.
#[derive(Debug)]
pub struct Qemu {
    s: QemuSettings,
    kernel: GuestKernel,
    initramfs: Initramfs,
    accel: Accel,
    timeouts: Timeouts,
    /// QEMU cache mode of the scratch disk.
    cache_mode: &'static str,
    facts: BTreeMap<String, String>,
    boots: Vec<f64>,
    guests: u32,
}

/// `boot.json` of each run.
#[derive(Debug, Serialize)]
struct BootRecord<'a> {
    guest: &'a str,
    accel: Accel,
    /// Host monotonic seconds from QEMU's start to the agent's ready marker.
    boot_to_ready_s: Option<f64>,
    /// The guest's uptime at that marker.
    ready_uptime_s: Option<f64>,
    /// Runs the guest was given, in order, and this run's place among them.
    runs: Vec<&'a str>,
    position: usize,
    qemu_ended: &'a str,
    failure: Option<&'a str>,
    command_line: &'a str,
}

impl Qemu {
    /// Finds the kernel, builds the initramfs, chooses the accelerator
    /// (probing KVM when asked to) and boots one guest to check the setup.
    pub fn new(s: QemuSettings) -> Result<Self> {
        for (what, p) in [("collect binary", &s.agent), ("work folder", &s.work)] {
            if p.to_string_lossy().contains(char::is_whitespace) || !p.is_absolute() {
                bail!(
                    "{what} {}: guests need an absolute path without spaces (it goes on the kernel command line)",
                    p.display()
                );
            }
        }
        fs::create_dir_all(&s.work).with_context(|| format!("creating {}", s.work.display()))?;
        // Guests run this copy: rebuilding collect during a run cannot
        // change the agent under its later guests.
        let agent = s.work.join("collect-agent");
        fs::copy(&s.agent, &agent)
            .with_context(|| format!("copying {} to {}", s.agent.display(), agent.display()))?;
        let s = QemuSettings { agent, ..s };
        let kernel = kernel::find(s.kernel.as_deref(), &s.cache)?;
        let initramfs = initramfs::build(&kernel, &s.cache)?;
        let cache_mode = if qemu::supports_direct_io(&s.work) {
            "none"
        } else {
            "writeback"
        };
        let mut facts = BTreeMap::new();
        let mut put = |k: &str, v: String| facts.insert(k.to_owned(), v);
        put("accel_requested", s.accel.name().into());
        put("qemu_version", qemu::version());
        put("machine", qemu::machine_type());
        put("guest_kernel", kernel.version.clone());
        put("guest_kernel_path", kernel.vmlinuz.display().to_string());
        put("guest_modules", kernel.modules.display().to_string());
        put("initramfs_sha256", initramfs.sha256.clone());
        put("initramfs_modules", initramfs.modules.len().to_string());
        let host_kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        put("host_kernel", host_kernel.trim().into());
        put("vcpus", s.guest.vcpus.to_string());
        put("memory_mib", s.guest.memory_mib.to_string());
        put("scratch_gib", s.guest.scratch_gib.to_string());
        put("scratch_cache", cache_mode.into());
        put(
            "root",
            "host / over virtio-9p, read-only, tmpfs overlay".into(),
        );
        if let Some(image) = &s.data_disk {
            put("data_disk", data_disk_fact(image));
        }
        let mut q = Qemu {
            timeouts: s
                .timeouts
                .unwrap_or_else(|| Timeouts::for_accel(Accel::Tcg)),
            s,
            kernel,
            initramfs,
            accel: Accel::Tcg,
            cache_mode,
            facts,
            boots: Vec::new(),
            guests: 0,
        };
        q.accel = q.choose_accel()?;
        q.timeouts = q.s.timeouts.unwrap_or_else(|| Timeouts::for_accel(q.accel));
        q.fact("accel", q.accel.name());
        q.fact("cpu_model", q.accel.cpu());
        Ok(q)
    }

    fn fact(&mut self, key: &str, value: &str) {
        self.facts.insert(key.to_owned(), value.to_owned());
    }

    /// Probes KVM when asked, then makes sure a guest boots with the
    /// accelerator chosen (the probe guest runs the agent, so this checks
    /// kernel, initramfs, 9p root and collect binary at once).
    fn choose_accel(&mut self) -> Result<Accel> {
        let kvm_wanted = self.s.accel != AccelChoice::Tcg;
        if kvm_wanted {
            let kvm = if Path::new("/dev/kvm").exists() {
                let r = self.probe(Accel::Kvm, KVM_PROBE)?;
                match &r.failure {
                    None => Ok(r),
                    Some(f) => Err(f.clone()),
                }
            } else {
                Err("/dev/kvm does not exist".to_owned())
            };
            match kvm {
                Ok(r) => {
                    self.fact("kvm_probe", "ok: a KVM guest booted");
                    self.record_check(&r);
                    return Ok(Accel::Kvm);
                }
                Err(why) if self.s.accel == AccelChoice::Kvm => {
                    bail!("--accel kvm: the KVM probe guest failed: {why}; use --accel tcg or auto")
                }
                Err(why) => {
                    log::warn!(
                        "\n{BANNER}\nKVM DOES NOT WORK HERE: {why}\nkvm runs fall back to TCG \
                         (software emulation): their numbers are TCG numbers, marked \
                         accel=tcg and emulated=true in the bundle\n{BANNER}"
                    );
                    self.fact("kvm_probe", &format!("failed: {why}"));
                }
            }
        } else {
            self.fact("kvm_probe", "not run (--accel tcg)");
        }
        let boot = Timeouts::for_accel(Accel::Tcg).boot;
        let r = self.probe(Accel::Tcg, boot)?;
        if let Some(f) = &r.failure {
            bail!(
                "the check guest (TCG) did not boot: {f}; see {}",
                self.s.work.join("probe-tcg-console.log").display()
            );
        }
        self.record_check(&r);
        Ok(Accel::Tcg)
    }

    fn record_check(&mut self, r: &Report) {
        if let Some(t) = r.boot_to_ready_s {
            self.fact("check_boot_to_ready_s", &format!("{t:.3}"));
            log::info!("guest boot to ready: {t:.1} s");
        }
        if let Some(u) = r.ready_uptime_s {
            self.fact("check_ready_uptime_s", &format!("{u:.3}"));
        }
    }

    /// Boots a probe guest that only says it is ready and powers off.
    fn probe(&mut self, accel: Accel, boot: Duration) -> Result<Report> {
        let name = format!("probe-{}", accel.name());
        log::info!(
            "booting a {} probe guest (deadline {} s)",
            accel.name(),
            boot.as_secs()
        );
        let cmd = self.command(accel).kernel_arg("benchvm.probe", "1");
        self.record_config(
            &format!("{name}.cmdline"),
            format!("{}\n", cmd.line()).as_bytes(),
        )?;
        let console = self.s.work.join(format!("{name}-console.log"));
        let qemu_log = self.s.work.join(format!("{name}-qemu.log"));
        let timeouts = Timeouts {
            boot,
            cleanup: Duration::ZERO,
            margin: Duration::from_secs(20),
        };
        let job = Job {
            runs: Vec::new(),
            cleanup_s: 0,
        };
        let start = Instant::now();
        let report = drive::run(&cmd.argv(), &job, timeouts, &console, &qemu_log, None)?;
        log::info!(
            "{name}: {} after {:.1} s",
            report.failure.as_deref().unwrap_or("ready"),
            start.elapsed().as_secs_f64()
        );
        for (src, dest) in [(&console, "console.log"), (&qemu_log, "qemu.log")] {
            let bytes = fs::read(src).unwrap_or_default();
            self.record_config(&format!("{name}-{dest}"), &bytes)?;
        }
        Ok(report)
    }

    /// The command line every guest shares.
    fn command(&self, accel: Accel) -> QemuCommand {
        let cmd = QemuCommand::new(accel, &self.kernel.vmlinuz, &self.initramfs.path)
            .memory_mib(self.s.guest.memory_mib)
            .vcpus(self.s.guest.vcpus)
            .host_root()
            .kernel_arg("benchvm.agent", &self.s.agent.to_string_lossy())
            .kernel_arg(scratch::FORMATTED_ARG.0, scratch::FORMATTED_ARG.1);
        match &self.s.data_disk {
            Some(image) => cmd.drive(Drive {
                id: "data".into(),
                path: image.clone(),
                serial: data_disk::SERIAL.into(),
                cache: "writeback".into(),
                readonly: true,
            }),
            None => cmd,
        }
    }

    fn record_config(&self, name: &str, bytes: &[u8]) -> Result<()> {
        match &self.s.folder {
            Some(f) => f.write_file(&format!("{CONFIG_DIR}/{name}"), bytes),
            None => Ok(()),
        }
    }

    fn update_boot_facts(&mut self) {
        let n = self.boots.len() as f64;
        let min = self.boots.iter().copied().fold(f64::INFINITY, f64::min);
        let max = self.boots.iter().copied().fold(0.0, f64::max);
        let mean = self.boots.iter().sum::<f64>() / n;
        self.fact("guests_booted", &self.boots.len().to_string());
        self.fact("boot_to_ready_s_min", &format!("{min:.3}"));
        self.fact("boot_to_ready_s_mean", &format!("{mean:.3}"));
        self.fact("boot_to_ready_s_max", &format!("{max:.3}"));
    }
}

impl Platform for Qemu {
    fn name(&self) -> &'static str {
        "kvm"
    }

    fn accel(&self) -> String {
        self.accel.name().into()
    }

    fn emulated(&self) -> bool {
        self.accel == Accel::Tcg
    }

    fn guests(&self) -> Option<u32> {
        Some(1)
    }

    fn facts(&self) -> BTreeMap<String, String> {
        self.facts.clone()
    }

    fn context(&self) -> StepContext {
        StepContext {
            scratch: PathBuf::from(SCRATCH_MOUNT),
            cpus: self.s.guest.vcpus,
            kernel_source: None,
            agent: Some(self.s.agent.clone()),
        }
    }

    fn execute(&mut self, steps: &Steps, dir: &Path, deadline: Duration) -> Result<RunOutcome> {
        super::execute_one(self, steps, dir, deadline)
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
        host: &mut dyn super::HostSide,
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
