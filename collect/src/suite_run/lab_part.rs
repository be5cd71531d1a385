//! The xen platform of a run whose host is no Xen dom0: the run goes on in
//! the Xen lab (`crate::lab::xen`), a real Xen 4.17 host booted under QEMU
//! TCG, where the same suite runs with `--platform xen` in dom0 and its
//! bundle comes back beside this run's. Its rows say that the Xen host was
//! emulated (fact `lab`, `emulated: true`).

use anyhow::Result;
use benchvm_core::registry::PlatformKind;

use super::settings::Settings;
use crate::lab::xen::{LabResult, LabSettings, REQUIREMENTS};
use crate::platform::xen::settings::XenHost;
use crate::progress::Progress;
use crate::suite::{Suite, SuiteRef};
use crate::workload::Asset;

/// dom0's memory in the lab (MiB): what the recipe measured to work.
const DOM0_MIB: u32 = 1024;
/// Xen's own share per domU (page tables, grant tables, the device
/// model's buffers) on top of the domU's memory, and a reserve for Xen.
const PER_DOMU_MIB: u32 = 64;
const XEN_RESERVE_MIB: u32 = 256;

/// Checks what the lab needs, fetches the hypervisor, prepares the
/// workloads' host assets (dom0 sees this host's cache read-only: what it
/// would build there under emulation is built here, once), and sizes the
/// lab.
pub fn prepare(
    suite: &Suite,
    settings: &Settings,
    assets: &[Asset],
    lab_memory: Option<u32>,
) -> Result<LabSettings> {
    crate::tools::check(REQUIREMENTS)?;
    let (cache, kernel) = (&settings.platform.cache, &settings.platform.kernel);
    crate::fetch::guest_kernel(kernel.as_deref(), cache)?;
    crate::fetch::xen_hypervisor(None, cache)?;
    let data_disk = match super::local::prepare_assets(assets, cache)? {
        Some(src) => Some(super::local::guest_data_disk(&src, assets, cache)?.image),
        None => None,
    };
    let (domus_mib, domus, scratch_gib) = largest_set(suite);
    let memory =
        lab_memory.unwrap_or(DOM0_MIB + domus_mib + domus * PER_DOMU_MIB + XEN_RESERVE_MIB);
    let mut run_args = vec![
        "--suite".to_owned(),
        match &settings.suite {
            SuiteRef::Builtin(name) => name.clone(),
            // An absolute path: dom0 sees this host's root.
            SuiteRef::File(path) => path.display().to_string(),
        },
        "--platform".to_owned(),
        PlatformKind::Xen.name().to_owned(),
        "--xen-host".to_owned(),
        XenHost::Dom0.name().to_owned(),
        "--xen-guest-type".to_owned(),
        settings.platform.xen.xen_guest_type.name().to_owned(),
    ];
    if let Some(seed) = settings.order.seed {
        // The lab's bundle has xen alone; a random order keeps its seed.
        run_args.extend(["--order".to_owned(), "random".to_owned()]);
        run_args.extend(["--seed".to_owned(), seed.to_string()]);
    }
    if let Some(label) = &settings.label {
        run_args.extend(["--label".to_owned(), label.clone()]);
    }
    if let Some(kernel) = kernel {
        run_args.extend(["--kernel".to_owned(), kernel.display().to_string()]);
    }
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
    Ok(LabSettings {
        cache: cache.clone(),
        out: settings.out.clone(),
        kernel: kernel.clone(),
        xen: None,
        memory_mib: memory,
        dom0_memory_mib: DOM0_MIB,
        cpus: cpus.clamp(1, 4),
        // The domUs' scratch and results images, sparse, with room to spare.
        disk_gib: (domus * (scratch_gib + 1) + 4).max(8),
        dom0_timeout: std::time::Duration::from_secs(900),
        run_timeout: std::time::Duration::from_secs(6 * 3600),
        run_args,
        data_disk,
    })
}

/// Memory (MiB) and count of the most domUs the suite runs at once, and
/// the scratch disk each gets (GiB).
fn largest_set(suite: &Suite) -> (u32, u32, u32) {
    let each = |m: Option<u32>| m.unwrap_or(suite.guest.memory_mib);
    let mut sets = vec![(suite.guest.memory_mib, 1)];
    if let Some(s) = &suite.scalability {
        let n = s.n_guests.iter().copied().max().unwrap_or(1);
        sets.push((n * each(s.guest_memory_mib), n));
    }
    if let Some(i) = &suite.isolation {
        sets.push((i.guests * each(i.guest_memory_mib), i.guests));
    }
    let (mib, n) = sets.into_iter().max().unwrap_or((0, 0));
    (mib, n, suite.guest.scratch_gib)
}

/// Runs the lab; its bundle lands in `settings.out`.
pub fn run(lab: &LabSettings, progress: &Progress) -> Result<LabResult> {
    log::info!(
        "this host is no Xen dom0: xen runs in the Xen lab (Xen 4.17 and dom0 under QEMU TCG, \
         {} MiB, {} CPUs); its rows say the Xen host was emulated",
        lab.memory_mib,
        lab.cpus
    );
    crate::lab::xen::run(lab, Some(progress))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lab_fits_the_largest_set_of_domus() {
        let suite = crate::suite::load(&SuiteRef::Builtin("quick".into())).expect("quick");
        let (mib, n, _) = largest_set(&suite);
        let iso = suite.isolation.as_ref().expect("isolation");
        assert!(n >= iso.guests, "{n} domUs");
        assert!(mib >= iso.guests * iso.guest_memory_mib.unwrap_or(suite.guest.memory_mib));
    }
}
