//! The PTS composite.xml importer on arbitrary bytes, without and with a valid metadata file.
#![no_main]
#[path = "common/import.rs"]
mod import;

use collect::import::Format;

const META: &[u8] = include_bytes!("../../collect/tests/data/import/pts-meta.toml");

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    import::check(Format::Pts, "composite.xml", data, &[None, Some(("meta.toml", META))]);
});
