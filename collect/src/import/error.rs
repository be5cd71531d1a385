//! Why an import failed: every error names the input file and, where the
//! fault sits in it, the line, the column and what is wrong.

use std::fmt;
use std::path::PathBuf;

/// A place in an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file as the user named it (or its path inside a bundle).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column and, where it has one, its name (a CSV column, an
    /// XML element, a TOML key).
    pub column: Option<(usize, String)>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} line {}", self.file, self.line)?;
        match &self.column {
            Some((n, name)) if name.is_empty() => write!(f, ", column {n}"),
            Some((n, name)) => write!(f, ", column {n} ({name})"),
            None => Ok(()),
        }
    }
}

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A fault at a place in an input file.
    #[error("{at}: {reason}")]
    At { at: Location, reason: String },
    /// A fault of a whole input file (no single place to name).
    #[error("{file}: {reason}")]
    File { file: String, reason: String },
    #[error("writing the bundle: {0}")]
    Pack(#[from] benchvm_format::PackError),
    /// The rows' destination refused a row (re-deriving: it differs).
    #[error("{reason}")]
    Output { reason: String },
    /// The import would break the limits table (SPEC.md §9.2).
    #[error("{file}: {source}")]
    Limit {
        file: String,
        source: benchvm_format::limits::LimitError,
    },
}

impl ImportError {
    pub(crate) fn at(at: Location, reason: impl Into<String>) -> Self {
        ImportError::At {
            at,
            reason: reason.into(),
        }
    }

    pub(crate) fn file(file: &str, reason: impl Into<String>) -> Self {
        ImportError::File {
            file: file.to_owned(),
            reason: reason.into(),
        }
    }
}

/// 1-based line and column of byte `offset` in `text` (columns count
/// characters).
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let text = "ab\ncdé\nf";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 4), (2, 2));
        assert_eq!(line_col(text, text.len()), (3, 2));
    }

    #[test]
    fn location_names_file_line_and_column() {
        let at = Location {
            file: "r.csv".into(),
            line: 3,
            column: Some((7, "unit".into())),
        };
        assert_eq!(at.to_string(), "r.csv line 3, column 7 (unit)");
    }
}
