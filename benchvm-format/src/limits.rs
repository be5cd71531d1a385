//! The limits table (SPEC.md §9.2): one set of caps shared by every writer
//! (`collect run`/`pack`, `collect import`, `collect sign`) and the reader
//! (`analyze`). A writer checks them before it writes and fails with a
//! message naming the limit, so nothing a writer makes is refused by a
//! reader for its size.

use crate::manifest::MANIFEST_PATH;
use crate::metrics::METRICS_PATH;

/// Largest `manifest.json`, bytes.
pub const MAX_MANIFEST_BYTES: u64 = 32 << 20;
/// Most entries of a bundle, the manifest included.
pub const MAX_ENTRIES: usize = 100_000;
/// Most rows of `metrics.ndjson`.
pub const MAX_ROWS: usize = 1_000_000;
/// Largest entry a reader holds in memory whole: `metrics.ndjson`,
/// `env/summary.json`, `config/plan.json`, a kept import source.
pub const MAX_LOADED_BYTES: u64 = 512 << 20;
/// Most bytes of entries a reader holds in memory at once (the metrics
/// table and an import's source and metadata, for `verify --rederive`).
pub const MAX_KEPT_BYTES: u64 = 1 << 30;
/// Largest detached signature file (`.minisig`): the cap its reader
/// applies before reading it ([`crate::input::SIGNATURE_CAP`]).
pub const MAX_SIGNATURE_BYTES: u64 = crate::input::SIGNATURE_CAP;
/// Largest zstd window, as a power of two (SPEC.md §2).
pub const WINDOW_LOG_MAX: u32 = 27;
/// Decoded bytes a reader always allows, whatever the compressed size.
pub const MIN_DECODED_BYTES: u64 = 512 << 20;
/// Beyond [`MIN_DECODED_BYTES`], decoded bytes allowed per compressed
/// byte (the rule cargo applies to `.crate` files).
pub const DECODED_RATIO: u64 = 20;

/// Decoded bytes a reader allows for a bundle of `compressed` bytes.
pub fn decoded_cap(compressed: u64) -> u64 {
    MIN_DECODED_BYTES.max(compressed.saturating_mul(DECODED_RATIO))
}

/// A limit a bundle would break.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error(
        "{MANIFEST_PATH} would be {0} bytes, over the limit of {MAX_MANIFEST_BYTES} (SPEC.md §9.2)"
    )]
    Manifest(u64),
    #[error("{0} entries, over the limit of {MAX_ENTRIES} (SPEC.md §9.2)")]
    Entries(usize),
    #[error("{METRICS_PATH} would have more than {MAX_ROWS} rows, the limit (SPEC.md §9.2)")]
    Rows,
    #[error("{path} would be {size} bytes, over the limit of {MAX_LOADED_BYTES} for an entry a reader loads (SPEC.md §9.2)")]
    Loaded { path: String, size: u64 },
    #[error("the entries a reader loads together would be {0} bytes, over the limit of {MAX_KEPT_BYTES} (SPEC.md §9.2)")]
    Kept(u64),
    #[error("{content} bytes of content compress to {compressed} bytes: over {DECODED_RATIO}x and over {MIN_DECODED_BYTES} bytes, a reader refuses it unless its user raises the cap (SPEC.md §9.2)")]
    Decoded { content: u64, compressed: u64 },
}

/// Checks what a writer knows once the manifest is built: its size, the
/// count of entries and the size of the metrics table.
pub fn check_manifest(manifest_bytes: usize, files: &[crate::FileEntry]) -> Result<(), LimitError> {
    let manifest = manifest_bytes as u64;
    if manifest > MAX_MANIFEST_BYTES {
        return Err(LimitError::Manifest(manifest));
    }
    if files.len() + 1 > MAX_ENTRIES {
        return Err(LimitError::Entries(files.len() + 1));
    }
    if let Some(m) = files.iter().find(|f| f.path == METRICS_PATH) {
        if m.size > MAX_LOADED_BYTES {
            return Err(LimitError::Loaded {
                path: METRICS_PATH.into(),
                size: m.size,
            });
        }
    }
    Ok(())
}

/// Checks the decoded size of a written bundle against its compressed size.
pub fn check_decoded(content: u64, compressed: u64) -> Result<(), LimitError> {
    if content > decoded_cap(compressed) {
        return Err(LimitError::Decoded {
            content,
            compressed,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps() {
        assert_eq!(decoded_cap(1), MIN_DECODED_BYTES);
        assert_eq!(decoded_cap(100 << 20), 2000 << 20);
        assert!(check_decoded(MIN_DECODED_BYTES, 1).is_ok());
        assert!(check_decoded(MIN_DECODED_BYTES + 1, 1).is_err());
        let metrics = crate::FileEntry {
            path: METRICS_PATH.into(),
            size: MAX_LOADED_BYTES + 1,
            sha256: String::new(),
        };
        assert!(matches!(
            check_manifest(100, &[metrics]),
            Err(LimitError::Loaded { .. })
        ));
        assert!(matches!(
            check_manifest(usize::try_from(MAX_MANIFEST_BYTES).unwrap_or(0) + 1, &[]),
            Err(LimitError::Manifest(_))
        ));
        let huge = "x".repeat(usize::try_from(MAX_SIGNATURE_BYTES).unwrap_or(0) + 1);
        assert!(matches!(
            crate::sign::verify(b"{}", &huge, ""),
            Err(crate::sign::SignError::TooLarge(_))
        ));
    }
}
