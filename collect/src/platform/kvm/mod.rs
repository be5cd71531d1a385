//! KVM: QEMU guests ([`Qemu`], the engine's [`Vmm`]) that boot the guest
//! kernel with collect's initramfs and see the host's own root (read-only
//! virtio 9p under a tmpfs overlay), so they run the very same tool
//! binaries as native runs. Disks are raw images on virtio-blk, the NIC of
//! an isolation guest is virtio-net on a tap of the run's namespace (QEMU
//! runs inside it through `ip netns exec`). With `--accel auto` KVM is
//! probed by booting a guest under a deadline, and TCG is used when that
//! fails ([`probe`]). A QEMU killed by a signal collect did not send is an
//! infrastructure failure the engine retries.

mod probe;
pub mod qemu;
pub mod settings;

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use benchvm_core::registry::PlatformKind;
use serde::Serialize;

use super::engine::{
    Attempt, Base, BootInfo, Capacity, GuestConfig, GuestPlatform, GuestSpec, LogFiles, Network,
    StartError, Vmm,
};
use crate::guest::disk::supports_direct_io;
use crate::guest::drive::Timeouts;
use crate::guest::session::{GuestProcess, Session};
use crate::guest::{data_disk, scratch, RESULTS_SERIAL, SCRATCH_SERIAL};
use crate::isolation::netns::{self, Netns};
use crate::steps;
use qemu::{Accel, Drive, Nic, QemuCommand};
use settings::KvmSettings;

/// The kvm platform.
pub type Kvm = GuestPlatform<Qemu>;

/// QEMU, as the engine's hypervisor.
#[derive(Debug)]
pub struct Qemu {
    settings: KvmSettings,
    accel: Accel,
    /// The command line every guest shares, under any accelerator.
    kernel: PathBuf,
    initrd: PathBuf,
    agent: PathBuf,
    vcpus: u32,
    memory_mib: u32,
    data_disk: Option<PathBuf>,
    /// QEMU cache mode of the scratch disk.
    cache_mode: &'static str,
    facts: BTreeMap<String, String>,
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

impl Qemu {
    /// The command line every guest shares.
    fn command(&self, accel: Accel) -> QemuCommand {
        let cmd = QemuCommand::new(accel, &self.kernel, &self.initrd)
            .memory_mib(self.memory_mib)
            .vcpus(self.vcpus)
            .host_root()
            .kernel_arg("benchvm.agent", &self.agent.to_string_lossy())
            .kernel_arg(scratch::FORMATTED_ARG.0, scratch::FORMATTED_ARG.1);
        match &self.data_disk {
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

    fn fact(&mut self, key: &str, value: &str) {
        self.facts.insert(key.to_owned(), value.to_owned());
    }
}

/// A configured QEMU guest.
#[derive(Debug)]
pub struct QemuGuest {
    accel: Accel,
    argv: Vec<String>,
    line: String,
}

impl Vmm for Qemu {
    type Settings = KvmSettings;
    type Config = QemuGuest;
    type NetSide = ();

    const PLATFORM: PlatformKind = PlatformKind::Kvm;
    const GUEST: &'static str = "guest";
    const HOST_LOG: &'static str = "qemu.log";
    const START: &'static str = "QEMU";
    const START_RETRIES: u32 = 0;
    const CONSOLE_IN_FOLDER: bool = false;

    fn modules(_settings: &KvmSettings) -> &'static [&'static str] {
        &[]
    }

    /// Installs the agent, records QEMU's facts, chooses the accelerator
    /// (probing KVM when asked to) and boots one guest to check the setup.
    fn new(settings: KvmSettings, base: &mut Base) -> Result<Self> {
        let work = base.work().to_path_buf();
        let agent = base.install_agent(&work)?;
        let cache_mode = if supports_direct_io(&work) {
            "none"
        } else {
            "writeback"
        };
        let mut facts = BTreeMap::new();
        let mut put = |k: &str, v: String| facts.insert(k.to_owned(), v);
        put("accel_requested", settings.accel.name().into());
        put("qemu_version", qemu::version());
        put("machine", qemu::machine_type());
        put("guest_modules", base.kernel.modules.display().to_string());
        let host_kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        put("host_kernel", host_kernel.trim().into());
        put("scratch_cache", cache_mode.into());
        put(
            "root",
            "host / over virtio-9p, read-only, tmpfs overlay".into(),
        );
        let guest = &base.settings.guest;
        let mut q = Qemu {
            settings,
            accel: Accel::Tcg,
            kernel: base.kernel.vmlinuz.clone(),
            initrd: base.initramfs.path.clone(),
            agent,
            vcpus: guest.vcpus,
            memory_mib: guest.memory_mib,
            data_disk: base.settings.data_disk.clone(),
            cache_mode,
            facts,
        };
        q.accel = probe::choose_accel(&mut q, base)?;
        let accel = q.accel;
        q.fact("accel", accel.name());
        q.fact("cpu_model", accel.cpu());
        Ok(q)
    }

    fn accel(&self) -> String {
        self.accel.name().into()
    }

    fn emulated(&self) -> bool {
        self.accel == Accel::Tcg
    }

    fn facts(&self) -> BTreeMap<String, String> {
        self.facts.clone()
    }

    fn default_timeouts(&self) -> Timeouts {
        Timeouts::for_accel(self.accel)
    }

    fn capacity(&self) -> Capacity {
        Capacity {
            cpus: std::thread::available_parallelism().map_or(1, |c| c.get() as u32),
            free_mib: mem_available_mib().map(|m| (m, "the host's available")),
        }
    }

    fn configure(&mut self, g: &GuestSpec<'_, ()>) -> Result<QemuGuest> {
        let mut cmd = self.command(self.accel);
        if let Some(nic) = &g.nic {
            let tap = nic
                .net
                .ns
                .taps()
                .get(nic.index)
                .context("the namespace has too few taps")?;
            cmd = cmd
                .kernel_arg("benchvm.ip", &format!("{}/{}", nic.addr, netns::PREFIX_LEN))
                .nic(Nic {
                    tap: tap.clone(),
                    mac: format!("52:54:00:77:00:{:02x}", nic.index + 2),
                });
        }
        let cmd = cmd
            .memory_mib(g.memory_mib)
            .kernel_arg("benchvm.job", &g.job.to_string_lossy())
            .drive(Drive {
                id: "scratch".into(),
                path: g.scratch.to_path_buf(),
                serial: SCRATCH_SERIAL.into(),
                cache: self.cache_mode.into(),
                readonly: false,
            })
            .drive(Drive {
                id: "results".into(),
                path: g.results.to_path_buf(),
                serial: RESULTS_SERIAL.into(),
                cache: "writeback".into(),
                readonly: false,
            });
        let line = cmd.line();
        self.facts
            .entry("qemu_command_line".into())
            .or_insert_with(|| line.clone());
        let mut argv = cmd.argv();
        if let Some(nic) = &g.nic {
            let ns = nic.net.ns.name();
            argv.splice(0..0, ["ip", "netns", "exec", ns].map(String::from));
        }
        Ok(QemuGuest {
            accel: self.accel,
            argv,
            line,
        })
    }

    fn start(
        &self,
        config: &QemuGuest,
        files: &LogFiles,
        _timeouts: Timeouts,
    ) -> Result<Box<dyn GuestProcess>, StartError> {
        let program = config.argv.first().map_or("", String::as_str);
        Session::start(&config.argv, &files.console, &files.host_log)
            .map(|s| Box::new(s) as Box<dyn GuestProcess>)
            .map_err(|e| {
                StartError::Failed(anyhow::Error::new(e).context(format!("starting {program}")))
            })
    }

    fn network(&self, guests: u32) -> Result<Network<()>> {
        let ns = Netns::create(&Netns::unique_name("benchvm"), guests as usize)?;
        Ok(Network { side: (), ns })
    }
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
    runs: &'a [&'a str],
    position: usize,
    qemu_ended: &'a str,
    failure: Option<&'a str>,
    command_line: &'a str,
}

/// `boot.json` of a run of the overall experiment: the guest, the boot id
/// its records carry, and the attempts before it.
#[derive(Debug, Serialize)]
struct SerialRecord<'a> {
    #[serde(flatten)]
    boot: BootRecord<'a>,
    boot_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attempts: Vec<AttemptRecord<'a>>,
}

/// A guest whose QEMU was killed from outside, as `boot.json` lists it.
#[derive(Debug, Serialize)]
struct AttemptRecord<'a> {
    guest: &'a str,
    qemu_ended: &'a str,
    failure: &'a str,
    console: &'a str,
    qemu_log: Option<&'a str>,
}

impl<'a> From<&'a Attempt> for AttemptRecord<'a> {
    fn from(a: &'a Attempt) -> Self {
        AttemptRecord {
            guest: &a.guest,
            qemu_ended: &a.ended,
            failure: &a.failure,
            console: &a.console,
            qemu_log: a.host_log.as_deref(),
        }
    }
}

impl GuestConfig for QemuGuest {
    fn recorded(&self) -> (&'static str, Vec<u8>) {
        (".cmdline", format!("{}\n", self.line).into_bytes())
    }

    fn boot_json(&self, b: &BootInfo<'_>) -> Result<Vec<u8>> {
        let boot = BootRecord {
            guest: b.tag,
            accel: self.accel,
            boot_to_ready_s: b.report.boot_to_ready_s,
            ready_uptime_s: b.report.ready_uptime_s,
            runs: &b.runs,
            position: b.position,
            qemu_ended: &b.report.ended,
            failure: b.report.failure.as_deref(),
            command_line: &self.line,
        };
        Ok(match &b.serial {
            Some(s) => serde_json::to_vec_pretty(&SerialRecord {
                boot,
                boot_id: s.boot_id,
                attempts: s.attempts.iter().map(AttemptRecord::from).collect(),
            })?,
            None => serde_json::to_vec_pretty(&boot)?,
        })
    }
}

/// `MemAvailable` of /proc/meminfo, in MiB.
fn mem_available_mib() -> Option<u64> {
    let text = fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}
