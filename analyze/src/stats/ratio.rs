//! Interval of a ratio of two independent means by Fieller's theorem.
//!
//! Method: Fieller (1954), "Some problems in interval estimation", J. R.
//! Stat. Soc. B 16(2). For means `a` (numerator) and `b` (denominator) with
//! variances of the mean `va`, `vb`, the 95% set of ratios `r` is where
//! `(a - r·b)² <= t² (va + r² vb)`; `t` is the Student quantile with
//! Welch–Satterthwaite degrees of freedom (Welch, 1947). When the denominator
//! is not clearly non-zero (`g = t² vb / b² >= 1`) the set is unbounded and
//! reported as such, never as a made-up finite interval.

use super::summary::{t_quantile, Summary};
use super::welch::welch_df;
use super::Method;

pub const METHOD: Method = Method {
    name: "Fieller's interval of a ratio of two independent means (95%, Welch-Satterthwaite df; 'unbounded' when the denominator is not clearly non-zero)",
    reference: "Fieller, E. C. (1954). J. R. Stat. Soc. B 16(2), 175-185",
};

/// The interval of a ratio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RatioInterval {
    Bounded(f64, f64),
    /// The data cannot bound the ratio (denominator indistinguishable from 0).
    Unbounded,
    /// A sample has a single value: no variance, no interval.
    TooFew,
}

/// Fieller interval of `a.mean / b.mean`.
pub fn fieller(a: &Summary, b: &Summary) -> RatioInterval {
    if a.n < 2 || b.n < 2 {
        return RatioInterval::TooFew;
    }
    let t = t_quantile(welch_df(a, b));
    let (va, vb) = (a.var_of_mean(), b.var_of_mean());
    let t2 = t * t;
    let g = t2 * vb / (b.mean * b.mean);
    if g.is_nan() || g >= 1.0 {
        return RatioInterval::Unbounded;
    }
    // (b² - t² vb) r² - 2 a b r + (a² - t² va) <= 0
    let qa = b.mean * b.mean - t2 * vb;
    let qb = a.mean * b.mean;
    let qc = a.mean * a.mean - t2 * va;
    let disc = qb * qb - qa * qc;
    let root = disc.max(0.0).sqrt();
    let (lo, hi) = ((qb - root) / qa, (qb + root) / qa);
    RatioInterval::Bounded(lo.min(hi), lo.max(hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(v: &[f64]) -> Summary {
        Summary::of(v).expect("sample")
    }

    #[test]
    fn interval_holds_the_ratio_and_shrinks_with_less_noise() {
        let a = summary(&[9.0, 10.0, 11.0, 10.0]);
        let b = summary(&[19.0, 20.0, 21.0, 20.0]);
        let RatioInterval::Bounded(lo, hi) = fieller(&a, &b) else {
            panic!("bounded expected")
        };
        assert!(lo < 0.5 && 0.5 < hi, "[{lo}, {hi}]");
        let a2 = summary(&[9.9, 10.0, 10.1, 10.0]);
        let b2 = summary(&[19.9, 20.0, 20.1, 20.0]);
        let RatioInterval::Bounded(lo2, hi2) = fieller(&a2, &b2) else {
            panic!("bounded expected")
        };
        assert!(hi2 - lo2 < hi - lo);
    }

    #[test]
    fn noisy_denominator_near_zero_is_unbounded() {
        let a = summary(&[1.0, 1.1, 0.9]);
        let b = summary(&[-1.0, 0.1, 1.0]);
        assert_eq!(fieller(&a, &b), RatioInterval::Unbounded);
    }

    #[test]
    fn single_values_give_no_interval() {
        assert_eq!(
            fieller(&summary(&[1.0]), &summary(&[2.0, 2.1])),
            RatioInterval::TooFew
        );
    }
}
