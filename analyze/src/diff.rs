//! `analyze diff A B`: the environment difference of two bundles: every
//! manifest fact, every field of `env/summary.json` (host facts, tool
//! versions, platform facts such as QEMU and Xen versions) and every raw
//! `env/` file whose hash differs. Exits 0 when the environments are the
//! same, 1 when they differ, as diff(1) does.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::Value;

use crate::load::{load, LoadOptions, Loaded};

/// One difference: a field and its value in A and in B (`None`: absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub field: String,
    pub a: Option<String>,
    pub b: Option<String>,
}

/// Flattens JSON into dotted paths: `platforms.kvm.qemu_version` -> value.
fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::String(s) => {
            out.insert(prefix.to_owned(), s.clone());
        }
        Value::Null => {}
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}

fn facts(l: &Loaded) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let m = &l.bundle.manifest;
    for (k, v) in [
        ("manifest.label", m.label.clone()),
        ("manifest.host", m.host.clone()),
        ("manifest.suite", m.suite.clone()),
        ("manifest.platforms", m.platforms.join(", ")),
        (
            "manifest.tool",
            format!("{} {}", m.tool.name, m.tool.version),
        ),
        (
            "manifest.tool_commit",
            m.tool.git_commit.clone().unwrap_or_default(),
        ),
    ] {
        out.insert(k.to_owned(), v);
    }
    if let Ok(v) = serde_json::to_value(&l.summary) {
        flatten("summary", &v, &mut out);
    }
    // Raw environment captures, compared by hash.
    for f in &m.files {
        if f.path.starts_with("env/") {
            out.insert(format!("file {}", f.path), f.sha256.clone());
        }
    }
    out
}

/// Every fact that differs between `a` and `b`, in field order.
pub fn changes(a: &Loaded, b: &Loaded) -> Vec<Change> {
    let (fa, fb) = (facts(a), facts(b));
    let mut keys: Vec<&String> = fa.keys().chain(fb.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| fa.get(*k) != fb.get(*k))
        .map(|k| Change {
            field: k.clone(),
            a: fa.get(k).cloned(),
            b: fb.get(k).cloned(),
        })
        .collect()
}

fn shown(v: &Option<String>, field: &str) -> String {
    match v {
        None => "(absent)".into(),
        Some(s) if field.starts_with("file ") => format!("sha256 {}", &s[..s.len().min(12)]),
        Some(s) => format!("{s:?}"),
    }
}

pub fn run(a: &Path, b: &Path, options: &LoadOptions) -> anyhow::Result<ExitCode> {
    let la = load(a, options).with_context(|| format!("{} failed verification", a.display()))?;
    let lb = load(b, options).with_context(|| format!("{} failed verification", b.display()))?;
    collect::outln!("A {}  {}", la.bundle.id.short(), a.display());
    collect::outln!("B {}  {}", lb.bundle.id.short(), b.display());
    let found = changes(&la, &lb);
    if found.is_empty() {
        collect::outln!(
            "\nsame environment: every manifest fact, summary field and env/ file is identical"
        );
        return Ok(ExitCode::SUCCESS);
    }
    collect::outln!("\n{} difference(s):", found.len());
    let width = found.iter().map(|c| c.field.len()).max().unwrap_or(0);
    for c in &found {
        collect::outln!("  {:<width$}  A {}", c.field, shown(&c.a, &c.field));
        collect::outln!("  {:<width$}  B {}", "", shown(&c.b, &c.field));
    }
    Ok(ExitCode::from(1))
}
