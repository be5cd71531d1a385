//! The metrics table an import derives, checked row by row as the source
//! streams through it, whatever the format:
//!
//! - every row passes [`MetricRow::validate`];
//! - no two rows are one value (same platform, accel, experiment, workload,
//!   metric, repetition, guest, n_guests, stressor and role);
//! - one unit and one direction per (experiment, workload, metric);
//! - at most [`MAX_ROWS`] rows (the limits table, SPEC.md §9.2).
//!
//! Rows go on to a [`RowOut`] at once (a file while importing, a comparison
//! with the bundle's table while re-deriving), so memory does not grow with
//! the rows: what is kept per row is a 128-bit fingerprint of its key and
//! its line.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;

use benchvm_format::limits::MAX_ROWS;
use benchvm_format::metrics::{Direction, MetricRow, Status, Unit};

use super::error::{ImportError, Location};

/// Where the rows of a table go.
pub trait RowOut {
    /// Takes the next row; an error stops the import with its text.
    fn put(&mut self, row: &MetricRow) -> Result<(), String>;
}

/// Rows written as `metrics.ndjson` lines.
#[derive(Debug)]
pub struct Ndjson<W: Write>(pub W);

impl<W: Write> RowOut for Ndjson<W> {
    fn put(&mut self, row: &MetricRow) -> Result<(), String> {
        serde_json::to_writer(&mut self.0, row).map_err(|e| e.to_string())?;
        self.0.write_all(b"\n").map_err(|e| e.to_string())
    }
}

/// Rows kept in memory (tests and the fuzz targets).
impl RowOut for Vec<MetricRow> {
    fn put(&mut self, row: &MetricRow) -> Result<(), String> {
        self.push(row.clone());
        Ok(())
    }
}

/// The checks over the whole table, and where its rows go.
pub struct Table<'a> {
    file: String,
    /// What a position counts when it is not a line (`value` for JSON
    /// sources, whose values have no line of their own).
    noun: Option<&'static str>,
    out: &'a mut dyn RowOut,
    keys: HashMap<u128, usize>,
    measures: HashMap<(String, String, String), (Unit, Direction, usize)>,
    platforms: Vec<String>,
    rows: usize,
    ok: usize,
}

impl std::fmt::Debug for Table<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("file", &self.file)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

/// What a finished table holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub rows: usize,
    /// Rows whose status is `ok`.
    pub ok: usize,
    /// Platforms in the order the rows first name them.
    pub platforms: Vec<String>,
}

impl<'a> Table<'a> {
    /// A table of rows from the source `file` (named in errors).
    pub fn new(file: &str, out: &'a mut dyn RowOut) -> Self {
        Table {
            file: file.to_owned(),
            noun: None,
            out,
            keys: HashMap::new(),
            measures: HashMap::new(),
            platforms: Vec::new(),
            rows: 0,
            ok: 0,
        }
    }

    /// Positions count `noun`s (1-based, in the source's order), not lines.
    pub fn counting(mut self, noun: &'static str) -> Self {
        self.noun = Some(noun);
        self
    }

    fn fail(&self, position: usize, reason: String) -> ImportError {
        match self.noun {
            Some(noun) => ImportError::file(&self.file, format!("{noun} {position}: {reason}")),
            None => ImportError::at(
                Location {
                    file: self.file.clone(),
                    line: position,
                    column: None,
                },
                reason,
            ),
        }
    }

    fn noun(&self) -> &'static str {
        self.noun.unwrap_or("line")
    }

    /// Adds `row`, which comes from `line` of the source.
    pub fn push(&mut self, row: MetricRow, line: usize) -> Result<(), ImportError> {
        row.validate().map_err(|reason| self.fail(line, reason))?;
        if self.rows >= MAX_ROWS {
            return Err(self.fail(
                line,
                format!("more than {MAX_ROWS} values, the limit of a bundle's metrics table (SPEC.md §9.2); split the source"),
            ));
        }
        if let Some(first) = self.keys.insert(fingerprint(&row), line) {
            return Err(self.fail(
                line,
                format!("the same value as {} {first}: {} {} {} of platform {} repetition {} (platform, experiment, workload, metric, repetition, guest, n_guests, stressor and role all equal)", self.noun(), row.experiment, row.workload, row.metric, row.platform, row.repetition),
            ));
        }
        let measure = (
            row.experiment.clone(),
            row.workload.clone(),
            row.metric.clone(),
        );
        match self.measures.get(&measure) {
            Some((unit, direction, first)) if *unit != row.unit || *direction != row.direction => {
                return Err(self.fail(
                    line,
                    format!(
                        "{} {} is in {} ({} is better) here but in {unit} ({} is better) on {} {first}: one measure has one unit and one direction",
                        row.workload,
                        row.metric,
                        row.unit,
                        direction_name(row.direction),
                        direction_name(*direction),
                        self.noun(),
                    ),
                ));
            }
            Some(_) => {}
            None => {
                self.measures
                    .insert(measure, (row.unit.clone(), row.direction, line));
            }
        }
        if !self.platforms.contains(&row.platform) {
            self.platforms.push(row.platform.clone());
        }
        self.out
            .put(&row)
            .map_err(|reason| ImportError::Output { reason })?;
        self.rows += 1;
        if row.status == Status::Ok {
            self.ok += 1;
        }
        Ok(())
    }

    /// The table once every row is in; a source without rows is refused.
    pub fn finish(self) -> Result<Written, ImportError> {
        if self.rows == 0 {
            return Err(ImportError::file(
                &self.file,
                "no values: the source holds no rows",
            ));
        }
        Ok(Written {
            rows: self.rows,
            ok: self.ok,
            platforms: self.platforms,
        })
    }
}

/// 128 bits of the row's key: two SipHash passes with different prefixes
/// (std's hasher with its fixed keys, so the same on every run). Two keys
/// that differ collide with probability about 2^-128 per pair.
fn fingerprint(r: &MetricRow) -> u128 {
    let pass = |seed: u8| {
        let mut h = DefaultHasher::new();
        seed.hash(&mut h);
        (
            &r.platform,
            &r.accel,
            &r.experiment,
            &r.workload,
            &r.metric,
            r.repetition,
            r.guest,
            r.n_guests,
            &r.stressor,
            r.role,
        )
            .hash(&mut h);
        h.finish()
    };
    (u128::from(pass(0)) << 64) | u128::from(pass(1))
}

pub fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::Higher => "higher",
        Direction::Lower => "lower",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts rows and keeps none.
    struct Discard(usize);

    impl RowOut for Discard {
        fn put(&mut self, _: &MetricRow) -> Result<(), String> {
            self.0 += 1;
            Ok(())
        }
    }

    fn row(repetition: u32) -> MetricRow {
        MetricRow {
            platform: "native".into(),
            accel: "none".into(),
            emulated: false,
            experiment: "overall".into(),
            workload: "cpu".into(),
            metric: "events_per_sec".into(),
            unit: Unit::EVENTS_PER_SECOND,
            direction: Direction::Higher,
            repetition,
            guest: None,
            n_guests: None,
            stressor: None,
            role: None,
            status: Status::Ok,
            value: Some(1.0),
            run: "import/source.csv".into(),
        }
    }

    #[test]
    fn the_row_limit_is_the_readers() {
        let mut out = Discard(0);
        let mut table = Table::new("big.csv", &mut out);
        for i in 0..MAX_ROWS {
            let rep = u32::try_from(i + 1).unwrap_or(u32::MAX);
            table.push(row(rep), i + 2).expect("within the limit");
        }
        let over = row(u32::try_from(MAX_ROWS + 1).unwrap_or(u32::MAX));
        let err = table.push(over, MAX_ROWS + 2).expect_err("over the limit");
        assert!(
            err.to_string().contains("more than 1000000 values"),
            "{err}"
        );
        assert!(err.to_string().starts_with("big.csv line 1000002"), "{err}");
    }

    #[test]
    fn one_value_twice_and_two_units_are_refused() {
        let mut out = Discard(0);
        let mut table = Table::new("r.csv", &mut out).counting("value");
        table.push(row(1), 1).expect("first");
        let twice = table.push(row(1), 2).expect_err("twice");
        assert!(
            twice
                .to_string()
                .contains("value 2: the same value as value 1"),
            "{twice}"
        );
        let mut other = row(2);
        other.unit = Unit::normalise("ops/s").expect("unit");
        let units = table.push(other, 3).expect_err("two units");
        assert!(units.to_string().contains("in ops/s"), "{units}");
        assert_eq!(table.finish().expect("rows").rows, 1);
    }
}
