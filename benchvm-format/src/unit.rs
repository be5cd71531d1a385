//! Units of the metrics table (SPEC.md §7.1): an open vocabulary. Any
//! printable, trimmed string of at most [`MAX_UNIT_BYTES`] bytes is a unit;
//! the well-known spellings of a unit are written in one canonical form,
//! given by [`CANONICAL`]. A value is never converted from one unit to
//! another: `1500 ms` stays `1500 ms`, and `Mbit/s` is not `MB/s`.
//!
//! Spellings are matched exactly, except words (`Seconds`, `Events Per
//! Second`), which are matched without regard to ASCII case. Symbols keep
//! their case because it carries meaning (`MB/s` is megabytes, `Mb/s`
//! megabits per second).

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest unit, in bytes.
pub const MAX_UNIT_BYTES: usize = 32;

/// One canonical unit: its form in a bundle, whether its values are
/// durations (never negative), the symbols matched exactly and the words
/// matched without regard to ASCII case.
#[derive(Debug, Clone, Copy)]
pub struct Canonical {
    pub unit: &'static str,
    pub duration: bool,
    pub symbols: &'static [&'static str],
    pub words: &'static [&'static str],
}

const fn c(
    unit: &'static str,
    duration: bool,
    symbols: &'static [&'static str],
    words: &'static [&'static str],
) -> Canonical {
    Canonical {
        unit,
        duration,
        symbols,
        words,
    }
}

/// The normalisation table (SPEC.md §7.1 prints it). A spelling appears in
/// at most one row (a test holds that).
pub const CANONICAL: &[Canonical] = &[
    // Durations.
    c("s", true, &["s"], &["sec", "secs", "second", "seconds"]),
    c(
        "ms",
        true,
        &["ms"],
        &["msec", "msecs", "millisecond", "milliseconds"],
    ),
    c(
        "us",
        true,
        &["us", "\u{b5}s", "\u{3bc}s"],
        &["usec", "usecs", "microsecond", "microseconds"],
    ),
    c(
        "ns",
        true,
        &["ns"],
        &["nsec", "nsecs", "nanosecond", "nanoseconds"],
    ),
    c("min", true, &["min"], &["mins", "minute", "minutes"]),
    // Data rates: bytes (decimal and binary prefixes kept apart), bits.
    c(
        "bytes/s",
        false,
        &["B/s"],
        &["byte/s", "bytes/sec", "bytes per second"],
    ),
    c("kB/s", false, &["kB/s"], &[]),
    c("KiB/s", false, &["KiB/s"], &[]),
    c(
        "MB/s",
        false,
        &["MB/s", "MB/sec", "MBps"],
        &["megabytes per second"],
    ),
    c(
        "MiB/s",
        false,
        &["MiB/s", "MiB/sec"],
        &["mebibytes per second"],
    ),
    c(
        "GB/s",
        false,
        &["GB/s", "GB/sec", "GBps"],
        &["gigabytes per second"],
    ),
    c(
        "GiB/s",
        false,
        &["GiB/s", "GiB/sec"],
        &["gibibytes per second"],
    ),
    c(
        "Mbit/s",
        false,
        &["Mbit/s", "Mb/s", "Mbps"],
        &["megabits per second"],
    ),
    c(
        "Gbit/s",
        false,
        &["Gbit/s", "Gb/s", "Gbps"],
        &["gigabits per second"],
    ),
    // Rates of things.
    c(
        "events/s",
        false,
        &[],
        &["events/s", "events/sec", "events per second"],
    ),
    c(
        "req/s",
        false,
        &[],
        &["req/s", "requests/s", "requests/sec", "requests per second"],
    ),
    c(
        "ops/s",
        false,
        &[],
        &["ops/s", "op/s", "ops/sec", "operations per second"],
    ),
    c("IOPS", false, &[], &["iops"]),
    c("fps", false, &[], &["fps", "frames per second"]),
    c("Mflops", false, &[], &["mflops", "mflop/s"]),
    c("Gflops", false, &[], &["gflops", "gflop/s"]),
    // Sizes.
    c("bytes", false, &["B"], &["byte", "bytes"]),
    c("KiB", false, &["KiB"], &[]),
    c("MiB", false, &["MiB"], &[]),
    c("GiB", false, &["GiB"], &[]),
    c("MB", false, &["MB"], &[]),
    c("GB", false, &["GB"], &[]),
    // Dimensionless.
    c("%", false, &["%"], &["percent", "pct"]),
    c("ratio", false, &[], &["ratio"]),
    c("count", false, &[], &["count"]),
];

/// A unit as a bundle stores it: canonical when the table knows it, else
/// as the source wrote it (trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Unit(Cow<'static, str>);

/// Why a string is not a unit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("the unit is empty")]
    Empty,
    #[error("unit {0:?} has spaces around it")]
    Untrimmed(String),
    #[error("unit {0:?} is {1} bytes long (at most {MAX_UNIT_BYTES})")]
    TooLong(String, usize),
    #[error("unit {0:?} holds a control or invisible character")]
    NotPrintable(String),
    #[error("unit {given:?} is written {canonical:?} in a bundle (SPEC.md §7.1)")]
    NotCanonical { given: String, canonical: String },
}

impl Unit {
    pub const SECONDS: Unit = Unit(Cow::Borrowed("s"));
    pub const MILLISECONDS: Unit = Unit(Cow::Borrowed("ms"));
    pub const EVENTS_PER_SECOND: Unit = Unit(Cow::Borrowed("events/s"));
    pub const MEGABYTES_PER_SECOND: Unit = Unit(Cow::Borrowed("MB/s"));
    pub const REQUESTS_PER_SECOND: Unit = Unit(Cow::Borrowed("req/s"));
    pub const PERCENT: Unit = Unit(Cow::Borrowed("%"));
    pub const COUNT: Unit = Unit(Cow::Borrowed("count"));
    pub const BYTES: Unit = Unit(Cow::Borrowed("bytes"));
    pub const RATIO: Unit = Unit(Cow::Borrowed("ratio"));

    /// The unit a source wrote: trimmed, checked, and put in its canonical
    /// form when the table knows the spelling. Never converts a value.
    pub fn normalise(text: &str) -> Result<Unit, UnitError> {
        let text = text.trim();
        check(text)?;
        Ok(match lookup(text) {
            Some(row) => Unit(Cow::Borrowed(row.unit)),
            None => Unit(Cow::Owned(text.to_owned())),
        })
    }

    /// A unit as a bundle stores it: valid and already canonical (what a
    /// reader accepts).
    pub fn stored(text: &str) -> Result<Unit, UnitError> {
        if text.trim() != text {
            return Err(UnitError::Untrimmed(text.to_owned()));
        }
        let unit = Unit::normalise(text)?;
        if unit.as_str() != text {
            return Err(UnitError::NotCanonical {
                given: text.to_owned(),
                canonical: unit.as_str().to_owned(),
            });
        }
        Ok(unit)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Units that measure time, whose values can never be negative.
    pub fn is_duration(&self) -> bool {
        CANONICAL
            .iter()
            .any(|row| row.duration && row.unit == self.as_str())
    }

    /// Whether the table knows this unit (else it is kept as written).
    pub fn is_known(&self) -> bool {
        CANONICAL.iter().any(|row| row.unit == self.as_str())
    }
}

/// The table row a spelling belongs to.
fn lookup(text: &str) -> Option<&'static Canonical> {
    CANONICAL.iter().find(|row| {
        row.unit == text
            || row.symbols.contains(&text)
            || row.words.iter().any(|w| w.eq_ignore_ascii_case(text))
    })
}

/// Printable: no control characters, no whitespace but the plain space,
/// none of the invisible formatting characters that make two strings look
/// alike (zero-width, bidirectional overrides, byte order mark).
fn check(text: &str) -> Result<(), UnitError> {
    if text.is_empty() {
        return Err(UnitError::Empty);
    }
    if text.len() > MAX_UNIT_BYTES {
        return Err(UnitError::TooLong(text.to_owned(), text.len()));
    }
    let invisible = |c: char| matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}' | '\u{ad}');
    if text
        .chars()
        .any(|c| c.is_control() || (c.is_whitespace() && c != ' ') || invisible(c))
    {
        return Err(UnitError::NotPrintable(text.to_owned()));
    }
    Ok(())
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Unit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Unit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Cow::<'de, str>::deserialize(d)?;
        Unit::stored(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_become_one_canonical_form() {
        for (given, canonical) in [
            ("Seconds", "s"),
            ("  sec ", "s"),
            ("Milliseconds", "ms"),
            ("\u{b5}s", "us"),
            ("Microseconds", "us"),
            ("Nanoseconds", "ns"),
            ("MB/s", "MB/s"),
            ("MiB/s", "MiB/s"),
            ("GB/s", "GB/s"),
            ("byte/s", "bytes/s"),
            ("Events Per Second", "events/s"),
            ("Requests Per Second", "req/s"),
            ("MFLOPS", "Mflops"),
            ("Mflops", "Mflops"),
            ("Percent", "%"),
            ("Bytes", "bytes"),
            ("Mb/s", "Mbit/s"),
            ("ratio", "ratio"),
        ] {
            assert_eq!(
                Unit::normalise(given).expect(given).as_str(),
                canonical,
                "{given:?}"
            );
        }
    }

    #[test]
    fn unknown_units_are_kept_as_written() {
        for given in [
            "Iterations Per Minute",
            "k/s",
            "sign/s",
            "usec, 99.9th Latency Percentile",
            "Megapixels/sec",
        ] {
            let unit = Unit::normalise(given).expect(given);
            assert_eq!(unit.as_str(), given);
            assert!(!unit.is_known() && !unit.is_duration());
        }
        // Case carries meaning in symbols: megabits are not megabytes.
        assert_eq!(Unit::normalise("mb/s").expect("kept").as_str(), "mb/s");
    }

    #[test]
    fn what_is_not_a_unit() {
        assert_eq!(Unit::normalise("  "), Err(UnitError::Empty));
        assert!(matches!(
            Unit::normalise(&"x".repeat(33)),
            Err(UnitError::TooLong(_, 33))
        ));
        for bad in ["a\tb", "a\nb", "m\u{202e}s", "m\u{200b}s", "a\u{2028}b"] {
            assert!(
                matches!(Unit::normalise(bad), Err(UnitError::NotPrintable(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            Unit::stored("Seconds"),
            Err(UnitError::NotCanonical { .. })
        ));
        assert!(matches!(Unit::stored(" s"), Err(UnitError::Untrimmed(_))));
        assert_eq!(Unit::stored("k/s").expect("open").as_str(), "k/s");
    }

    #[test]
    fn the_table_is_unambiguous() {
        let mut seen = std::collections::BTreeMap::new();
        for row in CANONICAL {
            assert!(check(row.unit).is_ok(), "{}", row.unit);
            assert_eq!(lookup(row.unit).map(|r| r.unit), Some(row.unit));
            let words = row.words.iter().map(|w| w.to_ascii_lowercase());
            let symbols = row.symbols.iter().map(|s| (*s).to_owned());
            for spelling in words.chain(symbols) {
                if let Some(other) = seen.insert(spelling.clone(), row.unit) {
                    assert_eq!(other, row.unit, "{spelling:?} in two rows");
                }
            }
        }
        for row in CANONICAL {
            for w in row.words {
                assert_eq!(w.to_ascii_lowercase(), *w, "words are written lower case");
            }
        }
    }

    #[test]
    fn version_1_0_units_read_unchanged() {
        for old in [
            "s", "ms", "events/s", "MB/s", "req/s", "%", "count", "bytes",
        ] {
            let unit = Unit::stored(old).expect(old);
            assert_eq!(unit.as_str(), old);
        }
        assert!(Unit::SECONDS.is_duration() && Unit::MILLISECONDS.is_duration());
        assert!(!Unit::PERCENT.is_duration());
    }
}
