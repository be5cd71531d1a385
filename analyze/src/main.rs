use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = analyze::cli::Cli::parse();
    cli.verbosity.init_logging();
    collect::clikit::exit_code(cli.run())
}
