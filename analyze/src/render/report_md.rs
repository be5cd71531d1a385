//! `report.md`: the whole report in one Markdown file: the bundles, every
//! table with its notes, the comparability section, the warnings and the
//! methods with their references.

use std::fmt::Write;

use super::markdown::Markdown;
use super::{Align, Doc, Renderer, Value};
use crate::analysis::Analysis;

/// The bundles of a report as a document.
pub fn bundles_doc(a: &Analysis) -> Doc {
    let mut rows = Vec::new();
    let mut records = Vec::new();
    for (i, b) in a.bundles.iter().enumerate() {
        let used = a.used.contains(&i);
        rows.push(vec![
            b.id[..12.min(b.id.len())].to_owned(),
            b.label.clone(),
            b.host.clone(),
            b.platforms.join(", "),
            b.rows.to_string(),
            if used { "yes" } else { "no (filtered out)" }.to_owned(),
            b.path.display().to_string(),
        ]);
        records.push(vec![
            b.id.as_str().into(),
            b.label.as_str().into(),
            b.host.as_str().into(),
            b.platforms.join(" ").into(),
            b.rows.into(),
            Value::Bool(used),
            b.path.display().to_string().into(),
        ]);
    }
    Doc {
        name: "bundles".into(),
        title: "Bundles".into(),
        header: [
            "Bundle",
            "Label",
            "Host",
            "Platforms",
            "Rows",
            "Used",
            "File",
        ]
        .map(String::from)
        .to_vec(),
        align: vec![
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Right,
            Align::Left,
            Align::Left,
        ],
        rows,
        fields: [
            "bundle_id",
            "label",
            "host",
            "platforms",
            "rows",
            "used",
            "path",
        ]
        .map(String::from)
        .to_vec(),
        records,
        notes: Vec::new(),
    }
}

fn section(out: &mut String, heading: &str, doc: &Doc) {
    let _ = writeln!(out, "## {heading}\n");
    if doc.rows.is_empty() {
        out.push_str("(none)\n");
        if !doc.notes.is_empty() {
            out.push('\n');
            for n in &doc.notes {
                let _ = writeln!(out, "- {n}");
            }
        }
    } else {
        out.push_str(&Markdown.render(doc));
    }
    out.push('\n');
}

/// The full report.
pub fn render(a: &Analysis, docs: &[Doc]) -> String {
    let mut out = String::from("# benchvm report\n\n");
    let _ = writeln!(
        out,
        "{} bundle(s) verified and loaded, {} used after filters, {} skipped; {} metric rows.\n",
        a.bundles.len(),
        a.used.len(),
        a.skipped.len(),
        a.frame.height()
    );
    let filters = a.filters.describe();
    if !filters.is_empty() {
        let _ = writeln!(out, "Filters: {}.\n", filters.join("; "));
    }
    section(&mut out, "Bundles", &bundles_doc(a));
    if !a.skipped.is_empty() {
        out.push_str("## Skipped bundles (failed verification)\n\n");
        for s in &a.skipped {
            let _ = writeln!(out, "- `{}`: {}", s.path.display(), s.reason);
        }
        out.push('\n');
    }
    if let Err(e) = &a.table1 {
        let _ = writeln!(out, "## Table 1\n\nNot built: {e}.\n");
    }
    for doc in docs {
        section(&mut out, &doc.title, doc);
    }
    out.push_str("## Methods\n\n");
    out.push_str(&crate::methods::markdown(a));
    out
}
