//! The manifest parser: errors, never panics; what parses serializes back
//! to bytes that parse to the same manifest.
#![no_main]
use benchvm_format::Manifest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Manifest::parse(data) {
        assert_eq!(Manifest::parse(&m.to_bytes()).expect("canonical bytes parse"), m);
    }
});
