//! `manifest.json`: the first entry of every bundle (SPEC.md, "Manifest").

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ManifestError;
use crate::path;

/// Value of the manifest's `format` field.
pub const FORMAT_NAME: &str = "benchvm-bundle";
/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Name of the manifest entry.
pub const MANIFEST_PATH: &str = "manifest.json";

/// The program that produced a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    /// `collect`, or the name of an importer.
    pub name: String,
    /// Its version (semver).
    pub version: String,
    /// The git commit it was built from, when known.
    pub git_commit: Option<String>,
}

/// What a run folder says about itself (`meta.json`); the manifest carries
/// the same fields plus the file list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunMeta {
    pub tool: Tool,
    /// When the run started, RFC 3339 in UTC (`2026-11-25T18:00:00Z`).
    pub created: String,
    /// Host name of the machine that ran the suite.
    pub host: String,
    /// Suite name (`smoke`, `quick`, `paper`, or a file's stem).
    pub suite: String,
    /// Platforms measured, in suite order (`native`, `kvm`, `xen`).
    pub platforms: Vec<String>,
    /// Human label given with `--label`.
    pub label: String,
}

/// One archived file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    /// Lower-case hex sha256 of the file's bytes.
    pub sha256: String,
}

/// The manifest as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub tool: Tool,
    pub created: String,
    pub host: String,
    pub suite: String,
    pub platforms: Vec<String>,
    pub label: String,
    /// Every entry but the manifest itself, sorted by path bytes.
    pub files: Vec<FileEntry>,
}

/// Only the fields needed to decide whether the rest can be read.
#[derive(Deserialize)]
struct Probe {
    format: String,
    format_version: u64,
}

impl Manifest {
    pub fn new(meta: RunMeta, files: Vec<FileEntry>) -> Self {
        Manifest {
            format: FORMAT_NAME.to_owned(),
            format_version: FORMAT_VERSION,
            tool: meta.tool,
            created: meta.created,
            host: meta.host,
            suite: meta.suite,
            platforms: meta.platforms,
            label: meta.label,
            files,
        }
    }

    /// The run's own description, without the file list.
    pub fn meta(&self) -> RunMeta {
        RunMeta {
            tool: self.tool.clone(),
            created: self.created.clone(),
            host: self.host.clone(),
            suite: self.suite.clone(),
            platforms: self.platforms.clone(),
            label: self.label.clone(),
        }
    }

    /// The canonical bytes: pretty JSON with a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serializing plain structs of strings and integers cannot fail.
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Parses and validates manifest bytes taken from an untrusted bundle.
    pub fn parse(bytes: &[u8]) -> Result<Self, ManifestError> {
        let text = std::str::from_utf8(bytes).map_err(|_| ManifestError::Utf8)?;
        let probe: Probe = serde_json::from_str(text)?;
        if probe.format != FORMAT_NAME {
            return Err(ManifestError::WrongFormat(probe.format));
        }
        if probe.format_version != u64::from(FORMAT_VERSION) {
            return Err(ManifestError::UnsupportedVersion {
                found: probe.format_version,
                supported: FORMAT_VERSION,
            });
        }
        let manifest: Manifest = serde_json::from_str(text)?;
        manifest.validate()?;
        // One content, one byte sequence, one id: the manifest must be
        // exactly what the writer makes of it.
        if manifest.to_bytes() != bytes {
            return Err(ManifestError::NotCanonical);
        }
        Ok(manifest)
    }

    /// Checks what JSON types alone cannot.
    pub fn validate(&self) -> Result<(), ManifestError> {
        let invalid = |m: String| Err(ManifestError::Invalid(m));
        let mut previous: Option<&str> = None;
        for file in &self.files {
            if let Err(fault) = path::check(file.path.as_bytes()) {
                return invalid(format!("file {:?}: unsafe path: {fault}", file.path));
            }
            if file.path == MANIFEST_PATH {
                return invalid("lists manifest.json itself".into());
            }
            if let Some(prev) = previous {
                if prev.as_bytes() >= file.path.as_bytes() {
                    return invalid(format!(
                        "files are not sorted and unique: {:?} follows {prev:?}",
                        file.path
                    ));
                }
            }
            if !is_sha256_hex(&file.sha256) {
                return invalid(format!(
                    "file {}: sha256 is not 64 lower-case hex digits",
                    file.path
                ));
            }
            previous = Some(&file.path);
        }
        for (name, value) in [("host", &self.host), ("suite", &self.suite)] {
            if value.is_empty() || value.len() > 256 {
                return invalid(format!("`{name}` must hold 1 to 256 bytes"));
            }
        }
        if self.label.len() > 256 {
            return invalid("`label` is over 256 bytes".into());
        }
        if !is_rfc3339_utc(&self.created) {
            return Err(ManifestError::Created(self.created.clone()));
        }
        Ok(())
    }
}

/// The id of a bundle: the sha256 of its manifest bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BundleId(pub [u8; 32]);

impl BundleId {
    pub fn of_manifest(bytes: &[u8]) -> Self {
        BundleId(Sha256::digest(bytes).into())
    }

    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The first 12 hex digits, as used in file names.
    pub fn short(&self) -> String {
        self.hex()[..12].to_owned()
    }
}

impl std::fmt::Display for BundleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.hex())
    }
}

/// Whether `s` is an RFC 3339 date-time in UTC:
/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, every field in its range (a leap
/// second, `:60`, included).
pub fn is_rfc3339_utc(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let punctuation = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if b.len() < 20 || punctuation.iter().any(|&(i, c)| b[i] != c) || b[b.len() - 1] != b'Z' {
        return false;
    }
    let fraction = &b[19..b.len() - 1];
    if !fraction.is_empty()
        && (fraction[0] != b'.'
            || fraction.len() < 2
            || !fraction[1..].iter().all(u8::is_ascii_digit))
    {
        return false;
    }
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        digits(0..4),
        digits(5..7),
        digits(8..10),
        digits(11..13),
        digits(14..16),
        digits(17..19),
    ) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day) && hour < 24 && minute < 60 && second <= 60
}

pub(crate) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The file name a bundle gets by default (SPEC.md, "Naming"):
/// `<label>-<first 12 hex digits of the id>.tar.zst`, the label reduced to
/// `[a-z0-9-]` (or `bundle` when that leaves nothing).
pub fn file_name(label: &str, id: &BundleId) -> String {
    let mut slug = String::new();
    for c in label.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug: String = slug.chars().take(64).collect();
    let slug = if slug.is_empty() { "bundle" } else { &slug };
    format!("{slug}-{}.tar.zst", id.short())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> RunMeta {
        RunMeta {
            tool: Tool {
                name: "collect".into(),
                version: "0.1.0".into(),
                git_commit: None,
            },
            created: "2026-11-25T18:00:00Z".into(),
            host: "h".into(),
            suite: "smoke".into(),
            platforms: vec!["native".into()],
            label: "My run #1".into(),
        }
    }

    #[test]
    fn bytes_round_trip() {
        let file = FileEntry {
            path: "a".into(),
            size: 1,
            sha256: "0".repeat(64),
        };
        let m = Manifest::new(meta(), vec![file]);
        assert_eq!(Manifest::parse(&m.to_bytes()).expect("parse"), m);
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let m = Manifest::new(meta(), vec![]);
        let text = String::from_utf8(m.to_bytes()).expect("utf8");
        let doubled = text.replacen(
            "\"host\": \"h\",",
            "\"host\": \"h\", \"host\": \"evil\",",
            1,
        );
        let err = Manifest::parse(doubled.as_bytes()).expect_err("duplicate");
        assert!(err.to_string().contains("duplicate field `host`"), "{err}");
    }

    #[test]
    fn created_is_rfc3339_utc() {
        for good in [
            "2026-11-25T18:00:00Z",
            "2024-02-29T23:59:60Z",
            "2026-01-01T00:00:00.5Z",
        ] {
            assert!(is_rfc3339_utc(good), "{good}");
        }
        for bad in [
            "yesterday",
            "2026-11-25",
            "2026-11-25 18:00:00Z",
            "2026-11-25T18:00:00",
            "2026-11-25T18:00:00+01:00",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-11-25T24:00:00Z",
            "2026-11-25T18:00:00.Z",
            "+026-11-25T18:00:00Z",
        ] {
            assert!(!is_rfc3339_utc(bad), "{bad}");
        }
        let mut m = Manifest::new(meta(), vec![]);
        m.created = "25/11/2026".into();
        let err = Manifest::parse(&m.to_bytes()).expect_err("not RFC 3339");
        assert!(matches!(err, ManifestError::Created(_)), "{err}");
        assert!(err.to_string().contains("\"25/11/2026\""), "{err}");
    }

    #[test]
    fn only_the_canonical_bytes_are_a_manifest() {
        let m = Manifest::new(meta(), vec![]);
        let canonical = m.to_bytes();
        let compact = {
            let mut v = serde_json::to_vec(&m).expect("json");
            v.push(b'\n');
            v
        };
        let without_newline = &canonical[..canonical.len() - 1];
        let crlf = String::from_utf8(canonical.clone())
            .expect("utf8")
            .replace('\n', "\r\n");
        for other in [compact.as_slice(), without_newline, crlf.as_bytes()] {
            assert_eq!(
                serde_json::from_slice::<Manifest>(other).expect("same JSON"),
                m
            );
            let err = Manifest::parse(other).expect_err("not canonical");
            assert!(matches!(err, ManifestError::NotCanonical), "{err}");
        }
        assert_eq!(Manifest::parse(&canonical).expect("canonical"), m);
    }

    #[test]
    fn file_name_is_slug_and_short_id() {
        let id = BundleId::of_manifest(b"x");
        let name = file_name("KVM (TCG) run #1", &id);
        assert_eq!(name, format!("kvm-tcg-run-1-{}.tar.zst", &id.hex()[..12]));
        assert!(file_name("", &id).starts_with("bundle-"));
    }
}
