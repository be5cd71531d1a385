//! Running an external command with a deadline.
//!
//! The child is spawned with its stdout and stderr piped; a thread per pipe
//! drains it (so a chatty child can never block on a full pipe) while the
//! caller polls `try_wait` with a short, growing wait between polls until the
//! child exits or the deadline passes, in which case the child is killed.

use std::io::{ErrorKind, Read};
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// Deadline the environment capture gives every command. Generous: in the
/// Xen lab's dom0 (TCG below Xen) `fio --version` and `qemu --version`
/// were seen to need over 10 s only to start.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);

/// First wait between two `try_wait` polls; doubles up to [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(2);
const MAX_POLL: Duration = Duration::from_millis(50);

/// How long the pipes may stay open once the child is gone (a grandchild may
/// have inherited them); what was read by then is kept.
const DRAIN_GRACE: Duration = Duration::from_millis(500);

/// What became of a command run by [`run_with_deadline`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandOutcome {
    /// Exit code; `None` when the command was not found, could not be
    /// started, timed out or was ended by a signal.
    pub status: Option<i32>,
    /// Standard output, lossily decoded as UTF-8.
    pub stdout: String,
    /// Standard error, lossily decoded as UTF-8; for a command that could
    /// not be started or was ended by a signal, a note saying so.
    pub stderr: String,
    /// The deadline passed and the command was killed.
    pub timed_out: bool,
    /// The program does not exist (not in `PATH`).
    pub not_found: bool,
}

impl CommandOutcome {
    /// The command ran to completion and exited with status 0.
    pub fn success(&self) -> bool {
        self.status == Some(0) && !self.timed_out
    }

    /// Standard output when the command succeeded.
    pub fn ok_stdout(&self) -> Option<&str> {
        self.success().then_some(self.stdout.as_str())
    }

    /// The outcome as plain text for a raw capture file: the command line,
    /// its stdout, then its stderr and how it ended when that is not a plain
    /// success.
    pub fn render(&self, argv: &[&str]) -> String {
        let mut out = format!("$ {}\n", argv.join(" "));
        if self.not_found {
            let program = argv.first().copied().unwrap_or("");
            out.push_str(&format!("command not found: {program}\n"));
            return out;
        }
        push_block(&mut out, &self.stdout);
        if !self.stderr.trim().is_empty() {
            out.push_str("--- stderr ---\n");
            push_block(&mut out, &self.stderr);
        }
        if self.timed_out {
            out.push_str("--- timed out (killed) ---\n");
        } else if self.status != Some(0) {
            match self.status {
                Some(code) => out.push_str(&format!("--- exit status {code} ---\n")),
                None => out.push_str("--- no exit status ---\n"),
            }
        }
        out
    }
}

fn push_block(out: &mut String, text: &str) {
    out.push_str(text);
    if !text.is_empty() && !text.ends_with('\n') {
        out.push('\n');
    }
}

/// Runs `argv` (program then arguments, looked up in `PATH`) with stdin
/// closed and `LC_ALL=C` (so the output parses the same on every host),
/// killing it once `deadline` has passed.
///
/// Never fails: a missing program, a spawn error or a timeout is reported in
/// the returned [`CommandOutcome`].
pub fn run_with_deadline(argv: &[&str], deadline: Duration) -> CommandOutcome {
    let Some((program, args)) = argv.split_first() else {
        return CommandOutcome {
            stderr: "empty command line".into(),
            ..CommandOutcome::default()
        };
    };
    let started = Instant::now();
    let spawned = Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return CommandOutcome {
                stderr: format!("command not found: {program}"),
                not_found: true,
                ..CommandOutcome::default()
            };
        }
        Err(e) => {
            return CommandOutcome {
                stderr: format!("cannot start {program}: {e}"),
                ..CommandOutcome::default()
            };
        }
    };
    let stdout = Drain::start(child.stdout.take());
    let stderr = Drain::start(child.stderr.take());

    let (status, timed_out, wait_error) = wait_until(&mut child, started + deadline);
    let grace = Instant::now() + DRAIN_GRACE;
    let mut outcome = CommandOutcome {
        status: status.and_then(|s| s.code()),
        stdout: stdout.finish(grace),
        stderr: stderr.finish(grace),
        timed_out,
        not_found: false,
    };
    if let Some(note) = wait_error.or_else(|| status.and_then(signal_note)) {
        if !outcome.stderr.is_empty() && !outcome.stderr.ends_with('\n') {
            outcome.stderr.push('\n');
        }
        outcome.stderr.push_str(&note);
    }
    outcome
}

/// Polls the child until it exits or `until` passes (then kills it).
/// Returns its exit status, whether it timed out, and a note if waiting
/// itself failed.
fn wait_until(child: &mut Child, until: Instant) -> (Option<ExitStatus>, bool, Option<String>) {
    let mut pause = FIRST_POLL;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return (Some(status), false, None),
            Ok(None) => {}
            Err(e) => {
                // Cannot watch it any more: end it rather than leak it.
                let _ = child.kill();
                let _ = child.wait();
                return (
                    None,
                    false,
                    Some(format!("cannot wait for the command: {e}")),
                );
            }
        }
        let now = Instant::now();
        if now >= until {
            // kill() fails only when the child has exited meanwhile; wait()
            // reaps it either way.
            let _ = child.kill();
            let _ = child.wait();
            return (None, true, None);
        }
        thread::sleep(pause.min(until - now));
        pause = (pause * 2).min(MAX_POLL);
    }
}

#[cfg(unix)]
fn signal_note(status: ExitStatus) -> Option<String> {
    use std::os::unix::process::ExitStatusExt;
    status
        .signal()
        .map(|signal| format!("killed by signal {signal}"))
}

#[cfg(not(unix))]
fn signal_note(_status: ExitStatus) -> Option<String> {
    None
}

/// A pipe drained by a thread into a shared buffer, so that what was read
/// survives even if the thread stays blocked on a pipe a grandchild holds.
struct Drain {
    buffer: Arc<Mutex<Vec<u8>>>,
    done: Option<Receiver<()>>,
}

/// Either of the child's output pipes.
trait Pipe: Read + Send + 'static {}
impl Pipe for ChildStdout {}
impl Pipe for ChildStderr {}

impl Drain {
    fn start<P: Pipe>(pipe: Option<P>) -> Drain {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let Some(mut pipe) = pipe else {
            return Drain { buffer, done: None };
        };
        let (tx, rx) = mpsc::channel();
        let shared = Arc::clone(&buffer);
        thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                match pipe.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => shared
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = tx.send(());
        });
        Drain {
            buffer,
            done: Some(rx),
        }
    }

    /// Waits for end of file until `until`, then returns what was read.
    fn finish(self, until: Instant) -> String {
        if let Some(done) = self.done {
            let _ = done.recv_timeout(until.saturating_duration_since(Instant::now()));
        }
        let bytes = self.buffer.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHORT: Duration = Duration::from_secs(5);

    #[test]
    fn captures_stdout_and_status() {
        let out = run_with_deadline(&["sh", "-c", "echo hello; echo oops >&2; exit 3"], SHORT);
        assert_eq!(out.status, Some(3));
        assert_eq!(out.stdout, "hello\n");
        assert_eq!(out.stderr, "oops\n");
        assert!(!out.timed_out && !out.not_found && !out.success());
        let text = out.render(&["sh", "-c", "x"]);
        assert!(text.contains("hello") && text.contains("oops"), "{text}");
        assert!(text.contains("exit status 3"), "{text}");
    }

    #[test]
    fn missing_program_is_not_found() {
        let out = run_with_deadline(&["benchvm-no-such-tool-xyz", "--version"], SHORT);
        assert!(out.not_found);
        assert_eq!(out.status, None);
        let text = out.render(&["benchvm-no-such-tool-xyz", "--version"]);
        assert!(text.contains("command not found: benchvm-no-such-tool-xyz"));
    }

    #[test]
    fn empty_argv_does_not_panic() {
        let out = run_with_deadline(&[], SHORT);
        assert_eq!(out.status, None);
        assert!(!out.success());
    }

    #[test]
    fn deadline_kills_the_child() {
        let started = Instant::now();
        let out = run_with_deadline(
            &["sh", "-c", "echo before; exec sleep 30"],
            Duration::from_millis(300),
        );
        assert!(out.timed_out);
        assert_eq!(out.status, None);
        assert_eq!(out.stdout, "before\n");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(out.render(&["sh"]).contains("timed out"));
    }

    #[test]
    fn large_output_does_not_block() {
        // Far more than a pipe buffer (64 KiB) on both pipes.
        let out = run_with_deadline(
            &[
                "sh",
                "-c",
                "i=0; while [ $i -lt 20000 ]; do echo 0123456789; echo abcdefghij >&2; i=$((i+1)); done",
            ],
            Duration::from_secs(30),
        );
        assert!(out.success(), "{:?}", out.status);
        assert_eq!(out.stdout.len(), 20000 * 11);
        assert_eq!(out.stderr.len(), 20000 * 11);
    }

    #[test]
    fn runs_in_the_c_locale() {
        let out = run_with_deadline(&["sh", "-c", "echo $LC_ALL"], SHORT);
        assert_eq!(out.ok_stdout(), Some("C\n"));
    }
}
