//! `collect guest-phase`: an isolation guest's measured command. With
//! `--serve` it first brings its NIC up with the address the host gave on
//! the kernel command line (`benchvm.ip=ADDR/LEN`), writes the file set to
//! its tmpfs and starts nginx; then it answers the host's control channel
//! ([`super::control::serve`]), running the stressor between `go` and
//! `stop`. nginx lives exactly as long as this command.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::control::{self, PhaseSummary};
use super::fileset::FileSetSpec;
use super::nginx::NginxConfig;
use crate::process::Owned;

/// Port nginx listens on in every guest.
pub const HTTP_PORT: u16 = 80;
/// Where the guest writes the file set (its root is a tmpfs overlay).
const WWW: &str = "/tmp/benchvm-www";
/// nginx's state folder in the guest.
const NGINX_STATE: &str = "/tmp/benchvm-nginx";

/// Runs the phase command; prints and returns the summary.
pub fn run(
    serve: bool,
    wait: Duration,
    phase: Duration,
    stressor: &[String],
) -> Result<PhaseSummary> {
    let _nginx = if serve {
        let addr = std::fs::read_to_string("/proc/cmdline")
            .ok()
            .and_then(|c| cmdline_ip(&c))
            .context("no benchvm.ip=ADDR/LEN on the kernel command line")?;
        nic_up(&addr)?;
        Some(start_nginx()?)
    } else {
        None
    };
    let summary = control::serve(wait, phase, stressor).context("phase control")?;
    println!("{}", serde_json::to_string(&summary)?);
    Ok(summary)
}

/// The value of `benchvm.ip=` on a kernel command line.
pub fn cmdline_ip(cmdline: &str) -> Option<String> {
    cmdline
        .split_whitespace()
        .find_map(|w| w.strip_prefix("benchvm.ip="))
        .map(str::to_owned)
}

/// `lo` up, and the first other interface up with `addr`.
fn nic_up(addr: &str) -> Result<()> {
    let mut names: Vec<String> = std::fs::read_dir("/sys/class/net")
        .context("listing /sys/class/net")?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n != "lo")
        .collect();
    names.sort();
    let nic = names
        .first()
        .context("the guest has no network interface")?;
    for args in [
        vec!["link", "set", "lo", "up"],
        vec!["addr", "add", addr, "dev", nic],
        vec!["link", "set", nic, "up"],
    ] {
        let out = Command::new("ip")
            .args(&args)
            .output()
            .context("running ip")?;
        if !out.status.success() {
            bail!(
                "ip {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
    }
    println!("benchvm-phase: {nic} up with {addr}");
    Ok(())
}

/// Writes the file set and nginx's config, starts nginx in the foreground
/// as an owned child and waits until it accepts connections.
fn start_nginx() -> Result<Owned> {
    let www = PathBuf::from(WWW);
    let set = FileSetSpec::support_like()
        .write(&www)
        .with_context(|| format!("writing the file set to {WWW}"))?;
    let listen = SocketAddr::from(([0, 0, 0, 0], HTTP_PORT));
    let config = NginxConfig::new(listen, &www, Path::new(NGINX_STATE));
    config.write()?;
    let nginx = Owned::spawn(&mut config.command()).context("starting nginx")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let local = SocketAddr::from(([127, 0, 0, 1], HTTP_PORT));
    while TcpStream::connect_timeout(&local, Duration::from_secs(1)).is_err() {
        if Instant::now() > deadline {
            bail!(
                "nginx did not accept connections within 60 s: {}",
                std::fs::read_to_string(config.error_log_path()).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    println!(
        "benchvm-phase: nginx serves {} files ({} bytes) on port {HTTP_PORT}",
        set.files.len(),
        set.total_bytes()
    );
    Ok(nginx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_comes_from_the_kernel_command_line() {
        let c = "console=ttyS0 benchvm.job=/x benchvm.ip=10.77.0.3/24 quiet";
        assert_eq!(cmdline_ip(c).as_deref(), Some("10.77.0.3/24"));
        assert_eq!(cmdline_ip("console=ttyS0"), None);
    }
}
