//! What a benchvm run is, shared by `collect`, `analyze` and the fuzz
//! targets, with nothing that boots a guest or starts a process:
//!
//! - [`registry`]: the platforms (names, what they can run, how their
//!   columns are labelled), the one list every part reads;
//! - [`outcome`]: how one run ended, as its platform saw it.

pub mod outcome;
pub mod registry;
