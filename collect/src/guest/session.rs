//! One running guest, as [`super::drive`] sees it ([`GuestProcess`]): a
//! hypervisor process of its own ([`Session`], e.g. QEMU: an owned child
//! process killed with its process group on drop and on Ctrl-C, whose
//! serial console is watched), or a Xen domain
//! (`crate::platform::xen::domain`).

use std::fs::File;
use std::io;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::console::{Console, Event};
use crate::process::Owned;

/// A running guest.
#[derive(Debug)]
pub struct Session {
    child: Owned,
    console: Console,
    /// When QEMU was started (monotonic).
    pub started: Instant,
}

/// How a guest's QEMU ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Exited(ExitStatus),
    /// Killed by us (deadline, panic that did not end QEMU, or probe).
    Killed,
}

/// A running guest whose console is watched.
pub trait GuestProcess: std::fmt::Debug {
    /// What runs the guest, for messages (`QEMU`, `xl`).
    fn what(&self) -> &'static str;
    /// When the guest was started (monotonic).
    fn started(&self) -> Instant;
    /// The next console event, or `None` once `deadline` passed.
    fn next(&self, deadline: Instant) -> Option<(Instant, Event)>;
    /// Gives the guest `grace` to end on its own, then ends it; waits for
    /// the console log to be complete.
    fn stop(self: Box<Self>, grace: Duration) -> io::Result<Ended>;
}

impl GuestProcess for Session {
    fn what(&self) -> &'static str {
        "QEMU"
    }

    fn started(&self) -> Instant {
        self.started
    }

    fn next(&self, deadline: Instant) -> Option<(Instant, Event)> {
        Session::next(self, deadline)
    }

    fn stop(self: Box<Self>, grace: Duration) -> io::Result<Ended> {
        Session::stop(*self, grace)
    }
}

impl Session {
    /// Starts `argv` with its console copied to `console_log` and QEMU's own
    /// messages to `stderr_log`.
    pub fn start(argv: &[String], console_log: &Path, stderr_log: &Path) -> io::Result<Session> {
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| io::Error::other("empty QEMU command"))?;
        // The kernel kills the guest if collect dies even by SIGKILL, which
        // no handler sees (setpriv from util-linux sets PR_SET_PDEATHSIG and
        // execs QEMU in the same process).
        let mut cmd = if crate::tools::present("setpriv") {
            let mut c = Command::new("setpriv");
            c.args(["--pdeathsig", "KILL", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(stderr_log)?);
        let started = Instant::now();
        let mut child = Owned::spawn(&mut cmd)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot start {program}: {e}")))?;
        let stdout = child
            .take_stdout()
            .ok_or_else(|| io::Error::other("QEMU has no stdout pipe"))?;
        let console = Console::watch(stdout, File::create(console_log)?);
        Ok(Session {
            child,
            console,
            started,
        })
    }

    /// The next console event, or `None` once `deadline` passed.
    pub fn next(&self, deadline: Instant) -> Option<(Instant, Event)> {
        self.console.next(deadline)
    }

    /// Gives QEMU `grace` to exit on its own, then kills it; reaps it and
    /// waits for the console log to be complete.
    pub fn stop(mut self, grace: Duration) -> io::Result<Ended> {
        let status = self.child.wait_until(Instant::now() + grace)?;
        self.console.join();
        Ok(match status {
            Some(s) => Ended::Exited(s),
            None => Ended::Killed,
        })
    }

    /// QEMU's process id (its process group).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}
