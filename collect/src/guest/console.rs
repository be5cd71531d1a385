//! The guest console as the host reads it: every byte goes to
//! `console.log`; lines carrying the agent's and init's markers, and kernel
//! panics, become events.
//!
//! Markers (each on a line of its own, printed by `guest::agent` or the
//! init):
//! - `BENCHVM-READY <uptime s> [<boot id>]`: the agent started; the guest's
//!   uptime then and its boot id (`/proc/sys/kernel/random/boot_id`; hosts
//!   read the uptime alone from older agents);
//! - `BENCHVM-BEGIN <i>` / `BENCHVM-END <i> <status>`: run `i` of the job;
//! - `BENCHVM-DONE`: every run's record is written;
//! - `BENCHVM-INIT-FAILED <reason>`: the init gave up and powers off.

use std::fs::File;
use std::io::{Read, Write};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Instant;

pub const READY: &str = "BENCHVM-READY";
pub const BEGIN: &str = "BENCHVM-BEGIN";
pub const END: &str = "BENCHVM-END";
pub const DONE: &str = "BENCHVM-DONE";
pub const INIT_FAILED: &str = "BENCHVM-INIT-FAILED";

/// Console lines that mean the guest kernel died.
const PANICS: &[&str] = &["Kernel panic", "kernel BUG at"];
/// Console lines that mean the guest kernel restarts the machine:
/// `reboot(2)` (`reboot -f`) and sysrq `b` (an immediate reset).
const REBOOTS: &[&str] = &["reboot: Restarting system", "sysrq: Resetting"];

/// Something the console said.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Ready {
        uptime_s: f64,
        boot_id: Option<String>,
    },
    Begin(usize),
    End(usize),
    Done,
    InitFailed(String),
    Panic(String),
    /// The guest kernel restarts the machine (the line saying so).
    Reboot(String),
    /// The console closed: QEMU exited or was killed.
    Closed,
}

/// The event a console line carries, if any.
pub fn parse_line(line: &str) -> Option<Event> {
    let line = line.trim_end_matches(['\r', '\n']);
    if let Some(p) = PANICS.iter().find_map(|p| line.find(p)) {
        return Some(Event::Panic(line[p..].trim().to_owned()));
    }
    if let Some(p) = REBOOTS.iter().find_map(|p| line.find(p)) {
        return Some(Event::Reboot(line[p..].trim().to_owned()));
    }
    let at = line.find("BENCHVM-")?;
    let mut words = line[at..].split_whitespace();
    let marker = words.next()?;
    let arg = words.next();
    match marker {
        READY => Some(Event::Ready {
            uptime_s: arg.and_then(|a| a.parse().ok()).unwrap_or(f64::NAN),
            boot_id: words.next().map(str::to_owned),
        }),
        BEGIN => arg.and_then(|a| a.parse().ok()).map(Event::Begin),
        END => arg.and_then(|a| a.parse().ok()).map(Event::End),
        DONE => Some(Event::Done),
        m if m.starts_with(INIT_FAILED) => Some(Event::InitFailed(
            line[at + INIT_FAILED.len()..]
                .trim_start_matches(':')
                .trim()
                .to_owned(),
        )),
        _ => None,
    }
}

/// A console being read by a thread.
#[derive(Debug)]
pub struct Console {
    events: Receiver<(Instant, Event)>,
    reader: Option<JoinHandle<()>>,
}

impl Console {
    /// Starts copying `input` into `log`, turning lines into events.
    pub fn watch(mut input: impl Read + Send + 'static, mut log: File) -> Console {
        let (tx, events) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            let mut line = Vec::new();
            loop {
                let n = match input.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let now = Instant::now();
                let _ = log.write_all(&buf[..n]);
                for b in &buf[..n] {
                    if *b == b'\n' {
                        if let Some(ev) = parse_line(&String::from_utf8_lossy(&line)) {
                            let _ = tx.send((now, ev));
                        }
                        line.clear();
                    } else if line.len() < 4096 {
                        line.push(*b);
                    }
                }
            }
            if let Some(ev) = parse_line(&String::from_utf8_lossy(&line)) {
                let _ = tx.send((Instant::now(), ev));
            }
            let _ = log.flush();
            let _ = tx.send((Instant::now(), Event::Closed));
        });
        Console {
            events,
            reader: Some(reader),
        }
    }

    /// The next event, or `None` once `deadline` passed without one.
    pub fn next(&self, deadline: Instant) -> Option<(Instant, Event)> {
        let timeout = deadline.saturating_duration_since(Instant::now());
        match self.events.recv_timeout(timeout) {
            Ok(ev) => Some(ev),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => Some((Instant::now(), Event::Closed)),
        }
    }

    /// Waits for the reader to finish (the console closed) and flush the log.
    pub fn join(mut self) {
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn markers_and_panics_are_recognised() {
        assert_eq!(
            parse_line("BENCHVM-READY 2.53\r"),
            Some(Event::Ready {
                uptime_s: 2.53,
                boot_id: None
            })
        );
        assert_eq!(
            parse_line("BENCHVM-READY 2.5 0e6c-b1\r"),
            Some(Event::Ready {
                uptime_s: 2.5,
                boot_id: Some("0e6c-b1".into())
            })
        );
        assert_eq!(
            parse_line("[    3.084421] sysrq: Resetting"),
            Some(Event::Reboot("sysrq: Resetting".into()))
        );
        assert_eq!(
            parse_line("[   12.5] reboot: Restarting system"),
            Some(Event::Reboot("reboot: Restarting system".into()))
        );
        assert_eq!(parse_line("[   63.0] reboot: Power down"), None);
        assert_eq!(parse_line("BENCHVM-BEGIN 3"), Some(Event::Begin(3)));
        assert_eq!(
            parse_line("[  4.1] x BENCHVM-END 3 ok"),
            Some(Event::End(3))
        );
        assert_eq!(parse_line("BENCHVM-DONE"), Some(Event::Done));
        assert_eq!(
            parse_line("BENCHVM-INIT-FAILED: no scratch disk"),
            Some(Event::InitFailed("no scratch disk".into()))
        );
        assert_eq!(
            parse_line("[   9.9] Kernel panic - not syncing: sysrq triggered crash"),
            Some(Event::Panic(
                "Kernel panic - not syncing: sysrq triggered crash".into()
            ))
        );
        assert_eq!(parse_line("benchvm-init: insmod x failed"), None);
        assert_eq!(parse_line("BENCHVM-BEGIN x"), None);
    }

    #[test]
    fn watch_copies_and_reports() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log_path = dir.path().join("console.log");
        let log = File::create(&log_path).expect("log");
        let input: &'static [u8] = b"boot\nBENCHVM-READY 1.5\nBENCHVM-DONE";
        let console = Console::watch(input, log);
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut events = Vec::new();
        while let Some((_, ev)) = console.next(deadline) {
            let closed = ev == Event::Closed;
            events.push(ev);
            if closed {
                break;
            }
        }
        console.join();
        assert_eq!(
            events,
            [
                Event::Ready {
                    uptime_s: 1.5,
                    boot_id: None
                },
                Event::Done,
                Event::Closed
            ]
        );
        assert_eq!(
            std::fs::read(&log_path).expect("read"),
            b"boot\nBENCHVM-READY 1.5\nBENCHVM-DONE"
        );
    }
}
