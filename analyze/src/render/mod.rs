//! Renderers: one output format per file behind the [`Renderer`] trait.
//!
//! Every table the tool writes (Table 1, platform comparisons, `compare`,
//! comparability, warnings) is first turned into a [`Doc`]: the cells a
//! person reads (`header`, `rows`) and the tidy records behind them
//! (`fields`, `records`: one value per field, numbers unrounded). Markdown
//! and LaTeX print the cells; CSV and JSON print the records, so a script
//! never parses "0.952 [0.93, 0.97]".

pub mod csv;
pub mod html;
pub mod json;
pub mod latex;
pub mod markdown;
pub mod report_md;
pub mod tex_width;

use std::path::{Path, PathBuf};

/// Alignment of a displayed column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// One value of a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// Written in its shortest round-trip form; non-finite values are
    /// `inf`, `-inf`, `NaN` in CSV and `null` in JSON.
    Num(f64),
    Text(String),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Num(v)
    }
}
impl From<usize> for Value {
    fn from(v: usize) -> Self {
        Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// A table ready to render.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    /// File stem: `table1`, `platforms`, `compare`...
    pub name: String,
    /// Caption, e.g. "Table 1. Overall performance normalized to native".
    pub title: String,
    /// Displayed column headers.
    pub header: Vec<String>,
    pub align: Vec<Align>,
    /// Displayed cells, one row per line, as wide as `header`.
    pub rows: Vec<Vec<String>>,
    /// Record field names.
    pub fields: Vec<String>,
    /// Tidy records, each as wide as `fields`.
    pub records: Vec<Vec<Value>>,
    /// Notes printed under the table: methods, abbreviations.
    pub notes: Vec<String>,
}

/// One output format.
pub trait Renderer: std::fmt::Debug {
    /// File extension, without the dot.
    fn extension(&self) -> &'static str;
    /// The whole file.
    fn render(&self, doc: &Doc) -> String;
}

/// Every format, in the order files are written (LaTeX in its default,
/// compact form; [`write_all_with`] chooses another).
pub const RENDERERS: [&dyn Renderer; 4] = [
    &markdown::Markdown,
    &latex::Latex {
        form: latex::Form::Compact,
    },
    &csv::Csv,
    &json::Json,
];

/// A document's title without its own number: "Table 1. Overall ..." ->
/// "Overall ..." (LaTeX and HTML captions number tables themselves).
pub fn caption(title: &str) -> &str {
    let Some(rest) = title.strip_prefix("Table ") else {
        return title;
    };
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    match rest[digits..].strip_prefix(". ") {
        Some(text) if digits > 0 => text,
        _ => title,
    }
}

/// Looks a format up by its name or extension (`md`, `markdown`, `tex`,
/// `latex`, `csv`, `json`).
pub fn by_name(name: &str) -> Option<&'static dyn Renderer> {
    let ext = match name {
        "markdown" => "md",
        "latex" => "tex",
        other => other,
    };
    RENDERERS.into_iter().find(|r| r.extension() == ext)
}

/// Writes `doc` in every format into `dir` as `<name>.<ext>`.
pub fn write_all(dir: &Path, doc: &Doc) -> std::io::Result<Vec<PathBuf>> {
    write_all_with(dir, doc, latex::Form::default())
}

/// Writes `doc` in every format into `dir`, LaTeX in the form `form`.
pub fn write_all_with(dir: &Path, doc: &Doc, form: latex::Form) -> std::io::Result<Vec<PathBuf>> {
    let tex = latex::Latex { form };
    let renderers: [&dyn Renderer; 4] = [RENDERERS[0], &tex, RENDERERS[2], RENDERERS[3]];
    renderers
        .iter()
        .map(|r| {
            let path = dir.join(format!("{}.{}", doc.name, r.extension()));
            std::fs::write(&path, r.render(doc))?;
            Ok(path)
        })
        .collect()
}

/// `v` with `digits` decimals, or `—` when it is missing or not finite.
pub fn fixed(v: Option<f64>, digits: usize) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.digits$}"),
        Some(v) if v.is_nan() => "—".into(),
        Some(v) if v > 0.0 => "inf".into(),
        Some(_) => "-inf".into(),
        None => "—".into(),
    }
}

/// A p-value as printed in a cell: three significant decimals, `<0.001`
/// below that.
pub fn p_text(p: Option<f64>) -> String {
    match p {
        Some(p) if p < 0.001 => "<0.001".into(),
        other => fixed(other, 3),
    }
}
