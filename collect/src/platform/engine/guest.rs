//! One guest's life in the engine: its files (disks, job, logs) and
//! configuration ([`Prepared`]), starting it (a guest the hypervisor did
//! not create is tried again), following it to its end, and what each run
//! folder it ran keeps of it.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::vmm::{BootInfo, GuestConfig, GuestSpec, LogFiles, Nic, StartError, Vmm};
use super::GuestPlatform;
use crate::guest::agent::Job;
use crate::guest::disk::sparse_file;
use crate::guest::drive::{self, Driven, Report, Timeouts};
use crate::guest::session::GuestProcess;
use benchvm_core::outcome::RunOutcome;

/// Size of the sparse results disk; records are a few KiB each.
const RESULTS_DISK_BYTES: u64 = 256 << 20;

/// A guest ready to start.
#[derive(Debug)]
pub(super) struct Prepared<C> {
    pub tag: String,
    pub job: Job,
    pub config: C,
    pub logs: LogFiles,
    pub results: PathBuf,
    /// Its files in the work folder, removed when it is dropped.
    _files: WorkFiles,
}

/// Files removed on drop.
#[derive(Debug)]
struct WorkFiles(Vec<PathBuf>);

impl Drop for WorkFiles {
    fn drop(&mut self) {
        for f in &self.0 {
            let _ = fs::remove_file(f);
        }
    }
}

impl<V: Vmm> GuestPlatform<V> {
    /// The next guest's number (1-based), before [`Self::prepare`] counts it.
    pub(super) fn next_number(&self) -> u32 {
        self.guests + 1
    }

    /// Disks, job, log files and configuration of the next guest, which
    /// runs `job`; its config and job are recorded in the run folder.
    pub(super) fn prepare(
        &mut self,
        job: Job,
        memory_mib: u32,
        nic: Option<Nic<'_, V::NetSide>>,
    ) -> Result<Prepared<V::Config>> {
        self.guests += 1;
        let number = self.guests;
        let tag = format!("guest-{number:03}");
        let work = self.base.work().to_path_buf();
        // Jobs go beside the agent, in the guests' view of the host root.
        let shared = self.base.agent.parent().unwrap_or(&work).to_path_buf();
        let scratch = work.join(format!("{tag}-scratch.img"));
        let results = work.join(format!("{tag}-results.img"));
        let job_path = shared.join(format!("{tag}-job.json"));
        let host_log = work.join(format!("{tag}-{}", V::HOST_LOG));
        let mut files = WorkFiles(vec![
            scratch.clone(),
            results.clone(),
            job_path.clone(),
            host_log.clone(),
        ]);
        let console = match (&self.base.settings.folder, V::CONSOLE_IN_FOLDER) {
            (Some(f), true) => {
                let dir = f.root().join(self.base.config_dir());
                fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
                dir.join(format!("{tag}-console.log"))
            }
            _ => {
                let console = work.join(format!("{tag}-console.log"));
                files.0.push(console.clone());
                console
            }
        };
        crate::guest::scratch::fresh(&scratch, self.base.settings.guest.scratch_gib)?;
        sparse_file(&results, RESULTS_DISK_BYTES)?;
        let job_bytes = serde_json::to_vec_pretty(&job)?;
        fs::write(&job_path, &job_bytes)
            .with_context(|| format!("writing {}", job_path.display()))?;
        let config = self.vmm.configure(&GuestSpec {
            number,
            tag: &tag,
            job: &job_path,
            scratch: &scratch,
            results: &results,
            memory_mib,
            nic,
        })?;
        let (extension, bytes) = config.recorded();
        self.base.record(&format!("{tag}{extension}"), &bytes)?;
        self.base.record(&format!("{tag}-job.json"), &job_bytes)?;
        Ok(Prepared {
            tag,
            job,
            config,
            logs: LogFiles { console, host_log },
            results,
            _files: files,
        })
    }
}

/// Starts `g`, trying again a guest the hypervisor did not create (it ran
/// nothing, so a retry loses nothing); each failed attempt's log is kept
/// at the head of the hypervisor's log.
fn start<V: Vmm>(
    vmm: &V,
    g: &Prepared<V::Config>,
    timeouts: Timeouts,
) -> Result<Box<dyn GuestProcess>, StartError> {
    let mut failed = String::new();
    let mut attempt = 0;
    let keep_failed = |failed: &str| {
        if !failed.is_empty() {
            let now = fs::read_to_string(&g.logs.host_log).unwrap_or_default();
            let _ = fs::write(&g.logs.host_log, format!("{failed}{now}"));
        }
    };
    loop {
        attempt += 1;
        match vmm.start(&g.config, &g.logs, timeouts) {
            Err(StartError::NotCreated(reason)) if attempt <= V::START_RETRIES => {
                log::warn!(
                    "{}: {reason}; trying again (retry {attempt} of {})",
                    g.tag,
                    V::START_RETRIES
                );
                let out = fs::read_to_string(&g.logs.host_log).unwrap_or_default();
                failed.push_str(&format!(
                    "--- {} attempt {attempt} failed ---\n{out}\n",
                    V::START
                ));
            }
            other => {
                keep_failed(&failed);
                return other;
            }
        }
    }
}

/// Starts `g` and follows it through its job to its end; a guest that was
/// not created is a report with that failure.
pub(super) fn drive<V: Vmm>(
    vmm: &V,
    g: &Prepared<V::Config>,
    timeouts: Timeouts,
) -> Result<Driven> {
    match start(vmm, g, timeouts) {
        Ok(process) => drive::follow(
            process,
            &g.job,
            timeouts,
            &g.logs.host_log,
            Some(&g.results),
        ),
        Err(StartError::NotCreated(reason)) => Ok(Driven {
            report: Report {
                finished: Vec::new(),
                failure: Some(reason),
                boot_to_ready_s: None,
                ready_uptime_s: None,
                ended: "not created".into(),
            },
            killed_by: None,
        }),
        Err(StartError::Failed(e)) => Err(e.context(format!("starting {}", g.tag))),
    }
}

/// What a guest left, read once after it ended.
#[derive(Debug)]
pub(super) struct Left {
    pub console: Vec<u8>,
    pub host_log: Vec<u8>,
    pub run_files: Vec<(&'static str, Vec<u8>)>,
}

impl Left {
    pub fn of<C: GuestConfig>(g: &Prepared<C>) -> Left {
        Left {
            console: fs::read(&g.logs.console).unwrap_or_default(),
            host_log: fs::read(&g.logs.host_log).unwrap_or_default(),
            run_files: g.config.run_files(),
        }
    }

    /// Writes what run `boot.position` of the guest keeps into its folder
    /// `dir`, and returns its outcome: from its record, or dnr for
    /// `missing()`.
    pub fn keep<C: GuestConfig>(
        &self,
        g: &Prepared<C>,
        host_log: &str,
        dir: &Path,
        boot: &BootInfo<'_>,
        missing: impl FnOnce() -> String,
    ) -> Result<RunOutcome> {
        let outcome = boot.report.keep_run(boot.position, dir, missing)?;
        fs::write(dir.join("console.log"), &self.console)?;
        if !self.host_log.is_empty() {
            fs::write(dir.join(host_log), &self.host_log)?;
        }
        for (name, bytes) in &self.run_files {
            fs::write(dir.join(name), bytes)?;
        }
        fs::write(dir.join("boot.json"), g.config.boot_json(boot)?)?;
        Ok(outcome)
    }
}
