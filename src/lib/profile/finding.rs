//! Finding and profile records, and the scoring helpers the detections share.

use crate::event::{event_with_capacity, fields, Event};
use serde_json::Value;

/// A finding: what a detection says about one entity.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub kind: &'static str,
    /// 0..1, higher is more suspicious.
    pub score: f64,
    /// One sentence with the numbers that justify it.
    pub reason: String,
    pub first_seen: i64,
    pub last_seen: i64,
    /// The entity's fields (`ip_src_addr`, `ip_dst_addr`, `ip_dst_port`, `domain`, ...).
    pub entity: Vec<(&'static str, Value)>,
    /// Kind-specific numbers, written as `finding.<name>`.
    pub numbers: Vec<(&'static str, Value)>,
}

impl Finding {
    /// The record (`source.type` = `metron.finding`), timed at `at`. Its guid is made
    /// from the kind, the entity and `window` (a UUID v7 whose time is `at` and whose
    /// other bits are a hash of those), so that the same data gives the same finding
    /// and the store keeps it once however often it is profiled.
    pub fn into_event(self, at: i64, window: i64) -> Event {
        let mut e = event_with_capacity(12 + self.entity.len() + self.numbers.len());
        e.insert(fields::TIMESTAMP.into(), Value::from(at));
        e.insert(fields::SOURCE_TYPE.into(), Value::from("metron.finding"));
        e.insert("finding.kind".into(), Value::from(self.kind));
        e.insert("score".into(), Value::from(round3(self.score)));
        e.insert("reason".into(), Value::from(self.reason));
        e.insert("first_seen".into(), Value::from(self.first_seen));
        e.insert("last_seen".into(), Value::from(self.last_seen));
        let mut key = format!("{}|{window}", self.kind);
        for (name, value) in self.entity {
            key.push('|');
            key.push_str(&value.to_string());
            e.insert(name.into(), value);
        }
        for (name, value) in self.numbers {
            e.insert(format!("finding.{name}"), value);
        }
        e.insert(fields::GUID.into(), Value::from(stable_guid(at, &key)));
        e
    }
}

/// A UUID v7 for `at` (epoch ms) whose random bits come from `key`.
pub fn stable_guid(at: i64, key: &str) -> String {
    use sha1::{Digest, Sha1};
    let hash = Sha1::digest(key.as_bytes());
    let mut bytes = [0u8; 16];
    let ms = u64::try_from(at).unwrap_or(0);
    bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    bytes[6..].copy_from_slice(&hash[..10]);
    bytes[6] = 0x70 | (bytes[6] & 0x0f);
    bytes[8] = 0x80 | (bytes[8] & 0x3f);
    uuid::Uuid::from_bytes(bytes).hyphenated().to_string()
}

/// RITA's bucketed score: below `base` 0; from `base` to `low` 0.2 to 0.4, to `medium`
/// 0.6, to `high` 0.8, linearly; beyond `high` on to 1.0 at twice `high` (RITA stops
/// at 0.8; metron's scores use the whole range).
pub fn bucketed(v: f64, [base, low, medium, high]: [f64; 4]) -> f64 {
    let step = |from: f64, to: f64, at: f64| ((v - from) / (to - from)).clamp(0.0, 1.0) * 0.2 + at;
    if v.is_nan() || v < base {
        0.0
    } else if v < low {
        step(base, low, 0.2)
    } else if v < medium {
        step(low, medium, 0.4)
    } else if v < high {
        step(medium, high, 0.6)
    } else {
        step(high, 2.0 * high, 0.8)
    }
}

/// Rounded to three decimals, as scores are shown.
pub fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// `12.5 h`, `40 min`, `30 s` for reasons people read.
pub fn human_seconds(s: f64) -> String {
    if s >= 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s >= 60.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{s:.0} s")
    }
}

/// A profile record: `profile`, `entity`, `period_start`, `period_end`, and one field
/// per value.
pub fn profile_record(profile: &str, entity: &str, start: i64, end: i64, values: Vec<(String, Value)>) -> Event {
    let mut e = event_with_capacity(8 + values.len());
    e.insert(fields::TIMESTAMP.into(), Value::from(end));
    e.insert(fields::SOURCE_TYPE.into(), Value::from("metron.profile"));
    e.insert("profile".into(), Value::from(profile));
    e.insert("entity".into(), Value::from(entity));
    e.insert("period_start".into(), Value::from(start));
    e.insert("period_end".into(), Value::from(end));
    for (name, value) in values {
        e.insert(name, value);
    }
    e.insert(fields::GUID.into(), Value::from(stable_guid(end, &format!("profile|{profile}|{entity}|{start}"))));
    e
}

/// `ts` rounded down to a multiple of `len` (UTC periods and windows).
pub fn align(ts: i64, len: i64) -> i64 {
    ts - ts.rem_euclid(len.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_as_rita_scores_them() {
        let t = [100.0, 500.0, 800.0, 1000.0];
        assert_eq!(bucketed(50.0, t), 0.0);
        assert_eq!(bucketed(100.0, t), 0.2);
        assert!((bucketed(300.0, t) - 0.3).abs() < 1e-9);
        assert_eq!(bucketed(500.0, t), 0.4);
        assert!((bucketed(1000.0, t) - 0.8).abs() < 1e-9);
        assert!((bucketed(5000.0, t) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn guids_are_v7_stable_and_differ_by_key() {
        let a = stable_guid(1_700_000_000_000, "beacon|1|10.0.0.1");
        assert_eq!(a, stable_guid(1_700_000_000_000, "beacon|1|10.0.0.1"));
        assert_ne!(a, stable_guid(1_700_000_000_000, "beacon|1|10.0.0.2"));
        let u = uuid::Uuid::parse_str(&a).unwrap();
        assert_eq!(u.get_version_num(), 7);
        assert!(a < stable_guid(1_700_000_000_001, "a"), "sorts by time");
    }
}
