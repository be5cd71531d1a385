//! `analyze verify`: check bundles and report each one.

use std::path::PathBuf;
use std::process::ExitCode;

use benchvm_format::metrics::Status;

use crate::load::{load, LoadOptions};

pub fn run(paths: &[PathBuf], options: &LoadOptions) -> anyhow::Result<ExitCode> {
    let mut failed = 0;
    for path in paths {
        match load(path, options) {
            Ok(loaded) => {
                let count = |s: Status| loaded.rows.iter().filter(|r| r.status == s).count();
                let content: u64 = loaded.bundle.manifest.files.iter().map(|f| f.size).sum();
                println!(
                    "ok    {}\n      id {}\n      {} files, {} bytes of content, {} metric rows (ok {}, failed {}, dnr {})",
                    path.display(),
                    loaded.bundle.id,
                    loaded.bundle.manifest.files.len() + 1,
                    content,
                    loaded.rows.len(),
                    count(Status::Ok),
                    count(Status::Failed),
                    count(Status::Dnr),
                );
            }
            Err(err) => {
                failed += 1;
                println!("FAIL  {}\n      {err}", path.display());
            }
        }
    }
    if failed > 0 {
        eprintln!("{failed} of {} bundles failed verification", paths.len());
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
