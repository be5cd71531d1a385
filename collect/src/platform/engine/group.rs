//! What the engine's loops need besides the guests: each guest's job in a
//! group started at once (the scalability and isolation experiments), the
//! test hook that crashes a guest, and the boot deadline stretched for
//! oversubscribed host CPUs.

use crate::guest::agent::{Job, JobRun};
use crate::guest::drive::Timeouts;
use crate::platform::api::ParallelRequest;
use crate::workload::Steps;

/// Test hook: `BENCHVM_TEST_CRASH_GUEST=<i>` makes guest `i` of every
/// scalability or isolation run panic its kernel (`echo c >
/// /proc/sysrq-trigger`) before its workload starts; `<i>@<part>` only in
/// runs whose folder has `<part>` as one of its components (e.g. `1@cpu`:
/// the stressed guest of the cpu isolation phase; `2@n=2`). In the
/// overall experiment, a plain `<i>` makes the platform's `i`-th guest
/// panic in its first run. The tests use it to check that a crashed guest
/// is dnr from the guest to the figure; it is recorded in the guest's job.
pub const CRASH_GUEST_ENV: &str = "BENCHVM_TEST_CRASH_GUEST";

/// The guest [`CRASH_GUEST_ENV`] crashes in the run named `run`, if any.
pub(crate) fn crashed_guest(run: &str) -> Option<u32> {
    std::env::var(CRASH_GUEST_ENV)
        .ok()
        .and_then(|hook| crash_target(&hook, run))
}

fn crash_target(hook: &str, run: &str) -> Option<u32> {
    let (guest, part) = match hook.trim().split_once('@') {
        Some((g, p)) => (g, Some(p)),
        None => (hook.trim(), None),
    };
    let applies = part.is_none_or(|p| run.split('/').any(|c| c == p));
    guest.parse().ok().filter(|_| applies)
}

/// Whether [`CRASH_GUEST_ENV`] makes the platform's guest number `number`
/// (1-based) of the overall experiment crash in its first run.
pub(crate) fn crashes_first_run(number: u32) -> bool {
    std::env::var(CRASH_GUEST_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        == Some(number)
}

/// The steps of a run that panics its guest's kernel (`noun`: what the
/// platform calls a guest).
pub(crate) fn crash_steps(noun: &str) -> Steps {
    Steps {
        setup: Vec::new(),
        measured: [
            "sh",
            "-c",
            &format!("echo '{CRASH_GUEST_ENV}: crashing this {noun}'; echo c > /proc/sysrq-trigger; sleep 60"),
        ]
        .map(str::to_owned)
        .to_vec(),
        cleanup: Vec::new(),
    }
}

/// `timeouts` with the boot deadline multiplied by how many times `n`
/// guests of `vcpus` each oversubscribe `host_cpus`.
pub(crate) fn stretched(timeouts: Timeouts, n: u32, vcpus: u32, host_cpus: u32) -> Timeouts {
    let oversubscribed = (n * vcpus).div_ceil(host_cpus.max(1)).max(1);
    Timeouts {
        boot: timeouts.boot * oversubscribed,
        ..timeouts
    }
}

/// Guest `i`'s job in `run`: one run of `steps` (after a kernel panic when
/// `crash`), its files in `<run>/guest-<i>`.
pub(crate) fn guest_job(
    run: &ParallelRequest<'_>,
    i: u32,
    steps: &Steps,
    crash: bool,
    cleanup_s: u64,
) -> Job {
    let mut steps = steps.clone();
    if crash {
        steps.setup.insert(
            0,
            vec![
                "sh".into(),
                "-c".into(),
                format!("echo '{CRASH_GUEST_ENV}: crashing guest {i}'; echo c > /proc/sysrq-trigger; sleep 60"),
            ],
        );
    }
    Job {
        runs: vec![JobRun {
            folder: format!("{}/guest-{i}", run.name),
            steps,
            deadline_s: run.deadline.as_secs(),
        }],
        cleanup_s,
    }
}

#[cfg(test)]
mod tests {
    use super::crash_target;

    #[test]
    fn the_crash_hook_may_name_a_part_of_the_run() {
        let cpu = "runs/kvm/isolation/web/cpu/rep-01";
        let scal = "runs/xen/scalability/compile/n=2/rep-01";
        assert_eq!(crash_target("2", cpu), Some(2));
        assert_eq!(crash_target(" 1@cpu ", cpu), Some(1));
        assert_eq!(crash_target("1@cpu", scal), None);
        assert_eq!(crash_target("1@cp", cpu), None);
        assert_eq!(crash_target("2@n=2", scal), Some(2));
        assert_eq!(crash_target("x", cpu), None);
    }
}
