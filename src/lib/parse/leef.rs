//! IBM QRadar's Log Event Extended Format (LEEF) 1.0 and 2.0, alone or behind a syslog
//! header. Header fields take the names Apache Metron's LEEFParser gave them;
//! attributes keep their own names, except the 5-tuple.

use super::normalize::{move_ip, move_port, move_protocol};
use super::pairs::split_pairs;
use super::syslog_header::{self, add_pri_names};
use super::{FormatSpec, ParseError, Parser};
use crate::event::get_str;
use crate::event::{fields, now_ms, parse_device_time_ms, Event};
use chrono::{DateTime, NaiveDateTime};
use serde_json::Value;

/// The registry's entry.
pub(super) const FORMAT: FormatSpec = FormatSpec {
    name: "leef",
    aliases: &[],
    about: "IBM LEEF 1.0/2.0, with or without a syslog header",
    source_type: "leef",
    sniff: |line| {
        line.starts_with("LEEF:")
            || (syslog_header::looks_like_syslog(line) && line.contains("LEEF:"))
            || line.contains("LEEF:1.0|")
            || line.contains("LEEF:2.0|")
    },
    syslog_body: Some(|body| body.starts_with("LEEF:")),
    build: |_| Box::new(LeefParser::new()),
};

/// Metron's names for the four header fields after the version.
const HEADER_NAMES: [&str; 4] = ["DeviceVendor", "DeviceProduct", "DeviceVersion", "DeviceEvent"];

#[derive(Default)]
pub struct LeefParser;

impl LeefParser {
    pub fn new() -> LeefParser {
        LeefParser
    }
}

impl Parser for LeefParser {
    fn parse(&mut self, line: &str, out: &mut Vec<Event>) -> Result<(), ParseError> {
        let Some(at) = line.find("LEEF:") else {
            return Err(ParseError::error("no LEEF: header"));
        };
        let header = syslog_header::parse_prefix(&line[..at])?;
        let body = &line[at + 5..];
        let mut parts = body.splitn(6, '|');
        let head: Vec<&str> = parts.by_ref().take(5).collect();
        let rest = match parts.next() {
            Some(rest) => rest,
            // A record without attributes may end at the event id, without the last `|`.
            None if head.len() == 5 => "",
            None => {
                return Err(ParseError::invalid(format!("LEEF header has {} of its 5 |-separated fields", head.len())))
            }
        };
        let version = head[0].trim();
        if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(ParseError::invalid(format!("LEEF version is not a number: {version:?}")));
        }
        let (delimiter, attributes) = delimiter_and_attributes(version, rest);
        let mut event = crate::event::event_with_capacity(32);
        for (name, value) in HEADER_NAMES.iter().zip(&head[1..]) {
            event.insert((*name).to_owned(), Value::from(*value));
        }
        for (key, value) in attributes_of(attributes, delimiter) {
            event.insert(key.to_owned(), Value::from(value));
        }
        move_ip(&mut event, "src", fields::IP_SRC_ADDR);
        move_ip(&mut event, "dst", fields::IP_DST_ADDR);
        move_port(&mut event, "srcPort", fields::IP_SRC_PORT);
        move_port(&mut event, "dstPort", fields::IP_DST_PORT);
        move_protocol(&mut event, "proto");
        // A devTime that cannot be read falls back to the syslog time, then to now (Metron
        // made it an error): the raw value stays in its field, the event is not lost.
        let format = get_str(&event, "devTimeFormat");
        let device_time = get_str(&event, "devTime").and_then(|t| dev_time_ms(t, format));
        let ms = device_time.or(header.as_ref().and_then(|h| h.time_ms)).unwrap_or_else(now_ms);
        event.insert(fields::TIMESTAMP.into(), Value::from(ms));
        if let Some(h) = &header {
            if let Some(host) = h.host {
                event.insert("host".into(), Value::from(host));
            }
            if let Some(pri) = h.pri {
                add_pri_names(&mut event, pri);
            }
        }
        event.insert(fields::SOURCE_TYPE.into(), Value::from("leef"));
        out.push(event);
        Ok(())
    }
}

/// LEEF 2.0 may name its delimiter in a sixth header field (`^`, `x7C`, `0x09`); when
/// that field is missing, as in Trend Micro's records, the attributes start right
/// there and the delimiter is a tab, LEEF 1.0's.
fn delimiter_and_attributes<'a>(version: &str, rest: &'a str) -> (char, &'a str) {
    let attributes = |s: &'a str| s.strip_prefix(' ').unwrap_or(s);
    if !version.starts_with('2') {
        return ('\t', attributes(rest));
    }
    if let Some((field, after)) = rest.split_once('|') {
        if let Some(d) = delimiter_from(field) {
            return (d, attributes(after));
        }
    }
    ('\t', attributes(rest))
}

fn delimiter_from(field: &str) -> Option<char> {
    if field.contains('=') {
        return None;
    }
    if field.is_empty() || field == "\\t" {
        return Some('\t');
    }
    let mut chars = field.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Some(c);
    }
    let hex =
        field.strip_prefix("0x").or_else(|| field.strip_prefix("0X")).or_else(|| field.strip_prefix(['x', 'X']))?;
    if hex.is_empty() || hex.len() > 4 {
        return None;
    }
    u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
}

/// The attributes between delimiters. Two habits of real senders are undone here:
/// rsyslog writes a tab inside a message as `#011` (so with the tab delimiter it
/// delimits), and some devices separate some
/// attributes with a space instead of the delimiter (Trend Micro's `sev=8 cn1=37`), so
/// within one delimited attribute a space followed by `key=` starts another, as in CEF.
/// Values are otherwise kept as written (LEEF defines no escapes; `\n` stays two
/// characters, as Metron kept it). An attribute without `=` is not a key and value, so
/// it is skipped rather than failing the record; empty values are left out.
fn attributes_of(text: &str, delimiter: char) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    for attribute in split_unescaped(text, delimiter) {
        let pieces: Vec<&str> = if delimiter == '\t' { attribute.split("#011").collect() } else { vec![attribute] };
        for piece in pieces {
            let piece = piece.trim_start();
            if piece.is_empty() {
                continue;
            }
            for (key, value) in split_pairs(piece) {
                if !value.is_empty() {
                    out.push((key, value));
                }
            }
        }
    }
    out
}

/// Splits on `delimiter` unless a backslash escapes it (Metron split on `(?<!\\)d`).
fn split_unescaped(text: &str, delimiter: char) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut previous = None;
    for (i, c) in text.char_indices() {
        if c == delimiter && previous != Some('\\') {
            pieces.push(&text[start..i]);
            start = i + c.len_utf8();
        }
        previous = Some(c);
    }
    pieces.push(&text[start..]);
    pieces
}

/// `devTime` by its `devTimeFormat` (a Java date pattern) when one is given and can be
/// followed, else by the forms LEEF allows (epoch milliseconds, `MMM dd yyyy
/// HH:mm:ss[.SSS] [zzz]`) and the others devices use.
fn dev_time_ms(text: &str, format: Option<&str>) -> Option<i64> {
    if let Some(chrono_format) = format.and_then(java_to_chrono) {
        let text = text.trim();
        if chrono_format.contains("%z") || chrono_format.contains("%:z") {
            if let Ok(t) = DateTime::parse_from_str(text, &chrono_format) {
                return Some(t.timestamp_millis());
            }
        } else if let Ok(t) = NaiveDateTime::parse_from_str(text, &chrono_format) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    parse_device_time_ms(text)
}

/// A Java SimpleDateFormat pattern as a chrono format, for the letters that have a
/// chrono equivalent; `None` for the rest (zone names, week numbers), and for
/// patterns without a year, which chrono cannot complete.
fn java_to_chrono(pattern: &str) -> Option<String> {
    let mut out = String::with_capacity(pattern.len() * 2);
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    let mut has_year = false;
    while i < chars.len() {
        let c = chars[i];
        let run = chars[i..].iter().take_while(|&&d| d == c).count();
        if c == '\'' {
            // 'T' is a literal; '' is a quote.
            let close = chars[i + 1..].iter().position(|&d| d == '\'')?;
            if close == 0 {
                out.push('\'');
            }
            for &d in &chars[i + 1..i + 1 + close] {
                if d == '%' {
                    out.push_str("%%");
                } else {
                    out.push(d);
                }
            }
            i += close + 2;
            continue;
        }
        let piece = match (c, run) {
            ('y', 2) => "%y",
            ('y', _) => "%Y",
            ('M', 1 | 2) => "%m",
            ('M', 3) => "%b",
            ('M', _) => "%B",
            ('d', _) => "%d",
            ('H', _) => "%H",
            ('h', _) => "%I",
            ('m', _) => "%M",
            ('s', _) => "%S",
            ('S', 3) => "%3f",
            ('S', 6) => "%6f",
            ('S', 9) => "%9f",
            ('a', _) => "%p",
            ('E', 1..=3) => "%a",
            ('E', _) => "%A",
            ('Z', _) => "%z",
            ('X', _) => "%:z",
            ('%', _) => "%%",
            (c, _) if c.is_ascii_alphabetic() => return None,
            _ => {
                out.extend(std::iter::repeat_n(c, run));
                i += run;
                continue;
            }
        };
        has_year |= c == 'y';
        out.push_str(piece);
        i += run;
    }
    has_year.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorType;

    fn parse(line: &str) -> Event {
        let mut out = Vec::new();
        LeefParser::new().parse(line, &mut out).unwrap();
        out.remove(0)
    }

    /// Metron's expected records, except where its split went wrong: it cut
    /// `sev=8 cn1=37 cn1Label=Host ID` into `sev` = `8 cn1` and lost the rest, and read
    /// `File System TrendMicroDsFileMD5` as one value. Those fields are checked below.
    #[test]
    fn trend_micro_matches_metron() {
        let raw = include_str!("../../../testdata/syslog/metron-leef.raw.log");
        let expected = include_str!("../../../testdata/syslog/metron-leef.parsed.json");
        let metron_wrong = ["sev", "TrendMicroDsMalwareTargetType"];
        let mut compared = 0;
        for (line, want) in raw.lines().zip(expected.lines()) {
            let got = parse(line);
            let want: Event = serde_json::from_str(want).unwrap();
            for (key, value) in &want {
                if ["guid", "original_string", "timestamp"].contains(&key.as_str())
                    || metron_wrong.contains(&key.as_str())
                {
                    continue;
                }
                assert_eq!(got.get(key), Some(value), "{key} in {got:#?}");
                compared += 1;
            }
        }
        assert!(compared > 50, "{compared}");
        let lines: Vec<Event> = raw.lines().map(parse).collect();
        assert_eq!(lines[0]["sev"], "3");
        assert_eq!(
            lines[0]["desc"],
            r"Alert: CPU Warning Threshold Exceeded\nSubject: 10.201.114.164\nSeverity: Warning"
        );
        assert_eq!(lines[1]["sev"], "8");
        assert_eq!(lines[1]["cn1"], "37");
        assert_eq!(lines[1]["cn1Label"], "Host ID");
        let e = &lines[2];
        assert_eq!(e["TrendMicroDsMalwareTargetType"], "File System");
        assert_eq!(e["TrendMicroDsFileMD5"], "1947A1BC0982C5871FA3768CD025453E");
        assert_eq!(e["TrendMicroDsFileSHA1"], "5AD084DDCD8F80FBF2EE3F0E4F812E812DEE60C1");
        assert_eq!(e["filePath"], r"C:\\Windows\\System32\\virus.exe");
        assert_eq!(e["dvc"], "10.0.0.1");
    }

    #[test]
    fn leef1_cyberark_and_malformed_attributes() {
        let text = include_str!("../../../testdata/syslog/tenzir-leef1.log");
        let events: Vec<Event> = text.lines().map(parse).collect();
        let e = &events[0];
        assert_eq!(e["DeviceVendor"], "CyberArk");
        assert_eq!(e["DeviceEvent"], "1");
        assert_eq!(e["ip_dst_addr"], "192.168.0.1");
        assert_eq!(e["userName"], "mike");
        assert_eq!(e["timestamp"], 1_388_577_600_000i64);
        assert_eq!(e["ExternalLink"], "None");
        // `|` is not LEEF 1.0's delimiter, so these stay in Cat's value.
        assert_eq!(e["Cat"], "Suspected credentials theft|sev=8|src=src1");
        // Junk without `=` is skipped, an empty value left out, a trailing tab ignored.
        for e in &events[1..] {
            assert_eq!(e["DeviceProduct"], "Tenzir");
        }
        assert_eq!(events[1].len(), 6, "{:?}", events[1]);
        assert!(!events[2].contains_key("key"));
        assert_eq!(events[3]["key"], "trailing tab next");
        assert_eq!(events[4]["key"], "yikes");
    }

    #[test]
    fn leef2_hex_delimiter_and_unreadable_dev_time() {
        let text = include_str!("../../../testdata/syslog/tenzir-leef2-pan-os-templates.log");
        let before = now_ms();
        for line in text.lines() {
            let e = parse(line);
            assert_eq!(e["DeviceVendor"], "Palo Alto Networks");
            assert_eq!(e["cat"], "$type");
            assert_eq!(e["src"], "$host", "not an address, so it stays `src`");
            assert_eq!(e["devTime"], "$cef-formatted-receive_time");
            assert!(e["timestamp"].as_i64().unwrap() >= before);
        }
    }

    #[test]
    fn leef2_caret_delimiter_ports_and_dev_time_format() {
        let e = parse("<13>Jan 18 11:07:53 host LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^srcPort=1234^dstPort=53^proto=UDP^devTime=2024-01-18 11:07:53.123 +0100^devTimeFormat=yyyy-MM-dd HH:mm:ss.SSS Z");
        assert_eq!(e["ip_src_addr"], "10.0.1.8");
        assert_eq!(e["ip_src_port"], 1234);
        assert_eq!(e["ip_dst_port"], 53);
        assert_eq!(e["protocol"], "udp");
        assert_eq!(e["timestamp"], crate::event::parse_rfc3339_ms("2024-01-18T10:07:53.123Z").unwrap());
        assert_eq!(e["host"], "host");
        assert_eq!(e["syslog_severity"], "notice");
        let e = parse("LEEF:1.0|V|P|1|2|devTime=Jan 18 2024 11:07:53\tdevTimeFormat=MMM dd yyyy HH:mm:ss");
        assert_eq!(e["timestamp"], crate::event::parse_rfc3339_ms("2024-01-18T11:07:53Z").unwrap());
        let e = parse("LEEF:2.0|V|P|1|2|x09|a=1\tb=2 words");
        assert_eq!(e["b"], "2 words");
        // No attributes and no closing pipe.
        assert_eq!(parse("LEEF:1.0|V|P|1|2")["DeviceEvent"], "2");
    }

    #[test]
    fn escaped_delimiters_stay_in_values() {
        let e = parse(r"LEEF:2.0|V|P|1|2|^|a=x\^y^b=z");
        assert_eq!(e["a"], r"x\^y");
        assert_eq!(e["b"], "z");
    }

    #[test]
    fn java_patterns_become_chrono_formats() {
        assert_eq!(java_to_chrono("MMM dd yyyy HH:mm:ss.SSS").as_deref(), Some("%b %d %Y %H:%M:%S.%3f"));
        assert_eq!(java_to_chrono("yyyy-MM-dd'T'HH:mm:ssZ").as_deref(), Some("%Y-%m-%dT%H:%M:%S%z"));
        assert_eq!(java_to_chrono("MMM dd yyyy HH:mm:ss z"), None);
        assert_eq!(java_to_chrono("MMM dd HH:mm:ss"), None);
        assert_eq!(java_to_chrono("yyyy 'unclosed"), None);
    }

    #[test]
    fn broken_headers_are_errors() {
        let mut p = LeefParser::new();
        for (line, kind) in [
            ("hello", ErrorType::ParserError),
            ("LEEF:", ErrorType::ParserInvalid),
            ("LEEF:1.0|a|b", ErrorType::ParserInvalid),
            ("LEEF:1.0|a|b|c", ErrorType::ParserInvalid),
            ("LEEF:one|a|b|c|d|", ErrorType::ParserInvalid),
        ] {
            assert_eq!(p.parse(line, &mut Vec::new()).unwrap_err().kind, kind, "{line}");
        }
    }
    /// Near-misses of the format and arbitrary text: never a panic, and a line that
    /// parses gives one event with the standard fields.
    fn near_miss() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let prefixes = prop::sample::select(vec![
            "",
            "LEEF:",
            "LEEF:1.0|v|p|1|id|",
            "LEEF:2.0|v|p|1|id|^|src=",
            "LEEF:2.0|v|p|1|id|x7C|devTime=",
            "LEEF:2.0|v|p|1|id|0x|a=",
            "LEEF:1.0|v|p|1|id|devTimeFormat=yyyy 'x\tdevTime=",
            "<13>Jan 18 11:07:53 host LEEF:1.0|v|p|1|id|a=1 b=",
        ]);
        (prefixes, ".{0,160}").prop_map(|(p, rest)| format!("{p}{rest}"))
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_leef_never_panics(line in near_miss()) {
            let mut out = Vec::new();
            if LeefParser::new().parse(&line, &mut out).is_ok() {
                proptest::prop_assert_eq!(out.len(), 1);
                proptest::prop_assert!(out[0]["timestamp"].is_i64());
                proptest::prop_assert!(out[0]["source.type"].is_string());
            }
        }
    }
}
