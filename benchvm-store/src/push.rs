//! Putting a bundle into a store: verified first, then written under its
//! id (the bundle, then its signature, then its catalog entry), each
//! object only when it is not there yet. A second push of the same bundle
//! writes nothing; a push that stopped half-way is finished by pushing
//! again.

use std::path::Path;

use benchvm_format::input::{self, SIGNATURE_CAP};
use benchvm_format::{read, sign, Limits};

use crate::backend::{Put, Source};
use crate::catalog::{bundle_key, entry_key, signature_key, Entry};
use crate::error::StoreError;
use crate::Store;

/// What one push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    pub id: String,
    pub label: String,
    /// The objects written: `bundle`, `signature`, `catalog entry`; empty
    /// when the store had them all.
    pub written: Vec<&'static str>,
    /// Things worth saying (a signature the store holds already differs).
    pub notes: Vec<String>,
}

/// Verifies the bundle at `path` and puts it, its signature
/// (`PATH.minisig`, when there is one) and its catalog entry into `store`.
pub fn push(store: &Store, path: &Path, limits: &Limits) -> Result<Pushed, StoreError> {
    let shown = path.display().to_string();
    let bundle = read::open(path, limits, &|_| false).map_err(|source| StoreError::Bundle {
        object: shown.clone(),
        source,
    })?;
    let id = bundle.id.hex();
    let sig_path = sign::signature_path(path);
    let signature = match input::read_text(&sig_path, SIGNATURE_CAP, "minisign signature") {
        Ok(text) => Some(text),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(StoreError::refused(sig_path.display().to_string(), e.why())),
    };
    let backend = store.backend();
    let mut pushed = Pushed {
        id: id.clone(),
        label: bundle.manifest.label.clone(),
        written: Vec::new(),
        notes: Vec::new(),
    };
    if backend.put_new(&bundle_key(&id), Source::File(path))? == Put::Created {
        pushed.written.push("bundle");
    }
    if let Some(text) = signature {
        let key = signature_key(&id);
        if backend.put_new(&key, Source::Bytes(text.as_bytes()))? == Put::Created {
            pushed.written.push("signature");
        } else if backend.get(&key, SIGNATURE_CAP)?.as_deref() != Some(text.as_bytes()) {
            pushed.notes.push(format!(
                "{} differs from {} and was kept (a store holds one signature per bundle)",
                backend.name(&key),
                sig_path.display()
            ));
        }
    }
    let entry = Entry::of(&id, &bundle.manifest).to_bytes();
    if backend.put_new(&entry_key(&id), Source::Bytes(&entry))? == Put::Created {
        pushed.written.push("catalog entry");
    }
    Ok(pushed)
}
