//! The scalability and isolation experiments on the xen platform: N domUs
//! created at once, each with its own name, scratch and results disk, job,
//! xl.cfg and console log, each followed by [`drive::run_guest`] on a
//! thread of its own with the xen stage deadlines. A domU that panics,
//! hangs or vanishes is `dnr`; every domain is destroyed when its driver
//! returns (deadline, error) and on Ctrl-C ([`Domain`]).
//!
//! Isolation runs ([`Networked`]) also make a network namespace of the
//! run's own in dom0 ([`Netns`], bridge only: the vifs come from Xen), give
//! every domU a vif whose hotplug script ([`crate::xen::vif`]) moves the
//! backend into that namespace onto the bridge, put its address on the
//! kernel command line (`benchvm.ip=`), and run the host's part of the
//! phase on the calling thread while the domUs run. The namespace goes
//! when the run ends, after the domains.
//!
//! The domUs share the Xen host's CPUs, so the boot deadline is stretched
//! by how many times their vCPUs oversubscribe them (as on kvm); the run
//! deadline is the workload's, per guest.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, Context, Result};

use super::{BootRecord, Xen, RESULTS_DISK_BYTES};
use crate::guest::agent::Job;
use crate::guest::drive::{self, Report, Timeouts};
use crate::guest::qemu;
use crate::isolation::netns::{self, Netns};
use crate::platform::{group, guest_dir, HostSide, ParallelRequest, RunOutcome};
use crate::workload::Steps;
use crate::xen::config::Vif;
use crate::xen::domain;
use crate::xen::{vif, xl};

/// What an isolation run adds to a group of domUs.
pub(super) struct Networked<'a> {
    /// Guest 1's steps (the others run the request's).
    pub stressed: &'a Steps,
    pub host: &'a mut dyn HostSide,
}

/// One domU of a parallel run, ready to create. Its work files go on drop.
struct Prepared {
    tag: String,
    name: String,
    job: Job,
    cfg_text: String,
    cfg_path: PathBuf,
    job_path: PathBuf,
    scratch: PathBuf,
    results: PathBuf,
    console: PathBuf,
    xl_log: PathBuf,
    /// The console is in the work folder (no run folder): remove it too.
    console_is_work: bool,
}

impl Drop for Prepared {
    fn drop(&mut self) {
        for f in [&self.scratch, &self.results, &self.job_path, &self.cfg_path] {
            let _ = fs::remove_file(f);
        }
        let _ = fs::remove_file(&self.xl_log);
        if self.console_is_work {
            let _ = fs::remove_file(&self.console);
        }
    }
}

/// The network of an isolation run: the namespace with its bridge, and the
/// hotplug script that puts each vif there (removed on drop, before the
/// namespace goes).
struct Network {
    ns: Netns,
    script: PathBuf,
}

impl Network {
    fn log(&self) -> PathBuf {
        self.script.with_file_name(vif::LOG_NAME)
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.script);
        let _ = fs::remove_file(self.log());
    }
}

/// Creates the domU and follows it through its job; a domain that could
/// not be created is a report with that failure.
fn drive_one(g: &Prepared, timeouts: Timeouts) -> Result<Report> {
    match super::create_with_retries(&g.cfg_path, &g.name, &g.console, &g.xl_log, timeouts.boot) {
        Ok(d) => drive::run_guest(Box::new(d), &g.job, timeouts, &g.xl_log, Some(&g.results)),
        Err(e) => Ok(Report {
            finished: Vec::new(),
            failure: Some(e.to_string()),
            boot_to_ready_s: None,
            ready_uptime_s: None,
            ended: "not created".into(),
        }),
    }
}

impl Xen {
    /// [`crate::platform::Platform::execute_parallel`] (and, networked,
    /// `execute_isolation`) for the xen platform.
    pub(super) fn parallel(
        &mut self,
        run: &ParallelRequest<'_>,
        mut networked: Option<Networked<'_>>,
    ) -> Result<Vec<RunOutcome>> {
        let n = run.n_guests;
        let crash = group::crashed_guest(&run.name);
        let memory = run.memory_mib.unwrap_or(self.s.guest.memory_mib);
        let host_cpus = self
            .facts
            .get("host_cpus")
            .and_then(|c| c.parse::<u32>().ok())
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |c| c.get() as u32));
        let timeouts = group::stretched(self.timeouts, n, self.s.guest.vcpus, host_cpus);
        let wanted = u64::from(n) * u64::from(memory);
        let free = xl::info()
            .ok()
            .and_then(|i| xl::info_field(&i, "free_memory")?.parse::<u64>().ok());
        if let Some(free) = free.filter(|&f| wanted > f) {
            // Not refused: domUs failing as N grows is what the experiment
            // measures; but the report should say why.
            log::warn!(
                "{}: {n} domUs of {memory} MiB ask for {wanted} MiB, more than Xen's {free} MiB free",
                run.name
            );
        }
        // The namespace outlives every domain: it is dropped last.
        let net = match &networked {
            Some(_) => {
                let ns = Netns::create(&Netns::unique_name("benchvm"), 0)
                    .context("creating the domUs' network namespace in dom0")?;
                let script = vif::write_script(&self.s.work, ns.name(), netns::BRIDGE)?;
                Some(Network { ns, script })
            }
            None => None,
        };
        let mut guests = Vec::with_capacity(n as usize);
        for i in 1..=n {
            let steps = match &networked {
                Some(w) if i == 1 => w.stressed,
                _ => run.steps,
            };
            let script = net.as_ref().map(|w| w.script.as_path());
            guests.push(self.prepare(run, i, memory, crash == Some(i), steps, script)?);
        }
        let addrs: Vec<_> = (0..n as usize).filter_map(Netns::guest_addr).collect();
        log::info!(
            "{}: creating {n} domUs of {memory} MiB at once (boot deadline {} s)",
            run.name,
            timeouts.boot.as_secs()
        );
        let reports: Vec<Result<Report>> = std::thread::scope(|s| {
            let handles: Vec<_> = guests
                .iter()
                .map(|g| s.spawn(move || drive_one(g, timeouts)))
                .collect();
            // The host's part of an isolation phase runs while the domUs
            // do; they end on their own (stop, or their deadlines).
            if let (Some(w), Some(net)) = (&mut networked, &net) {
                let ready_by = Instant::now() + timeouts.boot;
                if let Err(e) = w.host.during(&net.ns, &addrs, ready_by) {
                    log::warn!("{}: the host's part of the phase failed: {e:#}", run.name);
                }
            }
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow!("a domU driver thread panicked")))
                })
                .collect()
        });
        self.record_config("xl-dmesg.txt", xl::dmesg().as_bytes())?;
        if let Some(net) = &net {
            let bytes = fs::read(net.log()).unwrap_or_default();
            fs::write(run.dir.join("vif-hotplug.log"), bytes)?;
        }
        let mut outcomes = Vec::with_capacity(n as usize);
        let mut first_error = None;
        for ((i, g), report) in (1..=n).zip(&guests).zip(reports) {
            match report {
                Ok(report) => outcomes.push(self.keep(run, i, g, &report)?),
                Err(e) => {
                    first_error.get_or_insert(e.context(format!("domU {i} ({})", g.name)));
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(outcomes),
        }
    }

    /// Disks, job and xl.cfg of guest `i`; with a hotplug `script`, a vif.
    fn prepare(
        &mut self,
        run: &ParallelRequest<'_>,
        i: u32,
        memory: u32,
        crash: bool,
        steps: &Steps,
        script: Option<&Path>,
    ) -> Result<Prepared> {
        let (tag, name) = self.next_guest();
        let work = &self.s.work;
        let g = Prepared {
            cfg_path: work.join(format!("{tag}.cfg")),
            job_path: self.shared.join(format!("{tag}-job.json")),
            scratch: work.join(format!("{tag}-scratch.img")),
            results: work.join(format!("{tag}-results.img")),
            xl_log: work.join(format!("{tag}-xl.log")),
            console: self.console_path(&tag)?,
            console_is_work: self.s.folder.is_none(),
            job: Job {
                runs: Vec::new(),
                cleanup_s: self.timeouts.cleanup.as_secs(),
            },
            cfg_text: String::new(),
            tag,
            name,
        };
        crate::guest::scratch::fresh(&g.scratch, self.s.guest.scratch_gib)?;
        qemu::sparse_file(&g.results, RESULTS_DISK_BYTES)?;
        let job = group::guest_job(run, i, steps, crash, g.job.cleanup_s);
        let job_bytes = serde_json::to_vec_pretty(&job)?;
        fs::write(&g.job_path, &job_bytes)
            .with_context(|| format!("writing {}", g.job_path.display()))?;
        let mut cfg = self.xl_config(&g.name, &g.job_path, &g.scratch, &g.results, memory);
        if let Some(script) = script {
            let k = (i - 1) as usize;
            let addr = Netns::guest_addr(k).context("too many guests for one bridge")?;
            cfg = cfg.kernel_arg("benchvm.ip", &format!("{addr}/{}", netns::PREFIX_LEN));
            cfg.vifs = vec![Vif {
                mac: vif::mac(k).context("too many guests for one bridge")?,
                script: Some(script.to_path_buf()),
            }];
        }
        let text = cfg.render();
        fs::write(&g.cfg_path, &text)
            .with_context(|| format!("writing {}", g.cfg_path.display()))?;
        self.record_config(&format!("{}.cfg", g.tag), text.as_bytes())?;
        self.record_config(&format!("{}-job.json", g.tag), &job_bytes)?;
        let mut g = g;
        g.job = job;
        g.cfg_text = text;
        Ok(g)
    }

    /// Writes guest `i`'s files into its folder and returns its outcome.
    fn keep(
        &mut self,
        run: &ParallelRequest<'_>,
        i: u32,
        g: &Prepared,
        report: &Report,
    ) -> Result<RunOutcome> {
        let dir = guest_dir(run.dir, i);
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        if let Some(t) = report.boot_to_ready_s {
            log::info!("{}: {} boot to ready {t:.1} s", run.name, g.tag);
            self.boots.push(t);
            self.update_boot_facts();
        }
        let outcome = report.keep_run(0, &dir, || {
            report
                .failure
                .clone()
                .unwrap_or_else(|| "the domain ended without a record of its run".to_owned())
        })?;
        fs::write(
            dir.join("console.log"),
            fs::read(&g.console).unwrap_or_default(),
        )?;
        fs::write(dir.join("xl.cfg"), &g.cfg_text)?;
        let dm_log = Path::new(domain::CONSOLE_LOG_DIR).join(format!("qemu-dm-{}.log", g.name));
        for (from, to) in [(g.xl_log.as_path(), "xl.log"), (&dm_log, "qemu-dm.log")] {
            let bytes = fs::read(from).unwrap_or_default();
            if !bytes.is_empty() {
                fs::write(dir.join(to), bytes)?;
            }
        }
        let folder = format!("{}/guest-{i}", run.name);
        let boot = BootRecord {
            guest: &g.tag,
            domain: &g.name,
            accel: self.s.guest_type.accel(),
            boot_to_ready_s: report.boot_to_ready_s,
            ready_uptime_s: report.ready_uptime_s,
            runs: vec![folder.as_str()],
            position: 0,
            domain_ended: &report.ended,
            failure: report.failure.as_deref(),
            config: &g.cfg_text,
        };
        fs::write(dir.join("boot.json"), serde_json::to_vec_pretty(&boot)?)?;
        Ok(outcome)
    }
}
