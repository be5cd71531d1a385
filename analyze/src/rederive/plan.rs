//! The plan a bundle claims (`config/plan.json`), derived again from the
//! suite it was made from (`config/suite.toml`), and the run folders it
//! fixes.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use benchvm_format::Manifest;
use collect::plan::{self, Plan, PlannedRun, RunOrder};
use collect::suite;
use serde_json::Value;

use super::runs::Found;
use super::Files;
use collect::runner::schedule::Schedule;

pub const PLAN: &str = "config/plan.json";
pub const SUITE: &str = "config/suite.toml";
const SETTINGS: &str = "config/settings.json";

/// The platforms `config/settings.json` names, when the bundle has it.
#[derive(Debug, serde::Deserialize)]
struct Settings {
    platforms: Vec<String>,
    #[serde(default)]
    order: Option<RunOrder>,
}

/// The plan the bundle claims.
pub fn claimed(files: &Files<'_>) -> Result<Plan> {
    files
        .json(PLAN)?
        .with_context(|| format!("the bundle has no {PLAN} to re-derive from"))
}

/// Checks the claimed plan against the suite it must come from and the
/// manifest.
pub fn check(files: &Files<'_>, manifest: &Manifest, claimed: &Plan) -> Result<()> {
    let told: Value = files
        .json(PLAN)?
        .with_context(|| format!("the bundle has no {PLAN} to re-derive from"))?;
    let text = files
        .text(SUITE)
        .with_context(|| format!("the bundle has no {SUITE}: the plan cannot be derived again"))?;
    let suite = suite::parse(&text, Path::new(SUITE))
        .map_err(|e| anyhow!("{SUITE} does not parse as a suite: {e}"))?;
    let claimed_names: Vec<&str> = claimed.platforms.iter().map(|p| p.name()).collect();
    if claimed_names != manifest.platforms {
        bail!(
            "{PLAN} runs on {}, but manifest.json lists the platforms {}",
            claimed_names.join(", "),
            manifest.platforms.join(", ")
        );
    }
    if let Some(settings) = files.json::<Settings>(SETTINGS)? {
        if settings.platforms != claimed_names {
            bail!(
                "{PLAN} runs on {}, but {SETTINGS} says the run was asked for {}",
                claimed_names.join(", "),
                settings.platforms.join(", ")
            );
        }
        if let (Some(asked), Some(planned)) = (settings.order, claimed.order) {
            if asked != planned {
                bail!(
                    "{PLAN} runs in the {} order, but {SETTINGS} says the run was asked for {}",
                    planned.describe(),
                    asked.describe()
                );
            }
        }
    }
    if suite.name != manifest.suite {
        bail!(
            "manifest.json names the suite {:?}, but {SUITE} is the suite {:?}",
            manifest.suite,
            suite.name
        );
    }
    let mut built = plan::build_with(
        &suite,
        &claimed.platforms,
        claimed.order.unwrap_or(RunOrder::BLOCKED),
    );
    if claimed.order.is_none() {
        // Made before plans recorded their order: those ran blocked.
        built.order = None;
    }
    if serde_json::to_value(&built)? != told {
        bail!(
            "{PLAN} is not the plan {SUITE} gives on {}: {}",
            claimed_names.join(", "),
            first_difference(claimed, &built)?
        );
    }
    Ok(())
}

/// Where two plans part, for a person.
fn first_difference(told: &Plan, built: &Plan) -> Result<String> {
    let run = |r: &PlannedRun| format!("{} ({})", r.folder(), r.describe());
    let folders = |p: &Plan| {
        p.runs
            .iter()
            .map(PlannedRun::folder)
            .collect::<BTreeSet<_>>()
    };
    let (told_folders, built_folders) = (folders(told), folders(built));
    if let Some(missing) = built
        .runs
        .iter()
        .find(|r| !told_folders.contains(&r.folder()))
    {
        return Ok(format!("the suite plans {}, it does not", run(missing)));
    }
    if let Some(extra) = told
        .runs
        .iter()
        .find(|r| !built_folders.contains(&r.folder()))
    {
        return Ok(format!("it plans {}, the suite does not", run(extra)));
    }
    for (i, (a, b)) in told.runs.iter().zip(&built.runs).enumerate() {
        if serde_json::to_value(a)? != serde_json::to_value(b)? {
            return Ok(format!(
                "its run {} is {}, the suite's is {}, with other settings or in another order",
                i + 1,
                run(a),
                run(b)
            ));
        }
    }
    Ok("its suite name, platforms or guest size differ".to_owned())
}

/// Refuses a file under `runs/` that belongs to no run that ran (a
/// planned run its stopping rule did not need has none) and is no lane's
/// stopping record.
pub fn check_no_strays(
    files: &Files<'_>,
    plan: &Plan,
    ran: &[Found<'_>],
    played: &Schedule,
) -> Result<()> {
    let folders: BTreeSet<String> = ran.iter().map(|f| f.run.folder()).collect();
    let records: BTreeSet<String> = played.lanes.iter().map(|l| l.path()).collect();
    let unneeded: BTreeSet<String> = played
        .not_needed
        .iter()
        .map(|&i| plan.runs[i].folder())
        .collect();
    for path in files.under("runs/") {
        if records.contains(path) {
            continue;
        }
        if let Some(run) = unneeded.iter().find(|f| path.starts_with(&format!("{f}/"))) {
            bail!("{path}: a file of {run}, a planned run its lane's stopping record says was not needed");
        }
        let mut dir = path;
        let planned = loop {
            match dir.rfind('/') {
                Some(i) => {
                    dir = &dir[..i];
                    if folders.contains(dir) {
                        break true;
                    }
                }
                None => break false,
            }
        };
        if !planned {
            bail!("{path}: a file under runs/ that belongs to no run {PLAN} plans");
        }
    }
    Ok(())
}
