//! collect's side of the platform registry (`benchvm_core::registry` holds
//! the data every crate reads: names, capabilities, column labels): per
//! platform, the tools it needs on the host that runs it, where it runs
//! from this host (its probe), how much slower than native its runs are
//! expected to be, and how it is set up for a run (its constructor). The
//! CLI, the suite checker, the planner and `collect run` read this list;
//! a new platform is one [`Entry`] here and one in the core registry.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use benchvm_core::registry::PlatformKind;
use serde::{Deserialize, Serialize};

use super::engine::GuestSettings;
use super::kvm::settings::KvmSettings;
use super::kvm::{qemu, Kvm};
use super::xen::settings::{XenHost, XenSettings};
use super::xen::{self, Xen};
use super::{Native, Platform};
use crate::guest::initramfs::BUSYBOX;
use crate::runfolder::RunFolder;
use crate::suite::GuestSize;
use crate::workload::Requirement;

/// The platforms' settings of a run, resolved from the command line and
/// stored (flattened) in `config/settings.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformSettings {
    /// Cache folder (guest kernel, Xen, extracted kernel tree, initramfs).
    pub cache: PathBuf,
    /// Scratch folder for disk and compile workloads and guest images.
    pub scratch: Option<PathBuf>,
    /// Guest kernel.
    pub kernel: Option<PathBuf>,
    #[serde(flatten)]
    pub kvm: KvmSettings,
    #[serde(flatten)]
    pub xen: XenSettings,
}

/// Where a platform runs from this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// On this host, by this collector.
    Here,
    /// In the Xen lab (`crate::lab::xen`), a Xen host under QEMU.
    XenLab,
}

/// What a platform's constructor gets.
#[derive(Debug)]
pub struct SetUp<'a> {
    pub settings: &'a PlatformSettings,
    /// Size of the suite's guests.
    pub guest: &'a GuestSize,
    /// The run's scratch folder (guest platforms keep their images in a
    /// subfolder named after them).
    pub scratch: &'a Path,
    pub folder: &'a Arc<RunFolder>,
    /// The guests' read-only data disk.
    pub data_disk: Option<&'a Path>,
}

/// One platform, as collect runs it.
#[derive(Debug)]
pub struct Entry {
    pub kind: PlatformKind,
    /// Tools the host that runs it needs.
    pub requirements: &'static [Requirement],
    /// How much slower than natively its runs are expected to be, for the
    /// first ETA (finished runs correct it): TCG guests and the Xen lab
    /// (TCG below Xen) are the common case here.
    pub eta_factor: f64,
    /// Where it runs from this host (`is_dom0`: whether this host is a Xen
    /// dom0).
    pub place: fn(&PlatformSettings, bool) -> Result<Place>,
    /// Sets it up for a run.
    pub construct: fn(&SetUp<'_>) -> Result<Box<dyn Platform>>,
}

const NATIVE: Entry = Entry {
    kind: PlatformKind::Native,
    requirements: &[],
    eta_factor: 1.0,
    place: here,
    construct: |s| Ok(Box::new(Native::new(s.scratch.to_path_buf())?)),
};

const KVM: Entry = Entry {
    kind: PlatformKind::Kvm,
    requirements: &[
        Requirement {
            what: qemu::QEMU,
            package: "qemu-system-x86",
        },
        Requirement {
            what: BUSYBOX,
            package: "busybox-static",
        },
        Requirement {
            what: "mkfs.ext4",
            package: "e2fsprogs",
        },
    ],
    eta_factor: 8.0,
    place: here,
    construct: |s| {
        Ok(Box::new(Kvm::new(
            guest_settings(s, "kvm")?,
            s.settings.kvm,
        )?))
    },
};

const XEN: Entry = Entry {
    kind: PlatformKind::Xen,
    requirements: &[
        Requirement {
            what: xen::xl::XL,
            package: "xen-utils-4.17",
        },
        Requirement {
            what: BUSYBOX,
            package: "busybox-static",
        },
    ],
    eta_factor: 15.0,
    place: xen_place,
    construct: |s| {
        Ok(Box::new(Xen::new(
            guest_settings(s, "xen")?,
            s.settings.xen,
        )?))
    },
};

/// Every platform's entry, in `benchvm_core::registry::PLATFORMS` order.
pub const REGISTRY: [&Entry; 3] = [&NATIVE, &KVM, &XEN];

/// The entry of `kind`.
pub fn entry(kind: PlatformKind) -> &'static Entry {
    match kind {
        PlatformKind::Native => &NATIVE,
        PlatformKind::Kvm => &KVM,
        PlatformKind::Xen => &XEN,
    }
}

fn here(_: &PlatformSettings, _: bool) -> Result<Place> {
    Ok(Place::Here)
}

/// xen runs here on a Xen dom0 (or when asked to), in the lab otherwise.
fn xen_place(settings: &PlatformSettings, is_dom0: bool) -> Result<Place> {
    match settings.xen.xen_host {
        XenHost::Lab => Ok(Place::XenLab),
        XenHost::Dom0 if is_dom0 => Ok(Place::Here),
        XenHost::Dom0 => bail!(
            "--xen-host dom0: this host is not a Xen dom0 (/proc/xen/capabilities does not say \
             control_d); --xen-host lab (or auto) runs xen in the Xen lab instead"
        ),
        XenHost::Auto if is_dom0 => Ok(Place::Here),
        XenHost::Auto => Ok(Place::XenLab),
    }
}

/// The settings a guest platform named `name` is set up from: its images
/// in `<scratch>/<name>`, the running collect binary as the agent.
fn guest_settings(s: &SetUp<'_>, name: &str) -> Result<GuestSettings> {
    Ok(GuestSettings {
        kernel: s.settings.kernel.clone(),
        cache: s.settings.cache.clone(),
        work: s.scratch.join(name),
        agent: std::env::current_exe().context("locating the collect binary")?,
        guest: s.guest.clone(),
        timeouts: None,
        folder: Some(Arc::clone(s.folder)),
        data_disk: s.data_disk.map(Path::to_path_buf),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_platform_has_an_entry_in_order() {
        let kinds: Vec<PlatformKind> = REGISTRY.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, PlatformKind::ALL);
        for kind in PlatformKind::ALL {
            assert_eq!(entry(kind).kind, kind);
        }
    }

    #[test]
    fn xen_runs_in_the_lab_off_a_dom0() {
        let mut s = PlatformSettings {
            cache: "/c".into(),
            scratch: None,
            kernel: None,
            kvm: KvmSettings::default(),
            xen: XenSettings::default(),
        };
        assert_eq!(xen_place(&s, false).expect("auto"), Place::XenLab);
        assert_eq!(xen_place(&s, true).expect("auto"), Place::Here);
        s.xen.xen_host = XenHost::Lab;
        assert_eq!(xen_place(&s, true).expect("lab"), Place::XenLab);
        s.xen.xen_host = XenHost::Dom0;
        let err = xen_place(&s, false).expect_err("no dom0");
        assert!(err.to_string().contains("--xen-host lab"), "{err}");
    }
}
