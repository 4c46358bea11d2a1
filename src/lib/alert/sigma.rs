//! Sigma rules (SigmaHQ's YAML format) read with yaml-rust2 into a plain rule
//! description, then compiled once into a [`Node`] tree. Our own evaluator, because
//! the Sigma crates cover less of the format than the rules we ship use; what we do
//! not support (aggregations, `near`, correlation rules, `expand`, `fieldref`) is
//! refused with the reason, never skipped.

use super::condition::{self, Cond};
use super::matcher::{Cmp, FieldRef, FieldTest, Node, Pattern, StrOp};
use base64::Engine;
use yaml_rust2::Yaml;

/// One Sigma rule as written.
#[derive(Debug, Clone, PartialEq)]
pub struct SigmaRule {
    pub title: String,
    pub id: Option<String>,
    pub status: Option<String>,
    pub level: Option<String>,
    pub description: Option<String>,
    pub author: Option<String>,
    pub logsource: LogSource,
    pub conditions: Vec<String>,
    /// In file order.
    pub detections: Vec<(String, Detection)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogSource {
    pub category: Option<String>,
    pub product: Option<String>,
    pub service: Option<String>,
}

/// A named detection.
#[derive(Debug, Clone, PartialEq)]
pub enum Detection {
    /// A map: every item must match.
    All(Vec<Item>),
    /// A list of maps: any of them.
    Any(Vec<Detection>),
    /// A list of plain values: keywords searched in every field.
    Keywords(Item),
}

/// `field|mod|mod: values`.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub field: Option<String>,
    pub modifiers: Vec<Modifier>,
    pub values: Vec<SigmaValue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Re,
    ReI,
    ReM,
    ReS,
    Cidr,
    Base64,
    Base64Offset,
    Utf16Le,
    Utf16Be,
    Utf16,
    Wide,
    Windash,
    Exists,
    Cased,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl Modifier {
    pub fn from_name(name: &str) -> Result<Modifier, String> {
        Ok(match name {
            "contains" => Modifier::Contains,
            "startswith" => Modifier::StartsWith,
            "endswith" => Modifier::EndsWith,
            "all" => Modifier::All,
            "re" => Modifier::Re,
            "i" => Modifier::ReI,
            "m" => Modifier::ReM,
            "s" => Modifier::ReS,
            "cidr" => Modifier::Cidr,
            "base64" => Modifier::Base64,
            "base64offset" => Modifier::Base64Offset,
            "utf16le" => Modifier::Utf16Le,
            "utf16be" => Modifier::Utf16Be,
            "utf16" => Modifier::Utf16,
            "wide" => Modifier::Wide,
            "windash" => Modifier::Windash,
            "exists" => Modifier::Exists,
            "cased" => Modifier::Cased,
            "gt" => Modifier::Gt,
            "gte" => Modifier::Gte,
            "lt" => Modifier::Lt,
            "lte" => Modifier::Lte,
            "expand" | "fieldref" | "minute" | "hour" | "day" | "week" | "month" | "year" => {
                return Err(format!("modifier `{name}` is not supported"))
            }
            other => return Err(format!("unknown modifier `{other}`")),
        })
    }

    /// pySigma's class name, to compare with its parse in tests.
    pub fn pysigma_name(self) -> &'static str {
        match self {
            Modifier::Contains => "SigmaContainsModifier",
            Modifier::StartsWith => "SigmaStartswithModifier",
            Modifier::EndsWith => "SigmaEndswithModifier",
            Modifier::All => "SigmaAllModifier",
            Modifier::Re => "SigmaRegularExpressionModifier",
            Modifier::ReI => "SigmaRegularExpressionIgnoreCaseFlagModifier",
            Modifier::ReM => "SigmaRegularExpressionMultilineFlagModifier",
            Modifier::ReS => "SigmaRegularExpressionDotAllFlagModifier",
            Modifier::Cidr => "SigmaCIDRModifier",
            Modifier::Base64 => "SigmaBase64Modifier",
            Modifier::Base64Offset => "SigmaBase64OffsetModifier",
            Modifier::Utf16Le => "SigmaWideModifier",
            Modifier::Utf16Be => "SigmaUTF16BEModifier",
            Modifier::Utf16 => "SigmaUTF16Modifier",
            Modifier::Wide => "SigmaWideModifier",
            Modifier::Windash => "SigmaWindowsDashModifier",
            Modifier::Exists => "SigmaExistsModifier",
            Modifier::Cased => "SigmaCasedModifier",
            Modifier::Gt => "SigmaGreaterThanModifier",
            Modifier::Gte => "SigmaGreaterThanEqualModifier",
            Modifier::Lt => "SigmaLessThanModifier",
            Modifier::Lte => "SigmaLessThanEqualModifier",
        }
    }
}

/// A value as written in YAML.
#[derive(Debug, Clone, PartialEq)]
pub enum SigmaValue {
    Str(SigmaString),
    /// Integers and floats keep their text: they are compared as text.
    Number(String),
    Bool(bool),
    Null,
}

/// A string value with Sigma's wildcards resolved from its escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigmaString(pub Vec<Part>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Text(String),
    /// `*`
    Many,
    /// `?`
    One,
}

impl SigmaString {
    /// Sigma's escaping: `\*`, `\?` and `\\` are the literal characters; a backslash
    /// before anything else is itself.
    pub fn parse(raw: &str) -> SigmaString {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.peek() {
                    Some(&n @ ('*' | '?' | '\\')) => {
                        text.push(n);
                        chars.next();
                    }
                    _ => text.push('\\'),
                },
                '*' | '?' => {
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(if c == '*' { Part::Many } else { Part::One });
                }
                _ => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        SigmaString(parts)
    }

    pub fn plain(&self) -> Option<String> {
        let mut s = String::new();
        for p in &self.0 {
            match p {
                Part::Text(t) => s.push_str(t),
                _ => return None,
            }
        }
        Some(s)
    }

    /// The raw text without escape processing of wildcards: for `|re` and `|cidr`,
    /// whose values are not Sigma strings.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for p in &self.0 {
            match p {
                Part::Text(t) => {
                    for c in t.chars() {
                        if matches!(c, '*' | '?') {
                            s.push('\\');
                        }
                        s.push(c);
                    }
                }
                Part::Many => s.push('*'),
                Part::One => s.push('?'),
            }
        }
        s
    }
}

impl SigmaValue {
    /// The text pySigma shows for a value.
    pub fn render(&self) -> String {
        match self {
            SigmaValue::Str(s) => s.render(),
            SigmaValue::Number(n) => n.clone(),
            SigmaValue::Bool(b) => b.to_string(),
            SigmaValue::Null => "null".into(),
        }
    }
}

/// Why a Sigma document could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigmaError {
    #[error("{0}")]
    Invalid(String),
    #[error("unsupported: {0}")]
    Unsupported(String),
}

fn invalid<T>(m: impl Into<String>) -> Result<T, SigmaError> {
    Err(SigmaError::Invalid(m.into()))
}

fn get<'a>(doc: &'a Yaml, key: &str) -> Option<&'a Yaml> {
    match doc {
        Yaml::Hash(h) => h.get(&Yaml::String(key.into())),
        _ => None,
    }
}

fn text(doc: &Yaml, key: &str) -> Result<Option<String>, SigmaError> {
    match get(doc, key) {
        None | Some(Yaml::Null) => Ok(None),
        Some(Yaml::String(s)) | Some(Yaml::Real(s)) => Ok(Some(s.clone())),
        Some(Yaml::Integer(i)) => Ok(Some(i.to_string())),
        Some(Yaml::Boolean(b)) => Ok(Some(b.to_string())),
        Some(_) => invalid(format!("`{key}` is not text")),
    }
}

/// Whether a YAML document looks like a Sigma rule (rather than one of ours).
pub fn is_sigma(doc: &Yaml) -> bool {
    get(doc, "detection").is_some() || get(doc, "correlation").is_some() || get(doc, "action").is_some()
}

impl SigmaRule {
    /// Reads one YAML document.
    pub fn from_yaml(doc: &Yaml) -> Result<SigmaRule, SigmaError> {
        if !matches!(doc, Yaml::Hash(_)) {
            return invalid("a rule is a YAML mapping");
        }
        if get(doc, "correlation").is_some() {
            return Err(SigmaError::Unsupported("correlation rules".into()));
        }
        if let Some(action) = text(doc, "action")? {
            return Err(SigmaError::Unsupported(format!("rule collections (`action: {action}`)")));
        }
        let title = text(doc, "title")?.ok_or_else(|| SigmaError::Invalid("no `title`".into()))?;
        let logsource = match get(doc, "logsource") {
            None => return invalid("no `logsource`"),
            Some(ls @ Yaml::Hash(_)) => LogSource {
                category: text(ls, "category")?,
                product: text(ls, "product")?,
                service: text(ls, "service")?,
            },
            Some(_) => return invalid("`logsource` is not a mapping"),
        };
        let Some(Yaml::Hash(detection)) = get(doc, "detection") else {
            return invalid("no `detection` mapping");
        };
        let mut conditions = Vec::new();
        let mut detections = Vec::new();
        for (k, v) in detection {
            let Yaml::String(name) = k else { return invalid("a detection name is not text") };
            if name == "condition" {
                match v {
                    Yaml::String(c) => conditions.push(c.clone()),
                    Yaml::Array(list) => {
                        for c in list {
                            match c {
                                Yaml::String(c) => conditions.push(c.clone()),
                                _ => return invalid("a condition is not text"),
                            }
                        }
                    }
                    _ => return invalid("`condition` is not text"),
                }
            } else if name == "timeframe" {
                return Err(SigmaError::Unsupported("`timeframe` (aggregations)".into()));
            } else {
                let d = parse_detection(v, 0).map_err(|e| match e {
                    SigmaError::Invalid(m) => SigmaError::Invalid(format!("detection `{name}`: {m}")),
                    SigmaError::Unsupported(m) => SigmaError::Unsupported(format!("detection `{name}`: {m}")),
                })?;
                detections.push((name.clone(), d));
            }
        }
        if conditions.is_empty() {
            return invalid("no `condition` in `detection`");
        }
        Ok(SigmaRule {
            title,
            id: text(doc, "id")?,
            status: text(doc, "status")?,
            level: text(doc, "level")?,
            description: text(doc, "description")?,
            author: text(doc, "author")?,
            logsource,
            conditions,
            detections,
        })
    }

    /// Compiles the rule into one matcher tree over the rule's own field names.
    pub fn compile(&self) -> Result<Node, SigmaError> {
        let mut compiled = Vec::with_capacity(self.detections.len());
        for (name, d) in &self.detections {
            let node = compile_detection(d).map_err(|e| match e {
                SigmaError::Invalid(m) => SigmaError::Invalid(format!("detection `{name}`: {m}")),
                SigmaError::Unsupported(m) => SigmaError::Unsupported(format!("detection `{name}`: {m}")),
            })?;
            compiled.push((name.as_str(), node));
        }
        let mut ors = Vec::new();
        for c in &self.conditions {
            let cond = condition::parse(c).map_err(|e| match e {
                condition::CondError::Unsupported(m) => SigmaError::Unsupported(format!("condition {c:?}: {m}")),
                e @ condition::CondError::Syntax { .. } => SigmaError::Invalid(format!("{e} of {c:?}")),
            })?;
            ors.push(resolve(&cond, &compiled)?);
        }
        Ok(if ors.len() == 1 { ors.remove(0) } else { Node::Or(ors) })
    }
}

/// YAML nesting deeper than this in a detection is not a rule.
const MAX_NESTING: usize = 16;

fn parse_detection(v: &Yaml, depth: usize) -> Result<Detection, SigmaError> {
    if depth > MAX_NESTING {
        return invalid("nested too deeply");
    }
    match v {
        Yaml::Hash(map) => {
            let mut items = Vec::new();
            for (k, v) in map {
                let key = match k {
                    Yaml::String(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    _ => return invalid("a field name is not text"),
                };
                let mut parts = key.split('|');
                let field = parts.next().unwrap_or("").to_owned();
                let mut modifiers = Vec::new();
                for m in parts {
                    modifiers.push(Modifier::from_name(m).map_err(SigmaError::Unsupported)?);
                }
                let values = match v {
                    Yaml::Array(list) => list.iter().map(scalar).collect::<Result<Vec<_>, _>>()?,
                    other => vec![scalar(other)?],
                };
                if values.is_empty() {
                    return invalid(format!("`{key}` has an empty value list"));
                }
                items.push(Item { field: (!field.is_empty()).then_some(field), modifiers, values });
            }
            Ok(Detection::All(items))
        }
        Yaml::Array(list) if list.iter().all(|x| matches!(x, Yaml::Hash(_))) && !list.is_empty() => {
            Ok(Detection::Any(list.iter().map(|x| parse_detection(x, depth + 1)).collect::<Result<_, _>>()?))
        }
        Yaml::Array(list) => {
            let values = list.iter().map(scalar).collect::<Result<Vec<_>, _>>()?;
            if values.is_empty() {
                return invalid("an empty list");
            }
            Ok(Detection::Keywords(Item { field: None, modifiers: Vec::new(), values }))
        }
        Yaml::String(_) | Yaml::Integer(_) | Yaml::Real(_) => {
            Ok(Detection::Keywords(Item { field: None, modifiers: Vec::new(), values: vec![scalar(v)?] }))
        }
        _ => invalid("a detection is a mapping, a list of mappings or a list of keywords"),
    }
}

fn scalar(v: &Yaml) -> Result<SigmaValue, SigmaError> {
    Ok(match v {
        Yaml::String(s) => SigmaValue::Str(SigmaString::parse(s)),
        Yaml::Integer(i) => SigmaValue::Number(i.to_string()),
        Yaml::Real(r) => SigmaValue::Number(r.clone()),
        Yaml::Boolean(b) => SigmaValue::Bool(*b),
        Yaml::Null => SigmaValue::Null,
        Yaml::Array(_) | Yaml::Hash(_) => return invalid("a value is a list or mapping where a single value belongs"),
        Yaml::Alias(_) => return Err(SigmaError::Unsupported("YAML aliases".into())),
        Yaml::BadValue => return invalid("a value could not be read"),
    })
}

fn compile_detection(d: &Detection) -> Result<Node, SigmaError> {
    Ok(match d {
        Detection::All(items) => {
            let nodes = items.iter().map(compile_item).collect::<Result<Vec<_>, _>>()?;
            if nodes.len() == 1 {
                nodes.into_iter().next().unwrap_or(Node::Const(true))
            } else {
                Node::And(nodes)
            }
        }
        Detection::Any(ds) => Node::Or(ds.iter().map(compile_detection).collect::<Result<_, _>>()?),
        Detection::Keywords(item) => compile_item(item)?,
    })
}

/// Regexes from rules are bounded so a hostile rule cannot take the memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

fn build_regex(
    pattern: &str,
    case_insensitive: bool,
    multi_line: bool,
    dot_all: bool,
) -> Result<regex::Regex, SigmaError> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .multi_line(multi_line)
        .dot_matches_new_line(dot_all)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| SigmaError::Invalid(format!("regular expression {pattern:?}: {e}")))
}

fn compile_item(item: &Item) -> Result<Node, SigmaError> {
    let has = |m: Modifier| item.modifiers.contains(&m);
    let all = has(Modifier::All);
    let cased = has(Modifier::Cased);
    let op = if has(Modifier::Contains) {
        StrOp::Contains
    } else if has(Modifier::StartsWith) {
        StrOp::StartsWith
    } else if has(Modifier::EndsWith) {
        StrOp::EndsWith
    } else {
        StrOp::Eq
    };
    let cmp = [(Modifier::Gt, Cmp::Gt), (Modifier::Gte, Cmp::Gte), (Modifier::Lt, Cmp::Lt), (Modifier::Lte, Cmp::Lte)]
        .into_iter()
        .find(|(m, _)| has(*m))
        .map(|(_, c)| c);
    let mut patterns = Vec::new();
    for value in &item.values {
        if has(Modifier::Exists) {
            let want = match value {
                SigmaValue::Bool(b) => *b,
                SigmaValue::Str(s) if s.plain().as_deref() == Some("true") => true,
                SigmaValue::Str(s) if s.plain().as_deref() == Some("false") => false,
                _ => return invalid("`|exists` takes true or false"),
            };
            patterns.push(Pattern::Exists(want));
            continue;
        }
        if let Some(cmp) = cmp {
            let n = value
                .render()
                .parse::<f64>()
                .map_err(|_| SigmaError::Invalid(format!("{:?} is not a number", value.render())))?;
            patterns.push(Pattern::Num { cmp, n });
            continue;
        }
        let s = match value {
            SigmaValue::Null => {
                patterns.push(Pattern::Null);
                continue;
            }
            SigmaValue::Str(s) => s.clone(),
            SigmaValue::Number(n) => SigmaString(vec![Part::Text(n.clone())]),
            SigmaValue::Bool(b) => SigmaString(vec![Part::Text(b.to_string())]),
        };
        if has(Modifier::Re) {
            let raw = raw_text(&s);
            patterns.push(Pattern::Regex(build_regex(
                &raw,
                has(Modifier::ReI),
                has(Modifier::ReM),
                has(Modifier::ReS),
            )?));
            continue;
        }
        if has(Modifier::Cidr) {
            let raw = raw_text(&s);
            let net: ipnet::IpNet = raw
                .trim()
                .parse()
                .or_else(|_| raw.trim().parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| SigmaError::Invalid(format!("{raw:?} is not a network (CIDR)")))?;
            patterns.push(Pattern::Cidr(net));
            continue;
        }
        for variant in transform(&s, &item.modifiers)? {
            patterns.push(string_pattern(&variant.0, op, cased || variant.1)?);
        }
    }
    let test = FieldTest { values: patterns, all };
    Ok(match &item.field {
        Some(f) => Node::Field { field: FieldRef::Name(f.clone()), test },
        None => {
            // Keywords are searched for inside field values, as Sigma backends do with
            // full-text search.
            let test = FieldTest {
                values: test
                    .values
                    .into_iter()
                    .map(|p| match p {
                        Pattern::Str { op: StrOp::Eq, text, cased } => {
                            Pattern::Str { op: StrOp::Contains, text, cased }
                        }
                        other => other,
                    })
                    .collect(),
                all: test.all,
            };
            Node::Keywords(test)
        }
    })
}

/// The text of a value for modifiers that do not take Sigma wildcards.
fn raw_text(s: &SigmaString) -> String {
    let mut out = String::new();
    for p in &s.0 {
        match p {
            Part::Text(t) => out.push_str(t),
            Part::Many => out.push('*'),
            Part::One => out.push('?'),
        }
    }
    out
}

/// Applies the value-transforming modifiers; each result says whether it must be
/// matched with case (base64 text is case-sensitive).
fn transform(s: &SigmaString, mods: &[Modifier]) -> Result<Vec<(SigmaString, bool)>, SigmaError> {
    let mut out = vec![(s.clone(), false)];
    let encoding =
        mods.iter().find(|m| matches!(m, Modifier::Utf16Le | Modifier::Utf16Be | Modifier::Utf16 | Modifier::Wide));
    let base64 = mods.iter().find(|m| matches!(m, Modifier::Base64 | Modifier::Base64Offset));
    if mods.contains(&Modifier::Windash) {
        out = out
            .into_iter()
            .flat_map(|(s, c)| {
                ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"].into_iter().map(move |dash| {
                    let parts =
                        s.0.iter()
                            .map(|p| match p {
                                Part::Text(t) => Part::Text(windash(t, dash)),
                                other => other.clone(),
                            })
                            .collect();
                    (SigmaString(parts), c)
                })
            })
            .collect();
        out.dedup();
    }
    if encoding.is_some() && base64.is_none() {
        return invalid("utf16/wide modifiers need base64 or base64offset after them");
    }
    if let Some(b) = base64 {
        let mut encoded = Vec::new();
        for (s, _) in out {
            let Some(plain) = s.plain() else { return invalid("wildcards cannot be base64-encoded") };
            let bytes: Vec<u8> = match encoding {
                Some(Modifier::Utf16Be) => plain.encode_utf16().flat_map(|u| u.to_be_bytes()).collect(),
                Some(Modifier::Utf16) => {
                    [0xFF, 0xFE].into_iter().chain(plain.encode_utf16().flat_map(|u| u.to_le_bytes())).collect()
                }
                Some(_) => plain.encode_utf16().flat_map(|u| u.to_le_bytes()).collect(),
                None => plain.into_bytes(),
            };
            let engine = base64::engine::general_purpose::STANDARD;
            if *b == Modifier::Base64 {
                encoded.push((SigmaString(vec![Part::Text(engine.encode(&bytes))]), true));
            } else {
                // The three alignments of the text inside a longer base64 string, with
                // the characters that depend on unknown neighbours cut off.
                for shift in 0..3usize {
                    let mut padded = vec![b' '; shift];
                    padded.extend_from_slice(&bytes);
                    let e = engine.encode(&padded);
                    let start = [0, 2, 3][shift];
                    let cut = [0, 3, 2][(bytes.len() + shift) % 3];
                    let end = e.len().saturating_sub(cut);
                    if start < end {
                        encoded.push((SigmaString(vec![Part::Text(e[start..end].to_owned())]), true));
                    }
                }
            }
        }
        out = encoded;
    }
    Ok(out)
}

/// `-x` also written `/x` or with a Unicode dash, at the start of a word.
fn windash(text: &str, dash: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut prev_space = true;
    for c in text.chars() {
        if c == '-' && prev_space {
            out.push_str(dash);
        } else {
            out.push(c);
        }
        prev_space = c.is_whitespace();
    }
    out
}

fn string_pattern(s: &SigmaString, op: StrOp, cased: bool) -> Result<Pattern, SigmaError> {
    if let Some(plain) = s.plain() {
        let text = if cased { plain } else { super::matcher::lowercase(&plain).into_owned() };
        return Ok(Pattern::Str { op, text, cased });
    }
    let mut re = String::new();
    if matches!(op, StrOp::Eq | StrOp::StartsWith) {
        re.push('^');
    }
    for p in &s.0 {
        match p {
            Part::Text(t) => re.push_str(&regex::escape(t)),
            Part::Many => re.push_str(".*"),
            Part::One => re.push('.'),
        }
    }
    if matches!(op, StrOp::Eq | StrOp::EndsWith) {
        re.push('$');
    }
    Ok(Pattern::Regex(build_regex(&re, !cased, false, true)?))
}

fn resolve(cond: &Cond, detections: &[(&str, Node)]) -> Result<Node, SigmaError> {
    Ok(match cond {
        Cond::And(a, b) => Node::And(vec![resolve(a, detections)?, resolve(b, detections)?]),
        Cond::Or(a, b) => Node::Or(vec![resolve(a, detections)?, resolve(b, detections)?]),
        Cond::Not(a) => Node::Not(Box::new(resolve(a, detections)?)),
        Cond::Ident(name) => match detections.iter().find(|(n, _)| n == name) {
            Some((_, node)) => node.clone(),
            None => return invalid(format!("condition names `{name}`, which is not a detection")),
        },
        Cond::OneOf(sel) | Cond::AllOf(sel) => {
            let nodes: Vec<Node> = detections.iter().filter(|(n, _)| sel.selects(n)).map(|(_, d)| d.clone()).collect();
            if nodes.is_empty() {
                return invalid(format!("condition `of {sel}` selects no detection"));
            }
            if matches!(cond, Cond::OneOf(_)) {
                Node::Or(nodes)
            } else {
                Node::And(nodes)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{event_from_value, Event};
    use serde_json::json;

    fn rule(yaml: &str) -> Node {
        let docs = yaml_rust2::YamlLoader::load_from_str(yaml).unwrap();
        SigmaRule::from_yaml(&docs[0]).unwrap().compile().unwrap()
    }

    fn ev(v: serde_json::Value) -> Event {
        event_from_value(v).unwrap()
    }

    fn detection(body: &str) -> Node {
        rule(&format!("title: t\nlogsource: {{product: zeek}}\ndetection:\n{body}"))
    }

    #[test]
    fn escapes_and_wildcards() {
        assert_eq!(SigmaString::parse("a\\*b").plain().unwrap(), "a*b");
        assert_eq!(SigmaString::parse("\\\\x00").plain().unwrap(), "\\x00");
        assert_eq!(SigmaString::parse("\\curl.exe").plain().unwrap(), "\\curl.exe");
        assert_eq!(
            SigmaString::parse("a*b?").0,
            vec![Part::Text("a".into()), Part::Many, Part::Text("b".into()), Part::One]
        );
        let n = detection("  sel:\n    q: 'ev*l?.com'\n  condition: sel");
        assert!(n.matches(&ev(json!({"q": "EVIL1.com"}))));
        assert!(n.matches(&ev(json!({"q": "evxxxl2.com"}))));
        assert!(!n.matches(&ev(json!({"q": "evil.com"}))));
        assert!(!n.matches(&ev(json!({"q": "xevil1.com"}))));
        let n = detection("  sel:\n    q|contains: 'a*b'\n  condition: sel");
        assert!(n.matches(&ev(json!({"q": "xxAyyBzz"}))));
        let n = detection("  sel:\n    q|startswith: 'a\\*'\n  condition: sel");
        assert!(n.matches(&ev(json!({"q": "a*b"}))));
        assert!(!n.matches(&ev(json!({"q": "ab"}))));
    }

    #[test]
    fn every_string_modifier() {
        let e = ev(json!({"c": "Cmd.exe /c PowerShell -enc SQBFAFgA", "p": "/tmp/x", "n": 5}));
        let m = |body: &str| detection(&format!("  sel:\n{body}\n  condition: sel")).matches(&e);
        assert!(m("    c|contains: powershell"));
        assert!(m("    c|startswith: cmd.exe"));
        assert!(m("    c|endswith: sqbfafga"));
        assert!(m("    c|contains|all: [cmd, '-enc']"));
        assert!(!m("    c|contains|all: [cmd, nope]"));
        assert!(m("    c|re: 'Power[Ss]hell\\s-enc'"));
        assert!(!m("    c|re: 'powershell'"), "re is case-sensitive");
        assert!(m("    c|re|i: 'powershell'"));
        assert!(m("    c|contains|cased: PowerShell"));
        assert!(!m("    c|contains|cased: powershell"));
        assert!(m("    c|contains|windash: ' -c '") || m("    c|contains|windash: ' -c PowerShell'"));
        assert!(m("    c|windash|contains: '-c'"));
        assert!(m("    n|gt: 4"));
        assert!(!m("    n|lt: 5"));
        assert!(m("    n|lte: 5"));
        assert!(m("    n|gte: 5"));
        assert!(m("    c|exists: true"));
        assert!(m("    nope|exists: false"));
        assert!(m("    nope: null"));
        assert!(!m("    c: null"));
        assert!(m("    p: '/tmp/x'"));
    }

    #[test]
    fn base64_modifiers() {
        let e = ev(
            json!({"c": "powershell -e SW52b2tlLUV4cHJlc3Npb24=", "w": "x SQBFAFgA y", "o": "xxaHR0cDovL2V4YW1wbGUuY29txx"}),
        );
        let m = |body: &str| detection(&format!("  sel:\n{body}\n  condition: sel")).matches(&e);
        assert!(m("    c|base64|contains: Invoke-Expression"));
        assert!(!m("    c|base64|contains: invoke-expression"));
        assert!(m("    w|wide|base64offset|contains: IEX"));
        // "http://example.com" at every offset inside a longer base64 blob.
        for prefix in ["", "a", "ab"] {
            let blob = base64::engine::general_purpose::STANDARD.encode(format!("{prefix}http://example.com/path"));
            let e = ev(json!({ "o": blob }));
            let n = detection("  sel:\n    o|base64offset|contains: 'http://example.com'\n  condition: sel");
            assert!(n.matches(&e), "offset {}", prefix.len());
        }
    }

    #[test]
    fn lists_of_maps_keywords_and_conditions() {
        let n = detection("  sel:\n    - a: 1\n    - b: 2\n  condition: sel");
        assert!(n.matches(&ev(json!({"b": 2}))));
        assert!(!n.matches(&ev(json!({"a": 2}))));
        let n = detection("  keywords:\n    - 'clear logging'\n    - 'clear archive'\n  condition: keywords");
        assert!(n.matches(&ev(json!({"msg": "user ran CLEAR LOGGING now"}))));
        assert!(!n.matches(&ev(json!({"msg": "clear log"}))));
        let n = detection("  s1:\n    a: 1\n  s2:\n    b: 1\n  _x:\n    c: 1\n  condition: all of them");
        assert!(n.matches(&ev(json!({"a": 1, "b": 1}))));
        let n = detection("  s1:\n    a: 1\n  s2:\n    b: 1\n  condition: 1 of them");
        assert!(n.matches(&ev(json!({"b": 1}))));
        let n = detection("  s1:\n    a: 1\n  s2:\n    b: 1\n  f:\n    c: 1\n  condition: all of s* and not f");
        assert!(n.matches(&ev(json!({"a": 1, "b": 1}))));
        assert!(!n.matches(&ev(json!({"a": 1, "b": 1, "c": 1}))));
        let n = detection("  s1:\n    a: 1\n  s2:\n    b: 1\n  condition:\n    - s1\n    - s2");
        assert!(n.matches(&ev(json!({"b": 1}))));
        let n = detection("  sel:\n    ua: ''\n  condition: sel");
        assert!(n.matches(&ev(json!({"ua": ""}))));
        assert!(!n.matches(&ev(json!({"ua": "x"}))));
    }

    #[test]
    fn problems_are_named() {
        let err = |y: &str| {
            let docs = yaml_rust2::YamlLoader::load_from_str(y).unwrap();
            SigmaRule::from_yaml(&docs[0]).and_then(|r| r.compile().map(|_| ())).unwrap_err()
        };
        let base = "title: t\nlogsource: {product: zeek}\ndetection:\n";
        assert!(matches!(err(&format!("{base}  sel:\n    a|expand: x\n  condition: sel")), SigmaError::Unsupported(_)));
        assert!(
            matches!(err(&format!("{base}  sel:\n    a|bogus: x\n  condition: sel")), SigmaError::Unsupported(m) if m.contains("bogus"))
        );
        assert!(matches!(
            err(&format!("{base}  sel:\n    a: x\n  condition: sel | count() > 3")),
            SigmaError::Unsupported(_)
        ));
        assert!(
            matches!(err(&format!("{base}  sel:\n    a: x\n  condition: nope")), SigmaError::Invalid(m) if m.contains("nope"))
        );
        assert!(
            matches!(err(&format!("{base}  sel:\n    a|re: '('\n  condition: sel")), SigmaError::Invalid(m) if m.contains("regular"))
        );
        assert!(matches!(err(&format!("{base}  sel:\n    a|cidr: 'x'\n  condition: sel")), SigmaError::Invalid(_)));
        assert!(matches!(err("title: t\nlogsource: {}\ncorrelation: {}\n"), SigmaError::Unsupported(_)));
        assert!(
            matches!(err("logsource: {}\ndetection: {condition: x}\n"), SigmaError::Invalid(m) if m.contains("title"))
        );
    }
}
