//! analyze: loads benchvm bundles and turns them into tables and figures.

pub mod cli;
pub mod frame;
pub mod load;
pub mod render;
pub mod report;
pub mod show;
pub mod stats;
pub mod table1;
pub mod verify;
