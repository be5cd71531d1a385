//! What a PTS `<System>` says about its machine, mapped onto the facts of
//! `env/summary.json` where they mean the same (`collect/IMPORT.md` lists
//! the mapping). PTS writes them as `Key: value` lists (`<Hardware>`,
//! `<Software>`) and a JSON object (`<JSON>`); nothing is guessed, and a
//! fact PTS did not write stays unknown.

use std::collections::BTreeMap;

/// The facts of one system.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemFacts {
    pub cpu_model: Option<String>,
    /// Logical CPUs: the `Threads` of `Processor`, else its `Cores`.
    pub cpus: Option<u32>,
    pub kernel: Option<String>,
    pub arch: Option<String>,
    pub os: Option<String>,
    pub governor: Option<String>,
    pub microcode: Option<String>,
    pub mitigations: Option<String>,
    pub transparent_hugepage: Option<String>,
    /// `System Layer` of `<Software>`: the hypervisor PTS saw, if any.
    pub system_layer: Option<String>,
    /// Every fact as PTS wrote it, for the platform's facts.
    pub raw: BTreeMap<String, String>,
}

/// `Processor: X, Memory: Y` -> [("Processor", "X"), ("Memory", "Y")]. A
/// value may itself hold `, ` (`Compiler: GCC 8.2.0 + Clang 6.0.1`): a
/// piece that does not start with `Key: ` belongs to the value before it.
pub fn pairs(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for piece in text.split(", ") {
        let key_value = piece.split_once(": ").filter(|(k, _)| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '/' | '_'))
        });
        match (key_value, out.last_mut()) {
            (Some((k, v)), _) => out.push((k.trim().to_owned(), v.trim().to_owned())),
            (None, Some((_, v))) => {
                v.push_str(", ");
                v.push_str(piece);
            }
            (None, None) => {}
        }
    }
    out
}

/// The facts of a system from its `<Hardware>`, `<Software>`, `<JSON>` and
/// `<Notes>` texts.
pub fn facts(hardware: &str, software: &str, json: &str, notes: &str) -> SystemFacts {
    let mut f = SystemFacts::default();
    let nonempty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    for (key, value) in pairs(hardware) {
        f.raw
            .insert(format!("pts_{}", fact_key(&key)), value.clone());
        if key == "Processor" {
            let (model, counts) = match value.split_once(" (") {
                Some((m, rest)) => (m, rest.trim_end_matches(')')),
                None => (value.as_str(), ""),
            };
            f.cpu_model = nonempty(model);
            let count = |word: &str| {
                counts.split(" / ").find_map(|part| {
                    part.trim()
                        .strip_suffix(word)
                        .and_then(|n| n.trim().parse::<u32>().ok())
                })
            };
            f.cpus = count("Threads")
                .or_else(|| count("Cores"))
                .filter(|n| *n > 0);
        }
    }
    for (key, value) in pairs(software) {
        f.raw
            .insert(format!("pts_{}", fact_key(&key)), value.clone());
        match key.as_str() {
            "OS" => f.os = nonempty(&value),
            "Kernel" => match value.split_once(" (") {
                Some((release, arch)) => {
                    f.kernel = nonempty(release);
                    f.arch = nonempty(arch.trim_end_matches(')'));
                }
                None => f.kernel = nonempty(&value),
            },
            "System Layer" => f.system_layer = nonempty(&value),
            _ => {}
        }
    }
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(json) {
        for (key, value) in &map {
            let Some(text) = value.as_str() else { continue };
            f.raw
                .insert(format!("pts_{}", fact_key(key)), text.to_owned());
            match key.as_str() {
                "cpu-scaling-governor" => f.governor = governor(text),
                "cpu-microcode" => f.microcode = nonempty(text),
                "security" => f.mitigations = nonempty(text),
                "kernel-extra-details" => f.transparent_hugepage = hugepages(text),
                _ => {}
            }
        }
    }
    if f.microcode.is_none() {
        f.microcode = pairs(notes)
            .into_iter()
            .find(|(k, _)| k == "CPU Microcode")
            .and_then(|(_, v)| nonempty(&v));
    }
    f
}

/// `pts_` fact names: lower case, words joined by `_`
/// (`kernel-extra-details` -> `kernel_extra_details`).
fn fact_key(key: &str) -> String {
    let s = super::super::names::slug(key).replace('-', "_");
    if s.is_empty() {
        "fact".into()
    } else {
        s
    }
}

/// PTS writes `<driver> <governor>` and sometimes a note in parentheses
/// (`acpi-cpufreq ondemand (Boost: Enabled)`); the governor is what
/// `scaling_governor` holds.
fn governor(text: &str) -> Option<String> {
    let head = text.split(" (").next().unwrap_or(text).trim();
    let words: Vec<&str> = head.split_whitespace().collect();
    match words.as_slice() {
        [] => None,
        [one] => Some((*one).to_owned()),
        [.., last] => Some((*last).to_owned()),
    }
}

/// `Transparent Huge Pages: madvise` among the kernel's extra details.
fn hugepages(text: &str) -> Option<String> {
    pairs(text)
        .into_iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Transparent Huge Pages"))
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hardware_software_and_json_map_onto_facts() {
        let f = facts(
            "Processor: Intel Xeon @ 2.20GHz (4 Cores / 8 Threads), Motherboard: Google Compute Engine, Memory: 30720MB",
            "OS: Clear Linux OS 24870, Kernel: 4.15.0-1024-gcp (x86_64), Compiler: GCC 8.2.0 + Clang 6.0.1, File-System: aufs, System Layer: KVM",
            r#"{"cpu-scaling-governor":"acpi-cpufreq ondemand (Boost: Enabled)","cpu-microcode":"0xa0011d5","kernel-extra-details":"Transparent Huge Pages: madvise","security":"KPTI + Full generic retpoline Protection"}"#,
            "",
        );
        assert_eq!(f.cpu_model.as_deref(), Some("Intel Xeon @ 2.20GHz"));
        assert_eq!(f.cpus, Some(8));
        assert_eq!(
            (f.kernel.as_deref(), f.arch.as_deref()),
            (Some("4.15.0-1024-gcp"), Some("x86_64"))
        );
        assert_eq!(f.os.as_deref(), Some("Clear Linux OS 24870"));
        assert_eq!(f.system_layer.as_deref(), Some("KVM"));
        assert_eq!(f.governor.as_deref(), Some("ondemand"));
        assert_eq!(f.microcode.as_deref(), Some("0xa0011d5"));
        assert_eq!(f.transparent_hugepage.as_deref(), Some("madvise"));
        assert_eq!(
            f.mitigations.as_deref(),
            Some("KPTI + Full generic retpoline Protection")
        );
        assert_eq!(
            f.raw.get("pts_compiler").map(String::as_str),
            Some("GCC 8.2.0 + Clang 6.0.1")
        );
        assert_eq!(f.raw.get("pts_memory").map(String::as_str), Some("30720MB"));
        let bare = facts("", "", "", "CPU Microcode: 0x1000065");
        assert_eq!(bare.microcode.as_deref(), Some("0x1000065"));
        assert_eq!(
            (bare.cpu_model, bare.cpus, bare.governor),
            (None, None, None)
        );
    }
}
