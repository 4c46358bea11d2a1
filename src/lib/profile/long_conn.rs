//! Long connections: a connection open for hours (a tunnel, an interactive session
//! out of hours), and a pair whose connections add up to hours in a window. The
//! thresholds are RITA's (1 h, 4 h, 8 h, 12 h, scored 0.2 to 0.8 and on to 1.0 at
//! 24 h); like corelight's zeek-long-connections, a connection that goes on is
//! reported as it crosses each of them. A sensor writes a long connection in pieces
//! (metron's flows end a record at `--active-timeout` and go on in the next one), so
//! the pieces are added up.

use super::bounded::Bounded;
use super::finding::{align, bucketed, human_seconds, Finding};
use super::obs::{Kind, Obs};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LongConnConfig {
    /// Seconds: reported from the first, scored up to the last.
    pub thresholds: [f64; 4],
}

impl Default for LongConnConfig {
    fn default() -> LongConnConfig {
        LongConnConfig { thresholds: [3600.0, 4.0 * 3600.0, 8.0 * 3600.0, 12.0 * 3600.0] }
    }
}

/// A connection seen in pieces so far.
#[derive(Clone, Serialize, Deserialize)]
struct Open {
    start: i64,
    seconds: f64,
    /// The thresholds already reported.
    reported: usize,
}

#[derive(Clone, Default, Serialize, Deserialize)]
struct PairTotal {
    seconds: f64,
    connections: u64,
    longest: f64,
    first: i64,
    last: i64,
}

#[derive(Serialize, Deserialize)]
pub struct LongConns {
    open: Bounded<String, Open>,
    pairs: Bounded<(IpAddr, IpAddr, u16), PairTotal>,
    start: Option<i64>,
}

impl LongConns {
    pub fn new(max_entities: usize) -> LongConns {
        LongConns { open: Bounded::new(max_entities), pairs: Bounded::new(max_entities), start: None }
    }

    pub fn resize(self, max_entities: usize) -> LongConns {
        LongConns { open: self.open.with_cap(max_entities), pairs: self.pairs.with_cap(max_entities), ..self }
    }

    pub fn evicted(&self) -> u64 {
        self.open.evicted + self.pairs.evicted
    }

    pub fn entities(&self) -> usize {
        self.open.len() + self.pairs.len()
    }

    pub fn observe(&mut self, o: &Obs, window: i64, cfg: &LongConnConfig, out: &mut Vec<Finding>) {
        let (Some(Kind::Connection), Some(ts), Some(src), Some(dst), Some(secs)) =
            (o.kind, o.ts, o.src, o.dst, o.duration)
        else {
            return;
        };
        if !secs.is_finite() || secs < 0.0 {
            return;
        }
        let start = *self.start.get_or_insert_with(|| align(ts, window));
        if ts >= start + window {
            self.close(cfg, out);
            self.start = Some(align(ts, window));
        }
        let dport = o.dport.unwrap_or(0);
        // The pieces of one connection share its id (Zeek's uid, Suricata's flow id,
        // else the Community ID).
        let id = o.uid.as_deref().or(o.community_id.as_deref());
        let (conn_start, total, reported) = match id.and_then(|id| self.open.remove(id)) {
            Some(prev) => (prev.start, prev.seconds + secs, prev.reported),
            None => (ts, secs, 0),
        };
        let levels = cfg.thresholds.iter().filter(|t| total >= **t).count();
        if levels > reported {
            out.push(connection_finding(src, dst, dport, conn_start, ts, total, cfg));
        }
        if o.continues {
            if let Some(id) = id {
                *self.open.entry(id.to_owned(), || Open { start: conn_start, seconds: 0.0, reported: 0 }) =
                    Open { start: conn_start, seconds: total, reported: levels.max(reported) };
            }
        }
        let end = ts.saturating_add((secs * 1000.0) as i64);
        let p = self.pairs.entry((src, dst, dport), || PairTotal { first: ts, ..PairTotal::default() });
        p.seconds += secs;
        p.connections += 1;
        p.longest = p.longest.max(total);
        p.first = p.first.min(ts);
        p.last = p.last.max(end);
    }

    /// Pairs whose connections add up to hours, none of which was long itself.
    pub fn close(&mut self, cfg: &LongConnConfig, out: &mut Vec<Finding>) {
        for ((src, dst, dport), p) in self.pairs.drain() {
            if p.seconds < cfg.thresholds[0] || p.longest >= cfg.thresholds[0] {
                continue;
            }
            out.push(Finding {
                kind: "long_conn",
                score: bucketed(p.seconds, cfg.thresholds),
                reason: format!(
                    "{src} and {dst} port {dport} were connected {} in all, over {} connections (the longest {})",
                    human_seconds(p.seconds),
                    p.connections,
                    human_seconds(p.longest)
                ),
                first_seen: p.first,
                last_seen: p.last,
                entity: entity(src, dst, dport),
                numbers: vec![
                    ("scope", Value::from("pair")),
                    ("duration", Value::from(p.seconds.round())),
                    ("connections", Value::from(p.connections)),
                ],
            });
        }
        self.start = None;
    }
}

fn entity(src: IpAddr, dst: IpAddr, dport: u16) -> Vec<(&'static str, Value)> {
    vec![
        ("ip_src_addr", Value::from(src.to_string())),
        ("ip_dst_addr", Value::from(dst.to_string())),
        ("ip_dst_port", Value::from(dport)),
    ]
}

fn connection_finding(
    src: IpAddr,
    dst: IpAddr,
    dport: u16,
    start: i64,
    ts: i64,
    seconds: f64,
    cfg: &LongConnConfig,
) -> Finding {
    Finding {
        kind: "long_conn",
        score: bucketed(seconds, cfg.thresholds),
        reason: format!("{src} has been connected to {dst} port {dport} for {}", human_seconds(seconds)),
        first_seen: start,
        last_seen: ts.saturating_add((seconds * 1000.0) as i64).max(ts),
        entity: entity(src, dst, dport),
        numbers: vec![("scope", Value::from("connection")), ("duration", Value::from(seconds.round()))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(ts: i64, secs: f64, continues: bool) -> Obs {
        Obs {
            kind: Some(Kind::Connection),
            ts: Some(ts),
            src: "10.0.0.1".parse().ok(),
            dst: "192.0.2.1".parse().ok(),
            dport: Some(22),
            duration: Some(secs),
            community_id: Some("1:abc".into()),
            continues,
            ..Obs::default()
        }
    }

    #[test]
    fn pieces_of_one_connection_add_up_and_each_threshold_is_reported_once() {
        let mut l = LongConns::new(100);
        let cfg = LongConnConfig::default();
        let mut out = Vec::new();
        // Five hours in 30-minute pieces.
        for i in 0..10 {
            l.observe(&flow(i * 1_800_000, 1800.0, i < 9), 86_400_000, &cfg, &mut out);
        }
        let durations: Vec<&Value> = out.iter().map(|f| &f.numbers[1].1).collect();
        assert_eq!(durations, [&Value::from(3600.0), &Value::from(14400.0)], "{out:#?}");
        assert!(out[1].score > out[0].score);
        l.close(&cfg, &mut out);
        assert_eq!(out.len(), 2, "the pair's total is the long connection itself");
    }

    #[test]
    fn many_short_connections_that_add_up_are_a_long_pair() {
        let mut l = LongConns::new(100);
        let cfg = LongConnConfig::default();
        let mut out = Vec::new();
        for i in 0..100 {
            let mut f = flow(i * 600_000, 120.0, false);
            f.community_id = Some(format!("1:{i}"));
            l.observe(&f, 86_400_000, &cfg, &mut out);
        }
        assert!(out.is_empty());
        l.close(&cfg, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].numbers[0].1, "pair");
        assert!(out[0].reason.contains("3.3 h"), "{}", out[0].reason);
    }
}
