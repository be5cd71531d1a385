//! The guest kernel: `--kernel PATH`, else the newest `vmlinuz-*` in
//! `<cache>/guest-kernel/boot/` (what `crate::fetch` makes), else the
//! newest `/boot/vmlinuz-*`; and its modules folder.

use std::path::{Path, PathBuf};

/// How to get a kernel, for error messages.
pub const HOW_TO_GET: &str = "run `collect fetch guest-kernel` (downloads Debian's \
     linux-image package into the cache and runs depmod; collect run does it on first use), \
     or pass --kernel PATH";

#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error("no guest kernel: {searched} hold no vmlinuz-*; {HOW_TO_GET}")]
    NotFound { searched: String },
    #[error("guest kernel {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("guest kernel {}: not a bzImage with a version string, and its name is not vmlinuz-VERSION", path.display())]
    NoVersion { path: PathBuf },
    #[error(
        "modules of guest kernel {version} not found: neither {} nor {} holds a modules.dep; \
         for a kernel at DIR/boot/vmlinuz-VER unpacked with dpkg -x, run depmod -b DIR VER; {HOW_TO_GET}",
        beside.display(), system.display()
    )]
    NoModules {
        version: String,
        beside: PathBuf,
        system: PathBuf,
    },
}

/// A kernel a guest can boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestKernel {
    pub vmlinuz: PathBuf,
    /// The release (`uname -r` inside the guest), e.g. `6.1.0-56-amd64`.
    pub version: String,
    /// The `lib/modules/VERSION` folder with `modules.dep`.
    pub modules: PathBuf,
}

/// Finds the guest kernel and its modules.
pub fn find(explicit: Option<&Path>, cache: &Path) -> Result<GuestKernel, KernelError> {
    let vmlinuz = match explicit {
        Some(p) => std::fs::canonicalize(p).map_err(|error| KernelError::Read {
            path: p.to_path_buf(),
            error,
        })?,
        None => {
            let dirs = [
                cache.join("guest-kernel").join("boot"),
                PathBuf::from("/boot"),
            ];
            dirs.iter()
                .find_map(|d| newest(d))
                .ok_or_else(|| KernelError::NotFound {
                    searched: dirs
                        .iter()
                        .map(|d| d.display().to_string())
                        .collect::<Vec<_>>()
                        .join(" and "),
                })?
        }
    };
    let version = version_of(&vmlinuz)?;
    // DIR/boot/vmlinuz-VER -> DIR/lib/modules/VER
    let beside = vmlinuz
        .parent()
        .and_then(Path::parent)
        .map(|root| root.join("lib/modules").join(&version))
        .unwrap_or_default();
    let system = Path::new("/lib/modules").join(&version);
    let modules = [&beside, &system]
        .into_iter()
        .find(|d| d.join("modules.dep").is_file())
        .cloned()
        .ok_or_else(|| KernelError::NoModules {
            version: version.clone(),
            beside: beside.clone(),
            system: system.clone(),
        })?;
    Ok(GuestKernel {
        vmlinuz,
        version,
        modules,
    })
}

/// The newest `vmlinuz-*` of a folder, by version order.
fn newest(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let ver = name.strip_prefix("vmlinuz-")?.to_owned();
            e.path().is_file().then(|| (ver, e.path()))
        })
        .collect();
    found.sort_by_key(|a| version_key(&a.0));
    found.pop().map(|(_, p)| p)
}

/// Orders `6.1.0-9` before `6.1.0-10`: digit runs compare as numbers.
fn version_key(v: &str) -> Vec<(u64, String)> {
    let mut key = Vec::new();
    let mut rest = v;
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 {
            key.push((rest[..digits].parse().unwrap_or(u64::MAX), String::new()));
            rest = &rest[digits..];
        } else {
            let other = rest.chars().take_while(|c| !c.is_ascii_digit()).count();
            key.push((0, rest[..other].to_owned()));
            rest = &rest[other..];
        }
    }
    key
}

/// The kernel release: from the bzImage header (the string its
/// `kernel_version` field points at, Documentation/arch/x86/boot.rst),
/// else from a `vmlinuz-VERSION` file name.
pub fn version_of(vmlinuz: &Path) -> Result<String, KernelError> {
    let bytes = std::fs::read(vmlinuz).map_err(|error| KernelError::Read {
        path: vmlinuz.to_path_buf(),
        error,
    })?;
    if let Some(v) = bzimage_version(&bytes) {
        return Ok(v);
    }
    vmlinuz
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("vmlinuz-"))
        .map(str::to_owned)
        .ok_or_else(|| KernelError::NoVersion {
            path: vmlinuz.to_path_buf(),
        })
}

fn bzimage_version(bytes: &[u8]) -> Option<String> {
    if bytes.get(0x202..0x206)? != b"HdrS" {
        return None;
    }
    let ptr = u16::from_le_bytes([*bytes.get(0x20E)?, *bytes.get(0x20F)?]) as usize;
    let start = ptr.checked_add(0x200)?;
    let text = bytes.get(start..start.checked_add(256)?.min(bytes.len()))?;
    let end = text.iter().position(|b| *b == 0 || *b == b' ')?;
    let v = std::str::from_utf8(&text[..end]).ok()?;
    (!v.is_empty()).then(|| v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_order_is_numeric() {
        let mut v = vec!["6.1.0-10-amd64", "6.1.0-9-amd64", "5.10.0-30-amd64"];
        v.sort_by_key(|a| version_key(a));
        assert_eq!(v, ["5.10.0-30-amd64", "6.1.0-9-amd64", "6.1.0-10-amd64"]);
    }

    #[test]
    fn finds_the_newest_with_modules_beside_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = dir.path();
        let root = cache.join("guest-kernel");
        std::fs::create_dir_all(root.join("boot")).expect("boot");
        for v in ["6.1.0-9-amd64", "6.1.0-10-amd64"] {
            std::fs::write(root.join(format!("boot/vmlinuz-{v}")), b"not a bzImage").expect("k");
        }
        let err = find(None, cache).expect_err("no modules yet");
        assert!(err.to_string().contains("depmod -b"), "{err}");
        let mods = root.join("lib/modules/6.1.0-10-amd64");
        std::fs::create_dir_all(&mods).expect("mods");
        std::fs::write(mods.join("modules.dep"), b"").expect("dep");
        let k = find(None, cache).expect("kernel");
        assert_eq!(k.version, "6.1.0-10-amd64");
        assert_eq!(k.modules, mods);
    }

    #[test]
    fn reads_the_bzimage_version_string() {
        let mut image = vec![0u8; 0x1000];
        image[0x202..0x206].copy_from_slice(b"HdrS");
        image[0x20E..0x210].copy_from_slice(&0x300u16.to_le_bytes());
        let s = b"6.1.0-56-amd64 (debian-kernel@lists.debian.org) #1 SMP\0";
        image[0x500..0x500 + s.len()].copy_from_slice(s);
        assert_eq!(bzimage_version(&image).as_deref(), Some("6.1.0-56-amd64"));
        assert_eq!(bzimage_version(b"short"), None);
    }
}
