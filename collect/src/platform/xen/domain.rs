//! A running domU, driven like a QEMU guest ([`GuestProcess`]): `xl create`
//! starts it, its console is followed through the log file xenconsoled
//! writes (`xenconsoled --log=guest`: `/var/log/xen/guest-NAME.log`), and
//! `xl destroy` ends it at a deadline, on drop and on Ctrl-C.
//!
//! `xl create -c` is not used: with its stdin on /dev/null and stdout piped
//! it never returned in the lab.

use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::guest::console::{Console, Event};
use crate::guest::session::{Ended, GuestProcess};
use crate::process;

use super::xl;

/// Where xenconsoled writes guest consoles (its `--log-dir`).
pub const CONSOLE_LOG_DIR: &str = "/var/log/xen";
/// How often a quiet console checks whether its domain is gone.
const GONE_CHECK: Duration = Duration::from_secs(2);
/// How often a quiet console polls its log file.
const POLL: Duration = Duration::from_millis(200);

/// Why a domain did not start.
#[derive(Debug, thiserror::Error)]
#[error("xl create {cfg}: {reason}")]
pub struct CreateError {
    pub cfg: String,
    pub reason: String,
}

/// A domU that collect created.
#[derive(Debug)]
pub struct Domain {
    name: String,
    /// Id of the Ctrl-C cleanup that destroys it.
    cleanup: u64,
    console: Option<Console>,
    started: Instant,
    stop: Arc<AtomicBool>,
    ended: bool,
}

impl Domain {
    /// Creates the domain of `cfg` (called `name` there), with `xl`'s
    /// messages in `xl_log`, and starts copying its console to
    /// `console_log`. `timeout` bounds `xl create` itself.
    pub fn create(
        cfg: &Path,
        name: &str,
        console_log: &Path,
        xl_log: &Path,
        timeout: Duration,
    ) -> Result<Domain, CreateError> {
        let fail = |reason: String| CreateError {
            cfg: cfg.display().to_string(),
            reason,
        };
        let source = Path::new(CONSOLE_LOG_DIR).join(format!("guest-{name}.log"));
        let _ = fs::remove_file(&source);
        let log = File::create(console_log)
            .map_err(|e| fail(format!("creating {}: {e}", console_log.display())))?;
        let started = Instant::now();
        // Ctrl-C destroys the domain too.
        let owned = name.to_owned();
        let cleanup = process::register_cleanup(Box::new(move || {
            let _ = xl::destroy(&owned);
        }));
        let mut domain = Domain {
            name: name.to_owned(),
            cleanup,
            console: None,
            started,
            stop: Arc::new(AtomicBool::new(false)),
            ended: false,
        };
        let cfg_arg = cfg.to_string_lossy();
        let out = xl::xl(&["create", &cfg_arg], timeout).map_err(|e| fail(e.to_string()))?;
        let _ = fs::write(xl_log, format!("{}{}", out.stdout, out.stderr));
        if !out.success() {
            // Drop destroys whatever xl left behind.
            return Err(fail(out.describe()));
        }
        let tail = LogTail {
            path: source,
            name: name.to_owned(),
            file: None,
            stop: Arc::clone(&domain.stop),
            last_check: Instant::now(),
            gone: false,
        };
        domain.console = Some(Console::watch(tail, log));
        Ok(domain)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn end(&mut self) {
        if !self.ended {
            self.ended = true;
            let _ = xl::destroy(&self.name);
            process::unregister_cleanup(self.cleanup);
        }
    }
}

impl GuestProcess for Domain {
    fn what(&self) -> &'static str {
        "xl"
    }

    fn started(&self) -> Instant {
        self.started
    }

    fn next(&self, deadline: Instant) -> Option<(Instant, Event)> {
        match &self.console {
            Some(c) => c.next(deadline),
            None => Some((Instant::now(), Event::Closed)),
        }
    }

    fn stop(mut self: Box<Self>, grace: Duration) -> io::Result<Ended> {
        let deadline = Instant::now() + grace;
        let mut gone = !xl::domain_exists(&self.name);
        while !gone && Instant::now() < deadline {
            std::thread::sleep(Duration::from_secs(1));
            gone = !xl::domain_exists(&self.name);
        }
        let ended = if gone {
            Ended::Exited(ExitStatus::from_raw(0))
        } else {
            Ended::Killed
        };
        self.end();
        self.stop.store(true, Ordering::SeqCst);
        if let Some(c) = self.console.take() {
            c.join();
        }
        Ok(ended)
    }
}

impl Drop for Domain {
    fn drop(&mut self) {
        self.end();
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Reads a console log file as it grows; ends once the domain is gone (or
/// the reader is told to stop) and the file has no more bytes.
#[derive(Debug)]
struct LogTail {
    path: PathBuf,
    name: String,
    file: Option<File>,
    stop: Arc<AtomicBool>,
    last_check: Instant,
    gone: bool,
}

impl Read for LogTail {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.file.is_none() {
                self.file = File::open(&self.path).ok();
            }
            if let Some(f) = &mut self.file {
                let n = f.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
            }
            // Nothing new: end once the domain is gone and drained.
            if self.gone || self.stop.load(Ordering::SeqCst) {
                return Ok(0);
            }
            if self.last_check.elapsed() >= GONE_CHECK {
                self.last_check = Instant::now();
                // Read once more after it is gone: its last words.
                self.gone = !xl::domain_exists(&self.name);
                continue;
            }
            std::thread::sleep(POLL);
        }
    }
}
