//! Beacons: a source that calls a destination on a schedule, with jitter, among
//! ordinary traffic. The scoring is RITA's (Active Countermeasures, `analysis/
//! beacons.go` of activecm/rita v5; docs/analytics.md cites and explains it): four
//! sub-scores of equal weight over a window (24 h by default, 24 bins) —
//! timing (Bowley skew and median absolute deviation of the intervals), data size
//! (the same on the bytes sent), the hourly histogram (coefficient of variation, or
//! two modes) and duration (how much of the window the pair covers), with RITA's
//! prevalence modifiers (-0.15 when half the sources talk to the destination, +0.15
//! when at most 2% do). metron keeps each pair in fixed space (DDSketches of
//! intervals and sizes, 24 counters) where RITA keeps every timestamp, measures the
//! histogram over the hours from a pair's first call to its last (so that a beacon
//! that sleeps at night is still regular), and asks for regular timing as well as a
//! high total.

use super::bounded::Bounded;
use super::finding::{align, human_seconds, Finding};
use super::obs::{Kind, Obs};
use super::sketch::{Distinct, Quantiles};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use smallvec::SmallVec;
use std::net::IpAddr;

/// Timestamps a pair holds back to put late ones in order before taking intervals.
const REORDER: usize = 16;
/// Sources a window needs before a destination's prevalence counts.
const MIN_SOURCES: f64 = 20.0;
/// Bins of the window's histogram (hours of a day).
const BINS: usize = 24;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BeaconConfig {
    /// Connections (at distinct seconds) a pair needs in a window to be scored.
    pub min_connections: u64,
    /// The lowest beacon score reported.
    pub min_score: f64,
    /// The lowest timing sub-score reported: a beacon keeps time; a busy pair with
    /// random gaps scores high on the histogram and duration but not here.
    pub min_timing_score: f64,
}

impl Default for BeaconConfig {
    fn default() -> BeaconConfig {
        BeaconConfig { min_connections: 20, min_score: 0.7, min_timing_score: 0.7 }
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct Pair {
    count: u64,
    first: i64,
    last: i64,
    /// The latest timestamps (and bytes sent), in order, not yet in the sketches.
    recent: SmallVec<[(i64, Option<f64>); 2]>,
    /// The last timestamp that left `recent`.
    before: Option<i64>,
    /// Distinct seconds seen (intervals of at least a second, plus the first).
    unique: u64,
    /// Made when the first timestamp leaves `recent`: most pairs call a few times in
    /// a window and never need them.
    sketches: Option<Box<Sketches>>,
    bins: [u32; BINS],
}

#[derive(Clone, Default, Serialize, Deserialize)]
struct Sketches {
    intervals: Quantiles,
    sizes: Quantiles,
}

impl Pair {
    fn new(ts: i64) -> Pair {
        Pair {
            count: 0,
            first: ts,
            last: ts,
            recent: SmallVec::new(),
            before: None,
            unique: 0,
            sketches: None,
            bins: [0; BINS],
        }
    }

    fn add(&mut self, ts: i64, bytes: Option<f64>, window_start: i64, window_len: i64) {
        self.count += 1;
        self.first = self.first.min(ts);
        self.last = self.last.max(ts);
        let bin = usize::try_from((ts - window_start).max(0) * BINS as i64 / window_len.max(1)).unwrap_or(0);
        self.bins[bin.min(BINS - 1)] += 1;
        let at = self.recent.partition_point(|(t, _)| *t <= ts);
        self.recent.insert(at, (ts, bytes));
        if self.recent.len() > REORDER {
            let oldest = self.recent.remove(0);
            self.leave(oldest);
        }
    }

    /// `ts` leaves the reorder buffer: the interval since the one before it, and its
    /// size, go into the sketches.
    fn leave(&mut self, (ts, bytes): (i64, Option<f64>)) {
        let sketches = self.sketches.get_or_insert_with(Box::default);
        if let Some(b) = bytes {
            sketches.sizes.add(b);
        }
        match self.before {
            // RITA counts distinct seconds: bursts within a second are one call.
            Some(prev) if ts - prev >= 1000 => {
                sketches.intervals.add((ts - prev) as f64 / 1000.0);
                self.unique += 1;
                self.before = Some(ts);
            }
            Some(_) => {}
            None => {
                self.unique += 1;
                self.before = Some(ts);
            }
        }
    }

    fn settle(&mut self) {
        for entry in std::mem::take(&mut self.recent) {
            self.leave(entry);
        }
    }
}

/// The sub-scores of one pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    pub timing: f64,
    pub size: f64,
    pub histogram: f64,
    pub duration: f64,
}

impl Scores {
    pub fn total(&self) -> f64 {
        0.25 * (self.timing + self.size + self.histogram + self.duration)
    }
}

/// RITA's skew and dispersion score of a distribution: `1 - |Bowley skew|` (skew
/// counted only when the quartiles are 10 apart and the median is not on one) and
/// `(median - MAD) / median`, averaged. `small` is the dispersion score when the
/// median is below 1.
fn skew_and_dispersion(q: &Quantiles, small: f64) -> Option<(f64, f64, f64)> {
    let (q1, q2, q3) = (q.quantile(0.25)?, q.quantile(0.5)?, q.quantile(0.75)?);
    let bowley = if q3 - q1 >= 10.0 && q2 != q1 && q2 != q3 { (q1 + q3 - 2.0 * q2) / (q3 - q1) } else { 0.0 };
    let mad = q.mad()?;
    let dispersion = if q2 >= 1.0 { ((q2 - mad) / q2).max(0.0) } else { small };
    Some((0.5 * ((1.0 - bowley.abs()) + dispersion), q2, mad))
}

fn histogram_score(bins: &[u32]) -> (f64, usize) {
    let n = bins.len().max(1) as f64;
    let mean = bins.iter().map(|b| f64::from(*b)).sum::<f64>() / n;
    let bars = bins.iter().filter(|b| **b > 0).count();
    if mean == 0.0 {
        return (0.0, bars);
    }
    let var = bins.iter().map(|b| (f64::from(*b) - mean).powi(2)).sum::<f64>() / n;
    let cv = var.sqrt() / mean;
    let cv_score = if cv > 1.0 { 0.0 } else { 1.0 - cv };
    // Two modes: a beacon that sleeps at night has two heights of bars.
    let mut bimodal = 0.0;
    if bars >= 11 {
        let max = bins.iter().copied().max().unwrap_or(0);
        let width = (f64::from(max) * 0.05).ceil().max(1.0);
        let mut heights: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
        for b in bins.iter().filter(|b| **b > 0) {
            *heights.entry((f64::from(*b) / width) as i64).or_default() += 1;
        }
        let mut pops: Vec<usize> = heights.into_values().collect();
        pops.sort_unstable_by(|a, b| b.cmp(a));
        let top2 = pops.iter().take(2).sum::<usize>() as f64;
        bimodal = (top2 / (bars as f64 - 1.0).max(1.0)).min(1.0);
    }
    (f64::max(cv_score, bimodal), bars)
}

fn duration_score(bins: &[u32], bars: usize, first: i64, last: i64, span: i64) -> f64 {
    if bars < 6 {
        return 0.0;
    }
    let coverage = ((last - first) as f64 / span.max(1) as f64).min(1.0);
    // The longest run of hours with calls, going round the end.
    let n = bins.len();
    let (mut best, mut run) = (0usize, 0usize);
    for i in 0..2 * n {
        if bins[i % n] > 0 {
            run += 1;
            best = best.max(run.min(n));
        } else {
            run = 0;
        }
    }
    let consistency = (best as f64 / 12.0).min(1.0);
    coverage.max(consistency)
}

/// The detection over one stream.
#[derive(Serialize, Deserialize)]
pub struct Beacons {
    pairs: Bounded<(IpAddr, IpAddr), Pair>,
    /// Per destination, its distinct sources; and every source: the prevalence of a
    /// destination in the window.
    talkers: Bounded<IpAddr, Distinct>,
    sources: Distinct,
    /// The open window: `[start, start + len)`; `None` before the first connection.
    start: Option<i64>,
    /// The latest time seen in the window.
    seen: i64,
}

impl Beacons {
    pub fn new(max_entities: usize) -> Beacons {
        Beacons {
            pairs: Bounded::new(max_entities),
            talkers: Bounded::new(max_entities),
            sources: Distinct::default(),
            start: None,
            seen: i64::MIN,
        }
    }

    pub fn resize(self, max_entities: usize) -> Beacons {
        Beacons { pairs: self.pairs.with_cap(max_entities), talkers: self.talkers.with_cap(max_entities), ..self }
    }

    pub fn evicted(&self) -> u64 {
        self.pairs.evicted + self.talkers.evicted
    }

    pub fn entities(&self) -> usize {
        self.pairs.len() + self.talkers.len()
    }

    /// One event; findings of a window that `o` closes go to `out`.
    pub fn observe(&mut self, o: &Obs, window: i64, cfg: &BeaconConfig, out: &mut Vec<Finding>) {
        let (Some(Kind::Connection), Some(ts), Some(src), Some(dst)) = (o.kind, o.ts, o.src, o.dst) else { return };
        let start = *self.start.get_or_insert_with(|| align(ts, window));
        if ts >= start + window {
            self.close(window, cfg, out);
            self.start = Some(align(ts, window));
        }
        let start = self.start.unwrap_or(ts);
        self.seen = self.seen.max(ts);
        let pair = self.pairs.entry((src, dst), || Pair::new(ts));
        if pair.count == 0 {
            // A new pair: a new source for the destination (and perhaps at all).
            let key = ip_key(src);
            self.talkers.entry(dst, Distinct::default).add_bytes(&key);
            self.sources.add_bytes(&key);
        }
        pair.add(ts, o.orig_bytes, start, window);
    }

    /// Scores every pair of the open window and starts the next.
    pub fn close(&mut self, window: i64, cfg: &BeaconConfig, out: &mut Vec<Finding>) {
        let Some(start) = self.start else { return };
        // A window the input did not reach the end of is judged on what it covered.
        let span = (self.seen - start + 1).clamp(1, window);
        let bins_covered = ((span * BINS as i64 + window - 1) / window).clamp(1, BINS as i64) as usize;
        let all = self.sources.estimate().max(1.0);
        for ((src, dst), mut pair) in self.pairs.drain() {
            // Too few calls to score (distinct seconds are at most the calls).
            if pair.count < cfg.min_connections {
                continue;
            }
            pair.settle();
            // Prevalence says something only among enough sources.
            let prevalence = if all >= MIN_SOURCES {
                self.talkers.get_mut(&dst).map_or(0.0, |d| d.estimate()) / all
            } else {
                f64::NAN
            };
            if let Some(f) = judge(src, dst, &pair, span, bins_covered, prevalence, cfg) {
                out.push(f);
            }
        }
        self.talkers.drain();
        self.sources = Distinct::default();
        self.start = None;
        self.seen = i64::MIN;
    }
}

/// An address as bytes for a distinct count (no text made per event).
fn ip_key(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
        IpAddr::V6(a) => a.octets(),
    }
}

/// A pair's finding, if it is a beacon (or a strobe: more than a call a second).
#[allow(clippy::too_many_arguments)]
fn judge(
    src: IpAddr,
    dst: IpAddr,
    p: &Pair,
    span: i64,
    bins_covered: usize,
    prevalence: f64,
    cfg: &BeaconConfig,
) -> Option<Finding> {
    let entity = vec![("ip_src_addr", Value::from(src.to_string())), ("ip_dst_addr", Value::from(dst.to_string()))];
    let span_s = span as f64 / 1000.0;
    // RITA's strobe: 86,400 calls a day, one a second.
    if p.count > cfg.min_connections && p.count as f64 >= span_s {
        return Some(Finding {
            kind: "beacon",
            score: 0.8,
            reason: format!(
                "strobe: {src} connected to {dst} {} times in {}, more than once a second",
                p.count,
                human_seconds(span_s)
            ),
            first_seen: p.first,
            last_seen: p.last,
            entity,
            numbers: vec![("connections", Value::from(p.count)), ("strobe", Value::from(true))],
        });
    }
    let sk = p.sketches.as_ref()?;
    if p.unique < cfg.min_connections || sk.intervals.count() < 3 {
        return None;
    }
    let (timing, interval, interval_mad) = skew_and_dispersion(&sk.intervals, 1.0)?;
    let (size, bytes, bytes_mad) = skew_and_dispersion(&sk.sizes, 0.0).unwrap_or((0.0, 0.0, 0.0));
    let bins = &p.bins[..bins_covered];
    // The histogram from the pair's first hour with a call to its last.
    let first = bins.iter().position(|b| *b > 0).unwrap_or(0);
    let last = bins.iter().rposition(|b| *b > 0).unwrap_or(first);
    let (histogram, _) = histogram_score(&bins[first..=last]);
    let bars = bins.iter().filter(|b| **b > 0).count();
    let duration = duration_score(bins, bars, p.first, p.last, span);
    let s = Scores { timing, size, histogram, duration };
    let modifier = if prevalence.is_nan() {
        0.0
    } else if prevalence >= 0.5 {
        -0.15
    } else if prevalence <= 0.02 {
        0.15
    } else {
        0.0
    };
    let score = (s.total() + modifier).clamp(0.0, 1.0);
    if score < cfg.min_score || timing < cfg.min_timing_score {
        return None;
    }
    let reason = format!(
        "{src} called {dst} {} times, every {} (± {}), sending {:.0} bytes (± {:.0}), in {bars} of {bins_covered} hours: \
         timing {:.2}, size {:.2}, histogram {:.2}, duration {:.2}{}",
        p.unique,
        human_seconds(interval),
        human_seconds(interval_mad),
        bytes,
        bytes_mad,
        s.timing,
        s.size,
        s.histogram,
        s.duration,
        if prevalence.is_nan() {
            String::new()
        } else {
            format!("; {dst} is called by {:.1}% of sources", 100.0 * prevalence)
        }
    );
    let r3 = super::finding::round3;
    Some(Finding {
        kind: "beacon",
        score,
        reason,
        first_seen: p.first,
        last_seen: p.last,
        entity,
        numbers: vec![
            ("connections", Value::from(p.unique)),
            ("interval", Value::from(r3(interval))),
            ("interval_mad", Value::from(r3(interval_mad))),
            ("bytes", Value::from(r3(bytes))),
            ("timing_score", Value::from(r3(s.timing))),
            ("size_score", Value::from(r3(s.size))),
            ("histogram_score", Value::from(r3(s.histogram))),
            ("duration_score", Value::from(r3(s.duration))),
            ("prevalence", if prevalence.is_nan() { Value::Null } else { Value::from(r3(prevalence)) }),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(ts: i64, src: &str, dst: &str, bytes: f64) -> Obs {
        Obs {
            kind: Some(Kind::Connection),
            ts: Some(ts),
            src: src.parse().ok(),
            dst: dst.parse().ok(),
            orig_bytes: Some(bytes),
            ..Obs::default()
        }
    }

    const DAY: i64 = 86_400_000;

    #[test]
    fn a_jittered_beacon_scores_high_and_random_busy_traffic_does_not() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut b = Beacons::new(1000);
        let cfg = BeaconConfig::default();
        let mut out = Vec::new();
        let start = 1_700_006_400_000 - 1_700_006_400_000 % DAY;
        let mut events = Vec::new();
        // Every 5 min ± 20%, 300-310 bytes.
        let mut t = start;
        while t < start + DAY {
            events.push(conn(t, "10.0.0.5", "203.0.113.9", 300.0 + rng.random_range(0.0..10.0)));
            t += 300_000 + rng.random_range(-60_000..60_000);
        }
        // Busy and random: Poisson arrivals, 2,000 a day, any size.
        let mut t = start;
        while t < start + DAY {
            events.push(conn(t, "10.0.0.6", "198.51.100.7", rng.random_range(40.0..20_000.0)));
            t += (-(1.0 - rng.random::<f64>()).ln() * 43_200.0) as i64;
        }
        events.sort_by_key(|o| o.ts);
        for o in &events {
            b.observe(o, DAY, &cfg, &mut out);
        }
        b.close(DAY, &cfg, &mut out);
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(out[0].entity[1].1, "203.0.113.9");
        assert!(out[0].score > 0.85, "{}", out[0].reason);
    }

    #[test]
    fn out_of_order_times_are_put_in_order() {
        let mut p = Pair::new(0);
        for ts in [0, 60_000, 180_000, 120_000, 240_000] {
            p.add(ts, Some(1.0), 0, DAY);
        }
        p.settle();
        assert_eq!(p.unique, 5);
        let near_60 = |v: Option<f64>| v.is_some_and(|v| (v - 60.0).abs() <= 0.6);
        let sk = p.sketches.as_ref().unwrap();
        assert!(near_60(sk.intervals.quantile(0.0)) && near_60(sk.intervals.quantile(1.0)), "all four gaps are 60 s");
    }
}
