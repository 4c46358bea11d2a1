//! `metron parse`: raw sensor output in, normalized events out. One file per input
//! format behind the [`Parser`] trait; [`Format`] is the one registry that names them
//! and builds them, and `sniff` picks one when the format is `auto`.

mod asa;
mod cef;
mod flatten;
mod leef;
mod sniff;
mod snort;
mod squid;
mod suricata;
mod syslog;
pub mod user;
mod yaf;
mod zeek;

pub use sniff::sniff;

use crate::error::{error_record, ErrorType};
use crate::event::{self, Event};
use crate::io::LineData;
use crate::stage::{Stage, StageConfig, StageError};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Why one line did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// `parser_error` (not this format at all) or `parser_invalid` (the format, but
    /// a value is wrong).
    pub kind: ErrorType,
    pub message: String,
}

impl ParseError {
    pub fn error(message: impl Into<String>) -> ParseError {
        ParseError { kind: ErrorType::ParserError, message: message.into() }
    }
    pub fn invalid(message: impl Into<String>) -> ParseError {
        ParseError { kind: ErrorType::ParserInvalid, message: message.into() }
    }
}

/// One input format. A parser may keep state between lines of one input (Zeek's
/// TSV header); each input gets its own parser.
pub trait Parser: Send {
    /// Parses one line (without its newline), pushing zero or more events. Headers
    /// and comments push none. Each event carries `source.type`; `original_string`,
    /// `guid` and `community_id` are added by the stage.
    fn parse(&mut self, line: &str, out: &mut Vec<Event>) -> Result<(), ParseError>;

    /// A shortcut for `metron parse` writing straight to its output: the line's event
    /// as one NDJSON line (with newline) appended to `out`, exactly what `parse` and the
    /// stage's finishing would serialize but for the guid. False: use `parse`.
    fn write_ndjson(&mut self, _line: &str, _out: &mut Vec<u8>) -> bool {
        false
    }
}

/// The formats `--format` accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    Auto,
    Zeek,
    Suricata,
    Snort,
    Yaf,
    Squid,
    Asa,
    Syslog,
    Cef,
    Leef,
    /// A `[parsers.NAME]` section of `metron.toml`.
    User(String),
}

/// Built-in format names for `--help` and completions (`bro` is an alias of `zeek`).
pub const BUILTIN_FORMATS: [&str; 11] =
    ["auto", "zeek", "bro", "suricata", "snort", "yaf", "squid", "asa", "syslog", "cef", "leef"];

impl Format {
    /// A built-in format by name.
    pub fn builtin(name: &str) -> Option<Format> {
        Some(match name {
            "auto" => Format::Auto,
            "zeek" | "bro" => Format::Zeek,
            "suricata" | "eve" => Format::Suricata,
            "snort" => Format::Snort,
            "yaf" => Format::Yaf,
            "squid" => Format::Squid,
            "asa" => Format::Asa,
            "syslog" => Format::Syslog,
            "cef" => Format::Cef,
            "leef" => Format::Leef,
            _ => return None,
        })
    }

    pub fn name(&self) -> &str {
        match self {
            Format::Auto => "auto",
            Format::Zeek => "zeek",
            Format::Suricata => "suricata",
            Format::Snort => "snort",
            Format::Yaf => "yaf",
            Format::Squid => "squid",
            Format::Asa => "asa",
            Format::Syslog => "syslog",
            Format::Cef => "cef",
            Format::Leef => "leef",
            Format::User(name) => name,
        }
    }
}

/// `[parse]` in `metron.toml`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParseConfig {
    /// A built-in format or a `[parsers.NAME]`; `auto` when absent.
    pub format: Option<String>,
    /// Longest line accepted, in bytes (default 1 MiB); longer lines become errors.
    pub max_line_bytes: Option<usize>,
}

/// Everything `build()` needs: the `[parse]` section with flags applied, and the
/// user-defined parsers.
#[derive(Debug, Clone, Default)]
pub struct ParseSettings {
    pub format: String,
    pub max_line_bytes: usize,
    pub parsers: BTreeMap<String, user::UserParserConfig>,
}

/// A settings problem found at build time.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("; "))]
pub struct ParseBuildError(pub Vec<String>);

impl StageConfig for ParseSettings {
    type Runtime = ParseStage;
    type Error = ParseBuildError;

    fn build(self) -> Result<ParseStage, ParseBuildError> {
        let mut problems = Vec::new();
        let mut compiled = BTreeMap::new();
        for (name, cfg) in &self.parsers {
            match user::CompiledUserParser::compile(name, cfg) {
                Ok(p) => {
                    compiled.insert(name.clone(), Arc::new(p));
                }
                Err(errs) => problems.extend(errs.into_iter().map(|e| format!("[parsers.{name}]: {e}"))),
            }
        }
        let format = match Format::builtin(&self.format) {
            Some(f) => f,
            None if compiled.contains_key(&self.format) => Format::User(self.format.clone()),
            None if self.parsers.contains_key(&self.format) => Format::User(self.format.clone()),
            None => {
                problems.push(format!(
                    "unknown format {:?}: use one of {} or a [parsers.NAME] from metron.toml",
                    self.format,
                    BUILTIN_FORMATS.join(", ")
                ));
                Format::Auto
            }
        };
        if self.max_line_bytes == 0 {
            problems.push("max_line_bytes must be at least 1".into());
        }
        if !problems.is_empty() {
            return Err(ParseBuildError(problems));
        }
        Ok(ParseStage {
            format,
            user: compiled,
            sources: HashMap::new(),
            max_line: self.max_line_bytes,
            stats: ParseStats::default(),
            direct: None,
        })
    }
}

/// Counts for the summary line: records = events + skipped + errors, when every
/// record gives at most one event.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ParseStats {
    /// Lines read.
    pub records: u64,
    /// Events written.
    pub events: u64,
    /// Lines that are headers, comments or blank: no event on purpose.
    pub skipped: u64,
    /// Error records.
    pub errors: u64,
}

struct SourceState {
    parser: Option<Box<dyn Parser>>,
    sensor: String,
}

/// The running parse stage.
pub struct ParseStage {
    format: Format,
    user: BTreeMap<String, Arc<user::CompiledUserParser>>,
    sources: HashMap<String, SourceState>,
    max_line: usize,
    pub stats: ParseStats,
    /// NDJSON written by parsers' shortcuts, and how many events it holds; `None` when
    /// the events are wanted as events (in process, tests, the demo).
    direct: Option<(Vec<u8>, u64)>,
}

impl ParseStage {
    /// Lets parsers write NDJSON straight away (`Parser::write_ndjson`); the driver
    /// takes it with [`ParseStage::direct_output`].
    pub fn write_direct(&mut self) {
        self.direct = Some((Vec::with_capacity(1 << 16), 0));
    }

    /// NDJSON written directly since last taken, and its number of events.
    pub fn direct_output(&mut self) -> Option<(&mut Vec<u8>, &mut u64)> {
        self.direct.as_mut().map(|(bytes, n)| (bytes, n))
    }

    pub fn max_line(&self) -> usize {
        self.max_line
    }

    fn make_parser(&self, format: &Format, source: &str) -> Option<Box<dyn Parser>> {
        let file = (source != "-").then_some(source);
        Some(match format {
            Format::Auto => return None,
            Format::Zeek => Box::new(zeek::ZeekParser::new(file)),
            Format::Suricata => Box::new(suricata::SuricataParser::new()),
            Format::Snort => Box::new(snort::SnortParser::new()),
            Format::Yaf => Box::new(yaf::YafParser::new()),
            Format::Squid => Box::new(squid::SquidParser::new()),
            Format::Asa => Box::new(asa::AsaParser::new()),
            Format::Syslog => Box::new(syslog::SyslogParser::new()),
            Format::Cef => Box::new(cef::CefParser::new()),
            Format::Leef => Box::new(leef::LeefParser::new()),
            Format::User(name) => Box::new(user::UserParser::new(self.user.get(name)?.clone())),
        })
    }

    /// Parses one line of `source`. Events go to `out`, error records to `errors`.
    pub fn parse_record(
        &mut self,
        source: &str,
        line_no: u64,
        data: LineData<'_>,
        out: &mut Vec<Event>,
        errors: &mut Vec<Event>,
    ) {
        self.stats.records += 1;
        if !self.sources.contains_key(source) {
            let parser = self.make_parser(&self.format, source);
            let sensor = self.format.name().to_owned();
            self.sources.insert(source.to_owned(), SourceState { parser, sensor });
        }
        let line = match data {
            LineData::TooLong { prefix, len } => {
                let sensor = self.sources.get(source).map(|s| s.sensor.clone()).unwrap_or_default();
                let message = format!("line is {len} bytes, over the limit of {} (max_line_bytes)", self.max_line);
                self.error(
                    ErrorType::ParserError,
                    &sensor,
                    &message,
                    &String::from_utf8_lossy(prefix),
                    source,
                    line_no,
                    errors,
                );
                return;
            }
            LineData::Line(bytes) => match std::str::from_utf8(bytes) {
                Ok(s) => s,
                Err(e) => {
                    let sensor = self.sources.get(source).map(|s| s.sensor.clone()).unwrap_or_default();
                    let message = format!("invalid UTF-8 at byte {}", e.valid_up_to());
                    self.error(
                        ErrorType::ParserError,
                        &sensor,
                        &message,
                        &String::from_utf8_lossy(bytes),
                        source,
                        line_no,
                        errors,
                    );
                    return;
                }
            },
        };
        if line.trim().is_empty() {
            self.stats.skipped += 1;
            return;
        }
        let needs_sniff = self.sources.get(source).is_some_and(|s| s.parser.is_none());
        if needs_sniff {
            match sniff(line) {
                Some(format) => {
                    let parser = self.make_parser(&format, source);
                    if let Some(state) = self.sources.get_mut(source) {
                        state.parser = parser;
                        state.sensor = format.name().to_owned();
                    }
                }
                // A comment before the first header (`### ...`) says nothing of the format.
                None if line.starts_with('#') => {
                    self.stats.skipped += 1;
                    return;
                }
                None => {
                    let message = "cannot tell the format of this line; name it with --format";
                    self.error(ErrorType::ParserError, "auto", message, line, source, line_no, errors);
                    return;
                }
            }
        }
        let Some(state) = self.sources.get_mut(source) else { return };
        let Some(parser) = state.parser.as_mut() else { return };
        if let Some((bytes, n)) = self.direct.as_mut() {
            if parser.write_ndjson(line, bytes) {
                *n += 1;
                self.stats.events += 1;
                return;
            }
        }
        let before = out.len();
        match parser.parse(line, out) {
            Ok(()) => {
                let made = (out.len() - before) as u64;
                if made == 0 {
                    self.stats.skipped += 1;
                }
                self.stats.events += made;
                for e in &mut out[before..] {
                    finish_event(e, line);
                }
            }
            Err(err) => {
                out.truncate(before);
                let sensor = state.sensor.clone();
                self.error(err.kind, &sensor, &err.message, line, source, line_no, errors);
            }
        }
    }

    /// The input ended: forget its parser state.
    pub fn end_source(&mut self, source: &str) {
        self.sources.remove(source);
    }

    #[allow(clippy::too_many_arguments)]
    fn error(
        &mut self,
        kind: ErrorType,
        sensor: &str,
        message: &str,
        raw: &str,
        source: &str,
        line: u64,
        errors: &mut Vec<Event>,
    ) {
        self.stats.errors += 1;
        errors.push(error_record(kind, sensor, message, raw, source, Some(line)));
    }
}

/// Adds what every parsed event carries.
fn finish_event(e: &mut Event, line: &str) {
    event::complete(e, line);
}

/// The parse stage inside a pipeline: an event's `original_string` is parsed again
/// (raw records that arrived as events, e.g. from a message queue).
impl Stage for ParseStage {
    fn name(&self) -> &str {
        "parse"
    }

    fn error_type(&self) -> ErrorType {
        ErrorType::ParserError
    }

    fn process(&mut self, event: Event, out: &mut Vec<Event>) -> Result<(), StageError> {
        let Some(raw) = event.get(event::fields::ORIGINAL_STRING).and_then(|v| v.as_str()).map(str::to_owned) else {
            return Err(StageError::new(ErrorType::ParserError, "event has no original_string to parse", Some(event)));
        };
        let mut errors = Vec::new();
        self.parse_record("event", self.stats.records + 1, LineData::Line(raw.as_bytes()), out, &mut errors);
        match errors.pop() {
            Some(e) => {
                let message =
                    e.get(event::fields::MESSAGE).and_then(|v| v.as_str()).unwrap_or("parse error").to_owned();
                Err(StageError::new(ErrorType::ParserError, message, Some(event)))
            }
            None => Ok(()),
        }
    }
}

/// Parses a line as one JSON object (serde_json's nesting limit stops JSON bombs).
pub(crate) fn json_object(line: &str) -> Result<Event, ParseError> {
    match event::event_from_json(line.as_bytes()) {
        Ok(event) => Ok(event),
        Err(e) if e.classify() == serde_json::error::Category::Data => Err(ParseError::error("not a JSON object")),
        Err(e) => Err(ParseError::error(format!("invalid JSON: {e}"))),
    }
}
