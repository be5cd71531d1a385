//! Disk images of guests: fresh sparse raw disks, and whether a folder
//! takes O_DIRECT (QEMU's `cache=none`).

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// A sparse file of `len` bytes (a fresh raw disk).
pub fn sparse_file(path: &Path, len: u64) -> std::io::Result<()> {
    let _ = fs::remove_file(path);
    File::create(path)
        .and_then(|f| f.set_len(len))
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("creating disk image {}: {e}", path.display()),
            )
        })
}

/// Whether files in `dir` can be opened with O_DIRECT (QEMU's cache=none).
pub fn supports_direct_io(dir: &Path) -> bool {
    let probe = dir.join(".direct-io-probe");
    let ok = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(nix::fcntl::OFlag::O_DIRECT.bits())
        .open(&probe)
        .is_ok();
    let _ = fs::remove_file(&probe);
    ok
}
