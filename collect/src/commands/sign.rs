//! `collect sign BUNDLE --key PREFIX.key`: `BUNDLE.minisig`, a minisign
//! signature over the bundle's manifest (which holds every file's sha256).
//! An encrypted key's password comes from [`crate::password`].

use std::path::Path;

use anyhow::{Context, Result};

pub fn run(bundle: &Path, key: &Path) -> Result<()> {
    let verified = benchvm_format::read::open(bundle, &Default::default(), &|_| false)
        .with_context(|| {
            format!(
                "{} does not verify; only sound bundles are signed",
                bundle.display()
            )
        })?;
    let secret = benchvm_format::input::read_text(
        key,
        benchvm_format::input::KEY_CAP,
        "minisign secret key",
    )?;
    let password = benchvm_format::sign::is_encrypted(&secret)
        .then(|| crate::password::existing_key(key))
        .transpose()?;
    let sig = benchvm_format::sign::sign_with_password(
        &verified.manifest_bytes,
        &verified.manifest.label,
        &secret,
        password.as_deref(),
    )
    .map_err(|e| anyhow::anyhow!("{}: {e}", key.display()))?;
    let sig_path = benchvm_format::sign::signature_path(bundle);
    std::fs::write(&sig_path, sig).with_context(|| format!("writing {}", sig_path.display()))?;
    crate::outln!(
        "signature {}\nid        {}",
        sig_path.display(),
        verified.id
    );
    Ok(())
}
