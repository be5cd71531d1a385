//! `collect keygen [--out PREFIX] [--unencrypted]`: a minisign key pair for
//! signing bundles, the secret key encrypted with a password unless
//! `--unencrypted` says otherwise.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Context, Result};

pub fn run(prefix: &Path, unencrypted: bool) -> Result<()> {
    let (sk_path, pk_path) = (prefix.with_extension("key"), prefix.with_extension("pub"));
    if sk_path.exists() {
        anyhow::bail!("{} exists already; no key written", sk_path.display());
    }
    let (secret, public, how) = if unencrypted {
        let (s, p) = benchvm_format::sign::generate_keypair()?;
        (s, p, "unencrypted: anybody who can read it can sign")
    } else {
        let password = crate::password::new_key()?;
        let (s, p) = benchvm_format::sign::generate_encrypted_keypair(&password)?;
        (s, p, "encrypted: signing asks for its password")
    };
    let mut sk = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&sk_path)
        .with_context(|| format!("creating {} (it must not exist yet)", sk_path.display()))?;
    sk.write_all(secret.as_bytes())?;
    std::fs::write(&pk_path, public).with_context(|| format!("writing {}", pk_path.display()))?;
    crate::outln!(
        "secret key {} ({how})\npublic key {}",
        sk_path.display(),
        pk_path.display()
    );
    Ok(())
}
