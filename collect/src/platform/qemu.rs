//! KVM: QEMU guests that boot a Debian kernel with collect's own initramfs
//! and run the host's own root (read-only 9p under a tmpfs overlay), so
//! they run the very same tool binaries as native runs. One guest boots per
//! workload and runs its warm-ups and repetitions in order; a guest that
//! panics, hangs or vanishes costs the run it was in (dnr) and a fresh guest
//! takes the remaining runs. A QEMU killed from outside (a signal collect
//! did not send) is an infrastructure failure, not the benchmark's: the run
//! it was in is retried on a fresh guest, up to [`QEMU_RETRIES`] times.
//! With `--accel auto` KVM is probed by booting a guest under a deadline,
//! and TCG is used when that fails.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use benchvm_format::metrics::Status;
use serde::Serialize;

use super::{steps, ParallelRequest, Platform, RunOutcome, RunRequest};
use crate::guest::agent::{Job, JobRun};
use crate::guest::drive::{self, Report};
use crate::guest::initramfs::{self, Initramfs};
use crate::guest::kernel::{self, GuestKernel};
use crate::guest::qemu::{self, Accel, Drive, QemuCommand};
use crate::guest::{RESULTS_SERIAL, SCRATCH_MOUNT, SCRATCH_SERIAL};
use crate::runfolder::RunFolder;
use crate::suite::GuestSize;
use crate::workload::{StepContext, Steps};

pub use crate::guest::drive::Timeouts;

mod parallel;

/// Where generated configs go inside the run folder.
const CONFIG_DIR: &str = "config/kvm";
/// Size of the sparse results disk; records are a few KiB each.
const RESULTS_DISK_BYTES: u64 = 256 << 20;
const BANNER: &str = "==================================================================";
/// How long a KVM probe guest may take to say it is ready.
const KVM_PROBE: Duration = Duration::from_secs(20);
/// How often a run is retried on a fresh guest when its QEMU is killed by
/// a signal collect did not send (reliability.md B7). Two retries ride out
/// a stray kill or an OOM kill of the host's QEMU, and bound the cost of a
/// host that keeps killing it to three boots per run. A constant: `collect
/// run` has no setting for it. A guest's own panic, hang or reboot is a
/// result (dnr), never retried.
pub const QEMU_RETRIES: usize = 2;

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

/// A guest whose QEMU was killed from outside during a run, before the
/// run was retried; `boot.json` lists them under `attempts`.
#[derive(Debug, Clone, Serialize)]
struct Attempt {
    guest: String,
    qemu_ended: String,
    failure: String,
    /// Its console and QEMU log, kept in the run's folder.
    console: String,
    qemu_log: Option<String>,
}

/// `boot.json` of a serial run: the guest, the boot id its records carry,
/// and the attempts before it.
#[derive(Debug, Serialize)]
struct SerialBoot<'a> {
    #[serde(flatten)]
    boot: BootRecord<'a>,
    boot_id: Option<&'a str>,
    #[serde(skip_serializing_if = "<[Attempt]>::is_empty")]
    attempts: &'a [Attempt],
}

/// How one guest of [`Qemu::one_guest`] ended.
#[derive(Debug)]
enum GuestEnd {
    /// It reported this many runs (the last one dnr when it failed).
    Reported(usize),
    /// It reported `reported` runs, then QEMU was killed from outside
    /// during the next one: that run goes to a fresh guest.
    Retry { reported: usize, attempt: Attempt },
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
        QemuCommand::new(accel, &self.kernel.vmlinuz, &self.initramfs.path)
            .memory_mib(self.s.guest.memory_mib)
            .vcpus(self.s.guest.vcpus)
            .host_root()
            .kernel_arg("benchvm.agent", &self.s.agent.to_string_lossy())
    }

    fn record_config(&self, name: &str, bytes: &[u8]) -> Result<()> {
        match &self.s.folder {
            Some(f) => f.write_file(&format!("{CONFIG_DIR}/{name}"), bytes),
            None => Ok(()),
        }
    }

    /// Boots one guest for `batch` and reports the runs it finished, and
    /// the run it failed in, to `done` (indices offset by `first`), unless
    /// QEMU was killed from outside and `batch[0]`'s earlier `attempts`
    /// leave a retry for the run it was in.
    fn one_guest(
        &mut self,
        batch: &[RunRequest<'_>],
        first: usize,
        attempts: &[Attempt],
        done: &mut dyn FnMut(usize, RunOutcome) -> Result<()>,
    ) -> Result<GuestEnd> {
        self.guests += 1;
        let tag = format!("guest-{:03}", self.guests);
        let work = &self.s.work;
        let scratch = work.join(format!("{tag}-scratch.img"));
        let results = work.join(format!("{tag}-results.img"));
        let job_path = work.join(format!("{tag}-job.json"));
        let console = work.join(format!("{tag}-console.log"));
        let qemu_log = work.join(format!("{tag}-qemu.log"));
        qemu::sparse_file(&scratch, u64::from(self.s.guest.scratch_gib) << 30)?;
        qemu::sparse_file(&results, RESULTS_DISK_BYTES)?;
        let job = Job {
            runs: batch
                .iter()
                .map(|r| JobRun {
                    folder: r.name.clone(),
                    steps: r.steps.clone(),
                    deadline_s: r.deadline.as_secs(),
                })
                .collect(),
            cleanup_s: self.timeouts.cleanup.as_secs(),
        };
        let job_bytes = serde_json::to_vec_pretty(&job)?;
        fs::write(&job_path, &job_bytes)
            .with_context(|| format!("writing {}", job_path.display()))?;
        let cmd = self
            .command(self.accel)
            .kernel_arg("benchvm.job", &job_path.to_string_lossy())
            .drive(Drive {
                id: "scratch".into(),
                path: scratch.clone(),
                serial: SCRATCH_SERIAL.into(),
                cache: self.cache_mode.into(),
            })
            .drive(Drive {
                id: "results".into(),
                path: results.clone(),
                serial: RESULTS_SERIAL.into(),
                cache: "writeback".into(),
            });
        let line = cmd.line();
        self.record_config(&format!("{tag}.cmdline"), format!("{line}\n").as_bytes())?;
        self.record_config(&format!("{tag}-job.json"), &job_bytes)?;
        self.facts
            .entry("qemu_command_line".into())
            .or_insert_with(|| line.clone());

        let driven = drive::run_driven(
            &cmd.argv(),
            &job,
            self.timeouts,
            &console,
            &qemu_log,
            Some(&results),
        );
        for f in [&scratch, &results, &job_path] {
            let _ = fs::remove_file(f);
        }
        let driven = driven?;
        let report = &driven.report;
        if let Some(t) = report.boot_to_ready_s {
            self.boots.push(t);
            self.update_boot_facts();
        }
        let console_bytes = fs::read(&console).unwrap_or_default();
        let qemu_bytes = fs::read(&qemu_log).unwrap_or_default();
        let names: Vec<&str> = batch.iter().map(|r| r.name.as_str()).collect();
        let mut reported = 0;
        let mut end = GuestEnd::Reported(0);
        for (i, req) in batch.iter().enumerate() {
            let record = report.finished.iter().find(|f| f.outcome.index == i);
            let earlier = if i == 0 { attempts } else { &[] };
            if let (None, Some(_)) = (record, driven.killed_by) {
                if earlier.len() < QEMU_RETRIES {
                    let k = earlier.len() + 1;
                    let attempt = Attempt {
                        guest: tag.clone(),
                        qemu_ended: report.ended.clone(),
                        failure: report.failure.clone().unwrap_or_default(),
                        console: format!("attempt-{k}-console.log"),
                        qemu_log: (!qemu_bytes.is_empty()).then(|| format!("attempt-{k}-qemu.log")),
                    };
                    fs::write(req.dir.join(&attempt.console), &console_bytes)?;
                    if let Some(q) = &attempt.qemu_log {
                        fs::write(req.dir.join(q), &qemu_bytes)?;
                    }
                    log::warn!(
                        "{}: {}; retrying it on a fresh guest (retry {k} of {QEMU_RETRIES})",
                        req.name,
                        attempt.failure,
                    );
                    end = GuestEnd::Retry { reported, attempt };
                    break;
                }
            }
            let outcome = match record {
                Some(f) => {
                    for (name, bytes) in &f.files {
                        fs::write(req.dir.join(name), bytes)?;
                    }
                    f.outcome.outcome.clone()
                }
                None => RunOutcome {
                    status: Status::Dnr,
                    wall_s: None,
                    reason: Some(dnr_reason(report, driven.killed_by, earlier.len())),
                    exit_code: None,
                },
            };
            fs::write(req.dir.join("console.log"), &console_bytes)?;
            if !qemu_bytes.is_empty() {
                fs::write(req.dir.join("qemu.log"), &qemu_bytes)?;
            }
            let boot = SerialBoot {
                boot: BootRecord {
                    guest: &tag,
                    accel: self.accel,
                    boot_to_ready_s: report.boot_to_ready_s,
                    ready_uptime_s: report.ready_uptime_s,
                    runs: names.clone(),
                    position: i,
                    qemu_ended: &report.ended,
                    failure: report.failure.as_deref(),
                    command_line: &line,
                },
                boot_id: record.and_then(|f| f.outcome.boot_id.as_deref()),
                attempts: earlier,
            };
            fs::write(req.dir.join("boot.json"), serde_json::to_vec_pretty(&boot)?)?;
            done(first + i, outcome)?;
            reported += 1;
            end = GuestEnd::Reported(reported);
            if record.is_none() {
                break;
            }
        }
        for f in [&console, &qemu_log] {
            let _ = fs::remove_file(f);
        }
        Ok(end)
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

/// Why a run without a record is dnr; after retries, how many attempts
/// QEMU was killed in.
fn dnr_reason(report: &Report, killed_by: Option<i32>, retries: usize) -> String {
    let failure = report
        .failure
        .clone()
        .unwrap_or_else(|| "the guest ended without a record of this run".to_owned());
    match (killed_by, retries) {
        (Some(_), n) if n > 0 => format!(
            "{failure} (in all {} attempts: retried {n} times on fresh guests)",
            n + 1
        ),
        (None, n) if n > 0 => format!(
            "{failure} (on retry {n}, after QEMU was killed from outside in the attempt before)"
        ),
        _ => failure,
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
        let mut next = 0;
        // Guests of runs[next] whose QEMU was killed from outside.
        let mut attempts = Vec::new();
        while next < runs.len() {
            // Each guest reports a run or adds an attempt (at most
            // QEMU_RETRIES per run), so this ends.
            match self.one_guest(&runs[next..], next, &attempts, done)? {
                GuestEnd::Reported(n) => {
                    next += n.max(1);
                    attempts.clear();
                }
                GuestEnd::Retry { reported, attempt } => {
                    if reported > 0 {
                        next += reported;
                        attempts.clear();
                    }
                    attempts.push(attempt);
                }
            }
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
        host: &mut dyn super::HostSide,
    ) -> Result<Vec<RunOutcome>> {
        self.parallel(run, Some(parallel::Networked { stressed, host }))
    }
}
