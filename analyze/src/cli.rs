//! Command-line interface. Arguments are parsed here and turned into plain
//! settings before any work starts.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};
use collect::clikit::{self, CompletionsArgs, ManArgs, Verbosity};

use crate::filter::Filters;
use crate::load::LoadOptions;

/// Loads benchvm bundles, verifies them and writes paper-ready tables.
#[derive(Debug, Parser)]
#[command(name = "analyze", version, about, after_help = clikit::ANALYZE_AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    pub verbosity: Verbosity,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify bundles: every hash, size and path, the manifest and the metrics.
    ///
    /// Exits 0 when all are sound, 1 when any is not (each failure names the
    /// file and the reason). A store (STORE[/filter]) is verified object by
    /// object, each also against its name and its catalog entry.
    Verify {
        /// Bundle files (.tar.zst) and stores: a store folder or
        /// s3://bucket/prefix, maybe with filter components
        /// (/label=L, /host=H, /suite=S, /date=YYYY[-MM[-DD]][..TO], /id=HEX).
        #[arg(required = true)]
        bundles: Vec<PathBuf>,
        /// Also re-derive the metrics table from the raw tool output in the
        /// bundle; an edited table fails even when re-hashed consistently.
        #[arg(long)]
        rederive: bool,
        /// Require a signature (BUNDLE.minisig) by this minisign public key.
        #[arg(long, value_name = "PUB")]
        trusted_key: Option<PathBuf>,
        /// Print one JSON object per bundle, one per line (JSON lines),
        /// instead of text (README.md, "Machine-readable output").
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Build the report from any number of bundles: Table 1 (overall
    /// performance normalized to native, Fieller intervals), the platform
    /// comparisons (Welch, Mann-Whitney, effect sizes), the comparability
    /// section and the warnings, each as Markdown, LaTeX, CSV and JSON; the
    /// tidy data of all bundles as data.parquet; Table 1 as a figure in
    /// figures/ (SVG and PNG); everything in report.md and report.html (one
    /// self-contained file: tables, inline SVG figures, notes).
    Report {
        /// Bundle files (.tar.zst) and stores (STORE[/filter], as for
        /// verify). A store's bundles verified before come from the local
        /// catalog (see --cache); only the others are fetched and verified.
        #[arg(required = true)]
        bundles: Vec<PathBuf>,
        /// Output folder (default: reports/<labels>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Fail when any bundle fails verification (default: report and skip it).
        #[arg(long)]
        strict: bool,
        /// LaTeX tables: compact (a cell's interval and n stacked under its
        /// score, smaller) or full (each cell on one line). Either way each
        /// table fits one column (table) or the page width (table*) of ACM
        /// acmart sigconf and IEEEtran conference.
        #[arg(long, value_enum, default_value = "compact")]
        latex: LatexForm,
        /// Also write a folder for a paper: the tables as .tex (table1,
        /// table2, scaling), the figures as one-column PDFs with
        /// figures.tex, methods.tex with \cite keys and references.bib.
        #[arg(long, value_name = "DIR")]
        paper: Option<PathBuf>,
        #[command(flatten)]
        filters: FilterArgs,
        #[command(flatten)]
        limits: LimitArgs,
        #[command(flatten)]
        cache: CacheArgs,
    },
    /// Compare the same (platform, workload, metric) across two bundle sets,
    /// e.g. two Xen versions or two hosts: ratio B/A with its Fieller
    /// interval, Welch and Mann-Whitney p-values, effect sizes and a verdict
    /// (faster / slower / no significant difference at 0.05).
    ///
    /// Example: analyze compare -a xen-4.17.tar.zst -b xen-4.19-1.tar.zst -b xen-4.19-2.tar.zst
    Compare {
        /// Bundles of set A, the baseline (repeat the flag for more).
        #[arg(short = 'a', long = "a", value_name = "BUNDLE", required = true)]
        a: Vec<PathBuf>,
        /// Bundles of set B, compared against A (repeat the flag for more).
        #[arg(short = 'b', long = "b", value_name = "BUNDLE", required = true)]
        b: Vec<PathBuf>,
        /// Format printed on stdout: md, latex, csv or json.
        #[arg(long, default_value = "md", value_parser = ["md", "markdown", "latex", "tex", "csv", "json"])]
        format: String,
        /// Also write compare.* and comparability.* in every format here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Fail when any bundle fails verification (default: report and skip it).
        #[arg(long)]
        strict: bool,
        #[command(flatten)]
        filters: FilterArgs,
        #[command(flatten)]
        limits: LimitArgs,
        #[command(flatten)]
        cache: CacheArgs,
    },
    /// Print the environment difference of two bundles: manifest facts,
    /// every env/summary.json field (CPU, microcode, governor, SMT, kernel,
    /// tool versions, hypervisor versions...) and env/ files whose hash
    /// differs. Exits 0 when identical, 1 when they differ. The label and
    /// the creation time name a bundle, not its environment: shown when
    /// they differ, never counted.
    Diff {
        /// The first bundle file (.tar.zst), shown as A.
        a: PathBuf,
        /// The second bundle file (.tar.zst), shown as B.
        b: PathBuf,
        /// Print one JSON object instead of text (README.md,
        /// "Machine-readable output").
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Print what a bundle holds: label, host, platforms, runs by status and
    /// the main environment facts. Of a store (STORE[/filter]): its bundles
    /// from its catalog (id, date, host, suite, signed, size, platforms,
    /// label), oldest run first.
    Show {
        /// A bundle file (.tar.zst), or a store (STORE[/filter], as for verify).
        bundle: PathBuf,
        /// Print one JSON object instead of text (README.md,
        /// "Machine-readable output").
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Write every metric row of bundles and stores, with its lineage
    /// (bundle_id, label, host, suite, created), as a hive-partitioned
    /// Parquet dataset: DIR/platform=P/host=H/data.parquet. DuckDB:
    /// SELECT * FROM read_parquet('DIR/**/*.parquet', hive_partitioning = true).
    Export {
        /// Bundle files (.tar.zst) and stores (STORE[/filter], as for verify).
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// The dataset's folder (new, empty, or an earlier export); `--out`
        /// is the same flag, named as every command's output is.
        #[arg(long, visible_alias = "out", value_name = "DIR")]
        parquet: PathBuf,
        /// Fail when any bundle fails verification (default: report and skip it).
        #[arg(long)]
        strict: bool,
        #[command(flatten)]
        filters: FilterArgs,
        #[command(flatten)]
        limits: LimitArgs,
        #[command(flatten)]
        cache: CacheArgs,
    },
    /// Print the shell completion script of analyze on stdout, e.g.
    /// `analyze completions bash > /usr/share/bash-completion/completions/analyze`.
    Completions(CompletionsArgs),
    /// Write analyze's man pages (analyze.1, analyze-report.1, ...), made
    /// from these same definitions.
    Man(ManArgs),
}

/// The local catalog of store bundles verified before.
#[derive(Debug, Args)]
pub struct CacheArgs {
    /// Cache folder whose local catalog keeps the rows of every store
    /// bundle verified before, by bundle id (default: $BENCHVM_CACHE, else
    /// $XDG_CACHE_HOME/benchvm, else ~/.cache/benchvm).
    #[arg(long, env = "BENCHVM_CACHE", value_name = "DIR")]
    cache: Option<PathBuf>,
    /// Fetch and verify every store bundle; neither read nor add to the
    /// local catalog.
    #[arg(long)]
    no_cache: bool,
}

impl CacheArgs {
    /// The cache folder to use, if any.
    fn dir(&self) -> Option<PathBuf> {
        if self.no_cache {
            return None;
        }
        match &self.cache {
            Some(dir) => Some(dir.clone()),
            None => match collect::cache::default_dir() {
                Ok(dir) => Some(dir),
                Err(e) => {
                    log::warn!("no local catalog: {e}");
                    None
                }
            },
        }
    }

    fn options(&self, limits: &LimitArgs) -> LoadOptions {
        LoadOptions {
            cache: self.dir(),
            ..limits.options()
        }
    }
}

/// Form of the LaTeX tables.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LatexForm {
    Compact,
    Full,
}

impl From<LatexForm> for crate::render::latex::Form {
    fn from(f: LatexForm) -> Self {
        match f {
            LatexForm::Compact => crate::render::latex::Form::Compact,
            LatexForm::Full => crate::render::latex::Form::Full,
        }
    }
}

/// Caps applied to untrusted bundles.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Largest decoded size accepted, in MiB (default: max(512, 20 x the
    /// compressed size)).
    #[arg(long, value_name = "MIB")]
    max_size: Option<u64>,
}

/// Which rows of the combined data to keep. Each flag may be repeated; the
/// values of one flag are alternatives, different flags must all match.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Keep bundles with this label.
    #[arg(long = "label", value_name = "LABEL")]
    labels: Vec<String>,
    /// Keep bundles from this host.
    #[arg(long = "host", value_name = "HOST")]
    hosts: Vec<String>,
    /// Keep rows of this platform (native, kvm, xen, ...).
    #[arg(long = "platform", value_name = "PLATFORM")]
    platforms: Vec<String>,
    /// Keep rows of this experiment (overall, isolation, scalability).
    #[arg(long = "experiment", value_name = "EXPERIMENT")]
    experiments: Vec<String>,
}

impl FilterArgs {
    pub fn filters(self) -> Filters {
        Filters {
            labels: self.labels,
            hosts: self.hosts,
            platforms: self.platforms,
            experiments: self.experiments,
        }
    }
}

impl LimitArgs {
    pub fn options(&self) -> LoadOptions {
        let limits = benchvm_format::Limits {
            max_decoded: self.max_size.map(|mib| mib << 20),
            ..Default::default()
        };
        LoadOptions {
            limits,
            cache: None,
        }
    }
}

impl Cli {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self.command {
            Command::Verify {
                bundles,
                rederive,
                trusted_key,
                json,
                limits,
            } => {
                let trusted_key = trusted_key
                    .map(|p| {
                        benchvm_format::input::read_text(
                            &p,
                            benchvm_format::input::KEY_CAP,
                            "minisign public key",
                        )
                        .map_err(|e| anyhow::anyhow!("the trusted key {e}"))
                    })
                    .transpose()?;
                crate::verify::run(
                    &bundles,
                    &limits.options(),
                    &crate::verify::Checks {
                        rederive,
                        trusted_key,
                        json,
                    },
                )
            }
            Command::Report {
                bundles,
                out,
                strict,
                latex,
                paper,
                filters,
                limits,
                cache,
            } => crate::report::run(&crate::report::ReportSettings {
                bundles,
                out,
                reports_dir: PathBuf::from("reports"),
                strict,
                load: cache.options(&limits),
                filters: filters.filters(),
                latex: latex.into(),
                paper,
            }),
            Command::Compare {
                a,
                b,
                format,
                out,
                strict,
                filters,
                limits,
                cache,
            } => crate::compare::run(&crate::compare::CompareSettings {
                a,
                b,
                strict,
                load: cache.options(&limits),
                filters: filters.filters(),
                out,
                format: crate::render::by_name(&format)
                    .ok_or_else(|| anyhow::anyhow!("unknown format {format}"))?,
            }),
            Command::Diff { a, b, json, limits } => {
                crate::diff::run(&a, &b, &limits.options(), json)
            }
            Command::Show {
                bundle,
                json,
                limits,
            } => {
                if benchvm_store::location::is_store(&bundle) {
                    crate::store::commands::show(&bundle, json)
                } else {
                    crate::show::run(&bundle, &limits.options(), json)
                }
            }
            Command::Completions(a) => {
                clikit::completions(Cli::command(), a.shell).map(|()| ExitCode::SUCCESS)
            }
            Command::Man(a) => {
                clikit::man(Cli::command(), a.out.as_deref()).map(|()| ExitCode::SUCCESS)
            }
            Command::Export {
                inputs,
                parquet,
                strict,
                filters,
                limits,
                cache,
            } => crate::store::export::run(&crate::store::export::ExportSettings {
                inputs,
                out: parquet,
                strict,
                load: cache.options(&limits),
                filters: filters.filters(),
            }),
        }
    }
}
