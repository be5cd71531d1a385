//! `analyze diff A B`: the environment difference of two bundles: every
//! manifest fact, every field of `env/summary.json` (host facts, tool
//! versions, platform facts such as QEMU and Xen versions) and every raw
//! `env/` file whose hash differs. Exits 0 when the environments are the
//! same, 1 when they differ, as diff(1) does.
//!
//! Two manifest fields name the bundle rather than describe where it ran:
//! its `label` and when it was `created`. They are compared and shown, as
//! differences that do not count ([`NOT_COUNTED`]): two runs of one suite
//! on one host a day apart, labelled apart, have the same environment.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::Value;

use crate::load::{load, LoadOptions, Loaded};

/// Fields that name a bundle: reported when they differ, never counted.
pub const NOT_COUNTED: [&str; 2] = ["manifest.label", "manifest.created"];

/// One difference: a field and its value in A and in B (`None`: absent).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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
        ("manifest.created", m.created.clone()),
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

/// Every fact that differs between `a` and `b`, in field order, the
/// [`NOT_COUNTED`] ones included.
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

/// Prints the difference of bundles `a` and `b` (text, or with `json` one
/// JSON object); exit status 1 when a counted fact differs.
pub fn run(a: &Path, b: &Path, options: &LoadOptions, json: bool) -> anyhow::Result<ExitCode> {
    let la = load(a, options).with_context(|| format!("{} failed verification", a.display()))?;
    let lb = load(b, options).with_context(|| format!("{} failed verification", b.display()))?;
    let (ignored, counted): (Vec<Change>, Vec<Change>) = changes(&la, &lb)
        .into_iter()
        .partition(|c| NOT_COUNTED.contains(&c.field.as_str()));
    let code = if counted.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(collect::clikit::NEGATIVE)
    };
    if json {
        let side = |p: &Path, l: &Loaded| serde_json::json!({"path": p.display().to_string(), "id": l.bundle.id.hex()});
        let v = serde_json::json!({
            "a": side(a, &la),
            "b": side(b, &lb),
            "same": counted.is_empty(),
            "differences": counted,
            "not_counted": ignored,
        });
        collect::outln!("{v}");
        return Ok(code);
    }
    collect::outln!("A {}  {}", la.bundle.id.short(), a.display());
    collect::outln!("B {}  {}", lb.bundle.id.short(), b.display());
    if counted.is_empty() {
        collect::outln!(
            "\nsame environment: every counted manifest fact, summary field and env/ file is identical"
        );
    } else {
        collect::outln!("\n{} difference(s):", counted.len());
        print_changes(&counted);
    }
    if !ignored.is_empty() {
        collect::outln!(
            "\nalso different, not counted (they name the bundle, not its environment):"
        );
        print_changes(&ignored);
    }
    Ok(code)
}

fn print_changes(found: &[Change]) {
    let width = found.iter().map(|c| c.field.len()).max().unwrap_or(0);
    for c in found {
        collect::outln!("  {:<width$}  A {}", c.field, shown(&c.a, &c.field));
        collect::outln!("  {:<width$}  B {}", "", shown(&c.b, &c.field));
    }
}
