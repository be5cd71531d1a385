//! Guests that boot from the host's own root (see
//! ../shared/recipes/hostfs-guest.md): the guest kernel, the initramfs
//! collect builds itself, the agent that runs inside the guest, the
//! results channel back to the host, and the console markers between them.
//! Shared by the QEMU/KVM platform and, later, Xen.

pub mod agent;
pub mod console;
pub mod cpio;
pub mod drive;
pub mod initramfs;
pub mod kernel;
pub mod modules;
pub mod qemu;
pub mod results;
pub mod session;

/// Where the init mounts the scratch disk inside the guest.
pub const SCRATCH_MOUNT: &str = "/mnt/benchvm-scratch";
/// Serial numbers of the guest disks: the init finds them by these.
pub const SCRATCH_SERIAL: &str = "benchvm-scratch";
pub const RESULTS_SERIAL: &str = "benchvm-results";
