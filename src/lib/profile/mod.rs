//! `metron profile`: behavioural analytics, the other half of Apache Metron's
//! promise. Events pass through (so the stage sits before `alert` and `store`), and
//! the stage adds, in the same stream, profile records (`metron.profile`: per entity
//! and period, values of a profile) and findings (`metron.finding`: what a detection
//! says about an entity, with a score from 0 to 1 and a reason a person reads).
//!
//! Detections (`docs/analytics.md` cites and explains each):
//! - `beacon`: pairs that call home on a schedule (RITA's scoring), `beacon.rs`;
//! - `long_conn`: connections and pairs open for hours, `long_conn.rs`;
//! - `dns_tunnel`: registered domains queried with many distinct names, `dns_tunnel.rs`;
//! - `scan`: horizontal and vertical scans of failed attempts, `scan.rs`;
//! - `anomaly`: a profile value far from the entity's own history (Metron's MAD
//!   recipe), for the built-in `metron.host` profile and every `[profile.NAME]` with
//!   an `outlier`, `profiles.rs` and `history.rs`.
//!
//! Everything is by event time: a window or period closes when an event beyond it
//! arrives, and at the end of input; results do not depend on how fast events come.
//! State is bounded (sketches of fixed size, `--max-entities` per detection with the
//! least recently seen evicted and counted) and can be checkpointed (`--state`).

mod beacon;
mod bounded;
mod dns_tunnel;
mod finding;
mod history;
mod long_conn;
pub mod obs;
mod profiles;
mod scan;
pub mod sketch;
mod state;

pub use beacon::BeaconConfig;
pub use dns_tunnel::{entropy, split_name, DnsTunnelConfig};
pub use finding::{bucketed, stable_guid};
pub use long_conn::LongConnConfig;
pub use profiles::ProfileDefConfig;
pub use scan::ScanConfig;

use crate::error::ErrorType;
use crate::event::Event;
use crate::io::thousands;
use crate::stage::{Stage, StageConfig, StageError};
use finding::Finding;
use obs::Obs;
use profiles::{ProfileDef, Profiler, Record};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The detections, in the order `--detect` lists them.
pub const DETECTIONS: [&str; 5] = ["beacon", "long_conn", "dns_tunnel", "scan", "anomaly"];

/// `[profile]` in `metron.toml`. Its sub-tables are a detection's settings
/// (`[profile.beacon]`, `[profile.long_conn]`, `[profile.dns_tunnel]`,
/// `[profile.scan]`) or a profile of the user's (`[profile.NAME]`). Problems are
/// kept, not thrown, so that `validate` reports every one at once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileConfig {
    pub detect: Option<Vec<String>>,
    pub only_findings: Option<bool>,
    pub window: Option<String>,
    pub period: Option<String>,
    pub min_history: Option<usize>,
    pub max_entities: Option<usize>,
    pub state: Option<PathBuf>,
    pub checkpoint: Option<String>,
    pub beacon: BeaconConfig,
    pub long_conn: LongConnConfig,
    pub dns_tunnel: DnsTunnelConfig,
    pub scan: ScanConfig,
    pub profiles: BTreeMap<String, ProfileDefConfig>,
    problems: Vec<String>,
}

impl<'de> Deserialize<'de> for ProfileConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ProfileConfig, D::Error> {
        let table = toml::Table::deserialize(d)?;
        let mut c = ProfileConfig::default();
        for (key, value) in table {
            let problem = |e: toml::de::Error| format!("[profile] {key}: {}", e.to_string().trim());
            let result: Result<(), String> = match key.as_str() {
                "detect" => value.try_into().map(|x| c.detect = Some(x)).map_err(problem),
                "only_findings" => value.try_into().map(|x| c.only_findings = Some(x)).map_err(problem),
                "window" => value.try_into().map(|x| c.window = Some(x)).map_err(problem),
                "period" => value.try_into().map(|x| c.period = Some(x)).map_err(problem),
                "min_history" => value.try_into().map(|x| c.min_history = Some(x)).map_err(problem),
                "max_entities" => value.try_into().map(|x| c.max_entities = Some(x)).map_err(problem),
                "state" => value.try_into().map(|x| c.state = Some(x)).map_err(problem),
                "checkpoint" => value.try_into().map(|x| c.checkpoint = Some(x)).map_err(problem),
                "beacon" => value.try_into().map(|x| c.beacon = x).map_err(problem),
                "long_conn" => value.try_into().map(|x| c.long_conn = x).map_err(problem),
                "dns_tunnel" => value.try_into().map(|x| c.dns_tunnel = x).map_err(problem),
                "scan" => value.try_into().map(|x| c.scan = x).map_err(problem),
                "anomaly" => Err("[profile] anomaly: anomalies come from `outlier` in a profile (and the built-in \
                     metron.host); there is no [profile.anomaly] section"
                    .to_owned()),
                _ if value.is_table() => value
                    .try_into()
                    .map(|x| {
                        c.profiles.insert(key.clone(), x);
                    })
                    .map_err(|e: toml::de::Error| format!("[profile.{key}]: {}", e.to_string().trim())),
                _ => Err(format!(
                    "[profile] {key}: unknown key (detect, only_findings, window, period, min_history, max_entities, \
                     state, checkpoint, or a [profile.NAME] table)"
                )),
            };
            if let Err(p) = result {
                c.problems.push(p);
            }
        }
        Ok(c)
    }
}

impl ProfileConfig {
    /// Every problem in the section, all at once.
    pub fn validate(&self) -> Vec<String> {
        let (settings, mut problems) = ProfileSettings::read(self);
        problems.extend(settings.compile().err().unwrap_or_default());
        problems
    }
}

/// Everything `build()` needs: `[profile]` with the flags laid over it.
#[derive(Debug, Clone)]
pub struct ProfileSettings {
    pub detect: Vec<String>,
    pub only_findings: bool,
    pub window_ms: i64,
    pub period_ms: i64,
    pub min_history: usize,
    pub max_entities: usize,
    pub state: Option<PathBuf>,
    /// Close open windows and periods at the end of input even with `state`.
    pub flush: bool,
    pub checkpoint: Duration,
    pub beacon: BeaconConfig,
    pub long_conn: LongConnConfig,
    pub dns_tunnel: DnsTunnelConfig,
    pub scan: ScanConfig,
    pub profiles: BTreeMap<String, ProfileDefConfig>,
}

/// Defaults: a day's window, hourly periods, a dozen periods of history.
pub const DEFAULT_WINDOW: &str = "24h";
pub const DEFAULT_PERIOD: &str = "1h";
pub const DEFAULT_MIN_HISTORY: usize = 12;
pub const DEFAULT_MAX_ENTITIES: usize = 100_000;
pub const DEFAULT_CHECKPOINT: &str = "1m";

fn ms(text: &str, what: &str, problems: &mut Vec<String>) -> i64 {
    match crate::event::parse_duration(text) {
        Ok(d) if d.as_millis() >= 1000 => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Ok(_) => {
            problems.push(format!("[profile] {what} = {text:?}: at least 1s"));
            1000
        }
        Err(e) => {
            problems.push(format!("[profile] {what}: {e}"));
            1000
        }
    }
}

impl ProfileSettings {
    /// The section as configured, before flags.
    pub fn from_config(c: &ProfileConfig) -> Result<ProfileSettings, Vec<String>> {
        let (settings, problems) = ProfileSettings::read(c);
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(problems)
        }
    }

    /// The section read as far as it can be, and what was wrong with it.
    fn read(c: &ProfileConfig) -> (ProfileSettings, Vec<String>) {
        let mut problems = c.problems.clone();
        let detect = c.detect.clone().unwrap_or_else(|| DETECTIONS.iter().map(|d| (*d).to_owned()).collect());
        let window_ms = ms(c.window.as_deref().unwrap_or(DEFAULT_WINDOW), "window", &mut problems);
        let period_ms = ms(c.period.as_deref().unwrap_or(DEFAULT_PERIOD), "period", &mut problems);
        let checkpoint = ms(c.checkpoint.as_deref().unwrap_or(DEFAULT_CHECKPOINT), "checkpoint", &mut problems);
        let s = ProfileSettings {
            detect,
            only_findings: c.only_findings.unwrap_or(false),
            window_ms,
            period_ms,
            min_history: c.min_history.unwrap_or(DEFAULT_MIN_HISTORY),
            max_entities: c.max_entities.unwrap_or(DEFAULT_MAX_ENTITIES),
            state: c.state.clone(),
            flush: false,
            checkpoint: Duration::from_millis(u64::try_from(checkpoint).unwrap_or(60_000)),
            beacon: c.beacon.clone(),
            long_conn: c.long_conn.clone(),
            dns_tunnel: c.dns_tunnel.clone(),
            scan: c.scan.clone(),
            profiles: c.profiles.clone(),
        };
        (s, problems)
    }

    fn has(&self, d: &str) -> bool {
        self.detect.iter().any(|x| x == d)
    }

    /// The settings checked, with the user's profiles compiled.
    fn compile(&self) -> Result<Compiled, Vec<String>> {
        let mut problems = Vec::new();
        for d in &self.detect {
            if !DETECTIONS.contains(&d.as_str()) {
                problems.push(format!("detect: {d:?} is not one of {}", DETECTIONS.join(", ")));
            }
        }
        for (name, value) in [("window", self.window_ms), ("period", self.period_ms)] {
            if value < 1000 {
                problems.push(format!("{name}: at least 1s"));
            }
        }
        if self.max_entities == 0 {
            problems.push("max_entities: at least 1".into());
        }
        let scan_window = ms(&self.scan.window, "scan.window", &mut problems);
        let scan_suppress = ms(&self.scan.suppress, "scan.suppress", &mut problems);
        if self.scan.horizontal < 2 || self.scan.vertical < 2 {
            problems.push("[profile.scan] horizontal and vertical: at least 2".into());
        }
        for (what, t) in [("long_conn", self.long_conn.thresholds), ("dns_tunnel", self.dns_tunnel.thresholds)] {
            if !t.windows(2).all(|w| w[0] < w[1]) || t[0] <= 0.0 {
                problems.push(format!("[profile.{what}] thresholds: four rising positive numbers"));
            }
        }
        if !(0.0..=1.0).contains(&self.beacon.min_score) || !(0.0..=1.0).contains(&self.beacon.min_timing_score) {
            problems.push("[profile.beacon] min_score and min_timing_score: between 0 and 1".into());
        }
        let mut defs = Vec::new();
        for (name, cfg) in &self.profiles {
            if DETECTIONS.contains(&name.as_str()) || name.starts_with("metron.") {
                problems.push(format!("[profile.{name}]: the name is taken by metron"));
                continue;
            }
            match ProfileDef::compile(name, cfg, self.period_ms) {
                Ok(d) => defs.push(d),
                Err(p) => problems.extend(p),
            }
        }
        if problems.is_empty() {
            Ok(Compiled { defs, scan_window, scan_suppress })
        } else {
            Err(problems)
        }
    }
}

struct Compiled {
    defs: Vec<ProfileDef>,
    scan_window: i64,
    scan_suppress: i64,
}

/// The stage could not start: every problem.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("\n  "))]
pub struct ProfileBuildError(pub Vec<String>);

/// What the detections hold; what `--state` saves.
#[derive(Serialize, Deserialize)]
struct Detectors {
    beacon: Option<beacon::Beacons>,
    long_conn: Option<long_conn::LongConns>,
    dns_tunnel: Option<dns_tunnel::DnsTunnels>,
    scan: Option<scan::Scans>,
    host: Option<Profiler>,
    profiles: BTreeMap<String, Profiler>,
}

/// Counts for the summary.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ProfileStats {
    pub events: u64,
    /// Events without a `timestamp`: passed on, not profiled.
    pub untimed: u64,
    pub findings: BTreeMap<&'static str, u64>,
    pub records: u64,
    /// Entities (pairs, connections, domains, scanners, profile entities) held at
    /// the end.
    pub entities: u64,
    pub evicted: u64,
    pub expression_errors: u64,
    pub checkpoints: u64,
}

/// The running stage.
pub struct ProfileStage {
    s: ProfileSettings,
    c: Compiled,
    host_def: ProfileDef,
    d: Detectors,
    made: state::Made,
    /// Every profile reads only what the fast path reads.
    fast: bool,
    findings: Vec<Finding>,
    profile_findings: Vec<(Finding, i64)>,
    records: Vec<Event>,
    stats: ProfileStats,
    last_checkpoint: Instant,
    /// Messages for stderr (a checkpoint that failed).
    messages: Vec<String>,
}

impl StageConfig for ProfileSettings {
    type Runtime = ProfileStage;
    type Error = ProfileBuildError;

    fn build(self) -> Result<ProfileStage, ProfileBuildError> {
        let c = self.compile().map_err(ProfileBuildError)?;
        let n = self.max_entities;
        let made = state::Made {
            detect: self.detect.clone(),
            window_ms: self.window_ms,
            period_ms: self.period_ms,
            scan_window_ms: c.scan_window,
            profiles: c.defs.iter().map(|d| (d.name.clone(), d.period)).collect(),
        };
        let saved: Option<Detectors> = match &self.state {
            Some(dir) => state::load(dir, &made).map_err(|e| ProfileBuildError(vec![e]))?,
            None => None,
        };
        let d = match saved {
            Some(d) => Detectors {
                beacon: d.beacon.map(|b| b.resize(n)),
                long_conn: d.long_conn.map(|b| b.resize(n)),
                dns_tunnel: d.dns_tunnel.map(|b| b.resize(n)),
                scan: d.scan.map(|b| b.resize(n)),
                host: d.host.map(|b| b.resize(n)),
                profiles: d.profiles.into_iter().map(|(k, p)| (k, p.resize(n))).collect(),
            },
            None => Detectors {
                beacon: self.has("beacon").then(|| beacon::Beacons::new(n)),
                long_conn: self.has("long_conn").then(|| long_conn::LongConns::new(n)),
                dns_tunnel: self.has("dns_tunnel").then(|| dns_tunnel::DnsTunnels::new(n)),
                scan: self.has("scan").then(|| scan::Scans::new(n)),
                host: self.has("anomaly").then(|| Profiler::new(n)),
                profiles: c.defs.iter().map(|d| (d.name.clone(), Profiler::new(n))).collect(),
            },
        };
        let fast = c.defs.iter().all(ProfileDef::reads_obs_only);
        let host_def = ProfileDef::host(self.period_ms);
        Ok(ProfileStage {
            s: self,
            c,
            host_def,
            d,
            made,
            fast,
            findings: Vec::new(),
            profile_findings: Vec::new(),
            records: Vec::new(),
            stats: ProfileStats::default(),
            last_checkpoint: Instant::now(),
            messages: Vec::new(),
        })
    }
}

impl ProfileStage {
    pub fn stats(&self) -> &ProfileStats {
        &self.stats
    }

    /// One event: every detection and profile sees it.
    fn observe(&mut self, o: &Obs, event: Option<&Event>) {
        self.stats.events += 1;
        if o.ts.is_none() {
            self.stats.untimed += 1;
            return;
        }
        let s = &self.s;
        let out = &mut self.findings;
        if let Some(b) = &mut self.d.beacon {
            b.observe(o, s.window_ms, &s.beacon, out);
        }
        if let Some(l) = &mut self.d.long_conn {
            l.observe(o, s.window_ms, &s.long_conn, out);
        }
        if let Some(t) = &mut self.d.dns_tunnel {
            t.observe(o, s.window_ms, &s.dns_tunnel, out);
        }
        if let Some(sc) = &mut self.d.scan {
            sc.observe(o, &s.scan, self.c.scan_window, self.c.scan_suppress, out);
        }
        let record = match event {
            Some(e) => Record::Event(e, o),
            None => Record::Obs(o),
        };
        if let Some(h) = &mut self.d.host {
            h.observe(&self.host_def, &record, s.min_history, &mut self.records, &mut self.profile_findings);
        }
        for def in &self.c.defs {
            if let Some(p) = self.d.profiles.get_mut(&def.name) {
                p.observe(def, &record, s.min_history, &mut self.records, &mut self.profile_findings);
            }
        }
    }

    /// Closes every open window and period (the end of input).
    fn close_all(&mut self) {
        let s = &self.s;
        let out = &mut self.findings;
        if let Some(b) = &mut self.d.beacon {
            b.close(s.window_ms, &s.beacon, out);
        }
        if let Some(l) = &mut self.d.long_conn {
            l.close(&s.long_conn, out);
        }
        if let Some(t) = &mut self.d.dns_tunnel {
            t.close(&s.dns_tunnel, out);
        }
        if let Some(sc) = &mut self.d.scan {
            sc.close(&s.scan, self.c.scan_suppress, out);
        }
        if let Some(h) = &mut self.d.host {
            h.close(&self.host_def, s.min_history, &mut self.records, &mut self.profile_findings);
        }
        for def in &self.c.defs {
            if let Some(p) = self.d.profiles.get_mut(&def.name) {
                p.close(def, s.min_history, &mut self.records, &mut self.profile_findings);
            }
        }
    }

    /// What the detections made since last asked, as records.
    fn take_output(&mut self, out: &mut Vec<Event>) {
        let window = self.s.window_ms;
        for f in self.findings.drain(..) {
            *self.stats.findings.entry(f.kind).or_default() += 1;
            let at = f.last_seen;
            let key = finding::align(f.first_seen, window);
            out.push(f.into_event(at, key));
        }
        for (f, at) in self.profile_findings.drain(..) {
            *self.stats.findings.entry(f.kind).or_default() += 1;
            let key = f.first_seen;
            out.push(f.into_event(at, key));
        }
        self.stats.records += self.records.len() as u64;
        out.append(&mut self.records);
    }

    fn pending(&self) -> bool {
        !self.findings.is_empty() || !self.profile_findings.is_empty() || !self.records.is_empty()
    }

    fn checkpoint(&mut self) {
        let Some(dir) = &self.s.state else { return };
        match state::save(dir, &self.made, &self.d) {
            Ok(()) => self.stats.checkpoints += 1,
            Err(e) => self.messages.push(format!("profile: state not saved in {}: {e}", dir.display())),
        }
        self.last_checkpoint = Instant::now();
    }

    fn entities(&self) -> u64 {
        let d = &self.d;
        (d.beacon.as_ref().map_or(0, |x| x.entities())
            + d.long_conn.as_ref().map_or(0, |x| x.entities())
            + d.dns_tunnel.as_ref().map_or(0, |x| x.entities())
            + d.scan.as_ref().map_or(0, |x| x.entities())
            + d.host.as_ref().map_or(0, |x| x.entities())
            + d.profiles.values().map(Profiler::entities).sum::<usize>()) as u64
    }

    fn evicted(&self) -> u64 {
        let d = &self.d;
        d.beacon.as_ref().map_or(0, |x| x.evicted())
            + d.long_conn.as_ref().map_or(0, |x| x.evicted())
            + d.dns_tunnel.as_ref().map_or(0, |x| x.evicted())
            + d.scan.as_ref().map_or(0, |x| x.evicted())
            + d.host.as_ref().map_or(0, |x| x.evicted())
            + d.profiles.values().map(Profiler::evicted).sum::<u64>()
    }
}

impl Stage for ProfileStage {
    fn name(&self) -> &str {
        "profile"
    }

    fn error_type(&self) -> ErrorType {
        ErrorType::ProfileError
    }

    fn process(&mut self, event: Event, out: &mut Vec<Event>) -> Result<(), StageError> {
        let o = obs::from_event(&event);
        self.observe(&o, Some(&event));
        if !self.s.only_findings {
            out.push(event);
        }
        self.take_output(out);
        Ok(())
    }

    fn process_line(&mut self, line: &[u8], out: &mut Vec<u8>) -> Option<u64> {
        if !self.fast {
            return None;
        }
        let o = obs::from_line(line)?;
        self.observe(&o, None);
        let mut lines = 0;
        if !self.s.only_findings {
            out.extend_from_slice(line);
            out.push(b'\n');
            lines += 1;
        }
        if self.pending() {
            let mut made = Vec::new();
            self.take_output(&mut made);
            for e in &made {
                // A Value map holds no non-finite number, so this cannot fail.
                if serde_json::to_writer(&mut *out, e).is_ok() {
                    out.push(b'\n');
                    lines += 1;
                }
            }
        }
        Some(lines)
    }

    fn tick(&mut self, out: &mut Vec<Event>) -> Vec<String> {
        self.take_output(out);
        if self.s.state.is_some() && self.last_checkpoint.elapsed() >= self.s.checkpoint {
            self.checkpoint();
        }
        std::mem::take(&mut self.messages)
    }

    fn flush(&mut self, out: &mut Vec<Event>) {
        // With --state, what is still open goes on in the next run (unless --flush).
        if self.s.state.is_none() || self.s.flush {
            self.close_all();
        }
        self.take_output(out);
        self.checkpoint();
        self.stats.entities = self.entities();
        self.stats.evicted = self.evicted();
        self.stats.expression_errors = self.d.host.as_ref().map_or(0, |p| p.expression_errors)
            + self.d.profiles.values().map(|p| p.expression_errors).sum::<u64>();
    }

    fn summary(&self) -> Option<String> {
        let s = &self.stats;
        let findings: Vec<String> = s.findings.iter().map(|(k, n)| format!("{} {k}", thousands(*n))).collect();
        let mut line = format!(
            "{} findings ({}), {} profile records",
            thousands(s.findings.values().sum()),
            if findings.is_empty() { "none".to_owned() } else { findings.join(", ") },
            thousands(s.records)
        );
        if s.untimed > 0 {
            line.push_str(&format!("; {} events without a timestamp not profiled", thousands(s.untimed)));
        }
        if s.evicted > 0 {
            line.push_str(&format!(
                "; {} entities evicted at --max-entities {} (least recently seen first)",
                thousands(s.evicted),
                thousands(self.s.max_entities as u64)
            ));
        }
        if s.expression_errors > 0 {
            line.push_str(&format!("; {} profile expressions failed on an event", thousands(s.expression_errors)));
        }
        if let Some(dir) = &self.s.state {
            line.push_str(&format!("; state of {} entities in {}", thousands(s.entities), dir.display()));
        }
        Some(line)
    }
}
