//! The scalability and isolation experiments on the kvm platform: N guests
//! started at once, each with its own scratch and results disk, job and
//! console log, each driven by [`drive::run`] on a thread of its own with
//! the usual per-stage deadlines. Every QEMU is an owned child: killed when
//! its driver returns early, and with all the others on Ctrl-C.
//!
//! Isolation runs ([`Networked`]) also give every guest a virtio-net NIC on
//! a tap of a private network namespace ([`Netns`]: QEMU runs inside it
//! through `ip netns exec`), its address on the kernel command line
//! (`benchvm.ip=`), and run the host's part of the phase on the calling
//! thread while the guests run. The namespace goes when the run ends.
//!
//! Guests share the host's CPUs, so the boot deadline is stretched by how
//! many times the guests' vCPUs oversubscribe them; the run deadline is the
//! workload's, per guest. Each guest runs the workload's setup (not timed)
//! then its measured command as soon as it is ready, so the measured
//! compiles overlap but need not start at the same instant.

use std::fs;
use std::path::PathBuf;

use anyhow::{anyhow, Context, Result};

use super::{BootRecord, Qemu, RESULTS_DISK_BYTES};
use crate::guest::agent::Job;
use crate::guest::drive::{self, Report};
use crate::guest::qemu::{self, Drive, Nic};
use crate::guest::{RESULTS_SERIAL, SCRATCH_SERIAL};
use crate::isolation::netns::{self, Netns};
use crate::platform::HostSide;
use crate::platform::{group, guest_dir, ParallelRequest, RunOutcome};
use crate::workload::Steps;

/// What an isolation run adds to a group of guests.
pub(super) struct Networked<'a> {
    /// Guest 1's steps (the others run the request's).
    pub stressed: &'a Steps,
    pub host: &'a mut dyn HostSide,
}

/// One guest of a scalability run, ready to start.
struct Prepared {
    tag: String,
    argv: Vec<String>,
    line: String,
    job: Job,
    scratch: PathBuf,
    results: PathBuf,
    job_path: PathBuf,
    console: PathBuf,
    qemu_log: PathBuf,
}

impl Qemu {
    /// [`crate::platform::Platform::execute_parallel`] for the kvm platform.
    pub(super) fn parallel(
        &mut self,
        run: &ParallelRequest<'_>,
        mut networked: Option<Networked<'_>>,
    ) -> Result<Vec<RunOutcome>> {
        let n = run.n_guests;
        let crash = group::crashed_guest(&run.name);
        let memory = run.memory_mib.unwrap_or(self.s.guest.memory_mib);
        let host_cpus = std::thread::available_parallelism().map_or(1, |c| c.get() as u32);
        let timeouts = group::stretched(self.timeouts, n, self.s.guest.vcpus, host_cpus);
        let wanted = u64::from(n) * u64::from(memory);
        if let Some(available) = mem_available_mib().filter(|&a| wanted > a) {
            // Not refused: guests crashing as N grows is what the
            // experiment measures; but the report should say why.
            log::warn!(
                "{}: {n} guests of {memory} MiB ask for {wanted} MiB, more than the host's {available} MiB available",
                run.name
            );
        }
        let net = match &networked {
            Some(_) => Some(
                Netns::create(&Netns::unique_name("benchvm"), n as usize)
                    .context("creating the guests' network namespace")?,
            ),
            None => None,
        };
        let mut guests = Vec::with_capacity(n as usize);
        for i in 1..=n {
            let steps = match &networked {
                Some(w) if i == 1 => w.stressed,
                _ => run.steps,
            };
            let g = self.prepare(run, i, memory, crash == Some(i), steps, net.as_ref())?;
            guests.push(g);
        }
        let addrs: Vec<_> = (0..n as usize).filter_map(Netns::guest_addr).collect();
        log::info!(
            "{}: starting {n} guests of {memory} MiB at once (boot deadline {} s)",
            run.name,
            timeouts.boot.as_secs()
        );
        let reports: Vec<Result<Report>> = std::thread::scope(|s| {
            let handles: Vec<_> = guests
                .iter()
                .map(|g| {
                    s.spawn(move || {
                        drive::run(
                            &g.argv,
                            &g.job,
                            timeouts,
                            &g.console,
                            &g.qemu_log,
                            Some(&g.results),
                        )
                    })
                })
                .collect();
            // The host's part of an isolation phase runs while the guests
            // do; the guests end on their own (stop, or their deadlines).
            let during = match (&mut networked, &net) {
                (Some(w), Some(ns)) => {
                    w.host
                        .during(ns, &addrs, std::time::Instant::now() + timeouts.boot)
                }
                _ => Ok(()),
            };
            if let Err(e) = during {
                log::warn!("{}: the host's part of the phase failed: {e:#}", run.name);
            }
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow!("a guest driver thread panicked")))
                })
                .collect()
        });
        let mut outcomes = Vec::with_capacity(n as usize);
        let mut first_error = None;
        for ((i, g), report) in (1..=n).zip(&guests).zip(reports) {
            for f in [&g.scratch, &g.results, &g.job_path] {
                let _ = fs::remove_file(f);
            }
            match report {
                Ok(report) => outcomes.push(self.keep(run, i, g, &report)?),
                Err(e) => {
                    first_error.get_or_insert(e.context(format!("guest {i} ({})", g.tag)));
                }
            }
            for f in [&g.console, &g.qemu_log] {
                let _ = fs::remove_file(f);
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(outcomes),
        }
    }

    /// Disks, job and command line of guest `i`.
    fn prepare(
        &mut self,
        run: &ParallelRequest<'_>,
        i: u32,
        memory: u32,
        crash: bool,
        steps: &Steps,
        net: Option<&Netns>,
    ) -> Result<Prepared> {
        self.guests += 1;
        let tag = format!("guest-{:03}", self.guests);
        let work = &self.s.work;
        let g = Prepared {
            scratch: work.join(format!("{tag}-scratch.img")),
            results: work.join(format!("{tag}-results.img")),
            job_path: work.join(format!("{tag}-job.json")),
            console: work.join(format!("{tag}-console.log")),
            qemu_log: work.join(format!("{tag}-qemu.log")),
            tag,
            argv: Vec::new(),
            line: String::new(),
            job: Job {
                runs: Vec::new(),
                cleanup_s: self.timeouts.cleanup.as_secs(),
            },
        };
        crate::guest::scratch::fresh(&g.scratch, self.s.guest.scratch_gib)?;
        qemu::sparse_file(&g.results, RESULTS_DISK_BYTES)?;
        let job = group::guest_job(run, i, steps, crash, g.job.cleanup_s);
        let job_bytes = serde_json::to_vec_pretty(&job)?;
        fs::write(&g.job_path, &job_bytes)
            .with_context(|| format!("writing {}", g.job_path.display()))?;
        let mut cmd = self.command(self.accel);
        if let Some(ns) = net {
            let k = (i - 1) as usize;
            let addr = Netns::guest_addr(k).context("too many guests for one bridge")?;
            let tap = ns.taps().get(k).context("the namespace has too few taps")?;
            cmd = cmd
                .kernel_arg("benchvm.ip", &format!("{addr}/{}", netns::PREFIX_LEN))
                .nic(Nic {
                    tap: tap.clone(),
                    mac: format!("52:54:00:77:00:{:02x}", k + 2),
                });
        }
        let cmd = cmd
            .memory_mib(memory)
            .kernel_arg("benchvm.job", &g.job_path.to_string_lossy())
            .drive(Drive {
                id: "scratch".into(),
                path: g.scratch.clone(),
                serial: SCRATCH_SERIAL.into(),
                cache: self.cache_mode.into(),
                readonly: false,
            })
            .drive(Drive {
                id: "results".into(),
                path: g.results.clone(),
                serial: RESULTS_SERIAL.into(),
                cache: "writeback".into(),
                readonly: false,
            });
        let line = cmd.line();
        self.facts
            .entry("qemu_command_line".into())
            .or_insert_with(|| line.clone());
        self.record_config(
            &format!("{}.cmdline", g.tag),
            format!("{line}\n").as_bytes(),
        )?;
        self.record_config(&format!("{}-job.json", g.tag), &job_bytes)?;
        let mut argv = cmd.argv();
        if let Some(ns) = net {
            argv.splice(0..0, ["ip", "netns", "exec", ns.name()].map(String::from));
        }
        Ok(Prepared {
            argv,
            line,
            job,
            ..g
        })
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
            self.boots.push(t);
            self.update_boot_facts();
        }
        let outcome = report.keep_run(0, &dir, || {
            report
                .failure
                .clone()
                .unwrap_or_else(|| "the guest ended without a record of its run".to_owned())
        })?;
        fs::write(
            dir.join("console.log"),
            fs::read(&g.console).unwrap_or_default(),
        )?;
        let qemu_bytes = fs::read(&g.qemu_log).unwrap_or_default();
        if !qemu_bytes.is_empty() {
            fs::write(dir.join("qemu.log"), &qemu_bytes)?;
        }
        let name = format!("{}/guest-{i}", run.name);
        let boot = BootRecord {
            guest: &g.tag,
            accel: self.accel,
            boot_to_ready_s: report.boot_to_ready_s,
            ready_uptime_s: report.ready_uptime_s,
            runs: vec![name.as_str()],
            position: 0,
            qemu_ended: &report.ended,
            failure: report.failure.as_deref(),
            command_line: &g.line,
        };
        fs::write(dir.join("boot.json"), serde_json::to_vec_pretty(&boot)?)?;
        Ok(outcome)
    }
}

/// `MemAvailable` of /proc/meminfo, in MiB.
fn mem_available_mib() -> Option<u64> {
    let text = fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}
