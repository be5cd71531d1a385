//! analyze: loads benchvm bundles and turns them into tables and figures.

pub mod analysis;
pub mod cli;
pub mod columns;
pub mod compare;
pub mod diff;
pub mod figures;
pub mod filter;
pub mod frame;
pub mod guard;
pub mod isolation;
pub mod load;
pub mod methods;
pub mod paper;
pub mod rederive;
pub mod render;
pub mod report;
pub mod report_dir;
pub mod samples;
pub mod scalability;
pub mod scaling;
pub mod show;
pub mod stats;
pub mod table1;
pub mod table2;
pub mod verify;
pub mod warnings;
