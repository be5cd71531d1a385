//! The limits table (SPEC.md §9.2) as an importer meets it: what a reader
//! would refuse is refused before anything is written.

use std::fs;

use benchvm_format::limits::MAX_LOADED_BYTES;

use crate::common::*;

#[test]
fn sources_over_the_limits_or_not_files_are_refused_before_reading() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // A sparse file one byte over the limit of a kept source.
    let big = tmp.path().join("big.csv");
    fs::File::create(&big)
        .and_then(|f| f.set_len(MAX_LOADED_BYTES + 1))
        .expect("sparse file");
    let err = refused("csv", &big, Some(&data("meta.toml")));
    assert!(err.contains("over the limit of 536870912"), "{err}");
    assert!(err.contains("SPEC.md §9.2"), "{err}");

    let fifo = tmp.path().join("fifo.csv");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
    let err = refused("csv", &fifo, Some(&data("meta.toml")));
    assert!(err.contains("not a regular file"), "{err}");
}

/// An entry of 200,000 samples (the size at which a quadratic parser took
/// over a minute) imports whole; the parser reads samples in one pass.
#[test]
fn a_pts_entry_of_200k_samples_imports() {
    use benchvm_format::MetricRow;
    use collect::import::{derive, Format, Input};
    let raw: Vec<String> = (0..200_000)
        .map(|i| format!("{}.5", 100 + i % 97))
        .collect();
    let xml = format!(
        "<PhoronixTestSuite><System><Identifier>A</Identifier></System><Result><Identifier>pts/t-1.0</Identifier><Description>D</Description><Scale>Seconds</Scale><Proportion>LIB</Proportion><Data><Entry><Identifier>A</Identifier><Value>1</Value><RawString>{}</RawString></Entry></Data></Result></PhoronixTestSuite>",
        raw.join(":")
    );
    let mut rows: Vec<MetricRow> = Vec::new();
    let mut source = xml.as_bytes();
    let derived = derive(
        Input {
            format: Format::Pts,
            source_name: "big.xml",
            source: &mut source,
            meta: None,
            system: None,
        },
        &mut rows,
    )
    .expect("imports");
    assert_eq!(derived.written.rows, 200_000);
    assert_eq!(rows[199_999].repetition, 200_000);
    assert_eq!(
        rows[199_999].value,
        Some(100.0 + (199_999 % 97) as f64 + 0.5)
    );
}
