//! Small local files read whole: signatures, keys, suites, import
//! metadata, a run folder's `meta.json`. Only regular files are read (a
//! FIFO would block the reader, `/dev/zero` never ends), refused before a
//! byte is read, and at most a cap of bytes each.

use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

/// A minisign signature file: four lines, the trusted comment holding the
/// bundle id and its label (at most 256 bytes): well under 1 KiB.
pub const SIGNATURE_CAP: u64 = 16 << 10;
/// A minisign key file: two lines, under 300 bytes.
pub const KEY_CAP: u64 = 16 << 10;
/// A suite file (`suites/paper.toml` is under 8 KiB).
pub const SUITE_CAP: u64 = 1 << 20;
/// An import metadata file or a run folder's `meta.json`.
pub const META_CAP: u64 = 1 << 20;

/// Why a small file was not read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{}: {error}", path.display())]
    Io { path: PathBuf, error: io::Error },
    #[error("{}: {kind}, not a regular file (refused before reading it)", path.display())]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error("{}: over {cap} bytes, more than a {what} ever holds", path.display())]
    TooLarge {
        path: PathBuf,
        cap: u64,
        what: &'static str,
    },
    #[error("{}: not UTF-8 text", path.display())]
    NotText { path: PathBuf },
}

impl InputError {
    /// Whether the file does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, InputError::Io { error, .. } if error.kind() == io::ErrorKind::NotFound)
    }

    /// What is wrong, without the path (for errors that name it already).
    pub fn why(&self) -> String {
        match self {
            InputError::Io { error, .. } => error.to_string(),
            InputError::NotRegular { kind, .. } => {
                format!("{kind}, not a regular file (refused before reading it)")
            }
            InputError::TooLarge { cap, what, .. } => {
                format!("over {cap} bytes, more than a {what} ever holds")
            }
            InputError::NotText { .. } => "not UTF-8 text".into(),
        }
    }
}

/// What a file is, when it is not a regular file.
fn irregular(kind: fs::FileType) -> Option<&'static str> {
    if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some("a folder")
    } else if kind.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if kind.is_char_device() {
        Some("a character device")
    } else if kind.is_block_device() {
        Some("a block device")
    } else if kind.is_socket() {
        Some("a socket")
    } else {
        Some("not a file")
    }
}

/// Reads the regular file at `path` (a symlink to one is followed), a
/// `what` of at most `cap` bytes.
pub fn read(path: &Path, cap: u64, what: &'static str) -> Result<Vec<u8>, InputError> {
    let io = |error| InputError::Io {
        path: path.to_path_buf(),
        error,
    };
    let check = |meta: &fs::Metadata| match irregular(meta.file_type()) {
        Some(kind) => Err(InputError::NotRegular {
            path: path.to_path_buf(),
            kind,
        }),
        None if meta.len() > cap => Err(InputError::TooLarge {
            path: path.to_path_buf(),
            cap,
            what,
        }),
        None => Ok(()),
    };
    // Before opening: opening a FIFO blocks until a writer comes.
    check(&fs::metadata(path).map_err(io)?)?;
    let file = File::open(path).map_err(io)?;
    // The same file as checked, or one swapped in since.
    check(&file.metadata().map_err(io)?)?;
    let mut bytes = Vec::new();
    file.take(cap + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > cap {
        return Err(InputError::TooLarge {
            path: path.to_path_buf(),
            cap,
            what,
        });
    }
    Ok(bytes)
}

/// [`read`] of UTF-8 text.
pub fn read_text(path: &Path, cap: u64, what: &'static str) -> Result<String, InputError> {
    String::from_utf8(read(path, cap, what)?).map_err(|_| InputError::NotText {
        path: path.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_small_regular_files_are_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ok = dir.path().join("ok");
        fs::write(&ok, "four\n").expect("write");
        assert_eq!(read_text(&ok, 5, "test file").expect("read"), "four\n");
        let err = read(&ok, 4, "test file").expect_err("too large");
        assert!(matches!(err, InputError::TooLarge { cap: 4, .. }), "{err}");
        assert!(
            err.to_string()
                .contains("over 4 bytes, more than a test file ever holds"),
            "{err}"
        );

        for (path, kind) in [
            (Path::new("/dev/zero"), "a character device"),
            (dir.path(), "a folder"),
        ] {
            let err = read(path, 1 << 20, "test file").expect_err("not regular");
            assert!(
                matches!(err, InputError::NotRegular { kind: k, .. } if k == kind),
                "{err}"
            );
        }
        let missing = read(&dir.path().join("missing"), 10, "test file").expect_err("missing");
        assert!(missing.is_not_found(), "{missing}");
    }
}
