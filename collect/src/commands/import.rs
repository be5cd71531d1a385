//! `collect import FORMAT SOURCE [--meta META.toml]`: results produced
//! elsewhere into bundles ([`crate::import::import_files`]).

use anyhow::{Context, Result};

use crate::cli::ImportCommand;
use crate::import::{Format, Options};

pub fn run(command: ImportCommand) -> Result<()> {
    let (format, source, meta, out, split) = match command {
        ImportCommand::Pts(a) => (Format::Pts, a.source, a.meta, a.out, a.split),
        ImportCommand::Csv(a) => (Format::Csv, a.source, Some(a.meta), a.out, false),
        ImportCommand::Hyperfine(a) => (Format::Hyperfine, a.source, Some(a.meta), a.out, false),
        ImportCommand::Fio(a) => (Format::Fio, a.source, Some(a.meta), a.out, false),
        ImportCommand::Pkb(a) => (Format::Pkb, a.source, Some(a.meta), a.out, false),
    };
    let imported =
        crate::import::import_files(format, &source, meta.as_deref(), &out, Options { split })
            .with_context(|| format!("importing {}", source.display()))?;
    for i in &imported {
        for note in &i.notes {
            crate::errln!("note: {note}");
        }
        super::pack::print_packed(&i.packed);
    }
    Ok(())
}
