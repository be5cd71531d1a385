//! The collector: runs the benchvm suite and packs the results into a bundle.

pub mod envcapture;
pub mod parse;
