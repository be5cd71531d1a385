//! Adaptive repetitions: when a workload has run often enough on a
//! platform.
//!
//! Method, after Kalibera & Jones 2013 ("Rigorous benchmarking in
//! reasonable time", ISMM '13: size the repetitions from a dimensioning
//! run instead of fixing them in advance):
//!
//! 1. A first block of `min` repetitions is the dimensioning run.
//! 2. After each block, for every metric the workload reports, the 95%
//!    Student-t interval of the mean of the ok values is computed; its
//!    relative half-width is `t(0.975, n-1) s / (sqrt(n) |mean|)`.
//! 3. The lane stops when every metric's relative half-width is at most
//!    `target_ci` (`target`); else when `max` repetitions ran (`max`); else
//!    when a repetition of the block failed or did not return
//!    (`failures`: a failing workload never runs on to `max`).
//! 4. Otherwise the next block runs the repetitions the sample says are
//!    needed, `n* = ceil((t(0.975, n-1) s / (target |mean|))^2)` of the
//!    metric that needs most, minus those run; at least half of those run
//!    (so a lane needs few blocks, each a guest boot on guest platforms) and
//!    at most up to `max`. A metric whose mean is 0, or with fewer than two
//!    values, cannot be sized: the block then runs up to `max`.
//!
//! The rule is a pure function of the values, so `analyze verify
//! --rederive` decides it again from the raw files. Checking after every
//! block is sequential testing: the interval of the stopped sample is
//! slightly optimistic (the stop happens when it looks narrow); the bound
//! on blocks and the minimum block keep that small, and the report shows
//! each interval as computed from all repetitions.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Confidence of the interval the rule checks.
pub const CONFIDENCE: f64 = 0.95;

/// `repetitions = { min = 5, max = 30, target_ci = 0.01 }` of a suite.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adaptive {
    /// Repetitions of the first block (the dimensioning run); at least 2.
    pub min: u32,
    /// Repetitions at most.
    pub max: u32,
    /// Target relative half-width of the 95% interval of each mean
    /// (0.01: within +-1% of the mean).
    pub target_ci: f64,
}

/// Why a lane (one workload on one platform) stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StopReason {
    /// The suite fixes the number of repetitions.
    Fixed,
    /// Every metric's interval is within the target.
    Target,
    /// `max` repetitions ran.
    Max,
    /// A repetition of the last block failed or did not return.
    Failures,
}

impl StopReason {
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Fixed => "fixed",
            StopReason::Target => "target",
            StopReason::Max => "max",
            StopReason::Failures => "failures",
        }
    }
}

/// One metric's state after a block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricCheck {
    pub metric: String,
    /// Ok values so far.
    pub n: usize,
    pub mean: Option<f64>,
    /// Half-width of the 95% Student-t interval of the mean.
    pub half_width: Option<f64>,
    /// `half_width / |mean|`; none when the mean is 0 or n < 2.
    pub relative: Option<f64>,
    /// Repetitions the sample says reach the target; none when it cannot
    /// say (n < 2, mean 0).
    pub needed: Option<u32>,
}

/// What the rule decided after a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "decision")]
pub enum Decision {
    /// Run `next` more repetitions.
    Continue {
        next: u32,
    },
    Stop {
        reason: StopReason,
    },
}

/// Why an `Adaptive` is not valid: the key and the reason.
pub type Invalid = (&'static str, String);

impl Adaptive {
    /// Checks the ranges: 2 <= min <= max <= 1000, 0 < target_ci < 1.
    pub fn validate(&self) -> Result<(), Invalid> {
        if !(2..=1000).contains(&self.min) {
            return Err((
                "min",
                format!(
                    "{} is outside 2-1000 (an interval needs two values)",
                    self.min
                ),
            ));
        }
        if !(self.min..=1000).contains(&self.max) {
            return Err((
                "max",
                format!("{} is outside min ({})-1000", self.max, self.min),
            ));
        }
        if !(self.target_ci.is_finite() && self.target_ci > 0.0 && self.target_ci < 1.0) {
            return Err((
                "target_ci",
                format!(
                    "{} is not a fraction between 0 and 1 (0.01 is +-1%)",
                    self.target_ci
                ),
            ));
        }
        Ok(())
    }

    /// The smallest block after `run` repetitions: half of them.
    fn least_next(run: u32) -> u32 {
        run.div_ceil(2).max(1)
    }

    /// The most blocks a lane can need: each block after the first adds at
    /// least half of the repetitions run before it, up to `max`.
    pub fn max_blocks(&self) -> u32 {
        let (mut run, mut blocks) = (self.min, 1);
        while run < self.max {
            run += Self::least_next(run).min(self.max - run);
            blocks += 1;
        }
        blocks
    }

    /// The rule after a block: `run` repetitions so far (ok or not),
    /// `failed` whether one of the last block's failed or did not return,
    /// `metrics` each metric's ok values so far.
    pub fn decide(
        &self,
        run: u32,
        failed: bool,
        metrics: &[(&str, Vec<f64>)],
    ) -> (Vec<MetricCheck>, Decision) {
        let checks: Vec<MetricCheck> = metrics
            .iter()
            .map(|(m, values)| check(m, values, self.target_ci))
            .collect();
        let within = !checks.is_empty()
            && checks
                .iter()
                .all(|c| c.relative.is_some_and(|r| r <= self.target_ci));
        let decision = if within {
            Decision::Stop {
                reason: StopReason::Target,
            }
        } else if run >= self.max {
            Decision::Stop {
                reason: StopReason::Max,
            }
        } else if failed {
            Decision::Stop {
                reason: StopReason::Failures,
            }
        } else {
            let room = self.max - run;
            let needed = checks
                .iter()
                .map(|c| c.needed)
                .try_fold(0u32, |most, n| n.map(|n| most.max(n)));
            let next = match needed {
                Some(n) => n.saturating_sub(run).max(Self::least_next(run)).min(room),
                None => room,
            };
            Decision::Continue { next }
        };
        (checks, decision)
    }
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom.
pub fn t_quantile(df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df.max(1.0))
        .map(|t| t.inverse_cdf(1.0 - (1.0 - CONFIDENCE) / 2.0))
        .unwrap_or(f64::NAN)
}

/// One metric's interval and the repetitions it needs.
fn check(metric: &str, values: &[f64], target: f64) -> MetricCheck {
    let n = values.len();
    let mut c = MetricCheck {
        metric: metric.to_owned(),
        n,
        mean: None,
        half_width: None,
        relative: None,
        needed: None,
    };
    if n == 0 {
        return c;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    c.mean = Some(mean);
    if n < 2 {
        return c;
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let sd = var.sqrt();
    let t = t_quantile((n - 1) as f64);
    let half = t * sd / (n as f64).sqrt();
    c.half_width = Some(half);
    if mean != 0.0 && half.is_finite() {
        c.relative = Some(half / mean.abs());
        let n_star = (t * sd / (target * mean.abs())).powi(2).ceil();
        c.needed = Some(if n_star.is_finite() && n_star < f64::from(u32::MAX) {
            (n_star as u32).max(2)
        } else {
            u32::MAX
        });
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const RULE: Adaptive = Adaptive {
        min: 5,
        max: 30,
        target_ci: 0.01,
    };

    #[test]
    fn narrow_samples_stop_at_the_target_and_wide_ones_are_sized() {
        // sd 0.1 around 100: half-width t(4) 0.1/sqrt(5) = 0.124 -> 0.12%.
        let narrow = vec![100.0, 100.1, 99.9, 100.05, 99.95];
        let (checks, d) = RULE.decide(5, false, &[("x", narrow)]);
        assert_eq!(
            d,
            Decision::Stop {
                reason: StopReason::Target
            }
        );
        assert!(checks[0].relative.is_some_and(|r| r < 0.002));
        // sd ~2.5 around 100: n* = (2.776 * 2.55 / 1)^2 = 50 -> up to max.
        let wide = vec![97.0, 100.0, 103.0, 99.0, 101.5];
        let (checks, d) = RULE.decide(5, false, &[("x", wide)]);
        assert!(checks[0].needed.is_some_and(|n| n > 30), "{checks:?}");
        assert_eq!(d, Decision::Continue { next: 25 });
        // Moderate: sd 1.275 around 100 (relative 1.6%): n* =
        // ceil((2.776 * 1.275 / 1)^2) = 13, so 8 more.
        let mid = vec![100.0, 101.5, 98.5, 101.0, 99.0];
        let (checks, d) = RULE.decide(5, false, &[("x", mid)]);
        assert_eq!(checks[0].needed, Some(13));
        assert_eq!(d, Decision::Continue { next: 8 });
    }

    #[test]
    fn every_metric_must_be_within_and_failures_or_max_end_the_lane() {
        let ok = vec![10.0, 10.01, 9.99, 10.0, 10.0];
        let bad = vec![1.0, 2.0, 3.0, 4.0, 5.0];
        let (_, d) = RULE.decide(5, false, &[("a", ok.clone()), ("b", bad.clone())]);
        assert!(matches!(d, Decision::Continue { .. }));
        let (_, d) = RULE.decide(30, false, &[("a", ok.clone()), ("b", bad.clone())]);
        assert_eq!(
            d,
            Decision::Stop {
                reason: StopReason::Max
            }
        );
        let (_, d) = RULE.decide(5, true, &[("a", ok.clone()), ("b", bad)]);
        assert_eq!(
            d,
            Decision::Stop {
                reason: StopReason::Failures
            }
        );
        // A mean of 0 cannot be sized: the block runs up to max.
        let (checks, d) = RULE.decide(5, false, &[("z", vec![-1.0, 1.0, 0.0, -0.5, 0.5])]);
        assert_eq!((checks[0].relative, checks[0].needed), (None, None));
        assert_eq!(d, Decision::Continue { next: 25 });
        // One value: no interval.
        let (checks, _) = RULE.decide(5, true, &[("one", vec![3.0])]);
        assert_eq!(checks[0].half_width, None);
    }

    #[test]
    fn blocks_are_bounded() {
        assert_eq!(RULE.max_blocks(), 6, "5, 8, 12, 18, 27, 30");
        let fixed = Adaptive {
            min: 7,
            max: 7,
            target_ci: 0.05,
        };
        assert_eq!(fixed.max_blocks(), 1);
    }

    #[test]
    fn validation_names_the_key() {
        let bad = |min, max, t| {
            Adaptive {
                min,
                max,
                target_ci: t,
            }
            .validate()
            .expect_err("invalid")
            .0
        };
        assert_eq!(bad(1, 5, 0.01), "min");
        assert_eq!(bad(5, 4, 0.01), "max");
        assert_eq!(bad(5, 1001, 0.01), "max");
        assert_eq!(bad(5, 10, 0.0), "target_ci");
        assert_eq!(bad(5, 10, f64::NAN), "target_ci");
        RULE.validate().expect("valid");
    }

    proptest! {
        /// Following the rule's own blocks never exceeds max, never takes
        /// more blocks than max_blocks, and stops.
        #[test]
        fn lanes_end_within_their_bounds(
            min in 2u32..12, extra in 0u32..40, target in 0.001f64..0.2,
            values in proptest::collection::vec(1.0f64..2.0, 60),
        ) {
            let rule = Adaptive { min, max: min + extra, target_ci: target };
            let mut run = rule.min;
            let mut blocks = 1;
            loop {
                let sample = values[..run as usize].to_vec();
                match rule.decide(run, false, &[("m", sample)]).1 {
                    Decision::Stop { reason } => {
                        prop_assert!(reason == StopReason::Target || reason == StopReason::Max);
                        break;
                    }
                    Decision::Continue { next } => {
                        prop_assert!(next >= 1 && run + next <= rule.max);
                        run += next;
                        blocks += 1;
                    }
                }
            }
            prop_assert!(blocks <= rule.max_blocks());
        }
    }
}
