//! `collect pack RUN_DIR [--out FILE] [--json]`: a finished run folder into
//! a bundle.

use std::path::Path;

use anyhow::{Context, Result};
use benchvm_format::rundir::{self, Packed};

use super::printed::BundleOut;

pub fn run(run_dir: &Path, out: Option<&Path>, json: bool) -> Result<()> {
    let packed = rundir::pack(run_dir, out, Path::new("bundles"))
        .with_context(|| format!("packing {}", run_dir.display()))?;
    if json {
        return super::printed::print_json(&BundleOut::from(&packed));
    }
    print_packed(&packed);
    Ok(())
}

/// What every command that packs a bundle prints: its path and id.
pub fn print_packed(packed: &Packed) {
    crate::outln!("bundle {}", packed.path.display());
    crate::outln!("id     {}", packed.id);
    crate::outln!("       {} files, {} bytes", packed.files, packed.bytes);
}
