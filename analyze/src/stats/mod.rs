//! Statistics. Each method names itself and its reference in its module doc
//! and in a [`Method`] constant; the report notes list those constants so a
//! reader knows how every number was obtained.

pub mod mann_whitney;
pub mod outliers;
pub mod quality;
pub mod ratio;
pub mod regression;
pub mod summary;
pub mod two_sample;
pub mod usl;
pub mod welch;

pub use ratio::{fieller, RatioInterval};
pub use summary::Summary;
pub use two_sample::{two_sample, TwoSample, Verdict};

/// Confidence level of every interval in the reports.
pub const CONFIDENCE: f64 = 0.95;
/// Significance level of every verdict: the complement of [`CONFIDENCE`],
/// so a verdict and the interval beside it use the same error rate.
pub const ALPHA: f64 = 1.0 - CONFIDENCE;

/// A statistical method as the report notes name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Method {
    pub name: &'static str,
    pub reference: &'static str,
}

/// Every method the reports use, in the order the notes list them.
pub const METHODS: &[Method] = &[
    summary::METHOD,
    summary::INTERVAL,
    ratio::METHOD,
    welch::METHOD,
    welch::EFFECT,
    mann_whitney::METHOD,
    mann_whitney::EFFECT,
    outliers::METHOD,
    quality::METHOD,
    usl::SLOPE,
    usl::MODEL,
];
