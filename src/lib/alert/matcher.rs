//! The compiled form of a Sigma rule: a tree of boolean nodes over field tests, with
//! regexes compiled and literals lower-cased once when the rule is loaded, so that
//! matching an event allocates only when a value has upper-case letters.

use crate::event::Event;
use ipnet::IpNet;
use regex::Regex;
use serde_json::Value;
use std::borrow::Cow;
use std::net::IpAddr;

/// A boolean tree over one event.
#[derive(Debug, Clone)]
pub enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    /// One field against its values (OR, or AND with `|all`).
    Field {
        field: FieldRef,
        test: FieldTest,
    },
    /// Field-less values: any string field of the event matches.
    Keywords(FieldTest),
    Const(bool),
}

impl Node {
    /// Adds the fields this tree reads to `names`; false when it may read any field
    /// (field-less keywords).
    pub fn fields_read<S: std::hash::BuildHasher>(&self, names: &mut std::collections::HashSet<String, S>) -> bool {
        match self {
            Node::And(nodes) | Node::Or(nodes) => nodes.iter().all(|n| n.fields_read(names)),
            Node::Not(node) => node.fields_read(names),
            Node::Field { field, .. } => {
                names.insert(field.name().to_owned());
                true
            }
            Node::Keywords(_) => false,
            Node::Const(_) => true,
        }
    }
}

/// Where a field's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldRef {
    Name(String),
    /// The file extension of the path in a URI field (Sigma's `c-uri-extension`,
    /// which Zeek and Suricata do not log as a field of its own).
    UriExtension(String),
}

impl FieldRef {
    pub fn name(&self) -> &str {
        match self {
            FieldRef::Name(n) | FieldRef::UriExtension(n) => n,
        }
    }
}

/// Values of one field test.
#[derive(Debug, Clone)]
pub struct FieldTest {
    pub values: Vec<Pattern>,
    /// `|all`: every value must match; otherwise any.
    pub all: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StrOp {
    Eq,
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cmp {
    Gt,
    Gte,
    Lt,
    Lte,
}

/// One value a field is tested against.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// YAML `null`: the field is absent or null.
    Null,
    /// `|exists`.
    Exists(bool),
    /// A literal; lower-cased already unless `cased`.
    Str {
        op: StrOp,
        text: String,
        cased: bool,
    },
    /// A value with wildcards, or `|re`.
    Regex(Regex),
    Cidr(IpNet),
    Num {
        cmp: Cmp,
        n: f64,
    },
}

impl Node {
    pub fn matches(&self, event: &Event) -> bool {
        match self {
            Node::And(nodes) => nodes.iter().all(|n| n.matches(event)),
            Node::Or(nodes) => nodes.iter().any(|n| n.matches(event)),
            Node::Not(node) => !node.matches(event),
            Node::Const(b) => *b,
            Node::Field { field, test } => match field {
                FieldRef::Name(name) => test.matches(event.get(name.as_str())),
                FieldRef::UriExtension(name) => {
                    let ext = event.get(name.as_str()).and_then(Value::as_str).map(uri_extension);
                    test.matches(ext.map(|e| Value::String(e.to_owned())).as_ref())
                }
            },
            Node::Keywords(test) => {
                if test.all {
                    test.values.iter().all(|p| event.values().any(|v| v.is_string() && p.matches_value(Some(v))))
                } else {
                    event.values().any(|v| v.is_string() && test.matches(Some(v)))
                }
            }
        }
    }

    /// Rewrites every field name through `map` (a logsource's field mapping).
    pub fn map_fields(&self, map: &dyn Fn(&str) -> FieldRef) -> Node {
        match self {
            Node::And(n) => Node::And(n.iter().map(|x| x.map_fields(map)).collect()),
            Node::Or(n) => Node::Or(n.iter().map(|x| x.map_fields(map)).collect()),
            Node::Not(n) => Node::Not(Box::new(n.map_fields(map))),
            Node::Field { field, test } => Node::Field { field: map(field.name()), test: test.clone() },
            other => other.clone(),
        }
    }
}

impl FieldTest {
    fn matches(&self, value: Option<&Value>) -> bool {
        if self.all {
            self.values.iter().all(|p| p.matches_value(value))
        } else {
            // Arrays (Zeek's `answers`) match when any element does.
            if let Some(Value::Array(items)) = value {
                return items.iter().any(|v| self.matches_scalar(Some(v)));
            }
            self.matches_scalar(value)
        }
    }

    fn matches_scalar(&self, value: Option<&Value>) -> bool {
        // Lower-case the value once for all the patterns of this test.
        let text = value.and_then(scalar_text);
        let lower = text.as_deref().map(lowercase);
        self.values.iter().any(|p| p.matches_prepared(value, text.as_deref(), lower.as_deref()))
    }
}

impl Pattern {
    /// Whether the pattern matches a value (an array when any element does).
    pub fn matches_value(&self, value: Option<&Value>) -> bool {
        if let Some(Value::Array(items)) = value {
            return items.iter().any(|v| self.matches_value(Some(v)));
        }
        let text = value.and_then(scalar_text);
        // Only a case-insensitive literal reads the lower-cased text.
        let lower = match self {
            Pattern::Str { cased: false, .. } => text.as_deref().map(lowercase),
            _ => None,
        };
        self.matches_prepared(value, text.as_deref(), lower.as_deref())
    }

    fn matches_prepared(&self, value: Option<&Value>, text: Option<&str>, lower: Option<&str>) -> bool {
        match self {
            Pattern::Null => matches!(value, None | Some(Value::Null)),
            Pattern::Exists(want) => !matches!(value, None | Some(Value::Null)) == *want,
            Pattern::Str { op, text: pat, cased } => {
                let hay = if *cased { text } else { lower };
                let Some(hay) = hay else { return false };
                match op {
                    StrOp::Eq => hay == pat,
                    StrOp::Contains => memchr::memmem::find(hay.as_bytes(), pat.as_bytes()).is_some(),
                    StrOp::StartsWith => hay.starts_with(pat.as_str()),
                    StrOp::EndsWith => hay.ends_with(pat.as_str()),
                }
            }
            Pattern::Regex(re) => text.is_some_and(|t| re.is_match(t)),
            Pattern::Cidr(net) => {
                text.and_then(|t| t.trim().parse::<IpAddr>().ok()).is_some_and(|ip| net.contains(&ip))
            }
            Pattern::Num { cmp, n } => {
                let v = match value {
                    Some(Value::Number(x)) => x.as_f64(),
                    Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
                    _ => None,
                };
                v.is_some_and(|v| match cmp {
                    Cmp::Gt => v > *n,
                    Cmp::Gte => v >= *n,
                    Cmp::Lt => v < *n,
                    Cmp::Lte => v <= *n,
                })
            }
        }
    }
}

/// The text a scalar is compared as: numbers and booleans by their JSON text, so that
/// Sigma's `137` and `'true'` compare the same way whatever type the sensor logged.
pub fn scalar_text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// Sigma matches case-insensitively; most values are lower-case already.
pub fn lowercase(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(s.to_ascii_lowercase())
        } else {
            Cow::Borrowed(s)
        }
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

/// The extension of the last path segment of a URI or URL (`/a/b.exe?x` -> `exe`).
pub fn uri_extension(uri: &str) -> &str {
    let mut path = uri;
    if let Some(at) = path.find("://") {
        let rest = &path[at + 3..];
        path = rest.find('/').map_or("", |i| &rest[i..]);
    }
    let path = path.split(['?', '#']).next().unwrap_or("");
    let last = path.rsplit('/').next().unwrap_or("");
    match last.rfind('.') {
        Some(i) => &last[i + 1..],
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(v: serde_json::Value) -> Event {
        crate::event::event_from_value(v).unwrap()
    }

    fn field(name: &str, values: Vec<Pattern>, all: bool) -> Node {
        Node::Field { field: FieldRef::Name(name.into()), test: FieldTest { values, all } }
    }

    fn s(op: StrOp, t: &str) -> Pattern {
        Pattern::Str { op, text: t.into(), cased: false }
    }

    #[test]
    fn string_ops_are_case_insensitive_and_types_compare_as_text() {
        let e = ev(json!({"q": "WWW.Example.COM", "port": 137, "flag": false, "answers": ["a.b", "c.d\\x00"]}));
        assert!(field("q", vec![s(StrOp::EndsWith, ".com")], false).matches(&e));
        assert!(field("q", vec![s(StrOp::StartsWith, "www.")], false).matches(&e));
        assert!(field("q", vec![s(StrOp::Contains, "example")], false).matches(&e));
        assert!(!field("q", vec![s(StrOp::Eq, "www")], false).matches(&e));
        assert!(field("port", vec![s(StrOp::Eq, "138"), s(StrOp::Eq, "137")], false).matches(&e));
        assert!(field("flag", vec![s(StrOp::Eq, "false")], false).matches(&e));
        assert!(field("answers", vec![s(StrOp::EndsWith, "\\x00")], false).matches(&e));
        assert!(!field("missing", vec![s(StrOp::Contains, "")], false).matches(&e));
        assert!(field("missing", vec![Pattern::Null], false).matches(&e));
        assert!(field("q", vec![Pattern::Exists(true)], false).matches(&e));
        let cased = Pattern::Str { op: StrOp::Contains, text: "Example".into(), cased: true };
        assert!(field("q", vec![cased], false).matches(&e));
    }

    #[test]
    fn all_needs_every_value() {
        let e = ev(json!({"c": "wmic service config start=auto"}));
        let both = vec![s(StrOp::Contains, "service"), s(StrOp::Contains, "start=")];
        assert!(field("c", both, true).matches(&e));
        let one_missing = vec![s(StrOp::Contains, "service"), s(StrOp::Contains, "delete")];
        assert!(!field("c", one_missing, true).matches(&e));
    }

    #[test]
    fn cidr_and_numbers() {
        let e = ev(json!({"ip": "192.168.3.4", "ip6": "fe80::1", "n": 10}));
        let net = |t: &str| Pattern::Cidr(t.parse().unwrap());
        assert!(field("ip", vec![net("192.168.0.0/16")], false).matches(&e));
        assert!(!field("ip", vec![net("10.0.0.0/8")], false).matches(&e));
        assert!(field("ip6", vec![net("fe80::/10")], false).matches(&e));
        assert!(field("n", vec![Pattern::Num { cmp: Cmp::Gt, n: 9.0 }], false).matches(&e));
        assert!(!field("n", vec![Pattern::Num { cmp: Cmp::Lt, n: 10.0 }], false).matches(&e));
    }

    #[test]
    fn uri_extension_takes_the_last_segment() {
        assert_eq!(uri_extension("/a/b.EXE?x=1.zip"), "EXE");
        assert_eq!(uri_extension("http://h.example.com/x/y.hta"), "hta");
        assert_eq!(uri_extension("http://h.example.com"), "");
        assert_eq!(uri_extension("/dir.d/file"), "");
    }
}
