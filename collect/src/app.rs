//! The `collect` commands, from validated settings to a bundle.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::cli::{Cli, Command};
use crate::envcapture::ToolProbe;

/// Version and commit of this build.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const COMMIT: &str = env!("BENCHVM_GIT_COMMIT");

/// Versions recorded in the environment capture.
pub const PROBES: &[ToolProbe] = &[
    ToolProbe {
        name: "sysbench",
        argv: &["sysbench", "--version"],
    },
    ToolProbe {
        name: "fio",
        argv: &["fio", "--version"],
    },
    ToolProbe {
        name: "gcc",
        argv: &["gcc", "--version"],
    },
    ToolProbe {
        name: "make",
        argv: &["make", "--version"],
    },
    ToolProbe {
        name: "qemu",
        argv: &["qemu-system-x86_64", "--version"],
    },
    ToolProbe {
        name: "xl",
        argv: &["xl", "info", "xen_version"],
    },
    ToolProbe {
        name: "stress-ng",
        argv: &["stress-ng", "--version"],
    },
    ToolProbe {
        name: "iperf3",
        argv: &["iperf3", "--version"],
    },
    ToolProbe {
        name: "nginx",
        argv: &["nginx", "-v"],
    },
];

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Pack { run_dir, output } => {
            let packed =
                benchvm_format::rundir::pack(&run_dir, output.as_deref(), Path::new("bundles"))
                    .with_context(|| format!("packing {}", run_dir.display()))?;
            print_packed(&packed);
            Ok(())
        }
        Command::Run(args) => crate::suite_run::start(&args),
        Command::Resume { run_dir } => crate::suite_run::resume(&run_dir),
        Command::GuestAgent(a) => {
            crate::guest::agent::run(a.job.as_deref(), a.results.as_deref(), &a.scratch)
        }
    }
}

pub fn print_packed(packed: &benchvm_format::rundir::Packed) {
    println!("bundle {}", packed.path.display());
    println!("id     {}", packed.id);
    println!("       {} files, {} bytes", packed.files, packed.bytes);
}

pub fn commit() -> Option<String> {
    (!COMMIT.is_empty()).then(|| COMMIT.to_owned())
}

/// The workspace folder, for locating suites when run from elsewhere.
pub fn workspace_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}
