//! The guest agent: `collect guest-agent`, started by the guest's init
//! inside the host's root. It says it is ready on the console, runs the
//! job's runs one after the other exactly as the native platform does
//! ([`crate::steps`]), and writes one results record per run.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::console;
use super::results::{self, RecordWriter};
use crate::steps;
use crate::workload::Steps;
use benchvm_core::outcome::RunOutcome;

/// What a guest is asked to run; the host writes it as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    pub runs: Vec<JobRun>,
    /// Time cleanup commands get after each run.
    pub cleanup_s: u64,
}

/// One run of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobRun {
    /// The run's folder in the bundle (`runs/...`), for the logs.
    pub folder: String,
    pub steps: Steps,
    pub deadline_s: u64,
}

/// `outcome.json` of a results record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestOutcome {
    /// Index of the run in the job.
    pub index: usize,
    pub folder: String,
    pub outcome: RunOutcome,
    /// Guest uptime when the run started and ended.
    /// NaN when /proc/uptime could not be read (JSON writes it as null).
    #[serde(deserialize_with = "f64_or_nan")]
    pub started_uptime_s: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub ended_uptime_s: f64,
    /// The guest's boot id when the run ended: a record whose boot id is
    /// not the one the ready marker carried comes from another boot.
    /// Absent in records of older agents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
}

/// A number, or NaN for `null` (serde_json writes non-finite floats as null).
fn f64_or_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Name of the outcome file inside a record.
pub const OUTCOME_FILE: &str = "outcome.json";
/// Files of a run's folder that travel in its record.
const RUN_FILES: &[&str] = &["setup.log", "stdout.log", "stderr.log", crate::quiet::FILE];

/// Seconds since the guest booted.
pub fn uptime() -> f64 {
    fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// The kernel's id of this boot, new at every boot.
pub fn boot_id() -> Option<String> {
    fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty() && !s.contains(char::is_whitespace))
}

/// Runs the agent. Without a job it only reports ready (the boot probe).
pub fn run(job: Option<&Path>, results: Option<&Path>, scratch: &Path) -> Result<()> {
    let boot = boot_id();
    match &boot {
        Some(id) => println!("{} {:.3} {id}", console::READY, uptime()),
        None => println!("{} {:.3}", console::READY, uptime()),
    }
    let Some(job_path) = job else {
        println!("{}", console::DONE);
        return Ok(());
    };
    let job: Job = serde_json::from_slice(
        &fs::read(job_path).with_context(|| format!("reading the job {}", job_path.display()))?,
    )
    .with_context(|| format!("parsing the job {}", job_path.display()))?;
    let results = results.context("--results is required with --job")?;
    let mut writer = RecordWriter::open(results)
        .with_context(|| format!("opening the results disk {}", results.display()))?;
    let work = PathBuf::from("/tmp/benchvm-agent");
    for (index, run) in job.runs.iter().enumerate() {
        println!("{} {index} {}", console::BEGIN, run.folder);
        let dir = work.join(index.to_string());
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let started = uptime();
        let outcome = steps::run(
            &run.steps,
            scratch,
            &dir,
            Duration::from_secs(run.deadline_s),
            Duration::from_secs(job.cleanup_s),
        )
        .unwrap_or_else(|e| steps::failed(format!("guest agent: {e}"), None));
        let record = GuestOutcome {
            index,
            folder: run.folder.clone(),
            outcome,
            started_uptime_s: started,
            ended_uptime_s: uptime(),
            boot_id: boot_id(),
        };
        let mut files = vec![(OUTCOME_FILE.to_owned(), serde_json::to_vec_pretty(&record)?)];
        for name in RUN_FILES {
            if let Ok(bytes) = fs::read(dir.join(name)) {
                files.push(((*name).to_owned(), bytes));
            }
        }
        writer
            .append(&results::pack(&files)?)
            .with_context(|| format!("writing the record of run {index}"))?;
        let _ = fs::remove_dir_all(&dir);
        let status = serde_json::to_value(record.outcome.status)?;
        println!(
            "{} {index} {}",
            console::END,
            status.as_str().unwrap_or("?")
        );
    }
    println!("{}", console::DONE);
    Ok(())
}
