//! LaTeX with booktabs rules (`\toprule`, `\midrule`, `\bottomrule`), every
//! text escaped. Needs `\usepackage{booktabs}` in the preamble.

use std::fmt::Write;

use super::{Align, Doc, Renderer};

/// A `table` float holding a booktabs `tabular`.
#[derive(Debug, Clone, Copy)]
pub struct Latex;

/// Escapes LaTeX's special characters so text prints as written.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
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

impl Renderer for Latex {
    fn extension(&self) -> &'static str {
        "tex"
    }

    fn render(&self, doc: &Doc) -> String {
        let mut out = String::from("% Requires \\usepackage{booktabs}.\n");
        let spec: String = doc
            .align
            .iter()
            .map(|a| match a {
                Align::Left => 'l',
                Align::Right => 'r',
            })
            .collect();
        let line = |cells: &[String]| -> String {
            let mut escaped: Vec<String> = cells.iter().map(|c| escape(c)).collect();
            // `\\` followed by `[` would read it as a skip length.
            if let Some(first) = escaped.first_mut().filter(|c| c.starts_with('[')) {
                first.insert_str(0, "{}");
            }
            format!("{} \\\\\n", escaped.join(" & "))
        };
        out.push_str("\\begin{table}[htbp]\n\\centering\n");
        let _ = writeln!(out, "\\caption{{{}}}", escape(&doc.title));
        let _ = writeln!(out, "\\label{{tab:{}}}", escape(&doc.name));
        let _ = writeln!(out, "\\begin{{tabular}}{{{spec}}}");
        out.push_str("\\toprule\n");
        out.push_str(&line(&doc.header));
        out.push_str("\\midrule\n");
        for row in &doc.rows {
            out.push_str(&line(row));
        }
        out.push_str("\\bottomrule\n\\end{tabular}\n");
        if !doc.notes.is_empty() {
            out.push_str("\\par\\smallskip\n{\\footnotesize\n");
            for note in &doc.notes {
                let _ = writeln!(out, "{}\\par", escape(note));
            }
            out.push_str("}\n");
        }
        out.push_str("\\end{table}\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn specials_are_escaped() {
        assert_eq!(
            escape(r"a_b & 50% $x$ #1 {y} ~ ^ \ —"),
            r"a\_b \& 50\% \$x\$ \#1 \{y\} \textasciitilde{} \textasciicircum{} \textbackslash{} ---"
        );
    }
}
