//! Passive DNS (`metron enrich --passive-dns`): the names the stream's own DNS answers
//! gave each address, added to later events as `enrichments.dns.<field>.names`, so
//! that a flow to a bare address reads as the name the client looked up.
//!
//! Learned from the DNS records metron reads: Zeek's dns.log and `metron capture
//! --emit dns` (`query` and its `answers`), and Suricata's EVE dns events (the answer
//! of the v1 format, `dns.rdata`; the v2 and v3 formats' `dns.answers` and
//! `dns.grouped`). Time is the events' own (`timestamp`), so a capture read a year later
//! gets the names it had then; a name not seen again within the TTL is forgotten.

use lru::LruCache;
use serde_json::Value;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::num::NonZeroUsize;

/// Addresses remembered when none is configured.
pub const DEFAULT_SIZE: usize = 100_000;
/// How long a name is kept after the answer that gave it, in event time.
pub const DEFAULT_TTL_MS: i64 = 24 * 3_600_000;
/// Names kept per address: the most recent ones.
pub const MAX_NAMES: usize = 4;
/// Longest name kept (a DNS name is at most 253 characters; the rest is not a name).
const MAX_NAME_LEN: usize = 255;

/// The fields a DNS event is read from, in the order [`PassiveDns::learn`] takes them.
pub const FIELDS: [&str; 8] =
    ["timestamp", "query", "answers", "dns.rrname", "dns.rdata", "dns.answers", "dns.grouped.A", "dns.grouped.AAAA"];

/// Address -> the names answers gave it, bounded in addresses (least recently
/// answered or asked about goes first) and in names per address.
pub struct PassiveDns {
    names: LruCache<IpAddr, VecDeque<(String, i64)>>,
    ttl_ms: i64,
    /// The latest event time seen: events without a time are read at it.
    clock_ms: i64,
    /// Answers learned (address and name pairs).
    pub learned: u64,
}

impl PassiveDns {
    pub fn new(size: usize, ttl_ms: i64) -> PassiveDns {
        let size = NonZeroUsize::new(size).unwrap_or(NonZeroUsize::MIN);
        PassiveDns { names: LruCache::new(size), ttl_ms: ttl_ms.max(0), clock_ms: i64::MIN, learned: 0 }
    }

    /// Reads the time of one event and, if it is a DNS answer, what it says; `get(i)`
    /// is the event's value of `FIELDS[i]`.
    pub fn learn<'v>(&mut self, get: impl Fn(usize) -> Option<&'v Value>) {
        let now = get(0).and_then(Value::as_i64).unwrap_or(self.clock_ms);
        self.clock_ms = self.clock_ms.max(now);
        // Zeek's dns.log and metron.dns: the question, and every answer that is an address.
        if let (Some(Value::String(query)), Some(Value::Array(answers))) = (get(1), get(2)) {
            for a in answers {
                self.add(a.as_str(), query, now);
            }
        }
        // Suricata: the question is `dns.rrname`; v1 writes one answer per event in
        // `dns.rdata`, v2 lists them in `dns.answers` or groups them by type.
        let Some(Value::String(rrname)) = get(3) else { return };
        if let Some(Value::String(rdata)) = get(4) {
            self.add(Some(rdata), rrname, now);
        }
        if let Some(Value::Array(answers)) = get(5) {
            for a in answers {
                self.add(a.get("rdata").and_then(Value::as_str), rrname, now);
            }
        }
        for i in [6, 7] {
            if let Some(Value::Array(addresses)) = get(i) {
                for a in addresses {
                    self.add(a.as_str(), rrname, now);
                }
            }
        }
    }

    fn add(&mut self, address: Option<&str>, name: &str, now: i64) {
        let Some(ip) = address.and_then(|a| a.trim().parse::<IpAddr>().ok()) else { return };
        let name = name.trim().trim_end_matches('.');
        if name.is_empty() || name.len() > MAX_NAME_LEN {
            return;
        }
        self.learned += 1;
        let names = self.names.get_or_insert_mut(ip, VecDeque::new);
        if let Some(i) = names.iter().position(|(n, _)| n.eq_ignore_ascii_case(name)) {
            names.remove(i);
        }
        names.push_front((name.to_ascii_lowercase(), now));
        names.truncate(MAX_NAMES);
    }

    /// The names of `ip` still within the TTL at the stream's time, most recent first.
    pub fn names(&mut self, ip: IpAddr) -> Option<Value> {
        let (clock, ttl) = (self.clock_ms, self.ttl_ms);
        let names = self.names.get(&ip)?;
        let fresh: Vec<Value> = names
            .iter()
            .filter(|(_, seen)| clock.saturating_sub(*seen) <= ttl)
            .map(|(n, _)| Value::from(n.as_str()))
            .collect();
        (!fresh.is_empty()).then_some(Value::Array(fresh))
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Learns from one event.
    fn learn(p: &mut PassiveDns, event: Value) {
        p.learn(|i| event.get(FIELDS[i]));
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn zeek_and_suricata_answers_are_learned() {
        let mut p = PassiveDns::new(10, DEFAULT_TTL_MS);
        learn(
            &mut p,
            json!({"timestamp": 1000, "query": "www.Example.com",
            "answers": ["cdn.example.net", "93.184.216.34", "2606:2800:220:1::"]}),
        );
        learn(&mut p, json!({"timestamp": 1001, "dns.rrname": "a.test", "dns.rdata": "10.0.0.1"}));
        learn(
            &mut p,
            json!({"timestamp": 1002, "dns.rrname": "b.test",
            "dns.answers": [{"rrname": "b.test", "rrtype": "A", "rdata": "10.0.0.2"}, {"rdata": "b.cdn"}]}),
        );
        learn(&mut p, json!({"timestamp": 1003, "dns.rrname": "c.test", "dns.grouped.AAAA": ["fe80::1"]}));
        assert_eq!(p.names(ip("93.184.216.34")), Some(json!(["www.example.com"])));
        assert_eq!(p.names(ip("2606:2800:220:1::")), Some(json!(["www.example.com"])));
        assert_eq!(p.names(ip("10.0.0.1")), Some(json!(["a.test"])));
        assert_eq!(p.names(ip("10.0.0.2")), Some(json!(["b.test"])));
        assert_eq!(p.names(ip("fe80::1")), Some(json!(["c.test"])));
        assert_eq!(p.learned, 5);
    }

    #[test]
    fn names_expire_in_event_time_and_are_bounded() {
        let mut p = PassiveDns::new(2, 60_000);
        learn(&mut p, json!({"timestamp": 0, "query": "old.test", "answers": ["10.0.0.1"]}));
        for (i, name) in ["a", "b", "c", "d", "e", "A"].iter().enumerate() {
            learn(&mut p, json!({"timestamp": i, "query": name, "answers": ["10.0.0.9"]}));
        }
        // Most recent first, one entry per name whatever its case, at most MAX_NAMES.
        assert_eq!(p.names(ip("10.0.0.9")), Some(json!(["a", "e", "d", "c"])));
        learn(&mut p, json!({"timestamp": 60_003}));
        assert_eq!(p.names(ip("10.0.0.1")), None, "past its TTL");
        assert_eq!(p.names(ip("10.0.0.9")), Some(json!(["a", "e", "d"])));
        // A third address pushes out the least recently used one.
        learn(&mut p, json!({"timestamp": 60_004, "query": "x", "answers": ["10.0.0.3"]}));
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn what_is_not_an_answer_is_ignored() {
        let mut p = PassiveDns::new(10, DEFAULT_TTL_MS);
        for e in [
            json!({"query": "x.test", "answers": "10.0.0.1"}),
            json!({"query": 7, "answers": ["10.0.0.1"]}),
            json!({"query": "", "answers": ["10.0.0.1"]}),
            json!({"query": "x".repeat(300), "answers": ["10.0.0.1"]}),
            json!({"dns.rdata": "10.0.0.1"}),
            json!({"dns.rrname": "x.test", "dns.answers": [1, null, {"rdata": 5}]}),
        ] {
            learn(&mut p, e);
        }
        assert!(p.is_empty());
    }
}
