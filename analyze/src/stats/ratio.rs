//! Interval of a ratio of two independent means by Fieller's theorem.
//!
//! Method: Fieller (1954), "Some problems in interval estimation", J. R.
//! Stat. Soc. B 16(2). For means `a` (numerator) and `b` (denominator) with
//! variances of the mean `va`, `vb`, the 95% set of ratios `r` is where
//! `(a - r·b)² <= t² (va + r² vb)`; `t` is the Student quantile with
//! Welch–Satterthwaite degrees of freedom (Welch, 1947). When the denominator
//! is not clearly non-zero (`g = t² vb / b² >= 1`) the set is unbounded and
//! reported as such, never as a made-up finite interval. When both samples
//! have zero variance the interval is undefined (it would collapse to the
//! point estimate and read as certainty): reported as such.
//!
//! A ratio score (platform over native) is only meaningful for positive
//! means of a ratio-scale quantity; [`positive_means`] refuses zero and
//! negative means with the reason, which the tables print in the cell.
//!
//! For two estimates that are correlated (regression coefficients of one
//! fit), [`fieller_cov`] is Fieller's general form with their covariance.

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
    /// Both samples have zero variance: no interval is defined.
    Undefined,
}

/// Why a ratio of two means is not given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error("n/a: {which} mean is 0")]
    ZeroMean { which: String },
    #[error("n/a: {which} mean is negative ({mean}); a ratio needs positive means")]
    NegativeMean { which: String, mean: f64 },
    #[error("n/a: {which} mean is not a finite number")]
    NotFinite { which: String },
}

/// Checks that both means of a ratio are positive and finite; `names` say
/// which sample each is in the refusal ("native", "KVM").
pub fn positive_means(means: [(f64, &str); 2]) -> Result<(), Refusal> {
    for (mean, which) in means {
        let which = which.to_owned();
        if !mean.is_finite() {
            return Err(Refusal::NotFinite { which });
        }
        if mean == 0.0 {
            return Err(Refusal::ZeroMean { which });
        }
        if mean < 0.0 {
            return Err(Refusal::NegativeMean { which, mean });
        }
    }
    Ok(())
}

/// Fieller interval of `a.mean / b.mean`.
pub fn fieller(a: &Summary, b: &Summary) -> RatioInterval {
    if a.n < 2 || b.n < 2 {
        return RatioInterval::TooFew;
    }
    if a.sd == 0.0 && b.sd == 0.0 {
        return RatioInterval::Undefined;
    }
    let t = t_quantile(welch_df(a, b));
    fieller_cov((a.mean, b.mean), (a.var_of_mean(), b.var_of_mean(), 0.0), t)
}

/// Fieller's interval of `num / den` for estimates with variances `vnn`,
/// `vdd` and covariance `vnd`, at the quantile `t`: the set of `r` with
/// `(num - r den)² <= t² (vnn - 2 r vnd + r² vdd)`.
pub fn fieller_cov(
    (num, den): (f64, f64),
    (vnn, vdd, vnd): (f64, f64, f64),
    t: f64,
) -> RatioInterval {
    let t2 = t * t;
    let g = t2 * vdd / (den * den);
    if g.is_nan() || g >= 1.0 {
        return RatioInterval::Unbounded;
    }
    // (den² - t² vdd) r² - 2 (num den - t² vnd) r + (num² - t² vnn) <= 0
    let qa = den * den - t2 * vdd;
    let qb = num * den - t2 * vnd;
    let qc = num * num - t2 * vnn;
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
    fn zero_variance_on_both_sides_is_undefined_not_certain() {
        let a = summary(&[4.0, 4.0, 4.0]);
        let b = summary(&[5.0, 5.0, 5.0]);
        assert_eq!(fieller(&a, &b), RatioInterval::Undefined);
        // One constant side still has an interval from the other's spread.
        assert!(matches!(
            fieller(&summary(&[4.0, 4.1, 3.9]), &b),
            RatioInterval::Bounded(..)
        ));
    }

    #[test]
    fn ratios_need_positive_means() {
        assert_eq!(positive_means([(1.0, "KVM"), (2.0, "native")]), Ok(()));
        assert_eq!(
            positive_means([(1.0, "KVM"), (0.0, "native")]).map_err(|e| e.to_string()),
            Err("n/a: native mean is 0".to_owned())
        );
        assert!(matches!(
            positive_means([(-1.0, "KVM"), (2.0, "native")]),
            Err(Refusal::NegativeMean { .. })
        ));
    }

    #[test]
    fn single_values_give_no_interval() {
        assert_eq!(
            fieller(&summary(&[1.0]), &summary(&[2.0, 2.1])),
            RatioInterval::TooFew
        );
    }
}
