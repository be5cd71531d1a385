//! `collect keygen [--out PREFIX]`: a minisign key pair for signing bundles.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Context, Result};

pub fn run(prefix: &Path) -> Result<()> {
    let (secret, public) = benchvm_format::sign::generate_keypair()?;
    let (sk_path, pk_path) = (prefix.with_extension("key"), prefix.with_extension("pub"));
    let mut sk = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&sk_path)
        .with_context(|| format!("creating {} (it must not exist yet)", sk_path.display()))?;
    sk.write_all(secret.as_bytes())?;
    std::fs::write(&pk_path, public).with_context(|| format!("writing {}", pk_path.display()))?;
    crate::outln!(
        "secret key {}\npublic key {}",
        sk_path.display(),
        pk_path.display()
    );
    Ok(())
}
