//! LaTeX with booktabs rules (`\toprule`, `\midrule`, `\bottomrule`), every
//! text escaped, sized for the two-column venue templates (ACM `acmart`
//! sigconf, IEEEtran conference). Needs `\usepackage{booktabs}` only.
//!
//! Two forms ([`Form`]): **compact** stacks the parts of a cell (a score on
//! its line, its interval and n below in a smaller size; "KVM" over
//! "(TCG)" in a header), **full** sets each cell on one line as Markdown
//! does. A cell's parts are its lines (the documents separate them with
//! `\n`).
//!
//! Fitting: the renderer estimates each column's width (`tex_width`) and
//! takes the first layout that fits: one column (`table`), then one column
//! with the text columns wrapped, then the page width (`table*`), then the
//! page width wrapped; at `\footnotesize`, then at `\scriptsize`, then
//! `\tiny`. Numbers stay in right-aligned columns with the same decimals
//! per column, so decimal points line up without `siunitx`. Captions carry
//! no number of their own ("Table 1." is LaTeX's to write).

use std::fmt::Write;

use super::tex_width::{widest_word, width, COLUMN_PT, SAFETY, TEXT_PT};
use super::{caption, Align, Doc, Renderer};

/// How cells are set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Form {
    /// Parts of a cell stacked, the details smaller.
    #[default]
    Compact,
    /// Each cell on one line.
    Full,
}

impl Form {
    pub fn as_str(self) -> &'static str {
        match self {
            Form::Compact => "compact",
            Form::Full => "full",
        }
    }
}

/// A `table` or `table*` float holding a booktabs `tabular`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Latex {
    pub form: Form,
}

/// Escapes LaTeX's special characters so text prints as written; a line
/// may break after `/` and `_` where the text is wrapped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '_' => out.push_str("\\_\\allowbreak{}"),
            '/' => out.push_str("/\\allowbreak{}"),
            '&' | '%' | '$' | '#' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '<' => out.push_str("\\textless{}"),
            '>' => out.push_str("\\textgreater{}"),
            '|' => out.push_str("\\textbar{}"),
            '—' => out.push_str("---"),
            '–' => out.push_str("--"),
            '±' => out.push_str("$\\pm$"),
            '×' => out.push_str("$\\times$"),
            '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Font sizes tried, largest first: the command, its size in points (at a
/// 10pt body, the larger of the two templates) and the size of a cell's
/// detail lines.
const SIZES: [(&str, f64, &str, f64); 3] = [
    ("\\footnotesize", 8.0, "\\scriptsize", 7.0),
    ("\\scriptsize", 7.0, "\\tiny", 5.0),
    ("\\tiny", 5.0, "\\tiny", 5.0),
];
/// `\tabcolsep` set in every table, points.
const TABCOLSEP: f64 = 4.0;

/// Where a table goes and how its columns are set.
#[derive(Debug, Clone, PartialEq)]
struct Layout {
    /// `table` or `table*`.
    env: &'static str,
    size: usize,
    /// Per column: the width of its wrapped text, or `None` (one line).
    wrap: Vec<Option<f64>>,
    /// Estimated width of the tabular, points.
    width: f64,
    /// What the layout is measured against, points.
    limit: f64,
}

impl Latex {
    /// A cell's lines in this form.
    fn lines(&self, cell: &str) -> Vec<String> {
        match self.form {
            Form::Compact => cell.split('\n').map(str::to_owned).collect(),
            Form::Full => vec![cell.replace('\n', " ")],
        }
    }

    fn rows<'a>(&self, doc: &'a Doc) -> impl Iterator<Item = &'a Vec<String>> {
        std::iter::once(&doc.header).chain(&doc.rows)
    }

    /// Natural (one line per part) and narrowest (longest word) width of
    /// every column at size `size`.
    fn widths(&self, doc: &Doc, size: usize) -> (Vec<f64>, Vec<f64>) {
        let (_, main, _, detail) = SIZES[size];
        let n = doc.align.len();
        let (mut natural, mut narrow) = (vec![0.0f64; n], vec![0.0f64; n]);
        for row in self.rows(doc) {
            for (i, cell) in row.iter().enumerate().take(n) {
                for (k, line) in self.lines(cell).iter().enumerate() {
                    let pt = if k == 0 { main } else { detail };
                    natural[i] = natural[i].max(width(line, pt));
                    narrow[i] = narrow[i].max(widest_word(line, pt));
                }
            }
        }
        (natural, narrow)
    }

    /// The first layout that fits, or the last resort (page width,
    /// smallest size, wrapped).
    fn layout(&self, doc: &Doc) -> Layout {
        let seps = 2.0 * TABCOLSEP * doc.align.len() as f64;
        let mut last = None;
        for size in 0..SIZES.len() {
            let (natural, narrow) = self.widths(doc, size);
            for (env, page) in [("table", COLUMN_PT), ("table*", TEXT_PT)] {
                let limit = page * SAFETY;
                let total = natural.iter().sum::<f64>() + seps;
                if total <= limit {
                    return Layout {
                        env,
                        size,
                        wrap: vec![None; natural.len()],
                        width: total,
                        limit,
                    };
                }
                let wrapped = wrap(doc, &natural, &narrow, limit - seps);
                let total = wrapped.1 + seps;
                let layout = Layout {
                    env,
                    size,
                    wrap: wrapped.0,
                    width: total,
                    limit,
                };
                if total <= limit && wrapped_is_readable(&layout, &narrow) {
                    return layout;
                }
                last = Some(layout);
            }
        }
        last.unwrap_or(Layout {
            env: "table*",
            size: SIZES.len() - 1,
            wrap: vec![None; doc.align.len()],
            width: 0.0,
            limit: TEXT_PT * SAFETY,
        })
    }
}

/// Wrapping in one column is only worth it when no wrapped column becomes
/// a column of single words.
fn wrapped_is_readable(l: &Layout, narrow: &[f64]) -> bool {
    l.env == "table*"
        || l.wrap
            .iter()
            .zip(narrow)
            .all(|(w, n)| w.is_none_or(|w| w >= 2.5 * n))
}

/// Widths of the left-aligned (text) columns wrapped so that all columns
/// take `room` points: each text column gets at least its longest word,
/// the rest shared in proportion to what wrapping takes from it. Returns
/// the widths and the total.
fn wrap(doc: &Doc, natural: &[f64], narrow: &[f64], room: f64) -> (Vec<Option<f64>>, f64) {
    let text: Vec<bool> = doc.align.iter().map(|a| *a == Align::Left).collect();
    let fixed: f64 = (0..natural.len())
        .filter(|&i| !text[i])
        .map(|i| natural[i])
        .sum();
    let min: f64 = (0..natural.len())
        .filter(|&i| text[i])
        .map(|i| narrow[i])
        .sum();
    let want: f64 = (0..natural.len())
        .filter(|&i| text[i])
        .map(|i| natural[i] - narrow[i])
        .sum();
    let extra = (room - fixed - min).max(0.0);
    let share = if want > 0.0 {
        (extra / want).min(1.0)
    } else {
        0.0
    };
    let widths: Vec<Option<f64>> = (0..natural.len())
        .map(|i| {
            text[i].then(|| {
                let w = narrow[i] + share * (natural[i] - narrow[i]);
                // Whole points, rounded up, so the estimate stays an upper bound.
                w.ceil()
            })
        })
        .collect();
    let total = (0..natural.len())
        .map(|i| widths[i].unwrap_or(natural[i]))
        .sum();
    (widths, total)
}

/// One cell as LaTeX.
fn cell(lines: &[String], align: Align, wrap: Option<f64>, detail: &str) -> String {
    let parts: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(k, l)| {
            if k == 0 {
                escape(l)
            } else {
                format!("{{{detail} {}}}", escape(l))
            }
        })
        .collect();
    match wrap {
        Some(w) => format!(
            "\\parbox[t]{{{w:.0}pt}}{{\\raggedright {}}}",
            parts.join("\\newline ")
        ),
        None if parts.len() > 1 => {
            let a = if align == Align::Left { 'l' } else { 'r' };
            format!(
                "\\begin{{tabular}}[t]{{@{{}}{a}@{{}}}}{}\\end{{tabular}}",
                parts.join("\\\\ ")
            )
        }
        None => parts.concat(),
    }
}

impl Renderer for Latex {
    fn extension(&self) -> &'static str {
        "tex"
    }

    fn render(&self, doc: &Doc) -> String {
        let layout = self.layout(doc);
        let (size_cmd, _, detail, _) = SIZES[layout.size];
        let spec: String = doc
            .align
            .iter()
            .map(|a| match a {
                Align::Left => 'l',
                Align::Right => 'r',
            })
            .collect();
        let line = |cells: &[String]| -> String {
            let mut out: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let align = doc.align.get(i).copied().unwrap_or(Align::Left);
                    let wrap = layout.wrap.get(i).copied().flatten();
                    cell(&self.lines(c), align, wrap, detail)
                })
                .collect();
            // `\\` followed by `[` would read it as a skip length.
            if let Some(first) = out.first_mut().filter(|c| c.starts_with('[')) {
                first.insert_str(0, "{}");
            }
            format!("{} \\\\\n", out.join(" & "))
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "% Requires \\usepackage{{booktabs}}. {} form; {}: about {:.0}pt wide, fits {:.0}pt.",
            self.form.as_str(),
            if layout.env == "table" {
                "one column (table)"
            } else {
                "the page width (table*)"
            },
            layout.width,
            layout.limit / SAFETY
        );
        let _ = writeln!(out, "\\begin{{{}}}[tbp]", layout.env);
        out.push_str("\\centering\n");
        let _ = writeln!(
            out,
            "{size_cmd}\\setlength{{\\tabcolsep}}{{{TABCOLSEP}pt}}%"
        );
        let _ = writeln!(out, "\\caption{{{}}}", escape(caption(&doc.title)));
        let _ = writeln!(out, "\\label{{tab:{}}}", doc.name.replace('_', "-"));
        let _ = writeln!(out, "\\begin{{tabular}}{{{spec}}}");
        out.push_str("\\toprule\n");
        out.push_str(&line(&doc.header));
        out.push_str("\\midrule\n");
        for row in &doc.rows {
            out.push_str(&line(row));
        }
        out.push_str("\\bottomrule\n\\end{tabular}\n");
        if !doc.notes.is_empty() {
            out.push_str("\\par\\smallskip\n{\\raggedright\n");
            for note in &doc.notes {
                let _ = writeln!(out, "{}\\par", escape(note));
            }
            out.push_str("}\n");
        }
        let _ = writeln!(out, "\\end{{{}}}", layout.env);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Value;

    #[test]
    fn specials_are_escaped() {
        assert_eq!(
            escape(r"a_b & 50% $x$ #1 {y} ~ ^ \ —"),
            r"a\_\allowbreak{}b \& 50\% \$x\$ \#1 \{y\} \textasciitilde{} \textasciicircum{} \textbackslash{} ---"
        );
    }

    fn doc(columns: usize, cell: &str) -> Doc {
        Doc {
            name: "t".into(),
            title: "Table 1. A table".into(),
            header: (0..columns).map(|i| format!("c{i}")).collect(),
            align: (0..columns)
                .map(|i| if i == 0 { Align::Left } else { Align::Right })
                .collect(),
            rows: vec![(0..columns).map(|_| cell.to_owned()).collect()],
            fields: vec!["x".into()],
            records: vec![vec![Value::Null]],
            notes: vec![],
        }
    }

    #[test]
    fn narrow_tables_take_one_column_and_wide_ones_the_page() {
        let compact = Latex {
            form: Form::Compact,
        };
        let small = compact.render(&doc(3, "0.993\n[0.981, 1.004] n=3"));
        assert!(small.contains("\\begin{table}[tbp]"), "{small}");
        assert!(small.contains("\\caption{A table}"), "{small}");
        assert!(small.contains(
            "\\begin{tabular}[t]{@{}r@{}}0.993\\\\ {\\scriptsize [0.981, 1.004] n=3}\\end{tabular}"
        ));
        // The full form puts the same cells on one line: wider.
        let full = Latex { form: Form::Full }.render(&doc(6, "0.993\n[0.981, 1.004] n=3"));
        assert!(full.contains("\\begin{table*}[tbp]"), "{full}");
        assert!(full.contains("0.993 [0.981, 1.004] n=3"));
    }
}
