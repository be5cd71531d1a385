//! Guests that boot from the host's own root (see
//! ../shared/recipes/hostfs-guest.md), whatever hypervisor runs them (the
//! guest platforms of `crate::platform::engine`).
//!
//! How a guest runs a workload:
//! 1. [`kernel`] finds the guest kernel and its modules; [`initramfs`]
//!    builds (once, cached) a `newc` archive ([`cpio`]) with a static
//!    busybox, the module closure ([`modules`]) and `init.sh`.
//! 2. The host writes a job ([`agent::Job`]: the runs, their steps and
//!    deadlines) and starts the guest (a process it watches: [`session`])
//!    with the host root shared read-only over 9p, a fresh scratch disk
//!    ([`scratch`], [`disk`]), a fresh results disk and the read-only data
//!    disk ([`data_disk`]).
//! 3. The init mounts the host root under a tmpfs overlay, mounts the
//!    scratch disk at [`SCRATCH_MOUNT`] and the data disk's folders over
//!    the host paths they stand for, and starts the host's own `collect
//!    guest-agent` in that root.
//! 4. The agent prints `BENCHVM-READY`, runs each run with the same code as
//!    native runs, and writes one record per finished run to the results
//!    disk ([`results`]), announcing each on the console ([`console`]).
//! 5. [`drive`] follows the console with a deadline per stage and, once
//!    the guest is gone, reads the records: finished runs keep their outcome; the
//!    run a guest panicked, hung or vanished in becomes dnr.

pub mod agent;
pub mod console;
pub mod cpio;
pub mod data_disk;
pub mod disk;
pub mod drive;
pub mod initramfs;
pub mod kernel;
pub mod modules;
pub mod results;
pub mod scratch;
pub mod session;

/// Where the init mounts the scratch disk inside the guest.
pub const SCRATCH_MOUNT: &str = "/mnt/benchvm-scratch";
/// Serial numbers of the guest disks: the init finds them by these.
pub const SCRATCH_SERIAL: &str = "benchvm-scratch";
pub const RESULTS_SERIAL: &str = "benchvm-results";
