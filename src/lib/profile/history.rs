//! A profile value against the same entity's own history: Apache Metron's outlier
//! recipe (metron-statistics, `OUTLIER_MAD_SCORE`): the modified z-score
//! `M = 0.6745 * (x - median) / MAD` over the entity's last periods, an outlier when
//! `M > 3.5` (Iglewicz and Hoaglin's cut-off, which Metron's example uses). The
//! history is kept exactly (168 values, a week of hours), so no sketch is needed.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Periods kept per entity.
pub const KEEP: usize = 168;
/// The cut-off of the modified z-score.
pub const OUTLIER: f64 = 3.5;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    values: VecDeque<f64>,
}

/// How a value stands against its history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judged {
    pub median: f64,
    pub mad: f64,
    /// The modified z-score.
    pub m: f64,
}

impl Judged {
    pub fn is_outlier(&self) -> bool {
        self.m > OUTLIER
    }

    /// 0.5 at the cut-off, 1.0 at ten times it (log scale).
    pub fn score(&self) -> f64 {
        (0.5 + 0.5 * (self.m / OUTLIER).max(f64::MIN_POSITIVE).log10()).clamp(0.0, 1.0)
    }
}

impl History {
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn push(&mut self, v: f64) {
        if !v.is_finite() {
            return;
        }
        if self.values.len() == KEEP {
            self.values.pop_front();
        }
        self.values.push_back(v);
    }

    /// `value` against the history, once it has `min` periods. A history that never
    /// varied has no MAD: the floor is 1% of the median or one unit, whichever is
    /// larger, so that a constant entity's jump still scores.
    pub fn judge(&self, value: f64, min: usize) -> Option<Judged> {
        if self.values.len() < min.max(1) || !value.is_finite() {
            return None;
        }
        let mut sorted: Vec<f64> = self.values.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let median = median_of(&sorted);
        let mut dev: Vec<f64> = sorted.iter().map(|v| (v - median).abs()).collect();
        dev.sort_by(f64::total_cmp);
        let mad = median_of(&dev);
        let floor = (0.01 * median.abs()).max(1.0);
        Some(Judged { median, mad, m: 0.6745 * (value - median) / mad.max(floor) })
    }
}

fn median_of(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jump_is_an_outlier_and_ordinary_variation_is_not() {
        let mut h = History::default();
        for v in [100.0, 120.0, 90.0, 110.0, 105.0, 95.0, 115.0, 100.0] {
            h.push(v);
        }
        assert!(h.judge(1_000.0, 12).is_none(), "too little history");
        let j = h.judge(1_000.0, 8).unwrap();
        assert_eq!(j.median, 102.5);
        assert!(j.is_outlier() && j.score() > 0.9, "{j:?}");
        assert!(!h.judge(125.0, 8).unwrap().is_outlier());
        for _ in 0..200 {
            h.push(7.0);
        }
        assert_eq!(h.len(), KEEP);
        assert!(h.judge(7.0, 8).unwrap().m.abs() < 1e-9);
        assert!(h.judge(70.0, 8).unwrap().is_outlier(), "a constant history still judges a jump");
    }
}
