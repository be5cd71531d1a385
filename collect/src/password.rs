//! The password of an encrypted signing key: from `$BENCHVM_KEY_PASSWORD`
//! (for scripts), else asked on the terminal; never from a pipe.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{bail, Context, Result};

/// The environment variable a script gives the password in.
pub const ENV: &str = "BENCHVM_KEY_PASSWORD";

/// The variable's value, when set and not empty.
fn from_env() -> Option<String> {
    std::env::var(ENV).ok().filter(|p| !p.is_empty())
}

/// Whether a person can be asked: standard input is a terminal (the
/// password itself is read from /dev/tty, without echo).
fn can_ask() -> bool {
    std::io::stdin().is_terminal()
}

fn ask(prompt: &str) -> Result<String> {
    rpassword::prompt_password(prompt).context("reading the password from the terminal")
}

/// A new key's password: the variable's, else asked twice.
pub fn new_key() -> Result<String> {
    if let Some(p) = from_env() {
        return Ok(p);
    }
    if !can_ask() {
        bail!(
            "no terminal to ask the new key's password on: set {ENV}, or pass --unencrypted \
             for a secret key without a password"
        );
    }
    let first = ask("Password for the new secret key: ")?;
    if first.is_empty() {
        bail!("an empty password; pass --unencrypted for a secret key without a password");
    }
    if ask("The same password again: ")? != first {
        bail!("the two passwords differ; no key written");
    }
    Ok(first)
}

/// The password of the encrypted key `key`: the variable's, else asked.
pub fn existing_key(key: &Path) -> Result<String> {
    if let Some(p) = from_env() {
        return Ok(p);
    }
    if !can_ask() {
        bail!(
            "{} is encrypted and there is no terminal to ask its password on: set {ENV}",
            key.display()
        );
    }
    ask(&format!("Password of {}: ", key.display()))
}
