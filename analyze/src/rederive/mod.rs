//! `analyze verify --rederive`: every row of the metrics table is derived
//! again, whole, from the raw files inside the bundle, and every planned
//! run is accounted for. A bundle whose table was edited and re-hashed
//! into a new, self-consistent bundle passes every hash check; it does not
//! pass this one unless every raw file that speaks to the edited claim was
//! forged to agree with it (which only a signature by a trusted key rules
//! out).
//!
//! Method, for a bundle `collect run` made:
//!
//! 1. The plan ([`plan`]): `config/plan.json` must be exactly what
//!    collect's own `plan::build` makes of `config/suite.toml` on the
//!    platforms the manifest lists (and `config/settings.json`, when there).
//!    It fixes each run's platform, experiment, workload, repetition,
//!    guests and stressor, and its folder.
//! 2. Where each run ran ([`host`]): from the run's `boot.json` (kvm: the
//!    QEMU command line and its `-accel`, which must be the one recorded in
//!    `config/kvm/guest-NNN.cmdline`; xen: the domU's xl.cfg, recorded in
//!    `config/xen/`, beside `xl info` and dom0's command line, whose
//!    `benchvm.lab=` marks an emulated Xen host), its console (the agent's
//!    markers), or their absence (native). This gives platform, accel and
//!    emulated; `env/summary.json` must agree.
//! 3. How each run ended ([`runs`]): its `run.json` (and a multi-guest
//!    run's own `run.json`) must claim what the plan and the host evidence
//!    say, and give the status; a failed or dnr run must give its reason;
//!    an ok value is parsed again from `stdout.log` by the parser collect
//!    used (the `collect` library), with the wall time of `run.json`; an
//!    isolation guest's row is judged again from what the host saw
//!    (`run.json`) and the load client's report (`load.json`).
//! 4. Each row ([`rows`]) must claim exactly that, field by field; each
//!    planned repetition has exactly one row per metric its workload
//!    reports, warm-ups have none, and no row or file under `runs/` belongs
//!    to a run the plan does not have.
//! 5. The design ([`design`]): the plan's order and each adaptive lane's
//!    stopping rule are played again with the values of 3, which gives the
//!    runs that ran (each `run.json`'s place in the order), the runs not
//!    needed (no file, no row) and each lane's `stopping.json`; each run's
//!    quiet claim is what its `quiet.json` and `host-quiet.json` give, each
//!    disk run's cache policy what the suite, the platform's facts and its
//!    `setup.log` give.
//!
//! The run folder's journal (`.journal`) is the collector's own state and
//! never goes into a bundle: each run's `run.json` is what it leaves there.
//!
//! A bundle `collect import` made has no plan and no run logs: its raw
//! source and metadata are kept byte for byte under `import/`, and are
//! imported again ([`import`]).

mod design;
mod host;
mod import;
mod plan;
mod rows;
mod runs;

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result};
use benchvm_format::env::SUMMARY_PATH;
use benchvm_format::metrics::{Status, METRICS_PATH};
use benchvm_format::{read, Bundle, Limits};

/// What was re-derived.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rederived {
    /// Rows of the metrics table, every field checked.
    pub rows: usize,
    /// Of those, ok values parsed again from the raw output.
    pub values: usize,
    /// Planned runs (warm-ups included) found with their records; a
    /// multi-guest run counts once, by its worst guest.
    pub runs: usize,
    pub failed: usize,
    pub dnr: usize,
    /// Planned runs their lane's stopping rule did not need.
    pub not_needed: usize,
    /// The order the plan records (`blocked`, `random (seed 7)`), when it
    /// records one, and the lanes whose stopping was decided again.
    pub order: Option<String>,
    pub lanes: usize,
    /// An imported bundle: imported again from its kept source.
    pub imported: bool,
}

impl Rederived {
    /// One line for a person.
    pub fn describe(&self) -> String {
        if self.imported {
            return format!(
                "re-derived {} values from the kept source, imported again: all {} rows match",
                self.values, self.rows
            );
        }
        let mut text = format!(
            "re-derived all {} rows from the raw files ({} values parsed again); all {} planned runs accounted for ({} ok, {} failed, {} dnr",
            self.rows,
            self.values,
            self.runs + self.not_needed,
            self.runs - self.failed - self.dnr,
            self.failed,
            self.dnr
        );
        if self.not_needed > 0 {
            text.push_str(&format!(
                ", {} not needed by their stopping rule",
                self.not_needed
            ));
        }
        text.push(')');
        if let Some(order) = &self.order {
            text.push_str(&format!(
                "; the {order} order and the stopping of {} lanes played again, every quiet and disk claim checked",
                self.lanes
            ));
        }
        text
    }
}

/// Entries kept in memory: the structured ones and the small raw files
/// that carry claims. Logs other than `stdout.log` and consoles stay
/// hashed only.
fn wanted(path: &str) -> bool {
    const RUN_FILES: [&str; 10] = [
        "/stdout.log",
        "/run.json",
        "/load.json",
        "/boot.json",
        "/xl.cfg",
        "/console.log",
        "/setup.log",
        "/quiet.json",
        "/host-quiet.json",
        "/stopping.json",
    ];
    path == METRICS_PATH
        || path == SUMMARY_PATH
        || path.starts_with("config/")
        || path.starts_with("import/")
        || (path.starts_with("runs/") && RUN_FILES.iter().any(|f| path.ends_with(f)))
}

/// The bundle's files, kept or only listed.
pub(crate) struct Files<'a> {
    bundle: &'a Bundle,
    listed: BTreeSet<&'a str>,
}

impl<'a> Files<'a> {
    fn new(bundle: &'a Bundle) -> Self {
        Files {
            bundle,
            listed: bundle
                .manifest
                .files
                .iter()
                .map(|f| f.path.as_str())
                .collect(),
        }
    }

    /// Whether the bundle holds `path` (kept or not).
    pub fn has(&self, path: &str) -> bool {
        self.listed.contains(path)
    }

    /// A kept file's bytes.
    pub fn get(&self, path: &str) -> Option<&'a [u8]> {
        self.bundle.file(path)
    }

    /// A kept file's text (invalid UTF-8 replaced).
    pub fn text(&self, path: &str) -> Option<String> {
        self.get(path)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    /// A kept JSON file, parsed; `None` when absent.
    pub fn json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<Option<T>> {
        self.get(path)
            .map(|b| serde_json::from_slice(b).with_context(|| format!("parsing {path}")))
            .transpose()
    }

    /// Every listed path under `prefix`.
    pub fn under(&self, prefix: &'a str) -> impl Iterator<Item = &'a str> + '_ {
        self.listed
            .range(prefix..)
            .take_while(move |p| p.starts_with(prefix))
            .copied()
    }
}

/// Re-derives the bundle at `path` (which must verify).
pub fn check(path: &Path, limits: &Limits) -> Result<Rederived> {
    let bundle = read::open(path, limits, &|f| wanted(&f.path))?;
    if import::is_imported(&bundle) {
        return import::check(&bundle);
    }
    let files = Files::new(&bundle);
    // Rows and runs are checked against the plan the bundle claims first,
    // so a forged row is named as such; then that plan against the suite.
    let plan = plan::claimed(&files)?;
    rows::check_planned(&bundle.metrics, &plan)?;
    let (runs, played) = design::replay(&files, &plan)?;
    let mut done = rows::check(&bundle.metrics, &runs)?;
    plan::check(&files, &bundle.manifest, &plan)?;
    design::check_order(&plan, &runs, &played)?;
    design::check_stopping(&files, &plan, &played)?;
    done.not_needed = played.not_needed.len();
    done.order = plan.order.map(|o| o.describe());
    done.lanes = played.lanes.len();
    for run in &runs {
        done.runs += 1;
        match run.worst() {
            Status::Ok => {}
            Status::Failed => done.failed += 1,
            Status::Dnr => done.dnr += 1,
        }
    }
    plan::check_no_strays(&files, &plan, &runs, &played)?;
    Ok(done)
}

#[cfg(test)]
mod tests;
