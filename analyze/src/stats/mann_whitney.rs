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
//! - **exact with ties** when there are ties and `n_a + n_b <= 60`: the
//!   permutation distribution of B's mid-rank sum over all
//!   `C(n_a + n_b, n_b)` equally likely assignments of the pooled values to
//!   the two samples (counted by dynamic programming over the doubled
//!   mid-ranks, which are integers), and
//!   `p = min(1, 2 min(P(U <= u), P(U >= u)))` (Lehmann 1975, §1.4; the
//!   conditional test given the ties). Small samples with a tie are where
//!   the normal approximation is worst: at 3 against 3 it can print 0.047
//!   where no arrangement gives less than 0.1;
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
    name: "Mann-Whitney U test (two-sided; exact null distribution without ties and n_a*n_b <= 10000, exact permutation distribution with ties and n_a+n_b <= 60, else normal approximation with tie and continuity correction; the method is printed per row)",
    reference: "Mann, H. B. & Whitney, D. R. (1947). Ann. Math. Stat. 18(1), 50-60; Lehmann, E. L. (1975). Nonparametrics: Statistical Methods Based on Ranks",
};

pub const EFFECT: Method = Method {
    name: "rank-biserial correlation r = 2U/(n_a n_b) - 1",
    reference: "Cureton, E. E. (1956). Psychometrika 21, 287-290; Kerby, D. S. (2014). Comprehensive Psychology 3",
};

/// Largest `n_a · n_b` for which the exact distribution is counted.
pub const EXACT_MAX_PAIRS: usize = 10_000;
/// Largest `n_a + n_b` for which the exact permutation distribution with
/// ties is counted (about `N · n_b · N²` steps: 6.5 million at 60).
pub const EXACT_TIES_MAX_N: usize = 60;

/// How the p-value was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PMethod {
    Exact,
    /// Exact permutation distribution given the ties.
    ExactTies,
    Normal,
}

impl PMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PMethod::Exact => "exact",
            PMethod::ExactTies => "exact-ties",
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
    // Doubled mid-ranks (integers) of every pooled value.
    let mut doubled = Vec::with_capacity(n);
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
        doubled.extend(std::iter::repeat_n(i + 1 + j, j - i));
        i = j;
    }
    let (fa, fb) = (na as f64, nb as f64);
    let u = rank_sum_b - fb * (fb + 1.0) / 2.0;
    let pairs = fa * fb;
    let r = 2.0 * u / pairs - 1.0;
    let (p, method) = if tie_term == 0.0 && na * nb <= EXACT_MAX_PAIRS {
        (exact_p(na, nb, u), PMethod::Exact)
    } else if tie_term > 0.0 && n <= EXACT_TIES_MAX_N {
        let observed = (2.0 * rank_sum_b).round() as usize;
        (exact_ties_p(&doubled, nb, observed), PMethod::ExactTies)
    } else {
        (normal_p(na, nb, u, tie_term), PMethod::Normal)
    };
    Some(MannWhitney { u, p, method, r })
}

/// Two-sided exact p-value given ties: `doubled` holds twice the mid-rank
/// of every pooled value, `observed` twice B's rank sum. Counts, for every
/// subset of `nb` pooled values, its doubled rank sum.
fn exact_ties_p(doubled: &[usize], nb: usize, observed: usize) -> f64 {
    let max_sum: usize = doubled.iter().rev().take(nb).sum();
    // ways[k][s]: subsets of k values with doubled rank sum s.
    let mut ways = vec![vec![0.0f64; max_sum + 1]; nb + 1];
    ways[0][0] = 1.0;
    for (seen, &r) in doubled.iter().enumerate() {
        for k in (1..=nb.min(seen + 1)).rev() {
            let (lower, upper) = ways.split_at_mut(k);
            let (from, to) = (&lower[k - 1], &mut upper[0]);
            for s in (r..=max_sum).rev() {
                to[s] += from[s - r];
            }
        }
    }
    let dist = &ways[nb];
    let total: f64 = dist.iter().sum();
    let below: f64 = dist.iter().take(observed + 1).sum();
    let above: f64 = dist.iter().skip(observed).sum();
    (2.0 * below.min(above) / total).min(1.0)
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
    fn ties_beyond_the_exact_size_use_the_corrected_normal_approximation() {
        // scipy.stats.mannwhitneyu(b, a, method="asymptotic"): U = 28.5,
        // p = 0.0798165 for a = [1, 2, 2, 3, 4, 4, 4], b = [2, 4, 5, 5, 6]
        // (tie groups of 3, 4 and 2), by normal_p:
        let p = normal_p(7, 5, 28.5, 24.0 + 60.0 + 6.0);
        assert!((p - 0.079_816_5).abs() < 1e-6, "{p}");
        // Beyond EXACT_TIES_MAX_N values the normal approximation is used.
        let big_a: Vec<f64> = (0..40).map(|i| f64::from(i / 2)).collect();
        let big_b: Vec<f64> = (0..30).map(|i| f64::from(i / 2) + 3.0).collect();
        let t = mann_whitney(&big_a, &big_b).expect("test");
        assert_eq!(t.method, PMethod::Normal);
    }

    #[test]
    fn small_samples_with_ties_get_the_exact_permutation_p() {
        // 3 against 3, fully separated, a tie on each side: 2 of the 20
        // assignments are as extreme, p = 0.1 (the normal approximation
        // said 0.0495, "significant").
        let t = mann_whitney(&[1.0, 2.0, 2.0], &[3.0, 3.0, 4.0]).expect("test");
        assert_eq!((t.u, t.method), (9.0, PMethod::ExactTies));
        assert!((t.p - 0.1).abs() < 1e-12, "{t:?}");
        // Constant samples that differ: the same, p = 0.1, not < 0.001.
        let c = mann_whitney(&[5.0, 5.0, 5.0], &[4.0, 4.0, 4.0]).expect("test");
        assert!((c.p - 0.1).abs() < 1e-12, "{c:?}");
        // By enumeration (all 35 splits of the 7 pooled values, counted by
        // hand below): a = [1, 2, 2, 3], b = [2, 3, 4].
        let t = mann_whitney(&[1.0, 2.0, 2.0, 3.0], &[2.0, 3.0, 4.0]).expect("test");
        assert!((t.p - brute_force_p(&[1.0, 2.0, 2.0, 3.0], &[2.0, 3.0, 4.0])).abs() < 1e-12);
    }

    /// Two-sided permutation p by listing every split (small n only).
    fn brute_force_p(a: &[f64], b: &[f64]) -> f64 {
        let pooled: Vec<f64> = a.iter().chain(b).copied().collect();
        let n = pooled.len();
        let u_of = |mask: u32| {
            let (xs, ys): (Vec<f64>, Vec<f64>) = (0..n)
                .map(|i| (pooled[i], mask >> i & 1 == 1))
                .fold((vec![], vec![]), |(mut x, mut y), (v, in_b)| {
                    if in_b {
                        y.push(v)
                    } else {
                        x.push(v)
                    }
                    (x, y)
                });
            let mut u = 0.0;
            for &yb in &ys {
                for &xa in &xs {
                    u += if yb > xa {
                        1.0
                    } else if yb == xa {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
            u
        };
        let observed = u_of(((1u32 << b.len()) - 1) << a.len());
        let all: Vec<f64> = (0..1u32 << n)
            .filter(|m| m.count_ones() as usize == b.len())
            .map(u_of)
            .collect();
        let total = all.len() as f64;
        let below = all.iter().filter(|&&u| u <= observed + 1e-9).count() as f64;
        let above = all.iter().filter(|&&u| u >= observed - 1e-9).count() as f64;
        (2.0 * below.min(above) / total).min(1.0)
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
