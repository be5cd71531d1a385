//! The `xl` commands collect runs in dom0, each under a deadline.

use std::io::{Read, Seek};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::process::{self, Finished};

/// The toolstack binary.
pub const XL: &str = "xl";

/// What a command printed and how it ended.
#[derive(Debug, Clone)]
pub struct Output {
    pub done: Finished,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.done.success()
    }

    /// `exit status 1: <last stderr line>`, for errors.
    pub fn describe(&self) -> String {
        match self.stderr.lines().rev().find(|l| !l.trim().is_empty()) {
            Some(l) => format!("{}: {}", self.done.describe(), l.trim()),
            None => self.done.describe(),
        }
    }
}

/// Runs `argv` with its output captured, killed after `timeout`.
pub fn capture(argv: &[String], timeout: Duration) -> std::io::Result<Output> {
    let out = tempfile::tempfile()?;
    let err = tempfile::tempfile()?;
    let mut out_r = out.try_clone()?;
    let mut err_r = err.try_clone()?;
    let done = process::run(argv, Path::new("/"), out, err, Instant::now() + timeout)?;
    let text = |f: &mut std::fs::File| {
        let mut s = Vec::new();
        let _ = f.rewind();
        let _ = f.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    };
    Ok(Output {
        done,
        stdout: text(&mut out_r),
        stderr: text(&mut err_r),
    })
}

/// `xl ARGS...`.
pub fn xl(args: &[&str], timeout: Duration) -> std::io::Result<Output> {
    let argv: Vec<String> = std::iter::once(XL)
        .chain(args.iter().copied())
        .map(str::to_owned)
        .collect();
    capture(&argv, timeout)
}

/// `xl info`, when it works (collect runs in a Xen dom0).
pub fn info() -> Result<String, String> {
    let out = xl(&["info"], Duration::from_secs(60)).map_err(|e| format!("xl info: {e}"))?;
    if out.success() {
        Ok(out.stdout)
    } else {
        Err(format!("xl info: {}", out.describe()))
    }
}

/// `xl dmesg` (Xen's console ring), or the error.
pub fn dmesg() -> String {
    match xl(&["dmesg"], Duration::from_secs(60)) {
        Ok(o) if o.success() => o.stdout,
        Ok(o) => format!("xl dmesg failed: {}\n", o.describe()),
        Err(e) => format!("xl dmesg: {e}\n"),
    }
}

/// The value of `key` in `xl info` output (`key : value`).
pub fn info_field<'a>(info: &'a str, key: &str) -> Option<&'a str> {
    info.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.trim())
    })
}

/// Whether a domain called `name` exists (`xl domid NAME` succeeds).
/// An `xl` that cannot run counts as "exists": only a clear answer ends a
/// guest.
pub fn domain_exists(name: &str) -> bool {
    match xl(&["domid", name], Duration::from_secs(30)) {
        Ok(o) => o.success() || o.done.timed_out,
        Err(_) => true,
    }
}

/// `xl destroy NAME`.
pub fn destroy(name: &str) -> std::io::Result<Output> {
    xl(&["destroy", name], Duration::from_secs(60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_fields_are_found() {
        let info = "host                   : (none)\nxen_version            : 4.17.7\n\
                    xen_commandline        : dom0_mem=1024M console=com1 noreboot\n";
        assert_eq!(info_field(info, "xen_version"), Some("4.17.7"));
        assert_eq!(
            info_field(info, "xen_commandline"),
            Some("dom0_mem=1024M console=com1 noreboot")
        );
        assert_eq!(info_field(info, "xen_caps"), None);
    }
}
