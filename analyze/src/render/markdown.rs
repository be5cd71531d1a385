//! Markdown (GitHub-flavoured pipe tables), notes as a bullet list.

use std::fmt::Write;

use super::{Align, Doc, Renderer};

/// GitHub-flavoured Markdown.
#[derive(Debug, Clone, Copy)]
pub struct Markdown;

/// `|` would end a cell; a newline would end the row.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

impl Renderer for Markdown {
    fn extension(&self) -> &'static str {
        "md"
    }

    fn render(&self, doc: &Doc) -> String {
        let mut out = String::new();
        let header: Vec<String> = doc.header.iter().map(|h| cell(h)).collect();
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let rule: String = doc
            .align
            .iter()
            .map(|a| match a {
                Align::Left => "---|",
                Align::Right => "---:|",
            })
            .collect();
        let _ = writeln!(out, "|{rule}");
        for row in &doc.rows {
            let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        if !doc.notes.is_empty() {
            out.push('\n');
            for note in &doc.notes {
                let _ = writeln!(out, "- {note}");
            }
        }
        out
    }
}
