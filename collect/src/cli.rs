//! Command-line interface: raw arguments, turned into settings by `app`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::clikit::{self, CompletionsArgs, ManArgs, Verbosity};

use crate::platform::kvm::settings::KvmSettings;
use crate::platform::xen::settings::XenSettings;

/// Runs the benchvm suite on native Linux, KVM (QEMU) and Xen, and packs
/// configs, environment, raw logs and metrics into one verifiable bundle.
#[derive(Debug, Parser)]
#[command(name = "collect", version, about, after_help = clikit::COLLECT_AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub verbosity: Verbosity,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a suite and pack its bundle.
    Run(RunArgs),
    /// Finish a run a stopped collector left: replay its journal (cutting a
    /// torn last record), drop unfinished runs, run what is missing, and
    /// pack. Refused when the suite file or collect's version changed.
    Resume {
        /// The run folder (bundles/work/<suite>-<time>/ by default).
        run_dir: PathBuf,
    },
    /// Make a minisign key pair for signing bundles: PREFIX.key (secret,
    /// mode 0600) and PREFIX.pub (give this one to whoever verifies).
    ///
    /// The secret key is encrypted with a password: asked twice on the
    /// terminal, or taken from $BENCHVM_KEY_PASSWORD (for scripts); `collect
    /// sign` then needs it again. Without a terminal and without the
    /// variable, keygen refuses unless --unencrypted is given.
    Keygen {
        /// Path prefix of the two key files.
        #[arg(long, default_value = "benchvm")]
        out: PathBuf,
        /// Write the secret key unencrypted (no password; anybody who can
        /// read the file can sign). Said in the output.
        #[arg(long)]
        unencrypted: bool,
    },
    /// Sign a bundle: writes BUNDLE.minisig, a minisign signature over its
    /// manifest (which holds every file's sha256). Verify with `analyze
    /// verify --trusted-key PREFIX.pub BUNDLE`. An encrypted key's password
    /// is asked on the terminal, or taken from $BENCHVM_KEY_PASSWORD.
    Sign {
        /// The bundle file (.tar.zst) to sign.
        bundle: PathBuf,
        /// The secret key file from `collect keygen`.
        #[arg(long)]
        key: PathBuf,
    },
    /// Pack a finished run folder into a bundle (deterministic: packing the
    /// same folder twice gives the same bytes).
    Pack {
        /// The run folder (holds meta.json, metrics.ndjson, env/, config/, runs/).
        run_dir: PathBuf,
        /// Output file (default: bundles/<label>-<id12>.tar.zst).
        /// `--output` is an old name of it, still accepted.
        #[arg(short = 'o', long = "out", alias = "output", value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Turn results produced elsewhere into a bundle (formats in
    /// collect/IMPORT.md): the source and metadata files are kept byte for
    /// byte inside it, and the same inputs give the same bundle.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Boot a test host under QEMU and run collect inside it.
    #[command(subcommand)]
    Lab(LabCommand),
    /// Fetch what guests and the Xen lab boot into the cache now (collect
    /// also fetches them on first use): Debian's guest kernel and Xen 4.17
    /// hypervisor, downloaded with apt-get (nothing is installed).
    Fetch(FetchArgs),
    /// Put bundles into a bundle store (a folder, or s3://bucket/prefix),
    /// each under its id with its signature (BUNDLE.minisig, when there is
    /// one) and its catalog entry. Each bundle is verified first; a bundle
    /// the store holds already is not written again. S3 endpoint, region
    /// and credentials come from AWS_ENDPOINT_URL, AWS_REGION,
    /// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN).
    Push(PushArgs),
    /// Inside a guest: run the job the host wrote and write one results
    /// record per run (started by the guest's init, not by hand).
    #[command(hide = true)]
    GuestAgent(AgentArgs),
    /// Inside an isolation guest: wait for the host's `go`, run the
    /// stressor (if any) until its `stop` (started by the guest agent).
    #[command(hide = true)]
    GuestPhase(PhaseArgs),
    /// Print the shell completion script of collect on stdout, e.g.
    /// `collect completions bash > /usr/share/bash-completion/completions/collect`.
    Completions(CompletionsArgs),
    /// Write collect's man pages (collect.1, collect-run.1, ...), made from
    /// these same definitions.
    Man(ManArgs),
}

/// `--json`: what the command prints on stdout as one JSON object (layout
/// in README.md, "Machine-readable output").
#[derive(Debug, Clone, Copy, Args)]
pub struct JsonArg {
    /// Print one JSON object on stdout instead of text (README.md,
    /// "Machine-readable output").
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// What to fetch.
    #[arg(value_enum, default_value = "all")]
    pub what: FetchWhat,
    /// Cache folder (default: $BENCHVM_CACHE, else $XDG_CACHE_HOME/benchvm,
    /// else ~/.cache/benchvm).
    #[arg(long, env = "BENCHVM_CACHE")]
    pub cache: Option<PathBuf>,
}

/// What `collect fetch` gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FetchWhat {
    /// The guest kernel (kvm and xen guests, and the lab's dom0).
    GuestKernel,
    /// The Xen hypervisor (the Xen lab).
    Xen,
    /// Both.
    All,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// Bundle files (.tar.zst).
    #[arg(required = true)]
    pub bundles: Vec<PathBuf>,
    /// The store: a folder (made when missing) or s3://bucket/prefix.
    #[arg(long, value_name = "STORE")]
    pub to: String,
}

#[derive(Debug, Args)]
pub struct PhaseArgs {
    /// First bring the NIC up (kernel's benchvm.ip=), write the file set
    /// and start nginx.
    #[arg(long)]
    pub serve: bool,
    /// Seconds to wait for the host to connect and say `go`.
    #[arg(long)]
    pub wait_s: u64,
    /// Seconds the phase may last after `go`.
    #[arg(long)]
    pub phase_s: u64,
    /// The stressor's command line; none for a normal guest.
    #[arg(last = true)]
    pub stressor: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// The CSV long format: one row per value, metrics-table columns.
    Csv(ImportArgs),
    /// A Phoronix Test Suite result file (composite.xml); --meta optional.
    Pts(PtsImportArgs),
    /// hyperfine --export-json output.
    Hyperfine(ImportArgs),
    /// fio --output-format=json (or json+) output.
    Fio(ImportArgs),
    /// PerfKitBenchmarker samples (--json_path output, one JSON per line).
    Pkb(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The source file.
    pub source: PathBuf,
    /// The metadata file (TOML): label, date, citation, host and platform facts.
    #[arg(long)]
    pub meta: PathBuf,
    /// Folder the bundle is written to.
    #[arg(long, default_value = "bundles")]
    pub out: PathBuf,
    #[command(flatten)]
    pub json: JsonArg,
}

#[derive(Debug, Args)]
pub struct PtsImportArgs {
    /// The composite.xml file.
    pub source: PathBuf,
    /// Metadata that adds to or overrides what the file says (TOML).
    #[arg(long)]
    pub meta: Option<PathBuf>,
    /// One bundle per <System> (each with its own host facts) instead of
    /// one bundle with a platform per system.
    #[arg(long)]
    pub split: bool,
    /// Folder the bundles are written to.
    #[arg(long, default_value = "bundles")]
    pub out: PathBuf,
    #[command(flatten)]
    pub json: JsonArg,
}

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The job (JSON); without it the agent only reports ready.
    #[arg(long)]
    pub job: Option<PathBuf>,
    /// The results disk (block device) records are written to.
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// Where the scratch disk is mounted.
    #[arg(long, default_value = "/mnt/benchvm-scratch")]
    pub scratch: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Boot Debian's Xen 4.17 and a dom0 under QEMU TCG, run
    /// `collect run RUN-ARGS --out ... --run-dir ... --scratch ...` in dom0
    /// (the lab sets those three itself and refuses them in RUN-ARGS), and
    /// bring its bundle back to --out. Example: `collect lab xen -- --suite
    /// lab-smoke --platform xen`.
    Xen(XenLabArgs),
}

#[derive(Debug, Args)]
pub struct XenLabArgs {
    /// Memory of the lab machine (MiB).
    #[arg(long, default_value_t = 2048)]
    pub memory: u32,
    /// Memory of dom0 (MiB); the rest is for domUs.
    #[arg(long, default_value_t = 1024)]
    pub dom0_memory: u32,
    /// CPUs of the lab machine.
    #[arg(long, default_value_t = 2)]
    pub cpus: u32,
    /// Size of dom0's local disk for the domUs' disk images (GiB, sparse).
    #[arg(long, default_value_t = 8)]
    pub disk_gib: u32,
    /// Seconds from QEMU's start until dom0 must be up.
    #[arg(long, default_value_t = 600)]
    pub dom0_timeout: u64,
    /// Seconds collect may run in dom0 once it is up.
    #[arg(long, default_value_t = 7200)]
    pub timeout: u64,
    /// Folder the bundle is brought back to.
    #[arg(long, default_value = "bundles")]
    pub out: PathBuf,
    /// Cache folder (guest kernel, initramfs, Xen hypervisor; default:
    /// $BENCHVM_CACHE, else $XDG_CACHE_HOME/benchvm, else ~/.cache/benchvm).
    #[arg(long, env = "BENCHVM_CACHE")]
    pub cache: Option<PathBuf>,
    /// Kernel of dom0 and the domUs (default: as `collect run`).
    #[arg(long)]
    pub kernel: Option<PathBuf>,
    /// Xen hypervisor (uncompressed; default: <cache>/xen/xen-4.17.bin,
    /// fetched on first use, see `collect fetch`).
    #[arg(long)]
    pub xen: Option<PathBuf>,
    /// Arguments of `collect run` inside dom0 (after `--`).
    #[arg(last = true, required = true)]
    pub run_args: Vec<String>,
}

/// `--order`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Order {
    /// Platform after platform.
    Blocked,
    /// Per workload, the platforms' blocks alternate; the first platform
    /// rotates from workload to workload.
    Interleaved,
    /// Workloads and each round's platforms in an order drawn from --seed.
    Random,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Suite: a built-in name (smoke, quick, ci, paper, lab-smoke, lab-multi)
    /// or the path of a suite file.
    #[arg(long, default_value = "quick")]
    pub suite: String,
    /// Platforms, comma separated (native, kvm, xen); default: the suite's.
    #[arg(long, value_delimiter = ',')]
    pub platform: Vec<String>,
    /// Memory of the Xen lab machine in MiB (default: dom0's 1024 plus what
    /// the suite's largest set of simultaneous domUs needs).
    #[arg(long)]
    pub lab_memory: Option<u32>,
    /// Human label of the run (default: suite, platforms and host).
    #[arg(long)]
    pub label: Option<String>,
    /// Folder the bundle is written to.
    #[arg(long, default_value = "bundles")]
    pub out: PathBuf,
    /// Folder for the run's files while it runs (default: <out>/work/<suite>-<time>).
    #[arg(long)]
    pub run_dir: Option<PathBuf>,
    /// Cache folder (guest kernel, Xen, extracted kernel tree, initramfs;
    /// default: $BENCHVM_CACHE, else $XDG_CACHE_HOME/benchvm, else
    /// ~/.cache/benchvm).
    #[arg(long, env = "BENCHVM_CACHE")]
    pub cache: Option<PathBuf>,
    /// Scratch folder for disk and compile workloads (default: <run-dir>/.scratch).
    #[arg(long)]
    pub scratch: Option<PathBuf>,
    /// Folder whose NAME.toml files a suite name means before the built-in
    /// suites.
    #[arg(long)]
    pub suites_dir: Option<PathBuf>,
    #[command(flatten)]
    pub kvm: KvmSettings,
    #[command(flatten)]
    pub xen: XenSettings,
    /// Order of the blocks of runs (a block: one workload's warm-ups and
    /// repetitions on one platform, one guest): `blocked` (platform after
    /// platform), `interleaved` (workload after workload, the platforms'
    /// blocks alternating, the first platform rotating), `random` (drawn
    /// from --seed). Default: interleaved with several platforms here,
    /// else blocked. Recorded in the plan.
    #[arg(long, value_enum)]
    pub order: Option<Order>,
    /// Seed of `--order random` (default: drawn from the clock; recorded).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Guest kernel (default: the newest vmlinuz-* in <cache>/guest-kernel/boot,
    /// then /boot, else Debian's, fetched on first use).
    #[arg(long)]
    pub kernel: Option<PathBuf>,
    #[command(flatten)]
    pub json: JsonArg,
}
