//! The four kinds of user-defined parser (`csv`, `regex`, `grok`, `json`): how each
//! is compiled from its section and how it takes a line apart into fields.

use super::types::FieldType;
use super::{CompiledUserParser, UserParserConfig};
use crate::event::Event;
use crate::parse::flatten::flatten_into;
use crate::parse::{json_object, ParseError};
use std::collections::BTreeMap;

/// The kinds a section may name.
pub(super) const KINDS: [&str; 4] = ["csv", "regex", "grok", "json"];

/// Grok captures with this name are dropped: Metron's patterns use it for the parts
/// they match but do not want (`%{SPACE:UNWANTED}`). The grok crate names the second
/// and later ones `UNWANTED[1]`, ...
fn is_unwanted(capture: &str) -> bool {
    capture.strip_prefix("UNWANTED").is_some_and(|rest| rest.is_empty() || rest.starts_with('['))
}

#[derive(Debug)]
pub(super) enum Extractor {
    Csv { columns: Vec<String>, separator: u8 },
    Regex { regex: regex::Regex, names: Vec<String> },
    Grok(grok::Pattern),
    Json { renames: Vec<(String, String)> },
}

pub(super) fn compile_csv(cfg: &UserParserConfig, problems: &mut Vec<String>) -> Option<Extractor> {
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

pub(super) fn compile_regex(cfg: &UserParserConfig, problems: &mut Vec<String>) -> Option<Extractor> {
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

pub(super) fn compile_grok(
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

impl CompiledUserParser {
    /// The fields of one line; `None` for a line that is the CSV header.
    pub(super) fn extract(&self, line: &str) -> Result<Option<Event>, ParseError> {
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
}
