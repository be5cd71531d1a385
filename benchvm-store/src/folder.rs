//! A store in a folder. Objects are files at their key's path. A new object
//! is written to a temporary file in its folder, fsynced, then linked to
//! its name (`link(2)` fails when the name exists, so a racing writer never
//! replaces an object), and the folder is fsynced. Only regular files are
//! read: a symlink, FIFO or device where an object should be is refused
//! before it is opened.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::backend::{Backend, Listed, Put, Reader, Source};
use crate::error::StoreError;

/// Prefix of the temporary files a writer leaves only when it is killed.
const TEMP_PREFIX: &str = ".tmp-";

/// Objects in files under `root`.
#[derive(Debug, Clone)]
pub struct Folder {
    root: PathBuf,
}

impl Folder {
    pub fn new(root: &Path) -> Self {
        Folder {
            root: root.to_path_buf(),
        }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    /// The object's size when it is a regular file, `None` when absent.
    fn regular(&self, key: &str) -> Result<Option<u64>, StoreError> {
        let path = self.path(key);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_file() => Ok(Some(m.len())),
            Ok(_) => Err(StoreError::refused(
                self.name(key),
                "not a regular file (refused before opening it)",
            )),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::io(self.name(key), e)),
        }
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl Backend for Folder {
    fn name(&self, key: &str) -> String {
        self.path(key).display().to_string()
    }

    fn get(&self, key: &str, cap: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(size) = self.regular(key)? else {
            return Ok(None);
        };
        if size > cap {
            return Err(StoreError::TooLarge {
                object: self.name(key),
                size,
                cap,
                what: "object of this kind",
            });
        }
        let mut bytes = Vec::new();
        File::open(self.path(key))
            .and_then(|f| f.take(cap.saturating_add(1)).read_to_end(&mut bytes))
            .map_err(|e| StoreError::io(self.name(key), e))?;
        if bytes.len() as u64 > cap {
            return Err(StoreError::TooLarge {
                object: self.name(key),
                size: bytes.len() as u64,
                cap,
                what: "object of this kind",
            });
        }
        Ok(Some(bytes))
    }

    fn open(&self, key: &str) -> Result<Option<Reader>, StoreError> {
        let Some(size) = self.regular(key)? else {
            return Ok(None);
        };
        let file = File::open(self.path(key)).map_err(|e| StoreError::io(self.name(key), e))?;
        Ok(Some((Box::new(file), size)))
    }

    fn put_new(&self, key: &str, source: Source<'_>) -> Result<Put, StoreError> {
        if self.regular(key)?.is_some() {
            return Ok(Put::Existed);
        }
        let path = self.path(key);
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        let fail = |e: io::Error| StoreError::io(self.name(key), e);
        fs::create_dir_all(&dir).map_err(fail)?;
        let temp = dir.join(format!(
            "{TEMP_PREFIX}{}-{}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let written = (|| {
            let mut out = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)?;
            match source {
                Source::Bytes(b) => out.write_all(b)?,
                Source::File(p) => {
                    io::copy(&mut File::open(p)?, &mut out)?;
                }
            }
            out.sync_all()?;
            fs::hard_link(&temp, &path)
        })();
        let _ = fs::remove_file(&temp);
        match written {
            Ok(()) => {
                sync_dir(&dir).map_err(fail)?;
                Ok(Put::Created)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(Put::Existed),
            Err(e) => Err(fail(e)),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<Listed>, StoreError> {
        let dir = self.path(prefix);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StoreError::io(dir.display().to_string(), e)),
        };
        let mut listed = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io(dir.display().to_string(), e))?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if name.starts_with(TEMP_PREFIX) {
                continue;
            }
            // Not followed: a symlink is listed as what it is, and refused
            // when read.
            let meta = entry
                .metadata()
                .map_err(|e| StoreError::io(entry.path().display().to_string(), e))?;
            if meta.is_dir() {
                continue;
            }
            listed.push(Listed {
                key: format!("{prefix}{name}"),
                size: meta.len(),
            });
        }
        Ok(listed)
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        match fs::remove_file(self.path(key)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::io(self.name(key), e)),
        }
    }
}
