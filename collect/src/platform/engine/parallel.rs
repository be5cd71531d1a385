//! The scalability and isolation experiments on a guest platform: N
//! guests started at once, each with its own disks, job, configuration and
//! console log, each followed on a thread of its own with the usual
//! per-stage deadlines. A guest that panics, hangs or vanishes is `dnr`;
//! every guest is ended when its driver returns (deadline, error) and on
//! Ctrl-C.
//!
//! Isolation runs ([`Networked`]) also make a network namespace of the
//! run's own with a bridge ([`crate::isolation::netns::Netns`]), give every
//! guest a NIC on it (the hypervisor's: a tap for QEMU, a vif for Xen) and
//! its address on the kernel command line (`benchvm.ip=`), and run the
//! host's part of the phase on the calling thread while the guests run.
//! The network goes when the run ends, after the guests.
//!
//! Guests share the host's CPUs, so the boot deadline is stretched by how
//! many times the guests' vCPUs oversubscribe them; the run deadline is the
//! workload's, per guest. Each guest runs the workload's setup (not timed)
//! then its measured command as soon as it is ready, so the measured runs
//! overlap but need not start at the same instant.

use std::fs;
use std::time::Instant;

use anyhow::{anyhow, Context, Result};

use super::guest::{drive, Left, Prepared};
use super::vmm::{BootInfo, Nic, Vmm};
use super::{group, GuestPlatform};
use crate::guest::drive::Report;
use crate::isolation::netns::Netns;
use crate::platform::api::{guest_dir, HostSide, ParallelRequest};
use crate::workload::Steps;
use benchvm_core::outcome::RunOutcome;

/// What an isolation run adds to a group of guests.
pub(super) struct Networked<'a> {
    /// Guest 1's steps (the others run the request's).
    pub stressed: &'a Steps,
    pub host: &'a mut dyn HostSide,
}

impl<V: Vmm> GuestPlatform<V> {
    /// [`crate::platform::Platform::execute_parallel`], and, networked,
    /// `execute_isolation`.
    pub(super) fn parallel(
        &mut self,
        run: &ParallelRequest<'_>,
        mut networked: Option<Networked<'_>>,
    ) -> Result<Vec<RunOutcome>> {
        let n = run.n_guests;
        let crash = group::crashed_guest(&run.name);
        let memory = run
            .memory_mib
            .unwrap_or(self.base.settings.guest.memory_mib);
        let capacity = self.vmm.capacity();
        let timeouts = group::stretched(
            self.timeouts,
            n,
            self.base.settings.guest.vcpus,
            capacity.cpus,
        );
        let wanted = u64::from(n) * u64::from(memory);
        if let Some((free, whose)) = capacity.free_mib.filter(|&(f, _)| wanted > f) {
            // Not refused: guests failing as N grows is what the experiment
            // measures; but the report should say why.
            log::warn!(
                "{}: {n} {}s of {memory} MiB ask for {wanted} MiB, more than {whose} {free} MiB",
                run.name,
                V::GUEST
            );
        }
        // The network outlives every guest: it is dropped last.
        let net = match &networked {
            Some(_) => Some(
                self.vmm
                    .network(n)
                    .context("creating the guests' network namespace")?,
            ),
            None => None,
        };
        let mut guests: Vec<Prepared<V::Config>> = Vec::with_capacity(n as usize);
        for i in 1..=n {
            let steps = match &networked {
                Some(w) if i == 1 => w.stressed,
                _ => run.steps,
            };
            let job = group::guest_job(
                run,
                i,
                steps,
                crash == Some(i),
                self.timeouts.cleanup.as_secs(),
            );
            let nic = match &net {
                Some(net) => {
                    let index = (i - 1) as usize;
                    let addr =
                        Netns::guest_addr(index).context("too many guests for one bridge")?;
                    Some(Nic { index, addr, net })
                }
                None => None,
            };
            guests.push(self.prepare(job, memory, nic)?);
        }
        let addrs: Vec<_> = (0..n as usize).filter_map(Netns::guest_addr).collect();
        log::info!(
            "{}: starting {n} {}s of {memory} MiB at once (boot deadline {} s)",
            run.name,
            V::GUEST,
            timeouts.boot.as_secs()
        );
        let vmm = &self.vmm;
        let reports: Vec<Result<Report>> = std::thread::scope(|s| {
            let handles: Vec<_> = guests
                .iter()
                .map(|g| s.spawn(move || drive(vmm, g, timeouts).map(|d| d.report)))
                .collect();
            // The host's part of an isolation phase runs while the guests
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
                        .unwrap_or_else(|_| Err(anyhow!("a guest driver thread panicked")))
                })
                .collect()
        });
        self.vmm.after_guests(&self.base)?;
        if let Some(net) = &net {
            self.vmm.keep_network_logs(&net.side, run.dir)?;
        }
        let mut outcomes = Vec::with_capacity(n as usize);
        let mut first_error = None;
        for ((i, g), report) in (1..=n).zip(&guests).zip(reports) {
            match report {
                Ok(report) => outcomes.push(self.keep(run, i, g, &report)?),
                Err(e) => {
                    first_error.get_or_insert(e.context(format!("{} {i} ({})", V::GUEST, g.tag)));
                }
            }
        }
        drop(guests);
        drop(net);
        match first_error {
            Some(e) => Err(e),
            None => Ok(outcomes),
        }
    }

    /// Writes guest `i`'s files into its folder and returns its outcome.
    fn keep(
        &mut self,
        run: &ParallelRequest<'_>,
        i: u32,
        g: &Prepared<V::Config>,
        report: &Report,
    ) -> Result<RunOutcome> {
        let dir = guest_dir(run.dir, i);
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        if let Some(t) = report.boot_to_ready_s {
            log::info!("{}: {} boot to ready {t:.1} s", run.name, g.tag);
        }
        self.booted(report.boot_to_ready_s);
        let name = format!("{}/guest-{i}", run.name);
        let boot = BootInfo {
            tag: &g.tag,
            report,
            runs: vec![name.as_str()],
            position: 0,
            serial: None,
        };
        Left::of(g).keep(g, V::HOST_LOG, &dir, &boot, || {
            report
                .failure
                .clone()
                .unwrap_or_else(|| format!("the {} ended without a record of its run", V::GUEST))
        })
    }
}
