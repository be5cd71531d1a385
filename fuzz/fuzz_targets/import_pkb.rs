//! The PerfKitBenchmarker samples importer on arbitrary bytes, with a valid metadata file: rows that
//! pass validation, or an error naming the source, never a panic.
#![no_main]
use benchvm_format::MetricRow;
use collect::import::{derive, Format, Input};
use libfuzzer_sys::fuzz_target;

const META: &[u8] = include_bytes!("../../collect/tests/data/import/one-platform.toml");

fuzz_target!(|data: &[u8]| {
    for meta in [Some(("meta.toml", META))] {
        let mut rows: Vec<MetricRow> = Vec::new();
        let mut source = data;
        let input = Input {
            format: Format::Pkb,
            source_name: "pkb-samples.json",
            source: &mut source,
            meta,
            system: None,
        };
        match derive(input, &mut rows) {
            Ok(d) => {
                assert_eq!(d.written.rows, rows.len());
                for r in &rows {
                    assert!(r.validate().is_ok(), "{r:?}");
                }
            }
            Err(e) => {
                let e = e.to_string();
                assert!(e.starts_with("pkb-samples.json") || e.starts_with("meta.toml"), "{e}");
            }
        }
    }
});
