//! Where a run really ran, as its raw files tell: the platform, the
//! accelerator and whether it was emulated come from what each platform
//! leaves, never from a run's own claims.
//!
//! - kvm (`collect/src/platform/kvm/`): each run's `boot.json` holds the
//!   guest's QEMU command line, which collect also records as
//!   `config/kvm/<guest>.cmdline`; its `-accel` (`kvm` or `tcg`) is the
//!   accelerator, and `tcg` is software emulation.
//! - xen (`collect/src/platform/xen/`): `boot.json` holds the domU's
//!   xl.cfg, which is also the run's `xl.cfg` and `config/xen/<guest>.cfg`;
//!   its `type` gives the accelerator (`xen-pv`, `xen-pvh`). The Xen host
//!   leaves `config/xen/xl-info.txt` and `config/xen/dom0-cmdline.txt`;
//!   `benchvm.lab=` on the latter marks a Xen host that itself ran under
//!   emulation (`collect lab xen`).
//! - native: no guest: no `boot.json`, console or xl.cfg.
//!
//! A guest run that ended ok also left the agent's markers on its console:
//! the ready marker, and the begin marker of its place in the guest's job.

use anyhow::{bail, Context, Result};
use benchvm_format::env::EnvSummary;
use collect::guest::console::{self, Event};
use serde::Deserialize;

use super::Files;

/// `benchvm.lab=` on dom0's kernel command line.
const LAB_FLAG: &str = benchvm_core::registry::XEN_LAB_FLAG;
const XL_INFO: &str = "config/xen/xl-info.txt";
const DOM0_CMDLINE: &str = "config/xen/dom0-cmdline.txt";

/// The part of a guest run's `boot.json` that speaks to where it ran
/// (written by the kvm and xen platforms: their `BootRecord`).
#[derive(Debug, Clone, Deserialize)]
pub struct BootFile {
    /// `guest-NNN`: names its generated config.
    pub guest: String,
    pub accel: String,
    /// The run folders the guest was given, and this run's place.
    pub runs: Vec<String>,
    pub position: usize,
    /// kvm: the QEMU command line.
    #[serde(default)]
    pub command_line: Option<String>,
    /// xen: the xl.cfg text.
    #[serde(default)]
    pub config: Option<String>,
}

/// Where one run (or one guest of a multi-guest run) ran.
#[derive(Debug, Clone)]
pub struct Host {
    pub platform: &'static str,
    pub accel: String,
    pub emulated: bool,
    /// The guest's `boot.json`; `None` on the host itself.
    pub boot: Option<BootFile>,
    /// The raw file that says so, and what it says.
    pub evidence: String,
}

/// What the raw files of `folder` say about where it ran.
pub fn of(files: &Files<'_>, folder: &str) -> Result<Host> {
    let boot_path = format!("{folder}/boot.json");
    let Some(boot) = files.json::<BootFile>(&boot_path)? else {
        for guest_file in ["console.log", "xl.cfg", "qemu.log"] {
            let path = format!("{folder}/{guest_file}");
            if files.has(&path) {
                bail!("{path}: a guest's file, but the run has no boot.json to say which guest");
            }
        }
        return Ok(Host {
            platform: "native",
            accel: "none".into(),
            emulated: false,
            boot: None,
            evidence: format!(
                "{folder} has no boot.json, console or xl.cfg: it ran on the host itself"
            ),
        });
    };
    if boot.runs.get(boot.position).map(String::as_str) != Some(folder) {
        bail!(
            "{boot_path}: its guest was given {}, not {folder}",
            boot.runs
                .get(boot.position)
                .map_or("no run at its position", String::as_str)
        );
    }
    let host = match (&boot.command_line, &boot.config) {
        (Some(line), None) => qemu(files, &boot_path, &boot, line)?,
        (None, Some(cfg)) => xen(files, folder, &boot_path, &boot, cfg)?,
        _ => bail!("{boot_path}: holds neither a QEMU command line nor an xl.cfg, or both"),
    };
    Ok(Host {
        boot: Some(boot),
        ..host
    })
}

fn qemu(files: &Files<'_>, boot_path: &str, boot: &BootFile, line: &str) -> Result<Host> {
    let words = shell_words(line);
    if !words.first().is_some_and(|w| w.starts_with("qemu-system-")) {
        bail!("{boot_path}: its command line does not run QEMU");
    }
    let accels: Vec<&String> = words
        .windows(2)
        .filter(|w| w[0] == "-accel")
        .map(|w| &w[1])
        .collect();
    let [accel] = accels[..] else {
        bail!(
            "{boot_path}: its QEMU command line has {} -accel options, not one",
            accels.len()
        );
    };
    if !matches!(accel.as_str(), "kvm" | "tcg") {
        bail!("{boot_path}: its QEMU command line runs -accel {accel}, neither kvm nor tcg");
    }
    if boot.accel != *accel {
        bail!(
            "{boot_path}: says accel {}, but its QEMU command line runs -accel {accel}",
            boot.accel
        );
    }
    let recorded = format!("config/kvm/{}.cmdline", boot.guest);
    if files.text(&recorded).as_deref() != Some(&format!("{line}\n")) {
        bail!("{boot_path}: its QEMU command line is not the one collect recorded in {recorded}");
    }
    let emulated = accel == "tcg";
    Ok(Host {
        platform: "kvm",
        accel: accel.clone(),
        emulated,
        boot: None,
        evidence: format!(
            "{boot_path} runs QEMU with -accel {accel}{}",
            if emulated {
                " (software emulation)"
            } else {
                ""
            }
        ),
    })
}

fn xen(
    files: &Files<'_>,
    folder: &str,
    boot_path: &str,
    boot: &BootFile,
    cfg: &str,
) -> Result<Host> {
    let kind =
        xl_value(cfg, "type").with_context(|| format!("{boot_path}: its xl.cfg has no `type`"))?;
    if !matches!(kind.as_str(), "pv" | "pvh") {
        bail!("{boot_path}: its xl.cfg has type {kind:?}, neither pv nor pvh");
    }
    let accel = format!("xen-{kind}");
    if boot.accel != accel {
        bail!(
            "{boot_path}: says accel {}, but its xl.cfg has type {kind:?} ({accel})",
            boot.accel
        );
    }
    for copy in [
        format!("{folder}/xl.cfg"),
        format!("config/xen/{}.cfg", boot.guest),
    ] {
        if files.text(&copy).as_deref() != Some(cfg) {
            bail!("{boot_path}: its xl.cfg is not the one in {copy}");
        }
    }
    if !files
        .text(XL_INFO)
        .is_some_and(|t| t.contains("xen_version"))
    {
        bail!("{boot_path}: a Xen domU, but the bundle has no `xl info` of its host ({XL_INFO})");
    }
    let dom0 = files.text(DOM0_CMDLINE).with_context(|| {
        format!("{boot_path}: a Xen domU, but the bundle has no {DOM0_CMDLINE} of its dom0")
    })?;
    let lab = dom0
        .split_whitespace()
        .find_map(|w| w.strip_prefix(LAB_FLAG)?.strip_prefix('='));
    let domu = kind.to_uppercase();
    let evidence = match lab {
        Some(lab) => format!(
            "{boot_path} is a {domu} domU ({accel}), and {DOM0_CMDLINE} has {LAB_FLAG}={lab}: the Xen host itself ran under emulation"
        ),
        None => format!(
            "{boot_path} is a {domu} domU ({accel}) on a Xen host whose {DOM0_CMDLINE} has no {LAB_FLAG}= (not emulated)"
        ),
    };
    Ok(Host {
        platform: "xen",
        accel,
        emulated: lab.is_some(),
        boot: None,
        evidence,
    })
}

/// The value of `key = "..."` in an xl.cfg.
fn xl_value(cfg: &str, key: &str) -> Option<String> {
    cfg.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// Splits a command line as `collect::guest::qemu::shell_quote` joined it.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if !quoted => {
                word.extend(chars.next());
                in_word = true;
            }
            '\'' => {
                quoted = !quoted;
                in_word = true;
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// Checks the platform facts of `env/summary.json` against a run's host.
pub fn check_facts(summary: &EnvSummary, host: &Host) -> Result<()> {
    let Some(facts) = summary.platforms.get(host.platform) else {
        bail!(
            "env/summary.json has no facts of platform {}, which {}",
            host.platform,
            host.evidence
        );
    };
    if let Some(accel) = facts.get("accel").filter(|a| **a != host.accel) {
        bail!(
            "env/summary.json says {} ran with accel {accel}, but {}",
            host.platform,
            host.evidence
        );
    }
    if host.platform == "xen" {
        let lab = facts.get("lab").map_or("none", String::as_str);
        if (lab != "none") != host.emulated {
            bail!(
                "env/summary.json says the Xen host's lab is {lab:?}, but {}",
                host.evidence
            );
        }
    }
    Ok(())
}

/// Checks that a guest that ran `folder` to its end says so on its
/// console: the agent's ready marker, and the start of its run.
pub fn check_console(files: &Files<'_>, folder: &str, host: &Host) -> Result<()> {
    let Some(boot) = &host.boot else {
        return Ok(());
    };
    let path = format!("{folder}/console.log");
    let text = files.text(&path).with_context(|| {
        format!(
            "{folder}: a guest ran it ({}), but it has no console.log",
            host.evidence
        )
    })?;
    let events: Vec<Event> = text.lines().filter_map(console::parse_line).collect();
    if !events.iter().any(|e| matches!(e, Event::Ready { .. })) {
        bail!("{path}: the guest's agent never said it was ready, yet the run ended ok");
    }
    // The agent says BEGIN before a run and writes its record after it;
    // END may be lost to a crash right after the record, BEGIN may not.
    if !events.contains(&Event::Begin(boot.position)) {
        bail!(
            "{path}: the guest never began run {} (its place in the guest's job), yet the run ended ok",
            boot.position
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use collect::platform::kvm::qemu::{Accel, QemuCommand};

    #[test]
    fn the_command_line_splits_back_into_its_argv() {
        let cmd = QemuCommand::new(
            Accel::Tcg,
            std::path::Path::new("/k/vm linuz"),
            std::path::Path::new("/i"),
        )
        .kernel_arg("benchvm.job", "/r/it's.json");
        assert_eq!(shell_words(&cmd.line()), cmd.argv());
    }

    #[test]
    fn xl_values_are_read_from_the_generated_config() {
        let cfg = collect::platform::xen::config::XlConfig::new(
            "d",
            collect::platform::xen::config::XenGuestType::Pvh,
            "/k".into(),
            "/i".into(),
        )
        .render();
        assert_eq!(xl_value(&cfg, "type").as_deref(), Some("pvh"));
        assert_eq!(xl_value(&cfg, "name").as_deref(), Some("d"));
    }
}
