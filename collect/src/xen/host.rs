//! Whether this host is a Xen dom0, the only place the xen platform can
//! drive `xl` itself.

use std::path::Path;

/// True when this kernel runs as Xen's control domain: xenfs says
/// `control_d` in `/proc/xen/capabilities` (the file Xen's own tools check;
/// it exists only under Xen, and only dom0's names `control_d`).
pub fn is_dom0() -> bool {
    capabilities_say_dom0(Path::new("/proc/xen/capabilities"))
}

/// True in the Xen lab's dom0: its kernel command line carries
/// `benchvm.lab=` (`crate::xen::LAB_FLAG`), set by `collect lab xen`.
pub fn in_lab() -> bool {
    std::fs::read_to_string("/proc/cmdline")
        .map(|c| {
            c.split_whitespace()
                .any(|w| w.starts_with(&format!("{}=", super::LAB_FLAG)))
        })
        .unwrap_or(false)
}

fn capabilities_say_dom0(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .map(|s| {
            s.split(|c: char| c == ',' || c.is_whitespace())
                .any(|w| w == "control_d")
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_control_d_is_dom0() {
        let dir = tempfile::tempdir().expect("tempdir");
        let caps = dir.path().join("capabilities");
        assert!(!capabilities_say_dom0(&caps), "no file: not Xen at all");
        std::fs::write(&caps, "").expect("write");
        assert!(!capabilities_say_dom0(&caps), "a domU's file is empty");
        std::fs::write(&caps, "control_d\n").expect("write");
        assert!(capabilities_say_dom0(&caps));
    }
}
