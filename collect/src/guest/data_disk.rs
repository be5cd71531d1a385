//! A guest's read-only data disk: what its workloads read (the kernel tree
//! and its configured build folders) as an ext4 image on a block device of
//! the guest's own, so no measured step reads its inputs over 9p.
//!
//! Over 9p every lookup is a round trip to the host, and under TCG a round
//! trip is slow: a kernel build of `init/` does about 25,000 opens and
//! 20,000 stats (a third of them of missing files, which 9p never caches).
//! The paper's guests had disks of their own; so do these, for their inputs.
//!
//! The image is made once per cache with `mkfs.ext4 -d` from hard links of
//! the host folders, and says itself where its folders go: its file
//! [`BINDS_FILE`] holds `SUBFOLDER HOST-PATH` lines, and the guest's init
//! bind-mounts each folder over the host path of the same name in its view
//! of the host root, so the workloads' command lines stay the host's.
//! `mkfs.ext4 -d` keeps whole seconds of modification times; make compares
//! times, and truncation keeps their order, so nothing is rebuilt.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

/// The disk's serial (virtio-blk), by which the guest's init finds it.
pub const SERIAL: &str = "benchvm-data";
/// The image's own list of `SUBFOLDER HOST-PATH` binds.
pub const BINDS_FILE: &str = ".benchvm-binds";

/// An image and the binds it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDisk {
    pub image: PathBuf,
    pub binds: Vec<(String, PathBuf)>,
}

/// The image holding `parts` (subfolder name, host folder), made in
/// `<cache>/data-disks/` unless it exists. `may_build` false (a collector
/// whose cache is another host's, as in the Xen lab's dom0) makes a missing
/// image an error instead.
pub fn image(cache: &Path, parts: &[(String, PathBuf)], may_build: bool) -> Result<DataDisk> {
    let mut key = Sha256::new();
    for (sub, host) in parts {
        key.update(sub.as_bytes());
        key.update([0]);
        key.update(host.as_os_str().as_encoded_bytes());
        key.update([0]);
        // A folder made once (a build seed) says when in its marker.
        if let Ok(m) = fs::metadata(host.join(".complete")).and_then(|m| m.modified()) {
            key.update(format!("{m:?}").as_bytes());
        }
    }
    let key = hex::encode(key.finalize());
    let dir = cache.join("data-disks");
    let image = dir.join(format!("data-{}.img", &key[..16]));
    let disk = DataDisk {
        image: image.clone(),
        binds: parts.to_vec(),
    };
    if image.is_file() {
        return Ok(disk);
    }
    if !may_build {
        bail!(
            "the guests' data disk {} is missing: it is made by the collector that owns this cache",
            image.display()
        );
    }
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let staging = dir.join(format!(".staging-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging)?;
    let result = build(&staging, &image, parts);
    let _ = fs::remove_dir_all(&staging);
    result?;
    Ok(disk)
}

fn build(staging: &Path, image: &Path, parts: &[(String, PathBuf)]) -> Result<()> {
    let mut binds = String::new();
    let mut bytes = 0u64;
    for (sub, host) in parts {
        if sub.is_empty() || sub.contains(['/', ' ', '\n']) || !host.is_absolute() {
            bail!(
                "data disk folder {sub:?} -> {}: not a plain name and an absolute path",
                host.display()
            );
        }
        let host_text = host.to_string_lossy();
        if host_text.contains(char::is_whitespace) {
            bail!("data disk: {host_text}: paths with spaces cannot be bound in the guest");
        }
        // Hard links: the image is filled from the cache without a copy.
        let linked = Command::new("cp")
            .arg("-al")
            .arg(host)
            .arg(staging.join(sub))
            .status()
            .context("running cp")?;
        if !linked.success() {
            run(
                Command::new("cp")
                    .arg("-a")
                    .arg(host)
                    .arg(staging.join(sub)),
                "cp -a",
            )?;
        }
        bytes += du_bytes(host)?;
        binds.push_str(&format!("{sub} {host_text}\n"));
    }
    fs::write(staging.join(BINDS_FILE), binds)?;
    // Room for ext4's metadata (inode tables, journal): a sixth, and 256 MiB.
    let size = bytes + bytes / 6 + (256 << 20);
    log::info!(
        "making the guests' data disk {} ({} MiB of files, once per cache)",
        image.display(),
        bytes >> 20
    );
    let part = image.with_extension("img.part");
    let _ = fs::remove_file(&part);
    fs::File::create(&part)?.set_len(size)?;
    let made = run(
        Command::new("mkfs.ext4")
            .args(["-q", "-F", "-L", "benchvm-data", "-E", "root_owner=0:0"])
            .arg("-d")
            .arg(staging)
            .arg(&part),
        "mkfs.ext4 -d",
    );
    if let Err(e) = made {
        let _ = fs::remove_file(&part);
        return Err(e);
    }
    fs::rename(&part, image).with_context(|| format!("renaming into {}", image.display()))
}

/// Bytes the files under `dir` occupy (`du -sb`).
fn du_bytes(dir: &Path) -> Result<u64> {
    let out = Command::new("du")
        .arg("-sb")
        .arg(dir)
        .output()
        .context("running du")?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("du -sb {} printed no size", dir.display()))
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd.output().with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_holds_its_folders_and_their_binds() {
        let dir = tempfile::tempdir().expect("tempdir");
        let src = dir.path().join("tree");
        fs::create_dir_all(src.join("init")).expect("mkdir");
        fs::write(src.join("init/main.c"), b"int main(void) { return 0; }\n").expect("write");
        let cache = dir.path().join("cache");
        let parts = vec![("src".to_owned(), src.clone())];
        let disk = image(&cache, &parts, true).expect("image");
        assert!(disk.image.is_file());
        // debugfs (e2fsprogs) reads the image without mounting it.
        let cat = |path: &str| {
            let out = Command::new("debugfs")
                .args(["-R", &format!("cat {path}")])
                .arg(&disk.image)
                .output()
                .expect("debugfs");
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        assert_eq!(cat("/src/init/main.c"), "int main(void) { return 0; }\n");
        assert_eq!(
            cat(&format!("/{BINDS_FILE}")),
            format!("src {}\n", src.display())
        );
        // Made once: the same parts find it again, a cache of another host
        // without it is told so.
        assert_eq!(image(&cache, &parts, false).expect("found"), disk);
        let other = dir.path().join("other-cache");
        let err = image(&other, &parts, false).expect_err("missing");
        assert!(err.to_string().contains("is missing"), "{err}");
    }
}
