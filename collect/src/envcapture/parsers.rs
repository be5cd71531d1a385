//! Pure parsers over the text of the raw captures. None of them panics on
//! malformed input: what cannot be read is `None` (or empty / zero).

use std::collections::BTreeMap;

/// Facts of `/proc/cpuinfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuInfo {
    /// Number of `processor` entries.
    pub processors: u32,
    /// `model name` of the first processor that has one.
    pub model_name: Option<String>,
    /// `microcode` of the first processor that has one.
    pub microcode: Option<String>,
    /// The first processor's `flags` (x86) / `Features` (arm) hold
    /// `hypervisor`.
    pub hypervisor_flag: bool,
}

/// Splits a `key : value` line at its first colon, trimming both sides.
fn key_value(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once(':')?;
    Some((key.trim(), value.trim()))
}

fn non_empty(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}

/// Parses `/proc/cpuinfo`.
pub fn parse_cpuinfo(text: &str) -> CpuInfo {
    let mut info = CpuInfo::default();
    let mut flags_seen = false;
    for (key, value) in text.lines().filter_map(key_value) {
        match key {
            "processor" => info.processors += 1,
            "model name" if info.model_name.is_none() => info.model_name = non_empty(value),
            "microcode" if info.microcode.is_none() => info.microcode = non_empty(value),
            "flags" | "Features" if !flags_seen => {
                flags_seen = true;
                info.hypervisor_flag = value.split_whitespace().any(|f| f == "hypervisor");
            }
            _ => {}
        }
    }
    info
}

/// The `microcode` lines of `/proc/cpuinfo`, each as `processor N: value`.
pub fn cpuinfo_microcode_lines(text: &str) -> Vec<String> {
    let mut processor = String::from("?");
    let mut lines = Vec::new();
    for (key, value) in text.lines().filter_map(key_value) {
        match key {
            "processor" => processor = value.to_string(),
            "microcode" => lines.push(format!("processor {processor}: {value}")),
            _ => {}
        }
    }
    lines
}

/// Facts of plain `lscpu` output (run in the C locale).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lscpu {
    /// Every `field: value` pair in order (first occurrence wins on lookup).
    pub fields: Vec<(String, String)>,
}

impl Lscpu {
    /// Value of the first field called `name` (without the colon).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn number(&self, name: &str) -> Option<u32> {
        self.get(name)?.parse().ok()
    }

    pub fn model_name(&self) -> Option<String> {
        self.get("Model name").and_then(non_empty)
    }
    pub fn cpus(&self) -> Option<u32> {
        self.number("CPU(s)")
    }
    pub fn online_cpus(&self) -> Option<u32> {
        count_cpulist(self.get("On-line CPU(s) list")?)
    }
    pub fn sockets(&self) -> Option<u32> {
        self.number("Socket(s)")
    }
    pub fn cores_per_socket(&self) -> Option<u32> {
        self.number("Core(s) per socket")
    }
    pub fn threads_per_core(&self) -> Option<u32> {
        self.number("Thread(s) per core")
    }
    pub fn numa_nodes(&self) -> Option<u32> {
        self.number("NUMA node(s)")
    }
    pub fn hypervisor_vendor(&self) -> Option<String> {
        self.get("Hypervisor vendor").and_then(non_empty)
    }

    /// The `NUMA ...` lines, as `lscpu` printed them.
    pub fn numa_lines(&self) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(key, _)| key.starts_with("NUMA"))
            .map(|(key, value)| format!("{key}: {value}"))
            .collect()
    }
}

/// Parses plain `lscpu` output.
pub fn parse_lscpu(text: &str) -> Lscpu {
    let fields = text
        .lines()
        .filter_map(key_value)
        .filter(|(key, _)| !key.is_empty())
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
    Lscpu { fields }
}

/// Parses `/proc/meminfo` into KiB values (the `kB` unit dropped; a value
/// without a unit, like `HugePages_Total`, is kept as is).
pub fn parse_meminfo(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(key_value)
        .filter_map(|(key, value)| {
            let number = value.split_whitespace().next()?.parse().ok()?;
            Some((key.to_string(), number))
        })
        .collect()
}

/// `MemTotal` of `/proc/meminfo`, KiB.
pub fn mem_total_kib(text: &str) -> Option<u64> {
    parse_meminfo(text).get("MemTotal").copied()
}

/// Parses os-release (`KEY=value` with shell-style quoting; comments and
/// malformed lines skipped).
pub fn parse_os_release(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        out.insert(key.to_string(), unquote(raw.trim()));
    }
    out
}

/// Removes one level of shell quoting: `"a \"b\""` → `a "b"`, `'x'` → `x`.
fn unquote(raw: &str) -> String {
    let mut chars = raw.chars();
    match chars.next() {
        Some(q @ ('"' | '\'')) if raw.len() >= 2 && raw.ends_with(q) => {
            let inner = &raw[1..raw.len() - 1];
            if q == '\'' {
                return inner.to_string();
            }
            let mut out = String::with_capacity(inner.len());
            let mut it = inner.chars();
            while let Some(c) = it.next() {
                match c {
                    '\\' => out.extend(it.next()),
                    c => out.push(c),
                }
            }
            out
        }
        _ => raw.to_string(),
    }
}

/// The name of the OS: `PRETTY_NAME`, else `NAME VERSION`, else `NAME`.
pub fn os_pretty_name(text: &str) -> Option<String> {
    let fields = parse_os_release(text);
    if let Some(pretty) = fields.get("PRETTY_NAME").and_then(|v| non_empty(v)) {
        return Some(pretty);
    }
    let name = fields.get("NAME").and_then(|v| non_empty(v))?;
    Some(match fields.get("VERSION").and_then(|v| non_empty(v)) {
        Some(version) => format!("{name} {version}"),
        None => name,
    })
}

/// Counts the CPUs of a kernel cpulist such as `0-3,8,10-11`; `None` when
/// the list is malformed or empty.
pub fn count_cpulist(text: &str) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut count: u32 = 0;
    for part in text.split(',') {
        let part = part.trim();
        let n = match part.split_once('-') {
            Some((lo, hi)) => {
                let lo: u32 = lo.trim().parse().ok()?;
                let hi: u32 = hi.trim().parse().ok()?;
                hi.checked_sub(lo)?.checked_add(1)?
            }
            None => {
                part.parse::<u32>().ok()?;
                1
            }
        };
        count = count.checked_add(n)?;
    }
    Some(count)
}

/// File system type from `df -T <path>` output (the second column of the
/// first entry; a device name too long for its column may have pushed the
/// rest onto the next line, which is handled).
pub fn df_fs_type(text: &str) -> Option<String> {
    let mut lines = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("Filesystem"));
    lines.next()?; // the header
    let tokens: Vec<&str> = lines.flat_map(str::split_whitespace).take(2).collect();
    tokens.get(1).map(|t| t.to_string())
}

/// File system type from `findmnt -J` output (the first file system listed).
pub fn findmnt_fs_type(text: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let fs_type = value.get("filesystems")?.get(0)?.get("fstype")?.as_str()?;
    non_empty(fs_type)
}

/// First non-empty line of `text`, trimmed.
pub fn first_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}
