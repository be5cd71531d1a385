//! The fio JSON (and json+) importer on arbitrary bytes, with a valid metadata file.
#![no_main]
#[path = "common/import.rs"]
mod import;

use collect::import::Format;

const META: &[u8] = include_bytes!("../../collect/tests/data/import/one-platform.toml");

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    import::check(Format::Fio, "fio.json", data, &[Some(("meta.toml", META))]);
});
