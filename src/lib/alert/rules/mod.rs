//! Loading rules: files and directories of YAML documents, each either a Sigma rule or
//! one of ours (`kind: all | intel | list | keyword | expression`), into a rule set
//! indexed by `source.type`. Every document that cannot be used is reported with its
//! file, rule and reason; the others still load.

mod cache;
mod load;
mod ours;

pub use cache::{referenced_keys, EvalCache};
pub use load::load;

use super::matcher::Node;
use super::program::{self, Program, Scratch};

use crate::event::{fields, get_str, Event};
use crate::expr::{Expr, Scope};
use crate::net::NetSet;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

/// Apache Metron's alert priorities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    Low,
    Med,
    High,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::High => "HIGH",
            Priority::Med => "MED",
            Priority::Low => "LOW",
        }
    }

    /// Our names and Sigma's levels.
    pub fn parse(text: &str) -> Option<Priority> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "high" | "critical" => Priority::High,
            "med" | "medium" => Priority::Med,
            "low" | "informational" | "info" => Priority::Low,
            _ => return None,
        })
    }

    /// Metron's triage colours: above 69 red, above 39 amber.
    pub fn from_score(score: f64) -> Priority {
        if score > 69.0 {
            Priority::High
        } else if score > 39.0 {
            Priority::Med
        } else {
            Priority::Low
        }
    }

    /// A sensor's own severity: 1 is the most severe (Suricata, Snort), or a name.
    fn from_severity(v: &Value) -> Option<Priority> {
        match v {
            Value::Number(n) => Some(match n.as_f64()? {
                x if x <= 1.0 => Priority::High,
                x if x <= 2.0 => Priority::Med,
                _ => Priority::Low,
            }),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(|x| Priority::from_severity(&Value::from(x)))
                .or_else(|| Priority::parse(s)),
            _ => None,
        }
    }
}

/// One loaded rule.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub priority: Priority,
    pub description: String,
    /// Fields whose values make the de-duplication key (default: designated host).
    pub dedup_key: Option<Vec<String>>,
    /// The field naming the host the alert is about (default: the stage's).
    pub designated_host: Option<String>,
    pub file: PathBuf,
    pub check: Check,
    /// Where the rule applies, for `--check` listings; empty: every event.
    pub source_types: Vec<String>,
    /// Notes for `--check` (an unmapped Sigma logsource).
    pub notes: Vec<String>,
}

/// What a rule tests.
pub enum Check {
    /// The tree is per source.type, in the index.
    Sigma,
    All {
        severity_field: Option<String>,
    },
    Intel {
        min_score: Option<f64>,
    },
    List(ListCheck),
    Keyword {
        matcher: aho_corasick::AhoCorasick,
        fields: Vec<String>,
    },
    /// `keys`: the only fields the expression can read, when that can be told from
    /// its text; the CEL scope is then built from those alone (converting a whole
    /// event to CEL values costs more than all the Sigma rules together).
    Expression {
        expr: Expr,
        keys: Option<Vec<String>>,
    },
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Check::Sigma => f.write_str("Sigma"),
            Check::All { severity_field } => write!(f, "All({severity_field:?})"),
            Check::Intel { min_score } => write!(f, "Intel({min_score:?})"),
            Check::List(l) => write!(f, "List({:?})", l.fields),
            Check::Keyword { fields, .. } => write!(f, "Keyword({fields:?})"),
            Check::Expression { expr, .. } => write!(f, "Expression({:?})", expr.source()),
        }
    }
}

/// IP/CIDR allow and block lists.
#[derive(Debug)]
pub struct ListCheck {
    pub fields: Vec<String>,
    block: NetSet,
    allow: NetSet,
}

impl ListCheck {
    fn matches(&self, event: &Event) -> bool {
        self.fields.iter().any(|f| {
            let Some(ip) = get_str(event, f.as_str()).and_then(|s| s.trim().parse::<IpAddr>().ok()) else {
                return false;
            };
            (!self.block.is_empty() && self.block.contains(ip)) || (!self.allow.is_empty() && !self.allow.contains(ip))
        })
    }
}

impl Rule {
    /// Whether the rule fires on `event` (`node` is the Sigma tree for its source.type).
    pub fn matches(&self, node: Option<&Node>, event: &Event, cache: &mut EvalCache) -> bool {
        match &self.check {
            Check::Sigma => node.is_some_and(|n| n.matches(event)),
            Check::All { .. } => true,
            Check::Intel { min_score } => {
                // A threat-intel hit, not `is_alert` alone: parsers set that on every IDS
                // event (Snort's, as Metron did), which the `all` kind is for.
                let hit = event.keys().any(|k| k.starts_with("threatintels."));
                hit && min_score.is_none_or(|m| triage_score(event).is_some_and(|s| s >= m))
            }
            Check::List(l) => l.matches(event),
            Check::Keyword { matcher, fields } => {
                if fields.is_empty() {
                    event.values().any(|v| v.as_str().is_some_and(|s| matcher.is_match(s)))
                } else {
                    fields.iter().any(|f| get_str(event, f.as_str()).is_some_and(|s| matcher.is_match(s)))
                }
            }
            Check::Expression { expr, keys: Some(keys) } => cache.eval_on(expr, keys, event),
            Check::Expression { expr, keys: None } => {
                let answer = expr.eval_bool(cache.scope.get_or_insert_with(|| Scope::new(event))).ok();
                cache.answer(answer)
            }
        }
    }

    /// The alert's priority for this event.
    pub fn priority_for(&self, event: &Event) -> Priority {
        match &self.check {
            Check::All { severity_field } => {
                let found = match severity_field {
                    Some(f) => event.get(f.as_str()).and_then(Priority::from_severity),
                    None => ["alert.severity", "priority", "severity"]
                        .iter()
                        .find_map(|f| event.get(*f).and_then(Priority::from_severity)),
                };
                found.unwrap_or(self.priority)
            }
            Check::Intel { .. } => triage_score(event).map_or(self.priority, Priority::from_score),
            _ => self.priority,
        }
    }
}

fn triage_score(event: &Event) -> Option<f64> {
    match event.get("threat.triage.score")? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A rule that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {}{message}", file.display(), rule.as_ref().map(|r| format!(": rule {r:?}")).unwrap_or_default(), if *unsupported { "unsupported: " } else { "" })]
pub struct LoadError {
    pub file: PathBuf,
    pub rule: Option<String>,
    pub message: String,
    /// The rule uses a feature we do not support (as opposed to being broken).
    pub unsupported: bool,
}

/// What rules read of an event: fields by name and by prefix, and the source types
/// whose rules may read any field (their events are read whole).
#[derive(Debug, Clone, Default)]
pub struct Reads {
    pub names: std::collections::HashSet<String, foldhash::fast::RandomState>,
    pub prefixes: Vec<String>,
    pub whole: std::collections::HashSet<String, foldhash::fast::RandomState>,
}

impl Reads {
    /// Whether a field is read.
    pub fn wants(&self, key: &str) -> bool {
        self.names.contains(key) || self.prefixes.iter().any(|p| key.starts_with(p.as_str()))
    }

    /// Whether events of this type must be read whole.
    pub fn whole_for(&self, event: &Event) -> bool {
        get_str(event, fields::SOURCE_TYPE).is_some_and(|t| self.whole.contains(t))
    }
}

pub(super) type Loaded = (Rule, Vec<(String, Option<Node>)>);

/// The loaded rules, indexed by source.type.
#[derive(Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    by_type: HashMap<String, Group, foldhash::fast::RandomState>,
    any: Group,
}

/// The rules that apply to one source.type (or to every event), each with its Sigma
/// tree, and the trees compiled together.
#[derive(Debug, Default)]
struct Group {
    entries: Vec<(usize, Option<Node>)>,
    /// `None` until the group is complete, or when the trees could not be compiled
    /// together (they are then evaluated one by one).
    program: Option<Program>,
}

impl Group {
    fn compile(&mut self) {
        self.program = Program::compile(self.entries.iter().map(|(_, n)| n.as_ref())).ok();
    }

    fn fire(&self, rules: &[Rule], event: &Event, state: &mut MatchState, fired: &mut Vec<usize>) {
        let program = self.program.as_ref().filter(|_| !program::has_nested_arrays(event));
        if let Some(p) = program {
            p.start(&mut state.scratch);
        }
        for (k, (i, node)) in self.entries.iter().enumerate() {
            let hit = match program.and_then(|p| p.matches(k, event, &mut state.scratch)) {
                Some(hit) => hit,
                None => rules[*i].matches(node.as_ref(), event, &mut state.cache),
            };
            if hit {
                fired.push(*i);
            }
        }
    }
}

/// What judging events needs besides the rules, kept from one event to the next.
#[derive(Default)]
pub struct MatchState {
    scratch: Scratch,
    pub cache: EvalCache,
}

impl RuleSet {
    /// The rules that can fire on events of `source_type`, each with its Sigma tree.
    pub fn candidates<'a>(&'a self, source_type: Option<&str>) -> impl Iterator<Item = (usize, Option<&'a Node>)> + 'a {
        let typed = source_type.and_then(|t| self.by_type.get(t)).map_or(&[][..], |g| g.entries.as_slice());
        typed.iter().chain(self.any.entries.iter()).map(|(i, n)| (*i, n.as_ref()))
    }

    /// The rules that fire on `event`, pushed on `fired` in the order of
    /// [`RuleSet::candidates`]; the same answer as asking each candidate, with each
    /// group's Sigma trees evaluated together.
    pub fn fire(&self, event: &Event, state: &mut MatchState, fired: &mut Vec<usize>) {
        let source_type = get_str(event, fields::SOURCE_TYPE);
        if let Some(group) = source_type.and_then(|t| self.by_type.get(t)) {
            group.fire(&self.rules, event, state, fired);
        }
        self.any.fire(&self.rules, event, state, fired);
    }

    /// The fields the rules can read to decide whether they fire, as [`Reads`]; `None`
    /// when a rule that applies to every event may read any field (a keyword rule on
    /// every field, an expression whose keys cannot be told, field-less Sigma keywords
    /// without a logsource).
    pub fn fields_read(&self) -> Option<Reads> {
        let mut reads = Reads::default();
        reads.names.insert(fields::SOURCE_TYPE.to_owned());
        for rule in &self.rules {
            match &rule.check {
                Check::Sigma | Check::All { .. } => {}
                Check::Intel { .. } => {
                    reads.prefixes.push("threatintels.".to_owned());
                    reads.names.insert("threat.triage.score".to_owned());
                }
                Check::List(l) => reads.names.extend(l.fields.iter().cloned()),
                Check::Keyword { fields, .. } if !fields.is_empty() => reads.names.extend(fields.iter().cloned()),
                Check::Keyword { .. } => return None,
                Check::Expression { keys: Some(keys), .. } => reads.names.extend(keys.iter().cloned()),
                Check::Expression { keys: None, .. } => return None,
            }
        }
        for (_, node) in &self.any.entries {
            if node.as_ref().is_some_and(|n| !n.fields_read(&mut reads.names)) {
                return None;
            }
        }
        for (source_type, group) in &self.by_type {
            let mut names: std::collections::HashSet<String, foldhash::fast::RandomState> = Default::default();
            if group.entries.iter().all(|(_, node)| node.as_ref().is_none_or(|n| n.fields_read(&mut names))) {
                reads.names.extend(names);
            } else {
                // Sigma keywords search every field, but only of this source type.
                reads.whole.insert(source_type.clone());
            }
        }
        Some(reads)
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    fn add(&mut self, rule: Rule, trees: Vec<(String, Option<Node>)>) {
        let index = self.rules.len();
        for (source_type, node) in trees {
            let group =
                if source_type.is_empty() { &mut self.any } else { self.by_type.entry(source_type).or_default() };
            group.entries.push((index, node));
            group.program = None;
        }
        self.rules.push(rule);
    }

    /// Compiles each group's trees together, once every rule is in.
    fn compile(&mut self) {
        self.any.compile();
        self.by_type.values_mut().for_each(Group::compile);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::event_from_value;
    use serde_json::json;

    fn ev(v: serde_json::Value) -> Event {
        event_from_value(v).unwrap()
    }

    fn load_text(text: &str) -> (RuleSet, Vec<LoadError>) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rules.yml");
        std::fs::write(&p, text).unwrap();
        std::fs::write(dir.path().join("bad.txt"), "10.9.9.9\n# comment\n192.0.2.0/24\n").unwrap();
        load(&[p])
    }

    fn fires(set: &RuleSet, e: &Event) -> Vec<String> {
        let st = get_str(e, "source.type");
        let mut cache = EvalCache::default();
        set.candidates(st)
            .filter(|(i, n)| set.rules[*i].matches(*n, e, &mut cache))
            .map(|(i, _)| set.rules[i].id.clone())
            .collect()
    }

    /// Each group's trees compiled together fire the same rules as asking every
    /// candidate on its own: SigmaHQ's network rules on generated events, and a rule
    /// whose `|all` looks into arrays nested in arrays (such events take the trees as
    /// written).
    #[test]
    fn compiled_groups_fire_as_the_rules_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("nested.yml");
        std::fs::write(
            &nested,
            "title: nested\nid: nested\nlogsource: {product: zeek, service: dns}\ndetection:\n  sel:\n    \
answers|contains|all: [a, b]\n  condition: sel\n",
        )
        .unwrap();
        let network = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/sigma/network"));
        let (set, errors) = load(&[network, nested]);
        assert!(errors.is_empty(), "{errors:?}");
        let mut events = crate::gen::generate_events(crate::gen::GenKind::SuricataEve, 3000, 9).unwrap();
        events.extend(crate::gen::generate_events(crate::gen::GenKind::ZeekConn, 500, 9).unwrap());
        // Generated events rarely meet these rules: some that do, and near misses.
        for e in [
            json!({"source.type": "suricata.dns", "dns.rrname": "AAA.stage.1.example"}),
            json!({"source.type": "suricata.dns", "dns.rrname": "x.stage.123456.y"}),
            json!({"source.type": "suricata.dns", "dns.rrname": "api.telegram.org"}),
            json!({"source.type": "suricata.dns", "dns.rrname": "api.telegram.org.x"}),
            json!({"source.type": "suricata.http", "http.url": "/a/b.EXE?x", "http.hostname": "x.download"}),
            json!({"source.type": "suricata.http", "http.url": "/a/b.exe", "http.hostname": "x.download.com"}),
            json!({"source.type": "suricata.http", "http.hostname": "api.telegram.org", "http.http_user_agent": "curl"}),
            json!({"source.type": "suricata.http", "http.hostname": "api.telegram.org", "http.http_user_agent": "TelegramBot"}),
            json!({"source.type": "suricata.http", "http.http_user_agent": ""}),
            json!({"source.type": "suricata.flow", "ip_dst_port": 21, "action": "forward"}),
            json!({"source.type": "zeek.dns", "Z": 1, "query": "a.b.com", "answers": ["x", "y\\x00"]}),
            json!({"source.type": "zeek.dns", "Z": 1, "query": "a.b.com", "answers": ["x"], "ip_dst_port": 53}),
            json!({"source.type": "zeek.dns", "query": "pool.minexmr.com"}),
            json!({"source.type": "zeek.http", "user_agent": "Microsoft-WebDAV", "method": "PUT", "ip_dst_addr": "8.8.8.8"}),
            json!({"source.type": "zeek.http", "user_agent": "Microsoft-WebDAV", "method": "PUT", "ip_dst_addr": "10.0.0.1"}),
            json!({"source.type": "cisco.aaa", "cmd": "Clear Logging now"}),
        ] {
            events.push(ev(e));
        }
        let crafted = ev(json!({"source.type": "zeek.dns", "answers": [["a", "b"]], "query": "x.onion"}));
        assert!(program::has_nested_arrays(&crafted));
        events.push(crafted.clone());
        let mut state = MatchState::default();
        let mut fired = Vec::new();
        let mut fired_somewhere = 0;
        for e in &events {
            fired.clear();
            set.fire(e, &mut state, &mut fired);
            let ids: Vec<String> = fired.iter().map(|&i| set.rules[i].id.clone()).collect();
            assert_eq!(ids, fires(&set, e), "{e:?}");
            fired_somewhere += usize::from(!ids.is_empty());
        }
        assert!(fired_somewhere >= 10, "the rules must fire on some events: {fired_somewhere}");
        fired.clear();
        set.fire(&crafted, &mut state, &mut fired);
        assert!(fired.iter().any(|&i| set.rules[i].id == "nested"));
    }

    #[test]
    fn every_kind_of_ours() {
        let (set, errors) = load_text(
            r#"
rules:
  - id: ids
    kind: all
    source_types: [snort, suricata.alert]
    priority: LOW
  - id: intel
    kind: intel
  - id: blocked
    kind: list
    block: [203.0.113.7, 198.51.100.0/24]
    block_files: [bad.txt]
  - id: outside
    kind: list
    fields: [ip_dst_addr]
    allow: [10.0.0.0/8, "fd00::/8"]
  - id: words
    kind: keyword
    keywords: [mimikatz, "cobalt strike"]
    fields: [query, uri]
  - id: expr
    kind: expression
    expression: 'e["ip_dst_port"] == 4444'
"#,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(set.len(), 6);
        let alert = ev(json!({"source.type": "suricata.alert", "alert.severity": 1, "ip_dst_addr": "10.1.1.1"}));
        assert_eq!(fires(&set, &alert), ["ids"]);
        assert_eq!(set.rules[0].priority_for(&alert), Priority::High);
        let snort = ev(json!({"source.type": "snort", "ip_dst_addr": "10.1.1.1"}));
        assert_eq!(set.rules[0].priority_for(&snort), Priority::Low);
        let intel = ev(json!({"source.type": "zeek.conn", "is_alert": true, "threat.triage.score": 55,
            "threatintels.feodo.ip_dst_addr.ip": "alert", "ip_dst_addr": "10.1.1.1"}));
        assert_eq!(fires(&set, &intel), ["intel"]);
        // An IDS event flagged by its parser is not a threat-intel hit.
        let flagged = ev(json!({"source.type": "zeek.conn", "is_alert": true, "ip_dst_addr": "10.1.1.1"}));
        assert!(fires(&set, &flagged).is_empty());
        assert_eq!(set.rules[1].priority_for(&intel), Priority::Med);
        for (score, p) in [(70, Priority::High), (69, Priority::Med), (40, Priority::Med), (39, Priority::Low)] {
            let e = ev(json!({"is_alert": true, "threat.triage.score": score}));
            assert_eq!(set.rules[1].priority_for(&e), p, "score {score}");
        }
        assert_eq!(fires(&set, &ev(json!({"ip_src_addr": "198.51.100.9", "ip_dst_addr": "10.0.0.1"}))), ["blocked"]);
        assert_eq!(fires(&set, &ev(json!({"ip_src_addr": "192.0.2.200", "ip_dst_addr": "10.0.0.1"}))), ["blocked"]);
        assert_eq!(fires(&set, &ev(json!({"ip_src_addr": "10.9.9.9", "ip_dst_addr": "10.0.0.1"}))), ["blocked"]);
        assert_eq!(fires(&set, &ev(json!({"ip_src_addr": "1.2.3.4", "ip_dst_addr": "8.8.8.8"}))), ["outside"]);
        assert!(fires(&set, &ev(json!({"ip_dst_addr": "fd00::1"}))).is_empty());
        assert_eq!(fires(&set, &ev(json!({"ip_dst_addr": "10.0.0.1", "query": "x.MIMIKATZ.example"}))), ["words"]);
        assert!(fires(&set, &ev(json!({"ip_dst_addr": "10.0.0.1", "host": "mimikatz"}))).is_empty());
        assert_eq!(fires(&set, &ev(json!({"ip_dst_addr": "10.0.0.1", "ip_dst_port": 4444}))), ["expr"]);
        // A missing field in an expression is no alert, and is counted.
        let mut cache = EvalCache::default();
        let e = ev(json!({"ip_dst_addr": "10.0.0.1"}));
        assert!(!set.rules[5].matches(None, &e, &mut cache));
        assert_eq!(cache.expression_errors, 1);
    }

    /// Answers remembered by the values an expression reads are the answers it gives:
    /// a field missing is not a field null, other fields do not count, and an error
    /// is counted on every event that meets it.
    #[test]
    fn expression_answers_are_remembered_by_the_values_they_read() {
        let (set, errors) = load_text("id: e\nkind: expression\nexpression: 'e[\"p\"] == null || e[\"p\"] > 10'\n");
        assert!(errors.is_empty(), "{errors:?}");
        let mut cache = EvalCache::default();
        let cases = [
            (json!({"p": 11}), true, 0),
            (json!({"p": 5, "q": 1}), false, 0),
            (json!({"p": 11, "q": 2}), true, 0),
            (json!({"p": 11.5}), true, 0),
            (json!({"p": null}), true, 0),
            (json!({"q": 1}), false, 1),
            (json!({"q": 1}), false, 1),
            (json!({"p": "x"}), false, 1),
            (json!({"p": "x"}), false, 1),
        ];
        for _ in 0..2 {
            for (e, fires, errors) in &cases {
                cache.start();
                assert_eq!(set.rules[0].matches(None, &ev(e.clone()), &mut cache), *fires, "{e}");
                assert_eq!(cache.expression_errors, *errors, "{e}");
            }
        }
        assert_eq!(cache.answers.len(), 6);
    }

    #[test]
    fn broken_rules_are_named_and_the_others_load() {
        let (set, errors) = load_text(
            r#"
rules:
  - id: good
    kind: keyword
    keywords: [x]
  - id: bad-expr
    kind: expression
    expression: 'e["a"] =='
  - id: bad-list
    kind: list
    block: [not-an-ip]
  - id: bad-kind
    kind: nope
  - id: typo
    kind: keyword
    keywrds: [x]
  - id: good
    kind: keyword
    keywords: [y]
  - name: no id
    kind: intel
"#,
        );
        assert_eq!(set.len(), 1);
        let msgs: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 6, "{msgs:#?}");
        assert!(msgs[0].contains("rules.yml: rule \"bad-expr\": expression: line 1, column"), "{}", msgs[0]);
        assert!(msgs[1].contains("not-an-ip"));
        assert!(msgs[2].contains("nope"));
        assert!(msgs[3].contains("keywrds"));
        assert!(msgs[4].contains("duplicate"));
        assert!(msgs[5].contains("no `id`"));
    }

    #[test]
    fn yaml_errors_and_missing_files_are_reported() {
        let (set, errors) = load_text("rules: [\n");
        assert!(set.is_empty());
        assert!(errors[0].message.starts_with("YAML:"), "{errors:?}");
        let (_, errors) = load(&[PathBuf::from("/nonexistent/rules")]);
        assert_eq!(errors[0].message, "no such file or directory");
    }

    #[test]
    fn expressions_read_only_the_fields_they_name() {
        let k = |s: &str| referenced_keys(s);
        assert_eq!(k(r#"e["ip_dst_port"] == 4444"#).unwrap(), ["ip_dst_port"]);
        assert_eq!(k(r#"e[?"a.b"].orValue(0) > 1 && has(e.query)"#).unwrap(), ["a.b", "query"]);
        assert_eq!(k(r#""query" in e && e["query"].endsWith('.ru')"#).unwrap(), [".ru", "query"]);
        assert_eq!(k("size(e) > 3"), None);
        assert_eq!(k(r#"e.exists(k, k.startsWith("threatintels."))"#), None);
        assert_eq!(k(r#"e["a" + "b"] == 1"#), None);
        assert_eq!(k(r#"e[x] == 1"#), None);
        assert_eq!(k(r#"e["a\"b"] == 1"#), None);
    }
}
