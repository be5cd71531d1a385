//! `collect resume RUN_DIR`: finishes a run a stopped collector left
//! ([`crate::suite_run::local::resume`]) and packs it.

use std::path::Path;

use anyhow::Result;

use super::pack::print_packed;

pub fn run(run_dir: &Path) -> Result<()> {
    let packed = crate::suite_run::local::resume(run_dir)?;
    print_packed(&packed);
    Ok(())
}
