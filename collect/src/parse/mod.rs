//! Parsers of tool output.
//!
//! Each parser takes the captured stdout of one tool run and returns a typed
//! report, or a [`ParseError`] naming what is missing or malformed. The parsers
//! never panic on any input, and every number they return is finite and
//! non-negative.
//!
//! - [`sysbench::cpu`]: the text report of `sysbench cpu ... run`.
//! - [`fio::parse`]: `fio --output-format=json`, possibly preceded by warning
//!   lines such as `fio: ...` or `note: ...`.
//! - [`iperf3::parse`]: `iperf3 -J`, client or server side.

use std::fmt;

use serde::de::DeserializeOwned;

pub mod fio;
pub mod iperf3;
pub mod sysbench;

/// The tool whose output failed to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// sysbench.
    Sysbench,
    /// fio.
    Fio,
    /// iperf3.
    Iperf3,
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tool::Sysbench => "sysbench",
            Tool::Fio => "fio",
            Tool::Iperf3 => "iperf3",
        })
    }
}

/// Why a tool's output could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The output is empty or only whitespace.
    #[error("{tool}: output is empty")]
    Empty {
        /// The tool.
        tool: Tool,
    },
    /// A value that must be present is not (this is also how truncated output
    /// shows up).
    #[error("{tool}: missing {what}")]
    Missing {
        /// The tool.
        tool: Tool,
        /// The label or key that is missing.
        what: String,
    },
    /// A value appears more than once where it must appear once.
    #[error("{tool}: {what} appears more than once")]
    Duplicate {
        /// The tool.
        tool: Tool,
        /// The label or key.
        what: String,
    },
    /// A value is present but cannot be read as what it must be.
    #[error("{tool}: malformed {what}: {found:?}")]
    Malformed {
        /// The tool.
        tool: Tool,
        /// The label or key.
        what: String,
        /// The text found.
        found: String,
    },
    /// A number is NaN, infinite or negative.
    #[error("{tool}: {what} must be finite and non-negative, found {found}")]
    OutOfRange {
        /// The tool.
        tool: Tool,
        /// The label or key.
        what: String,
        /// The value found.
        found: String,
    },
    /// No line of the output starts a JSON object.
    #[error("{tool}: no JSON object found in the output")]
    NoJson {
        /// The tool.
        tool: Tool,
    },
    /// The JSON document is invalid, truncated, or has a wrong type or a
    /// missing key at `path`.
    #[error("{tool}: invalid JSON at `{path}`: {source}")]
    Json {
        /// The tool.
        tool: Tool,
        /// Where in the document it failed, like `jobs[0].read.iops`
        /// (`.` for the document itself).
        path: String,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
}

impl ParseError {
    /// The tool whose output failed to parse.
    pub fn tool(&self) -> Tool {
        match self {
            ParseError::Empty { tool }
            | ParseError::Missing { tool, .. }
            | ParseError::Duplicate { tool, .. }
            | ParseError::Malformed { tool, .. }
            | ParseError::OutOfRange { tool, .. }
            | ParseError::NoJson { tool }
            | ParseError::Json { tool, .. } => *tool,
        }
    }
}

/// Checks that `value` is finite and non-negative.
pub(crate) fn non_negative(tool: Tool, what: &str, value: f64) -> Result<f64, ParseError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(ParseError::OutOfRange {
            tool,
            what: what.to_owned(),
            found: value.to_string(),
        })
    }
}

/// Finds the JSON object in `stdout` and deserializes it.
///
/// The object starts at the beginning of the output (after whitespace) or at
/// a line that begins with `{`; lines before it (tool warnings) and text after
/// it are ignored. Each candidate start is tried in order and the first that
/// deserializes wins; if none does, the error of the first is returned.
pub(crate) fn json_document<T: DeserializeOwned>(
    tool: Tool,
    stdout: &str,
) -> Result<T, ParseError> {
    let trimmed = stdout.trim_start();
    if trimmed.is_empty() {
        return Err(ParseError::Empty { tool });
    }
    let first = stdout.len() - trimmed.len();
    let line_starts = stdout
        .match_indices('\n')
        .map(|(i, _)| i + 1)
        .filter(|&i| i != first && stdout[i..].starts_with('{'));
    let mut first_error = None;
    for start in std::iter::once(first).chain(line_starts) {
        let candidate = &stdout[start..];
        if !candidate.starts_with('{') {
            continue;
        }
        let mut de = serde_json::Deserializer::from_str(candidate);
        match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Ok(value) => return Ok(value),
            Err(err) => {
                if first_error.is_none() {
                    let path = err.path().to_string();
                    first_error = Some(ParseError::Json {
                        tool,
                        path,
                        source: err.into_inner(),
                    });
                }
            }
        }
    }
    Err(first_error.unwrap_or(ParseError::NoJson { tool }))
}

#[cfg(test)]
pub(crate) mod test_util {
    /// Every prefix of `s` cut at a char boundary, from empty to whole.
    pub(crate) fn prefixes(s: &str) -> impl Iterator<Item = &str> {
        s.char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(s.len()))
            .map(move |i| &s[..i])
    }

    /// The first half of `s`, cut at a char boundary.
    pub(crate) fn half(s: &str) -> &str {
        let mut cut = s.len() / 2;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        &s[..cut]
    }

    /// Inputs that are not the output of any tool.
    pub(crate) const GARBAGE: &[&str] = &[
        "hello world",
        "\0\0\0\u{feff}\u{fffd}",
        "{",
        "}",
        "[]",
        "null",
        "{}",
        "{\"a\": 1}",
        "{{{{{{{{",
        ":::\n: : :\n:",
        "événements par seconde: 12\n",
        "nan\ninf\n-1\n",
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Doc {
        a: u64,
    }

    #[test]
    fn json_document_skips_leading_lines_and_ignores_trailing_text() {
        let doc: Doc = json_document(Tool::Fio, "fio: warn {\nnote: x\n{\"a\": 3}\nfio: bye\n")
            .expect("object after warnings");
        assert_eq!(doc, Doc { a: 3 });
    }

    #[test]
    fn json_document_tries_later_candidates() {
        let doc: Doc = json_document(Tool::Fio, "{ not json\n{\"a\": 4}\n").expect("second object");
        assert_eq!(doc, Doc { a: 4 });
    }

    #[test]
    fn json_document_errors() {
        let r: Result<Doc, _> = json_document(Tool::Iperf3, "  \n\t");
        assert!(matches!(r, Err(ParseError::Empty { tool: Tool::Iperf3 })));
        let r: Result<Doc, _> = json_document(Tool::Fio, "fio: only a warning\n");
        assert!(matches!(r, Err(ParseError::NoJson { tool: Tool::Fio })));
        let r: Result<Doc, _> = json_document(Tool::Fio, "{\"a\": \"x\"}");
        match r {
            Err(ParseError::Json { path, .. }) => assert_eq!(path, "a"),
            other => panic!("expected a JSON error at `a`, got {other:?}"),
        }
    }

    #[test]
    fn non_negative_rejects_nan_inf_and_negatives() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, -1e-300] {
            let err = non_negative(Tool::Sysbench, "x", bad).expect_err("out of range");
            assert_eq!(err.tool(), Tool::Sysbench);
            assert!(matches!(err, ParseError::OutOfRange { .. }));
        }
        for good in [0.0, 1.5, 1e300] {
            assert_eq!(
                non_negative(Tool::Sysbench, "x", good).expect("in range"),
                good
            );
        }
    }

    #[test]
    fn errors_display_the_tool_and_what() {
        let err = ParseError::Missing {
            tool: Tool::Sysbench,
            what: "\"total time:\"".into(),
        };
        assert_eq!(err.to_string(), "sysbench: missing \"total time:\"");
    }
}
