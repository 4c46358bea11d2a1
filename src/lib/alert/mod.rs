//! `metron alert`: rules turn events into de-duplicated alerts, as Apache Metron's
//! alert step did. Every event goes on, tagged with the ids of the alerts it raised
//! (`alerts`); each alert is a record of its own (`source.type` = `alert`) written to
//! the alert output.
//!
//! Rule files are YAML: Sigma rules as SigmaHQ writes them, and our own kinds —
//!
//! ```yaml
//! id: c2-port               # unique; required
//! name: Traffic to 4444      # default: the id
//! kind: expression           # all | intel | list | keyword | expression
//! priority: HIGH             # HIGH | MED | LOW (default MED)
//! description: ...
//! source_types: [zeek.conn]  # only these events (required for `all`)
//! dedup_key: [ip_src_addr, ip_dst_addr]   # default: the designated host
//! designated_host: ip_dst_addr            # default: ip_src_addr
//! expression: 'e["ip_dst_port"] == 4444'
//! ```
//!
//! (`all`: `severity_field`; `intel`: `min_score`; `list`: `fields`, `block`, `allow`,
//! `block_files`, `allow_files`; `keyword`: `keywords`, `fields`, `case_sensitive`.)
//! A file holds one rule, several YAML documents, or a `rules:` list.

pub mod condition;
pub mod dedup;
pub mod logsource;
pub mod matcher;
pub mod program;
pub mod rules;
pub mod sigma;

use crate::error::ErrorType;
use crate::event::{fields, now_ms, Event};
use crate::io::Output;
use crate::stage::{Stage, StageConfig, StageError};
use dedup::{Dedup, DedupStats, Seen};
use rules::{LoadError, MatchState, Rule, RuleSet};
use serde::Deserialize;
use serde_json::Value;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

pub use rules::Priority;

/// `[alert]` in metron.toml.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertConfig {
    /// Rule files and directories.
    #[serde(default)]
    pub rules: Vec<PathBuf>,
    /// `1h`, `30m`, `90s`.
    pub dedup_window: Option<String>,
    pub max_cache: Option<usize>,
    /// The field naming the host an alert is about.
    pub designated_host: Option<String>,
}

/// Metron's default alert cache size.
pub const DEFAULT_MAX_CACHE: usize = 1000;
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(3600);

/// Where alert records go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertOutput {
    /// A file of their own (`--alerts FILE`).
    File(PathBuf),
    /// Stdout, after the events they came from.
    WithEvents,
    /// Stdout, instead of the events (`--only-alerts`).
    Only,
}

/// Everything the stage needs, flags and config merged.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    pub rules: Vec<PathBuf>,
    pub dedup_window: Duration,
    pub max_cache: usize,
    pub designated_host: String,
    pub output: AlertOutput,
}

impl Default for AlertSettings {
    fn default() -> AlertSettings {
        AlertSettings {
            rules: Vec::new(),
            dedup_window: DEFAULT_WINDOW,
            max_cache: DEFAULT_MAX_CACHE,
            designated_host: fields::IP_SRC_ADDR.into(),
            output: AlertOutput::WithEvents,
        }
    }
}

/// The stage could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AlertBuildError {
    #[error("no rules: name rule files or directories with --rules or [alert] rules in metron.toml")]
    NoRulePaths,
    #[error("no rule could be loaded ({} problem(s)):\n  - {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  - "))]
    NoRules(Vec<LoadError>),
    #[error("no rules in {}: rules are .yml or .yaml files (directories are searched for them)", .0.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    NoRuleFiles(Vec<PathBuf>),
    #[error("--max-cache must be at least 1")]
    ZeroCache,
    #[error("--alerts {path}: {source}")]
    Output { path: PathBuf, source: std::io::Error },
}

/// Counts for the summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AlertStats {
    pub events: u64,
    /// Events that raised at least one alert.
    pub alerting_events: u64,
    pub dedup: DedupStats,
    /// Expression rules that could not be evaluated on an event (a missing field).
    pub expression_errors: u64,
    pub rules: usize,
    pub load_errors: usize,
}

/// `3 rules (0 could not be loaded); 1,000 of 5,000 events raised alerts: 1 alerts, ...`.
pub fn summary(s: &AlertStats) -> String {
    use crate::io::thousands;
    format!(
        "{} rules ({} could not be loaded); {} of {} events raised alerts: {} alerts, {} de-duplicated, {} updates, {} evicted from the cache{}",
        s.rules,
        s.load_errors,
        thousands(s.alerting_events),
        thousands(s.events),
        thousands(s.dedup.opened),
        thousands(s.dedup.deduplicated),
        thousands(s.dedup.updates),
        thousands(s.dedup.evicted),
        if s.expression_errors > 0 { format!(", {} expression evaluation errors", thousands(s.expression_errors)) } else { String::new() }
    )
}

/// What `--check` found.
#[derive(Debug)]
pub struct CheckReport {
    pub rules: Vec<Rule>,
    pub errors: Vec<LoadError>,
}

/// Loads every rule and reports each one that cannot be loaded.
pub fn check(paths: &[PathBuf]) -> CheckReport {
    let (set, errors) = rules::load(paths);
    CheckReport { rules: set.rules, errors }
}

/// The running stage.
pub struct AlertStage {
    rules: RuleSet,
    dedup: Dedup,
    designated_host: String,
    output: AlertOutput,
    file: Option<Output>,
    write_error: Option<std::io::Error>,
    load_errors: Vec<LoadError>,
    stats: AlertStats,
    fired: Vec<usize>,
    updates: Vec<Event>,
    /// The fields the rules can read (names, prefixes), or `None` when some rule may
    /// read any: a quiet line is then judged on those fields alone.
    reads: Option<rules::Reads>,
    state: MatchState,
}

impl StageConfig for AlertSettings {
    type Runtime = AlertStage;
    type Error = AlertBuildError;

    fn build(self) -> Result<AlertStage, AlertBuildError> {
        if self.rules.is_empty() {
            return Err(AlertBuildError::NoRulePaths);
        }
        let max_cache = NonZeroUsize::new(self.max_cache).ok_or(AlertBuildError::ZeroCache)?;
        let (rules, load_errors) = rules::load(&self.rules);
        if rules.is_empty() && load_errors.is_empty() {
            return Err(AlertBuildError::NoRuleFiles(self.rules));
        }
        if rules.is_empty() {
            return Err(AlertBuildError::NoRules(load_errors));
        }
        let file = match &self.output {
            AlertOutput::File(p) => {
                Some(Output::open(Some(p)).map_err(|source| AlertBuildError::Output { path: p.clone(), source })?)
            }
            _ => None,
        };
        let stats = AlertStats { rules: rules.len(), load_errors: load_errors.len(), ..AlertStats::default() };
        let reads = rules.fields_read();
        Ok(AlertStage {
            reads,
            rules,
            dedup: Dedup::new(self.dedup_window, max_cache),
            designated_host: self.designated_host,
            output: self.output,
            file,
            write_error: None,
            load_errors,
            stats,
            fired: Vec::new(),
            updates: Vec::new(),
            state: MatchState::default(),
        })
    }
}

impl AlertStage {
    /// Rules that could not be loaded (the stage runs with the others).
    pub fn load_errors(&self) -> &[LoadError] {
        &self.load_errors
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    pub fn stats(&self) -> AlertStats {
        AlertStats { dedup: self.dedup.stats, ..self.stats }
    }

    /// Ends the alert output; the first write error, if any, is returned.
    pub fn finish(&mut self) -> std::io::Result<AlertStats> {
        if let Some(e) = self.write_error.take() {
            return Err(e);
        }
        if let Some(out) = self.file.take() {
            out.finish()?;
        }
        Ok(self.stats())
    }

    fn emit(&mut self, record: Event, out: &mut Vec<Event>) {
        match &mut self.file {
            Some(file) => {
                if self.write_error.is_none() {
                    if let Err(e) = file.write_event(&record) {
                        self.write_error = Some(e);
                    }
                }
            }
            None => out.push(record),
        }
    }

    fn emit_updates(&mut self, out: &mut Vec<Event>) {
        let mut updates = std::mem::take(&mut self.updates);
        for u in updates.drain(..) {
            self.emit(u, out);
        }
        self.updates = updates;
    }
}

fn value_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn event_time(event: &Event) -> i64 {
    match event.get(fields::TIMESTAMP) {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)).unwrap_or_else(now_ms),
        _ => now_ms(),
    }
}

/// Fields of the event an alert record carries besides its own.
const COPIED: [&str; 7] = [
    fields::IP_SRC_ADDR,
    fields::IP_DST_ADDR,
    fields::IP_SRC_PORT,
    fields::IP_DST_PORT,
    fields::PROTOCOL,
    fields::COMMUNITY_ID,
    fields::IS_ALERT,
];

fn alert_record(alert_id: &str, rule: &Rule, event: &Event, host: &str, ts: i64) -> Event {
    let mut r = crate::event::event_with_capacity(24);
    r.insert(fields::SOURCE_TYPE.into(), "alert".into());
    r.insert("alert_id".into(), alert_id.into());
    r.insert(fields::GUID.into(), crate::event::new_guid().into());
    r.insert(fields::TIMESTAMP.into(), ts.into());
    r.insert("description".into(), rule.description.clone().into());
    r.insert("priority".into(), rule.priority_for(event).as_str().into());
    r.insert("designated_host".into(), host.into());
    r.insert("rule".into(), rule.id.clone().into());
    r.insert("rule.name".into(), rule.name.clone().into());
    r.insert("rule.kind".into(), rule.kind.into());
    r.insert("event_guid".into(), event.get(fields::GUID).cloned().unwrap_or(Value::Null));
    r.insert("event_source_type".into(), event.get(fields::SOURCE_TYPE).cloned().unwrap_or(Value::Null));
    r.insert("count".into(), 1.into());
    r.insert("first_timestamp".into(), ts.into());
    r.insert("last_timestamp".into(), ts.into());
    for f in COPIED {
        if let Some(v) = event.get(f) {
            r.insert(f.into(), v.clone());
        }
    }
    for (k, v) in event {
        if k.starts_with("enrichments.") || k.starts_with("threatintels.") || k.starts_with("threat.triage.") {
            r.insert(k.clone(), v.clone());
        }
    }
    r
}

impl AlertStage {
    /// The rules that fire on `event`, into `fired` (cleared first); returns how many
    /// expressions failed to evaluate.
    fn match_rules(&mut self, event: &Event, fired: &mut Vec<usize>) -> u64 {
        fired.clear();
        self.state.cache.start();
        self.rules.fire(event, &mut self.state, fired);
        self.state.cache.expression_errors
    }
}

impl Stage for AlertStage {
    fn name(&self) -> &str {
        "alert"
    }

    fn error_type(&self) -> ErrorType {
        ErrorType::AlertError
    }

    /// Most events raise nothing and go on unchanged: behind a pipe such a line is
    /// written as it came instead of being serialized again. A line that raises an
    /// alert goes through `process` (and is read once more there).
    fn process_line(&mut self, line: &[u8], out: &mut Vec<u8>) -> Option<u64> {
        if self.output == AlertOutput::Only {
            return None;
        }
        // Whether rules fire depends only on the fields they read, so a line is judged
        // on those alone; one that fires is read whole by `process`.
        let event = match &self.reads {
            Some(reads) => crate::event::event_from_json_only(line, |k| reads.wants(k)),
            None => crate::event::event_from_json(line),
        };
        let Ok(event) = event else { return None };
        if self.reads.as_ref().is_some_and(|r| r.whole_for(&event)) {
            return None;
        }
        let mut fired = std::mem::take(&mut self.fired);
        let errors = self.match_rules(&event, &mut fired);
        let quiet = fired.is_empty();
        self.fired = fired;
        if !quiet {
            return None;
        }
        self.stats.events += 1;
        self.stats.expression_errors += errors;
        out.extend_from_slice(line);
        out.push(b'\n');
        Some(1)
    }

    fn process(&mut self, mut event: Event, out: &mut Vec<Event>) -> Result<(), StageError> {
        self.stats.events += 1;
        let mut fired = std::mem::take(&mut self.fired);
        self.stats.expression_errors += self.match_rules(&event, &mut fired);
        if fired.is_empty() {
            self.fired = fired;
            if self.output != AlertOutput::Only {
                out.push(event);
            }
            return Ok(());
        }
        self.stats.alerting_events += 1;
        fired.sort_unstable();
        fired.dedup();
        let ts = event_time(&event);
        let mut ids = Vec::with_capacity(fired.len());
        let mut new_records = Vec::new();
        for &i in &fired {
            let rule = &self.rules.rules[i];
            let host_field = rule.designated_host.as_deref().unwrap_or(&self.designated_host);
            let host = value_text(event.get(host_field));
            let key = match &rule.dedup_key {
                Some(fs) => fs.iter().map(|f| value_text(event.get(f.as_str()))).collect::<Vec<_>>().join("\u{1f}"),
                None => host.clone(),
            };
            let (seen, record) =
                self.dedup.observe(i, key, ts, |id| alert_record(id, rule, &event, &host, ts), &mut self.updates);
            match seen {
                Seen::New(id) | Seen::Existing(id) => ids.push(Value::String(id)),
            }
            if let Some(r) = record {
                new_records.push(r);
            }
        }
        self.fired = fired;
        match event.get_mut("alerts") {
            Some(Value::Array(existing)) => existing.extend(ids),
            _ => {
                event.insert("alerts".into(), Value::Array(ids));
            }
        }
        if self.output != AlertOutput::Only {
            out.push(event);
        }
        self.emit_updates(out);
        for r in new_records {
            self.emit(r, out);
        }
        Ok(())
    }

    fn tick(&mut self, out: &mut Vec<Event>) -> Vec<String> {
        self.dedup.expire(&mut self.updates);
        self.emit_updates(out);
        match &self.write_error {
            Some(e) => vec![format!("alert output: {e}")],
            None => Vec::new(),
        }
    }

    fn summary(&self) -> Option<String> {
        Some(summary(&self.stats()))
    }

    /// The alert file (`--alerts`) is written out before a Kafka input commits; a
    /// write that failed fails the checkpoint.
    fn checkpoint(&mut self) -> std::io::Result<()> {
        if let Some(e) = &self.write_error {
            return Err(std::io::Error::new(e.kind(), format!("alert output: {e}")));
        }
        match &mut self.file {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }

    fn flush(&mut self, out: &mut Vec<Event>) {
        self.dedup.drain(&mut self.updates);
        self.emit_updates(out);
        if let Some(file) = &mut self.file {
            if let Err(e) = file.flush() {
                self.write_error.get_or_insert(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::event_from_value;
    use serde_json::json;

    fn stage(rules: &str, output: AlertOutput) -> (AlertStage, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.yml");
        std::fs::write(&p, rules).unwrap();
        let s = AlertSettings { rules: vec![p], output, ..AlertSettings::default() }.build().unwrap();
        (s, dir)
    }

    fn ev(v: serde_json::Value) -> Event {
        event_from_value(v).unwrap()
    }

    /// Rules decide on the fields they read: judged on those alone, every generated
    /// event fires the same rules as when judged whole.
    #[test]
    fn rules_fire_the_same_on_the_fields_they_read() {
        let dir = tempfile::tempdir().unwrap();
        let kinds = dir.path().join("kinds.yml");
        std::fs::write(
            &kinds,
            "id: k-all\nkind: all\nsource_types: [suricata.alert]\n---\nid: k-intel\nkind: intel\n---\n\
id: k-list\nkind: list\nblock: [10.0.0.0/10]\n---\nid: k-kw\nkind: keyword\nkeywords: [cdn, evil]\n\
fields: [dns.rrname, http.hostname]\n---\nid: k-expr\nkind: expression\nexpression: 'e[?\"ip_dst_port\"].orValue(0) == 443'\n",
        )
        .unwrap();
        let mut paths: Vec<std::path::PathBuf> =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/sigma/network"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
        paths.push(kinds);
        let mut st = AlertSettings { rules: paths, ..AlertSettings::default() }.build().unwrap();
        let reads = st.reads.clone().expect("these rules read known fields");
        // Cisco's field-less keywords read all of a cisco.aaa event, and only those.
        assert_eq!(reads.whole.iter().collect::<Vec<_>>(), ["cisco.aaa"]);
        let mut events = crate::gen::generate_events(crate::gen::GenKind::SuricataEve, 3000, 5).unwrap();
        events.extend(crate::gen::generate_events(crate::gen::GenKind::ZeekConn, 3000, 5).unwrap());
        let (mut whole, mut part) = (Vec::new(), Vec::new());
        let mut fired_somewhere = 0;
        for e in &events {
            let line = serde_json::to_vec(e).unwrap();
            let full = crate::event::event_from_json(&line).unwrap();
            let partial = crate::event::event_from_json_only(&line, |k| reads.wants(k)).unwrap();
            assert!(partial.len() < full.len());
            st.match_rules(&full, &mut whole);
            st.match_rules(&partial, &mut part);
            assert_eq!(whole, part, "{full:?}");
            fired_somewhere += usize::from(!whole.is_empty());
        }
        assert!(fired_somewhere > 100, "the rules must fire on some events: {fired_somewhere}");
    }

    #[test]
    fn quiet_lines_pass_as_they_came_and_alerting_lines_take_the_event_path() {
        let rules = "id: k\nkind: keyword\nkeywords: [evil]\nfields: [query]\n";
        let (mut st, _dir) = stage(rules, AlertOutput::WithEvents);
        let quiet = br#"{"query": "good.com",  "b":1}"#;
        let mut out = Vec::new();
        assert_eq!(st.process_line(quiet, &mut out), Some(1));
        assert_eq!(out, [&quiet[..], b"\n"].concat(), "written byte for byte");
        let loud = br#"{"query":"evil.com","ip_src_addr":"10.0.0.1"}"#;
        let mut more = Vec::new();
        assert!(st.process_line(loud, &mut more).is_none());
        assert!(more.is_empty());
        assert!(st.process_line(b"not json", &mut more).is_none());
        assert_eq!(st.stats().events, 1, "only the line passed on is counted here");
        assert_eq!(st.stats().alerting_events, 0);
        // With --only-alerts nothing passes on: the event path decides.
        let (mut only, _dir2) = stage(rules, AlertOutput::Only);
        assert!(only.process_line(quiet, &mut more).is_none());
    }

    #[test]
    fn a_thousand_events_from_one_host_are_one_alert_with_count_1000() {
        let (mut s, _d) =
            stage("id: c2\nkind: expression\nexpression: 'e[\"ip_dst_port\"] == 4444'\n", AlertOutput::WithEvents);
        let mut out = Vec::new();
        for i in 0..1000 {
            let e = ev(
                json!({"timestamp": 1_700_000_000_000i64 + i * 1000, "ip_src_addr": "10.0.0.5", "ip_dst_port": 4444, "guid": format!("g{i}")}),
            );
            s.process(e, &mut out).unwrap();
            if i % 100 == 0 {
                s.tick(&mut out);
            }
        }
        s.flush(&mut out);
        let alerts: Vec<&Event> = out.iter().filter(|e| e.get("source.type").is_some_and(|t| t == "alert")).collect();
        let events: Vec<&Event> = out.iter().filter(|e| e.get("source.type").is_none()).collect();
        assert_eq!(events.len(), 1000);
        assert_eq!(alerts.len(), 2, "the alert and its final update");
        let id = &alerts[0]["alert_id"];
        assert!(alerts.iter().all(|a| &a["alert_id"] == id));
        assert!(events.iter().all(|e| e["alerts"] == json!([id])));
        assert_eq!(alerts[0]["count"], 1);
        assert_eq!(alerts[0]["event_guid"], "g0");
        assert_eq!(alerts[0]["designated_host"], "10.0.0.5");
        assert_eq!(alerts[0]["priority"], "MED");
        assert_eq!(alerts[1]["count"], 1000);
        assert_eq!(alerts[1]["last_timestamp"], 1_700_000_000_000i64 + 999_000);
        let st = s.stats();
        assert_eq!((st.dedup.opened, st.dedup.deduplicated, st.alerting_events), (1, 999, 1000));
    }

    #[test]
    fn only_alerts_drops_events_and_copies_enrichments() {
        let (mut s, _d) = stage("id: intel\nkind: intel\n", AlertOutput::Only);
        let mut out = Vec::new();
        let e = ev(json!({"ip_src_addr": "1.2.3.4", "is_alert": true, "threat.triage.score": 80,
            "threatintels.feodo.ip_dst_addr": "alert", "enrichments.geo.ip_dst_addr.country": "NL", "other": 1}));
        s.process(e, &mut out).unwrap();
        s.process(ev(json!({"ip_src_addr": "1.2.3.4"})), &mut out).unwrap();
        assert_eq!(out.len(), 1);
        let a = &out[0];
        assert_eq!(a["priority"], "HIGH");
        assert_eq!(a["threatintels.feodo.ip_dst_addr"], "alert");
        assert_eq!(a["enrichments.geo.ip_dst_addr.country"], "NL");
        assert_eq!(a["threat.triage.score"], 80);
        assert!(a.get("other").is_none());
    }

    #[test]
    fn dedup_key_and_designated_host_are_per_rule() {
        let rules = "id: k\nkind: keyword\nkeywords: [evil]\ndedup_key: [query]\ndesignated_host: ip_dst_addr\n";
        let (mut s, _d) = stage(rules, AlertOutput::Only);
        let mut out = Vec::new();
        for q in ["evil.a", "evil.b", "evil.a"] {
            s.process(ev(json!({"ip_src_addr": "10.0.0.1", "ip_dst_addr": "8.8.8.8", "query": q})), &mut out).unwrap();
        }
        assert_eq!(out.len(), 2);
        assert_eq!(out[0]["designated_host"], "8.8.8.8");
    }

    #[test]
    fn alerts_go_to_their_own_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("alerts.ndjson");
        let (mut s, _d) = stage("id: k\nkind: keyword\nkeywords: [evil]\n", AlertOutput::File(file.clone()));
        let mut out = Vec::new();
        s.process(ev(json!({"q": "evil"})), &mut out).unwrap();
        s.flush(&mut out);
        assert_eq!(out.len(), 1);
        s.finish().unwrap();
        let text = std::fs::read_to_string(file).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(text.contains("\"source.type\":\"alert\""));
    }
}
