//! dom0's root file system as domUs see it over 9p: a non-recursive bind
//! mount of `/`, unmounted on drop.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::xl;

/// A non-recursive bind mount of `/`, unmounted on drop.
#[derive(Debug)]
pub(super) struct RootView {
    path: PathBuf,
}

impl RootView {
    pub fn mount(path: &Path) -> Result<RootView> {
        fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))?;
        let argv: Vec<String> = ["mount", "--bind", "/"]
            .iter()
            .map(|s| (*s).to_owned())
            .chain([path.display().to_string()])
            .collect();
        let out = xl::capture(&argv, Duration::from_secs(60))?;
        if !out.success() {
            bail!("mount --bind / {}: {}", path.display(), out.describe());
        }
        Ok(RootView {
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RootView {
    fn drop(&mut self) {
        let argv = vec!["umount".to_owned(), self.path.display().to_string()];
        let _ = xl::capture(&argv, Duration::from_secs(60));
    }
}
