//! One file per `collect` command, each from its parsed arguments to what
//! it prints; `crate::app` only dispatches.

pub mod fetch;
pub mod guest_agent;
pub mod guest_phase;
pub mod import;
pub mod keygen;
pub mod lab;
pub mod pack;
pub mod printed;
pub mod push;
pub mod resume;
pub mod run;
pub mod sign;
