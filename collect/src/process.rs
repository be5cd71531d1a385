//! Child processes with deadlines. Every child runs in its own process
//! group, is registered while it lives, and is killed (the whole group) on
//! deadline, on drop and on Ctrl-C, so no workload or guest outlives collect.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// Process groups of live children.
static GROUPS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// A cleanup that is not a process (e.g. deleting a network namespace).
pub type Cleanup = Box<dyn Fn() + Send>;

/// Registered cleanups, run on Ctrl-C after the process groups are killed.
static CLEANUPS: Mutex<BTreeMap<u64, Cleanup>> = Mutex::new(BTreeMap::new());
static NEXT_CLEANUP: AtomicU64 = AtomicU64::new(0);

/// Installs the Ctrl-C / SIGTERM handler that kills every registered group
/// and exits with 130.
pub fn install_interrupt_handler() -> anyhow::Result<()> {
    ctrlc::set_handler(|| {
        // Not eprintln!: with stderr gone (a closed pipe) it would panic
        // this thread and collect would go on running.
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "\ninterrupted: stopping child processes");
        kill_all();
        run_cleanups();
        std::process::exit(130);
    })?;
    Ok(())
}

/// Kills every registered process group.
pub fn kill_all() {
    let groups = GROUPS.lock().map(|g| g.clone()).unwrap_or_default();
    for pgid in groups {
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
    }
}

/// Registers `f` to run on Ctrl-C (after [`kill_all`]); the owner calls
/// [`unregister_cleanup`] with the returned id once it cleaned up itself.
pub fn register_cleanup(f: Cleanup) -> u64 {
    let id = NEXT_CLEANUP.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut c) = CLEANUPS.lock() {
        c.insert(id, f);
    }
    id
}

/// Forgets a cleanup registered with [`register_cleanup`].
pub fn unregister_cleanup(id: u64) {
    if let Ok(mut c) = CLEANUPS.lock() {
        c.remove(&id);
    }
}

/// Runs (and forgets) every registered cleanup.
pub fn run_cleanups() {
    let taken = CLEANUPS
        .lock()
        .map(|mut c| std::mem::take(&mut *c))
        .unwrap_or_default();
    for f in taken.values() {
        f();
    }
}

/// A child that is killed, with its whole process group, when dropped.
#[derive(Debug)]
pub struct Owned {
    child: Option<Child>,
    pgid: i32,
}

impl Owned {
    /// Spawns `cmd` in a new process group.
    pub fn spawn(cmd: &mut Command) -> io::Result<Owned> {
        cmd.process_group(0);
        let child = cmd.spawn()?;
        let pgid = i32::try_from(child.id()).unwrap_or(i32::MAX);
        if let Ok(mut g) = GROUPS.lock() {
            g.insert(pgid);
        }
        Ok(Owned {
            child: Some(child),
            pgid,
        })
    }

    /// The child's stdout, when it was spawned with `Stdio::piped()`.
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.as_mut().and_then(|c| c.stdout.take())
    }

    pub fn id(&self) -> u32 {
        u32::try_from(self.pgid).unwrap_or(0)
    }

    /// Kills the process group.
    pub fn kill(&self) {
        let _ = killpg(Pid::from_raw(self.pgid), Signal::SIGKILL);
    }

    /// Waits until the child exits or `deadline` passes; on the deadline the
    /// group is killed and `None` returned.
    pub fn wait_until(&mut self, deadline: Instant) -> io::Result<Option<ExitStatus>> {
        let Some(mut child) = self.child.take() else {
            return Err(io::Error::other("child already waited for"));
        };
        let (tx, rx) = mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let status = child.wait();
            let _ = tx.send(());
            status
        });
        let timeout = deadline.saturating_duration_since(Instant::now());
        let timed_out = rx.recv_timeout(timeout).is_err();
        if timed_out {
            self.kill();
        }
        let status = waiter
            .join()
            .map_err(|_| io::Error::other("waiter thread panicked"))??;
        // The leader is gone; kill what it may have left in its group.
        self.kill();
        self.unregister();
        Ok(if timed_out { None } else { Some(status) })
    }

    fn unregister(&self) {
        if let Ok(mut g) = GROUPS.lock() {
            g.remove(&self.pgid);
        }
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            self.kill();
            let _ = child.wait();
        }
        self.unregister();
    }
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// Exit code, when it exited.
    pub code: Option<i32>,
    /// Signal that ended it, when one did.
    pub signal: Option<i32>,
    pub wall: Duration,
    pub timed_out: bool,
}

impl Finished {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    pub fn describe(&self) -> String {
        match (self.timed_out, self.code, self.signal) {
            (true, _, _) => format!(
                "killed at its deadline after {:.1} s",
                self.wall.as_secs_f64()
            ),
            (_, Some(c), _) => format!("exit status {c}"),
            (_, _, Some(s)) => format!("killed by signal {s}"),
            _ => "ended without status".into(),
        }
    }
}

/// Runs `argv` in `cwd` with output to the given files, killing it at
/// `deadline`. Wall time comes from the monotonic clock.
pub fn run(
    argv: &[String],
    cwd: &Path,
    stdout: File,
    stderr: File,
    deadline: Instant,
) -> io::Result<Finished> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| io::Error::other("empty command"))?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    let start = Instant::now();
    let mut child = Owned::spawn(&mut cmd)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot start {program}: {e}")))?;
    let status = child.wait_until(deadline)?;
    let wall = start.elapsed();
    Ok(match status {
        Some(s) => Finished {
            code: s.code(),
            signal: s.signal(),
            wall,
            timed_out: false,
        },
        None => Finished {
            code: None,
            signal: Some(9),
            wall,
            timed_out: true,
        },
    })
}

/// Quotes `s` for a POSIX shell when it needs it.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=,:@+%".contains(&b));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn devnull() -> File {
        File::create("/dev/null").expect("/dev/null")
    }

    #[test]
    fn deadline_kills_the_whole_group() {
        let dir = tempfile::tempdir().expect("tempdir");
        let marker = dir.path().join("grandchild-alive");
        // The shell's child outlives the shell unless the group is killed.
        let script = format!("(sleep 3; touch {}) & sleep 30", marker.display());
        let argv = vec!["sh".into(), "-c".into(), script];
        let deadline = Instant::now() + Duration::from_millis(300);
        let done = run(&argv, dir.path(), devnull(), devnull(), deadline).expect("run");
        assert!(done.timed_out);
        assert!(done.wall < Duration::from_secs(5));
        std::thread::sleep(Duration::from_secs(4));
        assert!(!marker.exists(), "a grandchild survived the deadline");
    }

    #[test]
    fn exit_status_is_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let argv = vec!["sh".into(), "-c".into(), "exit 3".into()];
        let done = run(
            &argv,
            dir.path(),
            devnull(),
            devnull(),
            Instant::now() + Duration::from_secs(10),
        )
        .expect("run");
        assert_eq!(done.code, Some(3));
        assert!(!done.success());
        assert_eq!(done.describe(), "exit status 3");
    }
}
