//! The two multi-guest experiments of a suite, `[experiments.scalability]`
//! and `[experiments.isolation]`: their raw TOML, their validated form and
//! the checks between the two.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::WorkloadEntry;
use crate::isolation::stressor::Stressor;
use crate::workload::WorkloadSpec;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIsolation {
    workload: String,
    guests: Option<u32>,
    stressors: Option<Vec<String>>,
    guest_memory_mib: Option<u32>,
    repetitions: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScalability {
    workload: String,
    n_guests: Vec<u32>,
    guest_memory_mib: Option<u32>,
    repetitions: Option<u32>,
}

/// Most guests one scalability step may start (the paper's largest N is 30).
pub const MAX_GUESTS: u32 = 64;

/// The scalability experiment: for each N, N guests started at once, each
/// running the same workload run (the paper's section 4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scalability {
    /// The workload every guest runs; its deadline applies to each guest.
    pub workload: WorkloadEntry,
    /// Guest counts, strictly increasing.
    pub n_guests: Vec<u32>,
    /// Memory of each of these guests; `None`: the suite's `[guest]`.
    pub guest_memory_mib: Option<u32>,
    pub repetitions: u32,
}

/// Most guests one isolation phase may start.
pub const MAX_ISOLATION_GUESTS: u32 = 16;

/// The isolation experiment (the paper's section 3): per repetition, a
/// baseline phase and one phase per stressor, each with `guests` guests
/// started at once serving web traffic; guest 1 runs the stressor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Isolation {
    /// A `web` workload: load rate, window and QoS bounds.
    pub workload: WorkloadEntry,
    /// Guests per phase (the paper: 4); at least 2 (one stressed, one normal).
    pub guests: u32,
    /// Stressors in the order they run, after the baseline.
    pub stressors: Vec<Stressor>,
    /// Memory of each guest; `None`: the suite's `[guest]`.
    pub guest_memory_mib: Option<u32>,
    pub repetitions: u32,
}

/// The workload a multi-guest experiment names.
fn named_workload(
    name: &str,
    workloads: &BTreeMap<String, WorkloadEntry>,
) -> Result<WorkloadEntry, (&'static str, String)> {
    workloads.get(name).cloned().ok_or_else(|| {
        (
            "workload",
            format!("names {name:?}, which [workloads] does not define"),
        )
    })
}

/// Checks a multi-guest experiment's `guest_memory_mib` and
/// `repetitions` (default 1); returns the repetitions.
fn check_multi_guest(
    memory_mib: Option<u32>,
    repetitions: Option<u32>,
) -> Result<u32, (&'static str, String)> {
    if let Some(m) = memory_mib {
        if !(128..=1 << 20).contains(&m) {
            return Err(("guest_memory_mib", format!("{m} is outside 128-1048576")));
        }
    }
    let repetitions = repetitions.unwrap_or(1);
    if !(1..=1000).contains(&repetitions) {
        return Err(("repetitions", format!("{repetitions} is outside 1-1000")));
    }
    Ok(repetitions)
}

pub(super) fn scalability(
    raw: RawScalability,
    workloads: &BTreeMap<String, WorkloadEntry>,
) -> Result<Scalability, (&'static str, String)> {
    let workload = named_workload(&raw.workload, workloads)?;
    if raw.n_guests.is_empty() {
        return Err(("n_guests", "lists no guest count".into()));
    }
    for (i, &n) in raw.n_guests.iter().enumerate() {
        if !(1..=MAX_GUESTS).contains(&n) {
            return Err(("n_guests", format!("{n} is outside 1-{MAX_GUESTS}")));
        }
        if i > 0 && raw.n_guests[i - 1] >= n {
            return Err(("n_guests", "must be strictly increasing".into()));
        }
    }
    let repetitions = check_multi_guest(raw.guest_memory_mib, raw.repetitions)?;
    Ok(Scalability {
        workload,
        n_guests: raw.n_guests,
        guest_memory_mib: raw.guest_memory_mib,
        repetitions,
    })
}

pub(super) fn isolation(
    raw: RawIsolation,
    workloads: &BTreeMap<String, WorkloadEntry>,
) -> Result<Isolation, (&'static str, String)> {
    let workload = named_workload(&raw.workload, workloads)?;
    if !matches!(workload.spec, WorkloadSpec::Web(_)) {
        return Err((
            "workload",
            format!("{:?} is not of kind \"web\"", raw.workload),
        ));
    }
    let guests = raw.guests.unwrap_or(4);
    if !(2..=MAX_ISOLATION_GUESTS).contains(&guests) {
        return Err((
            "guests",
            format!("{guests} is outside 2-{MAX_ISOLATION_GUESTS} (one stressed guest and at least one normal)"),
        ));
    }
    let stressors = match raw.stressors {
        None => Stressor::ALL.to_vec(),
        Some(names) => {
            let mut out = Vec::new();
            for name in names {
                let s = Stressor::parse(&name).ok_or_else(|| {
                    let known: Vec<_> = Stressor::ALL.iter().map(|s| s.name()).collect();
                    (
                        "stressors",
                        format!("unknown stressor {name:?} (known: {})", known.join(", ")),
                    )
                })?;
                if out.contains(&s) {
                    return Err(("stressors", format!("{name:?} given twice")));
                }
                out.push(s);
            }
            if out.is_empty() {
                return Err(("stressors", "lists no stressor".into()));
            }
            out
        }
    };
    let repetitions = check_multi_guest(raw.guest_memory_mib, raw.repetitions)?;
    Ok(Isolation {
        workload,
        guests,
        stressors,
        guest_memory_mib: raw.guest_memory_mib,
        repetitions,
    })
}
