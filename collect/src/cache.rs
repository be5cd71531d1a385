//! The cache folder: the guest kernel, the Xen hypervisor, the extracted
//! kernel tree and the initramfs images collect builds. One per user, like
//! cargo's and pip's: `--cache DIR`, else `$BENCHVM_CACHE`, else
//! `$XDG_CACHE_HOME/benchvm`, else `~/.cache/benchvm` (the XDG Base
//! Directory Specification's default). Nothing of the source tree is
//! compiled in, so installed binaries work from any folder.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Environment variable naming the cache folder.
pub const ENV: &str = "BENCHVM_CACHE";

/// The cache folder from the environment, per the XDG rule above.
pub fn default_dir() -> Result<PathBuf> {
    dir_from(
        std::env::var_os(ENV).map(PathBuf::from),
        std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from),
        std::env::var_os("HOME").map(PathBuf::from),
    )
}

/// The cache folder: `explicit` if given, else [`default_dir`]; created,
/// and absolute.
pub fn resolve(explicit: Option<&Path>) -> Result<PathBuf> {
    let dir = match explicit {
        Some(p) => p.to_path_buf(),
        None => default_dir()?,
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating the cache folder {}", dir.display()))?;
    std::fs::canonicalize(&dir)
        .with_context(|| format!("resolving the cache folder {}", dir.display()))
}

fn dir_from(env: Option<PathBuf>, xdg: Option<PathBuf>, home: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(p) = env.filter(|p| !p.as_os_str().is_empty()) {
        return Ok(p);
    }
    // XDG: a relative XDG_CACHE_HOME is invalid and must be ignored.
    if let Some(p) = xdg.filter(|p| p.is_absolute()) {
        return Ok(p.join("benchvm"));
    }
    if let Some(h) = home.filter(|p| p.is_absolute()) {
        return Ok(h.join(".cache").join("benchvm"));
    }
    anyhow::bail!("no cache folder: set {ENV} or HOME, or pass --cache DIR")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_xdg_order() {
        let p = |s: &str| Some(PathBuf::from(s));
        assert_eq!(
            dir_from(p("/c"), p("/x"), p("/h")).expect("env"),
            PathBuf::from("/c")
        );
        assert_eq!(
            dir_from(None, p("/x"), p("/h")).expect("xdg"),
            PathBuf::from("/x/benchvm")
        );
        assert_eq!(
            dir_from(p(""), p("relative"), p("/h")).expect("home"),
            PathBuf::from("/h/.cache/benchvm")
        );
        assert!(dir_from(None, None, None).is_err());
    }
}
