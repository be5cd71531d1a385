//! Platforms: where a workload runs (native Linux, QEMU/KVM guests, Xen
//! domains), behind one trait ([`Platform`], [`api`]) and one list
//! ([`registry`], over `benchvm_core::registry`).
//!
//! - [`native`]: the host itself;
//! - [`engine`]: what the hypervisor platforms share (guests, their disks
//!   and jobs, the serial and parallel loops, retries, boot facts), around
//!   one [`engine::Vmm`] per hypervisor;
//! - [`kvm`]: QEMU, under KVM or TCG;
//! - [`xen`]: Xen domUs driven by `xl` in a dom0;
//! - [`fake`]: canned answers, for fast tests of everything above it.

pub mod api;
pub mod engine;
pub mod fake;
pub mod kvm;
mod native;
pub mod registry;
pub mod xen;

pub use api::{guest_dir, HostSide, ParallelRequest, Platform, RunOutcome, RunRequest};
pub use engine::{GuestPlatform, GuestSettings, CRASH_GUEST_ENV, HOST_RETRIES};
pub use native::Native;
