//! The host's part of one isolation phase ([`crate::platform::HostSide`]):
//!
//! 1. wait until each guest's phase command answers its control channel
//!    (nginx is up by then), until the platform's boot deadline;
//! 2. start the host part of a `net-send` stressor (an iperf3 server);
//! 3. `go` to every ready guest: the stressed guest starts its stressor;
//! 4. wait the ramp, then start the host part of `net-receive` (iperf3
//!    sending to the stressed guest) and drive every ready guest with the
//!    open-loop client ([`super::client`]) for the window, all at once;
//! 5. `stop` to every guest that went, end the host part.
//!
//! The load client and the host's iperf3 run inside the run's network
//! namespace: the phase runs on a thread that enters it (`setns`; the
//! client's threads inherit it), iperf3 through `ip netns exec`. Every
//! event goes to `phase.log` with its time since the phase began; an error
//! of the host's part goes there too and into each guest's view that has
//! no load report, so its row says why.

use std::fs::File;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::sched::{setns, CloneFlags};

use super::client::{self, LoadConfig, LoadReport};
use super::control::{Control, CONTROL_PORT};
use super::fileset::FileSetSpec;
use super::guest::HTTP_PORT;
use super::netns::Netns;
use super::stressor::Stressor;
use crate::platform::HostSide;
use crate::process::Owned;
use crate::workload::WebParams;

/// How long a guest may take to answer `go` or `stop`.
const ANSWER: Duration = Duration::from_secs(60);

/// What the host saw of one guest in the phase.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GuestView {
    /// Seconds from the phase's start until the control channel answered.
    pub ready_s: Option<f64>,
    /// Why it never became ready, or why `go`/`stop` failed.
    pub problem: Option<String>,
    pub went: bool,
    pub stopped: bool,
    /// The load client's report for this guest.
    pub load: Option<LoadReport>,
    /// The host's part failed before it measured this guest: the guest's
    /// row is failed (the host's fault), not dnr.
    pub host_error: Option<String>,
}

/// One phase's host part; read [`Phase::guests`] after the run.
#[derive(Debug)]
pub struct Phase<'a> {
    params: &'a WebParams,
    stressor: Option<Stressor>,
    /// The run's folder: `phase.log` and `host-stressor.log` go here.
    dir: PathBuf,
    pub guests: Vec<GuestView>,
    started: Instant,
    log: Option<File>,
}

impl<'a> Phase<'a> {
    pub fn new(params: &'a WebParams, stressor: Option<Stressor>, dir: PathBuf) -> Self {
        Phase {
            params,
            stressor,
            dir,
            guests: Vec::new(),
            started: Instant::now(),
            log: None,
        }
    }

    fn note(&mut self, what: impl AsRef<str>) {
        let line = format!(
            "[{:>7.2} s] {}",
            self.started.elapsed().as_secs_f64(),
            what.as_ref()
        );
        log::debug!("{line}");
        if let Some(f) = self.log.as_mut() {
            let _ = writeln!(f, "{line}");
        }
    }

    /// Starts the host part of the stressor, if it has one now.
    fn host_part(&mut self, ns: &Netns, guest1: Ipv4Addr, first: bool) -> Result<Option<Owned>> {
        let Some(s) = self.stressor.filter(|s| s.host_part_first() == first) else {
            return Ok(None);
        };
        let Some(argv) = s.host_argv(guest1, self.params.duration_s + 2) else {
            return Ok(None);
        };
        let out = File::create(self.dir.join("host-stressor.log"))?;
        let mut cmd = ns.command(&argv[0]);
        cmd.args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        let child =
            Owned::spawn(&mut cmd).with_context(|| format!("starting {}", argv.join(" ")))?;
        self.note(format!("host part of {s}: {}", argv.join(" ")));
        Ok(Some(child))
    }
}

impl HostSide for Phase<'_> {
    /// Runs the phase on a thread inside the namespace: the control
    /// connections and the load client's threads (which inherit it) reach
    /// the guests' addresses there and nowhere else.
    fn during(&mut self, ns: &Netns, addrs: &[Ipv4Addr], ready_by: Instant) -> Result<()> {
        let path = PathBuf::from("/run/netns").join(ns.name());
        self.guests = vec![GuestView::default(); addrs.len()];
        let result = std::thread::scope(|s| {
            s.spawn(|| {
                let f = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
                setns(f, CloneFlags::CLONE_NEWNET)
                    .with_context(|| format!("entering {}", path.display()))?;
                self.inside(ns, addrs, ready_by)
            })
            .join()
            .map_err(|_| anyhow::anyhow!("the phase thread panicked"))?
        });
        if let Err(e) = &result {
            self.note(format!("the host's part failed: {e:#}"));
            for g in self.guests.iter_mut().filter(|g| g.load.is_none()) {
                g.host_error = Some(format!("{e:#}"));
            }
        }
        result
    }
}

impl Phase<'_> {
    fn inside(&mut self, ns: &Netns, addrs: &[Ipv4Addr], ready_by: Instant) -> Result<()> {
        self.started = Instant::now();
        self.log = File::create(self.dir.join("phase.log")).ok();
        let mut controls: Vec<Option<Control>> = Vec::new();
        for (i, addr) in addrs.iter().enumerate() {
            let at = SocketAddr::from((*addr, CONTROL_PORT));
            match Control::connect(at, ready_by) {
                Ok(c) => {
                    let t = self.started.elapsed().as_secs_f64();
                    self.guests[i].ready_s = Some(t);
                    self.note(format!("guest {} ready ({addr})", i + 1));
                    controls.push(Some(c));
                }
                Err(e) => {
                    self.guests[i].problem = Some(format!(
                        "never ready: no answer on {at} by the boot deadline ({e})"
                    ));
                    self.note(format!("guest {} never ready: {e}", i + 1));
                    controls.push(None);
                }
            }
        }
        let guest1 = addrs.first().copied().unwrap_or(Ipv4Addr::UNSPECIFIED);
        let _server = self.host_part(ns, guest1, true)?;
        for (i, c) in controls.iter_mut().enumerate() {
            let Some(ctl) = c else { continue };
            match ctl.go(ANSWER) {
                Ok(()) => self.guests[i].went = true,
                Err(e) => {
                    self.guests[i].problem = Some(format!("no answer to go: {e}"));
                    *c = None;
                }
            }
        }
        self.note(format!(
            "go sent; stressor {}; ramp {} s",
            self.stressor.map_or("none", |s| s.name()),
            self.params.ramp_s
        ));
        // The ramp is part of the protocol (the stressor reaches full
        // load before the window), not a wait for a guest.
        std::thread::sleep(Duration::from_secs(self.params.ramp_s));
        let _sender = self.host_part(ns, guest1, false)?;
        let reports = self.load(addrs, &controls)?;
        for (i, r) in reports.into_iter().enumerate() {
            if let Some(r) = &r {
                self.note(format!(
                    "guest {}: {} scheduled, {} good, {} tolerable, {} failed ({:.1} % good)",
                    i + 1,
                    r.scheduled,
                    r.good,
                    r.tolerable,
                    r.failed,
                    r.good_rate_pct
                ));
            }
            self.guests[i].load = r;
        }
        for (i, c) in controls.iter_mut().enumerate() {
            let Some(ctl) = c else { continue };
            match ctl.stop(ANSWER) {
                Ok(()) => self.guests[i].stopped = true,
                Err(e) => self.guests[i].problem = Some(format!("no answer to stop: {e}")),
            }
        }
        self.note("stop sent");
        Ok(())
    }

    /// Drives every guest that went, all at once, from threads inside the
    /// namespace; `None` for the others.
    fn load(
        &mut self,
        addrs: &[Ipv4Addr],
        controls: &[Option<Control>],
    ) -> Result<Vec<Option<LoadReport>>> {
        let targets = FileSetSpec::support_like().targets();
        let configs: Vec<Option<LoadConfig>> = addrs
            .iter()
            .zip(controls)
            .map(|(a, c)| {
                c.as_ref().map(|_| LoadConfig {
                    addr: SocketAddr::from((*a, HTTP_PORT)),
                    rate_per_s: self.params.rate_per_s,
                    duration: Duration::from_secs(self.params.duration_s),
                    max_in_flight: self.params.max_in_flight as usize,
                    qos: self.params.qos(),
                    targets: targets.clone(),
                })
            })
            .collect();
        self.note(format!(
            "load: {} req/s to each ready guest for {} s",
            self.params.rate_per_s, self.params.duration_s
        ));
        std::thread::scope(|s| {
            let handles: Vec<_> = configs
                .iter()
                .map(|c| {
                    c.as_ref().map(|config| {
                        s.spawn(move || -> Result<LoadReport> { Ok(client::run(config)?) })
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| match h {
                    None => Ok(None),
                    Some(h) => h
                        .join()
                        .map_err(|_| anyhow::anyhow!("a load client thread panicked"))?
                        .map(Some),
                })
                .collect()
        })
    }
}
