//! JSON: the tidy records as objects, with the table's title and notes.
//!
//! Wire format (one document per table file):
//!
//! ```json
//! {
//!   "table": "table1",
//!   "title": "Table 1. Overall performance normalized to native",
//!   "fields": ["workload", "metric", "..."],
//!   "records": [{"workload": "cpu", "metric": "events_per_sec", "...": 1.0}],
//!   "notes": ["..."]
//! }
//! ```
//!
//! Keys of a record follow `fields`; numbers are unrounded; a missing or
//! non-finite number is `null`.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use super::{Doc, Renderer, Value};

/// Pretty-printed JSON.
#[derive(Debug, Clone, Copy)]
pub struct Json;

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_none(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Num(x) if x.is_finite() => s.serialize_f64(*x),
            Value::Num(_) => s.serialize_none(),
            Value::Text(t) => s.serialize_str(t),
        }
    }
}

/// One record as an object whose keys keep the field order.
struct Record<'a> {
    fields: &'a [String],
    values: &'a [Value],
}

impl Serialize for Record<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.fields.len()))?;
        for (k, v) in self.fields.iter().zip(self.values) {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct Document<'a> {
    table: &'a str,
    title: &'a str,
    fields: &'a [String],
    records: Vec<Record<'a>>,
    notes: &'a [String],
}

impl Renderer for Json {
    fn extension(&self) -> &'static str {
        "json"
    }

    fn render(&self, doc: &Doc) -> String {
        let document = Document {
            table: &doc.name,
            title: &doc.title,
            fields: &doc.fields,
            records: doc
                .records
                .iter()
                .map(|values| Record {
                    fields: &doc.fields,
                    values,
                })
                .collect(),
            notes: &doc.notes,
        };
        // Strings, finite numbers and nulls only: serializing cannot fail.
        let mut out = serde_json::to_string_pretty(&document).unwrap_or_default();
        out.push('\n');
        out
    }
}
