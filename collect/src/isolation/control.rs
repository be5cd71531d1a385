//! The phase control channel between collect and each isolation guest.
//!
//! Inside the guest, `collect guest-phase` (started by the guest agent as
//! the run's measured command, after nginx is up) listens on
//! [`CONTROL_PORT`] and waits for the host. The host connects once the
//! guest answers HTTP, sends `go` when every guest is ready (the guest then
//! starts its stressor, if it has one, and answers `started`), and sends
//! `stop` when the phase's load ended (the guest kills the stressor's
//! process group and answers `stopped`). Every wait on either side has a
//! deadline: a guest nobody contacts, or whose host goes away, ends on its
//! own, and a host never waits on a guest longer than the phase allows.
//!
//! The guest prints one JSON line ([`PhaseSummary`]) to its stdout, which
//! lands in the run's `stdout.log`: whether the stressor ran, how long, and
//! how it ended (a stressor that dies early is recorded, not hidden).

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::process::Owned;

/// TCP port of the control channel in every guest.
pub const CONTROL_PORT: u16 = 7070;

/// Polling step of the non-blocking accept and connect loops.
const STEP: Duration = Duration::from_millis(100);

/// What the guest reports about its phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseSummary {
    /// The stressor's command line; empty for a normal guest.
    pub stressor: Vec<String>,
    /// Whether `go` arrived.
    pub went: bool,
    /// Whether `stop` arrived (false: the host went away or the phase
    /// deadline passed first).
    pub stopped: bool,
    /// Seconds from `go` to the end of the stressor.
    pub stressor_s: Option<f64>,
    /// How the stressor ended: `running until stop`, or its exit status
    /// when it ended by itself before `stop`.
    pub stressor_end: Option<String>,
}

/// Guest side: waits up to `wait` for the host, runs `stressor` (may be
/// empty) between `go` and `stop`, at most `phase` long, and returns the
/// summary it also prints.
pub fn serve(wait: Duration, phase: Duration, stressor: &[String]) -> io::Result<PhaseSummary> {
    let listener = TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], CONTROL_PORT)))?;
    listener.set_nonblocking(true)?;
    let mut summary = PhaseSummary {
        stressor: stressor.to_vec(),
        went: false,
        stopped: false,
        stressor_s: None,
        stressor_end: None,
    };
    let deadline = Instant::now() + wait;
    let stream = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(STEP)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no host connected within {} s", wait.as_secs()),
                ))
            }
            Err(e) => return Err(e),
        }
    };
    stream.set_nonblocking(false)?;
    let mut writer = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    stream_timeout(&lines, wait)?;
    if read_word(&mut lines)?.as_deref() != Some("go") {
        return Ok(summary);
    }
    summary.went = true;
    let started = Instant::now();
    let mut child = match stressor.split_first() {
        Some((program, args)) => Some(Owned::spawn(Command::new(program).args(args))?),
        None => None,
    };
    writeln!(writer, "started")?;
    stream_timeout(&lines, phase)?;
    // `stop`, or EOF / timeout: the phase is over either way.
    summary.stopped = matches!(read_word(&mut lines), Ok(Some(w)) if w == "stop");
    if let Some(child) = child.as_mut() {
        summary.stressor_end = Some(match child.wait_until(Instant::now())? {
            Some(status) => format!("ended by itself: {status}"),
            None => "running until stop".into(),
        });
        child.kill();
        let _ = child.wait_until(Instant::now() + Duration::from_secs(10));
        summary.stressor_s = Some(started.elapsed().as_secs_f64());
    }
    let _ = writeln!(writer, "stopped");
    Ok(summary)
}

fn stream_timeout(lines: &BufReader<TcpStream>, t: Duration) -> io::Result<()> {
    lines.get_ref().set_read_timeout(Some(t.max(STEP)))
}

/// Reads one line; `None` at EOF.
fn read_word(lines: &mut BufReader<TcpStream>) -> io::Result<Option<String>> {
    let mut line = String::new();
    if lines.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    Ok(Some(line.trim().to_owned()))
}

/// Host side of one guest's channel.
#[derive(Debug)]
pub struct Control {
    lines: BufReader<TcpStream>,
}

impl Control {
    /// Connects to `addr`, retrying until `deadline` (the guest may still
    /// be starting nginx or its phase command).
    pub fn connect(addr: SocketAddr, deadline: Instant) -> io::Result<Control> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match TcpStream::connect_timeout(&addr, left.clamp(STEP, Duration::from_secs(2))) {
                Ok(s) => {
                    s.set_nodelay(true)?;
                    return Ok(Control {
                        lines: BufReader::new(s),
                    });
                }
                Err(e) if Instant::now() + STEP >= deadline => return Err(e),
                Err(_) => std::thread::sleep(STEP),
            }
        }
    }

    /// Sends `go` and waits up to `wait` for `started`.
    pub fn go(&mut self, wait: Duration) -> io::Result<()> {
        self.say("go", "started", wait)
    }

    /// Sends `stop` and waits up to `wait` for `stopped`.
    pub fn stop(&mut self, wait: Duration) -> io::Result<()> {
        self.say("stop", "stopped", wait)
    }

    fn say(&mut self, word: &str, answer: &str, wait: Duration) -> io::Result<()> {
        writeln!(self.lines.get_mut(), "{word}")?;
        stream_timeout(&self.lines, wait)?;
        match read_word(&mut self.lines)? {
            Some(w) if w == answer => Ok(()),
            other => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the guest answered {other:?} to {word}, not {answer}"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both sides over loopback: `go` starts the stressor, `stop` ends it
    /// while it still runs, and the summary says so.
    #[test]
    fn go_then_stop_runs_the_stressor_between_them() {
        let guest = std::thread::spawn(|| {
            serve(
                Duration::from_secs(20),
                Duration::from_secs(20),
                &["sleep".into(), "30".into()],
            )
        });
        let addr = SocketAddr::from(([127, 0, 0, 1], CONTROL_PORT));
        let mut c =
            Control::connect(addr, Instant::now() + Duration::from_secs(20)).expect("connect");
        c.go(Duration::from_secs(10)).expect("go");
        c.stop(Duration::from_secs(20)).expect("stop");
        let s = guest.join().expect("thread").expect("serve");
        assert!(s.went && s.stopped, "{s:?}");
        assert_eq!(s.stressor_end.as_deref(), Some("running until stop"));
        assert!(s.stressor_s.expect("ran") < 25.0);
    }
}
