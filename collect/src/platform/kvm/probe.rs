//! Which accelerator kvm guests run under: KVM when asked for (or, with
//! `--accel auto`, when a probe guest boots under it within
//! [`KVM_PROBE`]), else TCG with a warning; then one guest boots under the
//! chosen accelerator to check the whole setup (kernel, initramfs, 9p root
//! and collect binary). Probe command lines and logs are recorded under
//! `config/kvm/`.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use super::qemu::Accel;
use super::settings::AccelSetting;
use super::Qemu;
use crate::guest::agent::Job;
use crate::guest::drive::{self, Report, Timeouts};
use crate::platform::engine::Base;

const BANNER: &str = "==================================================================";
/// How long a KVM probe guest may take to say it is ready.
const KVM_PROBE: Duration = Duration::from_secs(20);

/// Probes KVM when asked, then makes sure a guest boots with the
/// accelerator chosen (the probe guest runs the agent, so this checks
/// kernel, initramfs, 9p root and collect binary at once).
pub(super) fn choose_accel(q: &mut Qemu, base: &Base) -> Result<Accel> {
    let asked = q.settings.accel;
    if asked != AccelSetting::Tcg {
        let kvm = if Path::new("/dev/kvm").exists() {
            let r = probe(q, base, Accel::Kvm, KVM_PROBE)?;
            match &r.failure {
                None => Ok(r),
                Some(f) => Err(f.clone()),
            }
        } else {
            Err("/dev/kvm does not exist".to_owned())
        };
        match kvm {
            Ok(r) => {
                q.fact("kvm_probe", "ok: a KVM guest booted");
                record_check(q, &r);
                return Ok(Accel::Kvm);
            }
            Err(why) if asked == AccelSetting::Kvm => {
                bail!("--accel kvm: the KVM probe guest failed: {why}; use --accel tcg or auto")
            }
            Err(why) => {
                log::warn!(
                    "\n{BANNER}\nKVM DOES NOT WORK HERE: {why}\nkvm runs fall back to TCG \
                     (software emulation): their numbers are TCG numbers, marked \
                     accel=tcg and emulated=true in the bundle\n{BANNER}"
                );
                q.fact("kvm_probe", &format!("failed: {why}"));
            }
        }
    } else {
        q.fact("kvm_probe", "not run (--accel tcg)");
    }
    let boot = Timeouts::for_accel(Accel::Tcg).boot;
    let r = probe(q, base, Accel::Tcg, boot)?;
    if let Some(f) = &r.failure {
        bail!(
            "the check guest (TCG) did not boot: {f}; see {}",
            base.work().join("probe-tcg-console.log").display()
        );
    }
    record_check(q, &r);
    Ok(Accel::Tcg)
}

fn record_check(q: &mut Qemu, r: &Report) {
    if let Some(t) = r.boot_to_ready_s {
        q.fact("check_boot_to_ready_s", &format!("{t:.3}"));
        log::info!("guest boot to ready: {t:.1} s");
    }
    if let Some(u) = r.ready_uptime_s {
        q.fact("check_ready_uptime_s", &format!("{u:.3}"));
    }
}

/// Boots a probe guest that only says it is ready and powers off.
fn probe(q: &Qemu, base: &Base, accel: Accel, boot: Duration) -> Result<Report> {
    let name = format!("probe-{}", accel.name());
    log::info!(
        "booting a {} probe guest (deadline {} s)",
        accel.name(),
        boot.as_secs()
    );
    let cmd = q.command(accel).kernel_arg("benchvm.probe", "1");
    base.record(
        &format!("{name}.cmdline"),
        format!("{}\n", cmd.line()).as_bytes(),
    )?;
    let console = base.work().join(format!("{name}-console.log"));
    let qemu_log = base.work().join(format!("{name}-qemu.log"));
    let timeouts = Timeouts {
        boot,
        cleanup: Duration::ZERO,
        margin: Duration::from_secs(20),
    };
    let job = Job {
        runs: Vec::new(),
        cleanup_s: 0,
    };
    let start = Instant::now();
    let report = drive::run(&cmd.argv(), &job, timeouts, &console, &qemu_log, None)?;
    log::info!(
        "{name}: {} after {:.1} s",
        report.failure.as_deref().unwrap_or("ready"),
        start.elapsed().as_secs_f64()
    );
    for (src, dest) in [(&console, "console.log"), (&qemu_log, "qemu.log")] {
        let bytes = fs::read(src).unwrap_or_default();
        base.record(&format!("{name}-{dest}"), &bytes)?;
    }
    Ok(report)
}
