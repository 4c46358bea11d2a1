//! The syslog header (RFC 3164 and RFC 5424), read by every format that arrives in
//! syslog: the syslog parser itself, and CEF, LEEF and Cisco ASA, which meet a syslog
//! header in front of their own record.

use super::ParseError;
use crate::error::ErrorType;
use crate::event::{parse_rfc3339_ms, syslog_time_to_ms, Event};
use chrono::NaiveDateTime;
use regex::Regex;
use serde_json::Value;
use std::sync::OnceLock;

// Apache Metron's names (its Syslog3164Parser and Syslog5424Parser).
pub(super) const PRI: &str = "syslog.header.pri";
pub(super) const FACILITY: &str = "syslog.header.facility";
pub(super) const SEVERITY: &str = "syslog.header.severity";
pub(super) const VERSION: &str = "syslog.header.version";
pub(super) const TIME_TEXT: &str = "syslog.header.timestamp";
pub(super) const HOST: &str = "syslog.header.hostName";
pub(super) const APP: &str = "syslog.header.appName";
pub(super) const PROC_ID: &str = "syslog.header.procId";
pub(super) const MSG_ID: &str = "syslog.header.msgId";
pub(super) const MESSAGE: &str = "syslog.message";
pub(super) const STRUCTURED: &str = "syslog.structuredData";

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

/// Whether a first line starts like syslog (a PRI, or an RFC 3164 date), for `auto`.
pub(super) fn looks_like_syslog(line: &str) -> bool {
    static BSD_DATE: OnceLock<Option<Regex>> = OnceLock::new();
    let bsd_date = BSD_DATE.get_or_init(|| Regex::new(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ").ok());
    line.starts_with('<') || bsd_date.as_ref().is_some_and(|r| r.is_match(line))
}
