//! `metrics.ndjson`: the tidy metrics table, one JSON object per line and one
//! line per measured value (SPEC.md, "Metrics table").

use serde::{Deserialize, Serialize};

use crate::error::MetricsError;

/// Name of the metrics entry.
pub const METRICS_PATH: &str = "metrics.ndjson";

/// Whether a larger value is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Higher,
    Lower,
}

/// How a measurement ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Measured; `value` holds the number.
    Ok,
    /// The tool ran but failed or its output could not be parsed.
    Failed,
    /// "Did not return": the guest crashed, hung or never answered.
    Dnr,
}

/// The guest's part in an isolation phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Stressed,
    Normal,
}

pub use crate::unit::Unit;

/// One measured value and everything needed to place it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricRow {
    /// `native`, `kvm` or `xen` (or an imported platform's name).
    pub platform: String,
    /// Accelerator really used: `none` (native), `kvm`, `tcg`, `xen-pv`, `xen-pvh`.
    pub accel: String,
    /// True when the platform itself ran under software emulation (TCG, or a
    /// Xen host inside QEMU): its numbers are not hardware numbers.
    pub emulated: bool,
    /// `overall`, `isolation` or `scalability`.
    pub experiment: String,
    pub workload: String,
    pub metric: String,
    pub unit: Unit,
    pub direction: Direction,
    /// 1-based repetition number (warm-ups are not in the table).
    pub repetition: u32,
    /// 1-based guest number; absent on native.
    pub guest: Option<u32>,
    /// Guests running at once; absent on native.
    pub n_guests: Option<u32>,
    /// Stressor of an isolation phase (`none` for the baseline).
    pub stressor: Option<String>,
    pub role: Option<Role>,
    pub status: Status,
    /// The number when `status` is `ok`; null otherwise.
    pub value: Option<f64>,
    /// Folder under `runs/` holding this value's raw logs.
    pub run: String,
}

impl MetricRow {
    /// Checks what the types alone cannot.
    pub fn validate(&self) -> Result<(), String> {
        for (name, value) in [
            ("platform", &self.platform),
            ("accel", &self.accel),
            ("experiment", &self.experiment),
            ("workload", &self.workload),
            ("metric", &self.metric),
        ] {
            if !is_name(value) {
                return Err(format!(
                    "`{name}` {value:?} must be 1-64 characters of [a-z0-9_.-]"
                ));
            }
        }
        if self.repetition == 0 {
            return Err("`repetition` starts at 1".into());
        }
        if self.guest == Some(0) || self.n_guests == Some(0) {
            return Err("`guest` and `n_guests` start at 1".into());
        }
        match (self.status, self.value) {
            (Status::Ok, None) => return Err("status ok needs a value".into()),
            (Status::Ok, Some(v)) if !v.is_finite() => {
                return Err(format!("value {v} is not a finite number"));
            }
            (Status::Ok, Some(v)) if v < 0.0 && self.unit.is_duration() => {
                return Err(format!("negative duration {v} {}", self.unit));
            }
            (Status::Failed | Status::Dnr, Some(_)) => {
                return Err("a failed or dnr row has no value (null)".into());
            }
            _ => {}
        }
        Ok(())
    }
}

fn is_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-'))
}

/// Parses and validates `metrics.ndjson` bytes. Empty lines are not allowed;
/// the last line ends with `\n`.
pub fn parse(bytes: &[u8]) -> Result<Vec<MetricRow>, MetricsError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        MetricsError {
            line,
            reason: "not valid UTF-8".into(),
        }
    })?;
    if !text.is_empty() && !text.ends_with('\n') {
        let line = text.lines().count();
        return Err(MetricsError {
            line,
            reason: "last line does not end with a newline".into(),
        });
    }
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            if i >= crate::limits::MAX_ROWS {
                return Err(MetricsError {
                    line: i + 1,
                    reason: format!(
                        "more than {} rows, the limit (SPEC.md §9.2)",
                        crate::limits::MAX_ROWS
                    ),
                });
            }
            let fail = |reason: String| MetricsError {
                line: i + 1,
                reason,
            };
            let row: MetricRow = serde_json::from_str(line).map_err(|e| fail(e.to_string()))?;
            row.validate().map_err(fail)?;
            Ok(row)
        })
        .collect()
}

/// Serializes rows, one per line, in the given order.
pub fn to_ndjson(rows: &[MetricRow]) -> Vec<u8> {
    let mut out = Vec::new();
    for row in rows {
        // A row holds only strings, integers, finite floats and enums.
        if serde_json::to_writer(&mut out, row).is_ok() {
            out.push(b'\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values written and read back are the same f64 to the last bit
    /// (serde_json's `float_roundtrip`; its default parser can be 1 ulp
    /// off, which `analyze verify --rederive` reports as a forged value).
    #[test]
    fn values_survive_a_round_trip_bit_for_bit() {
        let values = [
            596.0 / 600.0 * 100.0,
            1.0 / 3.0,
            0.1 + 0.2,
            123_456.789_012_345_67,
            f64::MIN_POSITIVE,
            2.0_f64.sqrt() * 1e22,
        ];
        let rows: Vec<MetricRow> = values
            .iter()
            .map(|v| MetricRow {
                value: Some(*v),
                ..row()
            })
            .collect();
        let back = parse(&to_ndjson(&rows)).expect("parse");
        for (v, r) in values.iter().zip(&back) {
            assert_eq!(r.value.map(f64::to_bits), Some(v.to_bits()), "{v:e}");
        }
    }

    pub(crate) fn row() -> MetricRow {
        MetricRow {
            platform: "native".into(),
            accel: "none".into(),
            emulated: false,
            experiment: "overall".into(),
            workload: "cpu".into(),
            metric: "events_per_sec".into(),
            unit: Unit::EVENTS_PER_SECOND,
            direction: Direction::Higher,
            repetition: 1,
            guest: None,
            n_guests: None,
            stressor: None,
            role: None,
            status: Status::Ok,
            value: Some(1661.25),
            run: "runs/native/overall/cpu/rep-01".into(),
        }
    }

    #[test]
    fn round_trip() {
        let mut dnr = row();
        dnr.status = Status::Dnr;
        dnr.value = None;
        let rows = vec![row(), dnr];
        assert_eq!(parse(&to_ndjson(&rows)).expect("parse"), rows);
    }

    #[test]
    fn hostile_values_are_validation_errors() {
        let good = String::from_utf8(to_ndjson(&[row()])).expect("utf8");
        let cases = [
            (good.replace("1661.25", "NaN"), "expected value"),
            (good.replace("1661.25", "1e999"), "out of range"),
            (
                good.replace("\"events/s\"", "\"Events Per Second\""),
                "is written \"events/s\" in a bundle",
            ),
            (
                good.replace("\"events/s\"", "\"events\\ts\""),
                "control or invisible character",
            ),
            (good.replace("\"ok\"", "\"meh\""), "unknown variant `meh`"),
            (good.replace("1661.25", "null"), "status ok needs a value"),
            (
                good.replace("\"events/s\"", "\"s\"")
                    .replace("1661.25", "-3.0"),
                "negative duration",
            ),
            (good.replace("\"cpu\"", "\"CPU!\""), "`workload`"),
            (good.trim_end().to_owned(), "newline"),
        ];
        for (text, expected) in cases {
            let err = parse(text.as_bytes()).expect_err(expected);
            assert_eq!(err.line, 1);
            assert!(
                err.reason.contains(expected),
                "{} lacks {expected:?}",
                err.reason
            );
        }
    }
}
