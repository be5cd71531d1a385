//! What the commands that make bundles (`run`, `pack`, `import`) print
//! with `--json`: one JSON object on stdout, on one line. The layout is
//! README.md's "Machine-readable output"; a field is never renamed, new
//! ones may be added.

use anyhow::{Context, Result};
use benchvm_format::rundir::Packed;
use serde::Serialize;

/// A bundle a command wrote.
#[derive(Debug, Clone, Serialize)]
pub struct BundleOut {
    /// The bundle file, as the command was told or chose it.
    pub path: String,
    /// The bundle id (sha256 of its manifest, 64 hex digits).
    pub id: String,
    /// Entries in the bundle, the manifest included.
    pub files: usize,
    /// Size of the bundle file in bytes.
    pub bytes: u64,
}

impl From<&Packed> for BundleOut {
    fn from(p: &Packed) -> Self {
        BundleOut {
            path: p.path.display().to_string(),
            id: p.id.hex(),
            files: p.files,
            bytes: p.bytes,
        }
    }
}

impl BundleOut {
    /// A bundle made elsewhere (the Xen lab's), read back for its counts.
    pub fn of_file(path: &std::path::Path) -> Result<Self> {
        let b = benchvm_format::read::open(path, &Default::default(), &|_| false)
            .with_context(|| format!("reading back {}", path.display()))?;
        let bytes = std::fs::metadata(path)
            .with_context(|| format!("reading back {}", path.display()))?
            .len();
        Ok(BundleOut {
            path: path.display().to_string(),
            id: b.id.hex(),
            files: b.manifest.files.len() + 1,
            bytes,
        })
    }
}

/// Prints `value` as one line of JSON on stdout.
pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    let line = serde_json::to_string(value).context("writing JSON")?;
    crate::outln!("{line}");
    Ok(())
}
