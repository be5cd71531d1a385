//! The one trait a hypervisor implements to host collect's guests
//! ([`Vmm`]), and what the engine hands it and gets back.
//!
//! A `Vmm` builds a guest's configuration from a [`GuestSpec`] (its disks,
//! job, memory and, in isolation runs, NIC), starts a configured guest
//! (the engine follows its console and stops it through the returned
//! [`GuestProcess`]), gives an isolation run its network, and says what it
//! records about its host. Everything the guest platforms share (kernel,
//! initramfs, the agent, disks, jobs, boot facts, the serial and parallel
//! loops, retries, deadlines) is the engine's ([`super::GuestPlatform`]).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use anyhow::Result;
use benchvm_core::registry::PlatformKind;

use super::Base;
use crate::guest::drive::{Report, Timeouts};
use crate::guest::session::GuestProcess;
use crate::isolation::netns::Netns;

/// A hypervisor that boots collect's guests (shared by the threads that
/// follow a group of guests).
pub trait Vmm: std::fmt::Debug + Sized + Sync {
    /// What the platform is set up from besides the settings every guest
    /// platform shares.
    type Settings;
    /// A guest's generated configuration.
    type Config: GuestConfig + Sync;
    /// What an isolation run's network needs besides its namespace
    /// (removed on drop, before the namespace).
    type NetSide;

    /// Its entry in the registry.
    const PLATFORM: PlatformKind;
    /// A guest in messages: `guest`, `domain`.
    const GUEST: &'static str;
    /// The hypervisor's own log of a guest, as its run folder names it.
    const HOST_LOG: &'static str;
    /// Starting a guest, in its log: `QEMU`, `xl create`.
    const START: &'static str;
    /// How often a guest that was not created is tried again.
    const START_RETRIES: u32;
    /// Whether a guest's console goes straight into the run folder
    /// (`config/<platform>/guest-NNN-console.log`), so that it survives a
    /// collector that is killed.
    const CONSOLE_IN_FOLDER: bool;

    /// Modules its guests need beyond [`crate::guest::modules::GUEST_MODULES`].
    fn modules(settings: &Self::Settings) -> &'static [&'static str];
    /// Checks the host, installs the agent ([`Base::install_agent`]) and
    /// records the host's facts.
    fn new(settings: Self::Settings, base: &mut Base) -> Result<Self>;

    /// The accelerator of its rows.
    fn accel(&self) -> String;
    /// Whether its numbers come from software emulation.
    fn emulated(&self) -> bool;
    /// What it records about the host and itself (`env/summary.json`).
    fn facts(&self) -> BTreeMap<String, String>;
    /// Stage deadlines of its guests when the settings give none.
    fn default_timeouts(&self) -> Timeouts;
    /// The CPUs its guests share, and the memory free for them.
    fn capacity(&self) -> Capacity;

    /// Builds a guest's configuration (writing what starting it reads).
    fn configure(&mut self, guest: &GuestSpec<'_, Self::NetSide>) -> Result<Self::Config>;
    /// Starts a configured guest: its console goes to `files.console`,
    /// the hypervisor's messages to `files.host_log`.
    fn start(
        &self,
        config: &Self::Config,
        files: &LogFiles,
        timeouts: Timeouts,
    ) -> Result<Box<dyn GuestProcess>, StartError>;
    /// The network of an isolation run of `guests` guests.
    fn network(&self, guests: u32) -> Result<Network<Self::NetSide>>;
    /// After a network's guests ended: what it logged, into `dir`.
    fn keep_network_logs(&self, net: &Self::NetSide, dir: &Path) -> Result<()> {
        let _ = (net, dir);
        Ok(())
    }
    /// After guests ended: what the hypervisor itself logged meanwhile.
    fn after_guests(&mut self, base: &Base) -> Result<()> {
        let _ = base;
        Ok(())
    }
}

/// A generated guest configuration, as the bundle keeps it.
pub trait GuestConfig {
    /// The file recorded as `config/<platform>/<tag><extension>`, and its
    /// bytes (a QEMU command line, an xl.cfg).
    fn recorded(&self) -> (&'static str, Vec<u8>);
    /// The `boot.json` of each run the guest ran.
    fn boot_json(&self, boot: &BootInfo<'_>) -> Result<Vec<u8>>;
    /// Files each run folder of the guest gets besides its console,
    /// `boot.json` and the hypervisor's log.
    fn run_files(&self) -> Vec<(&'static str, Vec<u8>)> {
        Vec::new()
    }
}

/// One guest, as the engine asks for it.
#[derive(Debug)]
pub struct GuestSpec<'a, N> {
    /// 1-based: how many guests the platform started, this one included.
    pub number: u32,
    /// `guest-NNN`: names its files.
    pub tag: &'a str,
    /// Its job, at a path the guest sees in its view of the host root.
    pub job: &'a Path,
    /// Its scratch disk (an ext4 image formatted by the host) and results
    /// disk (raw).
    pub scratch: &'a Path,
    pub results: &'a Path,
    pub memory_mib: u32,
    /// Its NIC in an isolation run.
    pub nic: Option<Nic<'a, N>>,
}

/// A guest's NIC on the bridge of an isolation run's network.
#[derive(Debug)]
pub struct Nic<'a, N> {
    /// 0-based place among the run's guests.
    pub index: usize,
    pub addr: Ipv4Addr,
    pub net: &'a Network<N>,
}

/// An isolation run's network: a namespace of the run's own holding the
/// bridge, and what the hypervisor adds (dropped first).
#[derive(Debug)]
pub struct Network<N> {
    pub side: N,
    pub ns: Netns,
}

/// Where a guest's console and the hypervisor's messages about it go.
#[derive(Debug, Clone)]
pub struct LogFiles {
    pub console: PathBuf,
    pub host_log: PathBuf,
}

/// Why a guest did not start.
#[derive(Debug)]
pub enum StartError {
    /// The hypervisor did not create it: tried again, then the guest's
    /// runs are dnr for this reason (it ran nothing).
    NotCreated(String),
    /// collect could not run the hypervisor at all.
    Failed(anyhow::Error),
}

/// The host's CPUs that guests share, and the memory free for them.
#[derive(Debug, Clone, Copy)]
pub struct Capacity {
    pub cpus: u32,
    /// MiB, and whose: "the host's available", "Xen's free".
    pub free_mib: Option<(u64, &'static str)>,
}

/// What a guest's `boot.json` says about one run it was given.
#[derive(Debug)]
pub struct BootInfo<'a> {
    pub tag: &'a str,
    pub report: &'a Report,
    /// The runs the guest was given, and this one's place among them.
    pub runs: Vec<&'a str>,
    pub position: usize,
    /// Runs of the overall experiment: the boot id their record carries,
    /// and the guests killed from outside before this one.
    pub serial: Option<SerialBoot<'a>>,
}

/// See [`BootInfo::serial`].
#[derive(Debug)]
pub struct SerialBoot<'a> {
    pub boot_id: Option<&'a str>,
    pub attempts: &'a [Attempt],
}

/// A guest whose hypervisor process was killed from outside during a run,
/// before the run was retried on a fresh guest.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub guest: String,
    pub ended: String,
    pub failure: String,
    /// Its console and hypervisor log, kept in the run's folder.
    pub console: String,
    pub host_log: Option<String>,
}
