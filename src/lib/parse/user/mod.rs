//! User-defined parsers: a `[parsers.NAME]` section of `metron.toml` describes a log
//! that has no built-in parser — CSV columns, a regex, a grok pattern or a map of
//! JSON fields — as Apache Metron's CSVParser, RegularExpressionsParser, GrokParser
//! and JSONMapParser did from a JSON config, followed by Metron's field
//! transformations. A section is checked and compiled once, when the stage is built;
//! every problem in it is reported at once.
//!
//! ```toml
//! [parsers.apache]
//! kind = "grok"
//! pattern = "%{COMBINEDAPACHELOG}"
//! timestamp_field = "timestamp"
//! timestamp_format = "%d/%b/%Y:%H:%M:%S %z"
//!
//! [[parsers.apache.transformations]]
//! kind = "rename"
//! fields = { clientip = "ip_src_addr" }
//! ```

mod extract;
mod time;
mod transform;
mod types;

use super::{ParseError, Parser};
use crate::event::{canonical_ip, fields, now_ms, protocol_name, Event};
use extract::{compile_csv, compile_grok, compile_regex, Extractor, KINDS};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use time::{compile_time_format, read_time, TimeFormat};
use transform::{compile_transformation, Transformation};
use types::{convert, is_plain_integer, FieldType};

/// One `[parsers.NAME]` section, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserParserConfig {
    /// `csv`, `regex`, `grok` or `json`.
    pub kind: String,
    /// csv: the column names, in order.
    pub columns: Option<Vec<String>>,
    /// csv: one ASCII character between columns (default `,`).
    pub separator: Option<String>,
    /// regex and grok: the pattern; its named captures become fields.
    pub pattern: Option<String>,
    /// grok: extra named patterns, usable as `%{NAME}` in `pattern`.
    pub patterns: Option<BTreeMap<String, String>>,
    /// json: flattened paths to rename (`"src.ip" = "ip_src_addr"`); other fields stay.
    pub fields: Option<BTreeMap<String, String>>,
    /// `source.type` of the events (default: the parser's name).
    pub source_type: Option<String>,
    /// The field holding the event time (default `timestamp`, if there is one; else
    /// the time the line was read).
    pub timestamp_field: Option<String>,
    /// `auto` (default: epoch seconds or milliseconds, or RFC 3339), `epoch_s`,
    /// `epoch_ms`, `rfc3339`, or a chrono strftime format (read as UTC unless it
    /// has `%z`).
    pub timestamp_format: Option<String>,
    /// Field types: `int`, `float`, `bool` or `string`. Untyped captures that are
    /// plain integers become numbers; everything else stays text.
    pub types: Option<BTreeMap<String, String>>,
    /// Metron's field transformations, applied in order after extraction.
    #[serde(default)]
    pub transformations: Vec<TransformationConfig>,
}

/// One `[[parsers.NAME.transformations]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformationConfig {
    /// `rename`, `remove`, `select` or `ip_protocol`.
    pub kind: String,
    /// A table `{ old = "new" }` for `rename`, a list of names for the others.
    pub fields: Option<FieldSpec>,
}

/// The `fields` of a transformation: a list or a table, depending on its kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum FieldSpec {
    List(Vec<String>),
    Map(BTreeMap<String, String>),
}

impl UserParserConfig {
    /// Every problem in this section; empty when it compiles.
    pub fn validate(&self) -> Vec<String> {
        match CompiledUserParser::compile("", self) {
            Ok(_) => Vec::new(),
            Err(problems) => problems,
        }
    }
}

/// A section checked and compiled: patterns built, names resolved.
#[derive(Debug)]
pub struct CompiledUserParser {
    name: String,
    source_type: String,
    extractor: Extractor,
    types: BTreeMap<String, FieldType>,
    timestamp_field: String,
    /// Whether `timestamp_field` was named, so that its absence is an error.
    timestamp_required: bool,
    time_format: TimeFormat,
    transformations: Vec<Transformation>,
}

impl CompiledUserParser {
    /// Checks and compiles `cfg`; on failure, every problem found.
    pub fn compile(name: &str, cfg: &UserParserConfig) -> Result<CompiledUserParser, Vec<String>> {
        let mut problems = Vec::new();
        let mut types = BTreeMap::new();
        for (field, ty) in cfg.types.iter().flatten() {
            match FieldType::from_name(ty) {
                Some(t) => {
                    types.insert(field.clone(), t);
                }
                None => problems.push(format!("types.{field} = {ty:?}: use int, float, bool or string")),
            }
        }
        for (option, given, kinds) in [
            ("columns", cfg.columns.is_some(), &["csv"][..]),
            ("separator", cfg.separator.is_some(), &["csv"][..]),
            ("pattern", cfg.pattern.is_some(), &["regex", "grok"][..]),
            ("patterns", cfg.patterns.is_some(), &["grok"][..]),
            ("fields", cfg.fields.is_some(), &["json"][..]),
        ] {
            if given && KINDS.contains(&cfg.kind.as_str()) && !kinds.contains(&cfg.kind.as_str()) {
                problems.push(format!(
                    "{option} is not an option of kind = {:?} (only of {})",
                    cfg.kind,
                    kinds.join(", ")
                ));
            }
        }
        let extractor = match cfg.kind.as_str() {
            "csv" => compile_csv(cfg, &mut problems),
            "regex" => compile_regex(cfg, &mut problems),
            "grok" => compile_grok(cfg, &mut types, &mut problems),
            "json" => Some(Extractor::Json {
                renames: cfg.fields.iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect(),
            }),
            other => {
                problems.push(format!("unknown kind {other:?}: use one of {}", KINDS.join(", ")));
                None
            }
        };
        let time_format = match cfg.timestamp_format.as_deref() {
            None => Some(TimeFormat::Auto),
            Some(f) => match compile_time_format(f) {
                Ok(t) => Some(t),
                Err(p) => {
                    problems.push(p);
                    None
                }
            },
        };
        if cfg.timestamp_field.as_deref() == Some("") {
            problems.push("timestamp_field must not be empty".into());
        }
        let source_type = cfg.source_type.clone().unwrap_or_else(|| name.to_owned());
        if cfg.source_type.as_deref().is_some_and(|s| s.trim().is_empty()) {
            problems.push("source_type must not be empty".into());
        }
        let mut transformations = Vec::new();
        for (i, t) in cfg.transformations.iter().enumerate() {
            match compile_transformation(t) {
                Ok(t) => transformations.push(t),
                Err(p) => problems.push(format!("transformations[{i}] (kind = {:?}): {p}", t.kind)),
            }
        }
        match (extractor, time_format) {
            (Some(extractor), Some(time_format)) if problems.is_empty() => Ok(CompiledUserParser {
                name: name.to_owned(),
                source_type,
                extractor,
                types,
                timestamp_field: cfg.timestamp_field.clone().unwrap_or_else(|| fields::TIMESTAMP.to_owned()),
                timestamp_required: cfg.timestamp_field.is_some(),
                time_format,
                transformations,
            }),
            _ => Err(problems),
        }
    }
}

/// The runtime parser of one input; the compiled section is shared between inputs.
pub struct UserParser(Arc<CompiledUserParser>);

impl UserParser {
    pub fn new(p: Arc<CompiledUserParser>) -> UserParser {
        UserParser(p)
    }
}

impl Parser for UserParser {
    fn parse(&mut self, line: &str, out: &mut Vec<Event>) -> Result<(), ParseError> {
        let p = &*self.0;
        let Some(mut event) = p.extract(line.trim_end_matches('\r'))? else { return Ok(()) };
        p.apply_types(&mut event)?;
        let ms = p.timestamp(&event)?;
        for t in &p.transformations {
            t.apply(&mut event);
        }
        event.insert(fields::TIMESTAMP.to_owned(), Value::from(ms));
        p.normalize(&mut event)?;
        event.insert(fields::SOURCE_TYPE.to_owned(), Value::from(p.source_type.clone()));
        out.push(event);
        Ok(())
    }
}

impl CompiledUserParser {
    fn no_match(&self, why: &str) -> ParseError {
        ParseError::error(format!("parser {}: {why}", self.name))
    }

    fn invalid(&self, why: String) -> ParseError {
        ParseError::invalid(format!("parser {}: {why}", self.name))
    }

    /// A captured text as a value: typed fields keep their text for `apply_types`;
    /// untyped plain integers become numbers (not `007` or `00ff`, whose leading
    /// zero says they are codes, not quantities).
    fn capture(&self, name: &str, text: &str) -> Value {
        if !self.types.contains_key(name) && is_plain_integer(text) {
            if let Ok(n) = text.parse::<i64>() {
                return Value::from(n);
            }
        }
        Value::from(text)
    }

    fn apply_types(&self, event: &mut Event) -> Result<(), ParseError> {
        for (name, ty) in &self.types {
            let Some(value) = event.shift_remove(name) else { continue };
            match convert(&value, *ty) {
                Ok(Some(v)) => {
                    event.insert(name.clone(), v);
                }
                // An empty text is no value, not a bad one.
                Ok(None) => {}
                Err(()) => return Err(self.invalid(format!("{name}: {value} is not {}", ty.name()))),
            }
        }
        Ok(())
    }

    fn timestamp(&self, event: &Event) -> Result<i64, ParseError> {
        let field = &self.timestamp_field;
        let Some(value) = event.get(field) else {
            if self.timestamp_required {
                return Err(self.invalid(format!("no {field} field for the timestamp")));
            }
            // No event time in the log: the time it was read, as Metron did.
            return Ok(now_ms());
        };
        read_time(value, &self.time_format).ok_or_else(|| {
            self.invalid(format!("{field}: cannot read {value} as a time ({})", self.time_format.describe()))
        })
    }

    /// Gives the standard fields their standard types (DESIGN.md, "The event").
    fn normalize(&self, event: &mut Event) -> Result<(), ParseError> {
        for key in [fields::IP_SRC_ADDR, fields::IP_DST_ADDR] {
            match event.get(key) {
                None => {}
                Some(Value::String(s)) if s.is_empty() => {
                    event.shift_remove(key);
                }
                Some(Value::String(s)) => match canonical_ip(s) {
                    Some(ip) => {
                        event.insert(key.to_owned(), Value::from(ip));
                    }
                    None => return Err(self.invalid(format!("{key}: not an IP address: {s:?}"))),
                },
                Some(other) => return Err(self.invalid(format!("{key}: not an IP address: {other}"))),
            }
        }
        for key in [fields::IP_SRC_PORT, fields::IP_DST_PORT] {
            let port = match event.get(key) {
                None => continue,
                Some(Value::String(s)) if s.trim().is_empty() => None,
                Some(Value::String(s)) => Some(s.trim().parse::<u16>().ok()),
                Some(Value::Number(n)) => Some(n.as_u64().and_then(|p| u16::try_from(p).ok())),
                Some(_) => Some(None),
            };
            match port {
                None => {
                    event.shift_remove(key);
                }
                Some(Some(p)) => {
                    event.insert(key.to_owned(), Value::from(p));
                }
                Some(None) => {
                    let shown = event.get(key).map(Value::to_string).unwrap_or_default();
                    return Err(self.invalid(format!("{key}: not a port: {shown}")));
                }
            }
        }
        if let Some(value) = event.get_mut(fields::PROTOCOL) {
            if let Some(name) = protocol_text(value) {
                *value = Value::from(name);
            }
        }
        Ok(())
    }
}

/// A protocol value as its standard text: `TCP` -> `tcp`, `6` -> `tcp`.
fn protocol_text(value: &Value) -> Option<String> {
    let number = match value {
        Value::Number(n) => Some(n.as_u64()?),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => return None,
    };
    if let Some(n) = number {
        return Some(u8::try_from(n).ok().and_then(protocol_name).map_or_else(|| n.to_string(), str::to_owned));
    }
    let lower = value.as_str()?.trim().to_ascii_lowercase();
    Some(match lower.as_str() {
        "ipv6-icmp" | "icmpv6" => "icmp6".to_owned(),
        _ => lower,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorType;
    use proptest::prelude::*;

    fn parser(name: &str, toml_text: &str) -> UserParser {
        let cfg: UserParserConfig = toml::from_str(toml_text).unwrap();
        let compiled = CompiledUserParser::compile(name, &cfg).unwrap_or_else(|p| panic!("{p:#?}"));
        UserParser::new(Arc::new(compiled))
    }

    fn problems(toml_text: &str) -> Vec<String> {
        let cfg: UserParserConfig = toml::from_str(toml_text).unwrap();
        cfg.validate()
    }

    fn parse(p: &mut UserParser, line: &str) -> Result<Event, ParseError> {
        let mut out = Vec::new();
        p.parse(line, &mut out)?;
        assert_eq!(out.len(), 1, "{out:?}");
        Ok(out.remove(0))
    }

    const FIREWALL: &str = r#"
kind = "csv"
columns = ["time", "action", "protocol", "ip_src_addr", "ip_src_port", "ip_dst_addr", "ip_dst_port", "bytes", "rule", "zone"]
source_type = "firewall"
timestamp_field = "time"
timestamp_format = "%Y-%m-%d %H:%M:%S"
types = { rule = "string" }

[[transformations]]
kind = "remove"
fields = ["time"]
"#;

    #[test]
    fn csv_firewall_log() {
        let mut p = parser("fw", FIREWALL);
        let e =
            parse(&mut p, r#"2024-03-01 12:00:05,ALLOW,TCP,10.0.0.5,51514,2001:DB8:0:0::1,443,1500,0042,"dmz, east""#)
                .unwrap();
        assert_eq!(e["timestamp"], 1_709_294_405_000i64);
        assert!(!e.contains_key("time"));
        assert_eq!(e["action"], "ALLOW");
        assert_eq!(e["protocol"], "tcp");
        assert_eq!(e["ip_src_port"], 51514);
        assert_eq!(e["ip_dst_addr"], "2001:db8::1");
        assert_eq!(e["bytes"], 1500);
        assert_eq!(e["rule"], "0042");
        assert_eq!(e["zone"], "dmz, east");
        assert_eq!(e["source.type"], "firewall");
        // A header row gives no event; a short row is not this format.
        let mut out = Vec::new();
        p.parse("time,action,protocol,ip_src_addr,ip_src_port,ip_dst_addr,ip_dst_port,bytes,rule,zone", &mut out)
            .unwrap();
        assert!(out.is_empty());
        let err = p.parse("2024-03-01 12:00:05,ALLOW", &mut out).unwrap_err();
        assert_eq!(err.kind, ErrorType::ParserError);
        assert!(err.message.contains("parser fw") && err.message.contains("expected 10 columns"), "{}", err.message);
        let err = p.parse("2024-03-01 12:00:05,ALLOW,TCP,10.0.0.5,99999,1.2.3.4,443,1,2,z", &mut out).unwrap_err();
        assert_eq!(err.kind, ErrorType::ParserInvalid);
        assert!(err.message.contains("ip_src_port"), "{}", err.message);
    }

    #[test]
    fn csv_with_a_tab_separator() {
        let mut p = parser("tsv", "kind = \"csv\"\ncolumns = [\"a\", \"b\"]\nseparator = \"\\t\"\n");
        let e = parse(&mut p, "x y\t7").unwrap();
        assert_eq!(e["a"], "x y");
        assert_eq!(e["b"], 7);
    }

    const APACHE: &str = r#"
kind = "grok"
pattern = "%{COMBINEDAPACHELOG}"
source_type = "apache.access"
timestamp_format = "%d/%b/%Y:%H:%M:%S %z"
types = { httpversion = "string" }

[[transformations]]
kind = "rename"
fields = { clientip = "ip_src_addr", verb = "method", request = "uri" }
"#;

    #[test]
    fn grok_apache_combined_log() {
        let mut p = parser("apache", APACHE);
        let line = r#"203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#;
        let e = parse(&mut p, line).unwrap();
        assert_eq!(e["timestamp"], 971_211_336_000i64);
        assert_eq!(e["ip_src_addr"], "203.0.113.9");
        assert_eq!(e["auth"], "frank");
        assert_eq!(e["method"], "GET");
        assert_eq!(e["uri"], "/apache_pb.gif");
        assert_eq!(e["httpversion"], "1.0");
        assert_eq!(e["response"], 200);
        assert_eq!(e["bytes"], 2326);
        assert_eq!(e["agent"], "\"Mozilla/4.08 [en] (Win98; I ;Nav)\"");
        assert!(!e.contains_key("clientip"));
        assert_eq!(e["source.type"], "apache.access");
        let err = p.parse("not an access log line", &mut Vec::new()).unwrap_err();
        assert_eq!(err.kind, ErrorType::ParserError);
        assert!(err.message.contains("parser apache"), "{}", err.message);
    }

    #[test]
    fn grok_extra_patterns_types_and_unwanted_captures() {
        let mut p = parser(
            "yaf_like",
            r#"
kind = "grok"
patterns = { FLOWTIME = "%{YEAR}-%{MONTHNUM}-%{MONTHDAY} %{TIME}" }
pattern = "%{FLOWTIME:start}\\|%{SPACE:UNWANTED}%{INT:proto}\\|%{SPACE:UNWANTED}%{NUMBER:dur:float}\\|%{WORD:isn}"
timestamp_field = "start"
timestamp_format = "%Y-%m-%d %H:%M:%S%.f"

[[transformations]]
kind = "ip_protocol"
fields = ["proto"]
"#,
        );
        let e = parse(&mut p, "2016-01-28 15:29:48.512|  6| 1|00000000").unwrap();
        assert_eq!(e["timestamp"], 1_453_994_988_512i64);
        assert_eq!(e["proto"], "tcp");
        assert_eq!(e["dur"], 1.0);
        assert_eq!(e["isn"], "00000000");
        assert!(!e.keys().any(|k| k.starts_with("UNWANTED")), "{e:?}");
    }

    #[test]
    fn regex_sshd_log_without_a_time_takes_the_read_time() {
        let mut p = parser(
            "sshd",
            r#"
kind = "regex"
pattern = 'Failed password for (?:invalid user )?(?P<user>\S+) from (?P<ip_src_addr>\S+) port (?P<ip_src_port>\d+)'
"#,
        );
        let before = now_ms();
        let e = parse(&mut p, "sshd[4242]: Failed password for invalid user admin from 198.51.100.7 port 50022 ssh2")
            .unwrap();
        assert_eq!(e["user"], "admin");
        assert_eq!(e["ip_src_port"], 50022);
        assert!(e["timestamp"].as_i64().unwrap() >= before);
        assert_eq!(e["source.type"], "sshd");
        assert_eq!(p.parse("Accepted password for bob", &mut Vec::new()).unwrap_err().kind, ErrorType::ParserError);
    }

    #[test]
    fn json_map_renames_nested_paths_and_selects() {
        let mut p = parser(
            "edr",
            r#"
kind = "json"
fields = { "net.src" = "ip_src_addr", "net.dst" = "ip_dst_addr", "net.proto" = "protocol" }
timestamp_field = "ts"
timestamp_format = "epoch_ms"
types = { "proc.pid" = "int" }

[[transformations]]
kind = "select"
fields = ["proc.pid", "proc.name"]
"#,
        );
        let e = parse(
            &mut p,
            r#"{"ts":1709294405123,"net":{"src":"10.1.1.1","dst":"10.1.1.2","proto":17},"proc":{"pid":"4242","name":"x.exe","cmd":"x"}}"#,
        )
        .unwrap();
        assert_eq!(e["timestamp"], 1_709_294_405_123i64);
        assert_eq!(e["ip_src_addr"], "10.1.1.1");
        assert_eq!(e["protocol"], "udp");
        assert_eq!(e["proc.pid"], 4242);
        assert_eq!(e["proc.name"], "x.exe");
        assert!(!e.contains_key("proc.cmd") && !e.contains_key("ts"));
        let err = p.parse("[1,2]", &mut Vec::new()).unwrap_err();
        assert!(err.message.contains("parser edr"), "{}", err.message);
        let err = p.parse(r#"{"net":{}}"#, &mut Vec::new()).unwrap_err();
        assert_eq!(err.kind, ErrorType::ParserInvalid);
        assert!(err.message.contains("no ts field"), "{}", err.message);
    }

    #[test]
    fn time_formats() {
        let t = |v: Value, f: &str| read_time(&v, &compile_time_format(f).unwrap());
        assert_eq!(t(Value::from("1461576382.642"), "auto"), Some(1_461_576_382_642));
        assert_eq!(t(Value::from(1_461_576_382_642i64), "auto"), Some(1_461_576_382_642));
        assert_eq!(t(Value::from(1_461_576_382i64), "epoch_s"), Some(1_461_576_382_000));
        assert_eq!(t(serde_json::json!(1.461576382642e9), "epoch_s"), Some(1_461_576_382_642));
        assert_eq!(t(Value::from("2016-04-25T09:26:22.642Z"), "auto"), Some(1_461_576_382_642));
        assert_eq!(t(Value::from("2016-04-25"), "%Y-%m-%d"), Some(1_461_542_400_000));
        assert_eq!(t(Value::from("yesterday"), "rfc3339"), None);
        assert!(compile_time_format("%Q").is_err());
        assert!(compile_time_format("%Y %Z").is_err());
        assert!(compile_time_format("iso").is_err());
    }

    #[test]
    fn every_problem_in_a_section_is_reported() {
        let p = problems(
            r#"
kind = "csv"
separator = ";;"
pattern = "x"
timestamp_format = "%Q"
types = { a = "number" }

[[transformations]]
kind = "rename"
fields = ["a"]

[[transformations]]
kind = "uppercase"
fields = ["a"]
"#,
        );
        let expect = [
            "columns",
            "separator",
            "pattern is not an option",
            "%Q",
            "types.a",
            "transformations[0]",
            "transformations[1]",
        ];
        for want in expect {
            assert!(p.iter().any(|m| m.contains(want)), "no problem about {want}: {p:#?}");
        }
        assert_eq!(p.len(), expect.len(), "{p:#?}");
    }

    #[test]
    fn bad_patterns_and_kinds_are_one_problem_each() {
        let p = problems("kind = \"regex\"\npattern = \"(unclosed\"\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("unclosed group"), "{p:?}");
        let p = problems("kind = \"grok\"\npattern = \"%{NOSUCHPATTERN:x}\"\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("%{NOSUCHPATTERN}"), "{p:?}");
        let p = problems("kind = \"regex\"\npattern = \"no captures\"\n");
        assert!(p[0].contains("no named captures"), "{p:?}");
        let p = problems("kind = \"xml\"\n");
        assert!(p[0].contains("unknown kind \"xml\""), "{p:?}");
        assert_eq!(problems("kind = \"grok\"\n").len(), 1);
        assert!(problems("kind = \"json\"\n").is_empty());
    }

    #[test]
    fn a_misspelt_option_is_refused() {
        assert!(toml::from_str::<UserParserConfig>("kind = \"csv\"\ncolumn = [\"a\"]\n").is_err());
        assert!(toml::from_str::<UserParserConfig>(
            "kind = \"csv\"\n[[transformations]]\nkind = \"remove\"\nfield = [\"a\"]\n"
        )
        .is_err());
    }

    /// Compiled once: grok patterns take a while to build, and each case needs them all.
    fn fuzz_targets() -> &'static [Arc<CompiledUserParser>] {
        static TARGETS: std::sync::OnceLock<Vec<Arc<CompiledUserParser>>> = std::sync::OnceLock::new();
        TARGETS.get_or_init(|| {
            let configs = [
                FIREWALL,
                APACHE,
                "kind = \"json\"\ntypes = { a = \"int\" }\n",
                "kind = \"regex\"\npattern = '(?P<ip_src_addr>\\S*) (?P<ip_src_port>\\S*) (?P<timestamp>.*)'\n",
            ];
            configs.iter().map(|c| Arc::clone(&parser("p", c).0)).collect()
        })
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(line in "\\PC{0,200}") {
            for compiled in fuzz_targets() {
                let _ = UserParser::new(Arc::clone(compiled)).parse(&line, &mut Vec::new());
            }
        }

        #[test]
        fn near_misses_never_panic(line in "[0-9a-f.:, \"-]{0,60}") {
            for compiled in fuzz_targets() {
                let _ = UserParser::new(Arc::clone(compiled)).parse(&line, &mut Vec::new());
            }
        }
    }
}
