//! analyze: loads benchvm bundles and turns them into tables and figures.

pub mod cli;
pub mod load;
pub mod show;
pub mod verify;
