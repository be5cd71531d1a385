//! Comparability guard: the environment facts in which the bundles of one
//! table differ, and which bundles hold which value.
//!
//! Compared: the host facts of `EnvSummary::comparability_fields` (CPU
//! model, microcode, governor, SMT, host kernel, CPU count, whether the host
//! is itself a VM), the version line of every tool the suites used, and
//! every platform fact (accelerator, QEMU and Xen versions, ...) among the
//! bundles that measured that platform. Facts that only say where a run
//! kept its files ([`IGNORED_FACTS`]) are not compared.

use std::collections::BTreeMap;

use crate::load::BundleInfo;
use crate::render::{Align, Doc, Value};

/// Platform facts that differ between any two runs without changing what
/// was measured.
pub const IGNORED_FACTS: &[&str] = &["scratch"];

/// One field whose value is not the same in every bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// `cpu_model`, `tool sysbench`, `kvm.qemu_version`...
    pub field: String,
    /// Each value with the bundles (indices into the input) that hold it.
    pub values: Vec<(String, Vec<usize>)>,
}

/// Every field of `fields(bundle)` that is not the same in all `bundles`.
fn differing(
    bundles: &[&BundleInfo],
    fields: impl Fn(&BundleInfo) -> Vec<(String, Option<String>)>,
) -> Vec<Difference> {
    // field -> value -> bundles
    let mut seen: BTreeMap<String, BTreeMap<String, Vec<usize>>> = BTreeMap::new();
    for (i, b) in bundles.iter().enumerate() {
        for (field, value) in fields(b) {
            if let Some(v) = value {
                seen.entry(field).or_default().entry(v).or_default().push(i);
            }
        }
    }
    seen.into_iter()
        .filter(|(_, values)| values.len() > 1)
        .map(|(field, values)| Difference {
            field,
            values: values.into_iter().collect(),
        })
        .collect()
}

/// The differences among `bundles`, host facts first, then tools, then
/// platform facts.
pub fn check(bundles: &[&BundleInfo]) -> Vec<Difference> {
    let mut out = differing(bundles, |b| {
        b.summary
            .comparability_fields()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Some(v)))
            .collect()
    });
    let tools: Vec<String> = {
        let mut t: Vec<String> = bundles
            .iter()
            .flat_map(|b| b.summary.tools.keys().cloned())
            .collect();
        t.sort();
        t.dedup();
        t
    };
    out.extend(differing(bundles, |b| {
        tools
            .iter()
            .map(|t| {
                let v = b
                    .summary
                    .tools
                    .get(t)
                    .cloned()
                    .unwrap_or_else(|| "absent".into());
                (format!("tool {t}"), Some(v))
            })
            .collect()
    }));
    out.extend(differing(bundles, |b| {
        let mut facts = Vec::new();
        for (platform, map) in &b.summary.platforms {
            if !b.platforms.contains(platform) {
                continue;
            }
            for (k, v) in map {
                if !IGNORED_FACTS.contains(&k.as_str()) {
                    facts.push((format!("{platform}.{k}"), Some(v.clone())));
                }
            }
        }
        facts
    }));
    out
}

/// How a bundle is named in the comparability section.
pub fn bundle_ref(b: &BundleInfo) -> String {
    format!("{} ({}, {})", &b.id[..b.id.len().min(12)], b.label, b.host)
}

/// Most bundles named in one displayed cell.
const SHOWN: usize = 4;

/// The differences as a renderable document.
pub fn doc(bundles: &[&BundleInfo], diffs: &[Difference]) -> Doc {
    let mut rows = Vec::new();
    let mut records = Vec::new();
    for d in diffs {
        for (value, holders) in &d.values {
            let mut names: Vec<String> = holders
                .iter()
                .take(SHOWN)
                .map(|&i| bundle_ref(bundles[i]))
                .collect();
            if holders.len() > SHOWN {
                names.push(format!("and {} more", holders.len() - SHOWN));
            }
            rows.push(vec![d.field.clone(), value.clone(), names.join("; ")]);
            let ids: Vec<&str> = holders.iter().map(|&i| bundles[i].id.as_str()).collect();
            records.push(vec![
                d.field.as_str().into(),
                value.as_str().into(),
                holders.len().into(),
                Value::Text(ids.join(" ")),
            ]);
        }
    }
    let notes = if diffs.is_empty() {
        vec![format!(
            "The {} bundles agree on CPU model, microcode, governor, SMT, host kernel, CPU count, host virtualization, tool versions and platform facts (hypervisor versions).",
            bundles.len()
        )]
    } else {
        vec![format!(
            "The bundles of this report differ in {} field(s): numbers pooled or compared across them may reflect the environment as much as the platform.",
            diffs.len()
        )]
    };
    Doc {
        name: "comparability".into(),
        title: "Comparability".into(),
        header: ["Field", "Value", "Bundles"]
            .iter()
            .map(|h| (*h).to_owned())
            .collect(),
        align: vec![Align::Left; 3],
        rows,
        fields: ["field", "value", "count", "bundle_ids"]
            .iter()
            .map(|h| (*h).to_owned())
            .collect(),
        records,
        notes,
    }
}
