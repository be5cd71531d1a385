//! A bundle's `metrics.ndjson` parsed once into compact columns, and many
//! bundles' columns assembled, in order, into one single-chunk polars frame.
//!
//! The reader has already validated every line (SPEC.md §9.8) when this
//! runs, so this is a second, cheaper reading of trusted bytes: rows are
//! deserialized with borrowed strings, and each string column is kept as
//! codes into a small per-bundle dictionary (a bundle has a handful of
//! platforms, workloads and units), so nothing is allocated per row.
//! Assembling writes every column once, with no per-bundle frames to stack.

use std::borrow::Cow;
use std::collections::HashMap;

use benchvm_format::metrics::{Direction, MetricRow, Role, Status};
use polars::prelude::*;
use serde::Deserialize;

/// String columns of the metrics table, in schema order among themselves.
const STRINGS: [&str; 11] = [
    "platform",
    "accel",
    "experiment",
    "workload",
    "metric",
    "unit",
    "direction",
    "stressor",
    "role",
    "status",
    "run",
];
/// Code of a null string.
const NULL: u32 = u32::MAX;

/// One metrics line, borrowing its strings from the bytes when it can.
#[derive(Deserialize)]
struct RowRef<'a> {
    #[serde(borrow)]
    platform: Cow<'a, str>,
    #[serde(borrow)]
    accel: Cow<'a, str>,
    emulated: bool,
    #[serde(borrow)]
    experiment: Cow<'a, str>,
    #[serde(borrow)]
    workload: Cow<'a, str>,
    #[serde(borrow)]
    metric: Cow<'a, str>,
    #[serde(borrow)]
    unit: Cow<'a, str>,
    #[serde(borrow)]
    direction: Cow<'a, str>,
    repetition: u32,
    guest: Option<u32>,
    n_guests: Option<u32>,
    #[serde(borrow)]
    stressor: Option<Cow<'a, str>>,
    #[serde(borrow)]
    role: Option<Cow<'a, str>>,
    #[serde(borrow)]
    status: Cow<'a, str>,
    value: Option<f64>,
    #[serde(borrow)]
    run: Cow<'a, str>,
}

/// One bundle's metrics as columns, with its lineage.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    dict: Vec<String>,
    codes: [Vec<u32>; 11],
    emulated: Vec<bool>,
    repetition: Vec<u32>,
    guest: Vec<Option<u32>>,
    n_guests: Vec<Option<u32>>,
    value: Vec<Option<f64>>,
    /// bundle_id, label, host.
    lineage: [String; 3],
}

impl Columns {
    pub fn len(&self) -> usize {
        self.value.len()
    }

    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
}

/// Builds one bundle's columns row by row.
struct Builder {
    c: Columns,
    index: HashMap<String, u32>,
    /// The code each string column got on the previous row.
    last: [u32; 11],
}

impl Builder {
    fn new(bundle_id: &str, label: &str, host: &str) -> Self {
        Builder {
            c: Columns {
                lineage: [bundle_id.to_owned(), label.to_owned(), host.to_owned()],
                ..Columns::default()
            },
            index: HashMap::new(),
            last: [NULL; 11],
        }
    }

    fn code(&mut self, column: usize, s: Option<&str>) -> u32 {
        let Some(s) = s else { return NULL };
        // Consecutive rows mostly repeat a column's value: compare with the
        // previous one before hashing.
        let last = self.last[column];
        if self.c.dict.get(last as usize).is_some_and(|prev| prev == s) {
            return last;
        }
        let k = match self.index.get(s) {
            Some(&k) => k,
            None => {
                let k = u32::try_from(self.c.dict.len()).unwrap_or(NULL - 1);
                self.c.dict.push(s.to_owned());
                self.index.insert(s.to_owned(), k);
                k
            }
        };
        self.last[column] = k;
        k
    }

    /// Appends a row; `strings` in the order of [`STRINGS`].
    fn push(
        &mut self,
        strings: [Option<&str>; 11],
        emulated: bool,
        repetition: u32,
        guest: Option<u32>,
        n_guests: Option<u32>,
        value: Option<f64>,
    ) {
        for (i, s) in strings.into_iter().enumerate() {
            let k = self.code(i, s);
            self.c.codes[i].push(k);
        }
        self.c.emulated.push(emulated);
        self.c.repetition.push(repetition);
        self.c.guest.push(guest);
        self.c.n_guests.push(n_guests);
        self.c.value.push(value);
    }
}

/// Parses a bundle's metrics (validated NDJSON) into columns.
pub fn parse(
    bytes: &[u8],
    bundle_id: &str,
    label: &str,
    host: &str,
) -> Result<Columns, serde_json::Error> {
    let mut b = Builder::new(bundle_id, label, host);
    for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let r: RowRef<'_> = serde_json::from_slice(line)?;
        let strings = [
            Some(&*r.platform),
            Some(&*r.accel),
            Some(&*r.experiment),
            Some(&*r.workload),
            Some(&*r.metric),
            Some(&*r.unit),
            Some(&*r.direction),
            r.stressor.as_deref(),
            r.role.as_deref(),
            Some(&*r.status),
            Some(&*r.run),
        ];
        b.push(
            strings,
            r.emulated,
            r.repetition,
            r.guest,
            r.n_guests,
            r.value,
        );
    }
    Ok(b.c)
}

/// Columns from rows the reader already parsed and validated
/// (`Bundle::metrics`): no second reading of the bytes.
pub fn from_rows(rows: &[MetricRow], bundle_id: &str, label: &str, host: &str) -> Columns {
    let mut b = Builder::new(bundle_id, label, host);
    for r in rows {
        let direction = match r.direction {
            Direction::Higher => "higher",
            Direction::Lower => "lower",
        };
        let role = r.role.map(|role| match role {
            Role::Stressed => "stressed",
            Role::Normal => "normal",
        });
        let status = match r.status {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Dnr => "dnr",
        };
        let strings = [
            Some(r.platform.as_str()),
            Some(r.accel.as_str()),
            Some(r.experiment.as_str()),
            Some(r.workload.as_str()),
            Some(r.metric.as_str()),
            Some(r.unit.as_str()),
            Some(direction),
            r.stressor.as_deref(),
            role,
            Some(status),
            Some(r.run.as_str()),
        ];
        b.push(
            strings,
            r.emulated,
            r.repetition,
            r.guest,
            r.n_guests,
            r.value,
        );
    }
    b.c
}

/// The columns of `parts`, in order, as one frame with the schema of
/// [`crate::frame::combined_schema`].
pub fn assemble(parts: &[Columns]) -> PolarsResult<DataFrame> {
    let rows: usize = parts.iter().map(Columns::len).sum();
    let strings = |i: usize| {
        let mut b = StringChunkedBuilder::new(STRINGS[i].into(), rows);
        for p in parts {
            for &k in &p.codes[i] {
                match p.dict.get(k as usize) {
                    Some(s) if k != NULL => b.append_value(s),
                    _ => b.append_null(),
                }
            }
        }
        b.finish().into_column()
    };
    let lineage = |i: usize| {
        let mut b = StringChunkedBuilder::new(crate::frame::LINEAGE[i].into(), rows);
        for p in parts {
            for _ in 0..p.len() {
                b.append_value(&p.lineage[i]);
            }
        }
        b.finish().into_column()
    };
    let flat =
        |f: fn(&Columns) -> &[Option<u32>]| parts.iter().flat_map(move |p| f(p).iter().copied());
    let emulated: Vec<bool> = parts
        .iter()
        .flat_map(|p| p.emulated.iter().copied())
        .collect();
    let repetition: Vec<u32> = parts
        .iter()
        .flat_map(|p| p.repetition.iter().copied())
        .collect();
    let columns = vec![
        strings(0),
        strings(1),
        BooleanChunked::from_slice("emulated".into(), &emulated).into_column(),
        strings(2),
        strings(3),
        strings(4),
        strings(5),
        strings(6),
        UInt32Chunked::from_vec("repetition".into(), repetition).into_column(),
        UInt32Chunked::from_iter_options("guest".into(), flat(|p| &p.guest)).into_column(),
        UInt32Chunked::from_iter_options("n_guests".into(), flat(|p| &p.n_guests)).into_column(),
        strings(7),
        strings(8),
        strings(9),
        Float64Chunked::from_iter_options(
            "value".into(),
            parts.iter().flat_map(|p| p.value.iter().copied()),
        )
        .into_column(),
        strings(10),
        lineage(0),
        lineage(1),
        lineage(2),
    ];
    DataFrame::new(rows, columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"platform":"kvm","accel":"tcg","emulated":true,"experiment":"isolation","workload":"web","metric":"good_rate","unit":"req/s","direction":"higher","repetition":2,"guest":1,"n_guests":2,"stressor":"memory","role":"normal","status":"ok","value":1011.0099999999999,"run":"runs/kvm/isolation/memory/rep-02/guest-1"}"#;

    #[test]
    fn values_read_back_bit_for_bit_with_the_combined_schema() {
        let text = format!(
            "{LINE}\n{}\n",
            LINE.replace(
                "\"ok\",\"value\":1011.0099999999999",
                "\"dnr\",\"value\":null"
            )
        );
        let c = parse(text.as_bytes(), "id", "label", "host").expect("parse");
        let df = assemble(&[c.clone(), c]).expect("frame");
        assert_eq!(df.height(), 4);
        assert_eq!(df.schema().as_ref(), &crate::frame::combined_schema());
        let values: Vec<Option<f64>> = df
            .column("value")
            .expect("value")
            .f64()
            .expect("f64")
            .iter()
            .collect();
        // 1010 * 1.001 as collect writes it (shortest round-trip text): exact.
        assert_eq!(
            values,
            [
                Some(1_011.009_999_999_999_9),
                None,
                Some(1_011.009_999_999_999_9),
                None
            ]
        );
        let status = df
            .column("status")
            .expect("status")
            .str()
            .expect("str")
            .get(1);
        assert_eq!(status, Some("dnr"));
        assert_eq!(
            df.column("host").expect("host").str().expect("str").get(3),
            Some("host")
        );
        // The reader's parsed rows give the same frame.
        let rows = benchvm_format::metrics::parse(text.as_bytes()).expect("rows");
        let part = from_rows(&rows, "id", "label", "host");
        let again = assemble(&[part.clone(), part]).expect("frame");
        assert!(again.equals_missing(&df), "{again}\n{df}");
    }
}
