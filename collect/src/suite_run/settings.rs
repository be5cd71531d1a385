//! A run's settings: the command line resolved once (absolute paths,
//! enums), checked before anything starts, and stored as
//! `config/settings.json` for `resume`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use benchvm_core::registry::PlatformKind;

use crate::cli::{Order, RunArgs};
use crate::plan::RunOrder;
use crate::platform::registry::{self, Place, PlatformSettings};
use crate::suite::{self, Suite, SuiteRef};

/// Where the resolved settings of a run are kept, for `resume`.
pub const SETTINGS_PATH: &str = "config/settings.json";

/// A run's settings, resolved from the command line (absolute paths,
/// enums), as stored in `config/settings.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub suite: SuiteRef,
    /// The platforms this collector runs itself.
    pub platforms: Vec<PlatformKind>,
    pub label: Option<String>,
    pub out: PathBuf,
    #[serde(flatten)]
    pub platform: PlatformSettings,
    /// `--order` and `--seed`, resolved (settings made before the order
    /// was recorded ran blocked).
    #[serde(default = "blocked")]
    pub order: RunOrder,
}

fn blocked() -> RunOrder {
    RunOrder::BLOCKED
}

/// `--order` and `--seed` for the platforms run here: interleaved by
/// default with several, blocked with one; a random order without a seed
/// gets one from the clock.
pub fn order(args: &RunArgs, platforms: usize) -> Result<RunOrder> {
    let order = match args.order {
        None => RunOrder::default_for(platforms),
        Some(Order::Blocked) => RunOrder::BLOCKED,
        Some(Order::Interleaved) => RunOrder::INTERLEAVED,
        Some(Order::Random) => RunOrder::random(args.seed.unwrap_or_else(|| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            (now.as_nanos() as u64) ^ u64::from(std::process::id()).rotate_left(32)
        })),
    };
    if args.seed.is_some() && args.order != Some(Order::Random) {
        bail!("--seed applies to --order random only");
    }
    Ok(order)
}

/// How the platforms of a run are split between this collector and the
/// Xen lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Platforms run here, in the suite's or the command line's order.
    pub local: Vec<PlatformKind>,
    /// Whether xen runs in the Xen lab.
    pub xen_in_lab: bool,
}

/// Splits the platforms by where each runs from this host (its registry
/// entry's probe; `is_dom0`: whether this host is a Xen dom0).
pub fn split(
    platforms: &[PlatformKind],
    settings: &PlatformSettings,
    is_dom0: bool,
) -> Result<Split> {
    let mut out = Split {
        local: Vec::new(),
        xen_in_lab: false,
    };
    for &p in platforms {
        match (registry::entry(p).place)(settings, is_dom0)? {
            Place::Here => out.local.push(p),
            Place::XenLab => out.xen_in_lab = true,
        }
    }
    Ok(out)
}

impl Settings {
    /// Resolves the command line; `platforms` are the ones run here.
    pub fn from_args(
        args: &RunArgs,
        suite_ref: SuiteRef,
        platforms: Vec<PlatformKind>,
    ) -> Result<Self> {
        let suite_ref = match suite_ref {
            SuiteRef::File(p) => SuiteRef::File(absolute_file(&p)?),
            b => b,
        };
        Ok(Settings {
            suite: suite_ref,
            label: args.label.clone(),
            out: usable_out(&args.out)?,
            platform: PlatformSettings {
                cache: crate::cache::resolve(args.cache.as_deref())?,
                scratch: args.scratch.as_deref().map(absolute).transpose()?,
                kernel: args.kernel.as_deref().map(absolute_file).transpose()?,
                kvm: args.kvm,
                xen: args.xen,
            },
            order: order(args, platforms.len())?,
            platforms,
        })
    }
}

/// The platforms a run asks for: `--platform`, else the suite's; checked.
pub fn platforms(args: &RunArgs, suite: &Suite) -> Result<Vec<PlatformKind>> {
    if args.platform.is_empty() {
        return Ok(suite.platforms.clone());
    }
    suite::check_platforms(&args.platform).map_err(|r| anyhow::anyhow!("--platform: {r}"))
}

/// `--out`: created if needed, and writable, checked before any run so a
/// suite never runs for hours only to fail at packing.
pub fn usable_out(out: &Path) -> Result<PathBuf> {
    let dir = absolute(out).with_context(|| format!("--out {}", out.display()))?;
    writable(&dir)
        .with_context(|| format!("--out {}: bundles cannot be written there", dir.display()))?;
    Ok(dir)
}

/// `--run-dir`: absent or an empty folder (a folder holding a run is for
/// `collect resume`), and writable.
pub fn usable_run_dir(dir: &Path) -> Result<()> {
    match std::fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let parent = dir
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            std::fs::create_dir_all(parent).with_context(|| {
                format!("--run-dir {}: creating {}", dir.display(), parent.display())
            })?;
            writable(parent).with_context(|| format!("--run-dir {}", dir.display()))
        }
        Err(e) => Err(e).with_context(|| format!("--run-dir {}", dir.display())),
        Ok(mut entries) => {
            if entries.next().is_some() {
                if dir.join(benchvm_format::rundir::META_PATH).exists() {
                    bail!(
                        "--run-dir {} already holds a run: finish it with `collect resume {}`, or choose another folder",
                        dir.display(),
                        dir.display()
                    );
                }
                bail!(
                    "--run-dir {} is not empty: give an empty or new folder",
                    dir.display()
                );
            }
            writable(dir).with_context(|| format!("--run-dir {}", dir.display()))
        }
    }
}

/// Proves a folder writable by creating and removing a file in it.
fn writable(dir: &Path) -> Result<()> {
    let probe = tempfile::Builder::new()
        .prefix(".benchvm-write-check")
        .tempfile_in(dir)
        .map_err(|e| anyhow::anyhow!("not writable ({})", io_reason(&e)))?;
    drop(probe);
    Ok(())
}

/// An I/O error's reason without the repeated "(os error N)".
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

pub fn absolute(path: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))?;
    std::fs::canonicalize(path).with_context(|| format!("resolving {}", path.display()))
}

pub fn absolute_file(path: &Path) -> Result<PathBuf> {
    std::fs::canonicalize(path).with_context(|| format!("resolving {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    use benchvm_core::registry::PlatformKind::{Kvm, Native, Xen};

    use crate::platform::kvm::settings::KvmSettings;
    use crate::platform::xen::settings::{XenHost, XenSettings};

    fn with_host(xen_host: XenHost) -> PlatformSettings {
        PlatformSettings {
            cache: "/c".into(),
            scratch: None,
            kernel: None,
            kvm: KvmSettings::default(),
            xen: XenSettings {
                xen_host,
                ..XenSettings::default()
            },
        }
    }

    #[test]
    fn xen_goes_to_the_lab_off_a_dom0() {
        let all = [Native, Kvm, Xen];
        let s = split(&all, &with_host(XenHost::Auto), false).expect("split");
        assert_eq!(s.local, [Native, Kvm]);
        assert!(s.xen_in_lab);
        let s = split(&all, &with_host(XenHost::Auto), true).expect("split");
        assert_eq!(s.local, all);
        assert!(!s.xen_in_lab);
        let s = split(&all, &with_host(XenHost::Lab), true).expect("split");
        assert!(s.xen_in_lab);
        let err = split(&all, &with_host(XenHost::Dom0), false).expect_err("no dom0");
        assert!(err.to_string().contains("--xen-host lab"), "{err}");
        let s = split(&[Native], &with_host(XenHost::Lab), false).expect("split");
        assert!(!s.xen_in_lab, "no xen asked for");
    }

    #[test]
    fn run_dir_must_be_new_or_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fresh = dir.path().join("a/b");
        usable_run_dir(&fresh).expect("absent is fine");
        std::fs::create_dir_all(&fresh).expect("mkdir");
        usable_run_dir(&fresh).expect("empty is fine");
        std::fs::write(fresh.join("x"), b"").expect("write");
        let err = usable_run_dir(&fresh).expect_err("not empty");
        assert!(err.to_string().contains("is not empty"), "{err}");
        std::fs::write(fresh.join("meta.json"), b"{}").expect("write");
        let err = usable_run_dir(&fresh).expect_err("a run");
        assert!(err.to_string().contains("collect resume"), "{err}");
    }

    #[test]
    fn out_must_be_writable() {
        if nix::unistd::geteuid().is_root() {
            // root writes anywhere; a read-only bind would need a mount.
            let err = usable_out(Path::new("/proc/benchvm-no")).expect_err("proc");
            assert!(err.to_string().contains("--out /proc/benchvm-no"), "{err}");
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let ro = dir.path().join("ro");
        std::fs::create_dir(&ro).expect("mkdir");
        let mut perm = std::fs::metadata(&ro).expect("meta").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o555);
        std::fs::set_permissions(&ro, perm).expect("chmod");
        let err = usable_out(&ro).expect_err("read-only");
        assert!(format!("{err:#}").contains("not writable"), "{err:#}");
    }
}
