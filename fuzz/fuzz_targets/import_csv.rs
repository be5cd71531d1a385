//! The CSV long format importer on arbitrary bytes, with a valid metadata file.
#![no_main]
#[path = "common/import.rs"]
mod import;

use collect::import::Format;

const META: &[u8] = include_bytes!("../../collect/tests/data/import/meta.toml");

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    import::check(Format::Csv, "source.csv", data, &[Some(("meta.toml", META))]);
});
