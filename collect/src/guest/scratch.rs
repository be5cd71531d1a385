//! Guests' scratch disks, formatted on the host: an empty ext4 file system
//! is made once per work folder (a template image) and each guest gets a
//! sparse copy, so a guest mounts its scratch disk instead of running
//! `mkfs.ext4` at boot (10-14 s of a domU's boot in the Xen lab, measured).
//!
//! The template is made as the guests' init used to: inode tables written
//! now (`lazy_itable_init=0`: no lazy-init thread writes during disk
//! workloads), the journal not zeroed first (`lazy_journal_init=1`: each
//! guest's disk is fresh, so no old journal block can ever be replayed),
//! no discard. The sparse copy turns zeroed blocks into holes, which read
//! as the same zeros.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// The kernel command line word that tells the init its scratch disk is
/// formatted already.
pub const FORMATTED_ARG: (&str, &str) = ("benchvm.formatted", "1");
/// The file system label the init checks.
pub const LABEL: &str = "benchvm-scratch";

/// Templates are made one at a time.
static MAKING: Mutex<()> = Mutex::new(());

/// Writes a fresh, empty ext4 scratch image of `gib` GiB at `path`.
pub fn fresh(path: &Path, gib: u32) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let template = template(dir, gib)?;
    let _ = fs::remove_file(path);
    let out = Command::new("cp")
        .arg("--sparse=always")
        .arg(&template)
        .arg(path)
        .output()?;
    if !out.status.success() {
        return Err(std::io::Error::other(format!(
            "copying {} to {}: {}",
            template.display(),
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// The template of `gib` GiB in `dir`, made on first use.
fn template(dir: &Path, gib: u32) -> std::io::Result<PathBuf> {
    let _one = MAKING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let path = dir.join(format!(".scratch-template-{gib}g.img"));
    if path.is_file() {
        return Ok(path);
    }
    let part = dir.join(format!(".scratch-template-{gib}g.part"));
    fs::File::create(&part)?.set_len(u64::from(gib) << 30)?;
    let out = Command::new("mkfs.ext4")
        .args(["-q", "-F", "-L", LABEL])
        .args(["-E", "lazy_itable_init=0,lazy_journal_init=1,nodiscard"])
        .arg(&part)
        .output()?;
    if !out.status.success() {
        let _ = fs::remove_file(&part);
        return Err(std::io::Error::other(format!(
            "mkfs.ext4 {}: {}",
            part.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    fs::rename(&part, &path)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_guest_gets_an_empty_ext4_copy_of_one_template() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("guest-001-scratch.img");
        let b = dir.path().join("guest-002-scratch.img");
        fresh(&a, 1).expect("first");
        fs::write(&b, b"old contents").expect("stale image");
        fresh(&b, 1).expect("second");
        for img in [&a, &b] {
            assert_eq!(fs::metadata(img).expect("meta").len(), 1 << 30);
            // dumpe2fs (e2fsprogs) reads the superblock: an ext4 with our
            // label, and nothing in it but lost+found.
            let out = Command::new("dumpe2fs")
                .arg("-h")
                .arg(img)
                .output()
                .expect("dumpe2fs");
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains(&format!("Filesystem volume name:   {LABEL}")),
                "{text}"
            );
            let ls = Command::new("debugfs")
                .args(["-R", "ls -l /"])
                .arg(img)
                .output()
                .expect("debugfs");
            let listing = String::from_utf8_lossy(&ls.stdout);
            assert!(listing.contains("lost+found"), "{listing}");
            assert_eq!(
                listing.lines().filter(|l| !l.trim().is_empty()).count(),
                3,
                "{listing}"
            );
        }
        // Sparse: the copy occupies far less than its size.
        let used = std::os::unix::fs::MetadataExt::blocks(&fs::metadata(&a).expect("meta")) * 512;
        assert!(used < 128 << 20, "{used} bytes used");
    }
}
