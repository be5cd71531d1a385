//! The xen platform's settings: its command-line flags of `collect run`,
//! resolved once into typed values. The guest type is stored in
//! `config/settings.json` (flattened into the run's settings); where xen
//! runs is decided before the run and not stored (dom0's collect is told
//! `--xen-host dom0`).

pub use benchvm_core::registry::XenGuestType;
use serde::{Deserialize, Serialize};

/// Where the xen platform runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum XenHost {
    /// This host when it is a Xen dom0, else the lab.
    #[default]
    Auto,
    /// This host, which must be a Xen dom0.
    Dom0,
    /// The Xen lab (Xen 4.17 under QEMU TCG).
    Lab,
}

impl XenHost {
    pub fn name(self) -> &'static str {
        match self {
            XenHost::Auto => "auto",
            XenHost::Dom0 => "dom0",
            XenHost::Lab => "lab",
        }
    }
}

/// What the xen platform is set up from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args, Serialize, Deserialize)]
pub struct XenSettings {
    /// Where xen runs: in this host if it is a Xen dom0 (`dom0`), or in the
    /// Xen lab, a Xen host under QEMU TCG whose rows say emulated (`lab`);
    /// `auto` picks dom0 when this host is one, else the lab.
    #[arg(long, value_enum, default_value_t = XenHost::Auto)]
    #[serde(skip)]
    pub xen_host: XenHost,
    /// Type of xen guests; recorded as accel xen-pv or xen-pvh.
    #[arg(long, value_enum, default_value_t = XenGuestType::Pv)]
    pub xen_guest_type: XenGuestType,
}

impl Default for XenSettings {
    fn default() -> Self {
        XenSettings {
            xen_host: XenHost::Auto,
            xen_guest_type: XenGuestType::Pv,
        }
    }
}
