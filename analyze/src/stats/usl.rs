//! How cost grows with the number of guests N: the cost of one more guest
//! (a slope) and Gunther's Universal Scalability Law, fitted to the
//! per-guest values of the scalability experiment.
//!
//! Method:
//!
//! - **Slope**: least squares of each completed guest's value against N,
//!   `y = a + b N`; `b` is the cost of one more guest (seconds per guest
//!   for a compile time) with its 95% Student-t interval (`regression`).
//!   Guests that did not return (DNR) or failed have no value: excluded,
//!   and counted beside the fit. Each guest is one observation; the guests
//!   of one run share the host, so the interval assumes they vary
//!   independently around the line, which the report states.
//! - **Universal Scalability Law** (Gunther 1993; Gunther, "Guerrilla
//!   Capacity Planning", Springer 2007, ch. 4): throughput with N
//!   concurrent guests `X(N) = λN / (1 + σ(N - 1) + κN(N - 1))`, σ the
//!   contention (serialization) and κ the coherency (crosstalk) cost. Each
//!   guest doing the same work, its completion time is
//!   `T(N) = T1 (1 + σ(N - 1) + κN(N - 1))`: linear in `(T1, T1σ, T1κ)`,
//!   fitted by least squares on the basis `1, N - 1, N(N - 1)`. The
//!   contention-only model (κ = 0, Amdahl's law in this form) is fitted on
//!   `1, N - 1`. σ and κ are ratios of correlated coefficients; their 95%
//!   intervals are Fieller's for correlated estimates (`ratio::fieller_cov`).
//! - **Model choice**: the full USL when its AICc is at least 2 below the
//!   contention-only model's (Burnham & Anderson 2002, Model Selection and
//!   Multimodel Inference, §2.6: a difference under 2 gives no support for
//!   the larger model), else contention-only. The USL needs at least three
//!   distinct N, the contention-only model two.
//! - **Comparing platforms**: the difference of two slopes with the 95%
//!   interval `Δ ± t(0.975, ν) sqrt(se₁² + se₂²)`, ν by Welch-Satterthwaite
//!   from the fits' residual degrees of freedom.

use super::ratio::{fieller_cov, RatioInterval};
use super::regression::{ols, Fit};
use super::summary::t_quantile;
use super::Method;

pub const SLOPE: Method = Method {
    name: "cost of one more guest: least-squares slope of each completed guest's value against N, 95% Student-t interval (DNR and failed guests excluded and counted); platforms compared by the difference of slopes (Welch-Satterthwaite df)",
    reference: "e.g. Montgomery, Peck & Vining, Introduction to Linear Regression Analysis, ch. 2",
};

pub const MODEL: Method = Method {
    name: "Universal Scalability Law in per-guest time, T(N) = T1 (1 + sigma (N-1) + kappa N (N-1)), least squares; contention-only (kappa = 0) unless the full law's AICc is at least 2 lower; Fieller intervals of sigma and kappa",
    reference: "Gunther, N. J. (2007). Guerrilla Capacity Planning, Springer; Hurvich & Tsai (1989). Biometrika 76(2); Burnham & Anderson (2002). Model Selection and Multimodel Inference",
};

/// Which scalability model describes the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// κ = 0: cost grows linearly with N.
    Contention,
    /// The full USL: contention and coherency.
    Usl,
}

impl Model {
    pub fn as_str(self) -> &'static str {
        match self {
            Model::Contention => "USL, contention only (kappa = 0)",
            Model::Usl => "USL (contention and coherency)",
        }
    }
}

/// A value with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub value: f64,
    pub interval: RatioInterval,
}

/// The line `y = a + b N`.
#[derive(Debug, Clone, PartialEq)]
pub struct Slope {
    pub fit: Fit,
    /// b with its interval.
    pub slope: (f64, f64, f64),
}

/// A fitted USL.
#[derive(Debug, Clone, PartialEq)]
pub struct UslFit {
    pub model: Model,
    pub fit: Fit,
    /// T1 with its t-interval.
    pub t1: (f64, f64, f64),
    pub sigma: Estimate,
    /// `None` for the contention-only model.
    pub kappa: Option<Estimate>,
    /// AICc of the contention-only and (when fitted) the full model.
    pub aicc_contention: f64,
    pub aicc_usl: Option<f64>,
}

/// The cost of one more guest from `(N, value)` points.
pub fn slope(points: &[(f64, f64)]) -> Option<Slope> {
    let x: Vec<Vec<f64>> = points.iter().map(|&(n, _)| vec![1.0, n]).collect();
    let y: Vec<f64> = points.iter().map(|p| p.1).collect();
    let fit = ols(&x, &y)?;
    let (lo, hi) = fit.interval(1);
    Some(Slope {
        slope: (fit.beta[1], lo, hi),
        fit,
    })
}

fn basis(n: f64, model: Model) -> Vec<f64> {
    match model {
        Model::Contention => vec![1.0, n - 1.0],
        Model::Usl => vec![1.0, n - 1.0, n * (n - 1.0)],
    }
}

fn distinct(points: &[(f64, f64)]) -> usize {
    let mut ns: Vec<f64> = points.iter().map(|p| p.0).collect();
    ns.sort_by(f64::total_cmp);
    ns.dedup();
    ns.len()
}

fn fit_model(points: &[(f64, f64)], model: Model) -> Option<Fit> {
    let x: Vec<Vec<f64>> = points.iter().map(|&(n, _)| basis(n, model)).collect();
    let y: Vec<f64> = points.iter().map(|p| p.1).collect();
    ols(&x, &y)
}

/// Ratio `β_j / β_0` of a fit with its Fieller interval.
fn ratio(fit: &Fit, j: usize) -> Estimate {
    Estimate {
        value: fit.beta[j] / fit.beta[0],
        interval: fieller_cov(
            (fit.beta[j], fit.beta[0]),
            (fit.cov[j][j], fit.cov[0][0], fit.cov[j][0]),
            fit.t(),
        ),
    }
}

/// Fits both models to `(N, per-guest time)` points and keeps the one the
/// criterion chooses; `None` with fewer than two distinct N.
pub fn fit(points: &[(f64, f64)]) -> Option<UslFit> {
    if distinct(points) < 2 {
        return None;
    }
    let contention = fit_model(points, Model::Contention)?;
    let usl = (distinct(points) >= 3)
        .then(|| fit_model(points, Model::Usl))
        .flatten();
    let aicc_contention = contention.aicc();
    let aicc_usl = usl.as_ref().map(Fit::aicc);
    let (model, fit) = match (usl, aicc_usl) {
        (Some(u), Some(a)) if a <= aicc_contention - 2.0 => (Model::Usl, u),
        _ => (Model::Contention, contention),
    };
    Some(usl_fit(model, fit, aicc_contention, aicc_usl))
}

/// Fits `model` itself, whatever the criterion would choose.
pub fn fit_as(points: &[(f64, f64)], model: Model) -> Option<UslFit> {
    let f = fit_model(points, model)?;
    let a = f.aicc();
    Some(match model {
        Model::Contention => usl_fit(model, f, a, None),
        Model::Usl => usl_fit(model, f, f64::NAN, Some(a)),
    })
}

fn usl_fit(model: Model, fit: Fit, aicc_contention: f64, aicc_usl: Option<f64>) -> UslFit {
    let (lo, hi) = fit.interval(0);
    UslFit {
        model,
        t1: (fit.beta[0], lo, hi),
        sigma: ratio(&fit, 1),
        kappa: (model == Model::Usl).then(|| ratio(&fit, 2)),
        aicc_contention,
        aicc_usl,
        fit,
    }
}

impl UslFit {
    /// The fitted per-guest time at N with its 95% confidence band.
    pub fn at(&self, n: f64) -> (f64, f64, f64) {
        self.fit.mean_at(&basis(n, self.model))
    }
}

/// Difference `a - b` of two slopes with its 95% interval.
pub fn slope_difference(a: &Slope, b: &Slope) -> (f64, f64, f64) {
    let (va, vb) = (a.fit.se(1).powi(2), b.fit.se(1).powi(2));
    let df = (va + vb).powi(2)
        / (va * va / a.fit.df as f64 + vb * vb / b.fit.df as f64).max(f64::MIN_POSITIVE);
    let d = a.slope.0 - b.slope.0;
    let h = t_quantile(df) * (va + vb).sqrt();
    (d, d - h, d + h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usl_time(t1: f64, sigma: f64, kappa: f64, n: f64) -> f64 {
        t1 * (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0))
    }

    #[test]
    fn exact_usl_data_give_its_parameters_and_choose_the_full_law() {
        let noise = [0.3, -0.2, 0.1, -0.3, 0.2, 0.0];
        let mut points = Vec::new();
        for n in [1.0, 2.0, 4.0, 8.0, 16.0] {
            for e in noise {
                points.push((n, usl_time(100.0, 0.05, 0.01, n) + e));
            }
        }
        let f = fit(&points).expect("fit");
        assert_eq!(f.model, Model::Usl);
        assert!((f.t1.0 - 100.0).abs() < 0.5, "{f:?}");
        assert!((f.sigma.value - 0.05).abs() < 0.005, "{f:?}");
        let kappa = f.kappa.expect("kappa");
        assert!((kappa.value - 0.01).abs() < 0.0005, "{f:?}");
    }

    #[test]
    fn a_straight_line_keeps_the_contention_only_model() {
        let noise = [1.0, -1.0, 0.5, -0.5];
        let mut points = Vec::new();
        for n in [1.0, 2.0, 4.0, 8.0] {
            for e in noise {
                points.push((n, 100.0 + 10.0 * (n - 1.0) + e));
            }
        }
        let f = fit(&points).expect("fit");
        assert_eq!(f.model, Model::Contention);
        assert!((f.sigma.value - 0.1).abs() < 0.01);
        let s = slope(&points).expect("slope");
        assert!(s.slope.1 < 10.0 && 10.0 < s.slope.2);
        // Against itself the difference is 0 inside its interval.
        let (d, lo, hi) = slope_difference(&s, &s);
        assert!(d == 0.0 && lo < 0.0 && 0.0 < hi);
    }

    #[test]
    fn one_n_has_no_fit() {
        assert!(fit(&[(4.0, 1.0), (4.0, 2.0), (4.0, 3.0)]).is_none());
        assert!(slope(&[(4.0, 1.0), (4.0, 2.0), (4.0, 3.0)]).is_none());
    }
}
