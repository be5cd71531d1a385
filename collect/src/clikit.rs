//! What both binaries' command lines share: `-q`/`-v` mapped to log levels,
//! the exit statuses, and shell completions and man pages made from the
//! clap definitions.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::ArgAction;

/// Exit status of a negative result: a bundle failed verification, two
/// bundles differ.
pub const NEGATIVE: u8 = 1;
/// Exit status of a runtime failure (clap's usage errors exit 2).
pub const FAILURE: u8 = 3;

/// `collect --help`'s closing section.
pub const COLLECT_AFTER_HELP: &str = "\
Exit status:
  0    success
  2    usage error (bad arguments; clap's message on stderr)
  3    runtime failure (the error on stderr)
  141  standard output's reader went away (128 + SIGPIPE)
  (collect has no negative result, so never exits 1)

Logging goes to stderr: -q only warnings and errors, -v debug, -vv trace
(of benchvm's own crates). RUST_LOG, when set, overrides both
(env_logger syntax: RUST_LOG=warn, RUST_LOG=collect=debug).";

/// `analyze --help`'s closing section.
pub const ANALYZE_AFTER_HELP: &str = "\
Exit status:
  0    success
  1    a negative result: a bundle failed verification (verify), the
       environments differ (diff)
  2    usage error (bad arguments; clap's message on stderr)
  3    runtime failure (the error on stderr)
  141  standard output's reader went away (128 + SIGPIPE)

Logging goes to stderr: -q only warnings and errors, -v debug, -vv trace
(of benchvm's own crates). RUST_LOG, when set, overrides both
(env_logger syntax: RUST_LOG=warn, RUST_LOG=analyze=debug).";

/// `-q`, `-v`, `-vv`: global flags of both binaries.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct Verbosity {
    /// Log only warnings and errors (what a command prints on stdout is
    /// unchanged). RUST_LOG, when set, wins.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Log more: -v debug, -vv trace messages of benchvm's own crates.
    /// RUST_LOG, when set, wins.
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
}

/// benchvm's own crates, as env_logger names their targets.
const OWN_CRATES: [&str; 5] = [
    "collect",
    "analyze",
    "benchvm_format",
    "benchvm_store",
    "benchvm_core",
];

impl Verbosity {
    /// The env_logger filter these flags mean (default: `info`, as before
    /// the flags existed).
    pub fn filter(&self) -> String {
        let own = match (self.quiet, self.verbose) {
            (true, _) => return "warn".to_owned(),
            (false, 0) => return "info".to_owned(),
            (false, 1) => "debug",
            (false, _) => "trace",
        };
        let mut filter = String::from("info");
        for c in OWN_CRATES {
            filter.push_str(&format!(",{c}={own}"));
        }
        filter
    }

    /// Starts the logger: RUST_LOG when set, else [`Verbosity::filter`].
    pub fn init_logging(&self) {
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(self.filter()))
            .format_timestamp(None)
            .init();
    }
}

/// The exit status of a command's outcome; a failure is printed with its
/// chain first.
pub fn exit_code(outcome: Result<ExitCode>) -> ExitCode {
    match outcome {
        Ok(code) => code,
        Err(err) => {
            crate::errln!("error: {}", crate::output::sentence(&err));
            ExitCode::from(FAILURE)
        }
    }
}

/// `completions SHELL`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for (bash, zsh, fish, elvish, powershell).
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `man [--out DIR]`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Folder to write every page into: NAME.1 and one NAME-COMMAND.1 per
    /// command (made when missing). Default: print NAME.1 on stdout.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Prints the completion script of `cmd` for `shell` on stdout.
pub fn completions(mut cmd: clap::Command, shell: clap_complete::Shell) -> Result<()> {
    let name = cmd.get_name().to_owned();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut script);
    crate::out!("{}", String::from_utf8_lossy(&script));
    Ok(())
}

/// Writes the man pages of `cmd` into `out` (every command, hidden ones
/// left out) and names them, or prints the top page on stdout.
pub fn man(cmd: clap::Command, out: Option<&Path>) -> Result<()> {
    let Some(dir) = out else {
        let mut page = Vec::new();
        // As the pages of --out: without clap's `help` command.
        clap_mangen::Man::new(cmd.disable_help_subcommand(true))
            .render(&mut page)
            .context("rendering the man page")?;
        crate::out!("{}", String::from_utf8_lossy(&page));
        return Ok(());
    };
    std::fs::create_dir_all(dir).with_context(|| format!("making {}", dir.display()))?;
    let name = cmd.get_name().to_owned();
    clap_mangen::generate_to(cmd, dir)
        .with_context(|| format!("writing man pages into {}", dir.display()))?;
    let ours = |file: &str| {
        file.ends_with(".1")
            && (file == format!("{name}.1") || file.starts_with(&format!("{name}-")))
    };
    let mut pages: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| ours(&e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect();
    pages.sort();
    for p in pages {
        crate::outln!("{}", p.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_map_to_levels_of_our_own_crates() {
        let v = |quiet, verbose| Verbosity { quiet, verbose }.filter();
        assert_eq!(v(false, 0), "info");
        assert_eq!(v(true, 0), "warn");
        assert!(v(false, 1).contains(",collect=debug,"), "{}", v(false, 1));
        assert!(v(false, 1).starts_with("info,"), "others stay at info");
        assert!(
            v(false, 2).ends_with(",benchvm_core=trace"),
            "{}",
            v(false, 2)
        );
    }
}
