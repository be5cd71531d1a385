//! Signatures (SPEC.md §11): minisign-compatible Ed25519 signatures over the
//! exact bytes of `manifest.json`, kept in a detached file beside the bundle
//! (`<bundle>.minisig`). Since the manifest holds every file's sha256, the
//! signature covers the whole bundle; and anybody can check it with the
//! minisign tool itself:
//!
//! ```text
//! zstd -dc B.tar.zst | tar -xO manifest.json > manifest.json
//! minisign -V -m manifest.json -x B.tar.zst.minisig -p signer.pub
//! ```

use std::io::Cursor;
use std::path::{Path, PathBuf};

use minisign::{KeyPair, PublicKeyBox, SecretKeyBox, SignatureBox};

use crate::manifest::BundleId;

/// Suffix of a bundle's detached signature file.
pub const SIGNATURE_SUFFIX: &str = ".minisig";

/// Why signing or checking a signature failed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("not a usable minisign secret key: {0}")]
    SecretKey(String),
    #[error("not a minisign public key: {0}")]
    PublicKey(String),
    #[error("not a minisign signature: {0}")]
    Malformed(String),
    #[error("a minisign public key, where the secret key is wanted: sign with the pair's secret key (PREFIX.key), not its public key (PREFIX.pub)")]
    PublicKeyGiven,
    #[error("a minisign secret key, where the trusted public key is wanted: give the pair's public key (PREFIX.pub); the secret key (PREFIX.key) never leaves its owner")]
    SecretKeyGiven,
    #[error("this secret key is encrypted: its password is needed to sign")]
    NeedsPassword,
    #[error("wrong password for this secret key")]
    WrongPassword,
    #[error("no signature at {} (a trusted key was given, so one is required)", .0.display())]
    Missing(PathBuf),
    #[error("signed by key {signer}, not by the trusted key {trusted}")]
    WrongKey { signer: String, trusted: String },
    #[error("signature does not match this manifest: the bundle changed after signing, or the signature is for another bundle")]
    Mismatch,
    #[error("signature's trusted comment names bundle {named}, this bundle is {actual}")]
    OtherBundle { named: String, actual: String },
    #[error("a signature of {0} bytes, over the limit of {max} (SPEC.md §9.2)", max = crate::limits::MAX_SIGNATURE_BYTES)]
    TooLarge(usize),
}

/// Refuses a signature over the limits table's size.
fn within_limit(signature: &str) -> Result<(), SignError> {
    if signature.len() as u64 > crate::limits::MAX_SIGNATURE_BYTES {
        return Err(SignError::TooLarge(signature.len()));
    }
    Ok(())
}

/// The signature file of a bundle.
pub fn signature_path(bundle: &Path) -> PathBuf {
    let mut name = bundle.as_os_str().to_owned();
    name.push(SIGNATURE_SUFFIX);
    PathBuf::from(name)
}

/// A new unencrypted key pair as (secret key file text, public key file text).
pub fn generate_keypair() -> Result<(String, String), SignError> {
    let kp =
        KeyPair::generate_unencrypted_keypair().map_err(|e| SignError::SecretKey(e.to_string()))?;
    boxed(kp)
}

/// A new key pair whose secret key is encrypted with `password`, as
/// minisign's own `-G` does (scrypt, minisign's parameters: 32 MiB of
/// memory), as (secret key file text, public key file text).
pub fn generate_encrypted_keypair(password: &str) -> Result<(String, String), SignError> {
    let kp = KeyPair::generate_encrypted_keypair(Some(password.to_owned()))
        .map_err(|e| SignError::SecretKey(e.to_string()))?;
    boxed(kp)
}

fn boxed(kp: KeyPair) -> Result<(String, String), SignError> {
    let sk = kp
        .sk
        .to_box(Some("benchvm signing key"))
        .map_err(|e| SignError::SecretKey(e.to_string()))?;
    let pk = kp
        .pk
        .to_box()
        .map_err(|e| SignError::PublicKey(e.to_string()))?;
    Ok((sk.into_string(), pk.into_string()))
}

fn trusted_comment(id: &BundleId, label: &str) -> String {
    let label: String = label.chars().filter(|c| !c.is_control()).collect();
    format!("benchvm-bundle id={id} label={label}")
}

/// Signs manifest bytes with an unencrypted minisign secret key.
pub fn sign(manifest_bytes: &[u8], label: &str, secret_key: &str) -> Result<String, SignError> {
    sign_with_password(manifest_bytes, label, secret_key, None)
}

/// Signs manifest bytes with a minisign secret key, decrypting it with
/// `password` when it is encrypted ([`is_encrypted`]).
pub fn sign_with_password(
    manifest_bytes: &[u8],
    label: &str,
    secret_key: &str,
    password: Option<&str>,
) -> Result<String, SignError> {
    let sk_box = SecretKeyBox::from_string(secret_key);
    let sk = match (is_encrypted(secret_key), password) {
        (true, None) => return Err(SignError::NeedsPassword),
        (true, Some(p)) => sk_box
            .and_then(|b| b.into_secret_key(Some(p.to_owned())))
            .map_err(|e| {
                if e.to_string().contains("Wrong password") {
                    SignError::WrongPassword
                } else {
                    SignError::SecretKey(e.to_string())
                }
            })?,
        (false, _) => sk_box
            .and_then(|b| b.into_unencrypted_secret_key())
            .map_err(|e| {
                if is_public_key(secret_key) {
                    SignError::PublicKeyGiven
                } else {
                    SignError::SecretKey(e.to_string())
                }
            })?,
    };
    let id = BundleId::of_manifest(manifest_bytes);
    let sig = minisign::sign(
        None,
        &sk,
        Cursor::new(manifest_bytes),
        Some(&trusted_comment(&id, label)),
        Some("signature of a benchvm bundle's manifest.json"),
    )
    .map_err(|e| SignError::SecretKey(e.to_string()))?;
    let text = sig.into_string();
    within_limit(&text)?;
    Ok(text)
}

fn is_public_key(text: &str) -> bool {
    PublicKeyBox::from_string(text)
        .and_then(|b| b.into_public_key())
        .is_ok()
}

fn is_secret_key(text: &str) -> bool {
    is_encrypted(text)
        || SecretKeyBox::from_string(text)
            .and_then(|b| b.into_unencrypted_secret_key())
            .is_ok()
}

/// Whether a secret key file holds an encrypted key (one that needs its
/// password to sign). minisign 0.10 says so only in the message of the
/// error it gives when such a key is read as unencrypted (the test
/// `an_encrypted_key_needs_its_password` holds it to that).
pub fn is_encrypted(secret_key: &str) -> bool {
    match SecretKeyBox::from_string(secret_key).and_then(|b| b.into_unencrypted_secret_key()) {
        Ok(_) => false,
        Err(e) => e.to_string() == "Key might be encrypted",
    }
}

/// A signature file is exactly four lines (untrusted comment, signature,
/// trusted comment, global signature), each ended by a newline but maybe
/// the last: nothing may follow them, since nothing after them is signed.
fn check_layout(signature: &str) -> Result<(), SignError> {
    let body = signature.strip_suffix('\n').unwrap_or(signature);
    let lines = body.split('\n').count();
    if lines != 4 {
        return Err(SignError::Malformed(format!(
            "a signature file holds 4 lines, this one {lines}{}",
            if lines > 4 {
                " (nothing may follow the global signature)"
            } else {
                ""
            }
        )));
    }
    Ok(())
}

/// Who signed: the key id and the signed (trusted) comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub key_id: String,
    pub trusted_comment: String,
}

fn key_id(keynum: &[u8]) -> String {
    keynum.iter().rev().map(|b| format!("{b:02X}")).collect()
}

/// Checks `signature` over `manifest_bytes` against the trusted public key.
pub fn verify(
    manifest_bytes: &[u8],
    signature: &str,
    public_key: &str,
) -> Result<Signed, SignError> {
    within_limit(signature)?;
    let pk = PublicKeyBox::from_string(public_key)
        .and_then(|b| b.into_public_key())
        .map_err(|e| {
            if is_secret_key(public_key) {
                SignError::SecretKeyGiven
            } else {
                SignError::PublicKey(e.to_string())
            }
        })?;
    check_layout(signature)?;
    let sig =
        SignatureBox::from_string(signature).map_err(|e| SignError::Malformed(e.to_string()))?;
    if sig.keynum() != pk.keynum() {
        return Err(SignError::WrongKey {
            signer: key_id(sig.keynum()),
            trusted: key_id(pk.keynum()),
        });
    }
    minisign::verify(&pk, &sig, Cursor::new(manifest_bytes), true, false, false)
        .map_err(|_| SignError::Mismatch)?;
    let comment = sig
        .trusted_comment()
        .map_err(|e| SignError::Malformed(e.to_string()))?;
    let actual = BundleId::of_manifest(manifest_bytes).hex();
    if let Some(named) = comment
        .strip_prefix("benchvm-bundle id=")
        .and_then(|r| r.split(' ').next())
    {
        if named != actual {
            return Err(SignError::OtherBundle {
                named: named.into(),
                actual,
            });
        }
    }
    Ok(Signed {
        key_id: key_id(pk.keynum()),
        trusted_comment: comment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_then_verify_and_refuse_changes_and_strangers() {
        let (sk, pk) = generate_keypair().expect("keys");
        let (_, other_pk) = generate_keypair().expect("keys");
        let manifest = br#"{"format":"benchvm-bundle"}"#;
        let sig = sign(manifest, "run 1", &sk).expect("sign");
        let signed = verify(manifest, &sig, &pk).expect("verify");
        assert!(signed
            .trusted_comment
            .contains(&BundleId::of_manifest(manifest).hex()));
        assert!(signed.trusted_comment.ends_with("label=run 1"));

        let changed = br#"{"format":"benchvm-bundlE"}"#;
        assert!(matches!(
            verify(changed, &sig, &pk),
            Err(SignError::Mismatch)
        ));
        let err = verify(manifest, &sig, &other_pk).expect_err("stranger");
        assert!(matches!(err, SignError::WrongKey { .. }), "{err}");
        assert!(matches!(
            verify(manifest, "garbage", &pk),
            Err(SignError::Malformed(_))
        ));
        assert!(matches!(
            verify(manifest, &sig, "garbage"),
            Err(SignError::PublicKey(_))
        ));
    }

    #[test]
    fn trailing_junk_after_a_signature_is_refused() {
        let (sk, pk) = generate_keypair().expect("keys");
        let manifest = br#"{"format":"benchvm-bundle"}"#;
        let sig = sign(manifest, "run 1", &sk).expect("sign");
        assert!(sig.ends_with('\n'), "{sig:?}");
        verify(manifest, sig.trim_end(), &pk).expect("no final newline is fine");
        for junk in ["\n", "extra\n", "\u{0}", &"A".repeat(10_000)] {
            let err = verify(manifest, &format!("{sig}{junk}"), &pk).expect_err(junk);
            assert!(matches!(err, SignError::Malformed(_)), "{err}");
            assert!(
                err.to_string()
                    .contains("a signature file holds 4 lines, this one 5"),
                "{err}"
            );
        }
    }

    #[test]
    fn an_encrypted_key_needs_its_password() {
        let (sk, pk) = generate_encrypted_keypair("correct horse").expect("keys");
        let (plain, _) = generate_keypair().expect("keys");
        assert!(is_encrypted(&sk));
        assert!(!is_encrypted(&plain));
        assert!(!is_encrypted(&pk));
        let manifest = br#"{"format":"benchvm-bundle"}"#;
        let err = sign(manifest, "run", &sk).expect_err("no password");
        assert!(matches!(err, SignError::NeedsPassword), "{err}");
        let err = sign_with_password(manifest, "run", &sk, Some("wrong")).expect_err("wrong");
        assert!(matches!(err, SignError::WrongPassword), "{err}");
        let sig = sign_with_password(manifest, "run", &sk, Some("correct horse")).expect("sign");
        verify(manifest, &sig, &pk).expect("verify");
        let err = verify(manifest, &sig, &sk).expect_err("secret key as the trusted key");
        assert!(matches!(err, SignError::SecretKeyGiven), "{err}");
    }

    #[test]
    fn the_wrong_kind_of_key_is_named() {
        let (sk, pk) = generate_keypair().expect("keys");
        let manifest = br#"{"format":"benchvm-bundle"}"#;
        let err = sign(manifest, "run", &pk).expect_err("public key");
        assert!(matches!(err, SignError::PublicKeyGiven), "{err}");
        assert!(err
            .to_string()
            .starts_with("a minisign public key, where the secret key is wanted"));
        let sig = sign(manifest, "run", &sk).expect("sign");
        let err = verify(manifest, &sig, &sk).expect_err("secret key");
        assert!(matches!(err, SignError::SecretKeyGiven), "{err}");
    }
}
