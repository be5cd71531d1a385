//! `env/summary.json`: the environment facts that `analyze` compares across
//! bundles (SPEC.md, "Environment summary"). The raw captures they come from
//! sit beside it in `env/`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Path of the summary inside a bundle.
pub const SUMMARY_PATH: &str = "env/summary.json";

/// The host facts that decide whether two runs are comparable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EnvSummary {
    /// Host name.
    pub host: String,
    /// `uname -r`.
    pub kernel: String,
    /// `PRETTY_NAME` of os-release.
    pub os: String,
    /// `uname -m`.
    pub arch: String,
    /// CPU model name as lscpu / cpuinfo print it.
    pub cpu_model: String,
    /// Logical CPUs online.
    pub cpus: u32,
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
    pub mem_total_kib: u64,
    /// NUMA nodes online.
    pub numa_nodes: u32,
    /// `/proc/cmdline`.
    pub kernel_cmdline: String,
    /// Hypervisor this host itself runs under, if any (cpuinfo `hypervisor`
    /// flag, DMI); `None` on bare metal.
    pub host_virtualization: Option<String>,
    /// One line per file of `/sys/devices/system/cpu/vulnerabilities`.
    pub vulnerabilities: BTreeMap<String, String>,
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
    /// (name, value) pairs; used by analyze's comparability guard.
    pub fn comparability_fields(&self) -> Vec<(&'static str, String)> {
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".into());
        vec![
            ("cpu_model", self.cpu_model.clone()),
            ("microcode", opt(&self.microcode)),
            ("governor", opt(&self.governor)),
            ("smt", opt(&self.smt)),
            ("kernel", self.kernel.clone()),
            ("cpus", self.cpus.to_string()),
            ("host_virtualization", opt(&self.host_virtualization)),
        ]
    }
}
