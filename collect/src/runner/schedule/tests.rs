use std::path::Path;

use super::*;
use crate::plan::build_with;
use crate::suite;

/// cpu fixed (2 repetitions, 1 warm-up); disk adaptive 3..12 within 5%.
const SUITE: &str = r#"
name = "s"
platforms = ["native", "kvm"]
[defaults]
repetitions = 2
warmups = 1
deadline_s = 60
[experiments.overall]
workloads = ["cpu", "disk"]
[workloads.cpu]
kind = "sysbench-cpu"
max_prime = 100
events = 10
threads = 1
[workloads.disk]
kind = "fio"
rw = "read"
block_kib = 1024
file_mib = 16
repetitions = { min = 3, max = 12, target_ci = 0.05 }
"#;

fn plan(order: RunOrder) -> Plan {
    let suite = suite::parse(SUITE, Path::new("s.toml")).expect("suite");
    build_with(&suite, &[PlatformKind::Native, PlatformKind::Kvm], order)
}

/// What a block looks like: `platform workload w1 r1 r2 ...`.
fn describe(plan: &Plan, block: &Block) -> String {
    let first = &plan.runs[block.runs[0]];
    let phases: Vec<String> = block
        .runs
        .iter()
        .map(|&i| match plan.runs[i].phase {
            Phase::Warmup(n) => format!("w{n}"),
            Phase::Rep(n) => format!("r{n}"),
        })
        .collect();
    format!(
        "{} {} {}",
        first.platform,
        first.workload.name,
        phases.join(" ")
    )
}

/// Plays `plan`; disk values on kvm are wide for its first 3
/// repetitions, native's are narrow.
fn play_recording(plan: &Plan, kvm_disk: impl Fn(u32) -> f64) -> (Schedule, Vec<String>) {
    let mut seen = Vec::new();
    let schedule = play(plan, |block| {
        seen.push(describe(plan, block));
        Ok(block
            .runs
            .iter()
            .map(|&i| {
                let run = &plan.runs[i];
                let values = match (run.phase, run.workload.name.as_str()) {
                    (Phase::Warmup(_), _) => Vec::new(),
                    (Phase::Rep(_), "cpu") => vec![Some(100.0), Some(10.0)],
                    (Phase::Rep(n), _) if run.platform == PlatformKind::Kvm => {
                        vec![Some(kvm_disk(n))]
                    }
                    (Phase::Rep(n), _) => vec![Some(500.0 + f64::from(n % 2))],
                };
                RunResult {
                    status: Status::Ok,
                    values,
                }
            })
            .collect())
    })
    .expect("plays");
    (schedule, seen)
}

#[test]
fn interleaved_flips_the_first_platform_and_rounds_alternate() {
    let plan = plan(RunOrder::INTERLEAVED);
    // kvm disk: 3 values spread by 10%, then steady.
    let kvm = |n: u32| match n {
        1 => 90.0,
        2 => 110.0,
        3 => 100.0,
        _ => 100.0 + f64::from(n % 2),
    };
    let (schedule, seen) = play_recording(&plan, kvm);
    assert_eq!(
        seen,
        [
            "native cpu w1 r1 r2",
            "kvm cpu w1 r1 r2",
            // The second workload starts with the other platform.
            "kvm disk w1 r1 r2 r3",
            "native disk w1 r1 r2 r3",
            // native's disk is within 5% after its first block; kvm's
            // needs (4.303 * 10 / 5)^2 = 75 -> up to max, 9 more.
            "kvm disk w2 r4 r5 r6 r7 r8 r9 r10 r11 r12",
        ]
    );
    let records: Vec<(String, StopReason, u32, usize)> = schedule
        .lanes
        .iter()
        .map(|l| {
            (
                format!("{} {}", l.platform, l.workload),
                l.stopped,
                l.repetitions,
                l.not_needed.len(),
            )
        })
        .collect();
    assert_eq!(
        records,
        [
            ("native cpu".to_owned(), StopReason::Fixed, 2, 0),
            ("kvm cpu".to_owned(), StopReason::Fixed, 2, 0),
            ("kvm disk".to_owned(), StopReason::Target, 12, 2),
            ("native disk".to_owned(), StopReason::Target, 3, 12),
        ]
    );
    let kvm_disk = &schedule.lanes[2];
    assert_eq!(
        kvm_disk.blocks[0].decision,
        Decision::Continue { next: 9 },
        "{kvm_disk:?}"
    );
    assert_eq!(
        kvm_disk.not_needed,
        [
            "runs/kvm/overall/disk/warmup-03",
            "runs/kvm/overall/disk/warmup-04"
        ]
    );
    assert_eq!(kvm_disk.path(), "runs/kvm/overall/disk/stopping.json");
    assert!(kvm_disk.why().contains("within +-5% of its mean after 12"));
    // Positions count every run that ran, warm-ups included.
    let last = schedule.executed.last().expect("ran");
    assert_eq!((last.sequence, last.block), (3 + 3 + 4 + 4 + 10, 5));
    assert_eq!(
        schedule.executed.len() + schedule.not_needed.len(),
        plan.runs.len()
    );
}

#[test]
fn blocked_runs_platform_after_platform_and_failures_end_a_lane() {
    let plan = plan(RunOrder::BLOCKED);
    let mut seen = Vec::new();
    let schedule = play(&plan, |block| {
        seen.push(describe(&plan, block));
        Ok(block
            .runs
            .iter()
            .map(|&i| {
                let run = &plan.runs[i];
                match (run.phase, run.workload.name.as_str()) {
                    (Phase::Warmup(_), _) => RunResult {
                        status: Status::Ok,
                        values: Vec::new(),
                    },
                    (Phase::Rep(_), "cpu") => RunResult {
                        status: Status::Ok,
                        values: vec![Some(100.0), Some(10.0)],
                    },
                    // kvm's third disk repetition does not return.
                    (Phase::Rep(3), _) if run.platform == PlatformKind::Kvm => RunResult {
                        status: Status::Dnr,
                        values: vec![None],
                    },
                    (Phase::Rep(n), _) => RunResult {
                        status: Status::Ok,
                        values: vec![Some(50.0 * f64::from(n))],
                    },
                }
            })
            .collect())
    })
    .expect("plays");
    assert_eq!(
        seen,
        [
            "native cpu w1 r1 r2",
            "native disk w1 r1 r2 r3",
            // 50, 100, 150: needs more; at least half of 3 (2), here
            // (4.303 * 50 / 5)^2 -> max.
            "native disk w2 r4 r5 r6 r7 r8 r9 r10 r11 r12",
            "kvm cpu w1 r1 r2",
            "kvm disk w1 r1 r2 r3",
        ]
    );
    let kvm = &schedule.lanes[3];
    assert_eq!((kvm.stopped, kvm.repetitions), (StopReason::Failures, 3));
    assert!(
        kvm.why().contains("failed or did not return"),
        "{}",
        kvm.why()
    );
    assert_eq!(schedule.lanes[1].stopped, StopReason::Max);
}

#[test]
fn random_orders_come_from_the_seed_alone() {
    let kvm = |n: u32| f64::from(n * 37 % 11) + 100.0;
    let (a, seen_a) = play_recording(&plan(RunOrder::random(7)), kvm);
    let (b, seen_b) = play_recording(&plan(RunOrder::random(7)), kvm);
    assert_eq!((a, seen_a.clone()), (b, seen_b));
    let orders: std::collections::BTreeSet<Vec<String>> = (0..16)
        .map(|seed| play_recording(&plan(RunOrder::random(seed)), kvm).1)
        .collect();
    assert!(orders.len() > 2, "{orders:?}");
    // The plan lists lanes in the order of their first blocks.
    let plan = plan(RunOrder::random(7));
    let firsts: Vec<String> = seen_a
        .iter()
        .filter(|s| s.contains(" w1 "))
        .map(|s| s.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .collect();
    let mut listed: Vec<String> = Vec::new();
    for r in &plan.runs {
        let lane = format!("{} {}", r.platform, r.workload.name);
        if listed.last() != Some(&lane) {
            listed.push(lane);
        }
    }
    assert_eq!(firsts, listed);
}

#[test]
fn expected_runs_are_every_lanes_first_block() {
    let plan = plan(RunOrder::INTERLEAVED);
    let expected = expected(&plan);
    // cpu: 3 runs per platform; disk: w1 r1-3 per platform.
    assert_eq!(expected.len(), 2 * 3 + 2 * 4);
    assert!(expected
        .iter()
        .all(|&i| !plan.runs[i].folder().ends_with("rep-04")));
}
