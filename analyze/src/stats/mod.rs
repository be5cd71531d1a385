//! Statistics. Each method names itself and its reference; the report notes
//! repeat those names so a reader knows how every number was obtained.

pub mod ratio;
pub mod summary;

pub use ratio::{fieller, RatioInterval};
pub use summary::Summary;

/// Confidence level of every interval in the reports.
pub const CONFIDENCE: f64 = 0.95;
