//! Property tests of the statistics: intervals hold their point estimate,
//! and nothing that is a score, a ratio, a p-value or an effect size moves
//! when every value is multiplied by the same c > 0 (a change of units).

use analyze::stats::mann_whitney::mann_whitney;
use analyze::stats::outliers::{outliers, scores};
use analyze::stats::welch::{hedges_g, welch};
use analyze::stats::{fieller, two_sample, RatioInterval, Summary};
use proptest::prelude::*;

/// Samples of 2-30 positive values around a mean, like benchmark results.
fn sample() -> impl Strategy<Value = Vec<f64>> {
    (1.0f64..1e4, 1e-6f64..0.5, 2usize..30).prop_flat_map(|(mean, spread, n)| {
        prop::collection::vec(-1.0f64..1.0, n)
            .prop_map(move |z| z.into_iter().map(|z| mean * (1.0 + spread * z)).collect())
    })
}

/// Unit changes: anything from 1e-3 to 1e3, powers of two included.
fn scale() -> impl Strategy<Value = f64> {
    prop_oneof![1e-3f64..1e3, (-10i32..10).prop_map(|k| 2f64.powi(k))]
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

fn times(v: &[f64], c: f64) -> Vec<f64> {
    v.iter().map(|x| x * c).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn t_interval_holds_the_mean_and_median_lies_within_range(v in sample()) {
        let s = Summary::of(&v).expect("summary");
        let (lo, hi) = s.ci.expect("n >= 2");
        prop_assert!(lo <= s.mean && s.mean <= hi, "{lo} {} {hi}", s.mean);
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        prop_assert!(min <= s.median && s.median <= max);
    }

    #[test]
    fn fieller_interval_holds_the_ratio(a in sample(), b in sample()) {
        let (sa, sb) = (Summary::of(&a).expect("a"), Summary::of(&b).expect("b"));
        let ratio = sa.mean / sb.mean;
        match fieller(&sa, &sb) {
            RatioInterval::Bounded(lo, hi) => {
                let slack = 1e-9 * ratio.abs();
                prop_assert!(lo - slack <= ratio && ratio <= hi + slack, "{lo} {ratio} {hi}");
            }
            RatioInterval::Unbounded => {}
            RatioInterval::TooFew | RatioInterval::Undefined => {
                prop_assert!(false, "n >= 2 and variance on both sides")
            }
        }
    }

    #[test]
    fn summaries_scale_with_the_unit_and_cv_does_not(v in sample(), c in scale()) {
        let (s, t) = (Summary::of(&v).expect("s"), Summary::of(&times(&v, c)).expect("t"));
        prop_assert!(close(t.mean, s.mean * c, 1e-9));
        prop_assert!(close(t.sd, s.sd * c, 1e-6) || s.sd < 1e-9 * s.mean.abs());
        prop_assert!(close(t.median, s.median * c, 1e-12));
        prop_assert!(close(t.cv(), s.cv(), 1e-6) || s.cv() < 1e-9);
    }

    #[test]
    fn ratio_tests_and_effects_do_not_depend_on_the_unit(a in sample(), b in sample(), c in scale()) {
        let x = two_sample(&a, &b).expect("x");
        let y = two_sample(&times(&a, c), &times(&b, c)).expect("y");
        prop_assert!(close(x.ratio.clone().expect("x"), y.ratio.clone().expect("y"), 1e-9));
        match (x.interval, y.interval) {
            (RatioInterval::Bounded(l1, h1), RatioInterval::Bounded(l2, h2)) => {
                prop_assert!(close(l1, l2, 1e-6) && close(h1, h2, 1e-6), "[{l1}, {h1}] vs [{l2}, {h2}]");
            }
            (i, j) => prop_assert_eq!(std::mem::discriminant(&i), std::mem::discriminant(&j)),
        }
        let (wx, wy) = (x.welch.expect("wx"), y.welch.expect("wy"));
        prop_assert!(close(wx.t, wy.t, 1e-6) && close(wx.df, wy.df, 1e-6));
        prop_assert!((wx.p - wy.p).abs() < 1e-9, "{} vs {}", wx.p, wy.p);
        prop_assert!(close(x.hedges_g.expect("g"), y.hedges_g.expect("g"), 1e-6));
        let (mx, my) = (x.mann_whitney.expect("mx"), y.mann_whitney.expect("my"));
        prop_assert_eq!(mx.u, my.u);
        prop_assert_eq!(mx.method, my.method);
        prop_assert!((mx.p - my.p).abs() < 1e-12 && mx.r == my.r);
        prop_assert_eq!(x.verdict(true), y.verdict(true));
    }

    #[test]
    fn p_values_are_probabilities_and_symmetric(a in sample(), b in sample()) {
        let (sa, sb) = (Summary::of(&a).expect("a"), Summary::of(&b).expect("b"));
        let (ab, ba) = (welch(&sa, &sb).expect("ab"), welch(&sb, &sa).expect("ba"));
        prop_assert!((0.0..=1.0).contains(&ab.p));
        prop_assert!((ab.p - ba.p).abs() < 1e-12 && ab.t == -ba.t);
        prop_assert!(close(hedges_g(&sa, &sb).expect("g"), -hedges_g(&sb, &sa).expect("g"), 1e-12));
        let (m1, m2) = (mann_whitney(&a, &b).expect("m1"), mann_whitney(&b, &a).expect("m2"));
        prop_assert!((0.0..=1.0).contains(&m1.p));
        prop_assert!((m1.p - m2.p).abs() < 1e-12);
        prop_assert!((m1.r + m2.r).abs() < 1e-12);
        prop_assert!((-1.0..=1.0).contains(&m1.r));
    }

    #[test]
    fn outliers_do_not_depend_on_the_unit(v in sample(), c in scale()) {
        let flagged: Vec<usize> = outliers(&v).into_iter().map(|(i, _)| i).collect();
        let again: Vec<usize> = outliers(&times(&v, c)).into_iter().map(|(i, _)| i).collect();
        prop_assert_eq!(flagged, again);
        for (s, t) in scores(&v).into_iter().zip(scores(&times(&v, c))) {
            prop_assert!(close(s, t, 1e-6) || (s < 1e-6 && t < 1e-6), "{s} vs {t}");
        }
    }

    #[test]
    fn a_far_value_is_always_flagged_and_kept(v in sample(), far in 20.0f64..1e3) {
        let s = Summary::of(&v).expect("s");
        let mut with = v.clone();
        let spread = v.iter().map(|x| (x - s.median).abs()).fold(0.0, f64::max);
        with.push(s.median + far * spread.max(1e-9 * s.mean.abs()) + 1.0);
        let flagged = outliers(&with);
        prop_assert!(flagged.iter().any(|&(i, _)| i == v.len()));
        prop_assert_eq!(with.len(), v.len() + 1);
    }
}

/// Whether `v` lies in a ratio interval (unbounded holds everything).
fn holds(interval: RatioInterval, v: f64) -> bool {
    match interval {
        RatioInterval::Bounded(lo, hi) => lo <= v && v <= hi,
        RatioInterval::Unbounded => true,
        RatioInterval::TooFew | RatioInterval::Undefined => false,
    }
}

/// Standard normal draws (Box-Muller) from the tests' deterministic Rng.
fn normal(rng: &mut crate::common::Rng) -> f64 {
    let (u1, u2) = (rng.unit().max(1e-300), rng.unit());
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Data generated from the Universal Scalability Law (per-guest time,
    /// normal noise) give back its parameters within their 95% intervals
    /// about 95% of the time: over 200 data sets each, the coverage of T1,
    /// sigma, kappa and of the slope of the straight-line law stays within
    /// binomial reach of 0.95 (0.88 is 4.6 standard errors below).
    #[test]
    fn usl_fits_return_their_parameters_within_their_intervals(
        t1 in 10.0f64..1000.0,
        sigma in 0.0f64..0.3,
        kappa in 0.0f64..0.02,
        noise in 0.005f64..0.05,
        seed in any::<u64>(),
    ) {
        use analyze::stats::usl::{fit_as, slope, Model};
        let ns = [1.0, 2.0, 4.0, 8.0, 16.0];
        let mut rng = crate::common::Rng(seed | 1);
        let (mut c_t1, mut c_sigma, mut c_kappa, mut c_slope) = (0, 0, 0, 0);
        let runs = 200;
        for _ in 0..runs {
            let mut usl_points = Vec::new();
            let mut line_points = Vec::new();
            for &n in &ns {
                for _ in 0..3 {
                    let mean = t1 * (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0));
                    usl_points.push((n, mean + noise * t1 * normal(&mut rng)));
                    let line = t1 * (1.0 + sigma * (n - 1.0));
                    line_points.push((n, line + noise * t1 * normal(&mut rng)));
                }
            }
            let f = fit_as(&usl_points, Model::Usl).expect("fit");
            c_t1 += usize::from(f.t1.1 <= t1 && t1 <= f.t1.2);
            c_sigma += usize::from(holds(f.sigma.interval, sigma));
            c_kappa += usize::from(holds(f.kappa.expect("kappa").interval, kappa));
            let s = slope(&line_points).expect("slope");
            c_slope += usize::from(s.slope.1 <= t1 * sigma && t1 * sigma <= s.slope.2);
        }
        for (name, c) in [("T1", c_t1), ("sigma", c_sigma), ("kappa", c_kappa), ("slope", c_slope)] {
            let coverage = c as f64 / runs as f64;
            prop_assert!((0.88..=0.995).contains(&coverage), "{name}: coverage {coverage}");
        }
    }
}
