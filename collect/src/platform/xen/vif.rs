//! Guest networking of the xen platform: each domU of an isolation run gets
//! a vif whose backend lands on the bridge of the run's own network
//! namespace in dom0 ([`crate::isolation::netns::Netns`]), never on a
//! bridge of dom0's root namespace.
//!
//! xl's default hotplug script (vif-bridge) adds the backend vif to a
//! bridge in dom0's root namespace, so each vif names a hotplug script
//! collect writes for the run (`vif-hotplug.sh`, with the namespace,
//! bridge and log filled in): libxl takes an absolute `script=` path as it
//! is (`libxl__abs_path`), runs it with `online` when the vif appears, and
//! netback connects the guest once the script wrote `hotplug-status =
//! connected` under the vif's backend node.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::isolation::netns::Netns;
use crate::process::shell_quote;

/// The hotplug script's text, before its settings are filled in.
pub const HOTPLUG_SCRIPT: &str = include_str!("vif-hotplug.sh");
/// File name of the script in the run's work folder.
pub const SCRIPT_NAME: &str = "benchvm-vif";
/// File name of the script's log next to it.
pub const LOG_NAME: &str = "benchvm-vif.log";

/// Why the hotplug script could not be written.
#[derive(Debug, thiserror::Error)]
#[error("writing the vif hotplug script {}: {source}", path.display())]
pub struct ScriptError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// MAC of guest `i` (0-based) of a run: Xen's OUI, then 77:00:(i + 2),
/// the last byte matching its address 10.77.0.(i + 2).
pub fn mac(i: usize) -> Option<String> {
    let last = Netns::guest_addr(i)?.octets()[3];
    Some(format!("00:16:3e:77:00:{last:02x}"))
}

/// The script for namespace `netns` and its `bridge`, logging to `log`.
pub fn script_text(netns: &str, bridge: &str, log: &Path) -> String {
    HOTPLUG_SCRIPT
        .replacen("@NETNS@", &shell_quote(netns), 1)
        .replacen("@BRIDGE@", &shell_quote(bridge), 1)
        .replacen("@LOG@", &shell_quote(&log.to_string_lossy()), 1)
}

/// Writes the executable script into `dir` (absolute, dom0-local) and
/// returns its path; its log goes to [`LOG_NAME`] beside it.
pub fn write_script(dir: &Path, netns: &str, bridge: &str) -> Result<PathBuf, ScriptError> {
    let path = dir.join(SCRIPT_NAME);
    let fail = |source| ScriptError {
        path: path.clone(),
        source,
    };
    let text = script_text(netns, bridge, &dir.join(LOG_NAME));
    fs::write(&path, text).map_err(fail)?;
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).map_err(fail)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_follow_the_guest_addresses() {
        assert_eq!(mac(0).as_deref(), Some("00:16:3e:77:00:02"));
        assert_eq!(mac(13).as_deref(), Some("00:16:3e:77:00:0f"));
        assert_eq!(mac(253), None);
    }

    #[test]
    fn the_script_names_its_namespace_and_reports_to_xenstore() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write_script(dir.path(), "benchvm-7-0", "br0").expect("script");
        let text = fs::read_to_string(&path).expect("script text");
        assert!(text.starts_with("#!/bin/sh\n"), "{text}");
        assert!(
            text.contains("\nNETNS=benchvm-7-0\nBRIDGE=br0\nLOG="),
            "{text}"
        );
        assert!(!text.contains('@'), "{text}");
        assert!(text.contains("\"$XENBUS_PATH/hotplug-status\" connected"));
        let mode = fs::metadata(&path)
            .expect("script metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111, "executable");
    }

    /// The script itself, with `ip` and `xenstore-write` replaced by fakes
    /// that log their arguments: online moves, enslaves, sets up and
    /// reports connected; offline does nothing and succeeds.
    #[test]
    fn online_connects_the_vif_and_offline_does_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bin = dir.path().join("bin");
        fs::create_dir(&bin).expect("bin");
        let calls = dir.path().join("calls");
        for tool in ["ip", "xenstore-write"] {
            let fake = bin.join(tool);
            fs::write(
                &fake,
                format!("#!/bin/sh\necho {tool} \"$@\" >>{}\n", calls.display()),
            )
            .expect("fake");
            fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).expect("chmod fake");
        }
        let script = write_script(dir.path(), "ns1", "br0").expect("script");
        // The script sets its own PATH; the fakes go first through a copy
        // that prepends their folder.
        let text = fs::read_to_string(&script)
            .expect("script text")
            .replace("export PATH=", &format!("export PATH={}:", bin.display()));
        fs::write(&script, text).expect("script");
        let run = |action: &str| {
            std::process::Command::new(&script)
                .arg(action)
                .arg("type_if=vif")
                .env("vif", "vif3.0")
                .env("XENBUS_PATH", "backend/vif/3/0")
                .status()
                .expect("run the script")
        };
        assert!(run("online").success());
        assert!(run("offline").success());
        let calls = fs::read_to_string(&calls).expect("calls");
        assert_eq!(
            calls,
            "ip link set dev vif3.0 netns ns1\n\
             ip -n ns1 link set dev vif3.0 master br0\n\
             ip -n ns1 link set dev vif3.0 up\n\
             xenstore-write backend/vif/3/0/hotplug-status connected\n"
        );
        let log = fs::read_to_string(dir.path().join(LOG_NAME)).expect("log");
        assert!(log.contains("vif3.0 on br0 in ns1, connected"), "{log}");
        assert!(log.contains("offline vif=vif3.0"), "{log}");
    }
}
