//! One self-contained HTML report: the tables, the figures as inline SVG,
//! and the method notes.
//!
//! The file needs nothing else: CSS is inline, there is no script, no
//! `<link>`, no image or font fetched by URL, so it opens offline, survives
//! being mailed or archived beside the bundles, and shows the same in any
//! browser. Every text is escaped; figure SVGs (from `figures::svg`) are
//! inlined as they are, after a check that they hold no script, no link and
//! no foreign object, since their labels come from bundles that may be
//! anybody's.

use std::fmt::Write;

use super::{Align, Doc};
use crate::analysis::Analysis;
use crate::figures::Rendered;

/// A titled part of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub title: String,
    pub blocks: Vec<Block>,
}

/// One piece of a section.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A paragraph of plain text.
    Text(String),
    Table(Table),
    /// An SVG document, shown inline, with its caption.
    Figure {
        svg: String,
        caption: String,
    },
    /// A bulleted list of plain-text notes (methods, abbreviations).
    Notes(Vec<String>),
}

/// A table as displayed: its cells are already formatted text.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub caption: String,
    pub header: Vec<String>,
    /// Right-align column `i` (numbers) when `numeric[i]`; missing entries
    /// are left-aligned.
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<String>>,
    /// Plain-text notes printed under the table.
    pub notes: Vec<String>,
}

impl From<&Doc> for Table {
    fn from(d: &Doc) -> Table {
        Table {
            caption: d.title.clone(),
            header: d.header.clone(),
            numeric: d.align.iter().map(|a| *a == Align::Right).collect(),
            rows: d.rows.clone(),
            notes: d.notes.clone(),
        }
    }
}

/// The report of an analysis: the same sections as `report.md`, with each
/// figure right under the table it shows (a figure goes under the document
/// whose `name` it has), then the methods.
pub fn from_analysis(a: &Analysis, docs: &[Doc], figures: &[Rendered]) -> String {
    let mut intro = vec![Block::Text(format!(
        "{} bundle(s) verified and loaded, {} used after filters, {} skipped; {} metric rows.",
        a.bundles.len(),
        a.used.len(),
        a.skipped.len(),
        a.frame.height()
    ))];
    let filters = a.filters.describe();
    if !filters.is_empty() {
        intro.push(Block::Text(format!("Filters: {}.", filters.join("; "))));
    }
    intro.push(Block::Table((&super::report_md::bundles_doc(a)).into()));
    if !a.skipped.is_empty() {
        intro.push(Block::Notes(
            a.skipped
                .iter()
                .map(|s| {
                    format!(
                        "Skipped {} (failed verification): {}",
                        s.path.display(),
                        s.reason
                    )
                })
                .collect(),
        ));
    }
    let mut sections = vec![Section {
        title: "Bundles".into(),
        blocks: intro,
    }];
    if let Err(e) = &a.table1 {
        sections.push(Section {
            title: "Table 1".into(),
            blocks: vec![Block::Text(format!("Not built: {e}."))],
        });
    }
    for doc in docs {
        let mut blocks = if doc.rows.is_empty() {
            let mut b = vec![Block::Text("(none)".into())];
            if !doc.notes.is_empty() {
                b.push(Block::Notes(doc.notes.clone()));
            }
            b
        } else {
            vec![Block::Table(doc.into())]
        };
        for f in figures.iter().filter(|f| f.doc == doc.name) {
            blocks.push(Block::Figure {
                svg: f.svg.clone(),
                caption: f.caption.clone(),
            });
            if !f.notes.is_empty() {
                blocks.push(Block::Notes(f.notes.clone()));
            }
        }
        sections.push(Section {
            title: doc.title.clone(),
            blocks,
        });
    }
    let mut methods: Vec<String> = crate::methods::markdown(a)
        .lines()
        .filter_map(|l| l.strip_prefix("- "))
        .map(str::to_owned)
        .collect();
    methods.push(FIGURE_NOTE.into());
    sections.push(Section {
        title: "Methods".into(),
        blocks: vec![Block::Notes(methods)],
    });
    report("benchvm report", &sections)
}

/// How the figures were made, listed with the methods.
pub const FIGURE_NOTE: &str =
    "Figures: drawn with plotters; each is also in figures/ as SVG and PNG. \
Text is set in DejaVu Sans, which analyze carries, so PNGs need no system font; \
the PDFs keep it as text.";

const CSS: &str = "
body { font-family: 'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif; color: #111;
  background: #fff; max-width: 1100px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.6em; border-bottom: 2px solid #333; padding-bottom: .2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #bbb; }
nav ol { padding-left: 1.4em; }
div.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 1em 0; font-size: .9em; }
caption { caption-side: top; text-align: left; font-weight: bold; padding-bottom: .4em; }
th, td { padding: .3em .7em; border-bottom: 1px solid #ddd; vertical-align: top; }
thead th { border-bottom: 2px solid #333; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: #f7f7f7; }
figure { margin: 1.5em 0; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: .9em; color: #444; margin-top: .4em; }
ul.notes { font-size: .85em; color: #333; }
footer { margin-top: 3em; font-size: .8em; color: #666; border-top: 1px solid #ccc; padding-top: .5em; }
";

/// The whole report as one HTML document.
pub fn report(title: &str, sections: &[Section]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(title),
        escape(title)
    );
    if sections.len() > 1 {
        out.push_str("<nav><ol>\n");
        for (i, s) in sections.iter().enumerate() {
            let _ = writeln!(
                out,
                "<li><a href=\"#s{}\">{}</a></li>",
                i + 1,
                escape(&s.title)
            );
        }
        out.push_str("</ol></nav>\n");
    }
    for (i, s) in sections.iter().enumerate() {
        let _ = writeln!(
            out,
            "<section id=\"s{}\">\n<h2>{}</h2>",
            i + 1,
            escape(&s.title)
        );
        for b in &s.blocks {
            block(&mut out, b);
        }
        out.push_str("</section>\n");
    }
    let _ = writeln!(
        out,
        "<footer>Written by analyze {}. Self-contained: no scripts and no external files.</footer>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION")
    );
    out
}

fn block(out: &mut String, b: &Block) {
    match b {
        Block::Text(t) => {
            let _ = writeln!(out, "<p>{}</p>", escape(t));
        }
        Block::Table(t) => table(out, t),
        Block::Figure { svg, caption } => {
            out.push_str("<figure>\n");
            match inline_svg(svg, caption) {
                Some(svg) => out.push_str(&svg),
                None => out.push_str(
                    "<p><em>Figure omitted: its SVG did not pass the safety check.</em></p>",
                ),
            }
            let _ = writeln!(
                out,
                "\n<figcaption>{}</figcaption>\n</figure>",
                escape(caption)
            );
        }
        Block::Notes(notes) => notes_list(out, notes),
    }
}

fn table(out: &mut String, t: &Table) {
    let class = |i: usize| {
        if t.numeric.get(i).copied().unwrap_or(false) {
            " class=\"num\""
        } else {
            ""
        }
    };
    let _ = writeln!(
        out,
        "<div class=\"scroll\">\n<table>\n<caption>{}</caption>\n<thead><tr>",
        escape(&t.caption)
    );
    for (i, h) in t.header.iter().enumerate() {
        let _ = write!(out, "<th{}>{}</th>", class(i), escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let _ = write!(out, "<td{}>{}</td>", class(i), escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</div>\n");
    notes_list(out, &t.notes);
}

fn notes_list(out: &mut String, notes: &[String]) {
    if notes.is_empty() {
        return;
    }
    out.push_str("<ul class=\"notes\">\n");
    for n in notes {
        let _ = writeln!(out, "<li>{}</li>", escape(n));
    }
    out.push_str("</ul>\n");
}

/// The SVG ready to inline: XML prolog dropped, labeled for screen
/// readers; `None` when it could fetch or run anything.
fn inline_svg(svg: &str, caption: &str) -> Option<String> {
    let lower = svg.to_ascii_lowercase();
    let forbidden = [
        "<script",
        "href",
        "<foreignobject",
        "<iframe",
        "<image",
        "url(",
        "javascript:",
    ];
    if forbidden.iter().any(|f| lower.contains(f)) || has_event_attribute(&lower) {
        return None;
    }
    let start = lower.find("<svg")?;
    let body = &svg[start..];
    Some(body.replacen(
        "<svg",
        &format!("<svg role=\"img\" aria-label=\"{}\"", escape(caption)),
        1,
    ))
}

/// Whether `lower` holds an event-handler attribute (` onload=`, ...).
fn has_event_attribute(lower: &str) -> bool {
    lower.match_indices(" on").any(|(i, _)| {
        let rest = &lower[i + 3..];
        let name_len = rest.chars().take_while(char::is_ascii_alphabetic).count();
        name_len > 0 && rest[name_len..].trim_start().starts_with('=')
    })
}

/// Text as HTML character data or attribute value.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Section> {
        vec![Section {
            title: "Table 1 <overall>".into(),
            blocks: vec![
                Block::Table(Table {
                    caption: "Scores".into(),
                    header: vec!["Workload".into(), "KVM".into()],
                    numeric: vec![false, true],
                    rows: vec![vec!["cpu & co".into(), "0.950 [0.94, 0.96]".into()]],
                    notes: vec!["Fieller's interval".into()],
                }),
                Block::Figure {
                    svg: "<?xml version=\"1.0\"?>\n<svg width=\"10\" height=\"10\" viewBox=\"0 0 10 10\" xmlns=\"http://www.w3.org/2000/svg\"><text>x</text></svg>".into(),
                    caption: "Bars".into(),
                },
            ],
        }]
    }

    #[test]
    fn escapes_text_and_inlines_svg() {
        let html = report("R & D", &sample());
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<title>R &amp; D</title>"));
        assert!(html.contains("<h2>Table 1 &lt;overall&gt;</h2>"));
        assert!(html.contains("<td>cpu &amp; co</td><td class=\"num\">0.950 [0.94, 0.96]</td>"));
        assert!(html.contains("<svg role=\"img\" aria-label=\"Bars\" width=\"10\""));
        assert!(!html.contains("<?xml"));
        assert!(html.contains("<li>Fieller&#39;s interval</li>"));
    }

    #[test]
    fn nothing_external() {
        let html = report("R", &sample());
        for needle in [
            "<script", "<link", "src=", "@import", "url(", "http://", "https://",
        ] {
            let hits: Vec<_> = html.match_indices(needle).collect();
            // The SVG namespace is an identifier, never fetched.
            let allowed = needle == "http://"
                && hits.len() == 1
                && html.contains("xmlns=\"http://www.w3.org/2000/svg\"");
            assert!(hits.is_empty() || allowed, "{needle} in report");
        }
    }

    #[test]
    fn unsafe_svg_is_refused() {
        for svg in [
            "<svg><script>alert(1)</script></svg>",
            "<svg><a href=\"https://x\">x</a></svg>",
            "<svg><rect onload=\"x()\"/></svg>",
        ] {
            let html = report(
                "R",
                &[Section {
                    title: "F".into(),
                    blocks: vec![Block::Figure {
                        svg: svg.into(),
                        caption: "c".into(),
                    }],
                }],
            );
            assert!(html.contains("Figure omitted"), "{svg}");
            assert!(
                !html.contains("alert") && !html.contains("https://x") && !html.contains("onload")
            );
        }
    }
}
