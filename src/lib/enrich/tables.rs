//! Lookup tables keyed by any field (user -> department, domain -> category): Apache
//! Metron's generic key-value enrichment, with a CSV or NDJSON file where Metron had
//! HBase. Also the row reader that the asset inventory shares: a malformed row is
//! reported with its file and line and the rest still load.

use super::AddFields;
use crate::event::Event;
use crate::io::{open_input, read_lines, Flow, LineData, DEFAULT_MAX_LINE};
use serde_json::Value;
use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// A file that could not be loaded at all, naming it.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct LoadError {
    pub path: PathBuf,
    pub message: String,
}

impl LoadError {
    pub fn new(path: &Path, message: impl Into<String>) -> LoadError {
        LoadError { path: path.to_owned(), message: message.into() }
    }
}

/// How many malformed rows of one file are described; the rest are counted.
const SHOWN_PER_FILE: usize = 20;

/// Problems with single rows of one file: the first few in words, the rest counted.
#[derive(Debug)]
pub struct Warnings {
    path: String,
    shown: Vec<String>,
    more: u64,
}

impl Warnings {
    pub fn new(path: &Path) -> Warnings {
        Warnings { path: path.display().to_string(), shown: Vec::new(), more: 0 }
    }

    /// Row `line` of the file is wrong.
    pub fn row(&mut self, line: u64, message: impl std::fmt::Display) {
        if self.shown.len() < SHOWN_PER_FILE {
            self.shown.push(format!("{}:{line}: {message}; row skipped", self.path));
        } else {
            self.more += 1;
        }
    }

    pub fn count(&self) -> u64 {
        self.shown.len() as u64 + self.more
    }

    pub fn into_messages(mut self) -> Vec<String> {
        if self.more > 0 {
            self.shown.push(format!("{}: ... and {} more malformed rows", self.path, self.more));
        }
        self.shown
    }
}

/// One row: the key as text and the other values by column number.
#[derive(Debug)]
pub struct Row {
    pub line: u64,
    pub key: String,
    pub values: Vec<(u16, Value)>,
}

/// The rows of a CSV or NDJSON file.
#[derive(Debug)]
pub struct Rows {
    /// Names of the value columns (the key column is not one of them).
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    pub warnings: Warnings,
}

/// Which column holds the key: the first whose name is one of `names` (any case),
/// else the first column if `first_otherwise`.
pub struct KeyColumn<'a> {
    pub names: &'a [&'a str],
    pub first_otherwise: bool,
}

impl KeyColumn<'_> {
    fn pick(&self, headers: &[&str]) -> Option<usize> {
        self.names
            .iter()
            .find_map(|n| headers.iter().position(|h| h.eq_ignore_ascii_case(n)))
            .or_else(|| (self.first_otherwise && !headers.is_empty()).then_some(0))
    }

    fn describe(&self) -> String {
        self.names.join(" or ")
    }
}

/// Most value columns a file may have: column numbers are 16 bits.
const MAX_COLUMNS: usize = u16::MAX as usize;

/// Reads `path` (gzip and zstd too): NDJSON when its first character is `{`, else
/// CSV with a header line (`#` starts a comment line).
pub fn read_rows(path: &Path, key: &KeyColumn<'_>) -> Result<Rows, LoadError> {
    let mut reader = open_input(path).map_err(|e| {
        // The I/O layer names the file already; the load error names it once.
        let text = e.to_string();
        let prefix = format!("{}: ", path.display());
        LoadError::new(path, text.strip_prefix(&prefix).unwrap_or(&text))
    })?;
    let head = reader.fill_buf().map_err(|e| LoadError::new(path, e.to_string()))?;
    let first = head.iter().copied().find(|b| !b.is_ascii_whitespace());
    if first == Some(b'{') {
        read_ndjson(path, reader, key)
    } else {
        read_csv(path, reader, key)
    }
}

fn read_csv(path: &Path, reader: Box<dyn BufRead + Send>, key: &KeyColumn<'_>) -> Result<Rows, LoadError> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).comment(Some(b'#')).from_reader(reader);
    let headers = csv.headers().map_err(|e| LoadError::new(path, format!("header line: {e}")))?.clone();
    let names: Vec<&str> = headers.iter().collect();
    if names.iter().all(|h| h.is_empty()) {
        return Err(LoadError::new(path, "no header line (the first line names the columns)"));
    }
    let Some(key_at) = key.pick(&names) else {
        return Err(LoadError::new(path, format!("no key column: name one {}", key.describe())));
    };
    if names.len() > MAX_COLUMNS {
        return Err(LoadError::new(path, format!("{} columns, more than {MAX_COLUMNS}", names.len())));
    }
    let columns: Vec<String> =
        names.iter().enumerate().filter(|(i, _)| *i != key_at).map(|(_, h)| (*h).to_owned()).collect();
    let mut rows = Rows { columns, rows: Vec::new(), warnings: Warnings::new(path) };
    let mut record = csv::StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                if let csv::ErrorKind::Io(io) = e.kind() {
                    return Err(LoadError::new(path, format!("read error after line {line}: {io}")));
                }
                rows.warnings.row(line, e);
                continue;
            }
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.len() != names.len() {
            rows.warnings.row(line, format!("{} fields where the header has {}", record.len(), names.len()));
            continue;
        }
        let key_text = record.get(key_at).unwrap_or("");
        if key_text.is_empty() {
            rows.warnings.row(line, format!("the key column {:?} is empty", names[key_at]));
            continue;
        }
        let values = record
            .iter()
            .enumerate()
            .filter(|(i, cell)| *i != key_at && !cell.is_empty())
            .map(|(i, cell)| ((if i > key_at { i - 1 } else { i }) as u16, Value::from(cell)))
            .collect();
        rows.rows.push(Row { line, key: key_text.to_owned(), values });
    }
    Ok(rows)
}

fn read_ndjson(path: &Path, mut reader: Box<dyn BufRead + Send>, key: &KeyColumn<'_>) -> Result<Rows, LoadError> {
    let mut rows = Rows { columns: Vec::new(), rows: Vec::new(), warnings: Warnings::new(path) };
    let mut column_of: HashMap<String, u16> = HashMap::new();
    let mut too_many = false;
    read_lines(&mut reader, DEFAULT_MAX_LINE, |line, data| {
        let bytes = match data {
            LineData::Line(b) => b,
            LineData::TooLong { len, .. } => {
                rows.warnings.row(line, format!("line is {len} bytes, over {DEFAULT_MAX_LINE}"));
                return Flow::Continue;
            }
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Flow::Continue;
        }
        let object = match serde_json::from_slice::<serde_json::Map<String, Value>>(bytes) {
            Ok(o) => o,
            Err(e) => {
                rows.warnings.row(line, format!("not a JSON object: {e}"));
                return Flow::Continue;
            }
        };
        let names: Vec<&str> = object.keys().map(String::as_str).collect();
        let Some(key_at) = key.pick(&names) else {
            rows.warnings.row(line, format!("no key field ({})", key.describe()));
            return Flow::Continue;
        };
        let mut key_text = None;
        let mut values = Vec::with_capacity(object.len().saturating_sub(1));
        for (i, (name, value)) in object.into_iter().enumerate() {
            if i == key_at {
                key_text = match value {
                    Value::String(s) if !s.is_empty() => Some(s),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                };
                continue;
            }
            if value.is_null() {
                continue;
            }
            let next = rows.columns.len();
            let col = match column_of.get(&name) {
                Some(c) => *c,
                None if next < MAX_COLUMNS => {
                    rows.columns.push(name.clone());
                    column_of.insert(name, next as u16);
                    next as u16
                }
                None => {
                    too_many = true;
                    continue;
                }
            };
            values.push((col, value));
        }
        match key_text {
            Some(k) => rows.rows.push(Row { line, key: k, values }),
            None => rows.warnings.row(line, "the key is not a string or a number"),
        }
        Flow::Continue
    })
    .map_err(|e| LoadError::new(path, format!("read error: {e}")))?;
    if too_many {
        return Err(LoadError::new(path, format!("more than {MAX_COLUMNS} distinct fields")));
    }
    Ok(rows)
}

/// `[[enrich.tables]]` in `metron.toml`, or `--table NAME=FILE:FIELD[,FIELD...]`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    /// The table's name: `enrichments.<name>.<field>.<column>`.
    pub name: String,
    /// CSV or NDJSON.
    pub file: PathBuf,
    /// Event fields whose values are looked up.
    pub fields: Vec<String>,
    /// The table's key column; by default the column named like the (first) field,
    /// else `key`, else the first column.
    #[serde(default)]
    pub key_column: Option<String>,
}

/// Names that enrich's own fields use, which a table may not take.
const RESERVED: [&str; 4] = ["geo", "asn", "host", "network"];

impl TableSpec {
    /// Parses `NAME=FILE:FIELD[,FIELD...]`.
    pub fn parse_flag(text: &str) -> Result<TableSpec, String> {
        let usage = || format!("--table {text:?}: expected NAME=FILE:FIELD (like users=users.csv:user)");
        let (name, rest) = text.split_once('=').ok_or_else(usage)?;
        let (file, fields) = rest.rsplit_once(':').ok_or_else(usage)?;
        let fields: Vec<String> =
            fields.split(',').map(str::trim).filter(|f| !f.is_empty()).map(str::to_owned).collect();
        if name.trim().is_empty() || file.is_empty() || fields.is_empty() {
            return Err(usage());
        }
        Ok(TableSpec { name: name.trim().to_owned(), file: file.into(), fields, key_column: None })
    }

    /// Every problem with this table's definition (not its file).
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let ok_name = !self.name.is_empty()
            && self.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && !RESERVED.contains(&self.name.as_str());
        if !ok_name {
            problems.push(format!(
                "table name {:?}: use letters, digits, _ or - and none of {}",
                self.name,
                RESERVED.join(", ")
            ));
        }
        if self.fields.is_empty() || self.fields.iter().any(|f| f.trim().is_empty()) {
            problems.push(format!("table {:?}: fields must name at least one event field", self.name));
        }
        problems
    }
}

/// One row's values by column number.
type Values = Vec<(u16, Value)>;

/// A loaded lookup table.
#[derive(Debug)]
pub struct LookupTable {
    rows: HashMap<String, Values, foldhash::fast::RandomState>,
    fields: Vec<String>,
    /// `enrichments.<name>.<field>.<column>`, by field then column.
    keys: Vec<Vec<String>>,
}

impl LookupTable {
    /// Loads the table's file; malformed rows come back as messages.
    pub fn load(spec: &TableSpec) -> Result<(LookupTable, Vec<String>), LoadError> {
        let first_field = spec.fields.first().map(String::as_str).unwrap_or("key");
        let names: Vec<&str> = match &spec.key_column {
            Some(k) => vec![k.as_str()],
            None => vec![first_field, "key"],
        };
        let key = KeyColumn { names: &names, first_otherwise: spec.key_column.is_none() };
        let Rows { columns, rows, mut warnings } = read_rows(&spec.file, &key)?;
        let mut by_key: HashMap<String, (u64, Values), foldhash::fast::RandomState> = HashMap::default();
        for row in rows {
            if let Some((earlier, _)) = by_key.insert(row.key.clone(), (row.line, row.values)) {
                warnings.row(earlier, format!("key {:?} appears again on line {}, which wins", row.key, row.line));
            }
        }
        if by_key.is_empty() {
            return Err(LoadError::new(&spec.file, "no rows to load"));
        }
        let keys = spec
            .fields
            .iter()
            .map(|f| columns.iter().map(|c| format!("enrichments.{}.{f}.{c}", spec.name)).collect())
            .collect();
        let rows = by_key.into_iter().map(|(k, (_, v))| (k, v)).collect();
        Ok((LookupTable { rows, fields: spec.fields.clone(), keys }, warnings.into_messages()))
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The event fields this table is looked up by.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// Adds the row of `value`, the value of the table's field numbered `field`, if
    /// the table has one. Numbers and booleans are looked up by their JSON text.
    pub fn enrich_value(&self, field: usize, value: &Value, out: &mut impl AddFields) {
        let row = match value {
            Value::String(s) => self.rows.get(s.as_str()),
            v @ (Value::Number(_) | Value::Bool(_)) => self.rows.get(&v.to_string()),
            _ => None,
        };
        if let (Some(row), Some(keys)) = (row, self.keys.get(field)) {
            for (col, value) in row {
                out.add(&keys[usize::from(*col)], value);
            }
        }
    }

    /// Adds the rows of every field of the table found in `event`.
    pub fn enrich(&self, event: &mut Event) {
        for (i, field) in self.fields.iter().enumerate() {
            if let Some(value) = event.get(field.as_str()).cloned() {
                self.enrich_value(i, &value, event);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::event_from_value;
    use serde_json::json;

    fn spec(dir: &Path, name: &str, body: &str, fields: &[&str]) -> TableSpec {
        let file = dir.join(name);
        std::fs::write(&file, body).unwrap();
        TableSpec {
            name: "users".into(),
            file,
            fields: fields.iter().map(|f| f.to_string()).collect(),
            key_column: None,
        }
    }

    #[test]
    fn csv_table_enriches_by_field_value() {
        let dir = tempfile::tempdir().unwrap();
        let s = spec(dir.path(), "u.csv", "user,department,manager\nalice,finance,bob\nbob,it,\n", &["user"]);
        let (table, warnings) = LookupTable::load(&s).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let mut e = event_from_value(json!({"user": "alice"})).unwrap();
        table.enrich(&mut e);
        assert_eq!(e["enrichments.users.user.department"], "finance");
        assert_eq!(e["enrichments.users.user.manager"], "bob");
        let mut e = event_from_value(json!({"user": "bob"})).unwrap();
        table.enrich(&mut e);
        assert_eq!(e["enrichments.users.user.department"], "it");
        assert!(!e.contains_key("enrichments.users.user.manager"), "empty cells add nothing");
        let mut e = event_from_value(json!({"user": "carol", "other": 1})).unwrap();
        let before = e.clone();
        table.enrich(&mut e);
        assert_eq!(e, before);
    }

    #[test]
    fn malformed_rows_are_reported_with_file_and_line_and_the_rest_load() {
        let dir = tempfile::tempdir().unwrap();
        let body = "domain,category\nexample.com,news\nbad-row\n,empty-key\nevil.test,malware\nexample.com,again\n";
        let s = spec(dir.path(), "d.csv", body, &["query"]);
        let (table, warnings) = LookupTable::load(&s).unwrap();
        assert_eq!(table.len(), 2);
        let path = s.file.display().to_string();
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings[0].starts_with(&format!("{path}:3:")), "{warnings:?}");
        assert!(warnings[1].starts_with(&format!("{path}:4:")), "{warnings:?}");
        assert!(warnings[2].starts_with(&format!("{path}:2:")) && warnings[2].contains("line 6"), "{warnings:?}");
        let mut e = event_from_value(json!({"query": "example.com"})).unwrap();
        table.enrich(&mut e);
        assert_eq!(e["enrichments.users.query.category"], "again");
    }

    #[test]
    fn ndjson_table_keeps_value_types() {
        let dir = tempfile::tempdir().unwrap();
        let body = "{\"uid\": 1001, \"name\": \"alice\", \"admin\": true}\nnot json\n{\"name\": \"nokey\"}\n";
        let mut s = spec(dir.path(), "u.ndjson", body, &["user_id"]);
        s.key_column = Some("uid".into());
        let (table, warnings) = LookupTable::load(&s).unwrap();
        assert_eq!(table.len(), 1);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains(":2:"), "{warnings:?}");
        let mut e = event_from_value(json!({"user_id": 1001})).unwrap();
        table.enrich(&mut e);
        assert_eq!(e["enrichments.users.user_id.admin"], true);
        assert_eq!(e["enrichments.users.user_id.name"], "alice");
    }

    #[test]
    fn a_file_without_rows_or_key_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let s = spec(dir.path(), "empty.csv", "", &["user"]);
        assert!(LookupTable::load(&s).unwrap_err().to_string().contains("empty.csv"));
        let mut s = spec(dir.path(), "k.csv", "a,b\n1,2\n", &["user"]);
        s.key_column = Some("user".into());
        let err = LookupTable::load(&s).unwrap_err().to_string();
        assert!(err.contains("k.csv") && err.contains("no key column"), "{err}");
        let s = TableSpec { file: dir.path().join("missing.csv"), ..s };
        assert!(LookupTable::load(&s).unwrap_err().to_string().contains("missing.csv"));
    }

    #[test]
    fn table_flag_parses_and_validates() {
        let s = TableSpec::parse_flag("users=/data/u.csv:user,src_user").unwrap();
        assert_eq!(s.name, "users");
        assert_eq!(s.file, PathBuf::from("/data/u.csv"));
        assert_eq!(s.fields, ["user", "src_user"]);
        assert!(s.validate().is_empty());
        assert!(TableSpec::parse_flag("users.csv").is_err());
        assert!(TableSpec::parse_flag("users=u.csv").is_err());
        let geo = TableSpec::parse_flag("geo=g.csv:x").unwrap();
        assert_eq!(geo.validate().len(), 1);
    }
}
