//! The metadata file of an import (`--meta META.toml`, documented in
//! `collect/IMPORT.md`): what the source file cannot say about itself.
//! Strict: an unknown key is an error naming the key, and so is a missing
//! required one.

use std::collections::BTreeMap;

use benchvm_format::EnvSummary;
use serde::Deserialize;

use super::error::{line_col, ImportError, Location};
use super::names::is_name;

/// Name the manifest gives the program that made an imported bundle.
pub const IMPORTER: &str = "collect-import";
/// Suite name of an imported bundle unless the metadata names one.
pub const DEFAULT_SUITE: &str = "import";

/// The metadata file as written. Only `label`, `created` and
/// `source.citation` are required; a host fact left out is unknown.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportMeta {
    /// Human label of the bundle.
    pub label: String,
    /// When the source's numbers were produced: a TOML date or date-time,
    /// or a string holding one (`2008-06-01`, `2008-06-01T12:00:00Z`).
    pub created: toml::Value,
    /// Suite name recorded in the manifest (default `import`).
    pub suite: Option<String>,
    pub source: SourceInfo,
    #[serde(default)]
    pub host: HostFacts,
    /// Every platform the source measured, by the platform name its rows use.
    #[serde(default)]
    pub platforms: BTreeMap<String, PlatformFacts>,
}

/// Where the numbers come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceInfo {
    /// The tool that produced the numbers (`Phoronix Test Suite 10.8.4`, ...).
    pub tool: Option<String>,
    /// Free-text citation: paper, table, web page, person.
    pub citation: String,
    pub url: Option<String>,
}

/// The machine the numbers were measured on; every fact optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostFacts {
    pub hostname: Option<String>,
    pub cpu_model: Option<String>,
    /// Logical CPUs.
    pub cores: Option<u32>,
    pub memory_mib: Option<u64>,
    /// Host kernel release.
    pub kernel: Option<String>,
    pub os: Option<String>,
    pub arch: Option<String>,
    pub sockets: Option<u32>,
    pub cores_per_socket: Option<u32>,
    pub threads_per_core: Option<u32>,
    pub smt: Option<String>,
    pub microcode: Option<String>,
    pub governor: Option<String>,
    pub mitigations: Option<String>,
    pub transparent_hugepage: Option<String>,
    pub numa_nodes: Option<u32>,
    pub kernel_cmdline: Option<String>,
    /// Hypervisor the host itself ran under, if any.
    pub host_virtualization: Option<String>,
}

/// How one platform ran.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformFacts {
    /// `none` for native, else the hypervisor's name (`KVM`, `Xen`...).
    pub hypervisor: String,
    /// Version of the hypervisor (or of QEMU, xl...).
    pub version: Option<String>,
    /// Accelerator really used, as in the metrics table (`none`, `kvm`, `tcg`, `xen-pv`...).
    pub accel: String,
    /// Whether the platform ran under software emulation.
    pub emulated: bool,
    /// PTS only: the `<System><Identifier>` whose entries are this platform.
    pub pts_system: Option<String>,
}

impl PlatformFacts {
    /// A native platform: no hypervisor.
    pub fn is_native(&self) -> bool {
        self.accel == "none" || self.hypervisor.eq_ignore_ascii_case("none")
    }
}

/// Parses the metadata file (`file` names it in errors) and checks what
/// the types cannot.
pub fn parse(file: &str, text: &str) -> Result<ImportMeta, ImportError> {
    let de = toml::Deserializer::parse(text).map_err(|e| toml_error(file, text, &e))?;
    let meta: ImportMeta = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let mut err = toml_error(file, text, &inner);
        if let ImportError::At { reason, .. } = &mut err {
            *reason = name_the_key(reason, &path);
        }
        err
    })?;
    meta.validate(file)?;
    Ok(meta)
}

/// serde's "missing field `x`" and "unknown field `x`, expected ..."
/// said with the key's full name (`host.x`); `path` is where the
/// deserializer stood (the table for a missing key, the key for an
/// unknown one).
fn name_the_key(reason: &str, path: &str) -> String {
    let path = if path == "." { "" } else { path };
    let field = |rest: &str| rest.split('`').next().unwrap_or_default().to_owned();
    if let Some(rest) = reason.strip_prefix("missing field `") {
        let key = field(rest);
        let full = if path.is_empty() {
            key
        } else {
            format!("{path}.{key}")
        };
        return format!("missing required key `{full}`");
    }
    if let Some(rest) = reason.strip_prefix("unknown field `") {
        let known = rest.split_once(", expected ").map_or("", |(_, k)| k);
        let known = known.strip_prefix("one of ").unwrap_or(known);
        return format!("unknown key `{path}` (this table's keys: {known})");
    }
    if path.is_empty() {
        reason.to_owned()
    } else {
        format!("key `{path}`: {reason}")
    }
}

fn toml_error(file: &str, text: &str, e: &toml::de::Error) -> ImportError {
    let reason = e.message().trim().to_owned();
    match e.span() {
        Some(span) => {
            let (line, column) = line_col(text, span.start);
            let at = Location {
                file: file.to_owned(),
                line,
                column: Some((column, String::new())),
            };
            ImportError::at(at, reason)
        }
        None => ImportError::file(file, reason),
    }
}

impl ImportMeta {
    fn validate(&self, file: &str) -> Result<(), ImportError> {
        let bad = |key: &str, why: String| ImportError::file(file, format!("key `{key}`: {why}"));
        if self.label.trim().is_empty() || self.label.len() > 256 {
            return Err(bad("label", "must be 1-256 bytes, not blank".into()));
        }
        if let Some(suite) = &self.suite {
            if suite.trim().is_empty() || suite.len() > 256 {
                return Err(bad("suite", "must be 1-256 bytes, not blank".into()));
            }
        }
        if let Some(h) = &self.host.hostname {
            if h.trim().is_empty() || h.len() > 256 {
                return Err(bad(
                    "host.hostname",
                    "must be 1-256 bytes, not blank".into(),
                ));
            }
        }
        if self.host.cores == Some(0) {
            return Err(bad(
                "host.cores",
                "must be at least 1 (leave it out when not known)".into(),
            ));
        }
        if self.host.memory_mib == Some(0) {
            return Err(bad(
                "host.memory_mib",
                "must be at least 1 (leave it out when not known)".into(),
            ));
        }
        if self.source.citation.trim().is_empty() {
            return Err(bad("source.citation", "must not be blank".into()));
        }
        for (key, value) in [
            ("source.tool", &self.source.tool),
            ("host.cpu_model", &self.host.cpu_model),
            ("host.kernel", &self.host.kernel),
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return Err(bad(
                    key,
                    "must not be blank (leave it out when not known)".into(),
                ));
            }
        }
        self.created().map_err(|why| bad("created", why))?;
        for (name, p) in &self.platforms {
            if !is_name(name) {
                return Err(bad(
                    &format!("platforms.{name}"),
                    "a platform name is 1-64 characters of [a-z0-9_.-]".into(),
                ));
            }
            if !is_name(&p.accel) {
                return Err(bad(
                    &format!("platforms.{name}.accel"),
                    format!("{:?} must be 1-64 characters of [a-z0-9_.-]", p.accel),
                ));
            }
        }
        Ok(())
    }

    /// `created` in the manifest's form, RFC 3339 UTC to the second.
    pub fn created(&self) -> Result<String, String> {
        let text = match &self.created {
            toml::Value::String(s) => s.clone(),
            toml::Value::Datetime(d) => d.to_string(),
            other => return Err(format!("expected a date or date-time, found {other}")),
        };
        rfc3339(&text)
    }

    /// The host facts of the metadata written over `summary` (a fact the
    /// metadata gives replaces the source's).
    pub fn apply_host(&self, summary: &mut EnvSummary) {
        let h = &self.host;
        let set = |slot: &mut Option<String>, v: &Option<String>| {
            if v.is_some() {
                slot.clone_from(v);
            }
        };
        if let Some(name) = &h.hostname {
            summary.host.clone_from(name);
        }
        set(&mut summary.cpu_model, &h.cpu_model);
        set(&mut summary.kernel, &h.kernel);
        set(&mut summary.os, &h.os);
        set(&mut summary.arch, &h.arch);
        set(&mut summary.smt, &h.smt);
        set(&mut summary.microcode, &h.microcode);
        set(&mut summary.governor, &h.governor);
        set(&mut summary.mitigations, &h.mitigations);
        set(&mut summary.transparent_hugepage, &h.transparent_hugepage);
        set(&mut summary.kernel_cmdline, &h.kernel_cmdline);
        set(&mut summary.host_virtualization, &h.host_virtualization);
        summary.cpus = h.cores.or(summary.cpus);
        summary.mem_total_kib = h
            .memory_mib
            .map(|m| m.saturating_mul(1024))
            .or(summary.mem_total_kib);
        summary.sockets = h.sockets.or(summary.sockets);
        summary.cores_per_socket = h.cores_per_socket.or(summary.cores_per_socket);
        summary.threads_per_core = h.threads_per_core.or(summary.threads_per_core);
        summary.numa_nodes = h.numa_nodes.or(summary.numa_nodes);
    }

    /// The facts of platform `name` as `env/summary.json` lists them.
    pub fn platform_facts(&self, name: &str) -> Option<BTreeMap<String, String>> {
        let p = self.platforms.get(name)?;
        let mut facts = BTreeMap::from([
            ("hypervisor".to_owned(), p.hypervisor.clone()),
            ("accel".to_owned(), p.accel.clone()),
            ("emulated".to_owned(), p.emulated.to_string()),
        ]);
        if let Some(v) = &p.version {
            facts.insert("hypervisor_version".into(), v.clone());
        }
        if let Some(s) = &p.pts_system {
            facts.insert("pts_system".into(), s.clone());
        }
        Some(facts)
    }
}

/// A date (`2008-06-01`, taken as midnight UTC), an RFC 3339 date-time,
/// or PTS's `2018-11-27 21:54:11` (local time without a zone, taken as
/// UTC), in the manifest's form.
pub fn rfc3339(text: &str) -> Result<String, String> {
    let text = text.trim();
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else if text.len() == 19 && text.as_bytes().get(10) == Some(&b' ') {
        format!("{}T{}Z", &text[..10], &text[11..])
    } else {
        text.to_owned()
    };
    let time = humantime::parse_rfc3339(&full).map_err(|e| {
        format!("{text:?} is not a date (YYYY-MM-DD) or an RFC 3339 UTC date-time (YYYY-MM-DDTHH:MM:SSZ): {e}")
    })?;
    Ok(humantime::format_rfc3339_seconds(time).to_string())
}
