//! The CSV long format importer on arbitrary bytes, with a valid
//! metadata file: rows or an error naming the source, never a panic.
#![no_main]
use collect::import::{derive, Format};
use libfuzzer_sys::fuzz_target;

const META: &[u8] = include_bytes!("../../collect/tests/data/import/meta.toml");

fuzz_target!(|data: &[u8]| {
    match derive(Format::Csv, ("source.csv", data), ("meta.toml", META)) {
        Ok(d) => {
            for r in &d.rows {
                assert!(r.validate().is_ok(), "{r:?}");
            }
        }
        Err(e) => {
            let e = e.to_string();
            assert!(e.starts_with("source.csv") || e.starts_with("meta.toml"), "{e}");
        }
    }
});
