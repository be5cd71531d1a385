//! `env/summary.json`: the environment facts that `analyze` compares across
//! bundles (SPEC.md, "Environment summary"). The raw captures they come from
//! sit beside it in `env/`.
//!
//! A fact the source did not state is unknown: `null` (or absent), never a
//! made-up number. Bundles of format 1.0 wrote `0` or `""` for a fact
//! collect could not read; those read as unknown too.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// Path of the summary inside a bundle.
pub const SUMMARY_PATH: &str = "env/summary.json";

/// The host facts that decide whether two runs are comparable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EnvSummary {
    /// Host name.
    pub host: String,
    /// `uname -r`.
    #[serde(deserialize_with = "known_text")]
    pub kernel: Option<String>,
    /// `PRETTY_NAME` of os-release.
    #[serde(deserialize_with = "known_text")]
    pub os: Option<String>,
    /// `uname -m`.
    #[serde(deserialize_with = "known_text")]
    pub arch: Option<String>,
    /// CPU model name as lscpu / cpuinfo print it.
    #[serde(deserialize_with = "known_text")]
    pub cpu_model: Option<String>,
    /// Logical CPUs online.
    #[serde(deserialize_with = "known_count")]
    pub cpus: Option<u32>,
    pub sockets: Option<u32>,
    pub cores_per_socket: Option<u32>,
    pub threads_per_core: Option<u32>,
    /// `/sys/devices/system/cpu/smt/control` (`on`, `off`, `notsupported`...).
    pub smt: Option<String>,
    /// Microcode revision from /proc/cpuinfo.
    pub microcode: Option<String>,
    /// cpufreq scaling governor of cpu0, when the host exposes one.
    pub governor: Option<String>,
    /// `MemTotal` of /proc/meminfo, KiB.
    #[serde(deserialize_with = "known_count")]
    pub mem_total_kib: Option<u64>,
    /// NUMA nodes online.
    #[serde(deserialize_with = "known_count")]
    pub numa_nodes: Option<u32>,
    /// `/proc/cmdline`.
    #[serde(deserialize_with = "known_text")]
    pub kernel_cmdline: Option<String>,
    /// Hypervisor this host itself runs under, if any (cpuinfo `hypervisor`
    /// flag, DMI); `None` on bare metal.
    pub host_virtualization: Option<String>,
    /// One line per file of `/sys/devices/system/cpu/vulnerabilities`.
    pub vulnerabilities: BTreeMap<String, String>,
    /// The CPU vulnerability mitigations in one line, as a source that
    /// does not list them one by one states them (PTS's `security`).
    pub mitigations: Option<String>,
    /// Transparent huge pages setting (`always`, `madvise`, `never`).
    pub transparent_hugepage: Option<String>,
    /// File system type under the scratch folder.
    pub scratch_fs: Option<String>,
    /// Version line of every tool the suite used (`sysbench`, `fio`, `gcc`...).
    pub tools: BTreeMap<String, String>,
    /// Version of the collector.
    pub collect_version: String,
    /// Git commit the collector was built from, when known.
    pub collect_commit: Option<String>,
    /// Facts per platform measured (`native`, `kvm`, `xen`): accelerator,
    /// hypervisor version, machine type and the like, as key/value pairs.
    pub platforms: BTreeMap<String, BTreeMap<String, String>>,
}

impl EnvSummary {
    /// The fields whose difference makes two runs hard to compare, as
    /// (name, value) pairs, `None` where the fact is unknown; used by
    /// analyze's comparability guard.
    ///
    /// A collected bundle read its host: no governor there means the host
    /// has no cpufreq governor, no host virtualization means bare metal,
    /// and both read `none`. In an imported bundle they are unknown.
    pub fn comparability_fields(&self) -> Vec<(&'static str, Option<String>)> {
        let absent_is_none = |v: &Option<String>| match v {
            None if !self.is_imported() => Some("none".to_owned()),
            other => other.clone(),
        };
        vec![
            ("cpu_model", self.cpu_model.clone()),
            ("microcode", self.microcode.clone()),
            ("governor", absent_is_none(&self.governor)),
            ("smt", self.smt.clone()),
            ("kernel", self.kernel.clone()),
            ("cpus", self.cpus.map(|n| n.to_string())),
            (
                "host_virtualization",
                absent_is_none(&self.host_virtualization),
            ),
            ("mitigations", self.mitigations.clone()),
            ("transparent_hugepage", self.transparent_hugepage.clone()),
        ]
    }
}

impl EnvSummary {
    /// Whether the bundle was imported (`collect import`): its platforms
    /// say `origin = import`.
    pub fn is_imported(&self) -> bool {
        self.platforms
            .values()
            .any(|facts| facts.get("origin").is_some_and(|o| o == "import"))
    }
}

/// A text fact: `null`, absent or `""` (format 1.0) is unknown.
fn known_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|s| !s.is_empty()))
}

/// A count: `null`, absent or `0` (format 1.0) is unknown.
fn known_count<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default + PartialEq,
{
    Ok(Option::<T>::deserialize(d)?.filter(|n| *n != T::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_facts_are_null_and_old_placeholders_read_as_unknown() {
        let old = r#"{"host":"h","kernel":"","cpus":0,"mem_total_kib":0,"numa_nodes":0,"cpu_model":"","governor":null}"#;
        let s: EnvSummary = serde_json::from_str(old).expect("1.0 summary");
        assert_eq!(
            (s.kernel.as_deref(), s.cpus, s.mem_total_kib),
            (None, None, None)
        );
        assert_eq!((s.numa_nodes, s.cpu_model.as_deref()), (None, None));
        let known = r#"{"kernel":"6.1.0","cpus":32,"mem_total_kib":1024}"#;
        let s: EnvSummary = serde_json::from_str(known).expect("summary");
        assert_eq!(
            (s.kernel.as_deref(), s.cpus, s.mem_total_kib),
            (Some("6.1.0"), Some(32), Some(1024))
        );
        let written = serde_json::to_value(EnvSummary::default()).expect("json");
        assert_eq!(written["cpus"], serde_json::Value::Null);
        assert_eq!(written["kernel"], serde_json::Value::Null);
        // A collected bundle without a governor has none; an imported one
        // does not know.
        let collected = EnvSummary::default().comparability_fields();
        assert!(collected.contains(&("governor", Some("none".into()))));
        assert!(collected.contains(&("microcode", None)));
        let mut imported = EnvSummary::default();
        imported.platforms.insert(
            "native".into(),
            BTreeMap::from([("origin".to_owned(), "import".to_owned())]),
        );
        assert!(imported
            .comparability_fields()
            .iter()
            .all(|(_, v)| v.is_none()));
    }
}
