//! Xen: collect runs in dom0 and drives the real `xl` ([`XenVmm`], the
//! engine's [`Vmm`]). Each guest is a domU (PV by default, PVH on request)
//! from a generated xl.cfg ([`config`]) whose kernel boots collect's
//! initramfs and mounts dom0's root read-only over Xen 9pfs (served by the
//! `qemu-system-xen` device model) under a tmpfs overlay. Scratch and
//! results disks are raw images on dom0-local storage (qdisk), the data
//! disk a read-only block device of dom0's served by blkback
//! ([`data_disk`]). The console is followed through xenconsoled's log
//! ([`domain`]); `xl destroy` ends a domU at its deadline. A failed `xl
//! create` is tried again: the domain ran nothing yet.
//!
//! Isolation domUs get a vif whose hotplug script ([`vif`]) moves it onto
//! the bridge of a network namespace of the run's own in dom0.
//!
//! When dom0's kernel command line carries `benchvm.lab=KIND` (set by the
//! Xen lab, `crate::lab::xen`), the Xen host itself runs under emulation:
//! rows are marked emulated and the facts say `lab=KIND` ([`host`]).

pub mod config;
pub mod data_disk;
pub mod domain;
pub mod host;
mod root_view;
pub mod settings;
pub mod vif;
pub mod xl;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use benchvm_core::registry::PlatformKind;
use serde::Serialize;

use super::engine::{
    Base, BootInfo, Capacity, GuestConfig, GuestPlatform, GuestSpec, LogFiles, Network, StartError,
    Vmm,
};
use crate::guest::drive::Timeouts;
use crate::guest::scratch;
use crate::guest::session::GuestProcess;
use crate::isolation::netns::{self, Netns};
use crate::steps;
use config::{Disk, Vif, XlConfig};
use data_disk::DataDevice;
use domain::Domain;
use root_view::RootView;
use settings::{XenGuestType, XenSettings};

/// The device model that serves 9pfs and qdisk disks (Debian's
/// qemu-system-xen).
pub const DEVICE_MODEL: &str = "/usr/libexec/xen-qemu-system-i386";

/// The xen platform.
pub type Xen = GuestPlatform<XenVmm>;

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

/// Whether qdisk opens scratch images with O_DIRECT (`direct-io-safe`), as
/// kvm's are opened with `cache=none`. Not with Debian 12's
/// qemu-system-xen: `direct-io-safe` makes qdisk ask for `aio=native`,
/// which that build lacks ("aio=native was specified, but is not supported
/// in this build"), and the disk never reaches the domU. Scratch images go
/// through dom0's page cache; the `scratch_cache` fact and Table 1's notes
/// say so.
const SCRATCH_DIRECT: bool = false;

/// Xen and its toolstack in dom0, as the engine's hypervisor.
#[derive(Debug)]
pub struct XenVmm {
    guest_type: XenGuestType,
    /// `benchvm.lab=` of dom0's command line.
    lab: Option<String>,
    facts: BTreeMap<String, String>,
    kernel: PathBuf,
    ramdisk: PathBuf,
    agent: PathBuf,
    vcpus: u32,
    work: PathBuf,
    /// The data disk as a block device of dom0's, for blkback.
    data_disk: Option<DataDevice>,
    /// dom0's root as domUs see it.
    view: RootView,
    /// Folder in dom0's root file system for the agent and jobs.
    shared: PathBuf,
}

impl Drop for XenVmm {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.shared);
    }
}

impl XenVmm {
    /// The xl.cfg of domU `name` running the job at `job` with these disks.
    fn xl_config(&self, name: &str, g: &GuestSpec<'_, VifScript>) -> XlConfig {
        let mut cfg = XlConfig::new(
            name,
            self.guest_type,
            self.kernel.clone(),
            self.ramdisk.clone(),
        )
        .kernel_arg("benchvm.agent", &self.agent.to_string_lossy())
        .kernel_arg("benchvm.job", &g.job.to_string_lossy())
        .kernel_arg("benchvm.p9", "xen")
        .kernel_arg("benchvm.scratch", "/dev/xvdb")
        .kernel_arg(scratch::FORMATTED_ARG.0, scratch::FORMATTED_ARG.1)
        .kernel_arg("benchvm.results", "/dev/xvdc");
        cfg.memory_mib = g.memory_mib;
        cfg.vcpus = self.vcpus;
        cfg.host_root = Some(self.view.path().to_path_buf());
        cfg.disks = vec![
            Disk {
                vdev: "xvdb".into(),
                target: g.scratch.to_path_buf(),
                readonly: false,
                script: None,
                direct_io_safe: SCRATCH_DIRECT,
            },
            Disk {
                vdev: "xvdc".into(),
                target: g.results.to_path_buf(),
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
}

/// A configured domU; its xl.cfg file in the work folder goes on drop.
#[derive(Debug)]
pub struct XenGuest {
    name: String,
    guest_type: XenGuestType,
    text: String,
    path: PathBuf,
}

impl Drop for XenGuest {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// The hotplug script that puts an isolation run's vifs on its bridge
/// (removed with its log on drop, before the namespace goes).
#[derive(Debug)]
pub struct VifScript {
    path: PathBuf,
}

impl VifScript {
    fn log(&self) -> PathBuf {
        self.path.with_file_name(vif::LOG_NAME)
    }
}

impl Drop for VifScript {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
        let _ = fs::remove_file(self.log());
    }
}

impl Vmm for XenVmm {
    type Settings = XenSettings;
    type Config = XenGuest;
    type NetSide = VifScript;

    const PLATFORM: PlatformKind = PlatformKind::Xen;
    const GUEST: &'static str = "domain";
    const HOST_LOG: &'static str = "xl.log";
    const START: &'static str = "xl create";
    /// Seen failing under load: the device model answered libxl's
    /// start-up queries after libxl's fixed timeouts ("device model did
    /// not start: -9").
    const START_RETRIES: u32 = 2;
    const CONSOLE_IN_FOLDER: bool = true;

    fn modules(_settings: &XenSettings) -> &'static [&'static str] {
        &[]
    }

    /// Checks that collect runs in a Xen dom0, mounts the domUs' view of
    /// its root, installs the agent there and records the Xen host's facts.
    fn new(settings: XenSettings, base: &mut Base) -> Result<Self> {
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
        let work = base.work().to_path_buf();
        // What domUs see as their root: dom0's root file system alone (a
        // non-recursive bind of /), without /proc, /sys, /dev and the other
        // mounts: exported whole, the domU got dom0's /proc through 9p
        // instead of its own (Xen's 9p back end does not remap inode
        // numbers across file systems). Agent and jobs live in it.
        let view = RootView::mount(&work.join("root"))?;
        let shared = PathBuf::from(format!("/var/tmp/benchvm-xen-{}", std::process::id()));
        let agent = base.install_agent(&shared)?;
        let dom0_cmdline = fs::read_to_string("/proc/cmdline").unwrap_or_default();
        let lab = host::cmdline_value(&dom0_cmdline, host::LAB_FLAG);
        let guest_type = settings.xen_guest_type;

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
        put("guest_type", guest_type.name().into());
        put("accel", guest_type.accel());
        put("device_model", DEVICE_MODEL.into());
        put(
            "root",
            "dom0 / over Xen 9pfs (qemu-system-xen), read-only, tmpfs overlay".into(),
        );
        put(
            "disks",
            format!("raw images served by qdisk, in {}", work.display()),
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
        put(
            "scratch_cache",
            if SCRATCH_DIRECT {
                "direct-io-safe"
            } else {
                "writeback"
            }
            .into(),
        );
        let data_disk = match &base.settings.data_disk {
            Some(image) => {
                let device = DataDevice::attach(image, &work)?;
                facts.insert("data_disk_device".into(), device.describe());
                Some(device)
            }
            None => None,
        };
        base.record("xl-info.txt", info.as_bytes())?;
        base.record("xl-dmesg.txt", xl::dmesg().as_bytes())?;
        base.record("dom0-cmdline.txt", dom0_cmdline.as_bytes())?;
        Ok(XenVmm {
            guest_type,
            lab,
            facts,
            kernel: base.kernel.vmlinuz.clone(),
            ramdisk: base.initramfs.path.clone(),
            agent,
            vcpus: base.settings.guest.vcpus,
            work,
            data_disk,
            view,
            shared,
        })
    }

    fn accel(&self) -> String {
        self.guest_type.accel()
    }

    fn emulated(&self) -> bool {
        self.lab.is_some()
    }

    fn facts(&self) -> BTreeMap<String, String> {
        self.facts.clone()
    }

    fn default_timeouts(&self) -> Timeouts {
        default_timeouts(self.lab.is_some())
    }

    fn capacity(&self) -> Capacity {
        let cpus = self
            .facts
            .get("host_cpus")
            .and_then(|c| c.parse::<u32>().ok())
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |c| c.get() as u32));
        let free = xl::info()
            .ok()
            .and_then(|i| xl::info_field(&i, "free_memory")?.parse::<u64>().ok());
        Capacity {
            cpus,
            free_mib: free.map(|f| (f, "Xen's free")),
        }
    }

    fn configure(&mut self, g: &GuestSpec<'_, VifScript>) -> Result<XenGuest> {
        let name = format!("benchvm-{}-{:03}", std::process::id(), g.number);
        let mut cfg = self.xl_config(&name, g);
        if let Some(nic) = &g.nic {
            cfg = cfg.kernel_arg("benchvm.ip", &format!("{}/{}", nic.addr, netns::PREFIX_LEN));
            cfg.vifs = vec![Vif {
                mac: vif::mac(nic.index).context("too many guests for one bridge")?,
                script: Some(nic.net.side.path.clone()),
            }];
        }
        let text = cfg.render();
        let path = self.work.join(format!("{}.cfg", g.tag));
        fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
        log::info!("{}: domain {name}, {}", g.tag, path.display());
        Ok(XenGuest {
            name,
            guest_type: self.guest_type,
            text,
            path,
        })
    }

    fn start(
        &self,
        config: &XenGuest,
        files: &LogFiles,
        timeouts: Timeouts,
    ) -> Result<Box<dyn GuestProcess>, StartError> {
        Domain::create(
            &config.path,
            &config.name,
            &files.console,
            &files.host_log,
            timeouts.boot,
        )
        .map(|d| Box::new(d) as Box<dyn GuestProcess>)
        .map_err(|e| {
            let _ = xl::destroy(&config.name);
            StartError::NotCreated(e.to_string())
        })
    }

    fn network(&self, _guests: u32) -> Result<Network<VifScript>> {
        let ns = Netns::create(&Netns::unique_name("benchvm"), 0)
            .context("creating the domUs' network namespace in dom0")?;
        let path = vif::write_script(&self.work, ns.name(), netns::BRIDGE)?;
        Ok(Network {
            side: VifScript { path },
            ns,
        })
    }

    fn keep_network_logs(&self, net: &VifScript, dir: &Path) -> Result<()> {
        let bytes = fs::read(net.log()).unwrap_or_default();
        fs::write(dir.join("vif-hotplug.log"), bytes)?;
        Ok(())
    }

    fn after_guests(&mut self, base: &Base) -> Result<()> {
        base.record("xl-dmesg.txt", xl::dmesg().as_bytes())
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
    runs: &'a [&'a str],
    position: usize,
    domain_ended: &'a str,
    failure: Option<&'a str>,
    config: &'a str,
}

impl GuestConfig for XenGuest {
    fn recorded(&self) -> (&'static str, Vec<u8>) {
        (".cfg", self.text.clone().into_bytes())
    }

    fn boot_json(&self, b: &BootInfo<'_>) -> Result<Vec<u8>> {
        Ok(serde_json::to_vec_pretty(&BootRecord {
            guest: b.tag,
            domain: &self.name,
            accel: self.guest_type.accel(),
            boot_to_ready_s: b.report.boot_to_ready_s,
            ready_uptime_s: b.report.ready_uptime_s,
            runs: &b.runs,
            position: b.position,
            domain_ended: &b.report.ended,
            failure: b.report.failure.as_deref(),
            config: &self.text,
        })?)
    }

    fn run_files(&self) -> Vec<(&'static str, Vec<u8>)> {
        let dm_log = Path::new(domain::CONSOLE_LOG_DIR).join(format!("qemu-dm-{}.log", self.name));
        let dm = fs::read(dm_log).unwrap_or_default();
        let mut files = vec![("xl.cfg", self.text.clone().into_bytes())];
        if !dm.is_empty() {
            files.push(("qemu-dm.log", dm));
        }
        files
    }
}
