//! The `collect` commands, from validated settings to a bundle.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use benchvm_format::env::SUMMARY_PATH;
use benchvm_format::{RunMeta, Tool};

use std::sync::Arc;

use crate::cli::{self, Cli, Command, RunArgs};
use crate::envcapture::{self, ToolProbe};
use crate::guest;
use crate::platform::{AccelChoice, Native, Platform, Qemu, QemuSettings};
use crate::runfolder::RunFolder;
use crate::workload::{Asset, Requirement};
use crate::{kernel_source, plan, runner, suite, tools};

/// Version and commit of this build.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const COMMIT: &str = env!("BENCHVM_GIT_COMMIT");

/// Versions recorded in the environment capture.
const PROBES: &[ToolProbe] = &[
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
        Command::Run(args) => run_suite(&args),
        Command::GuestAgent(a) => {
            crate::guest::agent::run(a.job.as_deref(), a.results.as_deref(), &a.scratch)
        }
    }
}

fn print_packed(packed: &benchvm_format::rundir::Packed) {
    println!("bundle {}", packed.path.display());
    println!("id     {}", packed.id);
    println!("       {} files, {} bytes", packed.files, packed.bytes);
}

fn commit() -> Option<String> {
    (!COMMIT.is_empty()).then(|| COMMIT.to_owned())
}

fn run_suite(args: &RunArgs) -> Result<()> {
    // Parse and validate everything before starting anything.
    let suite_path = suite::locate(&args.suite, &args.suites_dir);
    let suite = suite::load(&suite_path)?;
    let platforms = if args.platform.is_empty() {
        suite.platforms.clone()
    } else {
        args.platform.clone()
    };
    suite::check_platforms(&platforms).map_err(|r| anyhow::anyhow!("--platform: {r}"))?;
    for p in &platforms {
        if p != "native" && p != "kvm" {
            bail!("--platform {p}: this build runs the native and kvm platforms only so far");
        }
    }
    let kvm = platforms.iter().any(|p| p == "kvm");
    let plan = plan::build(&suite, &platforms);
    let mut requirements: Vec<Requirement> = vec![Requirement {
        what: "tar",
        package: "tar",
    }];
    let mut assets = Vec::new();
    for entry in &suite.overall {
        let w = entry.spec.workload();
        requirements.extend(w.requirements());
        assets.extend(w.assets());
    }
    if assets.contains(&Asset::KernelSource) {
        requirements.push(Requirement {
            what: "xz",
            package: "xz-utils",
        });
    }
    if kvm {
        requirements.extend([
            Requirement {
                what: guest::qemu::QEMU,
                package: "qemu-system-x86",
            },
            Requirement {
                what: guest::initramfs::BUSYBOX,
                package: "busybox-static",
            },
            Requirement {
                what: "mkfs.ext4",
                package: "e2fsprogs",
            },
        ]);
    }
    tools::check(&requirements)?;
    if kvm {
        // Fail before anything starts when guests cannot boot.
        guest::kernel::find(args.kernel.as_deref(), &args.cache)?;
    }

    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "unknown".into());
    let created = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let label = args
        .label
        .clone()
        .unwrap_or_else(|| format!("{}-{}-{host}", suite.name, platforms.join("-")));
    let meta = RunMeta {
        tool: Tool {
            name: "collect".into(),
            version: VERSION.into(),
            git_commit: commit(),
        },
        created: created.clone(),
        host,
        suite: suite.name.clone(),
        platforms: platforms.clone(),
        label,
    };
    let run_dir = args
        .run_dir
        .clone()
        .unwrap_or_else(|| runner::default_run_dir(&args.out, &suite.name, &created));
    let folder = Arc::new(RunFolder::create(&run_dir, &meta)?);
    // Workloads run in other folders: every path they see is absolute.
    let run_dir = absolute(&run_dir)?;
    let cache = absolute(&args.cache)?;
    log::info!("run folder {}", run_dir.display());
    folder.write_file("config/suite.toml", suite.source.as_bytes())?;
    folder.write_file("config/plan.json", &serde_json::to_vec_pretty(&plan)?)?;

    let scratch = match &args.scratch {
        Some(s) => absolute(s)?,
        None => run_dir.join(".scratch"),
    };
    let mut set_up: Vec<Box<dyn Platform>> = Vec::new();
    for p in &platforms {
        match p.as_str() {
            "native" => set_up.push(Box::new(Native::new(scratch.clone())?)),
            "kvm" => {
                let agent = std::env::current_exe().context("locating the collect binary")?;
                set_up.push(Box::new(Qemu::new(QemuSettings {
                    kernel: args.kernel.clone(),
                    cache: cache.clone(),
                    work: scratch.join("kvm"),
                    agent,
                    accel: match args.accel {
                        cli::Accel::Auto => AccelChoice::Auto,
                        cli::Accel::Kvm => AccelChoice::Kvm,
                        cli::Accel::Tcg => AccelChoice::Tcg,
                    },
                    guest: plan.guest.clone(),
                    timeouts: None,
                    folder: Some(Arc::clone(&folder)),
                })?));
            }
            other => bail!("--platform {other}: not supported"),
        }
    }

    log::info!("capturing the environment");
    let mut summary = envcapture::capture(
        &run_dir.join("env"),
        &scratch,
        PROBES,
        VERSION,
        commit().as_deref(),
    )
    .context("capturing the environment")?;
    for p in &set_up {
        summary.platforms.insert(p.name().into(), p.facts());
    }

    let kernel = if assets.contains(&Asset::KernelSource) {
        let src = kernel_source::prepare(Path::new(kernel_source::TARBALL), &cache)?;
        summary
            .platforms
            .entry("native".into())
            .or_default()
            .insert("kernel_source_sha256".into(), src.tarball_sha256.clone());
        Some(src.dir)
    } else {
        None
    };
    folder.write_file(SUMMARY_PATH, &serde_json::to_vec_pretty(&summary)?)?;

    log::info!("{} runs on {}", plan.runs.len(), platforms.join(", "));
    let totals = runner::execute(&plan, &mut set_up, kernel.as_deref(), &folder)?;
    log::info!(
        "runs: {} ok, {} failed, {} dnr",
        totals.ok,
        totals.failed,
        totals.dnr
    );
    // Guest platforms learn facts while they run (boot-to-ready times).
    for p in &set_up {
        summary
            .platforms
            .entry(p.name().into())
            .or_default()
            .extend(p.facts());
    }
    folder.write_file(SUMMARY_PATH, &serde_json::to_vec_pretty(&summary)?)?;
    drop(set_up);
    let _ = std::fs::remove_dir_all(&scratch);

    let packed = benchvm_format::rundir::pack(folder.root(), None, &args.out)
        .with_context(|| format!("packing {}", run_dir.display()))?;
    print_packed(&packed);
    Ok(())
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))?;
    std::fs::canonicalize(path).with_context(|| format!("resolving {}", path.display()))
}

/// The workspace folder, for locating suites when run from elsewhere.
pub fn workspace_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}
