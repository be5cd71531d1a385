//! Welch's unequal-variances t-test and Hedges' g.
//!
//! Method: Welch (1947), "The generalization of 'Student's' problem when
//! several different population variances are involved", Biometrika
//! 34(1-2): `t = (mean_b - mean_a) / sqrt(sd_a²/n_a + sd_b²/n_b)` with the
//! Welch-Satterthwaite degrees of freedom (Satterthwaite 1946), two-sided
//! p-value from Student's t distribution. It does not assume equal variances,
//! which two hypervisors rarely have.
//!
//! Effect size: Hedges' g (Hedges 1981, "Distribution theory for Glass's
//! estimator of effect size and related estimators", J. Educ. Stat. 6(2)):
//! the difference of means over the pooled standard deviation, times the
//! small-sample correction `J = 1 - 3 / (4 (n_a + n_b) - 9)` (Hedges & Olkin
//! 1985). Positive when B's mean is larger. Both t and g are unchanged when
//! every value is multiplied by the same c > 0.
//!
//! Where they are not defined they are not given: the test needs two
//! values per side and a non-zero standard error (two constant samples
//! give t = ±inf or 0/0, which would read as certainty); g needs two values
//! per side and a non-zero pooled standard deviation.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::summary::Summary;
use super::Method;

pub const METHOD: Method = Method {
    name: "Welch's t-test (two-sided, Welch-Satterthwaite df)",
    reference: "Welch, B. L. (1947). Biometrika 34(1-2), 28-35; Satterthwaite, F. E. (1946). Biometrics Bulletin 2(6), 110-114",
};

pub const EFFECT: Method = Method {
    name: "Hedges' g (pooled sd, small-sample correction J = 1 - 3/(4(n_a+n_b)-9))",
    reference: "Hedges, L. V. (1981). J. Educ. Stat. 6(2), 107-128; Hedges & Olkin (1985), Statistical Methods for Meta-Analysis",
};

/// Result of Welch's test of B against A.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Welch {
    /// `(mean_b - mean_a) / se`.
    pub t: f64,
    pub df: f64,
    /// Two-sided p-value.
    pub p: f64,
}

/// Welch–Satterthwaite degrees of freedom of two sample means.
pub fn welch_df(a: &Summary, b: &Summary) -> f64 {
    let (va, vb) = (a.var_of_mean(), b.var_of_mean());
    let den = va * va / (a.n as f64 - 1.0) + vb * vb / (b.n as f64 - 1.0);
    if den == 0.0 {
        // Both samples constant: the smaller df is the conservative choice.
        return (a.n.min(b.n) as f64 - 1.0).max(1.0);
    }
    (va + vb).powi(2) / den
}

/// Welch's test of `b` against `a`; `None` where it is undefined: either
/// has fewer than two values, or both have zero variance.
pub fn welch(a: &Summary, b: &Summary) -> Option<Welch> {
    if a.n < 2 || b.n < 2 {
        return None;
    }
    let df = welch_df(a, b);
    let se = (a.var_of_mean() + b.var_of_mean()).sqrt();
    if se == 0.0 || !se.is_finite() {
        return None;
    }
    let t = (b.mean - a.mean) / se;
    let p = StudentsT::new(0.0, 1.0, df)
        .map(|dist| (2.0 * dist.sf(t.abs())).min(1.0))
        .unwrap_or(f64::NAN);
    Some(Welch { t, df, p })
}

/// Hedges' g of `b` against `a`; `None` where it is undefined: fewer than
/// two values on either side, or a pooled standard deviation of 0.
pub fn hedges_g(a: &Summary, b: &Summary) -> Option<f64> {
    if a.n < 2 || b.n < 2 {
        return None;
    }
    let (na, nb) = (a.n as f64, b.n as f64);
    let pooled = (((na - 1.0) * a.sd * a.sd + (nb - 1.0) * b.sd * b.sd) / (na + nb - 2.0)).sqrt();
    let diff = b.mean - a.mean;
    if pooled == 0.0 || !pooled.is_finite() {
        return None;
    }
    let j = 1.0 - 3.0 / (4.0 * (na + nb) - 9.0);
    Some(j * diff / pooled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[f64]) -> Summary {
        Summary::of(v).expect("sample")
    }

    #[test]
    fn matches_a_reference_computation() {
        // scipy.stats.ttest_ind(b, a, equal_var=False) with a = 1..5,
        // b = [3, 5, 6, 8, 9]: t = 2.498780, df = 6.942695, p = 0.0413363
        let a = s(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        let b = s(&[3.0, 5.0, 6.0, 8.0, 9.0]);
        let w = welch(&a, &b).expect("test");
        assert!((w.t - 2.498_780).abs() < 1e-5, "{w:?}");
        assert!((w.df - 6.942_695).abs() < 1e-5, "{w:?}");
        assert!((w.p - 0.041_336_3).abs() < 1e-6, "{w:?}");
        // d = 3.2 / sqrt((2.5 + 5.7) / 2) = 1.580367; J = 1 - 3/31
        let g = hedges_g(&a, &b).expect("g");
        assert!((g - 1.427_428_6).abs() < 1e-6, "{g}");
    }

    #[test]
    fn zero_variance_and_single_values_are_undefined() {
        let a = s(&[5.0, 5.0, 5.0]);
        let b = s(&[4.0, 4.0, 4.0]);
        assert_eq!(welch(&a, &b), None);
        assert_eq!(welch(&a, &a), None);
        assert_eq!(hedges_g(&a, &b), None);
        assert!(welch(&a, &s(&[3.0])).is_none());
        // g needs two values per side, not three in all.
        assert_eq!(hedges_g(&s(&[1.0, 2.0]), &s(&[3.0])), None);
        // One constant side is fine: the other carries the variance.
        assert!(welch(&a, &s(&[4.0, 4.2, 3.8])).is_some());
    }
}
