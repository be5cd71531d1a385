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
        Command::Keygen { out } => keygen(&out),
        Command::Sign { bundle, key } => sign(&bundle, &key),
        Command::Run(args) => crate::suite_run::start(&args),
        Command::Resume { run_dir } => crate::suite_run::resume(&run_dir),
        Command::GuestAgent(a) => {
            crate::guest::agent::run(a.job.as_deref(), a.results.as_deref(), &a.scratch)
        }
    }
}

fn keygen(prefix: &Path) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let (secret, public) = benchvm_format::sign::generate_keypair()?;
    let (sk_path, pk_path) = (prefix.with_extension("key"), prefix.with_extension("pub"));
    let mut sk = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&sk_path)
        .with_context(|| format!("creating {} (it must not exist yet)", sk_path.display()))?;
    sk.write_all(secret.as_bytes())?;
    std::fs::write(&pk_path, public).with_context(|| format!("writing {}", pk_path.display()))?;
    println!(
        "secret key {}\npublic key {}",
        sk_path.display(),
        pk_path.display()
    );
    Ok(())
}

fn sign(bundle: &Path, key: &Path) -> Result<()> {
    let verified = benchvm_format::read::open(bundle, &Default::default(), &|_| false)
        .with_context(|| {
            format!(
                "{} does not verify; only sound bundles are signed",
                bundle.display()
            )
        })?;
    let secret =
        std::fs::read_to_string(key).with_context(|| format!("reading {}", key.display()))?;
    let sig =
        benchvm_format::sign::sign(&verified.manifest_bytes, &verified.manifest.label, &secret)?;
    let sig_path = benchvm_format::sign::signature_path(bundle);
    std::fs::write(&sig_path, sig).with_context(|| format!("writing {}", sig_path.display()))?;
    println!(
        "signature {}\nid        {}",
        sig_path.display(),
        verified.id
    );
    Ok(())
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
