//! The kvm platform's settings: its command-line flags of `collect run`,
//! resolved once into typed values and stored in `config/settings.json`
//! (flattened into the run's settings, so the keys stay top-level).

use serde::{Deserialize, Serialize};

/// `--accel`: the accelerator asked for; the one really used is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccelSetting {
    /// KVM if a probe guest boots under it within 20 s, else TCG (with a warning).
    Auto,
    /// KVM or fail.
    Kvm,
    /// Software emulation (QEMU TCG).
    Tcg,
}

impl AccelSetting {
    pub fn name(self) -> &'static str {
        match self {
            AccelSetting::Auto => "auto",
            AccelSetting::Kvm => "kvm",
            AccelSetting::Tcg => "tcg",
        }
    }
}

/// What the kvm platform is set up from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args, Serialize, Deserialize)]
pub struct KvmSettings {
    /// Accelerator of kvm guests; the one really used is recorded.
    #[arg(long, value_enum, default_value_t = AccelSetting::Auto)]
    pub accel: AccelSetting,
}

impl Default for KvmSettings {
    fn default() -> Self {
        KvmSettings {
            accel: AccelSetting::Auto,
        }
    }
}
