//! Xen: what the xen platform (`crate::platform::Xen`) drives from dom0,
//! and the lab that gives it a real Xen host inside QEMU.
//!
//! - [`config`]: the xl.cfg of a guest, generated from typed settings;
//! - [`xl`]: the `xl` commands collect runs (info, dmesg, create, destroy);
//! - [`domain`]: a running domU as a [`crate::guest::session::GuestProcess`],
//!   its console followed through xenconsoled's log file;
//! - [`data_disk`]: the guests' read-only data disk as a block device of dom0;
//! - [`host`]: whether this host is a Xen dom0;
//! - [`vif`]: the hotplug script that puts an isolation domU's vif on the
//!   bridge of the run's own network namespace in dom0;
//! - [`lab`]: `collect lab xen`, Debian's Xen 4.17 and a dom0 booted under
//!   QEMU TCG (../shared/recipes/xen-in-qemu.md), running collect in dom0.

pub mod config;
pub mod data_disk;
pub mod domain;
pub mod host;
pub mod lab;
pub mod vif;
pub mod xl;

/// The kernel command line word the lab gives dom0, so the xen platform
/// knows that its Xen host is itself emulated: `benchvm.lab=qemu-tcg`.
pub const LAB_FLAG: &str = "benchvm.lab";
