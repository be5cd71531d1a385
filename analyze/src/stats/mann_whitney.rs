//! Mann-Whitney U test (Wilcoxon rank-sum) and the rank-biserial correlation.
//!
//! Method: Mann & Whitney (1947), "On a test of whether one of two random
//! variables is stochastically larger than the other", Ann. Math. Stat.
//! 18(1). Both samples are ranked together (tied values get their mid-rank);
//! `U_b = R_b - n_b (n_b + 1) / 2` counts the pairs where B is larger. The
//! two-sided p-value is:
//!
//! - **exact** when there are no ties and `n_a · n_b <= 10,000`: the null
//!   distribution of U is counted exactly (the coefficients of the Gaussian
//!   binomial `[n_a + n_b choose n_a]_q`, Mann & Whitney's recurrence), and
//!   `p = min(1, 2 P(U <= min(U_a, U_b)))`;
//! - otherwise the **normal approximation with tie correction and continuity
//!   correction**: `z = (|U - n_a n_b / 2| - 1/2) / σ`, with
//!   `σ² = n_a n_b / 12 · ((N + 1) - Σ(t³ - t) / (N (N - 1)))` over the groups
//!   of `t` tied values (Lehmann 1975, Nonparametrics, §1.4).
//!
//! Effect size: the rank-biserial correlation `r = 2 U_b / (n_a n_b) - 1`
//! (Cureton 1956; Kerby 2014, "The simple difference formula", Compr.
//! Psychol. 3), from -1 (every B below every A) to +1 (every B above).
//! Ranks, and so U, p and r, do not change when every value is multiplied by
//! the same c > 0.

use statrs::distribution::{ContinuousCDF, Normal};

use super::Method;

pub const METHOD: Method = Method {
    name: "Mann-Whitney U test (two-sided; exact null distribution without ties and n_a*n_b <= 10000, else normal approximation with tie and continuity correction)",
    reference: "Mann, H. B. & Whitney, D. R. (1947). Ann. Math. Stat. 18(1), 50-60; Lehmann, E. L. (1975). Nonparametrics: Statistical Methods Based on Ranks",
};

pub const EFFECT: Method = Method {
    name: "rank-biserial correlation r = 2U/(n_a n_b) - 1",
    reference: "Cureton, E. E. (1956). Psychometrika 21, 287-290; Kerby, D. S. (2014). Comprehensive Psychology 3",
};

/// Largest `n_a · n_b` for which the exact distribution is counted.
pub const EXACT_MAX_PAIRS: usize = 10_000;

/// How the p-value was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PMethod {
    Exact,
    Normal,
}

impl PMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PMethod::Exact => "exact",
            PMethod::Normal => "normal",
        }
    }
}

/// Result of the test of B against A.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannWhitney {
    /// Pairs (a, b) with b > a, ties counting one half.
    pub u: f64,
    /// Two-sided p-value.
    pub p: f64,
    pub method: PMethod,
    /// Rank-biserial correlation, positive when B tends to be larger.
    pub r: f64,
}

/// Tests `b` against `a`; `None` when either sample is empty.
pub fn mann_whitney(a: &[f64], b: &[f64]) -> Option<MannWhitney> {
    let (na, nb) = (a.len(), b.len());
    if na == 0 || nb == 0 {
        return None;
    }
    let mut pooled: Vec<(f64, bool)> = a
        .iter()
        .map(|&v| (v, false))
        .chain(b.iter().map(|&v| (v, true)))
        .collect();
    pooled.sort_by(|x, y| x.0.total_cmp(&y.0));
    let n = pooled.len();
    let mut rank_sum_b = 0.0;
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && pooled[j].0 == pooled[i].0 {
            j += 1;
        }
        // Ranks i+1 ..= j share their mean.
        let mid = (i + 1 + j) as f64 / 2.0;
        let t = (j - i) as f64;
        tie_term += t * t * t - t;
        rank_sum_b += mid * pooled[i..j].iter().filter(|p| p.1).count() as f64;
        i = j;
    }
    let (fa, fb) = (na as f64, nb as f64);
    let u = rank_sum_b - fb * (fb + 1.0) / 2.0;
    let pairs = fa * fb;
    let r = 2.0 * u / pairs - 1.0;
    let (p, method) = if tie_term == 0.0 && na * nb <= EXACT_MAX_PAIRS {
        (exact_p(na, nb, u), PMethod::Exact)
    } else {
        (normal_p(na, nb, u, tie_term), PMethod::Normal)
    };
    Some(MannWhitney { u, p, method, r })
}

/// Two-sided exact p-value of U without ties.
fn exact_p(na: usize, nb: usize, u: f64) -> f64 {
    let counts = u_counts(na, nb);
    let total: f64 = counts.iter().sum();
    let u_min = u.min((na * nb) as f64 - u);
    // U is an integer without ties; the floor guards rounding.
    let k = u_min.round() as usize;
    let tail: f64 = counts.iter().take(k + 1).sum();
    (2.0 * tail / total).min(1.0)
}

/// Number of arrangements giving each U = 0 ..= na·nb: the coefficients of
/// the Gaussian binomial `prod_{i=1}^{m} (1 - q^{n+i}) / (1 - q^i)`.
fn u_counts(na: usize, nb: usize) -> Vec<f64> {
    let (m, n) = (na.min(nb), na.max(nb));
    let len = m * n + 1;
    let mut c = vec![0.0; len];
    c[0] = 1.0;
    for i in 1..=m {
        // Multiply by (1 - q^{n+i}), from the top down.
        let k = n + i;
        for d in (k..len).rev() {
            c[d] -= c[d - k];
        }
        // Divide by (1 - q^i): a running sum with stride i.
        for d in i..len {
            c[d] += c[d - i];
        }
    }
    c
}

/// Two-sided p-value by the normal approximation with tie and continuity
/// corrections.
fn normal_p(na: usize, nb: usize, u: f64, tie_term: f64) -> f64 {
    let (fa, fb) = (na as f64, nb as f64);
    let n = fa + fb;
    let mean = fa * fb / 2.0;
    let var = if n > 1.0 {
        fa * fb / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)))
    } else {
        0.0
    };
    if var <= 0.0 {
        // Every value tied: no evidence of a difference.
        return 1.0;
    }
    let z = ((u - mean).abs() - 0.5).max(0.0) / var.sqrt();
    Normal::new(0.0, 1.0)
        .map(|d| (2.0 * d.sf(z)).min(1.0))
        .unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_matches_scipy() {
        // scipy.stats.mannwhitneyu(b, a, method="exact"): U = 22, p = 0.0555556
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [2.5, 5.5, 6.0, 8.0, 9.0];
        let t = mann_whitney(&a, &b).expect("test");
        assert_eq!((t.u, t.method), (22.0, PMethod::Exact));
        assert!((t.p - 0.055_555_6).abs() < 1e-6, "{t:?}");
        assert!((t.r - (2.0 * 22.0 / 25.0 - 1.0)).abs() < 1e-12);
    }

    #[test]
    fn ties_use_the_corrected_normal_approximation() {
        // scipy.stats.mannwhitneyu(b, a, method="asymptotic"): U = 28.5,
        // p = 0.0798165
        let a = [1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 4.0];
        let b = [2.0, 4.0, 5.0, 5.0, 6.0];
        let t = mann_whitney(&a, &b).expect("test");
        assert_eq!((t.u, t.method), (28.5, PMethod::Normal));
        assert!((t.p - 0.079_816_5).abs() < 1e-6, "{t:?}");
    }

    #[test]
    fn counts_sum_to_the_binomial() {
        let c = u_counts(4, 6);
        assert_eq!(c.iter().sum::<f64>(), 210.0);
        assert_eq!(c.len(), 25);
        assert!(c.iter().zip(c.iter().rev()).all(|(x, y)| x == y));
    }

    #[test]
    fn separated_samples_have_extreme_r() {
        let t = mann_whitney(&[1.0, 2.0], &[3.0, 4.0]).expect("test");
        assert_eq!((t.u, t.r), (4.0, 1.0));
        // Two arrangements of six are as extreme: p = 2 * 1/6.
        assert!((t.p - 1.0 / 3.0).abs() < 1e-12);
        let all_tied = mann_whitney(&[1.0, 1.0], &[1.0]).expect("test");
        assert_eq!((all_tied.p, all_tied.r), (1.0, 0.0));
    }
}
