//! Where a store is, and which of its bundles are wanted: `STORE[/filter]`.
//!
//! A store is a folder (`bundles-store`, `/srv/benchvm`) or an S3 prefix
//! (`s3://bucket/prefix`). Trailing path components of the form
//! `key=value` select bundles by their catalog entry:
//!
//! | component | selects |
//! |---|---|
//! | `label=L` | bundles labelled `L` |
//! | `host=H` | bundles of host `H` |
//! | `suite=S` | bundles of suite `S` |
//! | `date=D` | bundles whose run started on `D`: `2026`, `2026-11`, `2026-11-25`, or an inclusive range `2026-11-01..2026-11-30` |
//! | `id=X` | the bundle whose id starts with `X` (at least 4 hex digits) |
//!
//! One key given twice means either value; different keys must all match
//! (`s3://lab/runs/host=lab-01/host=lab-02/suite=quick`). Values are
//! percent-decoded, so `label=xen%2Fkvm` is the label `xen/kvm`.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::catalog::Entry;
use crate::error::StoreError;

/// Scheme of S3 stores.
pub const S3_SCHEME: &str = "s3://";

/// Where a store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A folder on a local or mounted file system.
    Folder(PathBuf),
    /// Objects under `prefix` (no leading or trailing `/`, maybe empty) in
    /// an S3 bucket.
    S3 { bucket: String, prefix: String },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Folder(p) => write!(f, "{}", p.display()),
            Location::S3 { bucket, prefix } if prefix.is_empty() => {
                write!(f, "{S3_SCHEME}{bucket}")
            }
            Location::S3 { bucket, prefix } => write!(f, "{S3_SCHEME}{bucket}/{prefix}"),
        }
    }
}

/// Which bundles of a store are wanted (see the module doc).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub labels: Vec<String>,
    pub hosts: Vec<String>,
    pub suites: Vec<String>,
    pub dates: Vec<DateRange>,
    pub ids: Vec<String>,
}

/// Dates as prefixes of RFC 3339 times, both ends included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateRange {
    pub from: String,
    pub to: String,
}

impl DateRange {
    fn contains(&self, created: &str) -> bool {
        let cut = |s: &str, n: usize| s.get(..n).unwrap_or(s).to_owned();
        cut(created, self.from.len()) >= self.from && cut(created, self.to.len()) <= self.to
    }
}

/// The facts a filter looks at.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub id: &'a str,
    pub label: &'a str,
    pub host: &'a str,
    pub suite: &'a str,
    pub created: &'a str,
}

impl<'a> From<&'a Entry> for Facts<'a> {
    fn from(e: &'a Entry) -> Self {
        Facts {
            id: &e.id,
            label: &e.label,
            host: &e.host,
            suite: &e.suite,
            created: &e.created,
        }
    }
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
            && self.hosts.is_empty()
            && self.suites.is_empty()
            && self.dates.is_empty()
            && self.ids.is_empty()
    }

    /// Whether a bundle with these facts is wanted.
    pub fn matches(&self, f: Facts<'_>) -> bool {
        let any =
            |wanted: &[String], value: &str| wanted.is_empty() || wanted.iter().any(|w| w == value);
        any(&self.labels, f.label)
            && any(&self.hosts, f.host)
            && any(&self.suites, f.suite)
            && (self.dates.is_empty() || self.dates.iter().any(|d| d.contains(f.created)))
            && (self.ids.is_empty() || self.ids.iter().any(|i| f.id.starts_with(i.as_str())))
    }

    /// The filter as path components, as it was given.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        parts.extend(self.labels.iter().map(|v| format!("label={v}")));
        parts.extend(self.hosts.iter().map(|v| format!("host={v}")));
        parts.extend(self.suites.iter().map(|v| format!("suite={v}")));
        parts.extend(self.dates.iter().map(|d| {
            if d.from == d.to {
                format!("date={}", d.from)
            } else {
                format!("date={}..{}", d.from, d.to)
            }
        }));
        parts.extend(self.ids.iter().map(|v| format!("id={v}")));
        parts.join("/")
    }
}

/// A store and the bundles wanted from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub location: Location,
    pub filter: Filter,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.filter.is_empty() {
            write!(f, "{}", self.location)
        } else {
            write!(f, "{}/{}", self.location, self.filter.describe())
        }
    }
}

/// Whether `spec` names a store (an S3 URL, or an existing folder once its
/// filter components are taken off) rather than a bundle file.
pub fn is_store(spec: &Path) -> bool {
    let text = spec.to_string_lossy();
    if text.starts_with(S3_SCHEME) {
        return true;
    }
    let (base, _) = split_filter(&text);
    Path::new(base).is_dir()
}

/// Parses `STORE[/filter]` (see the module doc).
pub fn parse(spec: &str) -> Result<Target, StoreError> {
    let bad = |reason: String| StoreError::Location {
        spec: spec.to_owned(),
        reason,
    };
    let (base, filters) = split_filter(spec);
    let mut filter = Filter::default();
    for (key, raw) in filters {
        let value = percent_decode(raw).ok_or_else(|| bad(format!("{key}={raw}: bad %-escape")))?;
        if value.is_empty() {
            return Err(bad(format!("{key}= needs a value")));
        }
        match key {
            "label" => filter.labels.push(value),
            "host" => filter.hosts.push(value),
            "suite" => filter.suites.push(value),
            "date" => filter.dates.push(parse_dates(&value).map_err(bad)?),
            "id" => {
                if value.len() < 4 || value.len() > 64 || !is_lower_hex(&value) {
                    return Err(bad(format!(
                        "id={value}: a bundle id or its first hex digits (4 to 64, lower case)"
                    )));
                }
                filter.ids.push(value);
            }
            other => return Err(bad(format!("unknown filter key {other}"))),
        }
    }
    let location = if let Some(rest) = base.strip_prefix(S3_SCHEME) {
        let rest = rest.trim_end_matches('/');
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("no bucket after s3://".into()));
        }
        let prefix = prefix.trim_matches('/');
        if prefix.split('/').any(|p| p == "." || p == "..") || prefix.contains("//") {
            return Err(bad("a prefix holds no empty, `.` or `..` component".into()));
        }
        Location::S3 {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        }
    } else {
        if base.is_empty() {
            return Err(bad("no store named".into()));
        }
        Location::Folder(PathBuf::from(base))
    };
    Ok(Target { location, filter })
}

const KEYS: [&str; 5] = ["label", "host", "suite", "date", "id"];

/// `spec` without its trailing `key=value` components, and those components
/// in order.
fn split_filter(spec: &str) -> (&str, Vec<(&str, &str)>) {
    let mut base = spec.trim_end_matches('/');
    let mut filters = Vec::new();
    while let Some((head, last)) = base.rsplit_once('/') {
        match last.split_once('=') {
            Some((key, value)) if KEYS.contains(&key) => {
                filters.push((key, value));
                base = head.trim_end_matches('/');
            }
            _ => break,
        }
    }
    filters.reverse();
    (base, filters)
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, or two of them joined by `..`.
fn parse_dates(value: &str) -> Result<DateRange, String> {
    let check = |d: &str| -> Result<String, String> {
        let ok = match d.len() {
            4 => d.bytes().all(|b| b.is_ascii_digit()),
            7 | 10 => d.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            }),
            _ => false,
        };
        if ok {
            Ok(d.to_owned())
        } else {
            Err(format!(
                "date={value}: a date is YYYY, YYYY-MM or YYYY-MM-DD, a range FROM..TO"
            ))
        }
    };
    match value.split_once("..") {
        Some((from, to)) => Ok(DateRange {
            from: check(from)?,
            to: check(to)?,
        }),
        None => {
            let d = check(value)?;
            Ok(DateRange {
                from: d.clone(),
                to: d,
            })
        }
    }
}

/// Decodes `%XX` escapes; `None` when one is malformed or the result is
/// not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Escapes every byte outside `[A-Za-z0-9._-]` as `%XX` (upper case), the
/// inverse of [`percent_decode`].
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(label: &'a str, host: &'a str, created: &'a str) -> Facts<'a> {
        Facts {
            id: "0123456789abcdef",
            label,
            host,
            suite: "quick",
            created,
        }
    }

    #[test]
    fn s3_urls_split_into_bucket_prefix_and_filter() {
        let t =
            parse("s3://lab/runs/2026/host=lab-01/host=lab-02/label=xen%2Fkvm/").expect("parse");
        assert_eq!(
            t.location,
            Location::S3 {
                bucket: "lab".into(),
                prefix: "runs/2026".into()
            }
        );
        assert_eq!(t.filter.hosts, ["lab-01", "lab-02"]);
        assert_eq!(t.filter.labels, ["xen/kvm"]);
        assert_eq!(
            t.to_string(),
            "s3://lab/runs/2026/label=xen/kvm/host=lab-01/host=lab-02"
        );
        let bare = parse("s3://lab").expect("bare");
        assert_eq!(
            bare.location,
            Location::S3 {
                bucket: "lab".into(),
                prefix: String::new()
            }
        );
        assert!(parse("s3:///x").is_err());
        assert!(parse("s3://b/a/../c").is_err());
    }

    #[test]
    fn folders_keep_their_path_and_unknown_keys_stay_in_it() {
        let t = parse("/srv/store/suite=quick/date=2026-11").expect("parse");
        assert_eq!(t.location, Location::Folder("/srv/store".into()));
        assert_eq!(t.filter.suites, ["quick"]);
        let t = parse("/srv/a=b").expect("parse");
        assert_eq!(t.location, Location::Folder("/srv/a=b".into()));
        assert!(t.filter.is_empty());
    }

    #[test]
    fn filters_match_alternatives_within_a_key_and_all_keys() {
        let t = parse("s3://b/host=h1/host=h2/date=2026-11-01..2026-11-30").expect("parse");
        let f = &t.filter;
        assert!(f.matches(facts("x", "h1", "2026-11-25T18:00:00Z")));
        assert!(f.matches(facts("x", "h2", "2026-11-30T23:59:59Z")));
        assert!(!f.matches(facts("x", "h3", "2026-11-25T18:00:00Z")));
        assert!(!f.matches(facts("x", "h1", "2026-12-01T00:00:00Z")));
        assert!(!f.matches(facts("x", "h1", "2026-10-31T23:00:00Z")));
        let year = parse("s3://b/date=2026/id=0123").expect("parse");
        assert!(year.filter.matches(facts("x", "h", "2026-01-01T00:00:00Z")));
        assert!(!year.filter.matches(facts("x", "h", "2025-12-31T00:00:00Z")));
        let other = parse("s3://b/id=ffff").expect("parse");
        assert!(!other
            .filter
            .matches(facts("x", "h", "2026-01-01T00:00:00Z")));
    }

    #[test]
    fn bad_filters_are_named() {
        for (spec, says) in [
            ("s3://b/date=2026-1", "a date is YYYY"),
            ("s3://b/id=ABCD", "4 to 64"),
            ("s3://b/id=ab", "4 to 64"),
            ("s3://b/label=", "needs a value"),
            ("s3://b/label=%zz", "bad %-escape"),
        ] {
            let err = parse(spec).expect_err(spec).to_string();
            assert!(err.contains(says), "{spec}: {err}");
        }
    }

    #[test]
    fn percent_encoding_round_trips() {
        for s in ["lab-01", "xen/kvm run 1", "é", "a%b=c"] {
            assert_eq!(percent_decode(&percent_encode(s)).as_deref(), Some(s));
        }
        assert_eq!(percent_encode("a b/c"), "a%20b%2Fc");
    }
}
