//! The bundle reader on arbitrary bytes: errors, never panics, bounded memory.
#![no_main]
use benchvm_format::{read, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_manifest: 1 << 20,
        max_entries: 1000,
        max_decoded: Some(16 << 20),
        window_log_max: 22,
        max_kept: 8 << 20,
    };
    if let Ok(bundle) = read::read(data, data.len() as u64, &limits, &|_| true) {
        // A bundle that verifies has a manifest that parses again to itself.
        let again = benchvm_format::Manifest::parse(&bundle.manifest_bytes).expect("verified manifest reparses");
        assert_eq!(again, bundle.manifest);
    }
});
