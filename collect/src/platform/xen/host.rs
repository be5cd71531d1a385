//! What the xen platform learns about its host: whether it is a Xen dom0
//! (the only place it can drive `xl` itself), and whether that dom0 is
//! the Xen lab's (`crate::lab::xen`), which says so on dom0's kernel
//! command line and hands dom0 the guests' data disk as a disk of its own.

use std::path::Path;

/// The kernel command line word the lab gives dom0 (`benchvm.lab=qemu-tcg`).
pub use benchvm_core::registry::XEN_LAB_FLAG as LAB_FLAG;
/// Serial of the lab machine's read-only disk holding the guests' data
/// disk image (attached without a copy).
pub const DATA_DISK_SERIAL: &str = "benchvm-labdata";
/// Environment variable telling dom0's collect which image that disk holds.
pub const DATA_DISK_ENV: &str = "BENCHVM_LAB_DATA_DISK";

/// True when this kernel runs as Xen's control domain: xenfs says
/// `control_d` in `/proc/xen/capabilities` (the file Xen's own tools check;
/// it exists only under Xen, and only dom0's names `control_d`).
pub fn is_dom0() -> bool {
    capabilities_say_dom0(Path::new("/proc/xen/capabilities"))
}

/// True in the Xen lab's dom0: its kernel command line carries
/// [`LAB_FLAG`], set by `collect lab xen`.
pub fn in_lab() -> bool {
    std::fs::read_to_string("/proc/cmdline")
        .map(|c| cmdline_value(&c, LAB_FLAG).is_some())
        .unwrap_or(false)
}

/// The value of `key=` on a kernel command line.
pub fn cmdline_value(cmdline: &str, key: &str) -> Option<String> {
    cmdline
        .split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
        .map(str::to_owned)
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
    fn lab_flag_is_read_from_the_command_line() {
        let line = "console=hvc0 panic=-1 quiet benchvm.lab=qemu-tcg\n";
        assert_eq!(cmdline_value(line, LAB_FLAG).as_deref(), Some("qemu-tcg"));
        assert_eq!(cmdline_value("console=hvc0 benchvm.labx=1", LAB_FLAG), None);
    }

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
