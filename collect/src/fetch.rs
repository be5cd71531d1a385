//! Fetching what guests and the Xen lab boot, on first use, into the cache:
//! Debian's guest kernel (the linux-image package `linux-image-amd64`
//! depends on, with `modules.dep` made by depmod) and Debian's Xen 4.17
//! hypervisor (`xen-hypervisor-4.17-amd64`, gunzipped: QEMU's `-kernel`
//! loads the uncompressed multiboot ELF). Both are downloaded with
//! `apt-get download` (nothing is installed) and unpacked with `dpkg -x`.
//!
//! A lock file in the cache keeps two collectors (or two tests) from
//! fetching at once; each result is built in a temporary folder and renamed
//! into place, so a fetch killed half-way leaves nothing that looks done.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use nix::fcntl::{Flock, FlockArg};

use crate::guest::kernel::{self, GuestKernel};

/// The Xen hypervisor in the cache.
pub const XEN_BIN: &str = "xen/xen-4.17.bin";
/// The Debian package holding it.
pub const XEN_PACKAGE: &str = "xen-hypervisor-4.17-amd64";
/// The guest kernel's folder in the cache (`boot/`, `lib/modules/`).
pub const KERNEL_DIR: &str = "guest-kernel";

/// The guest kernel: `explicit`, else one found in the cache or /boot,
/// else Debian's, fetched into the cache now.
pub fn guest_kernel(explicit: Option<&Path>, cache: &Path) -> Result<GuestKernel> {
    match kernel::find(explicit, cache) {
        Ok(k) => return Ok(k),
        Err(e) if explicit.is_some() => return Err(e.into()),
        Err(_) => {}
    }
    let _lock = lock(cache, "guest-kernel")?;
    // Another collector may have fetched it while this one waited.
    if let Ok(k) = kernel::find(None, cache) {
        return Ok(k);
    }
    let package = kernel_package()?;
    let version = package
        .strip_prefix("linux-image-")
        .context("unexpected kernel package name")?
        .to_owned();
    let deb = download(cache, &package)?;
    let tmp = fresh_dir(cache, ".guest-kernel")?;
    unpack(&deb, &tmp)?;
    run(
        Command::new("depmod").arg("-b").arg(&tmp).arg(&version),
        "depmod (package kmod)",
    )?;
    let dest = cache.join(KERNEL_DIR);
    let _ = fs::remove_dir_all(&dest);
    fs::rename(&tmp, &dest).with_context(|| format!("moving the kernel to {}", dest.display()))?;
    let k = kernel::find(None, cache)?;
    log::info!("guest kernel {} in {}", k.version, dest.display());
    Ok(k)
}

/// The Xen hypervisor: `explicit`, else the cached one, else Debian's,
/// fetched into the cache now.
pub fn xen_hypervisor(explicit: Option<&Path>, cache: &Path) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return fs::canonicalize(p).with_context(|| format!("--xen {}", p.display()));
    }
    let path = cache.join(XEN_BIN);
    if path.is_file() {
        return Ok(path);
    }
    let _lock = lock(cache, "xen")?;
    if path.is_file() {
        return Ok(path);
    }
    let deb = download(cache, XEN_PACKAGE)?;
    let tmp = fresh_dir(cache, ".xen")?;
    unpack(&deb, &tmp)?;
    let boot = tmp.join("boot");
    let gz = fs::read_dir(&boot)
        .with_context(|| format!("{} holds no boot/", deb.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            let n = p.file_name().unwrap_or_default().to_string_lossy();
            n.starts_with("xen-4.17") && n.ends_with("-amd64.gz")
        })
        .with_context(|| format!("{} holds no boot/xen-4.17*-amd64.gz", deb.display()))?;
    let dir = path.parent().context("cache path without a parent")?;
    fs::create_dir_all(dir)?;
    let part = dir.join(".xen-4.17.bin.part");
    let out = File::create(&part).with_context(|| format!("creating {}", part.display()))?;
    run(Command::new("gzip").arg("-dc").arg(&gz).stdout(out), "gzip")?;
    fs::rename(&part, &path)?;
    let _ = fs::remove_dir_all(&tmp);
    log::info!("Xen hypervisor in {}", path.display());
    Ok(path)
}

/// The versioned kernel package, e.g. `linux-image-6.1.0-57-amd64`.
fn kernel_package() -> Result<String> {
    let out = Command::new("apt-cache")
        .args(["depends", "linux-image-amd64"])
        .stderr(Stdio::null())
        .output()
        .context("running apt-cache (fetching the guest kernel needs Debian's apt)")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Depends: "))
        .find(|p| {
            p.strip_prefix("linux-image-")
                .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
        })
        .map(str::to_owned)
        .with_context(|| {
            format!(
                "apt-cache depends linux-image-amd64 names no linux-image package; run \
                 apt-get update, or pass a kernel with --kernel ({})",
                kernel::HOW_TO_GET
            )
        })
}

/// Downloads a package's .deb into `<cache>/debs/` (kept: a second fetch
/// does not download again) with a progress line.
fn download(cache: &Path, package: &str) -> Result<PathBuf> {
    let debs = cache.join("debs");
    fs::create_dir_all(&debs).with_context(|| format!("creating {}", debs.display()))?;
    if let Some(found) = find_deb(&debs, package) {
        return Ok(found);
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(format!(
        "fetching {package} from the Debian mirror (first use, into {})",
        debs.display()
    ));
    bar.enable_steady_tick(Duration::from_millis(250));
    let mut cmd = Command::new("apt-get");
    // As root, apt hands downloads to its _apt user, who may not be allowed
    // to write into the cache: download as root instead.
    if nix::unistd::geteuid().is_root() {
        cmd.args(["-o", "APT::Sandbox::User=root"]);
    }
    cmd.args(["-q", "download", package]).current_dir(&debs);
    let result = run(&mut cmd, "apt-get download");
    bar.finish_and_clear();
    result?;
    let deb = find_deb(&debs, package).with_context(|| {
        format!(
            "apt-get download {package} left no .deb in {}",
            debs.display()
        )
    })?;
    log::info!("fetched {}", deb.display());
    Ok(deb)
}

fn find_deb(dir: &Path, package: &str) -> Option<PathBuf> {
    let prefix = format!("{package}_");
    fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            let n = p.file_name().unwrap_or_default().to_string_lossy();
            n.starts_with(&prefix) && n.ends_with(".deb")
        })
}

fn unpack(deb: &Path, dest: &Path) -> Result<()> {
    run(Command::new("dpkg").arg("-x").arg(deb).arg(dest), "dpkg -x")
}

/// An empty folder `<cache>/<stem>-<pid>` for building a result in.
fn fresh_dir(cache: &Path, stem: &str) -> Result<PathBuf> {
    let dir = cache.join(format!("{stem}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Holds `<cache>/.<what>.lock` exclusively until dropped.
fn lock(cache: &Path, what: &str) -> Result<Flock<File>> {
    fs::create_dir_all(cache).with_context(|| format!("creating {}", cache.display()))?;
    let path = cache.join(format!(".{what}.lock"));
    let file = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, e)| anyhow::anyhow!("locking {}: {e}", path.display()))
}

/// Runs a command; its failure names the command and says what it printed.
fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("starting {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}
