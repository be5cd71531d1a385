//! The schedule: which blocks of a plan run, in which order, given how
//! the runs before them ended. A pure function of the plan and the runs'
//! results, so the runner drives it with real runs, `collect resume` with
//! the journal's runs first, and `analyze verify --rederive` with the
//! values it parses again from the raw files; all three get the same
//! blocks, the same positions and the same stopping records.
//!
//! A lane (one workload on one platform of the overall experiment) runs in
//! blocks, each its warm-ups then repetitions ([`crate::plan::order`]):
//! one block when the suite fixes the count, else one per round of the
//! stopping rule ([`crate::stopping`]). Each lane's record of why it
//! stopped (`stopping.json` beside its runs) lists its blocks, the rule's
//! check after each, and the planned runs it did not need.

use anyhow::{bail, Result};
use benchvm_core::registry::PlatformKind;
use benchvm_format::metrics::Status;
use serde::{Deserialize, Serialize};

use crate::plan::{OrderKind, Phase, Plan, RunOrder};
use crate::stopping::{Adaptive, Decision, MetricCheck, StopReason};

/// Name of a lane's stopping record, in `runs/<platform>/overall/<workload>/`.
pub const STOPPING_FILE: &str = "stopping.json";

/// How a run ended, as the schedule needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    pub status: Status,
    /// A repetition's value per metric of its workload, in the order of
    /// `Workload::metrics` (none when not ok); empty for warm-ups and
    /// multi-guest runs.
    pub values: Vec<Option<f64>>,
}

/// Runs that go to a platform together (one guest on guest platforms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// 1-based, in the order blocks run.
    pub number: u32,
    /// Indices into the plan's runs, in the order they run.
    pub runs: Vec<usize>,
}

/// A run that ran: its place in the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Executed {
    /// Index into the plan's runs.
    pub run: usize,
    /// 1-based position among every run that ran (warm-ups included).
    pub sequence: u32,
    pub block: u32,
}

/// One block of a lane and what the rule said after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockCheck {
    pub block: u32,
    pub warmups: Vec<u32>,
    pub repetitions: Vec<u32>,
    /// Each metric's interval over every repetition so far (adaptive
    /// lanes; empty when the suite fixes the count).
    pub metrics: Vec<MetricCheck>,
    pub decision: Decision,
}

/// `stopping.json`: why a lane stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaneRecord {
    pub platform: String,
    pub workload: String,
    /// The adaptive rule; none when the suite fixes the count.
    pub rule: Option<Adaptive>,
    pub blocks: Vec<BlockCheck>,
    pub stopped: StopReason,
    /// Repetitions that ran.
    pub repetitions: u32,
    /// Planned runs (folders) the lane did not need.
    pub not_needed: Vec<String>,
}

impl LaneRecord {
    /// Where the record goes in the bundle.
    pub fn path(&self) -> String {
        stopping_path(&self.platform, &self.workload)
    }

    /// Why the lane stopped, in words.
    pub fn why(&self) -> String {
        let n = self.repetitions;
        match (self.stopped, &self.rule) {
            (StopReason::Fixed, _) | (_, None) => {
                format!("fixed by the suite: {n} repetitions")
            }
            (StopReason::Target, Some(r)) => format!(
                "every metric's 95% interval within +-{}% of its mean after {n} repetitions ({} blocks)",
                r.target_ci * 100.0,
                self.blocks.len()
            ),
            (StopReason::Max, Some(r)) => format!(
                "max of {} repetitions reached before every 95% interval was within +-{}% ({} blocks)",
                r.max,
                r.target_ci * 100.0,
                self.blocks.len()
            ),
            (StopReason::Failures, Some(_)) => format!(
                "a repetition of block {} failed or did not return; stopped after {n} repetitions",
                self.blocks.last().map_or(0, |b| b.block)
            ),
        }
    }
}

/// `runs/<platform>/overall/<workload>/stopping.json`.
pub fn stopping_path(platform: &str, workload: &str) -> String {
    format!("runs/{platform}/overall/{workload}/{STOPPING_FILE}")
}

/// What a whole schedule did.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Every run that ran, in order.
    pub executed: Vec<Executed>,
    /// Every lane's stopping record, in the order lanes first ran.
    pub lanes: Vec<LaneRecord>,
    /// Planned runs no lane needed (indices into the plan's runs).
    pub not_needed: Vec<usize>,
}

/// One lane: its planned warm-ups and repetitions by number.
#[derive(Debug, Clone)]
struct Lane {
    platform: PlatformKind,
    workload: String,
    rule: Option<Adaptive>,
    warmups_per_block: u32,
    first: u32,
    /// Plan indices of warm-up i+1 and repetition i+1.
    warmups: Vec<usize>,
    reps: Vec<usize>,
    /// Repetitions run so far, and each metric's ok values.
    run: u32,
    values: Vec<Vec<f64>>,
    blocks: Vec<BlockCheck>,
    next: Option<u32>,
    stopped: Option<StopReason>,
}

impl Lane {
    /// The plan indices of the lane's next block.
    fn next_block(&self) -> (Vec<u32>, Vec<u32>, Vec<usize>) {
        let k = self.blocks.len() as u32;
        let w = self.warmups_per_block;
        let warmups: Vec<u32> = (k * w + 1..=(k + 1) * w).collect();
        let size = self.next.unwrap_or(self.first);
        let reps: Vec<u32> = (self.run + 1..=self.run + size).collect();
        let mut runs: Vec<usize> = warmups
            .iter()
            .filter_map(|i| self.warmups.get(*i as usize - 1).copied())
            .collect();
        runs.extend(
            reps.iter()
                .filter_map(|i| self.reps.get(*i as usize - 1).copied()),
        );
        (warmups, reps, runs)
    }

    /// Records a block's results and decides.
    fn after_block(
        &mut self,
        number: u32,
        warmups: Vec<u32>,
        reps: Vec<u32>,
        results: &[RunResult],
        metrics: &[&'static str],
    ) {
        let rep_results = &results[results.len() - reps.len()..];
        let failed = rep_results.iter().any(|r| r.status != Status::Ok);
        for r in rep_results {
            for (slot, v) in self.values.iter_mut().zip(&r.values) {
                if let (Status::Ok, Some(v)) = (r.status, v) {
                    slot.push(*v);
                }
            }
        }
        self.run += reps.len() as u32;
        let (checks, decision) = match &self.rule {
            None => (
                Vec::new(),
                Decision::Stop {
                    reason: StopReason::Fixed,
                },
            ),
            Some(rule) => {
                let sample: Vec<(&str, Vec<f64>)> = metrics
                    .iter()
                    .zip(&self.values)
                    .map(|(m, v)| (*m, v.clone()))
                    .collect();
                rule.decide(self.run, failed, &sample)
            }
        };
        match decision {
            Decision::Stop { reason } => self.stopped = Some(reason),
            Decision::Continue { next } => self.next = Some(next),
        }
        self.blocks.push(BlockCheck {
            block: number,
            warmups,
            repetitions: reps,
            metrics: checks,
            decision,
        });
    }

    fn record(&self, plan: &Plan, not_needed: &mut Vec<usize>) -> LaneRecord {
        let k = self.blocks.len() as u32;
        let unused: Vec<usize> = self
            .warmups
            .iter()
            .skip((k * self.warmups_per_block) as usize)
            .chain(self.reps.iter().skip(self.run as usize))
            .copied()
            .collect();
        not_needed.extend(&unused);
        LaneRecord {
            platform: self.platform.name().to_owned(),
            workload: self.workload.clone(),
            rule: self.rule,
            blocks: self.blocks.clone(),
            stopped: self.stopped.unwrap_or(StopReason::Fixed),
            repetitions: self.run,
            not_needed: unused.iter().map(|&i| plan.runs[i].folder()).collect(),
        }
    }
}

/// A plan's lanes in groups (each group's lanes take turns), and its
/// multi-guest runs.
struct Lanes {
    lanes: Vec<Lane>,
    /// Indices into `lanes`.
    groups: Vec<Vec<usize>>,
    /// Indices into the plan's runs.
    multi: Vec<usize>,
}

fn lanes(plan: &Plan) -> Result<Lanes> {
    let mut lanes: Vec<Lane> = Vec::new();
    let mut multi = Vec::new();
    for (i, run) in plan.runs.iter().enumerate() {
        if run.experiment.n_guests().is_some() {
            multi.push(i);
            continue;
        }
        let same = lanes
            .last()
            .is_some_and(|l| l.platform == run.platform && l.workload == run.workload.name);
        if !same {
            let s = &run.workload.schedule;
            let metrics = run.workload.spec.workload().metrics().len();
            lanes.push(Lane {
                platform: run.platform,
                workload: run.workload.name.clone(),
                rule: s.adaptive,
                warmups_per_block: s.warmups,
                first: s.first_block(),
                warmups: Vec::new(),
                reps: Vec::new(),
                run: 0,
                values: vec![Vec::new(); metrics],
                blocks: Vec::new(),
                next: None,
                stopped: None,
            });
        }
        let Some(lane) = lanes.last_mut() else {
            bail!("{}: no lane", run.folder());
        };
        // A plan `plan::build` made lists each lane's runs together and
        // numbered in order; one that does not is refused by the plan's
        // own check, which names the difference.
        match run.phase {
            Phase::Warmup(_) => lane.warmups.push(i),
            Phase::Rep(_) => lane.reps.push(i),
        }
    }
    let kind = plan.order.map_or(OrderKind::Blocked, |o| o.kind);
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, lane) in lanes.iter().enumerate() {
        match groups.last_mut() {
            Some(g) if kind != OrderKind::Blocked && lanes[g[0]].workload == lane.workload => {
                g.push(i)
            }
            _ => groups.push(vec![i]),
        }
    }
    Ok(Lanes {
        lanes,
        groups,
        multi,
    })
}

/// The order of a group's lanes in `round`.
fn round_order(
    plan: &Plan,
    lanes: &[Lane],
    group: &[usize],
    position: usize,
    round: u32,
) -> Vec<usize> {
    let order = plan.order.unwrap_or(RunOrder::BLOCKED);
    if order.kind != OrderKind::Random || round == 1 {
        return group.to_vec();
    }
    let workload = &lanes[group[0]].workload;
    order
        .round(position, workload, round, plan.platforms.len())
        .into_iter()
        .filter_map(|p| {
            let name = plan.platforms.get(p)?;
            group.iter().copied().find(|&l| lanes[l].platform == *name)
        })
        .collect()
}

/// Runs are expected before any result: every lane's first block and the
/// multi-guest runs (the progress bar's first count).
pub fn expected(plan: &Plan) -> Vec<usize> {
    let Ok(Lanes { lanes, multi, .. }) = lanes(plan) else {
        return (0..plan.runs.len()).collect();
    };
    let mut out: Vec<usize> = lanes.iter().flat_map(|l| l.next_block().2).collect();
    out.extend(multi);
    out.sort_unstable();
    out
}

/// Plays the plan: hands each block to `run_block`, which returns one
/// result per run of the block, in order, and decides the next blocks.
pub fn play(
    plan: &Plan,
    mut run_block: impl FnMut(&Block) -> Result<Vec<RunResult>>,
) -> Result<Schedule> {
    let Lanes {
        mut lanes,
        groups,
        multi,
    } = lanes(plan)?;
    let mut executed = Vec::new();
    let mut number = 0u32;
    let mut sequence = 0u32;
    let mut go = |runs: Vec<usize>, number: u32, executed: &mut Vec<Executed>| {
        let block = Block { number, runs };
        let results = run_block(&block)?;
        if results.len() != block.runs.len() {
            bail!(
                "block {number}: {} results for {} runs",
                results.len(),
                block.runs.len()
            );
        }
        for &run in &block.runs {
            sequence += 1;
            executed.push(Executed {
                run,
                sequence,
                block: number,
            });
        }
        Ok(results)
    };
    for (position, group) in groups.iter().enumerate() {
        let mut round = 1;
        while group.iter().any(|&l| lanes[l].stopped.is_none()) {
            for l in round_order(plan, &lanes, group, position, round) {
                if lanes[l].stopped.is_some() {
                    continue;
                }
                let (warmups, reps, runs) = lanes[l].next_block();
                number += 1;
                let metrics = plan.runs[runs[runs.len() - 1]]
                    .workload
                    .spec
                    .workload()
                    .metrics();
                let names: Vec<&'static str> = metrics.iter().map(|m| m.metric).collect();
                let results = go(runs, number, &mut executed)?;
                lanes[l].after_block(number, warmups, reps, &results, &names);
            }
            round += 1;
        }
    }
    for i in multi {
        number += 1;
        go(vec![i], number, &mut executed)?;
    }
    let mut not_needed = Vec::new();
    let records = lanes
        .iter()
        .map(|l| l.record(plan, &mut not_needed))
        .collect();
    not_needed.sort_unstable();
    Ok(Schedule {
        executed,
        lanes: records,
        not_needed,
    })
}

#[cfg(test)]
mod tests;
