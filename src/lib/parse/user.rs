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

use super::{json_object, suricata::flatten_into, ParseError, Parser};
use crate::event::{canonical_ip, epoch_ms_from_secs_str, fields, now_ms, parse_rfc3339_ms, protocol_name, Event};
use chrono::format::{Fixed, Item, StrftimeItems};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde::Deserialize;
use serde_json::{Number, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The kinds a section may name.
const KINDS: [&str; 4] = ["csv", "regex", "grok", "json"];

/// Grok captures with this name are dropped: Metron's patterns use it for the parts
/// they match but do not want (`%{SPACE:UNWANTED}`). The grok crate names the second
/// and later ones `UNWANTED[1]`, ...
fn is_unwanted(capture: &str) -> bool {
    capture.strip_prefix("UNWANTED").is_some_and(|rest| rest.is_empty() || rest.starts_with('['))
}

/// The fields a `select` transformation always keeps: the ones every event has.
const STANDARD_FIELDS: [&str; 11] = fields::STANDARD;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldType {
    Int,
    Float,
    Bool,
    String,
}

impl FieldType {
    fn from_name(name: &str) -> Option<FieldType> {
        Some(match name {
            "int" | "integer" | "long" => FieldType::Int,
            "float" | "double" => FieldType::Float,
            "bool" | "boolean" => FieldType::Bool,
            "string" => FieldType::String,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            FieldType::Int => "an int",
            FieldType::Float => "a float",
            FieldType::Bool => "a bool",
            FieldType::String => "a string",
        }
    }
}

#[derive(Debug, Clone)]
enum TimeFormat {
    Auto,
    EpochS,
    EpochMs,
    Rfc3339,
    Strftime { format: String, with_zone: bool },
}

#[derive(Debug)]
enum Extractor {
    Csv { columns: Vec<String>, separator: u8 },
    Regex { regex: regex::Regex, names: Vec<String> },
    Grok(grok::Pattern),
    Json { renames: Vec<(String, String)> },
}

#[derive(Debug)]
enum Transformation {
    Rename(Vec<(String, String)>),
    Remove(Vec<String>),
    Select(Vec<String>),
    IpProtocol(Vec<String>),
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

fn compile_csv(cfg: &UserParserConfig, problems: &mut Vec<String>) -> Option<Extractor> {
    let columns = match cfg.columns.as_deref() {
        None | Some([]) => {
            problems.push("kind = \"csv\" needs columns = [\"name\", ...]".into());
            None
        }
        Some(columns) => {
            let mut seen = std::collections::BTreeSet::new();
            for c in columns {
                if c.is_empty() {
                    problems.push("columns: a column name is empty".into());
                } else if !seen.insert(c.as_str()) {
                    problems.push(format!("columns: {c:?} appears twice"));
                }
            }
            Some(columns.to_vec())
        }
    };
    let separator = match cfg.separator.as_deref() {
        None => Some(b','),
        Some(s) if s.len() == 1 && s.is_ascii() && s != "\"" => s.bytes().next(),
        Some(s) => {
            problems.push(format!("separator {s:?}: must be one ASCII character other than '\"'"));
            None
        }
    };
    Some(Extractor::Csv { columns: columns?, separator: separator? })
}

fn compile_regex(cfg: &UserParserConfig, problems: &mut Vec<String>) -> Option<Extractor> {
    let Some(pattern) = cfg.pattern.as_deref() else {
        problems.push("kind = \"regex\" needs pattern = \"...\" with named captures (?P<name>...)".into());
        return None;
    };
    match regex::Regex::new(pattern) {
        Ok(regex) => {
            let names: Vec<String> = regex.capture_names().flatten().map(str::to_owned).collect();
            if names.is_empty() {
                problems.push("pattern has no named captures (?P<name>...), so it would give no fields".into());
                return None;
            }
            Some(Extractor::Regex { regex, names })
        }
        Err(e) => {
            problems.push(format!("pattern {pattern:?} is not a valid regex: {}", one_line_regex_error(&e)));
            None
        }
    }
}

/// The regex crate's syntax errors draw the pattern with a caret over several
/// lines; a config problem is one line, so keep the last line, which says what.
fn one_line_regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or("");
    last.strip_prefix("error: ").unwrap_or(last).to_owned()
}

fn compile_grok(
    cfg: &UserParserConfig,
    types: &mut BTreeMap<String, FieldType>,
    problems: &mut Vec<String>,
) -> Option<Extractor> {
    let Some(pattern) = cfg.pattern.as_deref() else {
        problems.push("kind = \"grok\" needs pattern = \"%{PATTERN:field} ...\"".into());
        return None;
    };
    let mut grok = grok::Grok::with_default_patterns();
    for (name, definition) in cfg.patterns.iter().flatten() {
        grok.add_pattern(name.as_str(), definition.as_str());
    }
    let compiled = match grok.compile(pattern, true) {
        Ok(p) => p,
        Err(e) => {
            let why = match &e {
                grok::Error::DefinitionNotFound(name) => {
                    format!("unknown grok pattern %{{{name}}} (not a default pattern nor in patterns)")
                }
                // The engine's message ends with the whole expanded regex: too long to read.
                other => other.to_string().lines().next().unwrap_or("").to_owned(),
            };
            problems.push(format!("pattern {pattern:?}: {why}"));
            return None;
        }
    };
    let names: Vec<String> = compiled.capture_names().filter(|n| !is_unwanted(n)).map(str::to_owned).collect();
    if names.is_empty() {
        problems.push("pattern has no named captures (%{PATTERN:field}), so it would give no fields".into());
        return None;
    }
    // `%{NUMBER:bytes:int}` types a capture, unless `types` already does.
    for name in names {
        if let Some(extract) = compiled.get_extract(&name) {
            match FieldType::from_name(extract) {
                Some(t) => {
                    types.entry(name).or_insert(t);
                }
                None => problems.push(format!("pattern: %{{...:{name}:{extract}}}: use int, float, bool or string")),
            }
        }
    }
    Some(Extractor::Grok(compiled))
}

fn compile_time_format(format: &str) -> Result<TimeFormat, String> {
    Ok(match format {
        "auto" => TimeFormat::Auto,
        "epoch_s" => TimeFormat::EpochS,
        "epoch_ms" => TimeFormat::EpochMs,
        "rfc3339" => TimeFormat::Rfc3339,
        strftime => {
            let mut with_zone = false;
            let mut has_field = false;
            for item in StrftimeItems::new(strftime) {
                match item {
                    Item::Error => {
                        return Err(format!("timestamp_format {strftime:?}: not a valid strftime format"));
                    }
                    Item::Fixed(Fixed::TimezoneName) => {
                        return Err(format!("timestamp_format {strftime:?}: %Z (zone names) cannot be read; use %z"));
                    }
                    Item::Fixed(
                        Fixed::TimezoneOffset
                        | Fixed::TimezoneOffsetColon
                        | Fixed::TimezoneOffsetDoubleColon
                        | Fixed::TimezoneOffsetTripleColon
                        | Fixed::TimezoneOffsetColonZ
                        | Fixed::TimezoneOffsetZ
                        | Fixed::RFC2822
                        | Fixed::RFC3339,
                    ) => {
                        with_zone = true;
                        has_field = true;
                    }
                    Item::Numeric(..) | Item::Fixed(_) => has_field = true,
                    _ => {}
                }
            }
            if !has_field {
                return Err(format!(
                    "timestamp_format {strftime:?}: use auto, epoch_s, epoch_ms, rfc3339 or a strftime format such as \"%Y-%m-%d %H:%M:%S\""
                ));
            }
            TimeFormat::Strftime { format: strftime.to_owned(), with_zone }
        }
    })
}

fn compile_transformation(t: &TransformationConfig) -> Result<Transformation, String> {
    let list = || match &t.fields {
        Some(FieldSpec::List(l)) if !l.is_empty() => Ok(l.clone()),
        _ => Err("needs fields = [\"name\", ...]".to_owned()),
    };
    match t.kind.as_str() {
        "rename" => match &t.fields {
            Some(FieldSpec::Map(m)) if !m.is_empty() => Ok(Transformation::Rename(m.clone().into_iter().collect())),
            _ => Err("needs fields = { old = \"new\", ... }".into()),
        },
        "remove" => list().map(Transformation::Remove),
        "select" => list().map(Transformation::Select),
        "ip_protocol" => list().map(Transformation::IpProtocol),
        other => Err(format!("unknown kind {other:?}: use rename, remove, select or ip_protocol")),
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

    /// The fields of one line; `None` for a line that is the CSV header.
    fn extract(&self, line: &str) -> Result<Option<Event>, ParseError> {
        let mut event = Event::default();
        match &self.extractor {
            Extractor::Csv { columns, separator } => {
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .delimiter(*separator)
                    .trim(csv::Trim::All)
                    .buffer_capacity(line.len().max(64))
                    .from_reader(line.as_bytes());
                let mut record = csv::StringRecord::new();
                match reader.read_record(&mut record) {
                    Ok(true) => {}
                    Ok(false) => return Err(self.no_match("empty line")),
                    Err(e) => return Err(self.no_match(&format!("not CSV: {e}"))),
                }
                if record.len() != columns.len() {
                    return Err(self.no_match(&format!("expected {} columns, found {}", columns.len(), record.len())));
                }
                if record.iter().zip(columns).all(|(v, c)| v == c) {
                    return Ok(None);
                }
                for (name, value) in columns.iter().zip(record.iter()) {
                    event.insert(name.clone(), self.capture(name, value));
                }
            }
            Extractor::Regex { regex, names } => {
                let caps = regex.captures(line).ok_or_else(|| self.no_match("the line does not match the pattern"))?;
                for name in names {
                    if let Some(m) = caps.name(name) {
                        event.insert(name.clone(), self.capture(name, m.as_str()));
                    }
                }
            }
            Extractor::Grok(pattern) => {
                // fancy-regex gives up (no match) rather than backtrack without end.
                let matches =
                    pattern.match_against(line).ok_or_else(|| self.no_match("the line does not match the pattern"))?;
                for (name, text) in matches.iter() {
                    if !is_unwanted(name) {
                        event.insert(name.to_owned(), self.capture(name, text));
                    }
                }
            }
            Extractor::Json { renames } => {
                let object = json_object(line).map_err(|e| self.no_match(&e.message))?;
                for (key, value) in object {
                    flatten_into(&mut event, key, value, 0);
                }
                for (from, to) in renames {
                    if let Some(v) = event.shift_remove(from) {
                        event.insert(to.clone(), v);
                    }
                }
            }
        }
        Ok(Some(event))
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

impl TimeFormat {
    fn describe(&self) -> &str {
        match self {
            TimeFormat::Auto => "auto: epoch seconds or milliseconds, or RFC 3339; set timestamp_format",
            TimeFormat::EpochS => "epoch_s",
            TimeFormat::EpochMs => "epoch_ms",
            TimeFormat::Rfc3339 => "rfc3339",
            TimeFormat::Strftime { format, .. } => format,
        }
    }
}

impl Transformation {
    fn apply(&self, event: &mut Event) {
        match self {
            Transformation::Rename(pairs) => {
                for (from, to) in pairs {
                    if let Some(v) = event.shift_remove(from) {
                        event.insert(to.clone(), v);
                    }
                }
            }
            Transformation::Remove(names) => {
                for name in names {
                    event.shift_remove(name);
                }
            }
            Transformation::Select(names) => {
                event.retain(|k, _| names.contains(k) || STANDARD_FIELDS.contains(&k.as_str()));
            }
            Transformation::IpProtocol(names) => {
                for name in names {
                    if let Some(value) = event.get_mut(name) {
                        let number = match value {
                            Value::Number(n) => n.as_u64(),
                            Value::String(s) => s.trim().parse().ok(),
                            _ => None,
                        };
                        if let Some(proto) = number.and_then(|n| u8::try_from(n).ok()).and_then(protocol_name) {
                            *value = Value::from(proto);
                        }
                    }
                }
            }
        }
    }
}

/// `-12`, `0`, `8080`: digits with no leading zero, so that turning them into a
/// number and back gives the same text.
fn is_plain_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
}

/// `Ok(None)`: an empty text, which means "no value".
fn convert(value: &Value, ty: FieldType) -> Result<Option<Value>, ()> {
    if let Value::String(s) = value {
        if s.trim().is_empty() && ty != FieldType::String {
            return Ok(None);
        }
    }
    let converted = match (ty, value) {
        (FieldType::String, Value::String(_)) => value.clone(),
        (FieldType::String, Value::Number(_) | Value::Bool(_)) => Value::from(value.to_string()),
        (FieldType::Int, Value::Number(n)) => match n.as_i64() {
            Some(i) => Value::from(i),
            None => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
                _ => Value::Number(n.clone()),
            },
        },
        (FieldType::Int, Value::String(s)) => Value::from(s.trim().parse::<i64>().map_err(|_| ())?),
        (FieldType::Float, Value::Number(n)) => Value::Number(Number::from_f64(n.as_f64().ok_or(())?).ok_or(())?),
        (FieldType::Float, Value::String(s)) => {
            Value::Number(Number::from_f64(s.trim().parse::<f64>().map_err(|_| ())?).ok_or(())?)
        }
        (FieldType::Bool, Value::Bool(_)) => value.clone(),
        (FieldType::Bool, Value::Number(n)) => match n.as_i64() {
            Some(0) => Value::Bool(false),
            Some(1) => Value::Bool(true),
            _ => return Err(()),
        },
        (FieldType::Bool, Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "1" => Value::Bool(true),
            "false" | "f" | "no" | "n" | "0" => Value::Bool(false),
            _ => return Err(()),
        },
        _ => return Err(()),
    };
    Ok(Some(converted))
}

/// Epoch values below this are seconds, above it milliseconds (1e11 s is the year
/// 5138; 1e11 ms is 1973).
const AUTO_MS_THRESHOLD: f64 = 1e11;

fn read_time(value: &Value, format: &TimeFormat) -> Option<i64> {
    let text = match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let epoch_ms = |text: &str| text.parse::<i64>().ok().or_else(|| epoch_ms_from_secs_str(text).map(|ms| ms / 1000));
    match format {
        TimeFormat::EpochS => epoch_ms_from_secs_str(&text).or_else(|| float_ms(&text, 1000.0)),
        TimeFormat::EpochMs => epoch_ms(&text).or_else(|| float_ms(&text, 1.0)),
        TimeFormat::Rfc3339 => parse_rfc3339_ms(&text),
        TimeFormat::Auto => match text.parse::<f64>() {
            Ok(f) if f.is_finite() && f.abs() < AUTO_MS_THRESHOLD => {
                epoch_ms_from_secs_str(&text).or_else(|| float_ms(&text, 1000.0))
            }
            Ok(f) if f.is_finite() => epoch_ms(&text).or_else(|| float_ms(&text, 1.0)),
            Ok(_) => None,
            Err(_) => parse_rfc3339_ms(&text),
        },
        TimeFormat::Strftime { format, with_zone } => {
            if *with_zone {
                if let Ok(t) = DateTime::parse_from_str(&text, format) {
                    return Some(t.timestamp_millis());
                }
            }
            if let Ok(t) = NaiveDateTime::parse_from_str(&text, format) {
                return Some(t.and_utc().timestamp_millis());
            }
            NaiveDate::parse_from_str(&text, format).ok()?.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp_millis())
        }
    }
}

/// Numbers written with an exponent (`1.4e9`), which the exact text readers refuse.
fn float_ms(text: &str, scale: f64) -> Option<i64> {
    let f = text.parse::<f64>().ok()? * scale;
    (f.is_finite() && f.abs() < 9.0e15).then_some(f as i64)
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
