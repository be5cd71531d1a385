//! Command-line interface. Arguments are parsed here and turned into plain
//! settings before any work starts.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::load::LoadOptions;

/// Loads benchvm bundles, verifies them and writes paper-ready tables.
#[derive(Debug, Parser)]
#[command(name = "analyze", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify bundles: every hash, size and path, the manifest and the metrics.
    ///
    /// Exits 0 when all are sound, 1 when any is not (each failure names the
    /// file and the reason).
    Verify {
        /// Bundle files (.tar.zst).
        #[arg(required = true)]
        bundles: Vec<PathBuf>,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Build Table 1 (overall performance normalized to native) from any
    /// number of bundles and write it as Markdown and CSV.
    Report {
        /// Bundle files (.tar.zst).
        #[arg(required = true)]
        bundles: Vec<PathBuf>,
        /// Output folder (default: reports/<labels>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Fail when any bundle fails verification (default: report and skip it).
        #[arg(long)]
        strict: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Print what a bundle holds: label, host, platforms, runs by status and
    /// the main environment facts.
    Show {
        bundle: PathBuf,
        #[command(flatten)]
        limits: LimitArgs,
    },
}

/// Caps applied to untrusted bundles.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Largest decoded size accepted, in MiB (default: max(512, 20 x the
    /// compressed size)).
    #[arg(long, value_name = "MIB")]
    max_size: Option<u64>,
}

impl LimitArgs {
    pub fn options(&self) -> LoadOptions {
        let mut limits = benchvm_format::Limits::default();
        limits.max_decoded = self.max_size.map(|mib| mib << 20);
        LoadOptions { limits }
    }
}

impl Cli {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self.command {
            Command::Verify { bundles, limits } => crate::verify::run(&bundles, &limits.options()),
            Command::Report {
                bundles,
                out,
                strict,
                limits,
            } => crate::report::run(&crate::report::ReportSettings {
                bundles,
                out,
                reports_dir: PathBuf::from("reports"),
                strict,
                load: limits.options(),
            }),
            Command::Show { bundle, limits } => crate::show::run(&bundle, &limits.options()),
        }
    }
}
