//! Outliers by the median absolute deviation. Flagged, never dropped.
//!
//! Method: Leys, Ley, Klein, Bernard & Licata (2013), "Detecting outliers: Do
//! not use standard deviation around the mean, use absolute deviation around
//! the median", J. Exp. Soc. Psychol. 49(4), 764-766. A value `x` of a
//! sample is an outlier when `|x - median| / (b · MAD) > k`, with
//! `MAD = median(|x_i - median|)`, `b = 1.4826` (= 1 / Φ⁻¹(3/4), which makes
//! `b · MAD` estimate the standard deviation of normal data) and `k = 3`,
//! the "very conservative" threshold of Leys et al. When MAD is 0 (more
//! than half of the values are equal) every value that differs from the
//! median is flagged (its score is infinite). Samples of fewer than three
//! values are never flagged. Scores do not change when every value is
//! multiplied by the same c > 0.

use super::Method;

pub const METHOD: Method = Method {
    name: "MAD outliers: |x - median| / (1.4826 MAD) > 3, flagged and kept",
    reference: "Leys, C. et al. (2013). J. Exp. Soc. Psychol. 49(4), 764-766",
};

/// Consistency constant: 1 / Φ⁻¹(0.75) (Leys et al. 2013).
pub const MAD_SCALE: f64 = 1.4826;
/// Threshold in robust standard deviations: Leys et al.'s "very
/// conservative" choice (2.5 is their moderate one, 2 the poorly
/// conservative one).
pub const THRESHOLD: f64 = 3.0;

/// Median of values (mean of the two middle ones for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// Robust score of every value: `|x - median| / (1.4826 MAD)`; 0 for values
/// equal to the median, infinite for others when MAD is 0.
pub fn scores(values: &[f64]) -> Vec<f64> {
    let med = median(values);
    let deviations: Vec<f64> = values.iter().map(|v| (v - med).abs()).collect();
    let mad = median(&deviations);
    deviations
        .iter()
        .map(|&d| {
            if d == 0.0 {
                0.0
            } else if mad == 0.0 {
                f64::INFINITY
            } else {
                d / (MAD_SCALE * mad)
            }
        })
        .collect()
}

/// Indices of the outliers of a sample, with their scores.
pub fn outliers(values: &[f64]) -> Vec<(usize, f64)> {
    if values.len() < 3 {
        return Vec::new();
    }
    scores(values)
        .into_iter()
        .enumerate()
        .filter(|&(_, s)| s > THRESHOLD)
        .collect()
}

/// A score as printed: two decimals, more when rounding would bring it to
/// or below the threshold (3.0004 prints "3.0004", never "3.00", which would
/// read as not an outlier); `inf` for an infinite score.
pub fn score_text(score: f64) -> String {
    if !score.is_finite() {
        return "inf".into();
    }
    for decimals in 2..=12 {
        let text = format!("{score:.decimals$}");
        let printed: f64 = text.parse().unwrap_or(score);
        if (printed > THRESHOLD) == (score > THRESHOLD) {
            return text;
        }
    }
    format!("{score}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_scores_stay_on_their_side_of_the_threshold() {
        assert_eq!(score_text(3.035), "3.04");
        assert_eq!(score_text(3.0004), "3.0004");
        assert_eq!(score_text(2.9996), "3.00");
        assert_eq!(score_text(26.3), "26.30");
        assert_eq!(score_text(f64::INFINITY), "inf");
    }

    #[test]
    fn flags_the_far_value_only() {
        // median 10.5, deviations [0.5, 0, 1, 0.5, 19.5] -> MAD 0.5, b·MAD 0.7413
        let v = [10.0, 10.5, 9.5, 11.0, 30.0];
        let found = outliers(&v);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, 4);
        assert!((found[0].1 - 19.5 / (1.4826 * 0.5)).abs() < 1e-9);
    }

    #[test]
    fn zero_mad_flags_values_off_the_median() {
        assert_eq!(outliers(&[5.0, 5.0, 5.0, 6.0]), vec![(3, f64::INFINITY)]);
        assert!(outliers(&[5.0, 5.0, 5.0]).is_empty());
        assert!(outliers(&[1.0, 100.0]).is_empty());
    }
}
