//! When a sample is too small or too noisy to trust.
//!
//! Rules: a sample of fewer than [`MIN_N`] ok values gets a warning (with
//! n = 1 there is no variance at all, with n = 2 a single extra value moves
//! the interval a lot; the paper's protocol repeats every run at least
//! three times); a sample whose coefficient of variation passes
//! [`CV_LIMIT`] gets a warning, because the differences between
//! hypervisors the paper reports are a few percent: repetitions that spread
//! more than 5% around their mean would hide them. Both are warnings only:
//! the numbers stay in every table.

use super::summary::Summary;
use super::Method;

pub const METHOD: Method = Method {
    name: "warnings: n < 3 ok values; coefficient of variation sd/|mean| > 5%; failed or dnr runs",
    reference: "thresholds of this tool (analyze/src/stats/quality.rs); CV as in Everitt & Skrondal, The Cambridge Dictionary of Statistics",
};

/// Fewest ok values a sample should have.
pub const MIN_N: usize = 3;
/// Largest coefficient of variation (sd / |mean|) before a warning: 5%.
pub const CV_LIMIT: f64 = 0.05;

/// What is wrong with a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Issue {
    /// Fewer than [`MIN_N`] values.
    FewValues { n: usize },
    /// Coefficient of variation above [`CV_LIMIT`].
    HighCv { cv: f64 },
}

/// The issues of one sample's summary.
pub fn issues(s: &Summary) -> Vec<Issue> {
    let mut out = Vec::new();
    if s.n < MIN_N {
        out.push(Issue::FewValues { n: s.n });
    }
    let cv = s.cv();
    if s.n >= 2 && (cv.is_nan() || cv > CV_LIMIT) {
        out.push(Issue::HighCv { cv });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_noisy_samples_are_named() {
        let s = |v: &[f64]| Summary::of(v).expect("sample");
        assert_eq!(issues(&s(&[1.0, 1.01])), vec![Issue::FewValues { n: 2 }]);
        assert!(issues(&s(&[1.0, 1.01, 0.99])).is_empty());
        let noisy = issues(&s(&[1.0, 1.2, 0.8]));
        assert!(matches!(noisy[..], [Issue::HighCv { cv }] if (cv - 0.2).abs() < 1e-9));
    }
}
