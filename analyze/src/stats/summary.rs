//! Descriptive statistics of one sample and the Student-t interval of its
//! mean.
//!
//! Method: sample mean; sample standard deviation with Bessel's correction
//! (n - 1); median (mean of the two middle values for even n); 95% interval
//! of the mean `mean ± t(0.975, n-1) · sd / sqrt(n)` (Student, 1908), which
//! assumes roughly normal, independent repetitions. No interval for n < 2.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::{Method, CONFIDENCE};

pub const METHOD: Method = Method {
    name: "mean, median, sample standard deviation (n - 1) and coefficient of variation sd/|mean|",
    reference: "Bessel's correction; e.g. Montgomery & Runger, Applied Statistics and Probability for Engineers",
};

pub const INTERVAL: Method = Method {
    name: "95% Student-t interval of a mean: mean ± t(0.975, n-1) sd/sqrt(n)",
    reference: "Student (1908). Biometrika 6(1), 1-25",
};

/// Summary of one sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n - 1); 0 for n = 1.
    pub sd: f64,
    pub median: f64,
    /// 95% t-interval of the mean; `None` when n < 2.
    pub ci: Option<(f64, f64)>,
}

impl Summary {
    /// Summarizes finite values; `None` for an empty sample.
    pub fn of(values: &[f64]) -> Option<Summary> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        let ci = (n > 1).then(|| {
            let half = t_quantile((n - 1) as f64) * sd / (n as f64).sqrt();
            (mean - half, mean + half)
        });
        Some(Summary {
            n,
            mean,
            sd,
            median,
            ci,
        })
    }

    /// Coefficient of variation, sd / |mean|.
    pub fn cv(&self) -> f64 {
        if self.mean == 0.0 {
            f64::INFINITY
        } else {
            self.sd / self.mean.abs()
        }
    }

    /// Variance of the mean, sd² / n.
    pub fn var_of_mean(&self) -> f64 {
        self.sd * self.sd / self.n as f64
    }
}

/// Two-sided Student-t quantile for [`CONFIDENCE`] with `df` degrees of freedom.
pub fn t_quantile(df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df.max(1.0))
        .map(|t| t.inverse_cdf(1.0 - (1.0 - CONFIDENCE) / 2.0))
        .unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_sample() {
        // Mean 5, sd sqrt(2.5) ~ 1.5811; t(0.975, 4) = 2.7764.
        let s = Summary::of(&[3.0, 4.0, 5.0, 6.0, 7.0]).expect("summary");
        assert_eq!(s.n, 5);
        assert!((s.mean - 5.0).abs() < 1e-12);
        assert!((s.sd - 2.5f64.sqrt()).abs() < 1e-12);
        assert_eq!(s.median, 5.0);
        let (lo, hi) = s.ci.expect("ci");
        let half = 2.776_445 * 2.5f64.sqrt() / 5f64.sqrt();
        assert!((lo - (5.0 - half)).abs() < 1e-4 && (hi - (5.0 + half)).abs() < 1e-4);
    }

    #[test]
    fn single_value_has_no_interval() {
        let s = Summary::of(&[2.0]).expect("summary");
        assert_eq!((s.sd, s.ci), (0.0, None));
        assert!(Summary::of(&[]).is_none());
    }
}
