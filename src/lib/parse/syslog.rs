//! Syslog, RFC 3164 (BSD) and RFC 5424: the envelope most devices log in. One syslog
//! stream often carries several bodies, so a CEF, LEEF or Cisco ASA/FTD message inside
//! it goes to that parser. The header reading here is shared with those parsers, which
//! also meet syslog headers in front of their own format.

use super::asa::{find_cisco_tag, AsaParser};
use super::cef::CefParser;
use super::leef::LeefParser;
use super::{ParseError, Parser};
use crate::error::ErrorType;
use crate::event::{canonical_ip, fields, now_ms, parse_rfc3339_ms, protocol_name, syslog_time_to_ms, Event};
use chrono::NaiveDateTime;
use serde_json::Value;

// Apache Metron's names (its Syslog3164Parser and Syslog5424Parser).
const PRI: &str = "syslog.header.pri";
const FACILITY: &str = "syslog.header.facility";
const SEVERITY: &str = "syslog.header.severity";
const VERSION: &str = "syslog.header.version";
const TIME_TEXT: &str = "syslog.header.timestamp";
const HOST: &str = "syslog.header.hostName";
const APP: &str = "syslog.header.appName";
const PROC_ID: &str = "syslog.header.procId";
const MSG_ID: &str = "syslog.header.msgId";
const MESSAGE: &str = "syslog.message";
const STRUCTURED: &str = "syslog.structuredData";

/// Facility and severity as names, the fields Metron's ASA parser gave; every format
/// that arrives in syslog carries them, so one filter works across a mixed stream.
pub(super) const FACILITY_NAME: &str = "syslog_facility";
pub(super) const SEVERITY_NAME: &str = "syslog_severity";

/// Facility 23, severity 7: a larger PRI is not a PRI.
const MAX_PRI: u16 = 191;
/// RFC 3164 limits a TAG to 32 characters; real senders go a little over.
const MAX_TAG: usize = 48;

/// What a syslog header said. Borrowed from the line; absent parts are `None`.
#[derive(Debug, Default)]
pub(super) struct Header<'a> {
    pub pri: Option<u8>,
    /// RFC 5424 only.
    pub version: Option<u16>,
    pub time_text: Option<&'a str>,
    pub time_ms: Option<i64>,
    pub host: Option<&'a str>,
    pub app: Option<&'a str>,
    pub proc_id: Option<&'a str>,
    /// RFC 5424 only.
    pub msg_id: Option<&'a str>,
    /// RFC 5424 structured data as (`id.param`, value).
    pub structured: Params,
    /// RFC 3164's MSG: everything after the host, the TAG included.
    pub full_msg: &'a str,
    /// The message without the TAG (RFC 3164's CONTENT; RFC 5424's MSG).
    pub msg: &'a str,
}

/// Reads a syslog header. `Err` with `parser_error` when the line has neither a PRI
/// nor a timestamp (not syslog), `parser_invalid` when it is syslog with a bad value.
pub(super) fn parse_header(line: &str) -> Result<Header<'_>, ParseError> {
    let line = line.trim_start_matches('\u{feff}');
    let (pri, rest) = split_pri(line);
    if pri.is_some() {
        if let Some((version, after)) = split_version(rest) {
            return parse_5424(pri, version, after);
        }
    }
    // `<34> Nov 16 ...`: some senders put a space after the PRI.
    parse_3164(pri, rest.trim_start_matches(' '))
}

/// The header in front of a CEF or LEEF record, if it is one: anything else before
/// `CEF:` is tolerated, as Metron did, so a failure here only means no syslog fields.
/// A bad date in a real header is still an error.
pub(super) fn parse_prefix(prefix: &str) -> Result<Option<Header<'_>>, ParseError> {
    if prefix.trim().is_empty() {
        return Ok(None);
    }
    match parse_header(prefix) {
        Ok(h) => Ok(Some(h)),
        Err(e) if e.kind == ErrorType::ParserInvalid => Err(e),
        Err(_) => Ok(None),
    }
}

/// `<34>rest` -> (34, rest). Anything else, including `<999>`, is no PRI.
fn split_pri(line: &str) -> (Option<u8>, &str) {
    let Some(rest) = line.strip_prefix('<') else { return (None, line) };
    let Some(close) = rest.bytes().take(4).position(|b| b == b'>') else { return (None, line) };
    let digits = &rest[..close];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return (None, line);
    }
    match digits.parse::<u16>() {
        Ok(p) if p <= MAX_PRI => (u8::try_from(p).ok(), &rest[close + 1..]),
        _ => (None, line),
    }
}

/// RFC 5424's `1 ` (a version of up to three digits) after the PRI; RFC 3164 has a
/// month name or a date there.
fn split_version(rest: &str) -> Option<(u16, &str)> {
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if !(1..=3).contains(&digits) || rest.as_bytes().get(digits) != Some(&b' ') || rest.starts_with('0') {
        return None;
    }
    Some((rest[..digits].parse().ok()?, &rest[digits + 1..]))
}

fn nil(field: &str) -> Option<&str> {
    (field != "-" && !field.is_empty()).then_some(field)
}

fn parse_5424(pri: Option<u8>, version: u16, s: &str) -> Result<Header<'_>, ParseError> {
    let mut parts = s.splitn(6, ' ');
    let mut next =
        |what: &str| parts.next().ok_or_else(|| ParseError::invalid(format!("RFC 5424 header ends before {what}")));
    let time = next("TIMESTAMP")?;
    let host = next("HOSTNAME")?;
    let app = next("APP-NAME")?;
    let proc_id = next("PROCID")?;
    let msg_id = next("MSGID")?;
    let rest = parts.next().unwrap_or("");
    let time_ms = match nil(time) {
        None => None,
        Some(t) => Some(
            parse_rfc3339_ms(t)
                .ok_or_else(|| ParseError::invalid(format!("RFC 5424 TIMESTAMP is not RFC 3339: {t:?}")))?,
        ),
    };
    let (structured, msg) = parse_structured_data(rest)?;
    let msg = msg.trim_start_matches('\u{feff}');
    Ok(Header {
        pri,
        version: Some(version),
        time_text: nil(time),
        time_ms,
        host: nil(host),
        app: nil(app),
        proc_id: nil(proc_id),
        msg_id: nil(msg_id),
        structured,
        full_msg: msg,
        msg,
    })
}

/// Structured data flattened: (`id.param`, value).
type Params = Vec<(String, String)>;

/// `[id a="1" b="x \"y\""][id2 ...] MSG` or `- MSG` -> ([("id.a", "1"), ...], MSG).
/// A sender that leaves out the SD field entirely gets its text kept as the message.
fn parse_structured_data(s: &str) -> Result<(Params, &str), ParseError> {
    let bad = |why: &str| ParseError::invalid(format!("RFC 5424 structured data: {why}"));
    if let Some(after) = s.strip_prefix('-') {
        if after.is_empty() || after.starts_with(' ') {
            return Ok((Vec::new(), after.strip_prefix(' ').unwrap_or(after)));
        }
    }
    if !s.starts_with('[') {
        return Ok((Vec::new(), s));
    }
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while b.get(i) == Some(&b'[') {
        i += 1;
        let id_len = b[i..].iter().take_while(|&&c| c != b' ' && c != b']' && c != b'=' && c != b'"').count();
        if id_len == 0 {
            return Err(bad("an element without an SD-ID"));
        }
        let id = &s[i..i + id_len];
        i += id_len;
        loop {
            match b.get(i) {
                Some(b']') => {
                    i += 1;
                    break;
                }
                Some(b' ') => i += 1,
                None => return Err(bad("an element is not closed with ]")),
                Some(_) => {
                    let name_len =
                        b[i..].iter().take_while(|&&c| c != b'=' && c != b' ' && c != b']' && c != b'"').count();
                    if name_len == 0 || b.get(i + name_len) != Some(&b'=') || b.get(i + name_len + 1) != Some(&b'"') {
                        return Err(bad("a parameter is not name=\"value\""));
                    }
                    let name = &s[i..i + name_len];
                    i += name_len + 2;
                    let (value, used) = sd_value(&s[i..]).ok_or_else(|| bad("a value is not closed with \""))?;
                    i += used;
                    out.push((format!("{id}.{name}"), value));
                }
            }
        }
    }
    let rest = &s[i..];
    Ok((out, rest.strip_prefix(' ').unwrap_or(rest)))
}

/// A PARAM-VALUE up to its closing quote, with `\"`, `\\` and `\]` unescaped; returns
/// the value and the bytes used, quote included.
fn sd_value(s: &str) -> Option<(String, usize)> {
    let mut value = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, i + 1)),
            '\\' => match chars.next() {
                Some((_, e @ ('"' | '\\' | ']'))) => value.push(e),
                Some((_, other)) => {
                    value.push('\\');
                    value.push(other);
                }
                None => return None,
            },
            other => value.push(other),
        }
    }
    None
}

fn parse_3164(pri: Option<u8>, s: &str) -> Result<Header<'_>, ParseError> {
    // Cisco marks a time from an unsynchronized clock with `*` or `.`.
    let timed = s.strip_prefix(['*', '.']).unwrap_or(s);
    let (time_text, time_ms, rest) = match parse_bsd_time(timed) {
        Some(t) => {
            let ms = t.ms.ok_or_else(|| ParseError::invalid(format!("not a valid date: {:?}", t.text)))?;
            (Some(t.text), Some(ms), t.rest)
        }
        // RFC 3164 4.3.3: a valid PRI without a TIMESTAMP; all of it is the message.
        None if pri.is_some() => return Ok(Header { pri, full_msg: s, msg: s, ..Header::default() }),
        None => return Err(ParseError::error("not syslog: no <PRI> and no timestamp at the start")),
    };
    let (first, after_first) = split_token(rest);
    // The host is left out when the TAG, a Cisco `%ASA-...` message or a CEF or LEEF
    // record comes first.
    let no_host = first.is_empty()
        || first.starts_with('%')
        || first.starts_with("CEF:")
        || first.starts_with("LEEF:")
        || tag_parts(first).is_some();
    let (host, rest) = if no_host { (None, rest) } else { (Some(first), after_first) };
    // `firepower : %FTD-...`: a colon standing alone between host and message.
    let rest = match split_token(rest) {
        (":", after) => after,
        _ => rest,
    };
    let (token, after_tag) = split_token(rest);
    let (app, proc_id, msg) = match tag_parts(token) {
        Some((app, pid)) => (Some(app), pid, after_tag),
        None => (None, None, rest),
    };
    Ok(Header { pri, time_text, time_ms, host, app, proc_id, full_msg: rest, msg, ..Header::default() })
}

/// The first space-separated token and what follows its one separating space.
fn split_token(s: &str) -> (&str, &str) {
    match s.find(' ') {
        Some(i) => (&s[..i], s[i + 1..].trim_start_matches(' ')),
        None => (s, ""),
    }
}

/// A TAG: `su:`, `sshd[123]:`, `postfix/smtpd[9]:` -> (app, pid).
fn tag_parts(token: &str) -> Option<(&str, Option<&str>)> {
    let body = token.strip_suffix(':')?;
    let (app, pid) = match body.strip_suffix(']') {
        Some(b) => {
            let open = b.find('[')?;
            (&b[..open], Some(&b[open + 1..]))
        }
        None => (body, None),
    };
    let app_ok = !app.is_empty()
        && app.len() <= MAX_TAG
        && app.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'/' | b'@'));
    let pid_ok = pid.is_none_or(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'));
    (app_ok && pid_ok).then_some((app, pid))
}

struct BsdTime<'a> {
    text: &'a str,
    /// `None` when the shape is right but the date is not (`Feb 30`).
    ms: Option<i64>,
    rest: &'a str,
}

/// `Mmm dd [yyyy] hh:mm:ss[.fff][:]` or an RFC 3339 time (rsyslog's high-precision
/// template) at the start of `s`.
fn parse_bsd_time(s: &str) -> Option<BsdTime<'_>> {
    let b = s.as_bytes();
    if b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' {
        let end = s.find(' ').unwrap_or(s.len());
        let text = s[..end].trim_end_matches(':');
        let ms = parse_rfc3339_ms(text).or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|t| t.and_utc().timestamp_millis())
        });
        return Some(BsdTime { text, ms, rest: s[end..].trim_start_matches(' ') });
    }
    let month = crate::event::month_from_name(s.get(..3)?)?;
    let mut i = 3;
    let spaces = |i: usize| b[i..].iter().take_while(|&&c| c == b' ').count();
    let digits = |i: usize| b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let number = |from: usize, len: usize| s[from..from + len].parse::<u32>().ok();
    let n = spaces(i);
    if n == 0 {
        return None;
    }
    i += n;
    let day_len = digits(i);
    if !(1..=2).contains(&day_len) || b.get(i + day_len) != Some(&b' ') {
        return None;
    }
    let day = number(i, day_len)?;
    i += day_len + 1;
    let mut year = None;
    if digits(i) == 4 && b.get(i + 4) == Some(&b' ') {
        year = Some(i32::try_from(number(i, 4)?).ok()?);
        i += 5;
    }
    let hour_len = digits(i);
    if !(1..=2).contains(&hour_len) || b.get(i + hour_len) != Some(&b':') {
        return None;
    }
    let hour = number(i, hour_len)?;
    i += hour_len + 1;
    let (minute, second);
    if digits(i) == 2 && b.get(i + 2) == Some(&b':') && digits(i + 3) == 2 {
        minute = number(i, 2)?;
        second = number(i + 3, 2)?;
        i += 5;
    } else {
        return None;
    }
    let mut frac_ms = 0i64;
    if b.get(i) == Some(&b'.') && digits(i + 1) > 0 {
        let len = digits(i + 1);
        for (k, c) in b[i + 1..i + 1 + len].iter().take(3).enumerate() {
            frac_ms += i64::from(c - b'0') * [100, 10, 1][k];
        }
        i += 1 + len;
    }
    let text = &s[..i];
    // Cisco without a host writes `20:39:42: %ASA-...`.
    if b.get(i) == Some(&b':') {
        i += 1;
    }
    let mut rest = s[i..].trim_start_matches(' ');
    // A zone after the time (Cisco `logging timestamp ... timezone`); the time is UTC anyway.
    for zone in ["UTC: ", "UTC ", "GMT: ", "GMT "] {
        if let Some(r) = rest.strip_prefix(zone) {
            rest = r.trim_start_matches(' ');
        }
    }
    let ms = syslog_time_to_ms(month, day, hour, minute, second, year).map(|t| t + frac_ms);
    Some(BsdTime { text, ms, rest })
}

/// Metron's SyslogUtils names.
pub(super) fn severity_name(severity: u8) -> &'static str {
    ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"]
        .get(usize::from(severity))
        .copied()
        .unwrap_or("unknown")
}

/// Metron's SyslogUtils names, with the facilities it left unnamed given their usual ones.
pub(super) fn facility_name(facility: u8) -> &'static str {
    const NAMES: [&str; 24] = [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp", "ntp",
        "audit", "alert", "cron", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
    ];
    NAMES.get(usize::from(facility)).copied().unwrap_or("unknown")
}

/// `syslog_facility` and `syslog_severity` from a PRI.
pub(super) fn add_pri_names(event: &mut Event, pri: u8) {
    event.insert(FACILITY_NAME.into(), Value::from(facility_name(pri >> 3)));
    event.insert(SEVERITY_NAME.into(), Value::from(severity_name(pri & 7)));
}

/// Protocol names as DESIGN.md wants them: lower case, numbers named, `icmp6`.
pub(super) fn normalize_protocol(text: &str) -> String {
    let lower = text.trim().to_ascii_lowercase();
    match lower.as_str() {
        "icmpv6" | "ipv6-icmp" => "icmp6".to_owned(),
        _ => match lower.parse::<u8>().ok().and_then(protocol_name) {
            Some(name) => name.to_owned(),
            None => lower,
        },
    }
}

/// Moves a text address from `from` to `to` in canonical form. A value that is not an
/// address (a host name, a template placeholder) stays where it was.
pub(super) fn move_ip(event: &mut Event, from: &str, to: &str) {
    let Some(ip) = event.get(from).and_then(Value::as_str).and_then(canonical_ip) else { return };
    event.shift_remove(from);
    event.insert(to.to_owned(), Value::from(ip));
}

/// Moves a port from `from` to `to` as an integer; a value that is not a port stays.
pub(super) fn move_port(event: &mut Event, from: &str, to: &str) {
    let Some(port) = event.get(from).and_then(Value::as_str).and_then(|p| p.trim().parse::<u16>().ok()) else { return };
    event.shift_remove(from);
    event.insert(to.to_owned(), Value::from(port));
}

/// Moves a protocol from `from` to `protocol`, normalized.
pub(super) fn move_protocol(event: &mut Event, from: &str) {
    let Some(proto) = event.get(from).and_then(Value::as_str).map(normalize_protocol) else { return };
    event.shift_remove(from);
    if !proto.is_empty() {
        event.insert(fields::PROTOCOL.to_owned(), Value::from(proto));
    }
}

/// The body kinds that have their own parser.
enum Body {
    Cef,
    Leef,
    Cisco,
}

fn body_kind(text: &str) -> Option<Body> {
    let text = text.trim_start();
    if text.starts_with("CEF:") {
        Some(Body::Cef)
    } else if text.starts_with("LEEF:") {
        Some(Body::Leef)
    } else if find_cisco_tag(text).is_some_and(|t| t.start == 0) {
        Some(Body::Cisco)
    } else {
        None
    }
}

/// Syslog lines; CEF, LEEF and Cisco bodies are handed on (see the module comment).
#[derive(Default)]
pub struct SyslogParser {
    cef: CefParser,
    leef: LeefParser,
    asa: AsaParser,
}

impl SyslogParser {
    pub fn new() -> SyslogParser {
        SyslogParser::default()
    }
}

impl Parser for SyslogParser {
    fn parse(&mut self, line: &str, out: &mut Vec<Event>) -> Result<(), ParseError> {
        let header = match parse_header(line) {
            Ok(h) => h,
            // A relay that strips the syslog header leaves the bare body.
            Err(e) => match body_kind(line) {
                Some(kind) => return self.hand_on(kind, line, out).map_err(|_| e),
                None => return Err(e),
            },
        };
        if let Some(kind) = body_kind(header.msg).or_else(|| body_kind(header.full_msg)) {
            // A body that only looked like CEF or LEEF is still a good syslog message.
            if self.hand_on(kind, line, out).is_ok() {
                return Ok(());
            }
        }
        out.push(syslog_event(&header));
        Ok(())
    }
}

impl SyslogParser {
    fn hand_on(&mut self, kind: Body, line: &str, out: &mut Vec<Event>) -> Result<(), ParseError> {
        let before = out.len();
        let result = match kind {
            Body::Cef => self.cef.parse(line, out),
            Body::Leef => self.leef.parse(line, out),
            Body::Cisco => self.asa.parse(line, out),
        };
        if result.is_err() {
            out.truncate(before);
        }
        result
    }
}

fn syslog_event(h: &Header<'_>) -> Event {
    let mut e = crate::event::event_with_capacity(16 + h.structured.len());
    if let Some(pri) = h.pri {
        e.insert(PRI.into(), Value::from(pri));
        e.insert(FACILITY.into(), Value::from(pri >> 3));
        e.insert(SEVERITY.into(), Value::from(pri & 7));
        add_pri_names(&mut e, pri);
    }
    if let Some(v) = h.version {
        e.insert(VERSION.into(), Value::from(v));
    }
    let optional = [(TIME_TEXT, h.time_text), (HOST, h.host), (APP, h.app), (PROC_ID, h.proc_id), (MSG_ID, h.msg_id)];
    for (key, value) in optional {
        if let Some(v) = value {
            e.insert(key.into(), Value::from(v));
        }
    }
    e.insert(MESSAGE.into(), Value::from(h.msg));
    for (key, value) in &h.structured {
        e.insert(format!("{STRUCTURED}.{key}"), Value::from(value.as_str()));
    }
    e.insert(fields::TIMESTAMP.into(), Value::from(h.time_ms.unwrap_or_else(now_ms)));
    e.insert(fields::SOURCE_TYPE.into(), Value::from("syslog"));
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(line: &str) -> Event {
        let mut out = Vec::new();
        SyslogParser::new().parse(line, &mut out).unwrap();
        assert_eq!(out.len(), 1, "{line}");
        out.remove(0)
    }

    fn ms(text: &str) -> i64 {
        parse_rfc3339_ms(text).unwrap()
    }

    /// The year a 3164 line without one gets, by the rule in event::time.
    fn this_years(month: u32, day: u32, h: u32, m: u32, s: u32) -> i64 {
        syslog_time_to_ms(month, day, h, m, s, None).unwrap()
    }

    #[test]
    fn rfc5424_matches_metron_names_and_values() {
        let text = include_str!("../../../testdata/syslog/metron-syslog5424.raw.log");
        let expected = include_str!("../../../testdata/syslog/metron-syslog5424.parsed.json");
        for (line, want) in text.lines().zip(expected.lines()) {
            let got = parse(line);
            let want: Event = serde_json::from_str(want).unwrap();
            for (key, value) in &want {
                if ["guid", "original_string", "source.type"].contains(&key.as_str()) {
                    continue;
                }
                // NILVALUE `-` means "no value" (RFC 5424 6.2): the field is left out.
                if value == "-" {
                    assert!(!got.contains_key(key), "{key}");
                    continue;
                }
                let ours = &got[key.as_str()];
                let same = ours == value
                    || value.as_str().is_some_and(|v| *ours == v.parse::<u64>().map_or(Value::Null, Value::from));
                assert!(same, "{key}: Metron {value}, ours {ours}");
            }
            assert_eq!(got["source.type"], "syslog");
            assert_eq!(got["syslog_facility"], "user");
            assert_eq!(got["syslog_severity"], "info");
        }
    }

    #[test]
    fn rfc5424_structured_data_escapes_and_bom() {
        let e = parse(
            r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="App \"x\" \]\\"]"#,
        );
        assert_eq!(e["syslog.structuredData.exampleSDID@32473.eventSource"], r#"App "x" ]\"#);
        assert_eq!(e["syslog.message"], "");
        assert_eq!(e["timestamp"], 1_065_910_455_003i64);
        assert!(!e.contains_key("syslog.header.procId"));
        let e = parse("<165>1 2003-10-11T22:14:15Z host app 12 - - \u{feff}hello");
        assert_eq!(e["syslog.message"], "hello");
        assert_eq!(e["syslog.header.procId"], "12");
    }

    #[test]
    fn rfc5424_errors() {
        let mut p = SyslogParser::new();
        let mut out = Vec::new();
        for bad in [
            "<1>1 2003-10-11T22:14:15Z host",
            "<1>1 yesterday host app - - -",
            "<1>1 - h a - - [x a=\"1\"",
            "<1>1 - h a - - [x a=1]",
        ] {
            let err = p.parse(bad, &mut out).unwrap_err();
            assert_eq!(err.kind, ErrorType::ParserInvalid, "{bad}: {}", err.message);
        }
        assert!(out.is_empty());
    }

    #[test]
    fn rfc3164_variants_from_tenzir() {
        let text = include_str!("../../../testdata/syslog/tenzir-syslog-rfc3164-variants.log");
        let events: Vec<Event> = text.lines().map(parse).collect();
        assert_eq!(events.len(), 12);
        let e = &events[0];
        assert_eq!(e["syslog.header.hostName"], "mymachine/10.1.1.16");
        assert_eq!(e["syslog.header.appName"], "PROGRAM");
        assert_eq!(e["syslog.message"], "Info: MODULE: Startup MESSAGE: User has admin rights: yes");
        assert_eq!(e["timestamp"], this_years(11, 16, 12, 53, 54));
        assert!(!e.contains_key("syslog_facility"), "no PRI, no facility");
        // `<34> Nov` and `<34>Nov` read the same.
        for e in &events[2..4] {
            assert_eq!(e["syslog.header.pri"], 34);
            assert_eq!(e["syslog_facility"], "auth");
            assert_eq!(e["syslog_severity"], "crit");
            assert_eq!(e["syslog.header.appName"], "OTHERPROGRAM");
            assert_eq!(e["syslog.message"], "Freeform message");
        }
        let e = &events[4];
        assert_eq!(e["syslog.header.hostName"], "mymachine");
        assert_eq!(e["syslog.header.appName"], "su");
        assert_eq!(e["syslog.message"], "'su root' failed for lonvick on /dev/pts/8");
        assert_eq!(e["syslog.header.timestamp"], "Oct 11 22:14:15");
        // Empty message.
        assert_eq!(events[5]["syslog.header.appName"], "OTHERPROGRAM");
        assert_eq!(events[5]["syslog.message"], "");
        // CEF inside syslog, with and without a TAG in front.
        for e in &events[6..8] {
            assert_eq!(e["source.type"], "cef");
            assert_eq!(e["DeviceVendor"], "Cynet");
            assert_eq!(e["ip_src_addr"], "172.31.5.93");
            assert_eq!(e["host"], "mymachine/10.1.1.16");
        }
        let e = &events[8];
        assert_eq!(e["syslog.header.appName"], "PROCESS");
        assert_eq!(e["syslog.header.procId"], "123");
        assert_eq!(e["syslog.message"], "foobar");
        // No app name.
        assert_eq!(events[9]["syslog.message"], "No app name in this message");
        assert!(!events[9].contains_key("syslog.header.appName"));
        assert_eq!(events[10]["syslog.header.hostName"], "mymachine");
        assert_eq!(events[10]["syslog.message"], "No app name in this message, either");
        // Cisco FTD, year after the day.
        let e = &events[11];
        assert_eq!(e["source.type"], "asa");
        assert_eq!(e["ciscotag"], "FTD-4-419002");
        assert_eq!(e["syslog_host"], "firepower");
        assert_eq!(e["timestamp"], ms("2024-01-18T11:50:03Z"));
        assert_eq!(e["ip_src_addr"], "84.241.12.18");
        assert_eq!(e["ip_dst_port"], 8192);
    }

    #[test]
    fn asa_inside_syslog_gives_the_asa_event() {
        let text = include_str!("../../../testdata/syslog/metron-syslog3164-asa.raw.log");
        for line in text.lines() {
            let e = parse(line);
            assert_eq!(e["source.type"], "asa", "{line}");
        }
    }

    #[test]
    fn rfc3164_time_forms() {
        let e = parse("<13>Jan  5 08:52:35.123 host app: x");
        assert_eq!(e["timestamp"], this_years(1, 5, 8, 52, 35) + 123);
        let e = parse(
            "<13>2018-09-14T00:54:09+00:00 lzpqrst-admin.in.mycompany.com.lg CISE_RADIUS_Accounting 0018032501 1 0",
        );
        assert_eq!(e["timestamp"], ms("2018-09-14T00:54:09Z"));
        assert_eq!(e["syslog.header.hostName"], "lzpqrst-admin.in.mycompany.com.lg");
        assert_eq!(e["syslog.message"], "CISE_RADIUS_Accounting 0018032501 1 0");
        let e = parse("<13>Jan 18 2024 11:50:03 host kernel: up");
        assert_eq!(e["timestamp"], ms("2024-01-18T11:50:03Z"));
        assert_eq!(e["syslog.header.appName"], "kernel");
        // A host left out: the TAG comes right after the time.
        let e = parse("Jan  5 08:52:35 sshd[12]: Accepted");
        assert!(!e.contains_key("syslog.header.hostName"));
        assert_eq!(e["syslog.header.procId"], "12");
        // RFC 3164 4.3.3: PRI but no time; the rest is the message, the time is now.
        let before = now_ms();
        let e = parse("<13>some relay text");
        assert_eq!(e["syslog.message"], "some relay text");
        assert!(e["timestamp"].as_i64().unwrap() >= before);
    }

    #[test]
    fn not_syslog_and_bad_dates() {
        let mut out = Vec::new();
        let err = SyslogParser::new().parse("hello world", &mut out).unwrap_err();
        assert_eq!(err.kind, ErrorType::ParserError);
        let err = SyslogParser::new().parse("<999>Jan  5 08:52:35 host x", &mut out).unwrap_err();
        assert_eq!(err.kind, ErrorType::ParserError, "a PRI over 191 is no PRI");
        let err = SyslogParser::new().parse("<13>Feb 30 08:52:35 host x", &mut out).unwrap_err();
        assert_eq!(err.kind, ErrorType::ParserInvalid);
    }

    #[test]
    fn bare_bodies_without_a_header_are_handed_on() {
        let e = parse("2016-04-01T09:29:11.356-0400 CEF:0|Adallom|Adallom|1.0|5|x|0|src=10.0.0.1");
        assert_eq!(e["source.type"], "cef");
        assert!(!e.contains_key("host"));
        assert_eq!(parse("CEF:0|v|p|1|5|x|0|src=10.0.0.1")["source.type"], "cef");
        assert_eq!(parse("LEEF:1.0|v|p|1|5|src=10.0.0.1")["source.type"], "leef");
        assert_eq!(parse("%ASA-6-302013: Built")["source.type"], "asa");
    }

    #[test]
    fn a_body_that_only_looks_like_cef_stays_syslog() {
        let e = parse("<13>Jan  5 08:52:35 host app: CEF:garbage");
        assert_eq!(e["source.type"], "syslog");
        assert_eq!(e["syslog.message"], "CEF:garbage");
    }

    #[test]
    fn pri_names_match_metron() {
        let mut e = Event::default();
        add_pri_names(&mut e, 167);
        assert_eq!(serde_json::to_value(&e).unwrap(), json!({"syslog_facility": "local4", "syslog_severity": "debug"}));
        assert_eq!(facility_name(9), "cron");
        assert_eq!(severity_name(3), "err");
    }

    #[test]
    fn protocols_are_lower_case_names() {
        assert_eq!(normalize_protocol("TCP"), "tcp");
        assert_eq!(normalize_protocol("17"), "udp");
        assert_eq!(normalize_protocol("ICMPv6"), "icmp6");
        assert_eq!(normalize_protocol("ssl"), "ssl");
    }
    /// Near-misses of the format and arbitrary text: never a panic, and a line that
    /// parses gives one event with the standard fields.
    fn near_miss() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let prefixes = prop::sample::select(vec![
            "",
            "<34>",
            "<34> Nov 16 14:55:56 ",
            "<13>Jan  5 08:52:35 host ",
            "Jan  5 08:52:35 host app[",
            "<13>Feb 29 2023 08:52:35 ",
            "<14>1 ",
            "<14>1 2014-06-20T09:14:07+00:00 h a p m ",
            r#"<14>1 - h a p m [id a=""#,
            r#"<14>1 - h a p m [id a="1"]["#,
            "<13>2018-09-14T00:54:09+00:00 ",
            "Nov 21 13:09:11 host FOO: CEF:0|",
            "<13>Jan  5 08:52:35 host LEEF:2.0|a|b|c|d|",
            "<164>Jan 18 2024 11:50:03 firepower : %FTD-4-",
        ]);
        (prefixes, ".{0,160}").prop_map(|(p, rest)| format!("{p}{rest}"))
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_syslog_never_panics(line in near_miss()) {
            let mut out = Vec::new();
            if SyslogParser::new().parse(&line, &mut out).is_ok() {
                proptest::prop_assert_eq!(out.len(), 1);
                proptest::prop_assert!(out[0]["timestamp"].is_i64());
                proptest::prop_assert!(out[0]["source.type"].is_string());
            }
        }
    }
}
