//! The PTS composite.xml importer, without and with metadata on arbitrary bytes, with a valid metadata file: rows that
//! pass validation, or an error naming the source, never a panic.
#![no_main]
use benchvm_format::MetricRow;
use collect::import::{derive, Format, Input};
use libfuzzer_sys::fuzz_target;

const META: &[u8] = include_bytes!("../../collect/tests/data/import/pts-meta.toml");

fuzz_target!(|data: &[u8]| {
    for meta in [None, Some(("meta.toml", META))] {
        let mut rows: Vec<MetricRow> = Vec::new();
        let mut source = data;
        let input = Input {
            format: Format::Pts,
            source_name: "composite.xml",
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
                assert!(e.starts_with("composite.xml") || e.starts_with("meta.toml"), "{e}");
            }
        }
    }
});
