//! Labs: ways to get a host for a platform this machine cannot be, each a
//! real host booted under QEMU that runs collect itself.
//!
//! - [`xen`]: a Xen 4.17 host (Debian's hypervisor and a dom0) under QEMU
//!   TCG, whose dom0 runs `collect run` on the xen platform and hands its
//!   bundle back (`collect lab xen`, and `collect run` off a dom0).

pub mod xen;
