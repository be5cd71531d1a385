//! Reading `/proc` and `/sys`. Every reader returns what it found, or a note
//! saying what it could not read; none of them fails.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

pub const CPU_DIR: &str = "/sys/devices/system/cpu";
pub const NODE_DIR: &str = "/sys/devices/system/node";
pub const DMI_DIR: &str = "/sys/class/dmi/id";

/// The content of a text file, or a one-line note of why it cannot be read.
pub fn read_text(path: impl AsRef<Path>) -> Result<String, String> {
    let path = path.as_ref();
    fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// A sysfs attribute, trimmed; `None` when absent, unreadable or empty.
pub fn read_attr(path: impl AsRef<Path>) -> Option<String> {
    let text = read_text(path).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// Entries of `dir` named `<prefix><number>`, sorted by number.
fn numbered_entries(dir: &Path, prefix: &str) -> Vec<(u32, PathBuf)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(u32, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name();
            let number = name.to_str()?.strip_prefix(prefix)?.parse().ok()?;
            Some((number, entry.path()))
        })
        .collect();
    found.sort();
    found
}

/// cpufreq settings of every CPU: one line per CPU, or `no cpufreq`.
pub fn cpufreq_report() -> String {
    const ATTRS: &[&str] = &[
        "scaling_governor",
        "scaling_driver",
        "scaling_min_freq",
        "scaling_max_freq",
        "cpuinfo_min_freq",
        "cpuinfo_max_freq",
    ];
    let mut out = String::new();
    for (number, dir) in numbered_entries(Path::new(CPU_DIR), "cpu") {
        let freq = dir.join("cpufreq");
        if !freq.is_dir() {
            continue;
        }
        let values: Vec<String> = ATTRS
            .iter()
            .map(|attr| {
                let value = read_attr(freq.join(attr)).unwrap_or_else(|| "-".into());
                format!("{attr}={value}")
            })
            .collect();
        out.push_str(&format!("cpu{number}: {}\n", values.join(" ")));
    }
    if out.is_empty() {
        out.push_str("no cpufreq\n");
    }
    out
}

/// Scaling governor of cpu0.
pub fn governor_cpu0() -> Option<String> {
    read_attr(Path::new(CPU_DIR).join("cpu0/cpufreq/scaling_governor"))
}

/// SMT control and active state: (report, control).
pub fn smt() -> (String, Option<String>) {
    let dir = Path::new(CPU_DIR).join("smt");
    let mut out = String::new();
    let mut control = None;
    for name in ["control", "active"] {
        let path = dir.join(name);
        match read_text(&path) {
            Ok(text) => {
                out.push_str(&format!("{name}: {}\n", text.trim()));
                if name == "control" {
                    control = read_attr(&path);
                }
            }
            Err(note) => out.push_str(&format!("{name}: {note}\n")),
        }
    }
    (out, control)
}

/// Every file of `/sys/devices/system/cpu/vulnerabilities`: (report, map).
pub fn vulnerabilities() -> (String, BTreeMap<String, String>) {
    let dir = Path::new(CPU_DIR).join("vulnerabilities");
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) => {
            return (
                format!("cannot read {}: {e}\n", dir.display()),
                BTreeMap::new(),
            )
        }
    };
    let mut map = BTreeMap::new();
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let value = match read_text(entry.path()) {
            Ok(text) => text.trim().to_string(),
            Err(note) => note,
        };
        map.insert(name, value);
    }
    let mut report: String = map.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
    if report.is_empty() {
        report = format!("{} is empty\n", dir.display());
    }
    (report, map)
}

/// NUMA nodes of sysfs with their cpulists: (report, count).
pub fn numa_nodes() -> (String, usize) {
    let nodes = numbered_entries(Path::new(NODE_DIR), "node");
    if nodes.is_empty() {
        return (format!("no {NODE_DIR}/node*\n"), 0);
    }
    let report = nodes
        .iter()
        .map(|(number, dir)| {
            let cpus = read_attr(dir.join("cpulist")).unwrap_or_else(|| "?".into());
            format!("node{number} cpulist: {cpus}\n")
        })
        .collect();
    (report, nodes.len())
}

/// `/sys/devices/system/cpu/cpu0/microcode/version`, when present.
pub fn microcode_version_cpu0() -> Option<String> {
    read_attr(Path::new(CPU_DIR).join("cpu0/microcode/version"))
}

/// DMI system vendor and product name.
pub fn dmi() -> (Option<String>, Option<String>) {
    let dir = Path::new(DMI_DIR);
    (
        read_attr(dir.join("sys_vendor")),
        read_attr(dir.join("product_name")),
    )
}

/// The host name (kernel's view).
pub fn hostname() -> Option<String> {
    read_attr("/proc/sys/kernel/hostname")
}

/// Online CPUs as a cpulist (`0-3`).
pub fn online_cpulist() -> Option<String> {
    read_attr(Path::new(CPU_DIR).join("online"))
}
