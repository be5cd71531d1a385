//! `collect lab xen [--memory MIB] ... -- RUN-ARGS`: `collect run
//! RUN-ARGS` in the Xen lab's dom0 ([`crate::lab::xen`]), its bundle
//! brought back.

use std::time::Duration;

use anyhow::{bail, Result};

use crate::cli::{LabCommand, XenLabArgs};
use crate::lab::xen::LabSettings;

pub fn run(command: &LabCommand) -> Result<()> {
    match command {
        LabCommand::Xen(a) => xen(a),
    }
}

/// Settings checked, then the lab.
fn xen(a: &XenLabArgs) -> Result<()> {
    if a.dom0_memory < 512 || a.dom0_memory + 256 > a.memory {
        bail!(
            "--dom0-memory {} with --memory {}: dom0 needs 512 MiB at least, and domUs 256 MiB or more beside it",
            a.dom0_memory,
            a.memory
        );
    }
    let settings = LabSettings {
        cache: crate::cache::resolve(a.cache.as_deref())?,
        out: a.out.clone(),
        kernel: a.kernel.clone(),
        xen: a.xen.clone(),
        memory_mib: a.memory,
        dom0_memory_mib: a.dom0_memory,
        cpus: a.cpus.max(1),
        disk_gib: a.disk_gib.max(1),
        dom0_timeout: Duration::from_secs(a.dom0_timeout),
        run_timeout: Duration::from_secs(a.timeout),
        run_args: a.run_args.clone(),
        data_disk: None,
    };
    crate::tools::check(crate::lab::xen::REQUIREMENTS)?;
    let done = crate::lab::xen::run(&settings, None)?;
    log::info!("lab files in {}", done.lab_dir.display());
    crate::outln!("bundle {}", done.bundle.display());
    crate::outln!("id     {}", done.id);
    Ok(())
}
