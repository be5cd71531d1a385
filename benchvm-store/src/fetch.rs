//! Reading bundles back: every object is verified as it streams in (the
//! hostile-input reader of `benchvm-format`), and must be the bundle its
//! name says.

use benchvm_format::input::SIGNATURE_CAP;
use benchvm_format::{read, Bundle, FileEntry, Limits};

use crate::catalog::{bundle_key, signature_key};
use crate::error::StoreError;
use crate::Store;

/// Fetches and verifies the bundle `id`, keeping the entries `keep` asks
/// for. Refused, with the object named, when it is absent, fails
/// verification, or holds another bundle.
pub fn bundle(
    store: &Store,
    id: &str,
    limits: &Limits,
    keep: &dyn Fn(&FileEntry) -> bool,
) -> Result<Bundle, StoreError> {
    let key = bundle_key(id);
    let object = store.bundle_name(id);
    let (reader, size) = store
        .backend()
        .open(&key)?
        .ok_or_else(|| StoreError::refused(&object, "no such object"))?;
    let bundle = read::read(reader, size, limits, keep).map_err(|source| StoreError::Bundle {
        object: object.clone(),
        source,
    })?;
    let holds = bundle.id.hex();
    if holds != id {
        return Err(StoreError::WrongId { object, holds });
    }
    Ok(bundle)
}

/// The signature stored beside bundle `id`, if any (at most
/// [`SIGNATURE_CAP`] bytes of UTF-8).
pub fn signature(store: &Store, id: &str) -> Result<Option<String>, StoreError> {
    let key = signature_key(id);
    match store.backend().get(&key, SIGNATURE_CAP)? {
        None => Ok(None),
        Some(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| StoreError::refused(store.backend().name(&key), "not UTF-8 text")),
    }
}
