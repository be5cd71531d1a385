//! The platform registry's data: every platform collect runs workloads on,
//! what it can run, and how report columns name it. `collect` (its CLI,
//! suite checker, planner and platform constructors) and `analyze` (column
//! labels, figure colors, re-derivation) read this one list; nothing else
//! spells a platform's name.
//!
//! A column label says what ran and how its numbers were obtained:
//! `Native`, `KVM`, `KVM (TCG)`, `Xen (PV, emulated host)`, `KVM (TCG,
//! emulated I/O)`. It is made of the platform's [`PlatformInfo::title`],
//! the accelerator's label ([`accel_label`]), `emulated host` when the
//! numbers come from emulation the accelerator does not already say, and
//! the labels of the recorded settings that change how a platform's
//! numbers are obtained ([`LabelFact`]).

use serde::{Deserialize, Serialize};

/// A platform collect runs workloads on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlatformKind {
    /// The host itself: the baseline of Table 1.
    Native,
    /// QEMU guests, under KVM or TCG.
    Kvm,
    /// Xen domUs driven by `xl` in a dom0.
    Xen,
}

/// A recorded setting of a platform that changes how its numbers are
/// obtained, shown in its column label: the platform's fact `fact` (in
/// `env/summary.json`, SPEC.md §8) having `value` adds `label`. The guest
/// configuration of each run (its QEMU command line or xl.cfg) holds
/// `witness` exactly when the setting is on, which `analyze verify
/// --rederive` checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelFact {
    pub fact: &'static str,
    pub value: &'static str,
    pub label: &'static str,
    pub witness: &'static str,
}

/// What a platform is and can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlatformInfo {
    pub kind: PlatformKind,
    /// Its name in suites, `--platform`, metric rows and bundle paths.
    pub name: &'static str,
    /// Its name in column labels.
    pub title: &'static str,
    /// Workloads run in guests: rows carry `guest` and `n_guests`.
    pub guests: bool,
    /// It starts N guests at once: the scalability experiment runs on it.
    pub scalability: bool,
    /// Its guests get a NIC on a private bridge: the isolation experiment
    /// runs on it.
    pub isolation: bool,
    /// Recorded settings that change how its numbers are obtained.
    pub label_facts: &'static [LabelFact],
}

/// Every platform, in the order reports show them.
pub const PLATFORMS: [PlatformInfo; 3] = [
    PlatformInfo {
        kind: PlatformKind::Native,
        name: "native",
        title: "Native",
        guests: false,
        scalability: false,
        isolation: false,
        label_facts: &[],
    },
    PlatformInfo {
        kind: PlatformKind::Kvm,
        name: "kvm",
        title: "KVM",
        guests: true,
        scalability: true,
        isolation: true,
        label_facts: &[],
    },
    PlatformInfo {
        kind: PlatformKind::Xen,
        name: "xen",
        title: "Xen",
        guests: true,
        scalability: true,
        isolation: true,
        label_facts: &[],
    },
];

impl PlatformKind {
    /// Every platform, in [`PLATFORMS`] order.
    pub const ALL: [PlatformKind; 3] = [PlatformKind::Native, PlatformKind::Kvm, PlatformKind::Xen];

    /// Its registry entry.
    pub fn info(self) -> &'static PlatformInfo {
        let i = PlatformKind::ALL
            .iter()
            .position(|k| *k == self)
            .unwrap_or_default();
        &PLATFORMS[i]
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The platform called `name`, if collect knows one.
    pub fn parse(name: &str) -> Option<PlatformKind> {
        PLATFORMS.iter().find(|p| p.name == name).map(|p| p.kind)
    }

    /// Every platform's name, for messages.
    pub fn names() -> Vec<&'static str> {
        PLATFORMS.iter().map(|p| p.name).collect()
    }
}

impl std::fmt::Display for PlatformKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Type of Xen guests: the accelerator of xen rows is `xen-<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum XenGuestType {
    /// Paravirtualized.
    Pv,
    /// PVH (a PV kernel in an HVM container, no device emulation).
    Pvh,
}

impl XenGuestType {
    pub const ALL: [XenGuestType; 2] = [XenGuestType::Pv, XenGuestType::Pvh];

    /// The xl.cfg `type`.
    pub fn name(self) -> &'static str {
        match self {
            XenGuestType::Pv => "pv",
            XenGuestType::Pvh => "pvh",
        }
    }

    /// The type xl.cfg's `type` names.
    pub fn parse(name: &str) -> Option<XenGuestType> {
        XenGuestType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The `accel` of metric rows: `xen-pv` or `xen-pvh`.
    pub fn accel(self) -> String {
        format!("{XEN_ACCEL_PREFIX}{}", self.name())
    }
}

/// The kernel command line word the Xen lab gives dom0, so the xen
/// platform knows (and `analyze verify --rederive` can check) that its Xen
/// host is itself emulated: `benchvm.lab=qemu-tcg`.
pub const XEN_LAB_FLAG: &str = "benchvm.lab";

/// Accelerators of xen rows start with this, the guest type follows.
pub const XEN_ACCEL_PREFIX: &str = "xen-";
/// The accelerator of rows measured on the host itself.
pub const ACCEL_NONE: &str = "none";
/// QEMU's software emulation: its numbers are emulated.
pub const ACCEL_TCG: &str = "tcg";
/// QEMU under KVM.
pub const ACCEL_KVM: &str = "kvm";

/// What an accelerator adds to a column label: nothing for the host
/// itself and for KVM, `TCG`, the Xen guest type in capitals (`PV`,
/// `PVH`), and an unknown one (an imported bundle's) as it is.
pub fn accel_label(accel: &str) -> Option<String> {
    if accel == ACCEL_NONE || accel == ACCEL_KVM {
        return None;
    }
    if accel == ACCEL_TCG {
        return Some("TCG".into());
    }
    match accel.strip_prefix(XEN_ACCEL_PREFIX) {
        Some(kind) => Some(kind.to_uppercase()),
        None => Some(accel.to_owned()),
    }
}

/// The labels a platform's recorded facts add to its column label, in
/// registry order (see [`LabelFact`]).
pub fn fact_labels<'a>(
    platform: &str,
    fact: impl Fn(&str) -> Option<&'a str>,
) -> Vec<&'static str> {
    PlatformKind::parse(platform)
        .map(|k| k.info().label_facts)
        .unwrap_or_default()
        .iter()
        .filter(|f| fact(f.fact) == Some(f.value))
        .map(|f| f.label)
        .collect()
}

/// The column a platform gets in tables and figures: its title and how
/// its numbers were obtained (see the module doc). `facts` are the labels
/// of [`fact_labels`]. A platform collect does not know (an imported
/// bundle's) keeps its own name.
pub fn column_label(platform: &str, accel: &str, emulated: bool, facts: &[&str]) -> String {
    let kind = PlatformKind::parse(platform);
    let name = kind.map_or(platform, |k| k.info().title);
    let mut how = Vec::new();
    if kind != Some(PlatformKind::Native) {
        how.extend(accel_label(accel));
    }
    if emulated && accel != ACCEL_TCG {
        how.push("emulated host".to_owned());
    }
    how.extend(facts.iter().map(|f| (*f).to_owned()));
    if how.is_empty() {
        name.to_owned()
    } else {
        format!("{name} ({})", how.join(", "))
    }
}

/// The registry index of the platform a column label names (its first
/// word is the platform's title), for figure colors; `None` for a label
/// of a platform collect does not know.
pub fn label_index(label: &str) -> Option<usize> {
    let first = label.split([' ', '(']).next().unwrap_or(label);
    PLATFORMS
        .iter()
        .position(|p| p.title.eq_ignore_ascii_case(first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_say_how_numbers_were_obtained() {
        assert_eq!(column_label("native", "none", false, &[]), "Native");
        assert_eq!(column_label("kvm", "kvm", false, &[]), "KVM");
        assert_eq!(column_label("kvm", "tcg", true, &[]), "KVM (TCG)");
        assert_eq!(
            column_label("xen", "xen-pv", true, &[]),
            "Xen (PV, emulated host)"
        );
        assert_eq!(column_label("xen", "xen-pv", false, &[]), "Xen (PV)");
        assert_eq!(column_label("xen", "xen-hvm", false, &[]), "Xen (HVM)");
        assert_eq!(
            column_label("kvm", "tcg", true, &["emulated I/O"]),
            "KVM (TCG, emulated I/O)"
        );
        // Imported platforms keep their names; unknown accelerators show.
        assert_eq!(column_label("vmware", "esxi", false, &[]), "vmware (esxi)");
    }

    #[test]
    fn names_round_trip_and_serialize_as_themselves() {
        for kind in PlatformKind::ALL {
            assert_eq!(PlatformKind::parse(kind.name()), Some(kind));
            assert_eq!(kind.info().kind, kind);
            let json = serde_json::to_string(&kind).expect("json");
            assert_eq!(json, format!("\"{}\"", kind.name()));
        }
        assert_eq!(PlatformKind::parse("vmware"), None);
        assert_eq!(XenGuestType::Pvh.accel(), "xen-pvh");
    }

    #[test]
    fn labels_find_their_platform() {
        assert_eq!(label_index("Native"), Some(0));
        assert_eq!(label_index("KVM (TCG)"), Some(1));
        assert_eq!(label_index("Xen (PV, emulated host)"), Some(2));
        assert_eq!(label_index("vmware (esxi)"), None);
    }
}
