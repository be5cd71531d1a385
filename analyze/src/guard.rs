//! Comparability guard: the environment facts in which the bundles of one
//! table differ, and which bundles hold which value.
//!
//! Compared: the host facts of `EnvSummary::comparability_fields` (CPU
//! model, microcode, governor, SMT, host kernel, CPU count, whether the host
//! is itself a VM), the version line of every tool the suites used, and
//! every platform fact (accelerator, QEMU and Xen versions, ...) among the
//! bundles that measured that platform. Facts that only say where a run
//! kept its files ([`IGNORED_FACTS`]) are not compared.
//!
//! A host fact a bundle does not know (an imported source that did not
//! state it) is the value [`UNKNOWN`] of its own: never equal to a known
//! value, so a known and an unknown fact are a difference; a fact unknown
//! in every bundle is named in a note rather than said to agree.

use std::collections::BTreeMap;

use crate::load::BundleInfo;
use crate::render::{Align, Doc, Value};

/// Platform facts that differ between any two runs without changing what
/// was measured.
pub const IGNORED_FACTS: &[&str] = &["scratch"];

/// How an unknown fact is shown.
pub const UNKNOWN: &str = "unknown";

/// A fact's value in one bundle; `Unknown` sorts after every known value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Fact {
    Known(String),
    Unknown,
}

/// One field whose value is not the same in every bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// `cpu_model`, `tool sysbench`, `kvm.qemu_version`...
    pub field: String,
    /// Each value ([`UNKNOWN`] for bundles that do not know the fact) with
    /// the bundles (indices into the input) that hold it.
    pub values: Vec<(String, Vec<usize>)>,
}

/// field -> value -> bundles
type Seen = BTreeMap<String, BTreeMap<Fact, Vec<usize>>>;

fn seen(bundles: &[&BundleInfo], fields: impl Fn(&BundleInfo) -> Vec<(String, Fact)>) -> Seen {
    let mut seen: Seen = BTreeMap::new();
    for (i, b) in bundles.iter().enumerate() {
        for (field, value) in fields(b) {
            seen.entry(field)
                .or_default()
                .entry(value)
                .or_default()
                .push(i);
        }
    }
    seen
}

/// Every field of `fields(bundle)` that is not the same in all `bundles`.
fn differing(
    bundles: &[&BundleInfo],
    fields: impl Fn(&BundleInfo) -> Vec<(String, Fact)>,
) -> Vec<Difference> {
    seen(bundles, fields)
        .into_iter()
        .filter(|(_, values)| values.len() > 1)
        .map(|(field, values)| Difference {
            field,
            values: values
                .into_iter()
                .map(|(fact, held)| match fact {
                    Fact::Known(v) => (v, held),
                    Fact::Unknown => (UNKNOWN.to_owned(), held),
                })
                .collect(),
        })
        .collect()
}

/// The host facts of a bundle, unknown ones as [`Fact::Unknown`].
fn host_facts(b: &BundleInfo) -> Vec<(String, Fact)> {
    b.summary
        .comparability_fields()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.map_or(Fact::Unknown, Fact::Known)))
        .collect()
}

/// Host facts that no bundle of `bundles` knows.
pub fn unknown_everywhere(bundles: &[&BundleInfo]) -> Vec<String> {
    seen(bundles, host_facts)
        .into_iter()
        .filter(|(_, values)| values.len() == 1 && values.contains_key(&Fact::Unknown))
        .map(|(field, _)| field)
        .collect()
}

/// The differences among `bundles`, host facts first, then tools, then
/// platform facts.
pub fn check(bundles: &[&BundleInfo]) -> Vec<Difference> {
    let mut out = differing(bundles, host_facts);
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
                (format!("tool {t}"), Fact::Known(v))
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
                    facts.push((format!("{platform}.{k}"), Fact::Known(v.clone())));
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
    let mut notes = if diffs.is_empty() {
        vec![format!(
            "The {} bundles agree on every fact they know: CPU model, microcode, governor, SMT, host kernel, CPU count, host virtualization, mitigations, transparent huge pages, tool versions and platform facts (hypervisor versions).",
            bundles.len()
        )]
    } else {
        vec![format!(
            "The bundles of this report differ in {} field(s): numbers pooled or compared across them may reflect the environment as much as the platform. A value \"{UNKNOWN}\" means the bundle's source did not state the fact.",
            diffs.len()
        )]
    };
    let unknown = unknown_everywhere(bundles);
    if !unknown.is_empty() {
        notes.push(format!(
            "Not known for any bundle, so not compared: {}.",
            unknown.join(", ")
        ));
    }
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use benchvm_format::EnvSummary;

    use super::*;

    fn bundle(id: &str, summary: EnvSummary) -> BundleInfo {
        BundleInfo {
            path: PathBuf::from(id),
            id: id.repeat(64 / id.len()),
            label: id.into(),
            host: "h".into(),
            suite: "s".into(),
            created: "2026-11-25T18:00:00Z".into(),
            platforms: vec!["native".into()],
            rows: 1,
            summary,
            design: crate::design::Design::default(),
        }
    }

    #[test]
    fn unknown_is_a_value_of_its_own() {
        let known = EnvSummary {
            cpu_model: Some("AMD EPYC 7313P".into()),
            governor: Some("performance".into()),
            ..EnvSummary::default()
        };
        let mut imported = EnvSummary {
            cpu_model: Some("AMD EPYC 7313P".into()),
            ..EnvSummary::default()
        };
        imported.platforms.insert(
            "native".into(),
            [("origin".to_owned(), "import".to_owned())].into(),
        );
        let (a, b) = (bundle("a", known), bundle("b", imported));
        let diffs = check(&[&a, &b]);
        let governor = diffs
            .iter()
            .find(|d| d.field == "governor")
            .expect("a known and an unknown governor differ");
        assert_eq!(
            governor.values,
            [
                ("performance".to_owned(), vec![0]),
                (UNKNOWN.to_owned(), vec![1])
            ]
        );
        assert!(diffs.iter().all(|d| d.field != "cpu_model"));
        // Unknown in both: not a difference, but not said to agree either.
        assert!(diffs.iter().all(|d| d.field != "microcode"));
        let none = unknown_everywhere(&[&a, &b]);
        assert!(none.contains(&"microcode".to_owned()), "{none:?}");
        assert!(!none.contains(&"governor".to_owned()));
        let doc = doc(&[&a, &b], &diffs);
        assert!(
            doc.notes
                .iter()
                .any(|n| n.contains("Not known for any bundle") && n.contains("microcode")),
            "{:?}",
            doc.notes
        );
    }
}
