//! What every importer fuzz target checks: on arbitrary source bytes, with
//! each of the given metadata files, an importer gives rows that pass
//! validation (as many as it says it wrote), or an error naming the source
//! or the metadata file (`meta.toml`), never a panic.
use benchvm_format::MetricRow;
use collect::import::{derive, Format, Input};

pub fn check(format: Format, source_name: &str, data: &[u8], metas: &[Option<(&str, &[u8])>]) {
    for &meta in metas {
        let mut rows: Vec<MetricRow> = Vec::new();
        let mut source = data;
        let input = Input {
            format,
            source_name,
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
                assert!(e.starts_with(source_name) || e.starts_with("meta.toml"), "{e}");
            }
        }
    }
}
