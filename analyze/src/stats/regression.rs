//! Ordinary least squares with up to a few coefficients, their covariance
//! and Student-t intervals, and the confidence band of the fitted mean.
//!
//! Method: the normal equations `β = (XᵀX)⁻¹ Xᵀy`, the residual variance
//! `s² = RSS / (n - p)` and `Cov(β) = s² (XᵀX)⁻¹`; 95% intervals
//! `β_j ± t(0.975, n - p) · se_j` and, for the mean response at a point x,
//! `x·β ± t(0.975, n - p) · sqrt(xᵀ Cov(β) x)` (e.g. Montgomery, Peck &
//! Vining, Introduction to Linear Regression Analysis, §2.4, §3.4). Assumes
//! independent errors of equal variance. Models are compared by AICc
//! (Hurvich & Tsai 1989, "Regression and time series model selection in
//! small samples", Biometrika 76(2)): `n ln(RSS/n) + 2k + 2k(k+1)/(n-k-1)`
//! with `k = p + 1` (the coefficients and the variance).

use super::summary::t_quantile;

/// A least-squares fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub beta: Vec<f64>,
    /// `Cov(β)`, p x p.
    pub cov: Vec<Vec<f64>>,
    pub n: usize,
    /// Residual degrees of freedom, n - p.
    pub df: usize,
    pub rss: f64,
}

/// Inverse of a small symmetric positive definite matrix by Gauss-Jordan
/// elimination with partial pivoting; `None` when it is singular.
fn invert(m: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let p = m.len();
    let mut a: Vec<Vec<f64>> = m
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut r = row.clone();
            r.extend((0..p).map(|j| if i == j { 1.0 } else { 0.0 }));
            r
        })
        .collect();
    let scale = m
        .iter()
        .flatten()
        .fold(0.0f64, |s, v| s.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    for col in 0..p {
        let pivot = (col..p).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))?;
        if a[pivot][col].abs() <= 1e-12 * scale {
            return None;
        }
        a.swap(col, pivot);
        let d = a[col][col];
        for v in &mut a[col] {
            *v /= d;
        }
        for r in 0..p {
            if r != col {
                let f = a[r][col];
                if f != 0.0 {
                    let pivot_row = a[col].clone();
                    for (v, pv) in a[r].iter_mut().zip(&pivot_row) {
                        *v -= f * pv;
                    }
                }
            }
        }
    }
    Some(a.into_iter().map(|r| r[p..].to_vec()).collect())
}

/// Fits `y ≈ X β` by least squares; `x[i]` is the row of observation i.
/// `None` when there are not more observations than coefficients or the
/// design is singular (e.g. one distinct x for a slope).
pub fn ols(x: &[Vec<f64>], y: &[f64]) -> Option<Fit> {
    let n = y.len();
    let p = x.first()?.len();
    if n <= p || x.len() != n {
        return None;
    }
    let mut xtx = vec![vec![0.0; p]; p];
    let mut xty = vec![0.0; p];
    for (row, &yi) in x.iter().zip(y) {
        for j in 0..p {
            xty[j] += row[j] * yi;
            for k in 0..p {
                xtx[j][k] += row[j] * row[k];
            }
        }
    }
    let inv = invert(&xtx)?;
    let beta: Vec<f64> = (0..p)
        .map(|j| (0..p).map(|k| inv[j][k] * xty[k]).sum())
        .collect();
    let rss: f64 = x
        .iter()
        .zip(y)
        .map(|(row, &yi)| {
            let fitted: f64 = row.iter().zip(&beta).map(|(a, b)| a * b).sum();
            (yi - fitted).powi(2)
        })
        .sum();
    let df = n - p;
    let s2 = rss / df as f64;
    let cov = inv
        .iter()
        .map(|r| r.iter().map(|v| v * s2).collect())
        .collect();
    Some(Fit {
        beta,
        cov,
        n,
        df,
        rss,
    })
}

impl Fit {
    /// Standard error of coefficient `j`.
    pub fn se(&self, j: usize) -> f64 {
        self.cov[j][j].max(0.0).sqrt()
    }

    /// The Student-t quantile of this fit's intervals.
    pub fn t(&self) -> f64 {
        t_quantile(self.df as f64)
    }

    /// 95% interval of coefficient `j`.
    pub fn interval(&self, j: usize) -> (f64, f64) {
        let h = self.t() * self.se(j);
        (self.beta[j] - h, self.beta[j] + h)
    }

    /// The fitted mean at the design row `x` with its 95% confidence band.
    pub fn mean_at(&self, x: &[f64]) -> (f64, f64, f64) {
        let m: f64 = x.iter().zip(&self.beta).map(|(a, b)| a * b).sum();
        let var: f64 = (0..x.len())
            .map(|j| {
                (0..x.len())
                    .map(|k| x[j] * self.cov[j][k] * x[k])
                    .sum::<f64>()
            })
            .sum();
        let h = self.t() * var.max(0.0).sqrt();
        (m, m - h, m + h)
    }

    /// AICc of the fit (see the module doc); infinite when undefined.
    pub fn aicc(&self) -> f64 {
        let (n, k) = (self.n as f64, self.beta.len() as f64 + 1.0);
        if n - k - 1.0 <= 0.0 || self.rss <= 0.0 {
            return if self.rss <= 0.0 && n - k - 1.0 > 0.0 {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            };
        }
        n * (self.rss / n).ln() + 2.0 * k + 2.0 * k * (k + 1.0) / (n - k - 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_recovered_with_its_textbook_interval() {
        // y = 1 + 2x + e with e = [0.1, -0.1, -0.1, 0.1]; x = 1..4.
        let x: Vec<Vec<f64>> = (1..=4).map(|v| vec![1.0, f64::from(v)]).collect();
        let y = [3.1, 4.9, 6.9, 9.1];
        let f = ols(&x, &y).expect("fit");
        assert!((f.beta[0] - 1.0).abs() < 1e-12 && (f.beta[1] - 2.0).abs() < 1e-12);
        // RSS = 0.04; s² = 0.02; Sxx = 5 -> se(slope) = sqrt(0.004).
        assert!((f.rss - 0.04).abs() < 1e-12);
        assert!((f.se(1) - 0.004f64.sqrt()).abs() < 1e-12);
        let (lo, hi) = f.interval(1);
        let half = 4.302_652_7 * 0.004f64.sqrt(); // t(0.975, 2)
        assert!((lo - (2.0 - half)).abs() < 1e-6 && (hi - (2.0 + half)).abs() < 1e-6);
    }

    #[test]
    fn singular_or_too_small_designs_have_no_fit() {
        let x = vec![vec![1.0, 2.0]; 4];
        assert_eq!(ols(&x, &[1.0, 2.0, 3.0, 4.0]), None);
        assert_eq!(ols(&[vec![1.0, 1.0], vec![1.0, 2.0]], &[1.0, 2.0]), None);
    }
}
