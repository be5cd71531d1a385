//! The Linux source tree for the compile workload: Debian's
//! `linux-source-6.1` tarball, extracted once into a cache folder keyed by
//! the tarball's sha256, never per run.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::UNIX_EPOCH;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

/// Where Debian's `linux-source-6.1` package puts the tarball.
pub const TARBALL: &str = "/usr/src/linux-source-6.1.tar.xz";

/// A prepared source tree.
#[derive(Debug, Clone)]
pub struct KernelSource {
    /// The folder holding the top-level Makefile.
    pub dir: PathBuf,
    pub tarball_sha256: String,
}

/// Returns the extracted tree of `tarball`, extracting it into `cache` the
/// first time.
pub fn prepare(tarball: &Path, cache: &Path) -> Result<KernelSource> {
    let root = cache.join("linux-src");
    fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    let sha = sha256_memo(tarball, &root)?;
    let dest = root.join(&sha);
    if !dest.join(".complete").exists() {
        log::info!(
            "extracting {} into {} (once per tarball)",
            tarball.display(),
            dest.display()
        );
        let tmp = root.join(format!(".tmp-{sha}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp)?;
        let status = Command::new("tar")
            .arg("-xf")
            .arg(tarball)
            .arg("-C")
            .arg(&tmp)
            .status()
            .context("running tar")?;
        if !status.success() {
            let _ = fs::remove_dir_all(&tmp);
            bail!("tar -xf {} failed: {status}", tarball.display());
        }
        fs::write(tmp.join(".complete"), &sha)?;
        let _ = fs::remove_dir_all(&dest);
        fs::rename(&tmp, &dest).with_context(|| format!("renaming into {}", dest.display()))?;
    }
    let dir = top_dir(&dest)?;
    Ok(KernelSource {
        dir,
        tarball_sha256: sha,
    })
}

/// A configured and prepared build folder of `src` (`make O=... CONFIG`,
/// then `make O=... prepare`: the generated headers and Kbuild's host
/// tools), made once beside the tree and copied by each compile run before
/// its measured step, so a run measures compiling, not configuring. Kbuild
/// names generated files relative to the build folder, so a copy builds
/// elsewhere without redoing them. Made in a temporary folder and renamed,
/// so a seed that exists is complete.
pub fn prepare_seed(src: &Path, config: &str) -> Result<PathBuf> {
    let seed = seed_dir(src, config);
    if seed.join(".complete").exists() {
        return Ok(seed);
    }
    log::info!(
        "configuring the kernel tree ({config}, make prepare) once, into {}",
        seed.display()
    );
    let tmp = seed.with_extension(format!("tmp-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    for args in [
        vec![config.to_owned()],
        vec![format!("-j{jobs}"), "prepare".to_owned()],
    ] {
        let out = Command::new("make")
            .arg("-s")
            .arg("-C")
            .arg(src)
            .arg(format!("O={}", tmp.display()))
            .args(&args)
            .output()
            .context("running make")?;
        if !out.status.success() {
            let _ = fs::remove_dir_all(&tmp);
            bail!(
                "make {} of {} failed: {}",
                args.join(" "),
                src.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
    }
    fs::write(tmp.join(".complete"), config)?;
    match fs::rename(&tmp, &seed) {
        Ok(()) => Ok(seed),
        // Another collector made it meanwhile.
        Err(_) if seed.join(".complete").exists() => {
            let _ = fs::remove_dir_all(&tmp);
            Ok(seed)
        }
        Err(e) => Err(e).with_context(|| format!("renaming into {}", seed.display())),
    }
}

/// Where the seed of `src` for `config` lives: beside the folder the
/// tarball was extracted into (`<cache>/linux-src/<sha256>-kbuild-CONFIG`),
/// outside it, so the tree's folder keeps holding one Makefile'd folder.
pub fn seed_dir(src: &Path, config: &str) -> PathBuf {
    let extracted = src.parent().unwrap_or(src);
    PathBuf::from(format!("{}-kbuild-{config}", extracted.display()))
}

/// The single folder holding a Makefile inside an extracted tarball.
fn top_dir(dest: &Path) -> Result<PathBuf> {
    for entry in fs::read_dir(dest)? {
        let path = entry?.path();
        if path.join("Makefile").is_file() {
            return Ok(path);
        }
    }
    bail!("{} holds no kernel tree (no */Makefile)", dest.display())
}

/// sha256 of the tarball, remembered per (size, mtime) so it is read once.
fn sha256_memo(tarball: &Path, root: &Path) -> Result<String> {
    let meta = fs::metadata(tarball)
        .with_context(|| format!("{} (package linux-source-6.1)", tarball.display()))?;
    let mtime = meta
        .modified()?
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let memo = root.join(format!(".sha256-{}-{mtime}", meta.len()));
    if let Ok(text) = fs::read_to_string(&memo) {
        if text.len() == 64 {
            return Ok(text);
        }
    }
    let mut file = fs::File::open(tarball)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let sha = hex::encode(hasher.finalize());
    fs::write(&memo, &sha)?;
    Ok(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_live_outside_the_extracted_folder() {
        let src = Path::new("/c/linux-src/abc/linux-source-6.1");
        let seed = seed_dir(src, "tinyconfig");
        assert_eq!(seed, Path::new("/c/linux-src/abc-kbuild-tinyconfig"));
        // top_dir looks for the one folder with a Makefile in .../abc: a
        // seed (it has a Makefile too) must never be found there.
        assert!(!seed.starts_with("/c/linux-src/abc/"));
    }
}
