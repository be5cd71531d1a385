//! Running a suite from start to bundle, and resuming one a stopped
//! collector left: validate everything first, then capture the
//! environment, run what the journal does not record yet, and pack.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use benchvm_format::env::{EnvSummary, SUMMARY_PATH};
use benchvm_format::{RunMeta, Tool};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::app::{commit, print_packed, PROBES, VERSION};
use crate::cli::{Accel, RunArgs, XenGuestType};
use crate::journal::Record;
use crate::platform::{AccelChoice, Native, Platform, Qemu, QemuSettings, Xen, XenSettings};
use crate::runfolder::RunFolder;
use crate::suite::Suite;
use crate::workload::{Asset, Requirement};
use crate::xen::config::GuestType;
use crate::{envcapture, guest, kernel_source, plan, runner, suite, tools};

/// Where the resolved settings of a run are kept, for `resume`.
pub const SETTINGS_PATH: &str = "config/settings.json";

/// A run's settings, resolved from the command line (absolute paths), as
/// stored in `config/settings.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub suite_path: PathBuf,
    pub platforms: Vec<String>,
    pub label: Option<String>,
    pub out: PathBuf,
    pub cache: PathBuf,
    pub scratch: Option<PathBuf>,
    pub kernel: Option<PathBuf>,
    /// `auto`, `kvm` or `tcg`.
    pub accel: String,
    /// `pv` or `pvh`.
    #[serde(default = "default_xen_guest_type")]
    pub xen_guest_type: String,
}

fn default_xen_guest_type() -> String {
    "pv".into()
}

impl Settings {
    fn from_args(args: &RunArgs, suite: &Suite) -> Result<Self> {
        let platforms = if args.platform.is_empty() {
            suite.platforms.clone()
        } else {
            args.platform.clone()
        };
        suite::check_platforms(&platforms).map_err(|r| anyhow::anyhow!("--platform: {r}"))?;
        Ok(Settings {
            suite_path: absolute_file(&suite.path)?,
            platforms,
            label: args.label.clone(),
            out: absolute(&args.out)?,
            cache: absolute(&args.cache)?,
            scratch: args.scratch.as_deref().map(absolute).transpose()?,
            kernel: args.kernel.as_deref().map(absolute_file).transpose()?,
            accel: match args.accel {
                Accel::Auto => "auto",
                Accel::Kvm => "kvm",
                Accel::Tcg => "tcg",
            }
            .into(),
            xen_guest_type: match args.xen_guest_type {
                XenGuestType::Pv => "pv",
                XenGuestType::Pvh => "pvh",
            }
            .into(),
        })
    }
}

/// `collect run`.
pub fn start(args: &RunArgs) -> Result<()> {
    let suite = suite::load(&suite::locate(&args.suite, &args.suites_dir))?;
    let settings = Settings::from_args(args, &suite)?;
    let plan = plan::build(&suite, &settings.platforms);
    let assets = check_requirements(&suite, &settings)?;
    if suite.scalability.is_some() {
        for p in settings
            .platforms
            .iter()
            .filter(|p| *p != "native" && !plan::runs_scalability(p))
        {
            log::warn!(
                "the scalability experiment does not run on {p} (it runs on {}): skipped there",
                plan::SCALABILITY_PLATFORMS.join(", ")
            );
        }
    }
    if suite.isolation.is_some() {
        for p in settings
            .platforms
            .iter()
            .filter(|p| *p != "native" && !plan::runs_isolation(p))
        {
            log::warn!(
                "the isolation experiment does not run on {p} (it runs on {}): skipped there",
                plan::ISOLATION_PLATFORMS.join(", ")
            );
        }
    }

    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "unknown".into());
    let created = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let label = settings
        .label
        .clone()
        .unwrap_or_else(|| format!("{}-{}-{host}", suite.name, settings.platforms.join("-")));
    let meta = RunMeta {
        tool: Tool {
            name: "collect".into(),
            version: VERSION.into(),
            git_commit: commit(),
        },
        created: created.clone(),
        host,
        suite: suite.name.clone(),
        platforms: settings.platforms.clone(),
        label,
    };
    let run_dir = args
        .run_dir
        .clone()
        .unwrap_or_else(|| runner::default_run_dir(&settings.out, &suite.name, &created));
    let startrec = Record::Start {
        collect_version: VERSION.into(),
        suite_sha256: sha256_hex(suite.source.as_bytes()),
        suite_path: settings.suite_path.clone(),
        runs: plan.runs.len(),
    };
    let folder = RunFolder::create(&run_dir, &meta, &startrec)?;
    log::info!("run folder {}", run_dir.display());
    folder.write_file("config/suite.toml", suite.source.as_bytes())?;
    folder.write_file("config/plan.json", &serde_json::to_vec_pretty(&plan)?)?;
    folder.write_file(SETTINGS_PATH, &serde_json::to_vec_pretty(&settings)?)?;
    carry_out(
        Arc::new(folder),
        &settings,
        &plan,
        &assets,
        &BTreeSet::new(),
    )
}

/// `collect resume RUN_DIR`.
pub fn resume(run_dir: &Path) -> Result<()> {
    let resumed = RunFolder::resume(run_dir)?;
    if resumed.torn_bytes > 0 {
        log::warn!("cut {} bytes of a torn last journal record (a run being recorded when the collector stopped)", resumed.torn_bytes);
    }
    for c in &resumed.corrupt {
        log::warn!("{c}: corruption in the middle of the journal, not a torn tail; the intact records before and after it are kept, its run is run again (old journal kept in .journal.corrupt)");
    }
    for d in &resumed.dropped {
        log::warn!("dropped {d}: no journal record vouches for it (it is run again)");
    }
    let Record::Start {
        collect_version,
        suite_sha256,
        suite_path,
        ..
    } = &resumed.start
    else {
        bail!(
            "{}: journal does not start with a start record",
            run_dir.display()
        );
    };
    if collect_version != VERSION {
        bail!("{} was started by collect {collect_version}; this is collect {VERSION}: resume it with the same version, or start a new run", run_dir.display());
    }
    let stored = std::fs::read_to_string(run_dir.join("config/suite.toml"))
        .context("reading config/suite.toml")?;
    if sha256_hex(stored.as_bytes()) != *suite_sha256 {
        bail!(
            "{}: config/suite.toml differs from the suite the run started with",
            run_dir.display()
        );
    }
    if let Ok(now) = std::fs::read(suite_path) {
        if sha256_hex(&now) != *suite_sha256 {
            bail!(
                "the suite file {} changed since the run started; resuming would mix two suites (restore it, or start a new run)",
                suite_path.display()
            );
        }
    }
    let settings: Settings = serde_json::from_slice(
        &std::fs::read(run_dir.join(SETTINGS_PATH)).context("reading config/settings.json")?,
    )
    .context("parsing config/settings.json")?;
    let suite = suite::parse(&stored, suite_path)?;
    let plan = plan::build(&suite, &settings.platforms);
    let assets = check_requirements(&suite, &settings)?;
    log::info!(
        "resuming {}: {} of {} runs already finished",
        run_dir.display(),
        resumed.finished.len(),
        plan.runs.len()
    );
    carry_out(
        Arc::new(resumed.folder),
        &settings,
        &plan,
        &assets,
        &resumed.finished,
    )
}

/// Checks tools, files and the guest kernel; returns the host assets needed.
fn check_requirements(suite: &Suite, settings: &Settings) -> Result<Vec<Asset>> {
    let kvm = settings.platforms.iter().any(|p| p == "kvm");
    let xen = settings.platforms.iter().any(|p| p == "xen");
    let mut requirements = vec![Requirement {
        what: "tar",
        package: "tar",
    }];
    let mut assets = Vec::new();
    let scalability = suite
        .scalability
        .as_ref()
        .filter(|_| settings.platforms.iter().any(|p| plan::runs_scalability(p)))
        .map(|s| &s.workload);
    let isolation = suite
        .isolation
        .as_ref()
        .filter(|_| settings.platforms.iter().any(|p| plan::runs_isolation(p)))
        .map(|s| &s.workload);
    for entry in suite.overall.iter().chain(scalability).chain(isolation) {
        let w = entry.spec.workload();
        requirements.extend(w.requirements());
        assets.extend(w.assets());
    }
    if assets.contains(&Asset::KernelSource) {
        requirements.push(Requirement {
            what: "xz",
            package: "xz-utils",
        });
    }
    if kvm {
        requirements.extend([
            Requirement {
                what: guest::qemu::QEMU,
                package: "qemu-system-x86",
            },
            Requirement {
                what: guest::initramfs::BUSYBOX,
                package: "busybox-static",
            },
            Requirement {
                what: "mkfs.ext4",
                package: "e2fsprogs",
            },
        ]);
    }
    if xen {
        requirements.extend([
            Requirement {
                what: crate::xen::xl::XL,
                package: "xen-utils-4.17",
            },
            Requirement {
                what: guest::initramfs::BUSYBOX,
                package: "busybox-static",
            },
        ]);
    }
    tools::check(&requirements)?;
    if kvm || xen {
        // Fail before anything starts when guests cannot boot.
        guest::kernel::find(settings.kernel.as_deref(), &settings.cache)?;
    }
    Ok(assets)
}

fn set_up_platforms(
    settings: &Settings,
    plan: &plan::Plan,
    scratch: &Path,
    folder: &Arc<RunFolder>,
) -> Result<Vec<Box<dyn Platform>>> {
    let mut set_up: Vec<Box<dyn Platform>> = Vec::new();
    for p in &settings.platforms {
        match p.as_str() {
            "native" => set_up.push(Box::new(Native::new(scratch.to_path_buf())?)),
            "kvm" => {
                let agent = std::env::current_exe().context("locating the collect binary")?;
                set_up.push(Box::new(Qemu::new(QemuSettings {
                    kernel: settings.kernel.clone(),
                    cache: settings.cache.clone(),
                    work: scratch.join("kvm"),
                    agent,
                    accel: match settings.accel.as_str() {
                        "kvm" => AccelChoice::Kvm,
                        "tcg" => AccelChoice::Tcg,
                        _ => AccelChoice::Auto,
                    },
                    guest: plan.guest.clone(),
                    timeouts: None,
                    folder: Some(Arc::clone(folder)),
                })?));
            }
            "xen" => {
                let agent = std::env::current_exe().context("locating the collect binary")?;
                set_up.push(Box::new(Xen::new(XenSettings {
                    kernel: settings.kernel.clone(),
                    cache: settings.cache.clone(),
                    work: scratch.join("xen"),
                    agent,
                    guest_type: match settings.xen_guest_type.as_str() {
                        "pvh" => GuestType::Pvh,
                        _ => GuestType::Pv,
                    },
                    guest: plan.guest.clone(),
                    timeouts: None,
                    folder: Some(Arc::clone(folder)),
                })?));
            }
            other => bail!("--platform {other}: not supported"),
        }
    }
    Ok(set_up)
}

/// Everything after validation: environment, runs, metrics table, bundle.
fn carry_out(
    folder: Arc<RunFolder>,
    settings: &Settings,
    plan: &plan::Plan,
    assets: &[Asset],
    finished: &BTreeSet<String>,
) -> Result<()> {
    let run_dir = absolute(folder.root())?;
    let scratch = settings
        .scratch
        .clone()
        .unwrap_or_else(|| run_dir.join(".scratch"));
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let mut set_up = set_up_platforms(settings, plan, &scratch, &folder)?;

    // A resumed run keeps the environment captured when it started.
    let mut summary: EnvSummary = match std::fs::read(run_dir.join(SUMMARY_PATH)) {
        Ok(bytes) if !finished.is_empty() => {
            serde_json::from_slice(&bytes).context("parsing env/summary.json")?
        }
        _ => {
            log::info!("capturing the environment");
            envcapture::capture(
                &run_dir.join("env"),
                &scratch,
                PROBES,
                VERSION,
                commit().as_deref(),
            )
            .context("capturing the environment")?
        }
    };
    for p in &set_up {
        summary
            .platforms
            .entry(p.name().into())
            .or_default()
            .extend(p.facts());
    }
    let kernel = if assets.contains(&Asset::KernelSource) {
        let src = kernel_source::prepare(Path::new(kernel_source::TARBALL), &settings.cache)?;
        summary
            .platforms
            .entry("native".into())
            .or_default()
            .insert("kernel_source_sha256".into(), src.tarball_sha256.clone());
        Some(src.dir)
    } else {
        None
    };
    folder.write_file(SUMMARY_PATH, &serde_json::to_vec_pretty(&summary)?)?;

    log::info!(
        "{} runs on {}",
        plan.runs.len() - finished.len(),
        settings.platforms.join(", ")
    );
    let totals = runner::execute(plan, &mut set_up, kernel.as_deref(), &folder, finished)?;
    log::info!(
        "runs: {} ok, {} failed, {} dnr",
        totals.ok,
        totals.failed,
        totals.dnr
    );
    // Guest platforms learn facts while they run (boot-to-ready times).
    for p in &set_up {
        summary
            .platforms
            .entry(p.name().into())
            .or_default()
            .extend(p.facts());
    }
    folder.write_file(SUMMARY_PATH, &serde_json::to_vec_pretty(&summary)?)?;
    drop(set_up);
    let _ = std::fs::remove_dir_all(&scratch);
    let rows = folder.finalize()?;
    log::info!("{rows} metric rows");

    let packed =
        benchvm_format::rundir::pack_with_hook(folder.root(), None, &settings.out, &|| {
            crate::fault::point("mid-pack")
        })
        .with_context(|| format!("packing {}", run_dir.display()))?;
    print_packed(&packed);
    Ok(())
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))?;
    std::fs::canonicalize(path).with_context(|| format!("resolving {}", path.display()))
}

fn absolute_file(path: &Path) -> Result<PathBuf> {
    std::fs::canonicalize(path).with_context(|| format!("resolving {}", path.display()))
}
