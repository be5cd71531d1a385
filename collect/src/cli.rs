//! Command-line interface: raw arguments, turned into settings by `app`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Runs the benchvm suite on native Linux, KVM (QEMU) and Xen, and packs
/// configs, environment, raw logs and metrics into one verifiable bundle.
#[derive(Debug, Parser)]
#[command(name = "collect", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a suite and pack its bundle.
    Run(RunArgs),
    /// Pack a finished run folder into a bundle (deterministic: packing the
    /// same folder twice gives the same bytes).
    Pack {
        /// The run folder (holds meta.json, metrics.ndjson, env/, config/, runs/).
        run_dir: PathBuf,
        /// Output file (default: bundles/<label>-<id12>.tar.zst).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Suite name (a file in suites/) or path to a suite file.
    #[arg(long, default_value = "quick")]
    pub suite: String,
    /// Platforms, comma separated (native, kvm, xen); default: the suite's.
    #[arg(long, value_delimiter = ',')]
    pub platform: Vec<String>,
    /// Human label of the run (default: suite, platforms and host).
    #[arg(long)]
    pub label: Option<String>,
    /// Folder the bundle is written to.
    #[arg(long, default_value = "bundles")]
    pub out: PathBuf,
    /// Folder for the run's files while it runs (default: <out>/work/<suite>-<time>).
    #[arg(long)]
    pub run_dir: Option<PathBuf>,
    /// Cache folder (extracted kernel tree, guest images).
    #[arg(long, env = "BENCHVM_CACHE", default_value = ".cache")]
    pub cache: PathBuf,
    /// Scratch folder for disk and compile workloads (default: <run-dir>/.scratch).
    #[arg(long)]
    pub scratch: Option<PathBuf>,
    /// Folder holding suite files.
    #[arg(long, default_value = "suites")]
    pub suites_dir: PathBuf,
}
