//! The `collect` commands, from validated settings to a bundle.

use std::path::Path;

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
        Command::Import(c) => import(c),
        Command::Lab(crate::cli::LabCommand::Xen(a)) => run_xen_lab(&a),
        Command::Fetch(a) => fetch(&a),
        Command::Push(a) => crate::push::run(&a),
        Command::GuestAgent(a) => {
            crate::guest::agent::run(a.job.as_deref(), a.results.as_deref(), &a.scratch)
        }
        Command::GuestPhase(a) => {
            crate::isolation::guest::run(
                a.serve,
                std::time::Duration::from_secs(a.wait_s),
                std::time::Duration::from_secs(a.phase_s),
                &a.stressor,
            )?;
            Ok(())
        }
    }
}

/// `collect import FORMAT`: [`crate::import::import_files`].
fn import(command: crate::cli::ImportCommand) -> Result<()> {
    use crate::cli::ImportCommand;
    use crate::import::{Format, Options};
    let (format, source, meta, out, split) = match command {
        ImportCommand::Pts(a) => (Format::Pts, a.source, a.meta, a.out, a.split),
        ImportCommand::Csv(a) => (Format::Csv, a.source, Some(a.meta), a.out, false),
        ImportCommand::Hyperfine(a) => (Format::Hyperfine, a.source, Some(a.meta), a.out, false),
        ImportCommand::Fio(a) => (Format::Fio, a.source, Some(a.meta), a.out, false),
        ImportCommand::Pkb(a) => (Format::Pkb, a.source, Some(a.meta), a.out, false),
    };
    let imported =
        crate::import::import_files(format, &source, meta.as_deref(), &out, Options { split })
            .with_context(|| format!("importing {}", source.display()))?;
    for i in &imported {
        for note in &i.notes {
            crate::errln!("note: {note}");
        }
        print_packed(&i.packed);
    }
    Ok(())
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
    crate::outln!(
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
    let secret = benchvm_format::input::read_text(
        key,
        benchvm_format::input::KEY_CAP,
        "minisign secret key",
    )?;
    let sig =
        benchvm_format::sign::sign(&verified.manifest_bytes, &verified.manifest.label, &secret)
            .map_err(|e| anyhow::anyhow!("{}: {e}", key.display()))?;
    let sig_path = benchvm_format::sign::signature_path(bundle);
    std::fs::write(&sig_path, sig).with_context(|| format!("writing {}", sig_path.display()))?;
    crate::outln!(
        "signature {}\nid        {}",
        sig_path.display(),
        verified.id
    );
    Ok(())
}

pub fn print_packed(packed: &benchvm_format::rundir::Packed) {
    crate::outln!("bundle {}", packed.path.display());
    crate::outln!("id     {}", packed.id);
    crate::outln!("       {} files, {} bytes", packed.files, packed.bytes);
}

pub fn commit() -> Option<String> {
    (!COMMIT.is_empty()).then(|| COMMIT.to_owned())
}

/// `collect lab xen`: settings checked, then [`crate::xen::lab::run`].
fn run_xen_lab(a: &crate::cli::XenLabArgs) -> Result<()> {
    use crate::guest;
    use crate::workload::Requirement;
    if a.dom0_memory < 512 || a.dom0_memory + 256 > a.memory {
        anyhow::bail!(
            "--dom0-memory {} with --memory {}: dom0 needs 512 MiB at least, and domUs 256 MiB or more beside it",
            a.dom0_memory,
            a.memory
        );
    }
    let settings = crate::xen::lab::LabSettings {
        cache: crate::cache::resolve(a.cache.as_deref())?,
        out: a.out.clone(),
        kernel: a.kernel.clone(),
        xen: a.xen.clone(),
        memory_mib: a.memory,
        dom0_memory_mib: a.dom0_memory,
        cpus: a.cpus.max(1),
        disk_gib: a.disk_gib.max(1),
        dom0_timeout: std::time::Duration::from_secs(a.dom0_timeout),
        run_timeout: std::time::Duration::from_secs(a.timeout),
        run_args: a.run_args.clone(),
        data_disk: None,
    };
    crate::tools::check(&[
        Requirement {
            what: guest::qemu::QEMU,
            package: "qemu-system-x86",
        },
        Requirement {
            what: guest::initramfs::BUSYBOX,
            package: "busybox-static",
        },
        Requirement {
            what: crate::xen::xl::XL,
            package: "xen-utils-4.17",
        },
    ])?;
    let done = crate::xen::lab::run(&settings, None)?;
    log::info!("lab files in {}", done.lab_dir.display());
    crate::outln!("bundle {}", done.bundle.display());
    crate::outln!("id     {}", done.id);
    Ok(())
}

/// `collect fetch`: the guest kernel and the Xen hypervisor into the cache.
fn fetch(a: &crate::cli::FetchArgs) -> Result<()> {
    use crate::cli::FetchWhat;
    let cache = crate::cache::resolve(a.cache.as_deref())?;
    if matches!(a.what, FetchWhat::GuestKernel | FetchWhat::All) {
        let k = crate::fetch::guest_kernel(None, &cache)?;
        crate::outln!("guest-kernel {}", k.vmlinuz.display());
    }
    if matches!(a.what, FetchWhat::Xen | FetchWhat::All) {
        crate::outln!(
            "xen {}",
            crate::fetch::xen_hypervisor(None, &cache)?.display()
        );
    }
    Ok(())
}
