//! De-duplication, as Apache Metron's bounded alert cache did it: the same rule and key
//! within a window (event time) are one alert. Later events get the open alert's id;
//! when the window closes, or the alert is evicted from the full cache, or input ends,
//! an update record with the final count is written, so nothing is lost.

use crate::event::{new_guid, Event};
use lru::LruCache;
use serde_json::Value;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

/// An open alert.
struct Open {
    alert_id: String,
    first_ts: i64,
    last_ts: i64,
    count: u64,
    opened: Instant,
    /// The alert record as first written: updates are copies of it.
    record: Event,
}

/// Why an update record was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    Window,
    Evicted,
    EndOfInput,
}

impl Closed {
    fn as_str(self) -> &'static str {
        match self {
            Closed::Window => "window_closed",
            Closed::Evicted => "evicted",
            Closed::EndOfInput => "end_of_input",
        }
    }
}

/// What an event did to the cache.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen {
    /// A new alert: its record is to be written.
    New(String),
    /// Joined an open alert.
    Existing(String),
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DedupStats {
    pub opened: u64,
    /// Events folded into an open alert.
    pub deduplicated: u64,
    pub evicted: u64,
    pub updates: u64,
}

pub struct Dedup {
    window_ms: i64,
    wall_window: Duration,
    cache: LruCache<(usize, String), Open>,
    /// The latest event time seen: event time closes windows.
    max_ts: i64,
    pub stats: DedupStats,
}

impl Dedup {
    pub fn new(window: Duration, max_cache: NonZeroUsize) -> Dedup {
        Dedup {
            window_ms: i64::try_from(window.as_millis()).unwrap_or(i64::MAX),
            wall_window: window,
            cache: LruCache::new(max_cache),
            max_ts: i64::MIN,
            stats: DedupStats::default(),
        }
    }

    /// An event at `ts` fired `rule` with `key`. `make` builds the alert record for a
    /// new alert id; closed alerts' updates go to `updates`.
    pub fn observe(
        &mut self,
        rule: usize,
        key: String,
        ts: i64,
        make: impl FnOnce(&str) -> Event,
        updates: &mut Vec<Event>,
    ) -> (Seen, Option<Event>) {
        self.max_ts = self.max_ts.max(ts);
        let cache_key = (rule, key);
        if let Some(open) = self.cache.get_mut(&cache_key) {
            if ts < open.first_ts.saturating_add(self.window_ms) {
                open.count += 1;
                open.last_ts = open.last_ts.max(ts);
                self.stats.deduplicated += 1;
                return (Seen::Existing(open.alert_id.clone()), None);
            }
            if let Some(old) = self.cache.pop(&cache_key) {
                self.close(old, Closed::Window, updates);
            }
        }
        let alert_id = new_guid();
        let record = make(&alert_id);
        let open = Open {
            alert_id: alert_id.clone(),
            first_ts: ts,
            last_ts: ts,
            count: 1,
            opened: Instant::now(),
            record: record.clone(),
        };
        self.stats.opened += 1;
        if let Some((_, evicted)) = self.cache.push(cache_key, open) {
            self.stats.evicted += 1;
            self.close(evicted, Closed::Evicted, updates);
        }
        (Seen::New(alert_id), Some(record))
    }

    /// Closes windows that have passed in event time or in wall time.
    pub fn expire(&mut self, updates: &mut Vec<Event>) {
        let now = Instant::now();
        let expired: Vec<(usize, String)> = self
            .cache
            .iter()
            .filter(|(_, o)| {
                self.max_ts >= o.first_ts.saturating_add(self.window_ms)
                    || now.duration_since(o.opened) >= self.wall_window
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in expired {
            if let Some(open) = self.cache.pop(&k) {
                self.close(open, Closed::Window, updates);
            }
        }
    }

    /// End of input: every open alert's final count.
    pub fn drain(&mut self, updates: &mut Vec<Event>) {
        while let Some((_, open)) = self.cache.pop_lru() {
            self.close(open, Closed::EndOfInput, updates);
        }
    }

    pub fn open_alerts(&self) -> usize {
        self.cache.len()
    }

    /// An update is written only when events joined the alert after its first record.
    fn close(&mut self, open: Open, why: Closed, updates: &mut Vec<Event>) {
        if open.count <= 1 {
            return;
        }
        self.stats.updates += 1;
        let mut r = open.record;
        r.insert(crate::event::fields::GUID.into(), new_guid().into());
        r.insert("count".into(), Value::from(open.count));
        r.insert("last_timestamp".into(), Value::from(open.last_ts));
        r.insert("alert_update".into(), why.as_str().into());
        updates.push(r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str) -> Event {
        let mut e = Event::default();
        e.insert("alert_id".into(), id.into());
        e.insert("count".into(), 1.into());
        e
    }

    fn nz(n: usize) -> NonZeroUsize {
        NonZeroUsize::new(n).unwrap()
    }

    #[test]
    fn one_alert_per_rule_and_key_within_the_window() {
        let mut d = Dedup::new(Duration::from_secs(3600), nz(1000));
        let mut updates = Vec::new();
        let (first, rec1) = d.observe(0, "10.0.0.1".into(), 0, rec, &mut updates);
        let Seen::New(id) = first else { panic!() };
        assert!(rec1.is_some());
        for i in 1..1000 {
            let (seen, r) = d.observe(0, "10.0.0.1".into(), i * 1000, rec, &mut updates);
            assert_eq!(seen, Seen::Existing(id.clone()));
            assert!(r.is_none());
        }
        assert!(updates.is_empty());
        d.drain(&mut updates);
        assert_eq!(updates.len(), 1);
        assert_eq!(updates[0]["alert_id"], Value::from(id.as_str()));
        assert_eq!(updates[0]["count"], 1000);
        assert_eq!(updates[0]["alert_update"], "end_of_input");
        assert_eq!(d.stats, DedupStats { opened: 1, deduplicated: 999, evicted: 0, updates: 1 });
    }

    #[test]
    fn event_time_closes_windows() {
        let mut d = Dedup::new(Duration::from_secs(60), nz(10));
        let mut updates = Vec::new();
        d.observe(0, "a".into(), 0, rec, &mut updates);
        d.observe(0, "a".into(), 1_000, rec, &mut updates);
        d.observe(1, "b".into(), 59_000, rec, &mut updates);
        // Another key moves event time past a's window: tick closes it.
        d.observe(2, "c".into(), 61_000, rec, &mut updates);
        d.expire(&mut updates);
        assert_eq!(updates.len(), 1);
        assert_eq!(updates[0]["alert_update"], "window_closed");
        // The same key after its window is a new alert.
        let (seen, _) = d.observe(1, "b".into(), 120_000, rec, &mut updates);
        assert!(matches!(seen, Seen::New(_)));
    }

    #[test]
    fn the_cache_is_bounded_and_evictions_write_their_update() {
        let mut d = Dedup::new(Duration::from_secs(3600), nz(2));
        let mut updates = Vec::new();
        d.observe(0, "a".into(), 0, rec, &mut updates);
        d.observe(0, "a".into(), 1, rec, &mut updates);
        d.observe(0, "b".into(), 2, rec, &mut updates);
        d.observe(0, "c".into(), 3, rec, &mut updates);
        assert_eq!(d.open_alerts(), 2);
        assert_eq!(d.stats.evicted, 1);
        assert_eq!(updates.len(), 1);
        assert_eq!(updates[0]["count"], 2);
        assert_eq!(updates[0]["alert_update"], "evicted");
    }
}
