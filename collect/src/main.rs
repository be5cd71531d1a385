use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format_timestamp(None)
        .init();
    if let Err(err) = collect::process::install_interrupt_handler() {
        collect::errln!("warning: cannot handle Ctrl-C: {err}");
    }
    match collect::app::run(collect::cli::Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            collect::errln!("error: {}", collect::output::sentence(&err));
            ExitCode::from(2)
        }
    }
}
