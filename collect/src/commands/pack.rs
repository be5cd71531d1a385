//! `collect pack RUN_DIR [-o FILE]`: a finished run folder into a bundle.

use std::path::Path;

use anyhow::{Context, Result};
use benchvm_format::rundir::{self, Packed};

pub fn run(run_dir: &Path, output: Option<&Path>) -> Result<()> {
    let packed = rundir::pack(run_dir, output, Path::new("bundles"))
        .with_context(|| format!("packing {}", run_dir.display()))?;
    print_packed(&packed);
    Ok(())
}

/// What every command that packs a bundle prints: its path and id.
pub fn print_packed(packed: &Packed) {
    crate::outln!("bundle {}", packed.path.display());
    crate::outln!("id     {}", packed.id);
    crate::outln!("       {} files, {} bytes", packed.files, packed.bytes);
}
