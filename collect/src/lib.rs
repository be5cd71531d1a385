//! The collector: runs the benchvm suite and packs the results into a bundle.

pub mod app;
pub mod cache;
pub mod cli;
pub mod envcapture;
pub mod fault;
pub mod fetch;
pub mod guest;
pub mod import;
pub mod isolation;
pub mod journal;
pub mod kernel_source;
pub mod lock;
pub mod output;
pub mod parse;
pub mod plan;
pub mod platform;
pub mod process;
pub mod progress;
pub mod push;
pub mod runfolder;
pub mod runner;
pub mod suite;
pub mod suite_run;
pub mod tools;
pub mod workload;
pub mod xen;
