//! The CSV long format (`collect/IMPORT.md`): a header row naming columns
//! of the metrics table (SPEC.md §7), then one row per value. The `run`
//! column is the importer's: every row's `run` is the source's path inside
//! the bundle. Rows pass the same validation as collected metrics; an error
//! names the line and column.
//!
//! The file is read as a stream, one record at a time: comment and blank
//! lines are dropped by [`Lines`] before the CSV reader sees them, which
//! keeps the original number of every line it passes on, so memory does
//! not grow with the file.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, Read};

use benchvm_format::metrics::{Direction, MetricRow, Role, Status, Unit};
use benchvm_format::stressor;
use serde::de::DeserializeOwned;

use super::error::{ImportError, Location};
use super::meta::ImportMeta;
use super::table::Table;

/// Every column the format knows, in the metrics table's order.
pub const COLUMNS: [&str; 15] = [
    "platform",
    "accel",
    "emulated",
    "experiment",
    "workload",
    "metric",
    "unit",
    "direction",
    "repetition",
    "guest",
    "n_guests",
    "stressor",
    "role",
    "status",
    "value",
];

/// Columns a file must have (the others have defaults, see IMPORT.md).
pub const REQUIRED: [&str; 7] = [
    "platform",
    "workload",
    "metric",
    "unit",
    "direction",
    "repetition",
    "value",
];

/// Experiment of a row whose file has no `experiment` column or an empty cell.
pub const DEFAULT_EXPERIMENT: &str = "overall";

/// Parses the CSV stream `input` of `file` into validated rows whose `run`
/// is `run`, with the platforms described by the metadata, into `table`.
pub fn parse(
    file: &str,
    input: &mut dyn BufRead,
    meta: &ImportMeta,
    run: &str,
    table: &mut Table,
) -> Result<(), ImportError> {
    let lines = Lines::new(input);
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(::csv::Trim::All)
        .terminator(::csv::Terminator::Any(b'\n'))
        .from_reader(lines);
    let mut record = ::csv::ByteRecord::new();
    let read = |reader: &mut ::csv::Reader<Lines>, record: &mut ::csv::ByteRecord| {
        let more = reader.read_byte_record(record).map_err(|e| {
            let line = e
                .position()
                .map_or(0, |p| reader.get_ref().original(p.line()));
            match reader.get_ref().error.borrow_mut().take() {
                Some(io) => ImportError::file(file, format!("reading: {io}")),
                None => ImportError::at(at(file, line), e.to_string()),
            }
        })?;
        let line = record
            .position()
            .map_or(0, |p| reader.get_ref().original(p.line()));
        reader
            .get_ref()
            .forget_before(record.position().map_or(0, |p| p.line()));
        Ok::<_, ImportError>(more.then_some(line))
    };
    let Some(line) = read(&mut reader, &mut record)? else {
        return Err(ImportError::file(file, "empty: no header row"));
    };
    let header = strings(file, line, &record)?;
    let columns = Columns::of(file, line, &header)?;
    while let Some(line) = read(&mut reader, &mut record)? {
        let cells = strings(file, line, &record)?;
        if cells.len() != header.len() {
            return Err(ImportError::at(
                at(file, line),
                format!(
                    "{} fields, but the header has {}",
                    cells.len(),
                    header.len()
                ),
            ));
        }
        let cells = Cells {
            file,
            line,
            columns: &columns,
            record: &cells,
        };
        let row = cells.row(meta, run)?;
        table.push(row, line)?;
    }
    Ok(())
}

fn at(file: &str, line: usize) -> Location {
    Location {
        file: file.to_owned(),
        line,
        column: None,
    }
}

/// The record's fields as text.
fn strings(
    file: &str,
    line: usize,
    record: &::csv::ByteRecord,
) -> Result<Vec<String>, ImportError> {
    record
        .iter()
        .enumerate()
        .map(|(i, f)| {
            std::str::from_utf8(f).map(str::to_owned).map_err(|_| {
                ImportError::at(
                    at(file, line),
                    format!("field {} is not valid UTF-8", i + 1),
                )
            })
        })
        .collect()
}

/// The source without its comment lines (`#` first) and blank lines, and
/// without a leading byte order mark; remembers the original number of each
/// line it passes on until told to forget it. A line inside a quoted field
/// (an odd count of quotes so far in the record) is always passed on.
struct Lines<'a> {
    inner: &'a mut dyn BufRead,
    line: Vec<u8>,
    pos: usize,
    in_quotes: bool,
    original: usize,
    /// Original numbers of passed-on lines `first..`.
    kept: std::cell::RefCell<VecDeque<usize>>,
    first: std::cell::Cell<u64>,
    started: bool,
    /// The read error, kept to name it (the CSV reader wraps it).
    error: std::cell::RefCell<Option<std::io::Error>>,
}

impl<'a> Lines<'a> {
    fn new(inner: &'a mut dyn BufRead) -> Self {
        Lines {
            inner,
            line: Vec::new(),
            pos: 0,
            in_quotes: false,
            original: 0,
            kept: std::cell::RefCell::new(VecDeque::new()),
            first: std::cell::Cell::new(1),
            started: false,
            error: std::cell::RefCell::new(None),
        }
    }

    /// Original number of passed-on line `n` (1-based).
    fn original(&self, n: u64) -> usize {
        let index = n.saturating_sub(self.first.get());
        let kept = self.kept.borrow();
        usize::try_from(index)
            .ok()
            .and_then(|i| kept.get(i).copied())
            .or_else(|| kept.back().copied())
            .unwrap_or(self.original)
    }

    /// Passed-on lines before `n` will not be asked about again.
    fn forget_before(&self, n: u64) {
        let mut kept = self.kept.borrow_mut();
        while self.first.get() < n && !kept.is_empty() {
            kept.pop_front();
            self.first.set(self.first.get() + 1);
        }
    }

    /// Fills `line` with the next line to pass on; false at the end.
    fn next_line(&mut self) -> std::io::Result<bool> {
        loop {
            self.line.clear();
            self.pos = 0;
            if self.inner.read_until(b'\n', &mut self.line)? == 0 {
                return Ok(false);
            }
            self.original += 1;
            if !self.started {
                self.started = true;
                if self.line.starts_with(b"\xEF\xBB\xBF") {
                    self.line.drain(..3);
                }
            }
            if !self.in_quotes {
                let text = self.line.trim_ascii();
                if text.is_empty() || text.starts_with(b"#") {
                    continue;
                }
            }
            let quotes = self.line.iter().filter(|&&b| b == b'"').count();
            self.in_quotes ^= quotes % 2 == 1;
            self.kept.borrow_mut().push_back(self.original);
            return Ok(true);
        }
    }
}

impl Read for Lines<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.line.len() {
            match self.next_line() {
                Ok(true) => {}
                Ok(false) => return Ok(0),
                Err(e) => {
                    let kind = e.kind();
                    let text = e.to_string();
                    *self.error.borrow_mut() = Some(e);
                    return Err(std::io::Error::new(kind, text));
                }
            }
        }
        let n = buf.len().min(self.line.len() - self.pos);
        buf[..n].copy_from_slice(&self.line[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Where each known column sits in the file.
#[derive(Debug)]
struct Columns {
    index: HashMap<&'static str, usize>,
}

impl Columns {
    fn of(file: &str, line: usize, header: &[String]) -> Result<Self, ImportError> {
        let mut index = HashMap::new();
        let at = |i: usize, name: &str| Location {
            file: file.to_owned(),
            line,
            column: Some((i + 1, name.to_owned())),
        };
        for (i, name) in header.iter().enumerate() {
            if name == "run" {
                return Err(ImportError::at(
                    at(i, name),
                    "column `run` is filled by the importer (the source file's path in the bundle): remove it",
                ));
            }
            let Some(known) = COLUMNS.iter().find(|c| **c == name) else {
                return Err(ImportError::at(
                    at(i, name),
                    format!(
                        "unknown column `{name}`; the columns are {}",
                        COLUMNS.join(", ")
                    ),
                ));
            };
            if index.insert(*known, i).is_some() {
                return Err(ImportError::at(
                    at(i, name),
                    format!("column `{name}` appears twice"),
                ));
            }
        }
        if let Some(missing) = REQUIRED.iter().find(|c| !index.contains_key(*c)) {
            let at = Location {
                file: file.to_owned(),
                line,
                column: None,
            };
            return Err(ImportError::at(
                at,
                format!(
                    "the header lacks the required column `{missing}` (required: {})",
                    REQUIRED.join(", ")
                ),
            ));
        }
        Ok(Columns { index })
    }
}

/// One data row, read cell by cell.
struct Cells<'a> {
    file: &'a str,
    line: usize,
    columns: &'a Columns,
    record: &'a [String],
}

impl Cells<'_> {
    fn location(&self, column: Option<&str>) -> Location {
        Location {
            file: self.file.to_owned(),
            line: self.line,
            column: column.and_then(|c| self.columns.index.get(c).map(|&i| (i + 1, c.to_owned()))),
        }
    }

    fn fail(&self, column: &str, reason: impl Into<String>) -> ImportError {
        ImportError::at(self.location(Some(column)), reason)
    }

    /// The cell of `column`, `None` when the file has no such column or the
    /// cell is empty.
    fn get(&self, column: &str) -> Option<&str> {
        let i = *self.columns.index.get(column)?;
        self.record
            .get(i)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    fn required(&self, column: &str) -> Result<&str, ImportError> {
        self.get(column)
            .ok_or_else(|| self.fail(column, format!("`{column}` is required and empty")))
    }

    /// A cell holding one of an enum's serde names (unit, direction...).
    fn variant<T: DeserializeOwned>(&self, column: &str, text: &str) -> Result<T, ImportError> {
        serde_json::from_value(serde_json::Value::String(text.to_owned()))
            .map_err(|e| self.fail(column, e.to_string()))
    }

    fn count(&self, column: &str) -> Result<Option<u32>, ImportError> {
        self.get(column)
            .map(|s| match s.parse::<u32>() {
                Ok(0) => Err(self.fail(column, format!("`{column}` starts at 1"))),
                Ok(n) => Ok(n),
                Err(_) => Err(self.fail(column, format!("{s:?} is not a whole number"))),
            })
            .transpose()
    }

    fn row(&self, meta: &ImportMeta, run: &str) -> Result<MetricRow, ImportError> {
        let platform = self.required("platform")?.to_owned();
        let Some(facts) = meta.platforms.get(&platform) else {
            return Err(self.fail(
                "platform",
                format!("platform `{platform}` is not described in the metadata (add [platforms.{platform}])"),
            ));
        };
        let accel = match self.get("accel") {
            Some(a) if a != facts.accel => {
                return Err(self.fail(
                    "accel",
                    format!(
                        "`{a}`, but the metadata says platform `{platform}` ran with accel `{}`",
                        facts.accel
                    ),
                ))
            }
            _ => facts.accel.clone(),
        };
        let emulated = match self.get("emulated") {
            None => facts.emulated,
            Some(text) => {
                let e = match text {
                    "true" => true,
                    "false" => false,
                    other => {
                        return Err(self.fail("emulated", format!("{other:?} is not true or false")))
                    }
                };
                if e != facts.emulated {
                    return Err(self.fail(
                        "emulated",
                        format!(
                            "{e}, but the metadata says platform `{platform}` has emulated = {}",
                            facts.emulated
                        ),
                    ));
                }
                e
            }
        };
        let unit = Unit::normalise(self.required("unit")?)
            .map_err(|e| self.fail("unit", e.to_string()))?;
        let direction: Direction = self.variant("direction", self.required("direction")?)?;
        let status: Status = match self.get("status") {
            Some(s) => self.variant("status", s)?,
            None => Status::Ok,
        };
        let role: Option<Role> = self
            .get("role")
            .map(|r| self.variant("role", r))
            .transpose()?;
        let stressor = match self.get("stressor") {
            None => None,
            Some(s) => Some(stressor::canonical(s).ok_or_else(|| {
                self.fail(
                    "stressor",
                    format!(
                        "unknown stressor `{s}`; stressors are {} and {} (the paper's names Memory, Fork, CPU, Disk, Network receiver and Network sender are accepted)",
                        stressor::BASELINE,
                        stressor::STRESSORS.join(", ")
                    ),
                )
            })?),
        };
        let (guest, n_guests) = (self.count("guest")?, self.count("n_guests")?);
        if facts.is_native() {
            for (column, given) in [("guest", guest), ("n_guests", n_guests)] {
                if given.is_some() {
                    return Err(self.fail(
                        column,
                        format!("platform `{platform}` is native (the metadata's accel is `none`): `{column}` is empty on native rows (SPEC.md §7)"),
                    ));
                }
            }
        }
        let repetition = self.required("repetition")?;
        let repetition = repetition.parse::<u32>().map_err(|_| {
            self.fail(
                "repetition",
                format!("{repetition:?} is not a whole number"),
            )
        })?;
        let value = self
            .get("value")
            .map(|v| match v.parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(x),
                Ok(_) => Err(self.fail("value", format!("{v:?} is not a finite number"))),
                Err(_) => Err(self.fail("value", format!("{v:?} is not a number"))),
            })
            .transpose()?;
        let row = MetricRow {
            platform,
            accel,
            emulated,
            experiment: self
                .get("experiment")
                .unwrap_or(DEFAULT_EXPERIMENT)
                .to_owned(),
            workload: self.required("workload")?.to_owned(),
            metric: self.required("metric")?.to_owned(),
            unit,
            direction,
            repetition,
            guest,
            n_guests,
            stressor: stressor.map(str::to_owned),
            role,
            status,
            value,
            run: run.to_owned(),
        };
        row.validate()
            .map_err(|reason| ImportError::at(self.location(Some(blame(&reason))), reason))?;
        Ok(row)
    }
}

/// The column a validation message of [`MetricRow::validate`] is about.
fn blame(reason: &str) -> &'static str {
    COLUMNS
        .iter()
        .find(|c| reason.contains(&format!("`{c}`")))
        .copied()
        .unwrap_or("value")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{derive, Format, Input};

    const META: &str = include_str!("../../tests/data/import/meta.toml");
    const HEADER: &str = "platform,workload,metric,unit,direction,repetition,value\n";

    fn import(text: &str) -> Result<Vec<MetricRow>, ImportError> {
        let mut rows = Vec::new();
        let mut source = text.as_bytes();
        derive(
            Input {
                format: Format::Csv,
                source_name: "r.csv",
                source: &mut source,
                meta: Some(("meta.toml", META.as_bytes())),
                system: None,
            },
            &mut rows,
        )?;
        Ok(rows)
    }

    fn err(text: &str) -> String {
        import(text).expect_err("refused").to_string()
    }

    #[test]
    fn defaults_come_from_the_metadata() {
        let rows = import(&format!(
            "{HEADER}native,cpu,events_per_sec,events/s,higher,1,10\nkvm,cpu,events_per_sec,events/s,higher,1,9.5\n"
        ))
        .expect("valid");
        assert_eq!(rows[1].accel, "kvm");
        assert_eq!(rows[1].experiment, DEFAULT_EXPERIMENT);
        assert_eq!((rows[1].status, rows[1].value), (Status::Ok, Some(9.5)));
        assert_eq!((rows[1].guest, rows[1].stressor.as_deref()), (None, None));
    }

    #[test]
    fn byte_order_mark_and_crlf_are_read() {
        let text = format!("\u{feff}{HEADER}native,cpu,e,events/s,higher,1,10\r\nkvm,cpu,e,events/s,higher,1,9\r\n")
            .replace("value\n", "value\r\n");
        let rows = import(&text).expect("valid");
        assert_eq!(rows[1].value, Some(9.0));
    }

    #[test]
    fn lines_count_comments_and_blank_lines() {
        let text = format!(
            "# a comment\n\n{HEADER}native,cpu,events_per_sec,events/s,higher,1,10\n# another\n\nkvm,cpu,events_per_sec,events/s,higher,1,oops\n"
        );
        assert!(
            err(&text).starts_with("r.csv line 7, column 7 (value)"),
            "{}",
            err(&text)
        );
    }

    #[test]
    fn a_short_row_is_named() {
        let text = format!("{HEADER}native,cpu,e,events/s,higher,1,10\n# note\nkvm,cpu,e\n");
        assert!(
            err(&text).starts_with("r.csv line 4: 3 fields, but the header has 7"),
            "{}",
            err(&text)
        );
    }

    #[test]
    fn table_faults_name_both_lines() {
        let one = "native,cpu,events_per_sec,events/s,higher,1,10\n";
        let dup = err(&format!("{HEADER}{one}{one}"));
        assert!(
            dup.contains("r.csv line 3") && dup.contains("line 2"),
            "{dup}"
        );
        let mixed = err(&format!(
            "{HEADER}{one}kvm,cpu,events_per_sec,req/s,higher,1,10\n"
        ));
        assert!(
            mixed.contains("r.csv line 3") && mixed.contains("on line 2"),
            "{mixed}"
        );
    }

    #[test]
    fn header_and_platform_faults() {
        let run = err("platform,workload,metric,unit,direction,repetition,value,run\n");
        assert!(run.contains("line 1, column 8 (run)"), "{run}");
        let missing = err("platform,workload,metric,unit,direction,value\n");
        assert!(
            missing.contains("required column `repetition`"),
            "{missing}"
        );
        let accel = err(
            "platform,accel,workload,metric,unit,direction,repetition,value\nkvm,tcg,cpu,e,events/s,higher,1,1\n",
        );
        assert!(accel.contains("line 2, column 2 (accel)"), "{accel}");
        let zero = err(&format!("{HEADER}native,cpu,e,events/s,higher,0,1\n"));
        assert!(zero.contains("column 6 (repetition)"), "{zero}");
        let stressor = err(
            "platform,workload,metric,unit,direction,repetition,stressor,value\nnative,cpu,e,events/s,higher,1,noise,1\n",
        );
        assert!(
            stressor.contains("line 2, column 7 (stressor)"),
            "{stressor}"
        );
        let unused = err(&format!("{HEADER}native,cpu,e,events/s,higher,1,1\n"));
        assert!(unused.contains("key `platforms.kvm`"), "{unused}");
    }
}
