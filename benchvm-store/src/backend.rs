//! What a store needs of the place it keeps objects: one small trait, with
//! a folder ([`crate::folder`]) and an S3 bucket ([`crate::s3`]) behind it.
//! Keys are `/`-separated names relative to the store's root, made by this
//! crate only (`bundles/<id>.tar.zst`, `catalog/entries/<id>.json`, ...).

use std::fmt::Debug;
use std::io::Read;
use std::path::Path;

use crate::error::StoreError;

/// What [`Backend::put_new`] writes.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    Bytes(&'a [u8]),
    /// A local file, streamed.
    File(&'a Path),
}

/// Whether [`Backend::put_new`] wrote the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    Created,
    /// An object of that key was there already; nothing was written.
    Existed,
}

/// An object found by [`Backend::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    pub size: u64,
}

/// A readable object and its size in bytes.
pub type Reader = (Box<dyn Read + Send>, u64);

/// A place that keeps objects by key.
pub trait Backend: Debug + Send + Sync {
    /// How a person names object `key` (a path or an `s3://` URL).
    fn name(&self, key: &str) -> String;

    /// The object's bytes, `None` when absent; refused when over `cap`
    /// bytes (checked before reading).
    fn get(&self, key: &str, cap: u64) -> Result<Option<Vec<u8>>, StoreError>;

    /// Several objects at once (as [`Backend::get`], in the order given);
    /// a backend may fetch them concurrently.
    fn get_many(&self, keys: &[String], cap: u64) -> Vec<Result<Option<Vec<u8>>, StoreError>> {
        keys.iter().map(|k| self.get(k, cap)).collect()
    }

    /// The object as a stream, `None` when absent.
    fn open(&self, key: &str) -> Result<Option<Reader>, StoreError>;

    /// Writes the object unless one of that key exists; never replaces
    /// one, also when another writer races for the same key.
    fn put_new(&self, key: &str, source: Source<'_>) -> Result<Put, StoreError>;

    /// Every object whose key starts with `prefix` (a folder-like prefix
    /// ending in `/`), in no particular order.
    fn list(&self, prefix: &str) -> Result<Vec<Listed>, StoreError>;

    /// Removes the object; an absent one is no error.
    fn delete(&self, key: &str) -> Result<(), StoreError>;
}
