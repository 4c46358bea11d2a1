//! `metron parse`: raw sensor output in, normalized events out. One file per input
//! format behind the [`Parser`] trait, each with a [`FormatSpec`]; [`FORMATS`] is the
//! one registry that names, sniffs, documents and builds them: `--format`, `auto`,
//! `--help`, the completions and the README's table all come from it. A new format is
//! its file plus one line in [`FORMATS`].

mod asa;
mod cef;
mod flatten;
mod leef;
mod normalize;
mod pairs;
mod snort;
mod squid;
mod suricata;
mod syslog;
mod syslog_header;
pub mod user;
mod yaf;
mod zeek;

use crate::driver::{self, Outcome, Processor, RunError, RunOptions};
use crate::error::{error_record, ErrorType};
use crate::event::get_str;
use crate::event::{self, Event};
use crate::io::{self, LineData};
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

/// One built-in input format.
pub struct FormatSpec {
    /// What `--format` takes.
    pub name: &'static str,
    /// Other names `--format` takes for it.
    pub aliases: &'static [&'static str],
    /// What it reads, for `--help` and the README.
    pub about: &'static str,
    /// The `source.type` its events get, for `--help` and the README.
    pub source_type: &'static str,
    /// `auto`: whether an input's first line (BOM removed) is this format. Formats are
    /// asked in registry order, so a more specific format comes before a general one.
    pub sniff: fn(&str) -> bool,
    /// Whether a syslog message body (after its header, trimmed) is this format's: the
    /// syslog parser then hands the whole line to it.
    pub syslog_body: Option<fn(&str) -> bool>,
    /// A parser for one input; the argument is the input's file name, if it has one.
    pub build: fn(Option<&str>) -> Box<dyn Parser>,
}

/// Every built-in format, in sniffing order.
pub const FORMATS: &[FormatSpec] = &[
    zeek::FORMAT,
    suricata::FORMAT,
    asa::FORMAT,
    cef::FORMAT,
    leef::FORMAT,
    syslog::FORMAT,
    snort::FORMAT,
    yaf::FORMAT,
    squid::FORMAT,
];

/// A built-in format by name or alias.
pub fn builtin(name: &str) -> Option<&'static FormatSpec> {
    FORMATS.iter().find(|f| f.name == name || f.aliases.contains(&name))
}

/// Every name `--format` takes besides `[parsers.NAME]`: `auto`, the formats and their
/// aliases.
pub fn format_names() -> impl Iterator<Item = &'static str> {
    std::iter::once("auto").chain(FORMATS.iter().flat_map(|f| std::iter::once(f.name).chain(f.aliases.iter().copied())))
}

/// The format of an input, from its first non-blank line; `None` when nothing fits.
pub fn sniff(line: &str) -> Option<&'static FormatSpec> {
    let line = line.trim_start_matches('\u{feff}');
    FORMATS.iter().find(|f| (f.sniff)(line))
}

/// A line that is a JSON object, as a map (for sniffing JSON formats by their keys).
fn sniff_json(line: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    if !line.starts_with('{') {
        return None;
    }
    match serde_json::from_str(line).ok()? {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The format table for `--help` and the README: `name (aliases)`, what it reads, and
/// the `source.type` of its events, one format per row.
pub fn format_table() -> Vec<[String; 3]> {
    let mut rows = vec![["auto".to_owned(), "told from each input's first line".to_owned(), String::new()]];
    for f in FORMATS {
        let name =
            if f.aliases.is_empty() { f.name.to_owned() } else { format!("{} ({})", f.name, f.aliases.join(", ")) };
        rows.push([name, f.about.to_owned(), f.source_type.to_owned()]);
    }
    rows
}

/// The formats for `metron parse --help`, one per line.
pub fn formats_help() -> String {
    let rows = format_table();
    let width = rows.iter().map(|r| r[0].len()).max().unwrap_or(0);
    let mut text = String::from("Formats (--format; `auto` tells each input's format from its first line):\n");
    for [name, about, source_type] in &rows[1..] {
        text.push_str(&format!("  {name:width$}  {about}; source.type {source_type}\n"));
    }
    text.push_str(&format!(
        "  {:width$}  a [parsers.NAME] section of metron.toml (kinds: csv, regex, grok, json)\n",
        "NAME"
    ));
    text
}

/// What a stage was told to parse.
#[derive(Clone, Copy)]
enum Chosen {
    Auto,
    Builtin(&'static FormatSpec),
    /// A `[parsers.NAME]` section of `metron.toml`.
    User,
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
        let chosen = match (self.format.as_str(), builtin(&self.format)) {
            ("auto", _) => Chosen::Auto,
            (_, Some(f)) => Chosen::Builtin(f),
            (name, None) if self.parsers.contains_key(name) => Chosen::User,
            (name, None) => {
                problems.push(format!(
                    "unknown format {name:?}: use one of {} or a [parsers.NAME] from metron.toml",
                    format_names().collect::<Vec<_>>().join(", ")
                ));
                Chosen::Auto
            }
        };
        if self.max_line_bytes == 0 {
            problems.push("max_line_bytes must be at least 1".into());
        }
        if !problems.is_empty() {
            return Err(ParseBuildError(problems));
        }
        Ok(ParseStage {
            chosen,
            format: self.format,
            user: compiled,
            sources: HashMap::new(),
            max_line: self.max_line_bytes,
            stats: ParseStats::default(),
            direct: None,
            envelope: None,
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
    chosen: Chosen,
    /// The name it was given (`auto`, a format, a `[parsers.NAME]`).
    format: String,
    user: BTreeMap<String, Arc<user::CompiledUserParser>>,
    sources: HashMap<String, SourceState>,
    max_line: usize,
    pub stats: ParseStats,
    /// NDJSON written by parsers' shortcuts, and how many events it holds; `None` when
    /// the events are wanted as events (in process, tests, the demo).
    direct: Option<(Vec<u8>, u64)>,
    /// The envelope of the message being parsed (from `--listen`, or an envelope line):
    /// its fields go on every event and error record made of it, and `auto` tells each
    /// such message's format apart.
    envelope: Option<io::Envelope>,
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

    /// The format it was given (`auto`, a format, a `[parsers.NAME]`).
    pub fn format(&self) -> &str {
        &self.format
    }

    pub fn max_line(&self) -> usize {
        self.max_line
    }

    /// The parser for a new input, and the sensor name its error records carry;
    /// `None` until `auto` has seen a line.
    fn make_parser(&self, source: &str) -> (Option<Box<dyn Parser>>, String) {
        let file = (source != "-").then_some(source);
        match self.chosen {
            Chosen::Auto => (None, "auto".to_owned()),
            Chosen::Builtin(f) => (Some((f.build)(file)), f.name.to_owned()),
            Chosen::User => {
                let parser =
                    self.user.get(&self.format).map(|p| Box::new(user::UserParser::new(p.clone())) as Box<dyn Parser>);
                (parser, self.format.clone())
            }
        }
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
            let (parser, sensor) = self.make_parser(source);
            self.sources.insert(source.to_owned(), SourceState { parser, sensor });
        }
        let line = match self.text_of(data) {
            Ok(line) => line,
            Err((message, raw)) => {
                let sensor = self.sources.get(source).map(|s| s.sensor.clone()).unwrap_or_default();
                return self.error(ErrorType::ParserError, &sensor, &message, &raw, source, line_no, errors);
            }
        };
        if self.envelope.is_none() && line.starts_with('{') {
            if let Some((message, envelope)) = io::read_envelope_line(line) {
                self.envelope = Some(envelope);
                self.parse_text(source, line_no, &message, out, errors);
                self.envelope = None;
                return;
            }
        }
        self.parse_text(source, line_no, line, out, errors);
    }

    /// One record's text: sniffed (each message of an envelope; else an input's first
    /// line) and parsed, with the envelope's fields added to what came of it.
    fn parse_text(&mut self, source: &str, line_no: u64, line: &str, out: &mut Vec<Event>, errors: &mut Vec<Event>) {
        if line.trim().is_empty() {
            self.stats.skipped += 1;
            return;
        }
        let per_message = self.envelope.is_some() && matches!(self.chosen, Chosen::Auto);
        let unknown = self.sources.get(source).is_some_and(|s| s.parser.is_none());
        if (unknown || per_message) && !self.sniff(source, line, line_no, errors) {
            return;
        }
        let before = out.len();
        self.run_parser(source, line, line_no, out, errors);
        if let Some(envelope) = &self.envelope {
            for e in &mut out[before..] {
                for (k, v) in envelope.fields() {
                    e.insert(k.into(), v);
                }
            }
        }
    }

    /// A line as text, or why not (over the length limit, not UTF-8) with what of it
    /// the error record keeps.
    fn text_of<'a>(&self, data: LineData<'a>) -> Result<&'a str, (String, String)> {
        match data {
            LineData::TooLong { prefix, len } => Err((
                format!("line is {len} bytes, over the limit of {} (max_line_bytes)", self.max_line),
                String::from_utf8_lossy(prefix).into_owned(),
            )),
            LineData::Line(bytes) => std::str::from_utf8(bytes).map_err(|e| {
                (format!("invalid UTF-8 at byte {}", e.valid_up_to()), String::from_utf8_lossy(bytes).into_owned())
            }),
        }
    }

    /// `auto` on an input's first telling line: its parser, or false when the line
    /// was a comment (skipped) or fits no format (an error record).
    fn sniff(&mut self, source: &str, line: &str, line_no: u64, errors: &mut Vec<Event>) -> bool {
        match sniff(line) {
            Some(format) => {
                let file = (source != "-").then_some(source);
                if let Some(state) = self.sources.get_mut(source) {
                    // The same format as the message before: its parser goes on.
                    if state.parser.is_some() && state.sensor == format.name {
                        return true;
                    }
                    state.parser = Some((format.build)(file));
                    state.sensor = format.name.to_owned();
                }
                true
            }
            // A comment before the first header (`### ...`) says nothing of the format.
            None if line.starts_with('#') => {
                self.stats.skipped += 1;
                false
            }
            None => {
                let message = "cannot tell the format of this line; name it with --format";
                self.error(ErrorType::ParserError, "auto", message, line, source, line_no, errors);
                false
            }
        }
    }

    /// The input's parser on one line: straight to NDJSON where it can, else events
    /// finished with the fields every event carries.
    fn run_parser(&mut self, source: &str, line: &str, line_no: u64, out: &mut Vec<Event>, errors: &mut Vec<Event>) {
        let Some(state) = self.sources.get_mut(source) else { return };
        let Some(parser) = state.parser.as_mut() else { return };
        if let (Some((bytes, n)), None) = (self.direct.as_mut(), &self.envelope) {
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
        let mut record = error_record(kind, sensor, message, raw, source, Some(line));
        if let Some(envelope) = &self.envelope {
            for (k, v) in envelope.fields() {
                record.insert(k.into(), v);
            }
        }
        errors.push(record);
    }
}

/// Runs `metron parse`: every input through `stage`, events to the output.
pub fn run(mut stage: ParseStage, opts: &RunOptions) -> Result<(ParseStats, Outcome), RunError> {
    stage.write_direct();
    let max_line = stage.max_line();
    let outcome = driver::run_lines(&mut stage, opts, max_line)?;
    Ok((stage.stats, outcome))
}

/// Runs `metron parse` over any source (the network listeners of `--listen`).
pub fn run_on<S: driver::Source<ParseStage>>(
    mut stage: ParseStage,
    source: S,
    outputs: &driver::Outputs,
) -> Result<(ParseStats, Outcome), RunError> {
    stage.write_direct();
    let outcome = driver::run(&mut stage, source, outputs)?;
    Ok((stage.stats, outcome))
}

/// `parsed 1,204,311 records: 1,204,300 events, 8 skipped, 3 errors`.
pub fn parse_summary(s: &ParseStats) -> String {
    format!(
        "parsed {} records: {} events, {} skipped (headers, comments, blank), {} errors",
        io::thousands(s.records),
        io::thousands(s.events),
        io::thousands(s.skipped),
        io::thousands(s.errors)
    )
}

impl Processor for ParseStage {
    type Record<'a> = LineData<'a>;

    fn record(
        &mut self,
        source: &str,
        line_no: u64,
        data: LineData<'_>,
        out: &mut Vec<Event>,
        errors: &mut Vec<Event>,
    ) -> std::io::Result<()> {
        self.parse_record(source, line_no, data, out, errors);
        Ok(())
    }
    fn end_source(&mut self, source: &str, error: Option<(u64, String)>, errors: &mut Vec<Event>) {
        if let Some((line, message)) = error {
            self.stats.errors += 1;
            errors.push(error_record(ErrorType::ParserError, "-", &message, "", source, (line > 0).then_some(line)));
        }
        ParseStage::end_source(self, source);
    }
    fn raw_output(&mut self) -> Option<(&mut Vec<u8>, &mut u64)> {
        self.direct_output()
    }
    fn set_envelope(&mut self, envelope: Option<&io::Envelope>) {
        self.envelope = envelope.cloned();
    }
    fn name(&self) -> &str {
        "parse"
    }
    fn mints_guids(&self) -> bool {
        true
    }
    fn had_errors(&self) -> bool {
        self.stats.errors > 0
    }
    fn summary(&self) -> String {
        parse_summary(&self.stats)
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
        let Some(raw) = get_str(&event, event::fields::ORIGINAL_STRING).map(str::to_owned) else {
            return Err(StageError::new(ErrorType::ParserError, "event has no original_string to parse", Some(event)));
        };
        let mut errors = Vec::new();
        self.parse_record("event", self.stats.records + 1, LineData::Line(raw.as_bytes()), out, &mut errors);
        match errors.pop() {
            Some(e) => {
                let message = get_str(&e, event::fields::MESSAGE).unwrap_or("parse error").to_owned();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_each_format_from_real_first_lines() {
        let cases = [
            ("#separator \\x09", "zeek"),
            (r#"{"ts":1.0,"uid":"C1","id.orig_h":"1.2.3.4"}"#, "zeek"),
            (r#"{"http":{"ts":1402307733.473,"uid":"C"}}"#, "zeek"),
            (r#"{"timestamp":"2016-01-28T15:29:48.512345+0000","event_type":"alert"}"#, "suricata"),
            (r#"{"ts":1.0,"uid":"C1","event_type":"flow"}"#, "suricata"),
            ("<166>Jan  5 08:52:35 10.22.8.216 %ASA-6-302021: Teardown", "asa"),
            ("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - msg", "syslog"),
            ("Jan  5 08:52:35 host sshd[12]: Accepted", "syslog"),
            ("\u{feff}Jan  5 08:52:35 host sshd[12]: Accepted", "syslog"),
            ("CEF:0|Adallom|Adallom|1.0|5", "cef"),
            ("<13>Jan  5 08:52:35 host CEF:0|Adallom|Adallom|1.0|5", "cef"),
            ("2016-01-28T15:29:48Z relay CEF:0|Adallom|Adallom|1.0|5", "cef"),
            ("LEEF:1.0|Microsoft|MSExchange|4.0", "leef"),
            ("01/27/16-16:01:04.877970 ,129,12,1,\"x\",TCP", "snort"),
            ("01/27-16:01:04.877970  [**] [1:2:3] msg [**]", "snort"),
            ("10/06/2016-10:28:51.339398  [**] [1:2:3] msg [**]", "snort"),
            ("2016-01-28 15:29:48.512|2016-01-28 15:29:48.512|   0.000|", "yaf"),
            ("1461576382.642    161 127.0.0.1 TCP_MISS/200 103701 GET http://www.cnn.com/ - DIRECT/199.27.79.73 text/html", "squid"),
        ];
        for (line, want) in cases {
            assert_eq!(sniff(line).map(|f| f.name), Some(want), "{line}");
        }
        assert!(sniff("hello world").is_none());
        assert!(sniff("{not json").is_none());
    }

    #[test]
    fn every_name_and_alias_is_one_format() {
        let names: Vec<&str> = format_names().collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        assert_eq!(builtin("bro").map(|f| f.name), Some("zeek"));
        assert_eq!(builtin("eve").map(|f| f.name), Some("suricata"));
        assert!(builtin("auto").is_none());
    }
}
