//! Everything said about sample B against sample A: ratio of means with its
//! Fieller interval, Welch's t-test with Hedges' g, the Mann-Whitney U test
//! with the rank-biserial correlation, and a verdict.
//!
//! The verdict comes from Welch's test at [`ALPHA`](super::ALPHA) (0.05):
//! B is `faster` when its mean is better (higher for higher-is-better
//! metrics, lower for lower-is-better ones) and p < 0.05, `slower` when
//! worse and p < 0.05, else `no significant difference`. The Mann-Whitney
//! p-value is printed beside it as a check that does not assume normality;
//! when the two tests disagree the row says so.
//!
//! Edges, where a number would mislead: when both samples have zero
//! variance the t-test, Hedges' g and the ratio's interval are undefined
//! and the verdict says so (`undefined: zero variance`), never p < 0.001;
//! effect sizes need two values per side; a ratio of means needs both
//! means positive ([`super::ratio::positive_means`]), else it is refused
//! with the reason.

use super::mann_whitney::{mann_whitney, MannWhitney};
use super::ratio::{fieller, positive_means, RatioInterval, Refusal};
use super::summary::Summary;
use super::welch::{hedges_g, welch, Welch};
use super::ALPHA;

/// B against A.
#[derive(Debug, Clone, PartialEq)]
pub struct TwoSample {
    pub a: Summary,
    pub b: Summary,
    /// `mean_b / mean_a`, or why it is not given.
    pub ratio: Result<f64, Refusal>,
    /// Fieller interval of `ratio` (meaningless when `ratio` is refused).
    pub interval: RatioInterval,
    pub welch: Option<Welch>,
    pub hedges_g: Option<f64>,
    pub mann_whitney: Option<MannWhitney>,
}

/// What the comparison concludes about B.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Faster,
    Slower,
    NoDifference,
    /// A sample has fewer than two values: nothing can be concluded.
    TooFew,
    /// Both samples have zero variance: the test is undefined.
    ZeroVariance,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Faster => "faster",
            Verdict::Slower => "slower",
            Verdict::NoDifference => "no significant difference",
            Verdict::TooFew => "too few values",
            Verdict::ZeroVariance => "undefined: zero variance",
        }
    }
}

/// Compares `b` against `a`; `None` when either is empty.
pub fn two_sample(a: &[f64], b: &[f64]) -> Option<TwoSample> {
    let (sa, sb) = (Summary::of(a)?, Summary::of(b)?);
    Some(TwoSample {
        ratio: positive_means([(sb.mean, "B"), (sa.mean, "A")]).map(|()| sb.mean / sa.mean),
        interval: fieller(&sb, &sa),
        welch: welch(&sa, &sb),
        hedges_g: hedges_g(&sa, &sb),
        mann_whitney: mann_whitney(a, b),
        a: sa,
        b: sb,
    })
}

impl TwoSample {
    /// The verdict for a metric where `higher_is_better` says which way is
    /// better.
    pub fn verdict(&self, higher_is_better: bool) -> Verdict {
        if self.a.n < 2 || self.b.n < 2 {
            return Verdict::TooFew;
        }
        if self.zero_variance() {
            return Verdict::ZeroVariance;
        }
        let Some(w) = self.welch else {
            return Verdict::TooFew;
        };
        if w.p.is_nan() || w.p >= ALPHA {
            return Verdict::NoDifference;
        }
        let b_higher = self.b.mean > self.a.mean;
        if b_higher == higher_is_better {
            Verdict::Faster
        } else {
            Verdict::Slower
        }
    }

    /// Both samples have two or more values, all equal within each.
    pub fn zero_variance(&self) -> bool {
        self.a.n >= 2 && self.b.n >= 2 && self.a.sd == 0.0 && self.b.sd == 0.0
    }

    /// The rank-biserial correlation, where defined (two values per side).
    pub fn rank_biserial(&self) -> Option<f64> {
        let m = self.mann_whitney?;
        (self.a.n >= 2 && self.b.n >= 2).then_some(m.r)
    }

    /// True when Welch's and Mann-Whitney's tests disagree on significance
    /// at [`ALPHA`].
    pub fn tests_disagree(&self) -> bool {
        match (self.welch, self.mann_whitney) {
            (Some(w), Some(m)) => (w.p < ALPHA) != (m.p < ALPHA),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_follows_the_direction() {
        let a = [10.0, 10.1, 9.9, 10.0, 10.0];
        let b = [12.0, 12.1, 11.9, 12.0, 12.0];
        let t = two_sample(&a, &b).expect("comparison");
        assert!((t.ratio.clone().expect("ratio") - 1.2).abs() < 1e-9);
        assert_eq!(t.verdict(true), Verdict::Faster);
        assert_eq!(t.verdict(false), Verdict::Slower);
        let same = two_sample(&a, &a).expect("comparison");
        assert_eq!(same.verdict(true), Verdict::NoDifference);
        let one = two_sample(&a, &[12.0]).expect("comparison");
        assert_eq!(one.verdict(true), Verdict::TooFew);
        assert_eq!((one.hedges_g, one.rank_biserial()), (None, None));
    }

    #[test]
    fn zero_variance_is_undefined_never_certain() {
        let t = two_sample(&[5.0, 5.0, 5.0], &[4.0, 4.0, 4.0]).expect("comparison");
        assert_eq!(t.verdict(true), Verdict::ZeroVariance);
        assert_eq!(t.welch, None);
        assert_eq!(t.interval, RatioInterval::Undefined);
        assert!(!t.tests_disagree());
    }

    #[test]
    fn ratios_of_non_positive_means_are_refused() {
        let t = two_sample(&[1.0, 1.1, 0.9], &[-1.0, -1.2, -0.8]).expect("comparison");
        assert!(matches!(t.ratio, Err(Refusal::NegativeMean { .. })));
        let z = two_sample(&[0.0, 0.0, 0.0], &[1.0, 1.2, 0.8]).expect("comparison");
        assert_eq!(
            z.ratio.map_err(|e| e.to_string()),
            Err("n/a: A mean is 0".to_owned())
        );
    }
}
