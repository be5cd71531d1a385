//! An open-loop HTTP/1.1 load generator that classifies every response by
//! the SPECweb2005 quality-of-service rules.
//!
//! # Why the project has its own client
//!
//! wrk and ab are closed-loop: each of their connections sends the next
//! request only after the previous response came back. When the server
//! slows down, they send less, so the offered load drops exactly when it
//! matters and the slow responses that were never asked for are never
//! counted (*coordinated omission*). The paper's isolation figure is the
//! degradation of SPECweb2005's share of *good* responses while another
//! guest is stressed; SPECweb2005 drives each server at a fixed number of
//! user sessions and judges every request against time bounds. This client
//! does the same at a fixed request rate: request `i` is due at
//! `start + i / rate` whatever happened to the earlier ones, and its latency
//! is measured from that *scheduled* time, so any delay on the client side
//! (a late sender thread, a full connection cap) counts against the server's
//! result instead of hiding it.
//!
//! # How it sends
//!
//! Every request gets its own TCP connection (`Connection: close`) and its
//! own short-lived thread. No connection pool: with a pool, a request would
//! wait behind a slow response on the same connection, which is the
//! closed-loop behaviour this client exists to avoid. In-flight requests are
//! capped ([`LoadConfig::max_in_flight`]); a request that falls due while the
//! cap is full is not sent and counts as failed ([`FailReason::NotSent`]) at
//! its scheduled time. Each request is given until its scheduled time plus
//! `TIME_TOLERABLE` to complete; past that it could only fail.
//!
//! Guests' addresses exist only inside the run's namespace
//! ([`super::netns`]), so the process calling [`run`] must run there too
//! (e.g. through [`super::netns::Netns::command`]).
//!
//! # Classification
//!
//! - *good*: complete, status 200, body length as expected, latency at most
//!   `TIME_GOOD`;
//! - *tolerable*: the same but latency above `TIME_GOOD` and at most
//!   `TIME_TOLERABLE`;
//! - *failed*: everything else, by [`FailReason`].
//!
//! The classes are disjoint. The reported `good_rate_pct` is
//! `good / scheduled * 100` (not `/ sent`: a request that could not be sent
//! is a failure, as above).
//!
//! # QoS values
//!
//! [`Qos::SPECWEB2005_SUPPORT`]: `TIME_GOOD` = 3 s and `TIME_TOLERABLE` = 5 s
//! per request; a run complies when at least 95 % of requests are good and
//! at least 99 % are good or tolerable. Source: SPECweb2005 Run and
//! Reporting Rules (release 1.20/1.30, section 2.2 "Measurement", the
//! Support workload's quality-of-service requirements; in the SPEC kit they
//! are `TIME_GOOD` and `TIME_TOLERABLE` in `SPECweb_Support.config`).
//! Caveat: the rules' full text was not readable from the project's stored
//! copy of spec.org when this was written; the values are those the brief
//! for this module gave (they match the commonly quoted Support bounds) and
//! should be re-checked against the kit.
//! SPECweb2005 Support also judges file downloads by a minimum byte rate
//! rather than by time (not verified here either); this client judges every
//! request by time, which is stricter for the largest files of
//! [`super::fileset`], so that set keeps its large files at a few MiB.
//! All four values are configurable.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use benchvm_format::metrics::{Direction, Unit};
use serde::{Deserialize, Serialize};

pub use super::http::Response;
use super::http::{fetch, request_bytes};
use crate::workload::MetricDef;

/// The metric the isolation experiment reports per guest and phase.
pub const GOOD_RATE: MetricDef = MetricDef {
    metric: "good_rate",
    unit: Unit::PERCENT,
    direction: Direction::Higher,
};

/// Version of [`LoadReport`]'s JSON form.
pub const REPORT_FORMAT: u32 = 1;

/// Stack of a request thread: it only holds a small read buffer.
const REQUEST_STACK: usize = 256 * 1024;

/// Quality-of-service bounds (see the module doc for their source).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Qos {
    /// `TIME_GOOD`: a response complete within this is good.
    pub time_good_s: f64,
    /// `TIME_TOLERABLE`: a response complete within this is tolerable; it
    /// is also each request's deadline.
    pub time_tolerable_s: f64,
    /// Share of good responses a compliant run needs, in %.
    pub min_good_pct: f64,
    /// Share of good or tolerable responses a compliant run needs, in %.
    pub min_tolerable_pct: f64,
}

impl Qos {
    /// SPECweb2005 Support: 3 s / 5 s, 95 % / 99 %.
    pub const SPECWEB2005_SUPPORT: Qos = Qos {
        time_good_s: 3.0,
        time_tolerable_s: 5.0,
        min_good_pct: 95.0,
        min_tolerable_pct: 99.0,
    };

    pub fn time_good(&self) -> Duration {
        Duration::from_secs_f64(self.time_good_s)
    }

    pub fn time_tolerable(&self) -> Duration {
        Duration::from_secs_f64(self.time_tolerable_s)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let times_ok = self.time_good_s.is_finite()
            && self.time_good_s > 0.0
            && self.time_tolerable_s.is_finite()
            && self.time_tolerable_s >= self.time_good_s;
        let pcts_ok = [self.min_good_pct, self.min_tolerable_pct]
            .iter()
            .all(|p| (0.0..=100.0).contains(p));
        if times_ok && pcts_ok {
            Ok(())
        } else {
            Err(ConfigError::Qos(*self))
        }
    }
}

impl Default for Qos {
    fn default() -> Self {
        Qos::SPECWEB2005_SUPPORT
    }
}

/// One file the client asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// Request path, starting with `/`.
    pub path: String,
    /// Body length a complete answer has, when known.
    pub expected_len: Option<u64>,
    /// Relative share of the requests that ask for this path.
    pub weight: u32,
}

/// What to run: checked by [`run`] before anything is sent.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// The server.
    pub addr: SocketAddr,
    /// Requests per second.
    pub rate_per_s: f64,
    /// How long requests fall due.
    pub duration: Duration,
    /// Cap on requests in flight.
    pub max_in_flight: usize,
    pub qos: Qos,
    /// The paths asked for, in proportion to their weights.
    pub targets: Vec<Target>,
}

/// A [`LoadConfig`] that cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("request rate {0} per second is not a positive number")]
    Rate(f64),
    #[error("duration {0:?} is zero")]
    Duration(Duration),
    #[error("max_in_flight is zero")]
    Cap,
    #[error("no target has a positive weight")]
    Targets,
    #[error("target path {0:?} must start with / and hold no spaces or line breaks")]
    Path(String),
    #[error("QoS bounds are inconsistent: {0:?}")]
    Qos(Qos),
}

/// When requests fall due, as offsets from the start.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    offsets: Vec<Duration>,
}

impl Schedule {
    /// `floor(rate * duration)` requests, the `i`-th at `i / rate`.
    pub fn constant(rate_per_s: f64, duration: Duration) -> Result<Schedule, ConfigError> {
        if !(rate_per_s.is_finite() && rate_per_s > 0.0) {
            return Err(ConfigError::Rate(rate_per_s));
        }
        if duration.is_zero() {
            return Err(ConfigError::Duration(duration));
        }
        // The epsilon keeps 50/s * 3 s at 150 despite rounding.
        let n = (rate_per_s * duration.as_secs_f64() + 1e-9).floor() as u64;
        let offsets = (0..n)
            .map(|i| Duration::from_secs_f64(i as f64 / rate_per_s))
            .collect();
        Ok(Schedule { offsets })
    }

    pub fn offsets(&self) -> &[Duration] {
        &self.offsets
    }

    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }
}

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailReason {
    /// Not sent: the in-flight cap was full when it fell due.
    NotSent,
    /// The connection was refused or could not be made.
    Connect,
    /// No complete response by the deadline (`TIME_TOLERABLE`).
    Timeout,
    /// The connection broke (reset, other I/O error).
    Io,
    /// The status was not 200.
    Status,
    /// The body ended before its announced or expected length.
    ShortBody,
    /// The response was not HTTP/1.x as this client reads it, or its body
    /// was longer than expected.
    Malformed,
    /// Complete and right, but after `TIME_TOLERABLE`.
    Late,
}

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Good,
    Tolerable,
    Failed(FailReason),
}

/// Classifies a fetch result, `latency` counted from the scheduled time.
pub fn classify(
    fetched: Result<Response, FailReason>,
    latency: Duration,
    expected_len: Option<u64>,
    qos: &Qos,
) -> Outcome {
    let r = match fetched {
        Ok(r) => r,
        Err(reason) => return Outcome::Failed(reason),
    };
    if r.status != 200 {
        return Outcome::Failed(FailReason::Status);
    }
    if !r.complete {
        return Outcome::Failed(FailReason::ShortBody);
    }
    match expected_len {
        Some(n) if r.body_len < n => return Outcome::Failed(FailReason::ShortBody),
        Some(n) if r.body_len > n => return Outcome::Failed(FailReason::Malformed),
        _ => {}
    }
    if latency <= qos.time_good() {
        Outcome::Good
    } else if latency <= qos.time_tolerable() {
        Outcome::Tolerable
    } else {
        Outcome::Failed(FailReason::Late)
    }
}

/// Failed requests by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureCounts {
    pub not_sent: u64,
    pub connect: u64,
    pub timeout: u64,
    pub io: u64,
    pub status: u64,
    pub short_body: u64,
    pub malformed: u64,
    pub late: u64,
}

impl FailureCounts {
    fn add(&mut self, reason: FailReason) {
        let slot = match reason {
            FailReason::NotSent => &mut self.not_sent,
            FailReason::Connect => &mut self.connect,
            FailReason::Timeout => &mut self.timeout,
            FailReason::Io => &mut self.io,
            FailReason::Status => &mut self.status,
            FailReason::ShortBody => &mut self.short_body,
            FailReason::Malformed => &mut self.malformed,
            FailReason::Late => &mut self.late,
        };
        *slot += 1;
    }

    pub fn total(&self) -> u64 {
        self.not_sent
            + self.connect
            + self.timeout
            + self.io
            + self.status
            + self.short_body
            + self.malformed
            + self.late
    }
}

/// Latency percentiles in milliseconds, by the nearest-rank method (the
/// smallest sample with at least p % of the samples at or below it;
/// Hyndman and Fan 1996, definition 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub samples: u64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    /// `None` for no samples.
    pub fn of(mut samples: Vec<Duration>) -> Option<Percentiles> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        let n = samples.len();
        let at = |p: f64| {
            let rank = ((p / 100.0) * n as f64).ceil() as usize;
            samples[rank.clamp(1, n) - 1].as_secs_f64() * 1e3
        };
        Some(Percentiles {
            samples: n as u64,
            p50: at(50.0),
            p90: at(90.0),
            p95: at(95.0),
            p99: at(99.0),
            max: at(100.0),
        })
    }
}

/// The result of one load run; written as JSON into a run's files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    /// [`REPORT_FORMAT`].
    pub format: u32,
    /// The server, `ip:port`.
    pub server: String,
    pub rate_per_s: f64,
    pub duration_s: f64,
    pub max_in_flight: u64,
    pub qos: Qos,
    /// Requests that fell due.
    pub scheduled: u64,
    /// Requests for which a connection was attempted.
    pub sent: u64,
    pub good: u64,
    /// Tolerable but not good.
    pub tolerable: u64,
    pub failed: u64,
    pub failures: FailureCounts,
    /// `good / scheduled * 100`: the metric [`GOOD_RATE`].
    pub good_rate_pct: f64,
    /// `(good + tolerable) / scheduled * 100`.
    pub tolerable_rate_pct: f64,
    /// Whether both shares meet the QoS minimums.
    pub meets_qos: bool,
    /// Latency of complete 200 responses of the expected length, from the
    /// scheduled time; `None` when there were none.
    pub latency_ms: Option<Percentiles>,
    /// How late requests were actually sent after their scheduled time.
    pub send_lag_ms: Option<Percentiles>,
}

/// One request's record.
#[derive(Debug, Clone, Copy)]
struct Record {
    outcome: Outcome,
    /// Latency of a complete, correct response.
    latency: Option<Duration>,
    /// Actual send time minus scheduled time, when it was sent.
    send_lag: Option<Duration>,
}

/// `n` of `scheduled` requests in %, 0 when none were scheduled: how
/// [`LoadReport::good_rate_pct`] is computed (`analyze verify --rederive`
/// recomputes it from the counts with this function).
pub fn share_pct(n: u64, scheduled: u64) -> f64 {
    if scheduled == 0 {
        0.0
    } else {
        n as f64 / scheduled as f64 * 100.0
    }
}

/// Validates `config`, sends the whole schedule and returns the report.
/// Blocks for the duration plus at most `TIME_TOLERABLE`.
pub fn run(config: &LoadConfig) -> Result<LoadReport, ConfigError> {
    config.qos.validate()?;
    if config.max_in_flight == 0 {
        return Err(ConfigError::Cap);
    }
    if let Some(t) = config.targets.iter().find(|t| !valid_path(&t.path)) {
        return Err(ConfigError::Path(t.path.clone()));
    }
    let schedule = Schedule::constant(config.rate_per_s, config.duration)?;
    let wheel = target_wheel(&config.targets);
    if wheel.is_empty() {
        return Err(ConfigError::Targets);
    }
    let requests: Vec<Vec<u8>> = config
        .targets
        .iter()
        .map(|t| request_bytes(&t.path, config.addr))
        .collect();

    let in_flight = AtomicUsize::new(0);
    let qos = config.qos;
    // A little lead so the first request is not late by setup time.
    let start = Instant::now() + Duration::from_millis(5);
    let records = std::thread::scope(|s| {
        let (tx, rx) = mpsc::channel::<Record>();
        let mut records = Vec::with_capacity(schedule.len());
        for (i, offset) in schedule.offsets().iter().enumerate() {
            let due = start + *offset;
            sleep_until(due);
            let not_sent = Record {
                outcome: Outcome::Failed(FailReason::NotSent),
                latency: None,
                send_lag: None,
            };
            if in_flight.load(Ordering::Acquire) >= config.max_in_flight {
                records.push(not_sent);
                continue;
            }
            in_flight.fetch_add(1, Ordering::AcqRel);
            let target = &config.targets[wheel[i % wheel.len()]];
            let request = &requests[wheel[i % wheel.len()]];
            let (tx, in_flight, addr) = (tx.clone(), &in_flight, config.addr);
            let spawned = std::thread::Builder::new()
                .stack_size(REQUEST_STACK)
                .spawn_scoped(s, move || {
                    let send_lag = Instant::now().saturating_duration_since(due);
                    let fetched = fetch(addr, request, due + qos.time_tolerable());
                    let latency = Instant::now().saturating_duration_since(due);
                    let outcome = classify(fetched, latency, target.expected_len, &qos);
                    in_flight.fetch_sub(1, Ordering::AcqRel);
                    let complete_ok = matches!(
                        outcome,
                        Outcome::Good | Outcome::Tolerable | Outcome::Failed(FailReason::Late)
                    );
                    let _ = tx.send(Record {
                        outcome,
                        latency: complete_ok.then_some(latency),
                        send_lag: Some(send_lag),
                    });
                });
            if spawned.is_err() {
                in_flight.fetch_sub(1, Ordering::AcqRel);
                records.push(not_sent);
            }
        }
        drop(tx);
        records.extend(rx.iter());
        records
    });
    Ok(summarize(config, &records))
}

fn summarize(config: &LoadConfig, records: &[Record]) -> LoadReport {
    let mut failures = FailureCounts::default();
    let (mut good, mut tolerable) = (0u64, 0u64);
    for r in records {
        match r.outcome {
            Outcome::Good => good += 1,
            Outcome::Tolerable => tolerable += 1,
            Outcome::Failed(reason) => failures.add(reason),
        }
    }
    let scheduled = records.len() as u64;
    let good_rate_pct = share_pct(good, scheduled);
    let tolerable_rate_pct = share_pct(good + tolerable, scheduled);
    LoadReport {
        format: REPORT_FORMAT,
        server: config.addr.to_string(),
        rate_per_s: config.rate_per_s,
        duration_s: config.duration.as_secs_f64(),
        max_in_flight: config.max_in_flight as u64,
        qos: config.qos,
        scheduled,
        sent: scheduled - failures.not_sent,
        good,
        tolerable,
        failed: failures.total(),
        failures,
        good_rate_pct,
        tolerable_rate_pct,
        meets_qos: good_rate_pct >= config.qos.min_good_pct
            && tolerable_rate_pct >= config.qos.min_tolerable_pct,
        latency_ms: Percentiles::of(records.iter().filter_map(|r| r.latency).collect()),
        send_lag_ms: Percentiles::of(records.iter().filter_map(|r| r.send_lag).collect()),
    }
}

fn valid_path(path: &str) -> bool {
    path.starts_with('/') && !path.bytes().any(|b| b.is_ascii_whitespace() || b < 0x20)
}

/// Target indices repeated by weight and interleaved, so that request `i`
/// asks for `wheel[i % len]`: every window of `len` requests has the
/// weighted mix, and the order is the same on every run.
pub fn target_wheel(targets: &[Target]) -> Vec<usize> {
    // Smooth weighted round-robin (as in nginx's upstream balancer): each
    // step adds every weight to its counter and picks the largest.
    let total: i64 = targets.iter().map(|t| i64::from(t.weight)).sum();
    let mut current = vec![0i64; targets.len()];
    let mut wheel = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for _ in 0..total {
        for (c, t) in current.iter_mut().zip(targets) {
            *c += i64::from(t.weight);
        }
        let Some((best, _)) = current
            .iter()
            .enumerate()
            .max_by_key(|(i, c)| (**c, std::cmp::Reverse(*i)))
        else {
            break;
        };
        current[best] -= total;
        wheel.push(best);
    }
    wheel
}

fn sleep_until(when: Instant) {
    loop {
        let left = when.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left);
    }
}
