//! Progress of a whole job, across its platforms and the Xen lab: one bar
//! with an ETA, and at the end a table of where the wall time went (per
//! platform and pillar).
//!
//! The ETA is the sum of the unfinished runs' estimates, each corrected by
//! how the finished runs of its platform compared with their estimates
//! (all finished runs when its platform has none yet). The estimates
//! ([`estimate_s`]) are rough per-kind constants; the correction makes the
//! ETA converge as runs finish. When stderr is not a terminal the bar is
//! hidden and each run's log line carries the count and the ETA.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressState, ProgressStyle};

use benchvm_core::registry::PlatformKind;

use crate::plan::{Experiment, PlannedRun};
use crate::workload::WorkloadSpec;

/// Environment variable that makes collect print machine-readable progress
/// lines on stderr (set by the Xen lab for the collect in dom0).
pub const LINES_ENV: &str = "BENCHVM_PROGRESS_LINES";
/// Prefix of those lines: `BENCHVM-PROGRESS run <run folder>` when a run
/// finished, `BENCHVM-PROGRESS mark <what> <pillar>` when a step that is
/// no run did.
pub const LINE_PREFIX: &str = "BENCHVM-PROGRESS";

/// A progress line of another collect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line<'a> {
    /// A run finished: its folder.
    Run(&'a str),
    /// Another step finished: what and pillar, as one text.
    Mark(&'a str),
}

impl<'a> Line<'a> {
    /// Finds a progress line in a console line (which may carry a prefix).
    pub fn parse(line: &'a str) -> Option<Line<'a>> {
        let at = line.find(LINE_PREFIX)?;
        let rest = line[at + LINE_PREFIX.len()..].trim();
        if let Some(key) = rest.strip_prefix("run ") {
            let key = key.trim();
            return key.starts_with("runs/").then_some(Line::Run(key));
        }
        rest.strip_prefix("mark ").map(|m| Line::Mark(m.trim()))
    }
}

#[derive(Debug, Clone)]
struct Item {
    platform: String,
    estimate: f64,
    actual: Option<f64>,
}

#[derive(Debug, Default)]
struct State {
    items: BTreeMap<String, Item>,
    /// Wall time per (platform or phase, pillar), in order of first use.
    spent: Vec<((String, String), f64)>,
    last_mark: Option<Instant>,
    /// Remaining estimate at the last finish, and when that was.
    remaining: (f64, Option<Instant>),
}

impl State {
    fn ratio(&self, platform: &str) -> f64 {
        let sum = |same: bool| {
            self.items
                .values()
                .filter(|i| !same || i.platform == platform)
                .filter_map(|i| i.actual.map(|a| (a, i.estimate)))
                .fold((0.0, 0.0), |(a, e), (x, y)| (a + x, e + y))
        };
        let (a, e) = sum(true);
        if e > 0.0 {
            return a / e;
        }
        let (a, e) = sum(false);
        if e > 0.0 {
            a / e
        } else {
            1.0
        }
    }

    fn remaining_s(&self) -> f64 {
        self.items
            .values()
            .filter(|i| i.actual.is_none())
            .map(|i| i.estimate * self.ratio(&i.platform))
            .sum()
    }

    fn eta(&self) -> Option<Duration> {
        let (left, at) = self.remaining;
        let since = at.map_or(0.0, |t| t.elapsed().as_secs_f64());
        at.map(|_| Duration::from_secs_f64((left - since).max(0.0)))
    }
}

/// The job's progress; clones share one bar.
#[derive(Debug, Clone)]
pub struct Progress {
    bar: ProgressBar,
    state: Arc<Mutex<State>>,
    lines: bool,
}

impl Progress {
    /// A bar over no runs yet; add them with [`Progress::add_runs`].
    pub fn new() -> Self {
        Self::since(Instant::now())
    }

    /// As [`Progress::new`], its first mark counting from `start` (work
    /// done before the bar existed).
    pub fn since(start: Instant) -> Self {
        let state = Arc::new(Mutex::new(State {
            last_mark: Some(start),
            ..State::default()
        }));
        let bar = ProgressBar::new(0);
        let shared = Arc::clone(&state);
        let style = ProgressStyle::with_template(
            "[{elapsed_precise}] {bar:30} {pos}/{len} ETA {job_eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key(
            "job_eta",
            move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                let s = shared.lock().unwrap_or_else(PoisonError::into_inner);
                let _ = write!(w, "{}", eta_text(s.eta()));
            },
        );
        bar.set_style(style);
        if !bar.is_hidden() {
            bar.enable_steady_tick(Duration::from_secs(1));
        }
        Progress {
            bar,
            state,
            lines: std::env::var_os(LINES_ENV).is_some(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds runs still to do, with their estimates.
    pub fn add_runs(&self, runs: &[PlannedRun], platform_factor: impl Fn(PlatformKind) -> f64) {
        let mut s = self.lock();
        for r in runs {
            let estimate = estimate_s(r) * platform_factor(r.platform);
            s.items.insert(
                r.folder(),
                Item {
                    platform: r.platform.name().to_owned(),
                    estimate,
                    actual: None,
                },
            );
        }
        s.remaining = (s.remaining_s(), Some(Instant::now()));
        self.bar.set_length(s.items.len() as u64);
    }

    /// Adds a step that is not a run (booting the Xen lab), as an item.
    pub fn add_step(&self, key: &str, platform: &str, estimate_s: f64) {
        let mut s = self.lock();
        s.items.insert(
            key.to_owned(),
            Item {
                platform: platform.to_owned(),
                estimate: estimate_s,
                actual: None,
            },
        );
        s.remaining = (s.remaining_s(), Some(Instant::now()));
        self.bar.set_length(s.items.len() as u64);
    }

    /// What is running now.
    pub fn set_message(&self, msg: impl Into<String>) {
        self.bar.set_message(msg.into());
    }

    /// A run or step finished: its time since the last mark goes to
    /// (`platform`, `pillar`) in the time table. Returns the count and
    /// ETA for log lines.
    pub fn finish(&self, key: &str, platform: &str, pillar: &str) -> String {
        let mut s = self.lock();
        let now = Instant::now();
        let took = s
            .last_mark
            .map_or(0.0, |t| now.duration_since(t).as_secs_f64());
        s.last_mark = Some(now);
        add_spent(&mut s.spent, platform, pillar, took);
        if let Some(item) = s.items.get_mut(key) {
            item.actual = Some(took);
        }
        s.remaining = (s.remaining_s(), Some(now));
        let done = s.items.values().filter(|i| i.actual.is_some()).count();
        let total = s.items.len();
        let eta = eta_text(s.eta());
        drop(s);
        self.bar.set_position(done as u64);
        if self.lines {
            // One line per finished run for a collect that follows this one
            // (the Xen lab's outer collect), on stderr beside the log.
            self.bar
                .suspend(|| crate::errln!("{LINE_PREFIX} run {key}"));
        }
        format!("{done}/{total}, ETA {eta}")
    }

    /// Time since the last mark goes to (`what`, `pillar`), for steps that
    /// are no item (environment capture, packing).
    pub fn mark(&self, what: &str, pillar: &str) {
        let mut s = self.lock();
        let now = Instant::now();
        let took = s
            .last_mark
            .map_or(0.0, |t| now.duration_since(t).as_secs_f64());
        s.last_mark = Some(now);
        add_spent(&mut s.spent, what, pillar, took);
        drop(s);
        if self.lines {
            self.bar
                .suspend(|| crate::errln!("{LINE_PREFIX} mark {what} {pillar}"));
        }
    }

    /// Runs `f` with the bar out of the way (for log lines).
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }

    pub fn finish_and_clear(&self) {
        self.bar.finish_and_clear();
    }

    /// The table of where the time went.
    pub fn time_table(&self) -> String {
        let s = self.lock();
        let total: f64 = s.spent.iter().map(|(_, t)| t).sum();
        let mut out = String::from("where the time went (wall clock):\n");
        for ((what, pillar), t) in &s.spent {
            out.push_str(&format!(
                "  {:<10} {:<20} {:>6.0} s  {:>5.1}%\n",
                what,
                pillar,
                t,
                100.0 * t / total.max(f64::MIN_POSITIVE)
            ));
        }
        out.push_str(&format!("  {:<31} {:>6.0} s\n", "total", total));
        out
    }
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

fn add_spent(spent: &mut Vec<((String, String), f64)>, what: &str, pillar: &str, took: f64) {
    match spent
        .iter_mut()
        .find(|((w, p), _)| w == what && p == pillar)
    {
        Some((_, t)) => *t += took,
        None => spent.push(((what.to_owned(), pillar.to_owned()), took)),
    }
}

fn eta_text(eta: Option<Duration>) -> String {
    match eta {
        None => "?".into(),
        Some(d) => {
            let s = d.as_secs();
            if s >= 3600 {
                format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
            } else {
                format!("{}m{:02}s", s / 60, s % 60)
            }
        }
    }
}

/// A rough estimate of a run's native wall time in seconds, by workload
/// kind; guest platforms multiply it (see [`Progress::add_runs`]).
pub fn estimate_s(run: &PlannedRun) -> f64 {
    let base = match &run.workload.spec {
        WorkloadSpec::SysbenchCpu(_) => 10.0,
        WorkloadSpec::KernelCompile(_) => 30.0,
        WorkloadSpec::Fio(_) => 5.0,
        WorkloadSpec::ToolsCompile(_) => 10.0,
        WorkloadSpec::Web(w) => (w.duration_s + w.ramp_s) as f64 + 10.0,
    };
    match run.experiment {
        // Isolation: the phase's length, whatever the guests.
        Experiment::Isolation { .. } | Experiment::Overall => base,
        // Scalability: N guests share the host's CPUs.
        Experiment::Scalability { n_guests, .. } => base * f64::from(n_guests.max(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eta_follows_the_measured_ratio_of_each_platform() {
        let mut s = State::default();
        for (k, p, e) in [
            ("a1", "native", 10.0),
            ("a2", "native", 10.0),
            ("b1", "kvm", 100.0),
        ] {
            s.items.insert(
                k.into(),
                Item {
                    platform: p.into(),
                    estimate: e,
                    actual: None,
                },
            );
        }
        assert_eq!(s.remaining_s(), 120.0);
        // native ran twice as slow as estimated: its other run and, with no
        // kvm run finished yet, kvm's runs are scaled by 2.
        if let Some(i) = s.items.get_mut("a1") {
            i.actual = Some(20.0);
        }
        assert_eq!(s.remaining_s(), 20.0 + 200.0);
        if let Some(i) = s.items.get_mut("b1") {
            i.actual = Some(50.0);
        }
        assert_eq!(s.remaining_s(), 20.0);
    }

    #[test]
    fn reads_progress_lines_behind_a_console_prefix() {
        assert_eq!(
            Line::parse("dom0| BENCHVM-PROGRESS run runs/xen/overall/cpu/rep-01"),
            Some(Line::Run("runs/xen/overall/cpu/rep-01"))
        );
        assert_eq!(
            Line::parse("BENCHVM-PROGRESS mark setup environment"),
            Some(Line::Mark("setup environment"))
        );
        assert_eq!(Line::parse("BENCHVM-PROGRESS run /etc/passwd"), None);
        assert_eq!(Line::parse("[INFO] a run finished"), None);
    }

    #[test]
    fn time_table_sums_what_went_where() {
        let mut spent = Vec::new();
        add_spent(&mut spent, "kvm", "overall", 10.0);
        add_spent(&mut spent, "kvm", "isolation", 5.0);
        add_spent(&mut spent, "kvm", "overall", 2.5);
        assert_eq!(
            spent,
            vec![
                (("kvm".to_owned(), "overall".to_owned()), 12.5),
                (("kvm".to_owned(), "isolation".to_owned()), 5.0)
            ]
        );
        assert_eq!(eta_text(Some(Duration::from_secs(3725))), "1h02m");
        assert_eq!(eta_text(Some(Duration::from_secs(65))), "1m05s");
    }
}
