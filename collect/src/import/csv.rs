//! The CSV long format (`collect/IMPORT.md`): a header row naming columns
//! of the metrics table (SPEC.md §7), then one row per value. The `run`
//! column is the importer's: every row's `run` is the source's path inside
//! the bundle. Rows pass the same validation as collected metrics; an error
//! names the line and column.

use std::collections::HashMap;

use benchvm_format::metrics::{Direction, MetricRow, Role, Status, Unit};
use serde::de::DeserializeOwned;

use super::error::{ImportError, Location};
use super::meta::ImportMeta;
use super::rows::{check_table, Key};

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

/// Isolation phases a `stressor` cell may name (SPEC.md §7).
pub const STRESSORS: [&str; 7] = [
    "none",
    "memory",
    "fork",
    "cpu",
    "disk",
    "net-receive",
    "net-send",
];

/// Experiment of a row whose file has no `experiment` column or an empty cell.
pub const DEFAULT_EXPERIMENT: &str = "overall";

/// Parses the CSV bytes of `file` into validated rows whose `run` is `run`,
/// with the platforms described by the metadata file `meta_file`.
pub fn parse(
    file: &str,
    bytes: &[u8],
    (meta_file, meta): (&str, &ImportMeta),
    run: &str,
) -> Result<Vec<MetricRow>, ImportError> {
    // Spreadsheets often write a byte order mark first.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // The header is read as a record, so it has a position (comment lines
    // may come before it).
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .trim(::csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(bytes);
    let mut records = reader.records();
    let header = match records.next() {
        Some(h) => h.map_err(|e| csv_error(file, bytes, &e))?,
        None => return Err(ImportError::file(file, "empty: no header row")),
    };
    let line = line_of(bytes, header.position());
    let columns = Columns::of(file, line, &header)?;
    let mut rows = Vec::new();
    let mut keys: HashMap<Key, usize> = HashMap::new();
    let mut lines = Vec::new();
    for record in records {
        let record = record.map_err(|e| csv_error(file, bytes, &e))?;
        let line = line_of(bytes, record.position());
        let cells = Cells {
            file,
            line,
            columns: &columns,
            record: &record,
        };
        let row = cells.row(meta, run)?;
        if let Some(first) = keys.insert(Key::of(&row), line) {
            return Err(ImportError::at(
                cells.location(None),
                format!("the same value as line {first} (platform, experiment, workload, metric, repetition, guest, n_guests, stressor and role all equal)"),
            ));
        }
        rows.push(row);
        lines.push(line);
    }
    check_table(file, meta_file, &rows, &lines, meta)?;
    Ok(rows)
}

/// The line a record starts on. The reader's position of a record that
/// follows comment or blank lines is that of the first of them, so those
/// are skipped here.
fn line_of(bytes: &[u8], position: Option<&::csv::Position>) -> usize {
    let Some(p) = position else { return 0 };
    let (mut offset, mut line) = (p.byte() as usize, p.line() as usize);
    while let Some(rest) = bytes.get(offset..).filter(|r| !r.is_empty()) {
        let end = rest.iter().position(|&b| b == b'\n');
        let text = &rest[..end.unwrap_or(rest.len())];
        let skipped = text.is_empty() || text == b"\r" || text.starts_with(b"#");
        match end {
            Some(end) if skipped => {
                offset += end + 1;
                line += 1;
            }
            _ => break,
        }
    }
    line
}

fn csv_error(file: &str, bytes: &[u8], e: &::csv::Error) -> ImportError {
    let reason = match e.kind() {
        ::csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields, but the header has {expected_len}"),
        ::csv::ErrorKind::Utf8 { err, .. } => {
            format!("field {} is not valid UTF-8", err.field() + 1)
        }
        _ => e.to_string(),
    };
    match e.position() {
        Some(p) => ImportError::at(
            Location {
                file: file.to_owned(),
                line: line_of(bytes, Some(p)),
                column: None,
            },
            reason,
        ),
        None => ImportError::file(file, reason),
    }
}

/// Where each known column sits in the file.
#[derive(Debug)]
struct Columns {
    index: HashMap<&'static str, usize>,
}

impl Columns {
    fn of(file: &str, line: usize, header: &::csv::StringRecord) -> Result<Self, ImportError> {
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
    record: &'a ::csv::StringRecord,
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
        self.record.get(i).filter(|s| !s.is_empty())
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
        let unit: Unit = self.variant("unit", self.required("unit")?)?;
        let direction: Direction = self.variant("direction", self.required("direction")?)?;
        let status: Status = match self.get("status") {
            Some(s) => self.variant("status", s)?,
            None => Status::Ok,
        };
        let role: Option<Role> = self
            .get("role")
            .map(|r| self.variant("role", r))
            .transpose()?;
        let stressor = self.get("stressor");
        if let Some(s) = stressor.filter(|s| !STRESSORS.contains(s)) {
            return Err(self.fail(
                "stressor",
                format!(
                    "unknown stressor `{s}`; stressors are {}",
                    STRESSORS.join(", ")
                ),
            ));
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
            guest: self.count("guest")?,
            n_guests: self.count("n_guests")?,
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
    use crate::import::meta;

    const META: &str = include_str!("../../tests/data/import/meta.toml");
    const HEADER: &str = "platform,workload,metric,unit,direction,repetition,value\n";

    fn import(text: &str) -> Result<Vec<MetricRow>, ImportError> {
        let meta = meta::parse("meta.toml", META).expect("fixture metadata");
        parse(
            "r.csv",
            text.as_bytes(),
            ("meta.toml", &meta),
            "import/source.csv",
        )
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
