//! `collect fetch [guest-kernel|xen|all]`: the guest kernel and the Xen
//! hypervisor into the cache ([`crate::fetch`]).

use anyhow::Result;

use crate::cli::{FetchArgs, FetchWhat};

pub fn run(a: &FetchArgs) -> Result<()> {
    let cache = crate::cache::resolve(a.cache.as_deref())?;
    if matches!(a.what, FetchWhat::GuestKernel | FetchWhat::All) {
        let k = crate::fetch::guest_kernel(None, &cache)?;
        crate::outln!("guest-kernel {}", k.vmlinuz.display());
    }
    if matches!(a.what, FetchWhat::Xen | FetchWhat::All) {
        crate::outln!(
            "xen {}",
            crate::fetch::xen_hypervisor(None, &cache)?.display()
        );
    }
    Ok(())
}
