use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format_timestamp(None)
        .init();
    match analyze::cli::Cli::parse().run() {
        Ok(code) => code,
        Err(err) => {
            collect::errln!("error: {}", collect::output::sentence(&err));
            ExitCode::from(2)
        }
    }
}
