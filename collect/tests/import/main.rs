//! `collect import` end to end, one module per format: the bundles it
//! writes pass `analyze verify --rederive`, `show` and `report` (analyze is
//! the binary built beside collect: `cargo build -p analyze`, or `cargo
//! test --workspace`); the same inputs give the same bytes; bad inputs are
//! refused naming the line, column, entry or key; an imported bundle whose
//! metrics table was edited and re-hashed is caught by `--rederive`.
//!
//! Fixtures are in `tests/data/import/`: the paper's own tables, files in
//! the shapes of published PTS, hyperfine, fio and PerfKitBenchmarker
//! output, and output of the real hyperfine and fio; the tests also run
//! hyperfine and fio here and import what they write.

mod common;
mod csv;
mod json;
mod limits;
mod pts;
