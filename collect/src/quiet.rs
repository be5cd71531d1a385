//! Quiet-host evidence: was the machine busy while a run measured?
//!
//! Right before and right after each measured command, the code that runs
//! it ([`crate::platform::steps`], natively and inside guests alike) takes
//! a [`Snapshot`] of `/proc` and `/sys`: load averages, the CPU time
//! counters of `/proc/stat` (steal, iowait, busy), CPU frequencies and the
//! governor, and its own and its children's CPU time (`getrusage`). Both
//! go into `quiet.json` beside the run's output. On guest platforms the
//! host also snapshots itself around the guest's block (boot to the run's
//! report: the host cannot see when inside the guest the step ran) into
//! `host-quiet.json`.
//!
//! Figures ([`Figures`]) are differences of the two snapshots, so anyone
//! can compute them again from the raw counters. A run measured on a busy
//! host ([`Evidence::busy`]) when, over the measured step,
//! - steal took more than [`STEAL_LIMIT_PCT`] of the CPU time (another
//!   virtual machine had the CPUs), or
//! - processes other than the measured command (and collect itself) used
//!   more than [`OTHERS_LIMIT_PCT`] of the CPUs' time;
//!
//! and, for the host's view of a guest's block, when steal took more than
//! [`STEAL_LIMIT_PCT`] (the block's CPU time is mostly the hypervisor's own
//! work for the guest, which is not competition). The load average is
//! recorded and shown but not judged: it lags by a minute and counts the
//! previous repetition's own load.

use std::fs;

use serde::{Deserialize, Serialize};

/// `quiet.json`: the evidence of where the measured step ran (the host
/// natively, the guest on guest platforms).
pub const FILE: &str = "quiet.json";
/// `host-quiet.json`: the host's view during a guest's block.
pub const HOST_FILE: &str = "host-quiet.json";
/// Ticks per second of `/proc/stat`: Linux's USER_HZ, 100 on every
/// architecture's user ABI (x86, arm64, riscv).
pub const USER_HZ: f64 = 100.0;
/// Steal above this share of the CPU time marks a busy host: the bound
/// cloud providers' monitoring commonly treats as contention.
pub const STEAL_LIMIT_PCT: f64 = 5.0;
/// CPU time of processes other than the measured one above this share of
/// all CPUs' time marks a busy host (a tenth of a CPU on a 1-CPU guest).
pub const OTHERS_LIMIT_PCT: f64 = 10.0;

/// The CPU time counters of `/proc/stat`'s `cpu` line, in ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CpuTimes {
    pub user: u64,
    pub nice: u64,
    pub system: u64,
    pub idle: u64,
    pub iowait: u64,
    pub irq: u64,
    pub softirq: u64,
    pub steal: u64,
}

impl CpuTimes {
    fn total(&self) -> u64 {
        self.busy() + self.idle + self.iowait + self.steal
    }

    /// Time the CPUs ran something (guest time is inside user and nice).
    fn busy(&self) -> u64 {
        self.user + self.nice + self.system + self.irq + self.softirq
    }
}

/// What `/proc` and `/sys` said at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// `/proc/uptime`.
    pub uptime_s: f64,
    /// 1, 5 and 15 minute load averages.
    pub loadavg: [f64; 3],
    /// Runnable tasks and all tasks when read (`/proc/loadavg`).
    pub runnable: u32,
    pub tasks: u32,
    pub cpu: CpuTimes,
    /// CPUs counted in `/proc/stat`.
    pub cpus: u32,
    /// Each CPU's current frequency (MHz).
    pub freq_mhz: Vec<f64>,
    /// `cpufreq` (scaling_cur_freq), `cpuinfo` (`cpu MHz`) or `none`.
    pub freq_source: String,
    /// scaling_governor of the CPUs (one value, or several joined by `,`).
    pub governor: Option<String>,
    /// CPU time (user + system) of the process taking the snapshot, and of
    /// its children that ended.
    pub self_cpu_s: f64,
    pub children_cpu_s: f64,
}

/// What a pair of snapshots covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// The measured command, where it ran.
    Step,
    /// The host while a guest ran its block (boot to the run's report).
    Block,
}

/// `quiet.json` or `host-quiet.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub scope: Scope,
    pub before: Snapshot,
    pub after: Snapshot,
}

/// What the two snapshots say about the time between them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Figures {
    pub scope: Scope,
    pub seconds: f64,
    pub load1_before: f64,
    pub load1_after: f64,
    /// Shares of all CPUs' time; none when no tick passed.
    pub steal_pct: Option<f64>,
    pub iowait_pct: Option<f64>,
    /// CPU time of processes other than the snapshot taker and its
    /// children (the measured command), as a share of all CPUs' time.
    pub others_pct: Option<f64>,
    pub cpus: u32,
    /// Mean frequency over the CPUs.
    pub freq_mhz_before: Option<f64>,
    pub freq_mhz_after: Option<f64>,
    pub governor: Option<String>,
}

/// What `run.json` claims about a run's quiet: the figures of its
/// `quiet.json` and `host-quiet.json`, and why it counts as measured on a
/// busy host (empty: quiet).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    pub step: Option<Figures>,
    pub host: Option<Figures>,
    pub busy: Vec<String>,
}

impl Evidence {
    pub fn figures(&self) -> Figures {
        let (b, a) = (&self.before, &self.after);
        let d = |f: fn(&CpuTimes) -> u64| f(&a.cpu).saturating_sub(f(&b.cpu)) as f64;
        let total = d(CpuTimes::total);
        let pct = |ticks: f64| (total > 0.0).then(|| 100.0 * ticks / total);
        let ours = (a.self_cpu_s - b.self_cpu_s) + (a.children_cpu_s - b.children_cpu_s);
        let others = (d(CpuTimes::busy) / USER_HZ - ours).max(0.0);
        let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        Figures {
            scope: self.scope,
            seconds: a.uptime_s - b.uptime_s,
            load1_before: b.loadavg[0],
            load1_after: a.loadavg[0],
            steal_pct: pct(d(|c| c.steal)),
            iowait_pct: pct(d(|c| c.iowait)),
            others_pct: pct(others * USER_HZ),
            cpus: a.cpus,
            freq_mhz_before: mean(&b.freq_mhz),
            freq_mhz_after: mean(&a.freq_mhz),
            governor: a.governor.clone(),
        }
    }

    /// Why the time between the snapshots was busy (empty: quiet).
    pub fn busy(&self) -> Vec<String> {
        let f = self.figures();
        let mut why = Vec::new();
        let what = match self.scope {
            Scope::Step => "the measured step",
            Scope::Block => "the guest's block, on the host",
        };
        if let Some(s) = f.steal_pct.filter(|s| *s > STEAL_LIMIT_PCT) {
            why.push(format!(
                "steal {s:.1}% of the CPU time during {what} (above {STEAL_LIMIT_PCT}%)"
            ));
        }
        if self.scope == Scope::Step {
            if let Some(o) = f.others_pct.filter(|o| *o > OTHERS_LIMIT_PCT) {
                why.push(format!(
                    "other processes used {o:.1}% of the CPUs' time during {what} (above {OTHERS_LIMIT_PCT}%)"
                ));
            }
        }
        why
    }
}

/// The claim a run's files give: its step evidence and the host's view of
/// its guest's block; none when it has neither (the step never ran).
pub fn claim(step: Option<&Evidence>, host: Option<&Evidence>) -> Option<Claim> {
    if step.is_none() && host.is_none() {
        return None;
    }
    let mut busy: Vec<String> = step.map(Evidence::busy).unwrap_or_default();
    busy.extend(host.map(Evidence::busy).unwrap_or_default());
    Some(Claim {
        step: step.map(Evidence::figures),
        host: host.map(Evidence::figures),
        busy,
    })
}

/// Reads `quiet.json` and `host-quiet.json` of a run folder.
pub fn read(dir: &std::path::Path) -> (Option<Evidence>, Option<Evidence>) {
    let load = |name: &str| {
        fs::read(dir.join(name))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
    };
    (load(FILE), load(HOST_FILE))
}

/// A snapshot of this machine now. What cannot be read stays 0 or empty.
pub fn snapshot() -> Snapshot {
    let text = |p: &str| fs::read_to_string(p).unwrap_or_default();
    let (loadavg, runnable, tasks) = parse_loadavg(&text("/proc/loadavg"));
    let (cpu, cpus) = parse_stat(&text("/proc/stat"));
    let (freq_mhz, freq_source) = frequencies(cpus);
    let governors: std::collections::BTreeSet<String> = (0..cpus)
        .filter_map(|i| {
            fs::read_to_string(format!(
                "/sys/devices/system/cpu/cpu{i}/cpufreq/scaling_governor"
            ))
            .ok()
        })
        .map(|g| g.trim().to_owned())
        .filter(|g| !g.is_empty())
        .collect();
    let usage = |who| {
        nix::sys::resource::getrusage(who).map_or(0.0, |u| {
            let t = |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 + tv.tv_usec() as f64 / 1e6;
            t(u.user_time()) + t(u.system_time())
        })
    };
    Snapshot {
        uptime_s: text("/proc/uptime")
            .split_whitespace()
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0.0),
        loadavg,
        runnable,
        tasks,
        cpu,
        cpus,
        freq_mhz,
        freq_source,
        governor: (!governors.is_empty())
            .then(|| governors.into_iter().collect::<Vec<_>>().join(",")),
        self_cpu_s: usage(nix::sys::resource::UsageWho::RUSAGE_SELF),
        children_cpu_s: usage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN),
    }
}

/// Each CPU's frequency from cpufreq, else from `/proc/cpuinfo`.
fn frequencies(cpus: u32) -> (Vec<f64>, String) {
    let cpufreq: Vec<f64> = (0..cpus)
        .filter_map(|i| {
            fs::read_to_string(format!(
                "/sys/devices/system/cpu/cpu{i}/cpufreq/scaling_cur_freq"
            ))
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()
        })
        .map(|khz| khz / 1000.0)
        .collect();
    if !cpufreq.is_empty() {
        return (cpufreq, "cpufreq".into());
    }
    let cpuinfo = parse_cpuinfo_mhz(&fs::read_to_string("/proc/cpuinfo").unwrap_or_default());
    if cpuinfo.is_empty() {
        (cpuinfo, "none".into())
    } else {
        (cpuinfo, "cpuinfo".into())
    }
}

/// `/proc/loadavg`: `0.52 0.58 0.59 1/234 5678`.
pub fn parse_loadavg(text: &str) -> ([f64; 3], u32, u32) {
    let mut words = text.split_whitespace();
    let mut load = [0.0; 3];
    for slot in &mut load {
        *slot = words.next().and_then(|w| w.parse().ok()).unwrap_or(0.0);
    }
    let (runnable, tasks) = words
        .next()
        .and_then(|w| w.split_once('/'))
        .map(|(r, t)| (r.parse().unwrap_or(0), t.parse().unwrap_or(0)))
        .unwrap_or((0, 0));
    (load, runnable, tasks)
}

/// `/proc/stat`: the `cpu` line's counters and the number of `cpuN` lines.
pub fn parse_stat(text: &str) -> (CpuTimes, u32) {
    let mut times = CpuTimes::default();
    let mut cpus = 0;
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("cpu") => {
                let v: Vec<u64> = words.map(|w| w.parse().unwrap_or(0)).collect();
                let at = |i: usize| v.get(i).copied().unwrap_or(0);
                times = CpuTimes {
                    user: at(0),
                    nice: at(1),
                    system: at(2),
                    idle: at(3),
                    iowait: at(4),
                    irq: at(5),
                    softirq: at(6),
                    steal: at(7),
                };
            }
            Some(w) if w.starts_with("cpu") && w[3..].bytes().all(|b| b.is_ascii_digit()) => {
                cpus += 1
            }
            _ => {}
        }
    }
    (times, cpus)
}

/// `/proc/cpuinfo`: every `cpu MHz` line.
pub fn parse_cpuinfo_mhz(text: &str) -> Vec<f64> {
    text.lines()
        .filter(|l| l.starts_with("cpu MHz"))
        .filter_map(|l| l.split(':').nth(1)?.trim().parse().ok())
        .collect()
}

#[cfg(test)]
mod tests;
