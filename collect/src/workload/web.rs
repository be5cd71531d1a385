//! Web: the isolation experiment's workload (the paper's section 3). Each
//! guest serves the Support-like file set ([`crate::isolation::fileset`])
//! with nginx, and collect's open-loop client ([`crate::isolation::client`])
//! drives every guest at `rate_per_s` for `duration_s` and counts the
//! responses that meet SPECweb2005 Support's QoS bounds.
//!
//! In the guest, the measured command is `collect guest-phase --serve`: it
//! brings the NIC up with the address of the kernel's `benchvm.ip=`, writes
//! the file set to the guest's tmpfs, starts nginx, then waits for the
//! host's `go` and `stop` ([`crate::isolation::control`]), running the
//! stressed guest's stressor between the two. Its value is measured on the
//! host, not parsed from the guest's output: see
//! [`crate::isolation::phase`].

use serde::{Deserialize, Serialize};

use super::{argv, MetricDef, Output, Requirement, StepContext, Steps, Workload};
use crate::isolation::client::{Qos, GOOD_RATE};

/// Slack the guest's phase command gets on top of ramp + duration before
/// it gives up on a `stop` that never came.
pub const PHASE_SLACK_S: u64 = 120;

/// How long a guest waits for the host's `go` when the platform does not
/// say (the isolation runner passes the platform's boot deadline).
pub const DEFAULT_WAIT_S: u64 = 900;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebParams {
    /// Requests per second sent to each guest (open loop).
    pub rate_per_s: f64,
    /// Length of the measured window of each phase.
    pub duration_s: u64,
    /// Seconds between `go` (stressor started) and the measured window.
    #[serde(default = "default_ramp")]
    pub ramp_s: u64,
    /// Cap on requests in flight to one guest.
    #[serde(default = "default_in_flight")]
    pub max_in_flight: u32,
    /// SPECweb2005 Support `TIME_GOOD` (3 s).
    #[serde(default = "default_good")]
    pub time_good_s: f64,
    /// SPECweb2005 Support `TIME_TOLERABLE` (5 s).
    #[serde(default = "default_tolerable")]
    pub time_tolerable_s: f64,
}

fn default_ramp() -> u64 {
    5
}
fn default_in_flight() -> u32 {
    256
}
fn default_good() -> f64 {
    Qos::SPECWEB2005_SUPPORT.time_good_s
}
fn default_tolerable() -> f64 {
    Qos::SPECWEB2005_SUPPORT.time_tolerable_s
}

impl WebParams {
    /// The QoS bounds, with SPECweb2005 Support's compliance shares.
    pub fn qos(&self) -> Qos {
        Qos {
            time_good_s: self.time_good_s,
            time_tolerable_s: self.time_tolerable_s,
            ..Qos::SPECWEB2005_SUPPORT
        }
    }

    /// Seconds the guest's phase command may last after `go`.
    pub fn phase_s(&self) -> u64 {
        self.ramp_s + self.duration_s + self.time_tolerable_s.ceil() as u64 + PHASE_SLACK_S
    }

    /// The guest's measured command: serve, wait for `go`, run `stressor`
    /// until `stop`. `wait_s` bounds the wait for the host.
    pub fn guest_command(&self, agent: &str, wait_s: u64, stressor: &[String]) -> Vec<String> {
        let mut cmd = argv(&[agent, "guest-phase", "--serve"]);
        cmd.extend([
            "--wait-s".into(),
            wait_s.to_string(),
            "--phase-s".into(),
            self.phase_s().to_string(),
        ]);
        if !stressor.is_empty() {
            cmd.push("--".into());
            cmd.extend(stressor.iter().cloned());
        }
        cmd
    }
}

impl Workload for WebParams {
    fn requirements(&self) -> Vec<Requirement> {
        vec![
            Requirement {
                what: "nginx",
                package: "nginx-light",
            },
            Requirement {
                what: "stress-ng",
                package: "stress-ng",
            },
            Requirement {
                what: "iperf3",
                package: "iperf3",
            },
            Requirement {
                what: "ip",
                package: "iproute2",
            },
        ]
    }

    fn validate(&self) -> Result<(), (&'static str, String)> {
        if !(self.rate_per_s.is_finite() && self.rate_per_s > 0.0 && self.rate_per_s <= 10_000.0) {
            return Err((
                "rate_per_s",
                format!("{} is outside (0, 10000]", self.rate_per_s),
            ));
        }
        if !(1..=3600).contains(&self.duration_s) {
            return Err((
                "duration_s",
                format!("{} is outside 1-3600", self.duration_s),
            ));
        }
        if self.ramp_s > 600 {
            return Err(("ramp_s", format!("{} is over 600", self.ramp_s)));
        }
        if !(1..=100_000).contains(&self.max_in_flight) {
            return Err((
                "max_in_flight",
                format!("{} is outside 1-100000", self.max_in_flight),
            ));
        }
        let q = self.qos();
        if !(q.time_good_s.is_finite() && q.time_good_s > 0.0) {
            return Err(("time_good_s", "must be a positive number of seconds".into()));
        }
        if !(q.time_tolerable_s.is_finite()
            && q.time_tolerable_s >= q.time_good_s
            && q.time_tolerable_s <= 600.0)
        {
            return Err((
                "time_tolerable_s",
                "must be between time_good_s and 600".into(),
            ));
        }
        Ok(())
    }

    /// A normal guest's steps (the stressed guest's measured command also
    /// carries its stressor); no setup: `guest-phase` brings up the NIC and
    /// nginx itself, so both live exactly as long as the phase.
    fn steps(&self, ctx: &StepContext) -> Steps {
        let agent = ctx
            .agent
            .as_ref()
            .map_or("collect".into(), |p| p.display().to_string());
        Steps {
            setup: Vec::new(),
            measured: self.guest_command(&agent, DEFAULT_WAIT_S, &[]),
            cleanup: Vec::new(),
        }
    }

    fn metrics(&self) -> Vec<MetricDef> {
        vec![GOOD_RATE]
    }

    fn measure(&self, _out: &Output<'_>) -> Result<Vec<f64>, String> {
        Err("the web workload is measured by the host's load client, in the isolation experiment only".into())
    }
}
