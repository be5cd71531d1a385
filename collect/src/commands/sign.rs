//! `collect sign BUNDLE --key PREFIX.key`: `BUNDLE.minisig`, a minisign
//! signature over the bundle's manifest (which holds every file's sha256).

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
    let sig =
        benchvm_format::sign::sign(&verified.manifest_bytes, &verified.manifest.label, &secret)
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
