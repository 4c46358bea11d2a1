//! Zeek (Bro) logs: TSV with `#fields`/`#types` headers, JSON (one flat object per
//! line, ts as epoch or ISO 8601), and Apache Metron's wrapped form `{"http": {...}}`.
//! TSV and JSON of the same log give the same events.

use super::{json_object, FormatSpec, ParseError, Parser};
use crate::event::{epoch_ms_from_secs_str, fields, parse_rfc3339_ms, Event};
use serde_json::{Number, Value};

/// The registry's entry.
pub(super) const FORMAT: FormatSpec = FormatSpec {
    name: "zeek",
    aliases: &["bro"],
    about: "Zeek TSV (`#fields`/`#types`, any log), Zeek JSON (epoch or ISO `ts`), Metron's `{\"http\":{...}}`",
    source_type: "zeek.<log>",
    sniff,
    syslog_body: None,
    build: |file| Box::new(ZeekParser::new(file)),
};

/// A TSV header, or a JSON object with Zeek's names (and no EVE `event_type`).
fn sniff(line: &str) -> bool {
    if line.starts_with("#separator") || line.starts_with("#fields") || line.starts_with("#path") {
        return true;
    }
    let Some(map) = super::sniff_json(line) else { return false };
    if map.contains_key("event_type") {
        return false;
    }
    if map.contains_key("id.orig_h") || map.contains_key("_path") || (map.contains_key("ts") && map.contains_key("uid"))
    {
        return true;
    }
    // Metron's wrapped form: `{"http": {"ts": ...}}`.
    map.len() == 1 && matches!(map.values().next(), Some(Value::Object(inner)) if inner.contains_key("ts"))
}

/// Zeek's connection-tuple names and ours.
const RENAMES: [(&str, &str); 4] = [
    ("id.orig_h", fields::IP_SRC_ADDR),
    ("id.resp_h", fields::IP_DST_ADDR),
    ("id.orig_p", fields::IP_SRC_PORT),
    ("id.resp_p", fields::IP_DST_PORT),
];

/// Logs whose protocol is always TCP although they carry no `proto` column; giving
/// them `protocol` gives them the same `community_id` as their conn.log entry.
const TCP_LOGS: [&str; 12] =
    ["http", "ssl", "ssh", "smtp", "ftp", "rdp", "rfb", "irc", "socks", "mysql", "pop3", "imap"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Int,
    Double,
    Time,
    Bool,
}

#[derive(Debug, Clone)]
struct Column {
    /// The name in the event: Zeek's, or ours for the connection tuple.
    name: String,
    /// `"name":` as JSON, made once per header for the direct path.
    key_json: Vec<u8>,
    kind: Kind,
    container: bool,
}

/// Parser state: the TSV header seen so far (a file may hold several headers, e.g.
/// after `cat`-ing rotated logs).
pub struct ZeekParser {
    /// The log name from the file name, used when the log does not say.
    file_log: Option<String>,
    separator: String,
    set_separator: String,
    empty_field: String,
    unset_field: String,
    path: Option<String>,
    columns: Vec<Column>,
    /// Which column holds `ts`, whose text gives `timestamp` without float rounding.
    ts_index: Option<usize>,
    source_type: String,
    /// Whether TSV lines of the current header can be written straight as NDJSON
    /// (see [`ZeekParser::write_tsv_ndjson`]).
    direct: bool,
}

impl ZeekParser {
    pub fn new(file_name: Option<&str>) -> ZeekParser {
        let file_log = file_name.and_then(log_name_from_file);
        let source_type = format!("zeek.{}", file_log.as_deref().unwrap_or("unknown"));
        ZeekParser {
            file_log,
            separator: "\t".into(),
            set_separator: ",".into(),
            empty_field: "(empty)".into(),
            unset_field: "-".into(),
            path: None,
            columns: Vec::new(),
            ts_index: None,
            source_type,
            direct: false,
        }
    }

    fn header(&mut self, line: &str) -> Result<(), ParseError> {
        if let Some(sep) = line.strip_prefix("#separator ") {
            self.separator = unescape_header(sep.trim_end());
            // A new header block begins: forget the old columns.
            self.columns.clear();
            self.direct = false;
            return Ok(());
        }
        let mut parts = line.splitn(2, self.separator.as_str());
        let key = parts.next().unwrap_or("");
        let value = parts.next().unwrap_or("");
        match key {
            "#set_separator" => self.set_separator = unescape_header(value),
            "#empty_field" => self.empty_field = value.to_owned(),
            "#unset_field" => self.unset_field = value.to_owned(),
            "#path" => {
                self.path = Some(value.to_owned());
                self.source_type = format!("zeek.{value}");
            }
            "#fields" => {
                self.columns = value
                    .split(self.separator.as_str())
                    .map(|n| {
                        let name = output_name(n).to_owned();
                        let mut key_json = serde_json::to_vec(&name).unwrap_or_default();
                        key_json.push(b':');
                        Column { name, key_json, kind: Kind::Str, container: false }
                    })
                    .collect();
                self.ts_index = self.columns.iter().position(|c| c.name == "ts");
            }
            "#types" => {
                let types: Vec<&str> = value.split(self.separator.as_str()).collect();
                if types.len() != self.columns.len() {
                    return Err(ParseError::invalid(format!(
                        "#types has {} entries but #fields has {}",
                        types.len(),
                        self.columns.len()
                    )));
                }
                for (col, ty) in self.columns.iter_mut().zip(types) {
                    let (container, inner) = match ty.split_once('[') {
                        Some((_, rest)) => (true, rest.trim_end_matches(']')),
                        None => (false, ty),
                    };
                    col.container = container;
                    col.kind = kind_of(inner);
                }
            }
            _ => {} // #open, #close, comments
        }
        self.direct = self.direct_possible();
        Ok(())
    }

    /// The direct path writes what the event path would build, field by field, so it
    /// is used only where the event path has no case of its own to take: unique column
    /// names, none of them one of the fields added after the columns, a `ts` column,
    /// and not files.log (whose hosts come from lists).
    fn direct_possible(&self) -> bool {
        const ADDED: [&str; 6] = [
            fields::TIMESTAMP,
            fields::PROTOCOL,
            fields::SOURCE_TYPE,
            fields::ORIGINAL_STRING,
            fields::GUID,
            fields::COMMUNITY_ID,
        ];
        let mut names = std::collections::HashSet::new();
        self.ts_index.is_some()
            && self.source_type != "zeek.files"
            && self.columns.iter().all(|c| !ADDED.contains(&c.name.as_str()) && names.insert(c.name.as_str()))
    }

    fn tsv_line(&mut self, line: &str, out: &mut Vec<Event>) -> Result<(), ParseError> {
        if self.columns.is_empty() {
            return Err(ParseError::error("Zeek TSV data line before any #fields header"));
        }
        let mut event = crate::event::event_with_capacity(self.columns.len() + 6);
        let mut found = 0;
        let mut ms = None;
        let sep = self.separator.as_str();
        // A one-character separator (Zeek's tab) splits with memchr, not a substring search.
        let values: Box<dyn Iterator<Item = &str>> = match sep.as_bytes() {
            [c] if c.is_ascii() => Box::new(line.split(char::from(*c))),
            _ => Box::new(line.split(sep)),
        };
        for (i, value) in values.enumerate() {
            found += 1;
            let Some(col) = self.columns.get(i) else { continue };
            if Some(i) == self.ts_index {
                ms = epoch_ms_from_secs_str(value);
                // `timestamp` leads the event, where a reader looks first.
                if let Some(ms) = ms {
                    event.insert(fields::TIMESTAMP.to_owned(), Value::from(ms));
                }
            }
            if value == self.unset_field {
                continue;
            }
            let converted = if col.container {
                if value == self.empty_field {
                    Value::Array(Vec::new())
                } else {
                    let items: Result<Vec<Value>, ParseError> =
                        value.split(self.set_separator.as_str()).map(|v| convert(col, v)).collect();
                    Value::Array(items?)
                }
            } else {
                convert(col, value)?
            };
            event.insert(col.name.clone(), converted);
        }
        if found != self.columns.len() {
            return Err(ParseError::invalid(format!("expected {} columns, found {found}", self.columns.len())));
        }
        self.normalize(event, ms, true, out)
    }

    /// One TSV data line straight to NDJSON, without building the event: the same
    /// bytes as the event path (`tsv_line`, `normalize`, then the stage's `complete`)
    /// but for the random guid; tests check that on every Zeek log in testdata. False
    /// when this line needs the event path, which then also reports any error in it.
    fn write_tsv_ndjson(&self, line: &str, out: &mut Vec<u8>) -> bool {
        let start = out.len();
        if self.write_tsv_ndjson_inner(line, out).is_none() {
            out.truncate(start);
            return false;
        }
        true
    }

    fn write_tsv_ndjson_inner(&self, line: &str, out: &mut Vec<u8>) -> Option<()> {
        let mut found = 0;
        let mut ms = None;
        let mut first = true;
        let mut tuple = Tuple::default();
        out.push(b'{');
        for (i, value) in self.split_fields(line).enumerate() {
            found += 1;
            let col = self.columns.get(i)?;
            if Some(i) == self.ts_index {
                ms = Some(epoch_ms_from_secs_str(value)?);
                write_key(out, &mut first, fields::TIMESTAMP);
                write_json(out, &ms?)?;
            }
            if value == self.unset_field {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(&col.key_json);
            if col.container {
                self.write_container(out, col, value)?;
            } else {
                write_field(out, col, value, &mut tuple)?;
            }
        }
        if found != self.columns.len() {
            return None;
        }
        ms?;
        self.write_standard(out, &mut first, line, tuple)?;
        out.extend_from_slice(b"}\n");
        Some(())
    }

    /// A TSV line's fields. Fields are short: a plain byte loop finds the next tab
    /// sooner than a searcher.
    #[inline]
    fn split_fields<'a>(&'a self, line: &'a str) -> Box<dyn Iterator<Item = &'a str> + 'a> {
        match self.separator.as_bytes() {
            [c] if c.is_ascii() => {
                let c = *c;
                let bytes = line.as_bytes();
                let mut start = 0;
                let mut done = false;
                Box::new(std::iter::from_fn(move || {
                    if done {
                        return None;
                    }
                    let end = bytes[start..].iter().position(|&b| b == c).map_or(bytes.len(), |p| start + p);
                    done = end == bytes.len();
                    // The separator is ASCII, so both ends are character boundaries.
                    let field = line.get(start..end);
                    start = end + 1;
                    field
                }))
            }
            _ => Box::new(line.split(self.separator.as_str())),
        }
    }

    /// A set or vector as a JSON array of its items.
    #[inline]
    fn write_container(&self, out: &mut Vec<u8>, col: &Column, value: &str) -> Option<()> {
        out.push(b'[');
        if value != self.empty_field {
            for (j, item) in value.split(self.set_separator.as_str()).enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                write_value(out, col, item)?;
            }
        }
        out.push(b']');
        Some(())
    }

    /// The fields every event gets after the log's own: `protocol` (where the log
    /// has none but is a TCP log), `source.type`, `original_string`, `guid`, and
    /// `community_id` when the 5-tuple is whole.
    #[inline]
    fn write_standard(&self, out: &mut Vec<u8>, first: &mut bool, line: &str, tuple: Tuple) -> Option<()> {
        let tcp_log = self.source_type.strip_prefix("zeek.").is_some_and(|log| TCP_LOGS.contains(&log));
        let protocol = match tuple.proto {
            Some(p) => Some(p),
            None if tcp_log && tuple.sport.is_some() => Some("tcp".to_owned()),
            None => None,
        };
        if let Some(p) = &protocol {
            write_key(out, first, fields::PROTOCOL);
            write_str(out, p)?;
        }
        write_key(out, first, fields::SOURCE_TYPE);
        write_str(out, &self.source_type)?;
        write_key(out, first, fields::ORIGINAL_STRING);
        write_str(out, line)?;
        write_key(out, first, fields::GUID);
        write_str(out, &crate::event::new_guid())?;
        if let (Some(src), Some(dst), Some(number)) =
            (tuple.src, tuple.dst, protocol.as_deref().and_then(crate::event::protocol_number))
        {
            let ports = match (tuple.sport, tuple.dport) {
                (Some(s), Some(d)) => Some((s, d)),
                _ => None,
            };
            if !(matches!(number, 6 | 17 | 132 | 1 | 58) && ports.is_none()) {
                write_key(out, first, fields::COMMUNITY_ID);
                write_str(out, &crate::event::community_id(0, src, dst, number, ports))?;
            }
        }
        Some(())
    }

    fn json_line(&mut self, line: &str, out: &mut Vec<Event>) -> Result<(), ParseError> {
        let mut object = json_object(line)?;
        let mut log = None;
        // Metron's wrapped form: one key, an object inside.
        if object.len() == 1 {
            if let Some((key, Value::Object(_))) = object.iter().next() {
                let key = key.clone();
                if let Some(Value::Object(inner)) = object.shift_remove(&key) {
                    object = inner.into_iter().collect();
                    log = Some(key);
                }
            }
        }
        if let Some(Value::String(path)) = object.shift_remove("_path") {
            log.get_or_insert(path);
        }
        let ms = match object.get("ts") {
            Some(Value::Number(n)) => epoch_ms_from_secs_str(&n.to_string()),
            Some(Value::String(s)) => parse_rfc3339_ms(s),
            _ => None,
        };
        // ISO 8601 times (JSON streaming logs) become epoch seconds, as in TSV.
        for value in object.values_mut() {
            if let Value::String(s) = value {
                if looks_like_iso_time(s) {
                    if let Some(secs) = iso_to_epoch_secs(s) {
                        *value = secs;
                    }
                }
            }
        }
        let source_type = match log.as_deref().or(self.path.as_deref()).or(self.file_log.as_deref()) {
            Some(l) => format!("zeek.{l}"),
            None => "zeek.unknown".to_owned(),
        };
        let saved = std::mem::replace(&mut self.source_type, source_type);
        let result = self.normalize(object, ms, false, out);
        self.source_type = saved;
        result
    }

    /// The parts every Zeek event shares, whatever its encoding.
    fn normalize(
        &self,
        mut event: Event,
        ms: Option<i64>,
        renamed: bool,
        out: &mut Vec<Event>,
    ) -> Result<(), ParseError> {
        let Some(ms) = ms else {
            return Err(ParseError::invalid("no valid ts field"));
        };
        // TSV columns were renamed once, at `#fields`; JSON keys are renamed here.
        if !renamed {
            for (from, to) in RENAMES {
                if let Some(v) = event.shift_remove(from) {
                    event.insert(to.to_owned(), v);
                }
            }
        }
        // files.log names its hosts in lists (as Apache Metron read them: the first one).
        if self.source_type == "zeek.files" {
            for (list, key) in [("tx_hosts", fields::IP_SRC_ADDR), ("rx_hosts", fields::IP_DST_ADDR)] {
                if !event.contains_key(key) {
                    if let Some(first) = event.get(list).and_then(Value::as_array).and_then(|a| a.first()).cloned() {
                        event.insert(key.to_owned(), first);
                    }
                }
            }
        }
        for key in [fields::IP_SRC_ADDR, fields::IP_DST_ADDR] {
            if let Some(Value::String(ip)) = event.get_mut(key) {
                if !crate::event::canonicalize_ip_in_place(ip) {
                    return Err(ParseError::invalid(format!("{key} is not an IP address: {ip:?}")));
                }
            }
        }
        // Zeek's `proto` stays (sensor fields keep their names, and Metron kept it too);
        // `protocol` is the standard field every stage reads.
        if !event.contains_key(fields::PROTOCOL) {
            let protocol = match event.get("proto") {
                Some(proto) => Some(proto.clone()),
                None => {
                    let tcp_log = self.source_type.strip_prefix("zeek.").is_some_and(|log| TCP_LOGS.contains(&log));
                    (tcp_log && event.contains_key(fields::IP_SRC_PORT)).then(|| Value::from("tcp"))
                }
            };
            if let Some(protocol) = protocol {
                event.insert(fields::PROTOCOL.to_owned(), protocol);
            }
        }
        event.insert(fields::TIMESTAMP.to_owned(), Value::from(ms));
        event.insert(fields::SOURCE_TYPE.to_owned(), Value::from(self.source_type.clone()));
        out.push(event);
        Ok(())
    }
}

impl Parser for ZeekParser {
    fn parse(&mut self, line: &str, out: &mut Vec<Event>) -> Result<(), ParseError> {
        match line.as_bytes().first() {
            None => Ok(()),
            Some(b'#') => self.header(line),
            Some(b'{') => self.json_line(line, out),
            Some(_) => self.tsv_line(line, out),
        }
    }

    fn write_ndjson(&mut self, line: &str, out: &mut Vec<u8>) -> bool {
        self.direct && !matches!(line.as_bytes().first(), None | Some(b'#' | b'{')) && self.write_tsv_ndjson(line, out)
    }
}

/// What the standard fields of a TSV line said, for the fields written after them.
#[derive(Default)]
struct Tuple {
    src: Option<std::net::IpAddr>,
    dst: Option<std::net::IpAddr>,
    proto: Option<String>,
    sport: Option<u16>,
    dport: Option<u16>,
}

/// One field's value: addresses in canonical form and ports kept for the 5-tuple.
#[inline]
fn write_field(out: &mut Vec<u8>, col: &Column, value: &str, tuple: &mut Tuple) -> Option<()> {
    match col.name.as_str() {
        fields::IP_SRC_ADDR | fields::IP_DST_ADDR if col.kind == Kind::Str => {
            let text: std::borrow::Cow<'_, str> =
                if value.contains('\\') { unescape(value).into() } else { value.into() };
            let trimmed = text.trim();
            let ip: std::net::IpAddr = trimmed.parse().ok()?;
            // As `canonical_ip`: dotted IPv4 that parses is canonical already.
            match ip {
                std::net::IpAddr::V4(_) => write_str(out, trimmed)?,
                std::net::IpAddr::V6(v6) => write_str(out, &v6.to_string())?,
            }
            if col.name == fields::IP_SRC_ADDR {
                tuple.src = Some(ip);
            } else {
                tuple.dst = Some(ip);
            }
        }
        fields::IP_SRC_PORT | fields::IP_DST_PORT if col.kind == Kind::Int => {
            let port: u64 = value.parse().ok()?;
            write_json(out, &port)?;
            let port = u16::try_from(port).ok();
            if col.name == fields::IP_SRC_PORT {
                tuple.sport = port;
            } else {
                tuple.dport = port;
            }
        }
        "proto" if col.kind == Kind::Str => {
            let text = if value.contains('\\') { unescape(value) } else { value.to_owned() };
            write_str(out, &text)?;
            tuple.proto = Some(text);
        }
        _ => write_value(out, col, value)?,
    }
    Some(())
}

fn write_key(out: &mut Vec<u8>, first: &mut bool, key: &str) {
    if !*first {
        out.push(b',');
    }
    *first = false;
    // Field names from a header are arbitrary text: escaped as serde_json escapes them.
    let _ = serde_json::to_writer(&mut *out, key);
    out.push(b':');
}

/// Writes through serde_json, so numbers and escapes are exactly the event path's.
fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Option<()> {
    serde_json::to_writer(out, value).ok()
}

/// A string as JSON, escaped byte for byte as serde_json escapes (a property test
/// checks it): runs of plain bytes are copied whole, which matters for
/// `original_string`, whose tabs are its only escapes.
fn write_str(out: &mut Vec<u8>, value: &str) -> Option<()> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // What follows the backslash for each byte; b'u' for \u00XX; 0 for none.
    const ESCAPE: [u8; 256] = {
        let mut table = [0u8; 256];
        let mut i = 0;
        while i < 0x20 {
            table[i] = b'u';
            i += 1;
        }
        table[0x08] = b'b';
        table[0x09] = b't';
        table[0x0a] = b'n';
        table[0x0c] = b'f';
        table[0x0d] = b'r';
        table[b'"' as usize] = b'"';
        table[b'\\' as usize] = b'\\';
        table
    };
    let bytes = value.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape = ESCAPE[usize::from(b)];
        if escape == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[run..i]);
        run = i + 1;
        if escape == b'u' {
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]);
        } else {
            out.extend_from_slice(&[b'\\', escape]);
        }
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
    Some(())
}

/// One value as `convert` would make it, written; `None` where `convert` fails.
fn write_value(out: &mut Vec<u8>, col: &Column, value: &str) -> Option<()> {
    match col.kind {
        Kind::Str if value.contains('\\') => write_str(out, &unescape(value)),
        Kind::Str => write_str(out, value),
        Kind::Bool => {
            out.extend_from_slice(match value {
                "T" => b"true",
                "F" => b"false",
                _ => return None,
            });
            Some(())
        }
        // As `convert`, without the `Value` in between.
        Kind::Int => match value.parse::<u64>() {
            Ok(n) => write_json(out, &n),
            Err(_) => write_json(out, &value.parse::<i64>().ok()?),
        },
        Kind::Double | Kind::Time => {
            let f: f64 = value.parse().ok()?;
            if !f.is_finite() {
                return None;
            }
            write_json(out, &f)
        }
    }
}

/// Our name for a Zeek column: the connection tuple is renamed as Apache Metron did.
fn output_name(zeek_name: &str) -> &str {
    RENAMES.iter().find(|(from, _)| *from == zeek_name).map_or(zeek_name, |(_, to)| to)
}

fn kind_of(zeek_type: &str) -> Kind {
    match zeek_type {
        "count" | "int" | "port" => Kind::Int,
        "double" | "interval" => Kind::Double,
        "time" => Kind::Time,
        "bool" => Kind::Bool,
        _ => Kind::Str,
    }
}

fn convert(col: &Column, value: &str) -> Result<Value, ParseError> {
    let bad = || ParseError::invalid(format!("field {} is not a valid {:?}: {value:?}", col.name, col.kind));
    Ok(match col.kind {
        Kind::Str => Value::String(if value.contains('\\') { unescape(value) } else { value.to_owned() }),
        Kind::Int => {
            if let Ok(n) = value.parse::<u64>() {
                Value::from(n)
            } else {
                Value::from(value.parse::<i64>().map_err(|_| bad())?)
            }
        }
        Kind::Double | Kind::Time => {
            let f: f64 = value.parse().map_err(|_| bad())?;
            Value::Number(Number::from_f64(f).ok_or_else(bad)?)
        }
        Kind::Bool => match value {
            "T" => Value::Bool(true),
            "F" => Value::Bool(false),
            _ => return Err(bad()),
        },
    })
}

/// Zeek's TSV writer escapes `\` as `\\` and non-printable bytes (and the separator)
/// as `\xHH`; its JSON writer writes the characters themselves.
fn unescape(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            match bytes.get(i + 1) {
                Some(b'\\') => {
                    out.push(b'\\');
                    i += 2;
                    continue;
                }
                Some(b'x') => {
                    let hex = bytes.get(i + 2..i + 4).and_then(|h| std::str::from_utf8(h).ok());
                    if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        out.push(b);
                        i += 4;
                        continue;
                    }
                }
                _ => {}
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn unescape_header(value: &str) -> String {
    unescape(value)
}

/// `conn.log`, `conn.00:00:00-01:00:00.log.gz`, `zeek-http-get.pcap.conn.log` -> `conn`.
pub fn log_name_from_file(name: &str) -> Option<String> {
    let base = std::path::Path::new(name).file_name()?.to_str()?;
    let base = base.trim_end_matches(".gz").trim_end_matches(".zst");
    let stem = base.strip_suffix(".log").or_else(|| base.strip_suffix(".json"))?;
    let parts: Vec<&str> = stem.split('.').collect();
    // Rotated names put a time after the log name; otherwise the log name is last.
    let pick = if parts.len() > 1
        && parts.last().is_some_and(|p| p.contains(':') || p.contains('-') && p.chars().any(|c| c.is_ascii_digit()))
    {
        parts[parts.len() - 2]
    } else {
        parts[parts.len() - 1]
    };
    (!pick.is_empty() && pick.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then(|| pick.to_owned())
}

fn looks_like_iso_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20 && b.len() <= 35 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' && s.ends_with('Z')
}

/// `2018-03-24T17:15:20.865716Z` -> 1521911720.865716, exactly as Zeek's TSV writes it
/// (microseconds are computed as integers, then divided once).
fn iso_to_epoch_secs(s: &str) -> Option<Value> {
    let t = chrono::DateTime::parse_from_rfc3339(s).ok()?;
    let micros = t.timestamp_micros();
    Number::from_f64(micros as f64 / 1e6).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(parser: &mut ZeekParser, text: &str) -> Vec<Event> {
        let mut out = Vec::new();
        for line in text.lines() {
            parser.parse(line, &mut out).unwrap();
        }
        out
    }

    #[test]
    fn tsv_types_are_converted() {
        let text = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n\
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\trtt\tAA\tanswers\tTTLs\tquery\n\
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tinterval\tbool\tvector[string]\tvector[interval]\tstring\n\
1521911720.865716\tCq\t10.47.1.100\t41772\t10.0.0.100\t53\tudp\t0.000870\tF\ta.b,1.2.3.4\t2230.000000,41830.000000\t-\n\
1521911720.865716\tCr\t10.47.1.100\t41772\t10.0.0.100\t53\tudp\t-\tT\t(empty)\t(empty)\tx\\x41y\n";
        let events = parse_all(&mut ZeekParser::new(None), text);
        assert_eq!(events.len(), 2);
        let e = &events[0];
        assert_eq!(e["source.type"], "zeek.dns");
        assert_eq!(e["timestamp"], 1_521_911_720_865i64);
        assert_eq!(e["ip_src_addr"], "10.47.1.100");
        assert_eq!(e["ip_dst_port"], 53);
        assert_eq!(e["protocol"], "udp");
        assert_eq!(e["AA"], false);
        assert_eq!(e["answers"], serde_json::json!(["a.b", "1.2.3.4"]));
        assert_eq!(e["TTLs"], serde_json::json!([2230.0, 41830.0]));
        assert!(!e.contains_key("query"), "unset field must be absent");
        assert!(!e.contains_key("id.orig_h"));
        assert_eq!(events[1]["answers"], serde_json::json!([]));
        assert_eq!(events[1]["query"], "xAy");
    }

    #[test]
    fn wrong_column_count_is_an_error() {
        let mut p = ZeekParser::new(None);
        let mut out = Vec::new();
        p.parse("#fields\tts\tuid", &mut out).unwrap();
        p.parse("#types\ttime\tstring", &mut out).unwrap();
        let err = p.parse("1.0\ta\tb", &mut out).unwrap_err();
        assert!(err.message.contains("expected 2 columns, found 3"), "{}", err.message);
    }

    #[test]
    fn log_name_from_file_names() {
        assert_eq!(log_name_from_file("conn.log").as_deref(), Some("conn"));
        assert_eq!(log_name_from_file("/x/zeek-http-get.pcap.http.log").as_deref(), Some("http"));
        assert_eq!(log_name_from_file("dns.00:00:00-01:00:00.log.gz").as_deref(), Some("dns"));
        assert_eq!(log_name_from_file("ssl.json").as_deref(), Some("ssl"));
        assert_eq!(log_name_from_file("notes.txt"), None);
    }

    proptest::proptest! {
        /// The direct path's string writer is serde_json's, byte for byte.
        #[test]
        fn write_str_escapes_as_serde_json(text in "(?s).{0,64}", ctrl in proptest::collection::vec(0u8..0x20, 0..8)) {
            let mut text = text;
            text.extend(ctrl.into_iter().map(char::from));
            text.push_str("\"\\\u{7f}é");
            let mut ours = Vec::new();
            write_str(&mut ours, &text).unwrap();
            proptest::prop_assert_eq!(String::from_utf8(ours).unwrap(), serde_json::to_string(&text).unwrap());
        }
    }

    #[test]
    fn iso_times_match_tsv_epochs_exactly() {
        let from_iso = iso_to_epoch_secs("2018-03-24T17:15:20.865716Z").unwrap();
        let from_tsv: f64 = "1521911720.865716".parse().unwrap();
        assert_eq!(from_iso.as_f64(), Some(from_tsv));
    }
}
