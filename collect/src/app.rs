//! `collect`'s commands, dispatched: each is a file of
//! [`crate::commands`].

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::{Cli, Command};
use crate::{clikit, commands};

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => commands::run::run(&args),
        Command::Resume { run_dir } => commands::resume::run(&run_dir),
        Command::Pack { run_dir, out, json } => {
            commands::pack::run(&run_dir, out.as_deref(), json.json)
        }
        Command::Keygen { out, unencrypted } => commands::keygen::run(&out, unencrypted),
        Command::Sign { bundle, key } => commands::sign::run(&bundle, &key),
        Command::Import(c) => commands::import::run(c),
        Command::Lab(c) => commands::lab::run(&c),
        Command::Fetch(a) => commands::fetch::run(&a),
        Command::Push(a) => commands::push::run(&a),
        Command::GuestAgent(a) => commands::guest_agent::run(&a),
        Command::GuestPhase(a) => commands::guest_phase::run(&a),
        Command::Completions(a) => clikit::completions(Cli::command(), a.shell),
        Command::Man(a) => clikit::man(Cli::command(), a.out.as_deref()),
    }
}
