use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = collect::cli::Cli::parse();
    cli.verbosity.init_logging();
    if let Err(err) = collect::process::install_interrupt_handler() {
        collect::errln!("warning: cannot handle Ctrl-C: {err}");
    }
    collect::clikit::exit_code(collect::app::run(cli).map(|()| ExitCode::SUCCESS))
}
