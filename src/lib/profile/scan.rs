//! Scans, as Zeek's classic `misc/scan.zeek` counted them: failed connection attempts
//! (a handshake never answered or refused, no payload) by one source in a window of
//! 5 minutes, to many hosts on one port (horizontal, 25 by default) or to many ports
//! of one host (vertical, 15). A scanner reported is quiet for an hour
//! (ncsa/bro-simple-scan's suppression). Sources that do not say whether a
//! connection was answered count every connection.

use super::bounded::Bounded;
use super::finding::{align, Finding};
use super::obs::{Kind, Obs};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScanConfig {
    /// Milliseconds of a window (as `5m` in metron.toml through the stage).
    pub window: String,
    /// Hosts on one port.
    pub horizontal: usize,
    /// Ports of one host.
    pub vertical: usize,
    /// How long a reported scanner stays quiet.
    pub suppress: String,
}

impl Default for ScanConfig {
    fn default() -> ScanConfig {
        ScanConfig { window: "5m".into(), horizontal: 25, vertical: 15, suppress: "1h".into() }
    }
}

/// Targets counted per key at most: enough to score a large scan, bounded.
const MAX_TARGETS: usize = 4096;

#[derive(Clone, Serialize, Deserialize)]
struct Targets<T> {
    seen: Vec<T>,
    first: i64,
    last: i64,
}

impl<T> Default for Targets<T> {
    fn default() -> Targets<T> {
        Targets { seen: Vec::new(), first: 0, last: 0 }
    }
}

impl<T: PartialEq> Targets<T> {
    fn add(&mut self, t: T, ts: i64) {
        if self.seen.is_empty() {
            self.first = ts;
        }
        self.first = self.first.min(ts);
        self.last = self.last.max(ts);
        if self.seen.len() < MAX_TARGETS && !self.seen.contains(&t) {
            self.seen.push(t);
        }
    }
}

#[derive(Serialize, Deserialize)]
pub struct Scans {
    /// (scanner, port) -> hosts.
    horizontal: Bounded<(IpAddr, u16), Targets<IpAddr>>,
    /// (scanner, host) -> ports.
    vertical: Bounded<(IpAddr, IpAddr), Targets<u16>>,
    /// (scanner, kind) -> quiet until.
    quiet: Bounded<(IpAddr, bool), i64>,
    start: Option<i64>,
}

/// A scan's score: 0.5 at the threshold, 1.0 at 40 times it (log scale).
fn score(n: usize, threshold: usize) -> f64 {
    let ratio = n as f64 / threshold.max(1) as f64;
    (0.5 + 0.5 * ratio.log10() / 40f64.log10()).clamp(0.0, 1.0)
}

impl Scans {
    pub fn new(max_entities: usize) -> Scans {
        Scans {
            horizontal: Bounded::new(max_entities),
            vertical: Bounded::new(max_entities),
            quiet: Bounded::new(max_entities),
            start: None,
        }
    }

    pub fn resize(self, max_entities: usize) -> Scans {
        Scans {
            horizontal: self.horizontal.with_cap(max_entities),
            vertical: self.vertical.with_cap(max_entities),
            quiet: self.quiet.with_cap(max_entities),
            ..self
        }
    }

    pub fn evicted(&self) -> u64 {
        self.horizontal.evicted + self.vertical.evicted + self.quiet.evicted
    }

    pub fn entities(&self) -> usize {
        self.horizontal.len() + self.vertical.len()
    }

    /// `window` and `suppress` in milliseconds.
    pub fn observe(&mut self, o: &Obs, cfg: &ScanConfig, window: i64, suppress: i64, out: &mut Vec<Finding>) {
        let (Some(Kind::Connection), Some(ts), Some(src), Some(dst), Some(dport)) =
            (o.kind, o.ts, o.src, o.dst, o.dport)
        else {
            return;
        };
        let start = *self.start.get_or_insert_with(|| align(ts, window));
        if ts >= start + window {
            self.close(cfg, suppress, out);
            self.start = Some(align(ts, window));
        }
        let says_if_answered = o.conn_state.is_some() || o.pkts_toclient.is_some();
        if says_if_answered && !o.failed_attempt() {
            return;
        }
        self.horizontal.entry((src, dport), Targets::default).add(dst, ts);
        self.vertical.entry((src, dst), Targets::default).add(dport, ts);
    }

    /// Reports the window's scanners, the widest scan of each kind per scanner.
    pub fn close(&mut self, cfg: &ScanConfig, suppress: i64, out: &mut Vec<Finding>) {
        let mut horizontal: Vec<((IpAddr, u16), Targets<IpAddr>)> =
            self.horizontal.drain().into_iter().filter(|(_, t)| t.seen.len() >= cfg.horizontal).collect();
        horizontal.sort_by_key(|b| std::cmp::Reverse(b.1.seen.len()));
        for ((src, port), t) in horizontal {
            if self.quiet_now(src, true, t.last, suppress) {
                continue;
            }
            let n = t.seen.len();
            out.push(Finding {
                kind: "scan",
                score: score(n, cfg.horizontal),
                reason: format!(
                    "{src} tried port {port} on {n}{} hosts in {} s without an answered connection (horizontal scan)",
                    if n >= MAX_TARGETS { "+" } else { "" },
                    (t.last - t.first) / 1000
                ),
                first_seen: t.first,
                last_seen: t.last,
                entity: vec![("ip_src_addr", Value::from(src.to_string())), ("ip_dst_port", Value::from(port))],
                numbers: vec![("direction", Value::from("horizontal")), ("targets", Value::from(n))],
            });
        }
        let mut vertical: Vec<((IpAddr, IpAddr), Targets<u16>)> =
            self.vertical.drain().into_iter().filter(|(_, t)| t.seen.len() >= cfg.vertical).collect();
        vertical.sort_by_key(|b| std::cmp::Reverse(b.1.seen.len()));
        for ((src, dst), t) in vertical {
            if self.quiet_now(src, false, t.last, suppress) {
                continue;
            }
            let n = t.seen.len();
            out.push(Finding {
                kind: "scan",
                score: score(n, cfg.vertical),
                reason: format!(
                    "{src} tried {n}{} ports of {dst} in {} s without an answered connection (vertical scan)",
                    if n >= MAX_TARGETS { "+" } else { "" },
                    (t.last - t.first) / 1000
                ),
                first_seen: t.first,
                last_seen: t.last,
                entity: vec![
                    ("ip_src_addr", Value::from(src.to_string())),
                    ("ip_dst_addr", Value::from(dst.to_string())),
                ],
                numbers: vec![("direction", Value::from("vertical")), ("targets", Value::from(n))],
            });
        }
        self.start = None;
    }

    /// Whether `src` was reported for this kind of scan within `suppress` of `at`;
    /// if not, it is from now.
    fn quiet_now(&mut self, src: IpAddr, horizontal: bool, at: i64, suppress: i64) -> bool {
        let until = self.quiet.entry((src, horizontal), || i64::MIN);
        if at < *until {
            return true;
        }
        *until = at.saturating_add(suppress);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(ts: i64, dst: &str, port: u16, state: &str) -> Obs {
        Obs {
            kind: Some(Kind::Connection),
            ts: Some(ts),
            src: "203.0.113.66".parse().ok(),
            dst: dst.parse().ok(),
            dport: Some(port),
            protocol: Some("tcp".into()),
            conn_state: Some(state.into()),
            ..Obs::default()
        }
    }

    #[test]
    fn horizontal_and_vertical_scans_of_failed_attempts_only() {
        let mut s = Scans::new(1000);
        let cfg = ScanConfig::default();
        let mut out = Vec::new();
        for i in 0..30u16 {
            s.observe(
                &attempt(i64::from(i) * 1000, &format!("10.0.0.{i}"), 445, "S0"),
                &cfg,
                300_000,
                3_600_000,
                &mut out,
            );
            s.observe(&attempt(i64::from(i) * 1000, "10.0.1.1", 1000 + i, "REJ"), &cfg, 300_000, 3_600_000, &mut out);
            // Answered connections are not attempts.
            s.observe(
                &attempt(i64::from(i) * 1000, &format!("10.0.2.{i}"), 443, "SF"),
                &cfg,
                300_000,
                3_600_000,
                &mut out,
            );
        }
        s.close(&cfg, 3_600_000, &mut out);
        assert_eq!(out.len(), 2, "{out:#?}");
        assert_eq!(out[0].numbers[0].1, "horizontal");
        assert_eq!(out[0].numbers[1].1, 30);
        assert_eq!(out[1].numbers[0].1, "vertical");
        // The same scanner again within the hour is quiet.
        for i in 0..30u16 {
            s.observe(
                &attempt(400_000 + i64::from(i), &format!("10.0.3.{i}"), 22, "S0"),
                &cfg,
                300_000,
                3_600_000,
                &mut out,
            );
        }
        s.close(&cfg, 3_600_000, &mut out);
        assert_eq!(out.len(), 2);
        assert!((score(25, 25) - 0.5).abs() < 1e-9 && (score(1000, 25) - 1.0).abs() < 1e-9);
    }
}
