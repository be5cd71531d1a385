//! The systems of a PTS result file as platforms, and what the file says
//! about the run: its label, date, tool, and the systems' host facts (on
//! the host where every system agrees, per platform each one's own).

use std::collections::BTreeMap;

use roxmltree::Node;

use super::super::error::ImportError;
use super::super::meta::{rfc3339, ImportMeta};
use super::super::names::{slug, with_suffix};
use super::super::Described;
use super::system::{self, SystemFacts};
use super::{children, text_of, Counts, Xml, INSTALL_WORKLOAD};

/// One system of the file and the platform its entries are.
#[derive(Debug)]
pub(super) struct Platform {
    pub(super) name: String,
    pub(super) accel: String,
    pub(super) emulated: bool,
    pub(super) facts: SystemFacts,
}

/// System identifier -> platform: the metadata's `pts_system` first, else
/// a platform named after the system.
pub(super) fn platforms(
    xml: &Xml,
    root: Node,
    meta: Option<(&str, &ImportMeta)>,
) -> Result<BTreeMap<String, Platform>, ImportError> {
    let mut out: BTreeMap<String, Platform> = BTreeMap::new();
    let mut names: Vec<String> = Vec::new();
    let systems: Vec<Node> = children(root, "System").collect();
    if let Some((meta_file, m)) = meta {
        let ids: Vec<&str> = systems
            .iter()
            .map(|s| text_of(*s, "Identifier").unwrap_or_default())
            .collect();
        for (name, p) in &m.platforms {
            let key = format!("platforms.{name}.pts_system");
            let Some(id) = &p.pts_system else {
                return Err(ImportError::file(meta_file, format!("key `{key}` is required for a PTS import: the <System><Identifier> of {} whose results are this platform", xml.file)));
            };
            if !ids.contains(&id.as_str()) {
                return Err(ImportError::file(meta_file, format!("key `{key}`: {} has no <System> with the identifier {id:?} (it has {ids:?})", xml.file)));
            }
            if let Some(other) = out.get(id.as_str()) {
                return Err(ImportError::file(
                    meta_file,
                    format!(
                        "key `{key}`: system {id:?} is already platform `{}`",
                        other.name
                    ),
                ));
            }
            names.push(name.clone());
            out.insert(
                id.clone(),
                Platform {
                    name: name.clone(),
                    accel: p.accel.clone(),
                    emulated: p.emulated,
                    facts: SystemFacts::default(),
                },
            );
        }
    }
    for (i, s) in systems.iter().enumerate() {
        let id = text_of(*s, "Identifier").unwrap_or_default();
        let facts = system::facts(
            text_of(*s, "Hardware").unwrap_or_default(),
            text_of(*s, "Software").unwrap_or_default(),
            text_of(*s, "JSON").unwrap_or_default(),
            text_of(*s, "Notes").unwrap_or_default(),
        );
        if let Some(p) = out.get_mut(id) {
            if p.facts == SystemFacts::default() {
                p.facts = facts;
            }
            continue;
        }
        let base = Some(slug(id)).filter(|s| !s.is_empty());
        let mut name = base.unwrap_or_else(|| format!("system-{}", i + 1));
        let mut n = 2;
        while names.contains(&name) {
            name = with_suffix(&slug(id).replace('_', "-"), &n.to_string());
            n += 1;
        }
        names.push(name.clone());
        // PTS names the hypervisor it ran under (`System Layer: KVM`); it
        // cannot tell emulation, so a platform is not called emulated here.
        let accel = match &facts.system_layer {
            None => "none".to_owned(),
            Some(layer) => Some(slug(layer))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "unknown".into()),
        };
        out.insert(
            id.to_owned(),
            Platform {
                name,
                accel,
                emulated: false,
                facts,
            },
        );
    }
    Ok(out)
}

/// The file's label, date, tool and citation, and the systems' facts:
/// per platform all of them, on the host those every system shares.
pub(super) fn describe(
    root: Node,
    platforms: &BTreeMap<String, Platform>,
    only: Option<&str>,
    counts: Counts,
) -> Described {
    let generated = children(root, "Generated").next();
    let gen = |name| generated.and_then(|g| text_of(g, name));
    let first_system = children(root, "System").next();
    let title = gen("Title");
    let created = gen("LastModified")
        .or_else(|| first_system.and_then(|s| text_of(s, "TimeStamp")))
        .and_then(|t| rfc3339(t).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into());
    let tool = gen("TestClient").map(str::to_owned).or_else(|| {
        first_system
            .and_then(|s| text_of(s, "TestClientVersion"))
            .map(|v| format!("Phoronix Test Suite v{v}"))
    });
    let citation = format!(
        "Phoronix Test Suite result file{}{}",
        title.map(|t| format!(" \"{t}\"")).unwrap_or_default(),
        gen("LastModified")
            .map(|t| format!(", last modified {t}"))
            .unwrap_or_default()
    );
    let included: Vec<(&String, &Platform)> = platforms
        .iter()
        .filter(|(id, _)| only.is_none_or(|o| o == id.as_str()))
        .collect();
    let mut summary = benchvm_format::EnvSummary::default();
    let shared = |get: fn(&SystemFacts) -> Option<String>| {
        let mut values = included.iter().map(|(_, p)| get(&p.facts));
        let first = values.next().flatten()?;
        values
            .all(|v| v.as_deref() == Some(first.as_str()))
            .then_some(first)
    };
    summary.cpu_model = shared(|f| f.cpu_model.clone());
    summary.cpus = shared(|f| f.cpus.map(|n| n.to_string())).and_then(|n| n.parse().ok());
    summary.kernel = shared(|f| f.kernel.clone());
    summary.arch = shared(|f| f.arch.clone());
    summary.os = shared(|f| f.os.clone());
    summary.governor = shared(|f| f.governor.clone());
    summary.microcode = shared(|f| f.microcode.clone());
    summary.mitigations = shared(|f| f.mitigations.clone());
    summary.transparent_hugepage = shared(|f| f.transparent_hugepage.clone());
    for (id, p) in &included {
        let mut facts = p.facts.raw.clone();
        facts.insert("pts_system".into(), (*id).clone());
        if let Some(layer) = &p.facts.system_layer {
            facts.insert("hypervisor".into(), layer.clone());
        }
        summary.platforms.insert(p.name.clone(), facts);
    }
    let mut notes = Vec::new();
    if counts.install > 0 {
        notes.push(format!(
            "{} install-time or install-size result(s) kept as workload {INSTALL_WORKLOAD}",
            counts.install
        ));
    }
    for (format, n) in &counts.skipped {
        notes.push(format!("{n} {format} result(s) skipped: not numbers"));
    }
    if counts.failed > 0 {
        notes.push(format!(
            "{} entr(y/ies) without a value kept as failed rows",
            counts.failed
        ));
    }
    Described {
        label: Some(title.unwrap_or("PTS result").to_owned())
            .map(|l| l.chars().take(256).collect()),
        created: Some(created),
        tool,
        citation: Some(citation),
        summary,
        notes,
    }
}
