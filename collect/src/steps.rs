//! Running one run's steps (setup, measured, cleanup) in a scratch folder:
//! shared by the native platform and by the guest agent inside a VM, so a
//! run means the same thing everywhere.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use benchvm_format::metrics::Status;

use crate::process;
use crate::quiet;
use crate::workload::Steps;
use benchvm_core::outcome::RunOutcome;

/// Time cleanup commands get after the run, even when the run timed out.
pub const CLEANUP: Duration = Duration::from_secs(120);

/// Runs `steps` in `scratch`, writing `setup.log`, `stdout.log`,
/// `stderr.log` and the measured command's quiet evidence (`quiet.json`,
/// [`crate::quiet`]) into `dir`. Setup and measured commands share `deadline`;
/// cleanup gets `cleanup` on its own. Wall time is the measured command's,
/// from the monotonic clock.
pub fn run(
    steps: &Steps,
    scratch: &Path,
    dir: &Path,
    deadline: Duration,
    cleanup: Duration,
) -> std::io::Result<RunOutcome> {
    let deadline = Instant::now() + deadline;
    let setup_log = dir.join("setup.log");
    let log = || {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&setup_log)
    };
    let mut outcome = None;
    for argv in &steps.setup {
        writeln!(log()?, "$ {}", argv.join(" "))?;
        let done = process::run(argv, scratch, log()?, log()?, deadline)?;
        if !done.success() {
            outcome = Some(failed(
                format!("setup `{}`: {}", argv.join(" "), done.describe()),
                None,
            ));
            break;
        }
    }
    if outcome.is_none() {
        let stdout = File::create(dir.join("stdout.log"))?;
        let stderr = File::create(dir.join("stderr.log"))?;
        // Quiet evidence around the measured command alone.
        let before = quiet::snapshot();
        let done = process::run(&steps.measured, scratch, stdout, stderr, deadline)?;
        let evidence = quiet::Evidence {
            scope: quiet::Scope::Step,
            before,
            after: quiet::snapshot(),
        };
        std::fs::write(dir.join(quiet::FILE), serde_json::to_vec_pretty(&evidence)?)?;
        outcome = Some(if done.success() {
            RunOutcome {
                status: Status::Ok,
                wall_s: Some(done.wall.as_secs_f64()),
                reason: None,
                exit_code: done.code,
            }
        } else {
            failed(done.describe(), done.code)
        });
    }
    // Cleanup gets its own short deadline, so a timed-out run still cleans.
    let cleanup_deadline = Instant::now() + cleanup;
    for argv in &steps.cleanup {
        writeln!(log()?, "$ {}", argv.join(" "))?;
        process::run(argv, scratch, log()?, log()?, cleanup_deadline)?;
    }
    Ok(outcome.unwrap_or_else(|| failed("no command ran".into(), None)))
}

/// A failed outcome.
pub fn failed(reason: String, exit_code: Option<i32>) -> RunOutcome {
    RunOutcome::failed(reason, exit_code)
}
