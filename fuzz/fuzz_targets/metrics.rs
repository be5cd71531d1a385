//! The metrics table parser: errors, never panics; every accepted value is
//! finite and round-trips.
#![no_main]
use benchvm_format::metrics;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(rows) = metrics::parse(data) {
        assert!(rows.iter().all(|r| r.value.is_none_or(f64::is_finite)));
        assert_eq!(metrics::parse(&metrics::to_ndjson(&rows)).expect("round trip"), rows);
    }
});
