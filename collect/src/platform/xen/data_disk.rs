//! The guests' data disk (`crate::guest::data_disk`) as dom0 serves it: a
//! block device for blkback, shared read-only by every domU. In the Xen lab
//! the image is a disk of the lab machine (found by its serial, named in
//! [`super::host::DATA_DISK_ENV`]); elsewhere a read-only loop device
//! of the image, detached when the platform is done. A hotplug script of
//! collect's own ([`HOTPLUG_SCRIPT`]) hands the device to blkback.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use super::host::{DATA_DISK_ENV, DATA_DISK_SERIAL};

/// The hotplug script's text, before its log path is filled in.
pub const HOTPLUG_SCRIPT: &str = include_str!("block-hotplug.sh");
/// File names of the script and its log in the platform's work folder.
pub const SCRIPT_NAME: &str = "benchvm-block";
pub const LOG_NAME: &str = "benchvm-block.log";

/// The data disk's block device in dom0.
#[derive(Debug)]
pub struct DataDevice {
    path: PathBuf,
    /// The hotplug script that hands it to blkback.
    script: PathBuf,
    /// A loop device this platform attached (detached on drop).
    looped: bool,
    image: PathBuf,
}

impl DataDevice {
    /// The block device holding `image`, and the hotplug script (written
    /// into `work`, dom0-local) that hands it to blkback.
    pub fn attach(image: &Path, work: &Path) -> Result<DataDevice> {
        let script = write_script(work)?;
        let lab_disk = (std::env::var_os(DATA_DISK_ENV).as_deref() == Some(image.as_os_str()))
            .then(|| block_device_with_serial(DATA_DISK_SERIAL));
        let (path, looped) = match lab_disk {
            Some(Some(path)) => {
                log::info!(
                    "data disk {} is the lab machine's {}",
                    image.display(),
                    path.display()
                );
                (path, false)
            }
            found => {
                if found.is_some() {
                    log::warn!("the lab's data disk is not among dom0's block devices; using a loop device");
                }
                (loop_device(image)?, true)
            }
        };
        Ok(DataDevice {
            path,
            script,
            looped,
            image: image.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn script(&self) -> &Path {
        &self.script
    }

    /// For the platform's facts.
    pub fn describe(&self) -> String {
        if self.looped {
            format!(
                "{} (read-only loop device of {})",
                self.path.display(),
                self.image.display()
            )
        } else {
            format!(
                "{} (a read-only disk of the lab machine)",
                self.path.display()
            )
        }
    }
}

impl Drop for DataDevice {
    fn drop(&mut self) {
        if self.looped {
            let _ = Command::new("losetup").arg("-d").arg(&self.path).status();
        }
    }
}

/// A read-only loop device of `image`.
fn loop_device(image: &Path) -> Result<PathBuf> {
    let out = Command::new("losetup")
        .args(["--find", "--show", "--read-only"])
        .arg(image)
        .output()
        .context("running losetup (package mount)")?;
    if !out.status.success() {
        bail!(
            "losetup --read-only {}: {}",
            image.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// Writes the executable hotplug script into `dir`; its log goes beside it.
fn write_script(dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(SCRIPT_NAME);
    let log = dir.join(LOG_NAME);
    let text = HOTPLUG_SCRIPT.replacen(
        "@LOG@",
        &crate::process::shell_quote(&log.to_string_lossy()),
        1,
    );
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("making {} executable", path.display()))?;
    Ok(path)
}

/// `/dev/vdX` of the virtio disk with `serial`, if any.
fn block_device_with_serial(serial: &str) -> Option<PathBuf> {
    std::fs::read_dir("/sys/block")
        .ok()?
        .filter_map(Result::ok)
        .find_map(|e| {
            let found = std::fs::read_to_string(e.path().join("serial")).ok()?;
            (found.trim() == serial).then(|| Path::new("/dev").join(e.file_name()))
        })
}
