//! The fixed-size summaries profiles keep: from Apache DataSketches (Apache-2.0) a
//! HyperLogLog for distinct counts (lg k = 12: 4,096 registers, about 1.6% relative
//! error, exact for small sets) and a frequent-items sketch for top values; and
//! DDSketch (Datadog's, Apache-2.0) for quantiles: every quantile within 1% of the
//! true value, and deterministic (a KLL sketch compacts at random, so the same data
//! could give other findings on another run). Each keeps its size whatever the
//! input, merges, and serializes so that state can be checkpointed.

use base64::Engine;
use datasketches::frequencies::{ErrorType, FrequentItemsSketch};
use datasketches::hll::{HllSketch, HllType};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sketches_ddsketch::{Config, DDSketch};

/// HyperLogLog precision: 2^12 registers.
pub const HLL_LG_K: u8 = 12;
/// Counters a frequent-items sketch keeps (a power of two).
pub const TOP_MAP_SIZE: usize = 64;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// A distinct count.
#[derive(Clone)]
pub struct Distinct(HllSketch);

impl Default for Distinct {
    fn default() -> Distinct {
        // 12 is within the library's 4..=21, so this cannot fail; a smaller sketch if
        // it ever did.
        Distinct(
            HllSketch::new(HLL_LG_K, HllType::Hll8)
                .or_else(|_| HllSketch::new(4, HllType::Hll8))
                .unwrap_or_else(|_| unreachable!("4 is a valid lg k")),
        )
    }
}

impl Distinct {
    pub fn add(&mut self, value: &str) {
        self.0.update(value);
    }

    pub fn add_bytes(&mut self, value: &[u8]) {
        self.0.update(value);
    }

    pub fn estimate(&self) -> f64 {
        self.0.estimate()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Distinct {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&b64().encode(self.0.serialize()))
    }
}

impl<'de> Deserialize<'de> for Distinct {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Distinct, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = b64().decode(text).map_err(serde::de::Error::custom)?;
        HllSketch::deserialize(&bytes).map(Distinct).map_err(|e| serde::de::Error::custom(e.to_string()))
    }
}

/// Quantiles of a stream of numbers, each within [`QUANTILE_ERROR`] of its value.
#[derive(Clone, Serialize, Deserialize)]
pub struct Quantiles(DDSketch);

/// DDSketch's relative accuracy.
pub const QUANTILE_ERROR: f64 = 0.01;

impl Default for Quantiles {
    fn default() -> Quantiles {
        Quantiles(DDSketch::new(Config::new(QUANTILE_ERROR, 2048, 1.0e-9)))
    }
}

impl Quantiles {
    /// Adds a number (NaN and infinities are left out).
    pub fn add(&mut self, value: f64) {
        if value.is_finite() {
            self.0.add(value);
        }
    }

    pub fn count(&self) -> u64 {
        self.0.count() as u64
    }

    /// The `q` quantile (0..=1), `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        self.0.quantile(q.clamp(0.0, 1.0)).ok().flatten()
    }

    /// The median absolute deviation, from 99 evenly spaced quantiles (each stands for
    /// 1% of the values), each within 1% of its value.
    pub fn mad(&self) -> Option<f64> {
        let median = self.quantile(0.5)?;
        let mut deviations: Vec<f64> =
            (1..100).filter_map(|i| self.quantile(f64::from(i) / 100.0)).map(|q| (q - median).abs()).collect();
        deviations.sort_by(f64::total_cmp);
        deviations.get(deviations.len() / 2).copied()
    }
}

/// The most frequent values of a stream (Misra-Gries with error bounds).
#[derive(Clone)]
pub struct Top(FrequentItemsSketch<String>);

impl Default for Top {
    fn default() -> Top {
        Top(FrequentItemsSketch::new(TOP_MAP_SIZE)
            .or_else(|_| FrequentItemsSketch::new(8))
            .unwrap_or_else(|_| unreachable!("8 is a valid map size")))
    }
}

impl Top {
    pub fn add(&mut self, value: &str) {
        self.0.update_ref(value);
    }

    /// The `k` most frequent values with their estimated counts, most frequent first.
    pub fn top(&self, k: usize) -> Vec<(String, u64)> {
        let mut rows: Vec<(String, u64)> = self
            .0
            .frequent_items_with_threshold(ErrorType::NoFalseNegatives, 0)
            .into_iter()
            .map(|r| (r.item().clone(), r.estimate()))
            .collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        rows.truncate(k);
        rows
    }
}

impl Serialize for Top {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&b64().encode(self.0.serialize()))
    }
}

impl<'de> Deserialize<'de> for Top {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Top, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = b64().decode(text).map_err(serde::de::Error::custom)?;
        FrequentItemsSketch::deserialize(&bytes).map(Top).map_err(|e| serde::de::Error::custom(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_counts_are_within_two_percent_and_survive_a_round_trip() {
        let mut d = Distinct::default();
        for i in 0..100_000 {
            d.add(&format!("host-{i}"));
        }
        let e = d.estimate();
        assert!((e - 100_000.0).abs() / 100_000.0 < 0.02, "{e}");
        let text = serde_json::to_string(&d).unwrap();
        let back: Distinct = serde_json::from_str(&text).unwrap();
        assert_eq!(back.estimate(), e);
        let mut small = Distinct::default();
        for name in ["a", "b", "a", "c"] {
            small.add(name);
        }
        assert_eq!(small.estimate().round(), 3.0, "exact for small sets");
    }

    #[test]
    fn quantiles_and_mad_of_a_known_distribution() {
        let mut q = Quantiles::default();
        for i in 1..=10_000 {
            q.add(f64::from(i));
        }
        q.add(f64::NAN);
        assert_eq!(q.count(), 10_000);
        let median = q.quantile(0.5).unwrap();
        assert!((median - 5000.0).abs() <= 5000.0 * QUANTILE_ERROR + 1.0, "{median}");
        // Uniform 1..=10000: MAD is 2500.
        let mad = q.mad().unwrap();
        assert!((mad - 2500.0).abs() < 250.0, "{mad}");
        let back: Quantiles = serde_json::from_str(&serde_json::to_string(&q).unwrap()).unwrap();
        assert_eq!(back.quantile(0.9), q.quantile(0.9));
        // The same values in the same order give the same answers, every time.
        let mut again = Quantiles::default();
        for i in 1..=10_000 {
            again.add(f64::from(i));
        }
        assert_eq!(serde_json::to_string(&again).unwrap(), serde_json::to_string(&q).unwrap());
    }

    #[test]
    fn top_values_most_frequent_first() {
        let mut t = Top::default();
        for (v, n) in [("443", 50), ("80", 30), ("53", 20), ("22", 1)] {
            for _ in 0..n {
                t.add(v);
            }
        }
        let top = t.top(2);
        assert_eq!(top, [("443".to_owned(), 50), ("80".to_owned(), 30)]);
        let back: Top = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back.top(3), t.top(3));
    }
}
