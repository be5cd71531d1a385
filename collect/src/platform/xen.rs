//! Xen: collect runs in dom0 and drives the real `xl`. Each workload gets
//! one domU (PV by default, PVH on request) running all its warm-ups and
//! repetitions, with the kvm platform's guest model: the guest kernel boots
//! collect's initramfs, mounts dom0's root read-only over Xen 9pfs under a
//! tmpfs overlay and runs `collect guest-agent`, which writes one record per
//! run to a results disk. Disks are raw images on dom0-local storage served
//! by the `qemu-system-xen` device model (qdisk). The console is followed
//! through xenconsoled's log; a domain that panics, hangs or vanishes costs
//! the run it was in (dnr), and `xl destroy` ends it at its deadline.
//!
//! The scalability and isolation experiments start several domUs at once
//! ([`parallel`]); isolation domUs get a vif on a bridge in a network
//! namespace of the run's own in dom0 ([`crate::xen::vif`]).
//!
//! When dom0's kernel command line carries `benchvm.lab=KIND` (set by
//! `collect lab xen`), the Xen host itself runs under emulation: rows are
//! marked emulated and the facts say `lab=KIND`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde::Serialize;

mod parallel;

use super::{steps, HostSide, ParallelRequest, Platform, RunOutcome, RunRequest, CRASH_GUEST_ENV};
use crate::guest::agent::{Job, JobRun};
use crate::guest::drive::{self, Report, Timeouts};
use crate::guest::initramfs::{self, Initramfs};
use crate::guest::kernel::{self, GuestKernel};
use crate::guest::{qemu, SCRATCH_MOUNT};
use crate::runfolder::RunFolder;
use crate::suite::GuestSize;
use crate::workload::{StepContext, Steps};
use crate::xen::config::{Disk, GuestType, XlConfig};
use crate::xen::data_disk::DataDevice;
use crate::xen::domain::{self, Domain};
use crate::xen::{xl, LAB_FLAG};

/// Where generated configs go inside the run folder.
const CONFIG_DIR: &str = "config/xen";
/// Size of the sparse results disk; records are a few KiB each.
const RESULTS_DISK_BYTES: u64 = 256 << 20;
/// The device model that serves 9pfs and qdisk disks (Debian's
/// qemu-system-xen).
pub const DEVICE_MODEL: &str = "/usr/libexec/xen-qemu-system-i386";

/// What the xen platform is set up from.
#[derive(Debug, Clone)]
pub struct XenSettings {
    /// `--kernel`; default: the newest fetched or /boot kernel.
    pub kernel: Option<PathBuf>,
    /// Cache folder (fetched kernel, built initramfs).
    pub cache: PathBuf,
    /// dom0-local folder for disk images, jobs and configs (absolute; not
    /// on 9p or an overlay: qdisk cannot open images there).
    pub work: PathBuf,
    /// The collect binary the guests run as their agent (absolute).
    pub agent: PathBuf,
    pub guest_type: GuestType,
    pub guest: GuestSize,
    /// `None`: [`default_timeouts`].
    pub timeouts: Option<Timeouts>,
    /// Where generated configs, jobs and `xl` output are recorded.
    pub folder: Option<Arc<RunFolder>>,
    /// The guests' read-only data disk (`crate::guest::data_disk`).
    pub data_disk: Option<PathBuf>,
}

/// Stage deadlines of domUs: a domU under a Xen host that is itself under
/// TCG took 1-3 minutes from `xl create` to its first program, 2-4x that
/// on a loaded machine.
pub fn default_timeouts(lab: bool) -> Timeouts {
    Timeouts {
        boot: Duration::from_secs(if lab { 900 } else { 180 }),
        cleanup: steps::CLEANUP,
        margin: Duration::from_secs(if lab { 180 } else { 60 }),
    }
}

/// The xen platform.
#[derive(Debug)]
pub struct Xen {
    s: XenSettings,
    kernel: GuestKernel,
    initramfs: Initramfs,
    timeouts: Timeouts,
    /// `benchvm.lab=` of dom0's command line.
    lab: Option<String>,
    facts: BTreeMap<String, String>,
    boots: Vec<f64>,
    guests: u32,
    /// dom0's root as domUs see it.
    view: RootView,
    /// Folder in dom0's root file system for the agent and jobs.
    shared: PathBuf,
    /// The data disk as a block device of dom0's, for blkback.
    data_disk: Option<DataDevice>,
    /// Whether scratch images are opened with O_DIRECT (`direct-io-safe`),
    /// as kvm's are with `cache=none`: the image folder supports it.
    scratch_direct: bool,
}

/// A non-recursive bind mount of `/`, unmounted on drop.
#[derive(Debug)]
struct RootView {
    path: PathBuf,
}

impl RootView {
    fn mount(path: &Path) -> Result<RootView> {
        fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))?;
        let argv: Vec<String> = ["mount", "--bind", "/"]
            .iter()
            .map(|s| (*s).to_owned())
            .chain([path.display().to_string()])
            .collect();
        let out = xl::capture(&argv, Duration::from_secs(60))?;
        if !out.success() {
            bail!("mount --bind / {}: {}", path.display(), out.describe());
        }
        Ok(RootView {
            path: path.to_path_buf(),
        })
    }
}

impl Drop for RootView {
    fn drop(&mut self) {
        let argv = vec!["umount".to_owned(), self.path.display().to_string()];
        let _ = xl::capture(&argv, Duration::from_secs(60));
    }
}

/// `boot.json` of each run.
#[derive(Debug, Serialize)]
struct BootRecord<'a> {
    guest: &'a str,
    domain: &'a str,
    accel: String,
    /// Host monotonic seconds from `xl create` to the agent's ready marker.
    boot_to_ready_s: Option<f64>,
    ready_uptime_s: Option<f64>,
    runs: Vec<&'a str>,
    position: usize,
    domain_ended: &'a str,
    failure: Option<&'a str>,
    config: &'a str,
}

/// The steps of a run that panics its guest's kernel.
fn crash_steps() -> Steps {
    Steps {
        setup: Vec::new(),
        measured: [
            "sh",
            "-c",
            &format!("echo '{CRASH_GUEST_ENV}: crashing this domain'; echo c > /proc/sysrq-trigger; sleep 60"),
        ]
        .map(str::to_owned)
        .to_vec(),
        cleanup: Vec::new(),
    }
}

/// The value of `key=` on a kernel command line.
pub fn cmdline_value(cmdline: &str, key: &str) -> Option<String> {
    cmdline
        .split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
        .map(str::to_owned)
}

impl Xen {
    /// Checks that collect runs in a Xen dom0, finds the kernel, builds the
    /// initramfs and records the Xen host's facts.
    pub fn new(s: XenSettings) -> Result<Self> {
        for (what, p) in [("collect binary", &s.agent), ("work folder", &s.work)] {
            if p.to_string_lossy().contains(char::is_whitespace) || !p.is_absolute() {
                bail!(
                    "{what} {}: guests need an absolute path without spaces",
                    p.display()
                );
            }
        }
        let info = xl::info().map_err(|e| {
            anyhow::anyhow!(
                "the xen platform drives `xl` in a Xen dom0, and `xl info` failed here ({e}); \
                 off a Xen host, `collect run --xen-host lab` (the default, auto, when this \
                 host is no dom0) runs xen in the Xen lab, a Xen host under QEMU"
            )
        })?;
        if !Path::new(DEVICE_MODEL).exists() {
            bail!("{DEVICE_MODEL} is missing: apt-get install -y qemu-system-xen (it serves the guests' 9p root and disks)");
        }
        fs::create_dir_all(&s.work).with_context(|| format!("creating {}", s.work.display()))?;
        // What domUs see as their root: dom0's root file system alone (a
        // non-recursive bind of /), without /proc, /sys, /dev and the other
        // mounts: exported whole, the domU got dom0's /proc through 9p
        // instead of its own (Xen's 9p back end does not remap inode
        // numbers across file systems). Agent and jobs live in it.
        let view = RootView::mount(&s.work.join("root"))?;
        let shared = PathBuf::from(format!("/var/tmp/benchvm-xen-{}", std::process::id()));
        fs::create_dir_all(&shared).with_context(|| format!("creating {}", shared.display()))?;
        let agent = shared.join("collect-agent");
        fs::copy(&s.agent, &agent)
            .with_context(|| format!("copying {} to {}", s.agent.display(), agent.display()))?;
        let s = XenSettings { agent, ..s };
        let kernel = kernel::find(s.kernel.as_deref(), &s.cache)?;
        let initramfs = initramfs::build(&kernel, &s.cache)?;
        let dom0_cmdline = fs::read_to_string("/proc/cmdline").unwrap_or_default();
        let lab = cmdline_value(&dom0_cmdline, LAB_FLAG);

        let mut facts = BTreeMap::new();
        let mut put = |k: &str, v: String| facts.insert(k.to_owned(), v);
        for (fact, field) in [
            ("xen_version", "xen_version"),
            ("xen_commandline", "xen_commandline"),
            ("xen_caps", "xen_caps"),
            ("xen_scheduler", "xen_scheduler"),
            ("xen_changeset", "xen_changeset"),
            ("virt_caps", "virt_caps"),
            ("host_cpus", "nr_cpus"),
            ("host_memory_mib", "total_memory"),
            ("dom0_kernel", "release"),
        ] {
            if let Some(v) = xl::info_field(&info, field) {
                put(fact, v.to_owned());
            }
        }
        put("dom0_kernel_cmdline", dom0_cmdline.trim().to_owned());
        put("guest_type", s.guest_type.name().into());
        put("accel", s.guest_type.accel());
        put("guest_kernel", kernel.version.clone());
        put("guest_kernel_path", kernel.vmlinuz.display().to_string());
        put("initramfs_sha256", initramfs.sha256.clone());
        put("initramfs_modules", initramfs.modules.len().to_string());
        put("device_model", DEVICE_MODEL.into());
        put("vcpus", s.guest.vcpus.to_string());
        put("memory_mib", s.guest.memory_mib.to_string());
        put("scratch_gib", s.guest.scratch_gib.to_string());
        put(
            "root",
            "dom0 / over Xen 9pfs (qemu-system-xen), read-only, tmpfs overlay".into(),
        );
        put(
            "disks",
            format!("raw images served by qdisk, in {}", s.work.display()),
        );
        put("console", "xenconsoled --log=guest".into());
        put("lab", lab.clone().unwrap_or_else(|| "none".into()));
        put(
            "emulated_host",
            if lab.is_some() {
                "true: the Xen host itself runs under emulation (collect lab xen)".into()
            } else {
                "false".into()
            },
        );
        let data_disk = match &s.data_disk {
            Some(image) => {
                let device = DataDevice::attach(image, &s.work)?;
                facts.insert("data_disk".into(), super::qemu::data_disk_fact(image));
                facts.insert("data_disk_device".into(), device.describe());
                Some(device)
            }
            None => None,
        };
        let timeouts = s
            .timeouts
            .unwrap_or_else(|| default_timeouts(lab.is_some()));
        let scratch_direct = crate::guest::qemu::supports_direct_io(&s.work);
        facts.insert(
            "scratch_cache".into(),
            if scratch_direct {
                "direct-io-safe".into()
            } else {
                "writeback".into()
            },
        );
        let x = Xen {
            scratch_direct,
            data_disk,
            s,
            kernel,
            initramfs,
            timeouts,
            lab,
            facts,
            boots: Vec::new(),
            guests: 0,
            view,
            shared,
        };
        x.record_config("xl-info.txt", info.as_bytes())?;
        x.record_config("xl-dmesg.txt", xl::dmesg().as_bytes())?;
        x.record_config("dom0-cmdline.txt", dom0_cmdline.as_bytes())?;
        Ok(x)
    }

    fn record_config(&self, name: &str, bytes: &[u8]) -> Result<()> {
        match &self.s.folder {
            Some(f) => f.write_file(&format!("{CONFIG_DIR}/{name}"), bytes),
            None => Ok(()),
        }
    }

    fn fact(&mut self, key: &str, value: String) {
        self.facts.insert(key.to_owned(), value);
    }

    /// Boots one domain for `batch` and reports the runs it finished, and
    /// the run it failed in, to `done` (indices offset by `first`).
    /// Returns how many runs were reported.
    fn one_guest(
        &mut self,
        batch: &[RunRequest<'_>],
        first: usize,
        done: &mut dyn FnMut(usize, RunOutcome) -> Result<()>,
    ) -> Result<usize> {
        let (tag, name) = self.next_guest();
        let work = self.s.work.clone();
        let scratch = work.join(format!("{tag}-scratch.img"));
        let results = work.join(format!("{tag}-results.img"));
        let job_path = self.shared.join(format!("{tag}-job.json"));
        let cfg_path = work.join(format!("{tag}.cfg"));
        let console = self.console_path(&tag)?;
        let xl_log = work.join(format!("{tag}-xl.log"));
        crate::guest::scratch::fresh(&scratch, self.s.guest.scratch_gib)?;
        qemu::sparse_file(&results, RESULTS_DISK_BYTES)?;
        // Test hook, as for kvm: BENCHVM_TEST_CRASH_GUEST=<i> makes the
        // i-th domain panic in its first run (recorded in its job).
        let crash = std::env::var(CRASH_GUEST_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok())
            == Some(self.guests);
        let job = Job {
            runs: batch
                .iter()
                .enumerate()
                .map(|(i, r)| JobRun {
                    folder: r.name.clone(),
                    steps: if i == 0 && crash {
                        crash_steps()
                    } else {
                        r.steps.clone()
                    },
                    deadline_s: r.deadline.as_secs(),
                })
                .collect(),
            cleanup_s: self.timeouts.cleanup.as_secs(),
        };
        let job_bytes = serde_json::to_vec_pretty(&job)?;
        fs::write(&job_path, &job_bytes)
            .with_context(|| format!("writing {}", job_path.display()))?;
        let cfg = self.xl_config(
            &name,
            &job_path,
            &scratch,
            &results,
            self.s.guest.memory_mib,
        );
        let text = cfg.render();
        fs::write(&cfg_path, &text).with_context(|| format!("writing {}", cfg_path.display()))?;
        self.record_config(&format!("{tag}.cfg"), text.as_bytes())?;
        self.record_config(&format!("{tag}-job.json"), &job_bytes)?;

        log::info!("{tag}: xl create {} ({})", cfg_path.display(), name);
        let report =
            match create_with_retries(&cfg_path, &name, &console, &xl_log, self.timeouts.boot) {
                Ok(d) => {
                    drive::run_guest(Box::new(d), &job, self.timeouts, &xl_log, Some(&results))
                }
                Err(e) => Ok(Report {
                    finished: Vec::new(),
                    failure: Some(e.to_string()),
                    boot_to_ready_s: None,
                    ready_uptime_s: None,
                    ended: "not created".into(),
                }),
            };
        for f in [&scratch, &results, &job_path] {
            let _ = fs::remove_file(f);
        }
        let report = report?;
        let console_bytes = fs::read(&console).unwrap_or_default();
        if let Some(t) = report.boot_to_ready_s {
            log::info!("{tag}: boot to ready {t:.1} s");
            self.boots.push(t);
            self.update_boot_facts();
        }
        let xl_bytes = fs::read(&xl_log).unwrap_or_default();
        let dm_log = Path::new(domain::CONSOLE_LOG_DIR).join(format!("qemu-dm-{name}.log"));
        let dm_bytes = fs::read(&dm_log).unwrap_or_default();
        self.record_config("xl-dmesg.txt", xl::dmesg().as_bytes())?;
        let names: Vec<&str> = batch.iter().map(|r| r.name.as_str()).collect();
        let accel = self.s.guest_type.accel();
        let mut reported = 0;
        for (i, req) in batch.iter().enumerate() {
            let recorded = report.finished.iter().any(|f| f.outcome.index == i);
            let outcome = report.keep_run(i, req.dir, || {
                report
                    .failure
                    .clone()
                    .unwrap_or_else(|| "the domain ended without a record of this run".to_owned())
            })?;
            fs::write(req.dir.join("console.log"), &console_bytes)?;
            fs::write(req.dir.join("xl.cfg"), &text)?;
            if !xl_bytes.is_empty() {
                fs::write(req.dir.join("xl.log"), &xl_bytes)?;
            }
            if !dm_bytes.is_empty() {
                fs::write(req.dir.join("qemu-dm.log"), &dm_bytes)?;
            }
            let boot = BootRecord {
                guest: &tag,
                domain: &name,
                accel: accel.clone(),
                boot_to_ready_s: report.boot_to_ready_s,
                ready_uptime_s: report.ready_uptime_s,
                runs: names.clone(),
                position: i,
                domain_ended: &report.ended,
                failure: report.failure.as_deref(),
                config: &text,
            };
            fs::write(req.dir.join("boot.json"), serde_json::to_vec_pretty(&boot)?)?;
            done(first + i, outcome)?;
            reported += 1;
            if !recorded {
                break;
            }
        }
        if self.s.folder.is_none() {
            let _ = fs::remove_file(&console);
        }
        for f in [&xl_log, &cfg_path] {
            let _ = fs::remove_file(f);
        }
        Ok(reported)
    }

    /// Tag (`guest-NNN`: its files) and domain name of the next domU.
    fn next_guest(&mut self) -> (String, String) {
        self.guests += 1;
        (
            format!("guest-{:03}", self.guests),
            format!("benchvm-{}-{:03}", std::process::id(), self.guests),
        )
    }

    /// Where the console of domU `tag` is copied: straight into the run
    /// folder when there is one, so it is there even when collect itself
    /// is killed (a lab timeout).
    fn console_path(&self, tag: &str) -> Result<PathBuf> {
        Ok(match &self.s.folder {
            Some(f) => {
                let dir = f.root().join(CONFIG_DIR);
                fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
                dir.join(format!("{tag}-console.log"))
            }
            None => self.s.work.join(format!("{tag}-console.log")),
        })
    }

    /// The xl.cfg of a domU running the job at `job_path` with these disks.
    fn xl_config(
        &self,
        name: &str,
        job_path: &Path,
        scratch: &Path,
        results: &Path,
        memory_mib: u32,
    ) -> XlConfig {
        let mut cfg = XlConfig::new(
            name,
            self.s.guest_type,
            self.kernel.vmlinuz.clone(),
            self.initramfs.path.clone(),
        )
        .kernel_arg("benchvm.agent", &self.s.agent.to_string_lossy())
        .kernel_arg("benchvm.job", &job_path.to_string_lossy())
        .kernel_arg("benchvm.p9", "xen")
        .kernel_arg("benchvm.scratch", "/dev/xvdb")
        .kernel_arg(
            crate::guest::scratch::FORMATTED_ARG.0,
            crate::guest::scratch::FORMATTED_ARG.1,
        )
        .kernel_arg("benchvm.results", "/dev/xvdc");
        cfg.memory_mib = memory_mib;
        cfg.vcpus = self.s.guest.vcpus;
        cfg.host_root = Some(self.view.path.clone());
        cfg.disks = vec![
            Disk {
                vdev: "xvdb".into(),
                target: scratch.to_path_buf(),
                readonly: false,
                script: None,
                direct_io_safe: self.scratch_direct,
            },
            Disk {
                vdev: "xvdc".into(),
                target: results.to_path_buf(),
                readonly: false,
                script: None,
                direct_io_safe: false,
            },
        ];
        if let Some(device) = &self.data_disk {
            cfg.disks.push(Disk {
                vdev: "xvdd".into(),
                target: device.path().to_path_buf(),
                readonly: true,
                script: Some(device.script().to_path_buf()),
                direct_io_safe: false,
            });
            cfg = cfg.kernel_arg("benchvm.data", "/dev/xvdd");
        }
        cfg
    }

    fn update_boot_facts(&mut self) {
        let n = self.boots.len() as f64;
        let min = self.boots.iter().copied().fold(f64::INFINITY, f64::min);
        let max = self.boots.iter().copied().fold(0.0, f64::max);
        let mean = self.boots.iter().sum::<f64>() / n;
        self.fact("guests_booted", self.boots.len().to_string());
        self.fact("boot_to_ready_s_min", format!("{min:.3}"));
        self.fact("boot_to_ready_s_mean", format!("{mean:.3}"));
        self.fact("boot_to_ready_s_max", format!("{max:.3}"));
    }
}

impl Drop for Xen {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.shared);
    }
}

impl Platform for Xen {
    fn name(&self) -> &'static str {
        "xen"
    }

    fn accel(&self) -> String {
        self.s.guest_type.accel()
    }

    fn emulated(&self) -> bool {
        self.lab.is_some()
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
        let mut next = 0;
        while next < runs.len() {
            // Each domain reports at least one run, so this ends.
            next += self.one_guest(&runs[next..], next, done)?.max(1);
        }
        Ok(())
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

/// `xl create`, tried again when it fails: a domain that was not created
/// ran nothing, so a retry loses nothing. Seen failing under load: the
/// device model answered libxl's start-up queries after libxl's fixed
/// timeouts ("device model did not start: -9"). Each failed attempt's xl
/// output is kept at the head of the xl log.
pub(crate) fn create_with_retries(
    cfg: &Path,
    name: &str,
    console: &Path,
    xl_log: &Path,
    timeout: Duration,
) -> std::result::Result<Domain, domain::CreateError> {
    let mut failed = String::new();
    let mut attempt = 0;
    loop {
        attempt += 1;
        match Domain::create(cfg, name, console, xl_log, timeout) {
            Ok(d) => {
                if !failed.is_empty() {
                    let now = fs::read_to_string(xl_log).unwrap_or_default();
                    let _ = fs::write(xl_log, format!("{failed}{now}"));
                }
                return Ok(d);
            }
            Err(e) if attempt <= CREATE_RETRIES => {
                log::warn!("{name}: {e}; trying again (retry {attempt} of {CREATE_RETRIES})");
                let out = fs::read_to_string(xl_log).unwrap_or_default();
                failed.push_str(&format!(
                    "--- xl create attempt {attempt} failed ---\n{out}\n"
                ));
                let _ = xl::destroy(name);
            }
            Err(e) => {
                let now = fs::read_to_string(xl_log).unwrap_or_default();
                let _ = fs::write(xl_log, format!("{failed}{now}"));
                return Err(e);
            }
        }
    }
}

/// How often a failed `xl create` is tried again.
pub const CREATE_RETRIES: u32 = 2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_flag_is_read_from_the_command_line() {
        let line = "console=hvc0 panic=-1 quiet benchvm.lab=qemu-tcg\n";
        assert_eq!(cmdline_value(line, LAB_FLAG).as_deref(), Some("qemu-tcg"));
        assert_eq!(cmdline_value("console=hvc0 benchvm.labx=1", LAB_FLAG), None);
    }
}
