//! The suite parser on arbitrary text: an error naming a key, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = collect::suite::parse(text, std::path::Path::new("fuzz.toml")) {
            assert!(e.to_string().starts_with("fuzz.toml: "));
        }
    }
});
