//! Typed errors of the bundle format. Every error that concerns one entry
//! names it; callers add the bundle's file name.

use std::io;
use std::path::PathBuf;

/// Why a tar header was refused or could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderFault {
    #[error("header checksum does not match its bytes")]
    Checksum,
    #[error("not a POSIX ustar header (magic \"ustar\\0\", version \"00\")")]
    NotUstar,
    #[error("not a regular file: {0}")]
    NotRegular(String),
    #[error("field `{0}` is not a plain octal number")]
    NotOctal(&'static str),
    #[error("a regular file must have an empty link name")]
    LinkName,
    #[error("{0} bytes is over the ustar limit of 8 GiB - 1")]
    TooLarge(u64),
    #[error("path does not fit the ustar name and prefix fields")]
    PathTooLong,
    #[error("header differs from the canonical one (mode 0644, uid/gid 0, mtime 0, empty names, SPEC.md §3)")]
    NotCanonical,
}

/// Why an entry path was refused (SPEC.md, "Entry paths").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathFault {
    #[error("empty path")]
    Empty,
    #[error("path is {0} bytes, over the cap of 255")]
    TooLong(usize),
    #[error("path has {0} components, over the cap of 16")]
    TooDeep(usize),
    #[error("absolute path")]
    Absolute,
    #[error("trailing slash")]
    TrailingSlash,
    #[error("empty component (`//`)")]
    EmptyComponent,
    #[error("`.` or `..` component")]
    DotComponent,
    #[error("backslash in path")]
    Backslash,
    #[error("drive prefix or colon in path")]
    DriveOrColon,
    #[error("NUL byte in path")]
    Nul,
    #[error("byte {0:#04x} is outside the allowed set [A-Za-z0-9._-+=@,]")]
    Character(u8),
}

/// Why `manifest.json` was refused.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("not valid UTF-8")]
    Utf8,
    #[error("invalid JSON: {0}")]
    Json(serde_json::Error),
    #[error("`format` is {0:?}, expected \"benchvm-bundle\"")]
    WrongFormat(String),
    #[error("format_version {found} is not supported (this build reads version {supported})")]
    UnsupportedVersion { found: u64, supported: u32 },
    #[error("{0}")]
    Invalid(String),
    #[error("`created` is {0:?}, not an RFC 3339 UTC date-time such as \"2026-11-25T18:00:00Z\" (SPEC.md §4)")]
    Created(String),
    #[error("its bytes are not the canonical layout (pretty JSON, two-space indent, keys in SPEC order, one final newline; SPEC.md §4), so one content could have several ids")]
    NotCanonical,
}

// The errors below carry their cause in their message and do not chain it
// as `source()`: a printer that walks the chain would say it twice.
impl From<serde_json::Error> for ManifestError {
    fn from(e: serde_json::Error) -> Self {
        ManifestError::Json(e)
    }
}

/// One invalid row of `metrics.ndjson`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("metrics.ndjson line {line}: {reason}")]
pub struct MetricsError {
    pub line: usize,
    pub reason: String,
}

/// Why a bundle was refused by the reader.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("read error: {0}")]
    Io(io::Error),
    #[error("zstd frame {frame}: {reason}")]
    Frame { frame: u8, reason: String },
    #[error(
        "zstd frame {frame} declares a window of 2^{log} bytes, over the cap of 2^{max_log}; refused before allocating"
    )]
    Window { frame: u8, log: u32, max_log: u32 },
    #[error("{count} bytes follow the second zstd frame (a bundle holds exactly two frames)")]
    TrailingFrames { count: usize },
    #[error("entry {entry}: {fault}")]
    Header { entry: String, fault: HeaderFault },
    #[error("entry {entry:?}: unsafe path: {fault}")]
    Path { entry: String, fault: PathFault },
    #[error("first entry is {entry:?}, expected manifest.json")]
    ManifestNotFirst { entry: String },
    #[error("manifest.json is {size} bytes, over the cap of {cap}")]
    ManifestTooLarge { size: u64, cap: u64 },
    #[error("manifest.json: {0}")]
    Manifest(ManifestError),
    #[error("zstd frame 1 holds more than manifest.json")]
    ManifestFrameNotAlone,
    #[error("entry {entry}: appears twice")]
    Duplicate { entry: String },
    #[error("entry {entry}: same path as {other} when letter case is ignored")]
    CaseDuplicate { entry: String, other: String },
    #[error(
        "entry {entry}: out of order (entries are sorted by path bytes; it follows {previous})"
    )]
    OutOfOrder { entry: String, previous: String },
    #[error("too many entries: the cap is {cap}")]
    TooManyEntries { cap: usize },
    #[error("entry {entry}: not listed in the manifest")]
    NotInManifest { entry: String },
    #[error("entry {entry}: listed in the manifest but missing from the archive")]
    Missing { entry: String },
    #[error("entry {entry}: size is {actual} bytes, the manifest says {expected}")]
    SizeMismatch {
        entry: String,
        expected: u64,
        actual: u64,
    },
    #[error("entry {entry}: sha256 is {actual}, the manifest says {expected}")]
    HashMismatch {
        entry: String,
        expected: String,
        actual: String,
    },
    #[error(
        "bundle declares {declared} bytes of content, over the cap of {cap} bytes (raise it with --max-size)"
    )]
    DeclaredTooLarge { declared: u64, cap: u64 },
    #[error(
        "decoded data runs past the {limit} bytes the manifest declares (decompression bomb?)"
    )]
    DecodedTooLarge { limit: u64 },
    #[error("archive is truncated: {what}")]
    Truncated { what: String },
    #[error("data after the end-of-archive blocks")]
    TrailingData,
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    #[error("{entry}: {reason}")]
    Content { entry: String, reason: String },
}

impl From<io::Error> for BundleError {
    fn from(e: io::Error) -> Self {
        BundleError::Io(e)
    }
}

impl From<ManifestError> for BundleError {
    fn from(e: ManifestError) -> Self {
        BundleError::Manifest(e)
    }
}

/// Why a run folder could not be packed.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("{}: {error}", path.display())]
    Io { path: PathBuf, error: io::Error },
    #[error("{}: not a regular file or folder (symlinks and special files are not packed)", path.display())]
    NotRegular { path: PathBuf },
    #[error("{}: unexpected entry in the run folder (expected env/, config/, runs/, metrics.ndjson, meta.json)", path.display())]
    Unexpected { path: PathBuf },
    #[error("{path:?}: unsafe path: {fault}")]
    Path { path: String, fault: PathFault },
    #[error("{path}: {fault}")]
    Header { path: String, fault: HeaderFault },
    #[error("{path}: reserved for the manifest")]
    Reserved { path: String },
    #[error("{path} and {other} differ only in letter case")]
    CaseDuplicate { path: String, other: String },
    #[error("{}: {reason}", path.display())]
    Meta { path: PathBuf, reason: String },
    #[error("the run's description cannot make a valid manifest: {0}")]
    Description(ManifestError),
    #[error("{0}")]
    Input(crate::input::InputError),
    #[error("{}: {error}", path.display())]
    Metrics { path: PathBuf, error: MetricsError },
    #[error("{}: {error} (the file changed while it was packed?)", path.display())]
    Changed { path: PathBuf, error: io::Error },
    #[error(transparent)]
    Limit(crate::limits::LimitError),
}

impl From<crate::limits::LimitError> for PackError {
    fn from(e: crate::limits::LimitError) -> Self {
        PackError::Limit(e)
    }
}

impl PackError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> PackError {
        let path = path.into();
        move |error| PackError::Io { path, error }
    }
}
