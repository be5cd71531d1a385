//! A private network namespace for a run's guests: a bridge `br0` with
//! address 10.77.0.1/24 and `n` tap devices `tap0..` enslaved to it, all of
//! it existing only inside the namespace.
//!
//! Nothing connects the namespace to the host's network (no veth, no
//! default route), so traffic to 10.77.0.0/24 can never leave it;
//! [`Netns::create`] checks that no default route exists before it
//! returns. Deleting the namespace removes the bridge and taps with it: that
//! happens on drop and, through [`crate::process::register_cleanup`], on
//! Ctrl-C. Guests (QEMU with `-netdev tap,ifname=tapN,script=no`) and the
//! load client run inside it through [`Netns::command`]. See
//! /work/shared/recipes/guest-network.md.

use std::ffi::OsStr;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;

use crate::process;

/// The bridge inside the namespace.
pub const BRIDGE: &str = "br0";
/// The bridge's address (the host side of the private network).
pub const BRIDGE_ADDR: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
/// Prefix length of 10.77.0.0/24.
pub const PREFIX_LEN: u8 = 24;
/// Most taps: guest addresses run from 10.77.0.2 to 10.77.0.254.
pub const MAX_TAPS: usize = 253;

static NEXT: AtomicU32 = AtomicU32::new(0);
static SWEEP: Once = Once::new();

/// Where `ip netns` keeps its named namespaces.
const NETNS_DIR: &str = "/run/netns";

/// Why a namespace could not be made.
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    #[error("namespace name {0:?} must be 1-64 ASCII letters, digits, - or _")]
    Name(String),
    #[error("{0} tap devices asked for; at most {MAX_TAPS}")]
    TooManyTaps(usize),
    #[error("cannot run ip: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("`ip {args}` failed: {stderr}")]
    Ip { args: String, stderr: String },
    #[error("namespace {0} has a default route; traffic could leave it")]
    RouteOut(String),
}

/// A network namespace that is deleted on drop.
#[derive(Debug)]
pub struct Netns {
    name: String,
    taps: Vec<String>,
    cleanup: u64,
}

impl Netns {
    /// A name unique to this process: `PREFIX-PID-N`.
    pub fn unique_name(prefix: &str) -> String {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}-{}-{n}", std::process::id())
    }

    /// Creates namespace `name` with `lo` up, the bridge with
    /// [`BRIDGE_ADDR`], and `n_taps` taps on it, all up. Fails with
    /// [`NetnsError::Ip`] when `ip netns add` is not permitted; whatever was
    /// made before an error is deleted again.
    pub fn create(name: &str, n_taps: usize) -> Result<Netns, NetnsError> {
        let name_ok = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !name_ok {
            return Err(NetnsError::Name(name.into()));
        }
        if n_taps > MAX_TAPS {
            return Err(NetnsError::TooManyTaps(n_taps));
        }
        SWEEP.call_once(|| {
            sweep_stale(Path::new(NETNS_DIR), |pid| {
                Path::new("/proc").join(pid.to_string()).exists()
            });
        });
        ip(&["netns", "add", name])?;
        let owned = name.to_string();
        let cleanup = process::register_cleanup(Box::new(move || {
            let _ = ip(&["netns", "del", &owned]);
        }));
        // From here on, drop deletes the namespace.
        let mut ns = Netns {
            name: name.into(),
            taps: Vec::new(),
            cleanup,
        };
        ns.ip_in(&["link", "set", "lo", "up"])?;
        ns.ip_in(&["link", "add", BRIDGE, "type", "bridge"])?;
        for i in 0..n_taps {
            let tap = format!("tap{i}");
            ns.ip_in(&["tuntap", "add", "dev", &tap, "mode", "tap"])?;
            ns.ip_in(&["link", "set", &tap, "master", BRIDGE])?;
            ns.ip_in(&["link", "set", &tap, "up"])?;
            ns.taps.push(tap);
        }
        let addr = format!("{BRIDGE_ADDR}/{PREFIX_LEN}");
        ns.ip_in(&["addr", "add", &addr, "dev", BRIDGE])?;
        ns.ip_in(&["link", "set", BRIDGE, "up"])?;
        if !ns.ip_in(&["route", "show", "default"])?.trim().is_empty() {
            return Err(NetnsError::RouteOut(ns.name.clone()));
        }
        Ok(ns)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Tap device names, `tap0..`, for QEMU's `-netdev tap,ifname=`.
    pub fn taps(&self) -> &[String] {
        &self.taps
    }

    /// Address guest `i` (0-based, on tap `i`) gives its NIC: 10.77.0.(2+i).
    pub fn guest_addr(i: usize) -> Option<Ipv4Addr> {
        let host = u8::try_from(i.checked_add(2)?).ok().filter(|h| *h < 255)?;
        Some(Ipv4Addr::new(10, 77, 0, host))
    }

    /// `ip netns exec NAME program`: add arguments, then spawn it (e.g. with
    /// [`crate::process::Owned::spawn`]).
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).arg(program);
        cmd
    }

    /// Runs `ip -n NAME args...` and returns its stdout.
    pub fn ip_in(&self, args: &[&str]) -> Result<String, NetnsError> {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        ip(&all)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Err(e) = ip(&["netns", "del", &self.name]) {
            log::warn!("cannot delete network namespace {}: {e}", self.name);
        }
        process::unregister_cleanup(self.cleanup);
    }
}

/// The collector process that made namespace `name`, when the name has
/// the form of [`Netns::unique_name`] with a `benchvm` prefix.
fn owner_pid(name: &str) -> Option<u32> {
    let mut parts = name.rsplitn(3, '-');
    let _n: u32 = parts.next()?.parse().ok()?;
    let pid: u32 = parts.next()?.parse().ok()?;
    parts.next().filter(|p| p.starts_with("benchvm"))?;
    Some(pid)
}

/// Deletes the namespaces under `dir` (with their bridge and taps, and any
/// Xen vif moved into them) that a collector left behind when it was killed
/// before it could clean up: those named by [`Netns::unique_name`] whose
/// process `alive` says is gone. Each one is logged by name. Returns the
/// names deleted.
pub fn sweep_stale(dir: &Path, alive: impl Fn(u32) -> bool) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let own = std::process::id();
    let mut swept = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = owner_pid(&name) else {
            continue;
        };
        if pid == own || alive(pid) {
            continue;
        }
        match ip(&["netns", "del", &name]) {
            Ok(_) => {
                log::warn!(
                    "deleted network namespace {name}: its collector (pid {pid}) is no longer running"
                );
                swept.push(name);
            }
            Err(e) => log::warn!("cannot delete stale network namespace {name}: {e}"),
        }
    }
    swept
}

/// Runs `ip args...` and returns its stdout.
fn ip(args: &[&str]) -> Result<String, NetnsError> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(NetnsError::Spawn)?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(NetnsError::Ip {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn guest_addresses_stay_in_the_subnet() {
        assert_eq!(Netns::guest_addr(0), Some(Ipv4Addr::new(10, 77, 0, 2)));
        assert_eq!(
            Netns::guest_addr(MAX_TAPS - 1),
            Some(Ipv4Addr::new(10, 77, 0, 254))
        );
        assert_eq!(Netns::guest_addr(MAX_TAPS), None);
        assert_eq!(Netns::guest_addr(usize::MAX), None);
    }

    #[test]
    fn only_collector_names_have_an_owner() {
        assert_eq!(owner_pid("benchvm-4242-0"), Some(4242));
        assert_eq!(owner_pid("benchvm-test-4242-17"), Some(4242));
        assert_eq!(owner_pid("benchvm-4242"), None);
        assert_eq!(owner_pid("other-4242-0"), None);
        assert_eq!(owner_pid("benchvm-x-0"), None);
        assert_eq!(owner_pid("blue"), None);
    }

    #[test]
    fn bad_names_and_counts_are_refused_before_ip_runs() {
        assert!(matches!(Netns::create("a b", 1), Err(NetnsError::Name(_))));
        assert!(matches!(Netns::create("", 1), Err(NetnsError::Name(_))));
        assert!(matches!(
            Netns::create("ok", MAX_TAPS + 1),
            Err(NetnsError::TooManyTaps(_))
        ));
    }
}
