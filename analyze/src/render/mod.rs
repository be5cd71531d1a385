//! Renderers: one output format per file.

pub mod csv;
pub mod markdown;

use crate::stats::RatioInterval;

/// A score with its interval, as printed in a table cell.
pub fn score_text(score: f64, interval: RatioInterval, n: usize) -> String {
    match interval {
        RatioInterval::Bounded(lo, hi) => format!("{score:.3} [{lo:.3}, {hi:.3}] n={n}"),
        RatioInterval::Unbounded => format!("{score:.3} [unbounded] n={n}"),
        RatioInterval::TooFew => format!("{score:.3} n={n}"),
    }
}

/// Notes printed under every Table 1.
pub const TABLE1_NOTES: &[&str] = &[
    "Scores are normalized to native (native = 1.000); for lower-is-better metrics the ratio is inverted (native / platform) so that higher is always better, as in the paper.",
    "Brackets: 95% confidence interval of the ratio of means by Fieller's theorem (Fieller 1954) with Welch-Satterthwaite degrees of freedom; 'unbounded' when the data cannot bound it. n: repetitions with status ok.",
    "Native cell: native's own mean with its 95% Student-t interval.",
    "TCG and emulated-host columns come from software emulation: they are not hardware numbers.",
];
