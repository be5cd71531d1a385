//! Bundle stores: many benchvm bundles in one folder or S3 prefix, each
//! under its id, with a catalog to list them (SPEC.md §12).
//!
//! ```text
//! benchvm-store.json                      marker: {"format":"benchvm-store","version":1}
//! bundles/<id>.tar.zst                    the bundle, byte for byte
//! bundles/<id>.tar.zst.minisig            its signature, when it came with one
//! catalog/entries/<id>.json               its catalog entry (label, host, suite, date, platforms)
//! catalog/snapshots/<n>-<sha256>.ndjson   n entries in one object (saves reads)
//! ```
//!
//! - [`location`] parses `STORE[/filter]`;
//! - [`Store`] opens one, over a [`backend::Backend`]: [`folder::Folder`]
//!   or [`s3::S3`];
//! - [`push`] puts a verified bundle in; [`fetch`] reads one back,
//!   verifying it as it streams;
//! - [`catalog`] lists what a store holds.

pub mod backend;
pub mod catalog;
pub mod error;
pub mod fetch;
pub mod folder;
pub mod location;
pub mod push;
pub mod s3;

use serde::{Deserialize, Serialize};

pub use error::StoreError;
pub use location::{Filter, Location, Target};

use backend::{Backend, Put, Source};

/// Key of the store marker.
pub const MARKER: &str = "benchvm-store.json";
/// Value of the marker's `format`.
pub const FORMAT_NAME: &str = "benchvm-store";
/// The store layout version this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Marker {
    format: String,
    version: u32,
}

/// An open store.
#[derive(Debug)]
pub struct Store {
    location: Location,
    backend: Box<dyn Backend>,
}

impl Store {
    /// Opens an existing store: its marker must be there.
    pub fn open(location: &Location) -> Result<Store, StoreError> {
        let store = Store::connect(location)?;
        store.check_marker(false)?;
        Ok(store)
    }

    /// Opens a store, making it (writing its marker) when there is none.
    pub fn open_or_create(location: &Location) -> Result<Store, StoreError> {
        let store = Store::connect(location)?;
        store.check_marker(true)?;
        Ok(store)
    }

    /// A store over a given backend (tests use it to tune the S3 one).
    pub fn with_backend(location: Location, backend: Box<dyn Backend>) -> Store {
        Store { location, backend }
    }

    fn connect(location: &Location) -> Result<Store, StoreError> {
        let backend: Box<dyn Backend> = match location {
            Location::Folder(dir) => Box::new(folder::Folder::new(dir)),
            Location::S3 { bucket, prefix } => Box::new(s3::S3::from_env(bucket, prefix)?),
        };
        Ok(Store::with_backend(location.clone(), backend))
    }

    /// Reads the marker; with `create`, writes it when absent.
    pub fn check_marker(&self, create: bool) -> Result<(), StoreError> {
        let bytes = match self.backend.get(MARKER, 4096)? {
            Some(bytes) => bytes,
            None if create => {
                let marker = Marker {
                    format: FORMAT_NAME.into(),
                    version: FORMAT_VERSION,
                };
                let mut bytes = serde_json::to_vec(&marker).unwrap_or_default();
                bytes.push(b'\n');
                if self.backend.put_new(MARKER, Source::Bytes(&bytes))? == Put::Created {
                    return Ok(());
                }
                // Another pusher made it first: read theirs.
                return self.check_marker(false);
            }
            None => {
                return Err(StoreError::NotAStore {
                    store: self.location.to_string(),
                    marker: MARKER,
                })
            }
        };
        let object = self.backend.name(MARKER);
        let marker: Marker = serde_json::from_slice(&bytes).map_err(|e| StoreError::Marker {
            object: object.clone(),
            reason: e.to_string(),
        })?;
        if marker.format != FORMAT_NAME || marker.version != FORMAT_VERSION {
            return Err(StoreError::Marker {
                object,
                reason: format!(
                    "a {} store of version {}; this program reads {FORMAT_NAME} version {FORMAT_VERSION}",
                    marker.format, marker.version
                ),
            });
        }
        Ok(())
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    pub fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    /// How a person names the bundle object of `id`.
    pub fn bundle_name(&self, id: &str) -> String {
        self.backend.name(&catalog::bundle_key(id))
    }

    /// Every bundle of the store with its catalog entry.
    pub fn list(&self) -> Result<catalog::Listing, StoreError> {
        catalog::list(self.backend.as_ref())
    }
}
