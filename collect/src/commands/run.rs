//! `collect run`: the whole comparison a suite asks for, from one command.
//! Everything is checked first (suite, platforms, tools, output folders,
//! guest kernel and Xen hypervisor fetched on first use); then the
//! platforms this host runs itself go into one run folder and bundle
//! ([`crate::suite_run::local`]), and xen, off a Xen dom0, goes through the
//! Xen lab into a second bundle ([`crate::suite_run::lab_part`]). One
//! progress bar with an ETA covers both; at the end a table says where the
//! time went.

use anyhow::{Context, Result};
use benchvm_core::registry::PlatformKind;

use super::pack::print_packed;
use super::printed::{print_json, BundleOut};
use crate::cli::RunArgs;
use crate::platform::registry;
use crate::progress::Progress;
use crate::suite::{self, SuiteRef};
use crate::suite_run::{lab_part, local, settings, Settings};
use crate::{plan, runner};

/// The lab boot's first estimate (s), corrected like the runs.
const LAB_BOOT_S: f64 = 90.0;

/// How much slower than natively a platform's runs are expected to be, for
/// the first ETA (its registry entry's).
pub fn eta_factor(platform: PlatformKind) -> f64 {
    registry::entry(platform).eta_factor
}

pub fn run(args: &RunArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let suite_ref = SuiteRef::locate(&args.suite, args.suites_dir.as_deref())?;
    let suite = suite::load(&suite_ref)?;
    let all = settings::platforms(args, &suite)?;
    let resolved = Settings::from_args(args, suite_ref, all.clone())?;
    let split = settings::split(
        &all,
        &resolved.platform,
        crate::platform::xen::host::is_dom0(),
    )?;
    let settings = Settings {
        platforms: split.local.clone(),
        ..resolved.clone()
    };
    if let Some(dir) = &args.run_dir {
        settings::usable_run_dir(dir)?;
    }
    let names = |p: &[PlatformKind]| p.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ");
    if split.xen_in_lab && args.scratch.is_some() {
        log::warn!(
            "--scratch applies to {}; the lab keeps the domUs' disks on its own disk",
            names(&split.local)
        );
    }
    // The tools of every platform, the lab's included (dom0 runs on this
    // host's root), before anything starts.
    let assets = local::check_requirements(&suite, &resolved)?;
    local::prepare_guests(&settings)?;
    let lab = split
        .xen_in_lab
        .then(|| lab_part::prepare(&suite, &settings, &assets, args.lab_memory))
        .transpose()?;

    let progress = Progress::since(started);
    progress.mark("setup", "tools, kernel, tree");
    let local_plan = plan::build_with(&suite, &settings.platforms, settings.order);
    progress.add_runs(&runner::todo(&local_plan, &Default::default()), eta_factor);
    if lab.is_some() {
        progress.add_step(crate::lab::xen::BOOT_STEP, "xen", LAB_BOOT_S);
        let xen_plan = plan::build(&suite, &[PlatformKind::Xen]);
        progress.add_runs(&runner::todo(&xen_plan, &Default::default()), eta_factor);
    }
    let mut places = Vec::new();
    if !settings.platforms.is_empty() {
        places.push(format!("{} here", names(&settings.platforms)));
    }
    if lab.is_some() {
        places.push("xen in the Xen lab".to_owned());
    }
    log::info!(
        "suite {} ({}): {}; order {}",
        suite.name,
        suite.description,
        places.join(", "),
        settings.order.describe()
    );
    let (mut bundles, mut printed) = (Vec::new(), Vec::new());
    if !settings.platforms.is_empty() {
        let packed = local::run(
            &suite,
            &settings,
            args.run_dir.as_deref(),
            &assets,
            &progress,
        )?;
        if !args.json.json {
            progress.suspend(|| print_packed(&packed));
        }
        printed.push(BundleOut::from(&packed));
        bundles.push(packed.path);
    }
    if let Some(lab) = &lab {
        let done = lab_part::run(lab, &progress).with_context(|| {
            if bundles.is_empty() {
                "the Xen lab failed".to_owned()
            } else {
                format!(
                    "the Xen lab failed; the other platforms' bundle is complete: {}",
                    bundles[0].display()
                )
            }
        })?;
        if args.json.json {
            printed.push(BundleOut::of_file(&done.bundle)?);
        } else {
            progress.suspend(|| {
                crate::outln!("bundle {}", done.bundle.display());
                crate::outln!("id     {}", done.id);
            });
        }
        bundles.push(done.bundle);
    }
    progress.finish_and_clear();
    if args.json.json {
        print_json(&serde_json::json!({ "bundles": printed }))?;
    }
    crate::errln!("{}", progress.time_table().trim_end());
    if bundles.len() > 1 {
        crate::errln!(
            "report over all of them: analyze report {}",
            bundles
                .iter()
                .map(|b| b.display().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    Ok(())
}
