//! The guests' initramfs, built by collect itself: a static busybox, the
//! module closure of [`modules::GUEST_MODULES`] and the `/init` script
//! (`init.sh`), as an uncompressed `newc` cpio (the Debian kernel has
//! CONFIG_BLK_DEV_INITRD=y and unpacks uncompressed archives as well as
//! compressed ones). Cached under `<cache>/initramfs/`, keyed by the sha256
//! of every input, so it is built once per kernel, busybox and init.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::cpio;
use super::kernel::GuestKernel;
use super::modules::{self, ModuleIndex};
use crate::process;

/// The init script.
pub const INIT: &str = include_str!("init.sh");
/// Where Debian's busybox-static puts its binary.
pub const BUSYBOX: &str = "/bin/busybox";
/// Busybox applets the init uses, linked in /bin.
const APPLETS: &[&str] = &[
    "sh", "mount", "umount", "mkdir", "cat", "echo", "insmod", "sleep", "chroot", "poweroff",
    "sync", "ls", "dmesg",
];
/// Changes whenever the layout below changes, so old caches are not reused.
const LAYOUT: &str = "benchvm-initramfs-1";
/// The file listing modules in load order, inside the archive.
const MODULE_LIST: &str = "etc/benchvm-modules";

#[derive(Debug, thiserror::Error)]
pub enum InitramfsError {
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(transparent)]
    Modules(#[from] modules::ModuleError),
    #[error("{BUSYBOX} is missing or not statically linked: apt-get install -y busybox-static")]
    Busybox,
    #[error("cannot decompress module {}: {reason}", path.display())]
    Decompress { path: PathBuf, reason: String },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> InitramfsError + '_ {
    move |error| InitramfsError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// A built initramfs.
#[derive(Debug, Clone)]
pub struct Initramfs {
    pub path: PathBuf,
    /// sha256 of the archive.
    pub sha256: String,
    /// Modules it loads, in load order (paths relative to the modules folder).
    pub modules: Vec<String>,
}

/// What goes into an initramfs besides busybox: the guests' (`init.sh`,
/// [`modules::GUEST_MODULES`]) or another variant (the Xen lab's dom0).
#[derive(Debug, Clone, Copy)]
pub struct Contents<'a> {
    /// The `/init` script.
    pub init: &'a str,
    /// Modules whose closure it loads.
    pub modules: &'a [&'a str],
}

/// The guests' initramfs contents.
pub const GUEST: Contents<'static> = Contents {
    init: INIT,
    modules: modules::GUEST_MODULES,
};

/// Returns the initramfs for `kernel`, building it into `cache` if needed.
pub fn build(kernel: &GuestKernel, cache: &Path) -> Result<Initramfs, InitramfsError> {
    build_with(kernel, cache, GUEST)
}

/// Returns an initramfs with `contents` for `kernel`, building it into
/// `cache` if needed.
pub fn build_with(
    kernel: &GuestKernel,
    cache: &Path,
    contents: Contents<'_>,
) -> Result<Initramfs, InitramfsError> {
    let busybox = fs::read(BUSYBOX).map_err(|_| InitramfsError::Busybox)?;
    if !is_static_elf(&busybox) {
        return Err(InitramfsError::Busybox);
    }
    let index = ModuleIndex::load(&kernel.modules)?;
    let order = index.closure(contents.modules)?;
    let mut mods = Vec::with_capacity(order.len());
    for rel in &order {
        let path = kernel.modules.join(rel);
        let bytes = read_module(&path)?;
        mods.push((plain_name(rel), bytes));
    }

    let mut key = Sha256::new();
    for part in [LAYOUT.as_bytes(), contents.init.as_bytes(), &busybox] {
        key.update((part.len() as u64).to_le_bytes());
        key.update(part);
    }
    for (name, bytes) in &mods {
        key.update((name.len() as u64).to_le_bytes());
        key.update(name.as_bytes());
        key.update((bytes.len() as u64).to_le_bytes());
        key.update(bytes);
    }
    let key = hex::encode(key.finalize());
    let dir = cache.join("initramfs");
    let path = dir.join(format!("{}-{}.cpio", kernel.version, &key[..16]));
    let names: Vec<String> = mods.iter().map(|(n, _)| n.clone()).collect();
    if let Ok(bytes) = fs::read(&path) {
        return Ok(Initramfs {
            path,
            sha256: hex::encode(Sha256::digest(&bytes)),
            modules: names,
        });
    }
    log::info!(
        "building the guest initramfs for {} ({} modules)",
        kernel.version,
        mods.len()
    );
    let bytes = archive(&busybox, &mods, contents.init).map_err(io_err(&path))?;
    fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let tmp = dir.join(format!(".tmp-{}-{}", &key[..16], std::process::id()));
    let mut file = File::create(&tmp).map_err(io_err(&tmp))?;
    file.write_all(&bytes).map_err(io_err(&tmp))?;
    file.sync_all().map_err(io_err(&tmp))?;
    fs::rename(&tmp, &path).map_err(io_err(&path))?;
    Ok(Initramfs {
        path,
        sha256: hex::encode(Sha256::digest(&bytes)),
        modules: names,
    })
}

/// The archive bytes.
fn archive(busybox: &[u8], mods: &[(String, Vec<u8>)], init: &str) -> std::io::Result<Vec<u8>> {
    let mut w = cpio::Writer::new(Vec::new());
    let mut dirs = BTreeSet::new();
    for d in [
        "bin", "sbin", "dev", "etc", "proc", "sys", "tmp", "root", "newroot", "ovl", "merged",
    ] {
        dirs.insert(d.to_owned());
        w.dir(d, 0o755)?;
    }
    w.char_dev("dev/console", 0o600, 5, 1)?;
    w.char_dev("dev/null", 0o666, 1, 3)?;
    w.file("bin/busybox", 0o755, busybox)?;
    for applet in APPLETS {
        w.symlink(&format!("bin/{applet}"), "busybox")?;
    }
    let mut list = String::new();
    for (name, bytes) in mods {
        let full = format!("lib/modules/{name}");
        // Every parent folder before the file: the kernel does not mkdir -p.
        let mut parent = String::new();
        for comp in full.split('/').take(full.split('/').count() - 1) {
            if !parent.is_empty() {
                parent.push('/');
            }
            parent.push_str(comp);
            if dirs.insert(parent.clone()) {
                w.dir(&parent, 0o755)?;
            }
        }
        w.file(&full, 0o644, bytes)?;
        list.push_str(name);
        list.push('\n');
    }
    w.file(MODULE_LIST, 0o644, list.as_bytes())?;
    w.file("init", 0o755, init.as_bytes())?;
    w.finish()
}

/// `kernel/fs/9p/9p.ko.xz` -> `kernel/fs/9p/9p.ko`.
fn plain_name(rel: &str) -> String {
    match rel.find(".ko") {
        Some(i) => format!("{}.ko", &rel[..i]),
        None => rel.to_owned(),
    }
}

/// A module's bytes, decompressed: busybox insmod loads plain `.ko` only.
fn read_module(path: &Path) -> Result<Vec<u8>, InitramfsError> {
    let name = path.to_string_lossy();
    let tool = if name.ends_with(".ko.xz") {
        "xz"
    } else if name.ends_with(".ko.zst") {
        "zstd"
    } else if name.ends_with(".ko.gz") {
        "gzip"
    } else {
        return fs::read(path).map_err(io_err(path));
    };
    let fail = |reason: String| InitramfsError::Decompress {
        path: path.to_path_buf(),
        reason,
    };
    let out = tempfile::tempfile().map_err(|e| fail(e.to_string()))?;
    let err = tempfile::tempfile().map_err(|e| fail(e.to_string()))?;
    let mut out_read = out.try_clone().map_err(|e| fail(e.to_string()))?;
    let argv = vec![tool.to_owned(), "-dc".to_owned(), name.into_owned()];
    let deadline = Instant::now() + Duration::from_secs(60);
    let done = process::run(&argv, Path::new("/"), out, err, deadline)
        .map_err(|e| fail(format!("{tool}: {e} (is {tool} installed?)")))?;
    if !done.success() {
        return Err(fail(format!("{tool} -dc: {}", done.describe())));
    }
    let mut bytes = Vec::new();
    std::io::Seek::rewind(&mut out_read).map_err(|e| fail(e.to_string()))?;
    std::io::Read::read_to_end(&mut out_read, &mut bytes).map_err(|e| fail(e.to_string()))?;
    Ok(bytes)
}

/// True for an ELF file without a PT_INTERP program header (no dynamic
/// loader needed).
fn is_static_elf(bytes: &[u8]) -> bool {
    const PT_INTERP: u32 = 3;
    if bytes.get(..5) != Some(b"\x7fELF\x02") {
        return false;
    }
    let u16_at = |o: usize| {
        bytes
            .get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u64_at = |o: usize| {
        bytes
            .get(o..o + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    };
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38))
    else {
        return false;
    };
    (0..usize::from(phnum)).all(|i| {
        let at = usize::try_from(phoff).unwrap_or(usize::MAX) + i * usize::from(phentsize);
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) != PT_INTERP)
            .unwrap_or(false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_holds_init_busybox_console_and_modules_in_order() {
        let mods = vec![
            ("kernel/net/9p/9pnet.ko".to_owned(), b"A".to_vec()),
            ("kernel/fs/9p/9p.ko".to_owned(), b"B".to_vec()),
        ];
        let bytes = archive(b"\x7fELF-busybox", &mods, INIT).expect("archive");
        let entries = cpio::parse(&bytes).expect("parse");
        let by_name = |n: &str| entries.iter().find(|e| e.name == n);
        let init = by_name("init").expect("init");
        assert_eq!(init.mode, 0o100_755);
        assert!(init.data.starts_with(b"#!/bin/sh"));
        assert_eq!(by_name("dev/console").expect("console").rdev, (5, 1));
        assert_eq!(by_name("bin/sh").expect("sh").data, b"busybox");
        let list = by_name(MODULE_LIST).expect("list");
        assert_eq!(list.data, b"kernel/net/9p/9pnet.ko\nkernel/fs/9p/9p.ko\n");
        // Every entry's parent folder comes before it.
        for (i, e) in entries.iter().enumerate() {
            if let Some((parent, _)) = e.name.rsplit_once('/') {
                let p = entries.iter().position(|d| d.name == parent);
                assert!(p.is_some_and(|p| p < i), "{} before its folder", e.name);
            }
        }
    }

    #[test]
    fn module_names_lose_their_compression() {
        assert_eq!(plain_name("kernel/fs/9p/9p.ko.xz"), "kernel/fs/9p/9p.ko");
        assert_eq!(plain_name("kernel/fs/9p/9p.ko"), "kernel/fs/9p/9p.ko");
    }

    #[test]
    fn xz_modules_are_decompressed() {
        if !crate::tools::present("xz") {
            eprintln!("skipped: no xz");
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let plain = dir.path().join("m.ko");
        fs::write(&plain, b"module bytes").expect("write");
        let status = std::process::Command::new("xz")
            .arg("-k")
            .arg(&plain)
            .status()
            .expect("xz");
        assert!(status.success());
        let bytes = read_module(&dir.path().join("m.ko.xz")).expect("read");
        assert_eq!(bytes, b"module bytes");
    }

    #[test]
    fn static_busybox_is_recognised() {
        assert!(!is_static_elf(b"#!/bin/sh"));
        if let Ok(bytes) = fs::read(BUSYBOX) {
            assert!(is_static_elf(&bytes), "{BUSYBOX} should be busybox-static");
        }
        if let Ok(bytes) = fs::read("/bin/ls") {
            assert!(!is_static_elf(&bytes), "/bin/ls is dynamic");
        }
    }
}
