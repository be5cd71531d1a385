//! CSV (RFC 4180): the tidy records, one line each, every number in its own
//! field and unrounded.

use super::{Doc, Renderer, Value};

/// RFC 4180 CSV with a header line.
#[derive(Debug, Clone, Copy)]
pub struct Csv;

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn value(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Num(x) => format!("{x}"),
        Value::Text(s) => field(s),
    }
}

impl Renderer for Csv {
    fn extension(&self) -> &'static str {
        "csv"
    }

    fn render(&self, doc: &Doc) -> String {
        let mut out = doc
            .fields
            .iter()
            .map(|f| field(f))
            .collect::<Vec<_>>()
            .join(",");
        out.push('\n');
        for record in &doc.records {
            out.push_str(&record.iter().map(value).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
        out
    }
}
