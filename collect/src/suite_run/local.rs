//! The platforms a collector runs itself: from checked settings to a run
//! folder and its bundle, and resuming a folder a stopped collector left.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use benchvm_format::env::{EnvSummary, SUMMARY_PATH};
use benchvm_format::rundir::Packed;
use benchvm_format::{RunMeta, Tool};
use sha2::{Digest, Sha256};

use super::settings::{absolute, Settings, SETTINGS_PATH};
use crate::build_info::{commit, PROBES, VERSION};
use crate::journal::Record;
use crate::platform::registry::{self, SetUp};
use crate::platform::Platform;
use crate::progress::Progress;
use crate::runfolder::RunFolder;
use crate::suite::Suite;
use crate::workload::{Asset, Requirement};
use crate::{envcapture, guest, kernel_source, plan, runner, tools};

/// Creates the run folder of `settings.platforms` and runs them to a bundle.
pub fn run(
    suite: &Suite,
    settings: &Settings,
    run_dir: Option<&Path>,
    assets: &[Asset],
    progress: &Progress,
) -> Result<Packed> {
    let plan = plan::build_with(suite, &settings.platforms, settings.order);
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "unknown".into());
    let created = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let label = settings
        .label
        .clone()
        .unwrap_or_else(|| format!("{}-{}-{host}", suite.name, names(settings, "-")));
    let meta = RunMeta {
        tool: Tool {
            name: "collect".into(),
            version: VERSION.into(),
            git_commit: commit(),
        },
        created: created.clone(),
        host,
        suite: suite.name.clone(),
        platforms: settings
            .platforms
            .iter()
            .map(|p| p.name().to_owned())
            .collect(),
        label,
    };
    let run_dir = run_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| runner::default_run_dir(&settings.out, &suite.name, &created));
    let startrec = Record::Start {
        collect_version: VERSION.into(),
        suite_sha256: sha256_hex(suite.source.as_bytes()),
        suite_path: settings.suite.display_path(),
        runs: plan.runs.len(),
    };
    let folder = RunFolder::create(&run_dir, &meta, &startrec)?;
    log::info!("run folder {}", run_dir.display());
    folder.write_file("config/suite.toml", suite.source.as_bytes())?;
    folder.write_file("config/plan.json", &serde_json::to_vec_pretty(&plan)?)?;
    folder.write_file(SETTINGS_PATH, &serde_json::to_vec_pretty(&settings)?)?;
    carry_out(
        Arc::new(folder),
        settings,
        &plan,
        assets,
        &BTreeSet::new(),
        progress,
    )
}

/// `collect resume RUN_DIR`.
pub fn resume(run_dir: &Path) -> Result<Packed> {
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
    let settings: Settings = serde_json::from_slice(
        &std::fs::read(run_dir.join(SETTINGS_PATH)).context("reading config/settings.json")?,
    )
    .context("parsing config/settings.json")?;
    if let Ok(now) = settings.suite.source() {
        if sha256_hex(now.as_bytes()) != *suite_sha256 {
            bail!(
                "the suite {} changed since the run started; resuming would mix two suites (restore it, or start a new run)",
                settings.suite.display_path().display()
            );
        }
    }
    let suite = crate::suite::parse(&stored, &settings.suite.display_path())?;
    let plan = plan::build_with(&suite, &settings.platforms, settings.order);
    let assets = check_requirements(&suite, &settings)?;
    prepare_guests(&settings)?;
    log::info!(
        "resuming {}: {} of {} runs already finished",
        run_dir.display(),
        resumed.finished.len(),
        plan.runs.len()
    );
    let progress = Progress::new();
    progress.add_runs(
        &runner::todo(&plan, &resumed.finished),
        crate::commands::run::eta_factor,
    );
    let packed = carry_out(
        Arc::new(resumed.folder),
        &settings,
        &plan,
        &assets,
        &resumed.finished,
        &progress,
    );
    progress.finish_and_clear();
    packed
}

/// Prepares what the workloads need on the host, once per cache: the
/// extracted kernel tree and its configured build folders. Returns the tree.
pub fn prepare_assets(
    assets: &[Asset],
    cache: &Path,
) -> Result<Option<kernel_source::KernelSource>> {
    if !assets.contains(&Asset::KernelSource) {
        return Ok(None);
    }
    let src = kernel_source::prepare(Path::new(kernel_source::TARBALL), cache)?;
    for a in assets {
        if let Asset::KernelBuildSeed(config) = a {
            kernel_source::prepare_seed(&src.dir, config)?;
        }
    }
    Ok(Some(src))
}

/// The guests' read-only data disk with the kernel tree (`src`) and its
/// build folders (`seed-CONFIG`). Made on the host that owns the cache; the
/// Xen lab's dom0, whose cache is its host's, only finds it.
pub fn guest_data_disk(
    src: &kernel_source::KernelSource,
    assets: &[Asset],
    cache: &Path,
) -> Result<guest::data_disk::DataDisk> {
    let mut parts = vec![("src".to_owned(), src.dir.clone())];
    for a in assets {
        if let Asset::KernelBuildSeed(config) = a {
            parts.push((
                format!("seed-{config}"),
                kernel_source::seed_dir(&src.dir, config),
            ));
        }
    }
    let in_lab = crate::platform::xen::host::in_lab();
    guest::data_disk::image(cache, &parts, !in_lab)
}

/// Whether any of the run's platforms runs guests.
fn has_guests(settings: &Settings) -> bool {
    settings.platforms.iter().any(|p| p.info().guests)
}

/// The run's platforms' names, joined by `sep`.
fn names(settings: &Settings, sep: &str) -> String {
    settings
        .platforms
        .iter()
        .map(|p| p.name())
        .collect::<Vec<_>>()
        .join(sep)
}

/// Fetches the guest kernel when guests need one and none is at hand.
pub fn prepare_guests(settings: &Settings) -> Result<()> {
    if has_guests(settings) {
        let p = &settings.platform;
        crate::fetch::guest_kernel(p.kernel.as_deref(), &p.cache)?;
    }
    Ok(())
}

/// Checks tools and files of the workloads and of every platform's
/// registry entry; returns the host assets needed.
pub fn check_requirements(suite: &Suite, settings: &Settings) -> Result<Vec<Asset>> {
    let mut requirements = vec![Requirement {
        what: "tar",
        package: "tar",
    }];
    let mut assets = Vec::new();
    let scalability = suite
        .scalability
        .as_ref()
        .filter(|_| settings.platforms.iter().any(|p| p.info().scalability))
        .map(|s| &s.workload);
    let isolation = suite
        .isolation
        .as_ref()
        .filter(|_| settings.platforms.iter().any(|p| p.info().isolation))
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
    for p in &settings.platforms {
        for r in registry::entry(*p).requirements {
            if !requirements.contains(r) {
                requirements.push(*r);
            }
        }
    }
    tools::check(&requirements)?;
    Ok(assets)
}

/// Sets up each of the run's platforms by its registry entry.
fn set_up_platforms(
    settings: &Settings,
    plan: &plan::Plan,
    scratch: &Path,
    folder: &Arc<RunFolder>,
    data_disk: Option<&Path>,
) -> Result<Vec<Box<dyn Platform>>> {
    let set_up = SetUp {
        settings: &settings.platform,
        guest: &plan.guest,
        scratch,
        folder,
        data_disk,
    };
    settings
        .platforms
        .iter()
        .map(|p| (registry::entry(*p).construct)(&set_up))
        .collect()
}

/// Everything after validation: environment, runs, metrics table, bundle.
fn carry_out(
    folder: Arc<RunFolder>,
    settings: &Settings,
    plan: &plan::Plan,
    assets: &[Asset],
    finished: &BTreeSet<String>,
    progress: &Progress,
) -> Result<Packed> {
    let run_dir = absolute(folder.root())?;
    let scratch = settings
        .platform
        .scratch
        .clone()
        .unwrap_or_else(|| run_dir.join(".scratch"));
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let cache = &settings.platform.cache;
    let source = prepare_assets(assets, cache)?;
    let data_disk = match &source {
        Some(src) if has_guests(settings) => Some(guest_data_disk(src, assets, cache)?),
        _ => None,
    };
    let mut set_up = set_up_platforms(
        settings,
        plan,
        &scratch,
        &folder,
        data_disk.as_ref().map(|d| d.image.as_path()),
    )?;

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
    let kernel = match source {
        Some(src) => {
            summary
                .platforms
                .entry(benchvm_core::registry::PlatformKind::Native.name().into())
                .or_default()
                .insert("kernel_source_sha256".into(), src.tarball_sha256.clone());
            Some(src.dir)
        }
        None => None,
    };
    folder.write_file(SUMMARY_PATH, &serde_json::to_vec_pretty(&summary)?)?;
    progress.mark("setup", "environment");

    log::info!(
        "{} runs on {}",
        plan.runs.len() - finished.len(),
        names(settings, ", ")
    );
    let totals = runner::execute_with(
        plan,
        finished,
        &mut set_up,
        kernel.as_deref(),
        &folder,
        progress,
    )?;
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
        .with_context(|| {
            format!(
                "packing {}; the runs are kept there: `collect pack {}` packs them once the cause is fixed",
                run_dir.display(),
                run_dir.display()
            )
        })?;
    progress.mark("pack", "bundle");
    Ok(packed)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
