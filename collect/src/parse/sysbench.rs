//! sysbench's text report (sysbench 1.0.x).
//!
//! The report is read by labelled lines, `label: value`. Only complete lines
//! (ending in a newline) count, so a value cut short by truncation is never
//! read; and the `sum:` line that closes the `Latency (ms):` section must be
//! present, so output truncated before it is an error rather than a report
//! with values missing.

use super::{non_negative, ParseError, Tool};

const TOOL: Tool = Tool::Sysbench;

const THREADS: &str = "Number of threads:";
const EVENTS_PER_SECOND: &str = "events per second:";
const TOTAL_TIME: &str = "total time:";
const TOTAL_EVENTS: &str = "total number of events:";
const LATENCY_HEADER: &str = "Latency (ms):";
const AVG: &str = "avg:";
const P95: &str = "95th percentile:";
const SUM: &str = "sum:";

/// The result of `sysbench cpu ... run`.
#[derive(Debug, Clone, PartialEq)]
pub struct SysbenchCpu {
    /// "events per second:".
    pub events_per_second: f64,
    /// "total time:", in seconds.
    pub total_time_s: f64,
    /// "total number of events:".
    pub total_events: u64,
    /// "Number of threads:".
    pub threads: u32,
    /// "avg:" of the `Latency (ms):` section, in milliseconds.
    pub latency_avg_ms: f64,
    /// "95th percentile:" of the `Latency (ms):` section, in milliseconds;
    /// `None` when sysbench did not print it (`--percentile=0` prints
    /// "percentile stats: disabled", other percentiles print another label).
    pub latency_p95_ms: Option<f64>,
}

/// The raw text of each value, as found.
#[derive(Debug, Default)]
struct Found<'a> {
    threads: Option<&'a str>,
    events_per_second: Option<&'a str>,
    total_time: Option<&'a str>,
    total_events: Option<&'a str>,
    avg: Option<&'a str>,
    p95: Option<&'a str>,
    sum: Option<&'a str>,
}

/// Parses the stdout of `sysbench cpu ... run`.
pub fn cpu(stdout: &str) -> Result<SysbenchCpu, ParseError> {
    if stdout.trim().is_empty() {
        return Err(ParseError::Empty { tool: TOOL });
    }
    let found = scan(stdout)?;

    let threads = integer(THREADS, required(found.threads, THREADS)?)?;
    let events_per_second = number(
        EVENTS_PER_SECOND,
        required(found.events_per_second, EVENTS_PER_SECOND)?,
    )?;
    let total_time_s = seconds(TOTAL_TIME, required(found.total_time, TOTAL_TIME)?)?;
    let total_events = integer(TOTAL_EVENTS, required(found.total_events, TOTAL_EVENTS)?)?;
    let latency_avg_ms = number(AVG, required(found.avg, AVG)?)?;
    let latency_p95_ms = found.p95.map(|text| number(P95, text)).transpose()?;
    let Some(sum) = found.sum else {
        return Err(ParseError::Missing {
            tool: TOOL,
            what: format!("{SUM:?} closing the {LATENCY_HEADER:?} section (truncated output?)"),
        });
    };
    number(SUM, sum)?;

    Ok(SysbenchCpu {
        events_per_second,
        total_time_s,
        total_events,
        threads,
        latency_avg_ms,
        latency_p95_ms,
    })
}

/// Collects the values of the labels of interest from the complete lines.
fn scan(stdout: &str) -> Result<Found<'_>, ParseError> {
    let mut found = Found::default();
    let mut in_latency = false;
    let complete_lines = stdout
        .split_inclusive('\n')
        .filter_map(|line| line.strip_suffix('\n'))
        .map(|line| line.strip_suffix('\r').unwrap_or(line));
    for line in complete_lines {
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        // Section headers are not indented; the values under them are.
        if !line.starts_with(char::is_whitespace) {
            in_latency = text == LATENCY_HEADER;
        }
        let Some((label, value)) = text.split_once(':') else {
            continue;
        };
        let (slot, label) = match (label, in_latency) {
            ("Number of threads", _) => (&mut found.threads, THREADS),
            ("events per second", _) => (&mut found.events_per_second, EVENTS_PER_SECOND),
            ("total time", _) => (&mut found.total_time, TOTAL_TIME),
            ("total number of events", _) => (&mut found.total_events, TOTAL_EVENTS),
            ("avg", true) => (&mut found.avg, AVG),
            ("95th percentile", true) => (&mut found.p95, P95),
            ("sum", true) => (&mut found.sum, SUM),
            _ => continue,
        };
        if slot.is_some() {
            return Err(ParseError::Duplicate {
                tool: TOOL,
                what: format!("{label:?}"),
            });
        }
        *slot = Some(value.trim());
    }
    Ok(found)
}

fn required<'a>(value: Option<&'a str>, label: &str) -> Result<&'a str, ParseError> {
    value.ok_or_else(|| ParseError::Missing {
        tool: TOOL,
        what: format!("{label:?}"),
    })
}

fn malformed(label: &str, text: &str) -> ParseError {
    ParseError::Malformed {
        tool: TOOL,
        what: format!("{label:?}"),
        found: text.to_owned(),
    }
}

/// A finite, non-negative decimal number.
fn number(label: &str, text: &str) -> Result<f64, ParseError> {
    let value: f64 = text.parse().map_err(|_| malformed(label, text))?;
    non_negative(TOOL, &format!("{label:?}"), value)
}

/// A duration in seconds, like `10.0012s` (the unit is optional).
fn seconds(label: &str, text: &str) -> Result<f64, ParseError> {
    let bare = text.strip_suffix('s').unwrap_or(text).trim_end();
    number(label, bare).map_err(|err| match err {
        ParseError::Malformed { tool, what, .. } => ParseError::Malformed {
            tool,
            what,
            found: text.to_owned(),
        },
        other => other,
    })
}

/// A non-negative integer that fits `T`.
fn integer<T: TryFrom<u64>>(label: &str, text: &str) -> Result<T, ParseError> {
    match text.parse::<u64>() {
        Ok(n) => T::try_from(n).map_err(|_| malformed(label, text)),
        Err(_) => match text.parse::<f64>() {
            Ok(v) if !v.is_finite() || v < 0.0 => Err(ParseError::OutOfRange {
                tool: TOOL,
                what: format!("{label:?}"),
                found: text.to_owned(),
            }),
            _ => Err(malformed(label, text)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::test_util::{half, prefixes, GARBAGE};

    const T1_EVENTS: &str = include_str!("../../testdata/sysbench_cpu_t1_events.txt");
    const T2_EVENTS: &str = include_str!("../../testdata/sysbench_cpu_t2_events.txt");
    const T1_TIME2: &str = include_str!("../../testdata/sysbench_cpu_t1_time2.txt");
    const NO_PERCENTILE: &str = include_str!("../../testdata/sysbench_cpu_no_percentile.txt");
    const ALL: [&str; 4] = [T1_EVENTS, T2_EVENTS, T1_TIME2, NO_PERCENTILE];

    /// `src` with the first `from` replaced by `to`; `from` must be there.
    fn edit(src: &str, from: &str, to: &str) -> String {
        assert!(src.contains(from), "{from:?} not in the sample");
        src.replacen(from, to, 1)
    }

    #[test]
    fn real_one_thread_fixed_events() {
        let r = cpu(T1_EVENTS).expect("parses");
        assert_eq!(
            r,
            SysbenchCpu {
                events_per_second: 50623.29,
                total_time_s: 0.0386,
                total_events: 2000,
                threads: 1,
                latency_avg_ms: 0.02,
                latency_p95_ms: Some(0.02),
            }
        );
    }

    #[test]
    fn real_two_threads_fixed_events() {
        let r = cpu(T2_EVENTS).expect("parses");
        assert_eq!(
            r,
            SysbenchCpu {
                events_per_second: 98578.21,
                total_time_s: 0.0194,
                total_events: 2000,
                threads: 2,
                latency_avg_ms: 0.02,
                latency_p95_ms: Some(0.02),
            }
        );
    }

    #[test]
    fn real_time_limited() {
        let r = cpu(T1_TIME2).expect("parses");
        assert_eq!(
            r,
            SysbenchCpu {
                events_per_second: 52987.91,
                total_time_s: 2.0001,
                total_events: 106028,
                threads: 1,
                latency_avg_ms: 0.02,
                latency_p95_ms: Some(0.02),
            }
        );
    }

    #[test]
    fn real_percentile_disabled_has_no_p95() {
        let r = cpu(NO_PERCENTILE).expect("parses");
        assert_eq!(
            r,
            SysbenchCpu {
                events_per_second: 47596.63,
                total_time_s: 0.0096,
                total_events: 500,
                threads: 1,
                latency_avg_ms: 0.02,
                latency_p95_ms: None,
            }
        );
    }

    #[test]
    fn seconds_unit_and_other_labels() {
        let s = edit(T1_TIME2, "2.0001s", "10.0012s");
        assert_eq!(cpu(&s).expect("parses").total_time_s, 10.0012);
        let s = edit(T1_TIME2, "2.0001s", "10.0012");
        assert_eq!(cpu(&s).expect("parses without unit").total_time_s, 10.0012);
        let s = edit(T1_TIME2, "95th percentile:", "99th percentile:");
        assert_eq!(cpu(&s).expect("parses").latency_p95_ms, None);
    }

    #[test]
    fn crlf_line_endings() {
        let s = T2_EVENTS.replace('\n', "\r\n");
        assert_eq!(cpu(&s).expect("parses"), cpu(T2_EVENTS).expect("parses"));
    }

    #[test]
    fn avg_outside_latency_section_is_ignored() {
        let s = format!("avg: 99\n{T1_EVENTS}");
        assert_eq!(cpu(&s).expect("parses").latency_avg_ms, 0.02);
    }

    #[test]
    fn empty_and_blank() {
        for s in ["", " ", "\n\n", "\t \r\n"] {
            assert!(matches!(
                cpu(s),
                Err(ParseError::Empty {
                    tool: Tool::Sysbench
                })
            ));
        }
    }

    #[test]
    fn truncated_in_half() {
        for s in ALL {
            assert!(cpu(half(s)).is_err());
        }
    }

    #[test]
    fn garbage() {
        for s in GARBAGE {
            assert!(cpu(s).is_err(), "{s:?}");
        }
        assert!(cpu(include_str!("../../testdata/fio_seqread.json")).is_err());
    }

    #[test]
    fn nan_and_infinity() {
        for bad in ["nan", "NaN", "inf", "-inf", "infinity"] {
            let s = edit(T1_EVENTS, "50623.29", bad);
            assert!(
                matches!(cpu(&s), Err(ParseError::OutOfRange { .. })),
                "{bad}"
            );
            let s = edit(T1_EVENTS, "0.0386s", &format!("{bad}s"));
            assert!(
                matches!(cpu(&s), Err(ParseError::OutOfRange { .. })),
                "{bad}"
            );
            let p95 = format!("95th percentile: {bad}");
            let s = edit(
                T1_EVENTS,
                "95th percentile:                        0.02",
                &p95,
            );
            assert!(
                matches!(cpu(&s), Err(ParseError::OutOfRange { .. })),
                "{bad}"
            );
            let s = edit(
                T1_EVENTS,
                "avg:                                    0.02",
                &format!("avg: {bad}"),
            );
            assert!(
                matches!(cpu(&s), Err(ParseError::OutOfRange { .. })),
                "{bad}"
            );
            let s = edit(
                T1_EVENTS,
                "events:              2000",
                &format!("events: {bad}"),
            );
            assert!(
                matches!(cpu(&s), Err(ParseError::OutOfRange { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn negative_numbers() {
        for (from, to) in [
            ("50623.29", "-50623.29"),
            ("0.0386s", "-0.0386s"),
            ("events:              2000", "events:              -2000"),
            ("Number of threads: 1", "Number of threads: -1"),
            ("avg:                                    0.02", "avg: -0.02"),
            (
                "95th percentile:                        0.02",
                "95th percentile: -0.02",
            ),
            (
                "sum:                                   38.20",
                "sum: -38.20",
            ),
        ] {
            let s = edit(T1_EVENTS, from, to);
            assert!(
                matches!(cpu(&s), Err(ParseError::OutOfRange { .. })),
                "{to}"
            );
        }
    }

    #[test]
    fn malformed_values() {
        for (from, to) in [
            ("50623.29", "fast"),
            ("50623.29", ""),
            ("0.0386s", "0.0386 ms"),
            ("0.0386s", "s"),
            ("events:              2000", "events:              2000.5"),
            ("Number of threads: 1", "Number of threads: 4294967296"),
            ("Number of threads: 1", "Number of threads: one"),
            ("avg:                                    0.02", "avg: 0,02"),
        ] {
            let s = edit(T1_EVENTS, from, to);
            assert!(matches!(cpu(&s), Err(ParseError::Malformed { .. })), "{to}");
        }
    }

    #[test]
    fn missing_each_required_label() {
        for label in [
            THREADS,
            EVENTS_PER_SECOND,
            TOTAL_TIME,
            TOTAL_EVENTS,
            AVG,
            SUM,
        ] {
            let s: String = T1_EVENTS
                .lines()
                .filter(|l| !l.trim_start().starts_with(label))
                .map(|l| format!("{l}\n"))
                .collect();
            assert_ne!(s, T1_EVENTS);
            match cpu(&s) {
                Err(ParseError::Missing { what, .. }) => assert!(what.contains(label), "{what}"),
                other => panic!("{label}: expected Missing, got {other:?}"),
            }
        }
    }

    #[test]
    fn duplicate_label() {
        let s = format!("{T1_EVENTS}{T1_EVENTS}");
        assert!(matches!(cpu(&s), Err(ParseError::Duplicate { .. })));
    }

    #[test]
    fn every_prefix_is_err_until_the_latency_sum_line_then_ok() {
        for full in ALL {
            let expected = cpu(full).expect("full output parses");
            let sum_at = full.find("         sum:").expect("sum line");
            let sum_end = sum_at + full[sum_at..].find('\n').expect("newline") + 1;
            for prefix in prefixes(full) {
                let r = cpu(prefix);
                if prefix.len() < sum_end {
                    assert!(r.is_err(), "prefix of {} bytes parsed", prefix.len());
                } else {
                    assert_eq!(r.ok().as_ref(), Some(&expected));
                }
            }
        }
    }
}
