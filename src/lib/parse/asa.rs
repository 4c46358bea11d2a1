//! Cisco ASA and Firepower Threat Defense (FTD) syslog. The text after the message tag
//! is read with Apache Metron's own grok patterns (`patterns/asa`), one per message id,
//! so that the fields, their names and their values are the ones Metron's
//! BasicAsaParser gave. Message ids without a pattern still give the syslog fields.

use super::normalize::normalize_protocol;
use super::syslog_header::{self, add_pri_names, severity_name, SEVERITY_NAME};
use super::{FormatSpec, ParseError, Parser};
use crate::error::ErrorType;
use crate::event::{canonical_ip, fields, now_ms, Event};
use grok::{Grok, Pattern};
use serde_json::Value;
use std::sync::OnceLock;

/// The registry's entry.
pub(super) const FORMAT: FormatSpec = FormatSpec {
    name: "asa",
    aliases: &[],
    about: "Cisco ASA/FTD syslog (Apache Metron's patterns)",
    source_type: "asa",
    sniff: |line| {
        syslog_header::looks_like_syslog(line)
            && (line.contains("%ASA-") || line.contains("%FTD-") || line.contains("%PIX-"))
    },
    syslog_body: Some(|body| find_cisco_tag(body).is_some_and(|t| t.start == 0)),
    build: |_| Box::new(AsaParser::new()),
};

/// Metron's grok patterns, with the header naming their source and licence.
const PATTERN_FILE: &str = include_str!("patterns/asa");

/// BasicAsaParser's table: pattern name -> the message ids it reads. Metron keyed it by
/// the whole tag (`ASA-6-302013`); keyed by id alone it also reads FTD lines and
/// messages whose severity was reconfigured.
const PATTERNS: [(&str, &[&str]); 27] = [
    ("CISCOFW106001", &["106001"]),
    ("CISCOFW106006_106007_106010", &["106006", "106007", "106010"]),
    ("CISCOFW106014", &["106014"]),
    ("CISCOFW106015", &["106015"]),
    ("CISCOFW106021", &["106021"]),
    ("CISCOFW106023", &["106023"]),
    ("CISCOFW106100", &["106100"]),
    ("CISCOFW110002", &["110002"]),
    ("CISCOFW302010", &["302010"]),
    ("CISCOFW302013_302014_302015_302016", &["302013", "302014", "302015", "302016"]),
    ("CISCOFW302020_302021", &["302020", "302021"]),
    ("CISCOFW305011", &["305011"]),
    ("CISCOFW313001_313004_313008", &["313001", "313004", "313008"]),
    ("CISCOFW313005", &["313005"]),
    ("CISCOFW402117", &["402117"]),
    ("CISCOFW402119", &["402119"]),
    ("CISCOFW419001", &["419001"]),
    ("CISCOFW419002", &["419002"]),
    ("CISCOFW500004", &["500004"]),
    ("CISCOFW602303_602304", &["602303", "602304"]),
    ("CISCOFW710001_710002_710003_710005_710006", &["710001", "710002", "710003", "710005", "710006"]),
    ("CISCOFW713172", &["713172"]),
    ("CISCOFW733100", &["733100"]),
    ("CISCOFW305012", &["305012"]),
    ("CISCOFW609001", &["609001"]),
    ("CISCOFW609002", &["609002"]),
    ("CISCOFW713041", &["713041"]),
];

/// Each pattern is compiled the first time a line needs it, then kept.
static COMPILED: [OnceLock<Option<Pattern>>; PATTERNS.len()] = [const { OnceLock::new() }; PATTERNS.len()];

/// Grok's names and ours (BasicAsaParser's renames).
const RENAMES: [(&str, &str); 4] = [
    ("src_ip", fields::IP_SRC_ADDR),
    ("dst_ip", fields::IP_DST_ADDR),
    ("src_port", fields::IP_SRC_PORT),
    ("dst_port", fields::IP_DST_PORT),
];

fn grok() -> &'static Grok {
    static GROK: OnceLock<Grok> = OnceLock::new();
    GROK.get_or_init(|| {
        let mut g = Grok::empty();
        for line in PATTERN_FILE.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some((name, definition)) = line.split_once(' ') {
                g.add_pattern(name, definition);
            }
        }
        g
    })
}

/// The compiled pattern for a message id, if Metron had one. A pattern that does not
/// compile counts as none; the test `every_pattern_compiles` keeps that from happening.
fn pattern_for(id: &str) -> Option<&'static Pattern> {
    let i = PATTERNS.iter().position(|(_, ids)| ids.contains(&id))?;
    let (name, _) = PATTERNS[i];
    COMPILED[i].get_or_init(|| grok().compile(&format!("%{{{name}}}"), true).ok()).as_ref()
}

/// A Cisco message tag, `%ASA-6-302013:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CiscoTag<'a> {
    /// `ASA-6-302013`, Metron's `ciscotag`.
    pub tag: &'a str,
    pub level: u8,
    pub id: &'a str,
    /// Byte offset of the `%`.
    pub start: usize,
    /// Byte offset just after the tag (at its colon).
    pub end: usize,
}

/// The first `%FACILITY-LEVEL-ID:` in `line` (Metron's CISCOTAG followed by a colon).
pub(super) fn find_cisco_tag(line: &str) -> Option<CiscoTag<'_>> {
    let b = line.as_bytes();
    let upper_digit = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    for (start, _) in line.match_indices('%') {
        let mut i = start + 1;
        let facility = b[i..].iter().take_while(|c| upper_digit(c)).count();
        i += facility;
        if facility == 0 || b.get(i) != Some(&b'-') {
            continue;
        }
        let Some(level) = b.get(i + 1).filter(|c| c.is_ascii_digit()).map(|c| c - b'0') else { continue };
        if b.get(i + 2) != Some(&b'-') {
            continue;
        }
        i += 3;
        let id_len = b[i..].iter().take_while(|c| upper_digit(c) || **c == b'_').count();
        if id_len == 0 || b.get(i + id_len) != Some(&b':') {
            continue;
        }
        let end = i + id_len;
        return Some(CiscoTag { tag: &line[start + 1..end], level, id: &line[i..end], start, end });
    }
    None
}

#[derive(Default)]
pub struct AsaParser;

impl AsaParser {
    pub fn new() -> AsaParser {
        AsaParser
    }
}

impl Parser for AsaParser {
    fn parse(&mut self, line: &str, out: &mut Vec<Event>) -> Result<(), ParseError> {
        let Some(tag) = find_cisco_tag(line) else {
            return Err(ParseError::error("no Cisco message tag such as %ASA-6-302013:"));
        };
        // A header in front that is not syslog is ignored, as Metron's CISCOTAG match
        // would; a syslog header with an impossible date is an error.
        let header = match syslog_header::parse_header(&line[..tag.start]) {
            Ok(h) => Some(h),
            Err(e) if e.kind == ErrorType::ParserInvalid => return Err(e),
            Err(_) => None,
        };
        let mut event = crate::event::event_with_capacity(24);
        // Without a timestamp in the header (`no logging timestamp`) the time is the
        // time of reading, as the syslog receiver would have stamped it.
        let ms = header.as_ref().and_then(|h| h.time_ms).unwrap_or_else(now_ms);
        event.insert(fields::TIMESTAMP.into(), Value::from(ms));
        event.insert("ciscotag".into(), Value::from(tag.tag));
        match header.as_ref().and_then(|h| h.pri) {
            Some(pri) => add_pri_names(&mut event, pri),
            // The tag's level is the message severity, so it stands in for a missing PRI.
            None => {
                event.insert(SEVERITY_NAME.into(), Value::from(severity_name(tag.level)));
            }
        }
        if let Some(h) = &header {
            if let Some(host) = h.host {
                event.insert("syslog_host".into(), Value::from(host));
            }
            if let Some(app) = h.app {
                event.insert("syslog_prog".into(), Value::from(app));
            }
        }
        // Metron's patterns start at the colon that ends the tag.
        let message = &line[tag.end..];
        if let Some(matches) = pattern_for(tag.id).and_then(|p| p.match_against(message)) {
            for (name, value) in matches.iter() {
                add_captured(&mut event, name, value);
            }
        }
        event.insert(fields::SOURCE_TYPE.into(), Value::from("asa"));
        out.push(event);
        Ok(())
    }
}

/// One grok capture, named and typed as BasicAsaParser had it.
fn add_captured(event: &mut Event, name: &str, value: &str) {
    // Grok names a second capture of the same name `name[1]`: keep the first that has
    // a value. `UNWANTED` marks the captures inside Metron's base patterns.
    let (base, repeated) = match name.split_once('[') {
        Some((base, _)) => (base, true),
        None => (name, false),
    };
    if base == "UNWANTED" || value.is_empty() {
        return;
    }
    let key = RENAMES.iter().find(|(from, _)| *from == base).map_or(base, |(_, to)| *to);
    if repeated && event.contains_key(key) {
        return;
    }
    let value = match key {
        "protocol" => Value::from(normalize_protocol(value)),
        "action" => Value::from(value.to_lowercase()),
        _ if key.ends_with("_ip") || key == fields::IP_SRC_ADDR || key == fields::IP_DST_ADDR => {
            Value::from(canonical_ip(value).unwrap_or_else(|| value.to_owned()))
        }
        _ => integer(value).map_or_else(|| Value::from(value), Value::from),
    };
    event.insert(key.to_owned(), value);
}

/// Metron's grok library turned every capture that reads as an integer into one.
/// Leading zeros stay text: they are identifiers, not amounts.
fn integer(value: &str) -> Option<i64> {
    let digits = value.strip_prefix('-').unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || (digits.len() > 1 && digits.starts_with('0'))
    {
        return None;
    }
    value.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse_rfc3339_ms;

    fn parse(line: &str) -> Event {
        let mut out = Vec::new();
        AsaParser::new().parse(line, &mut out).unwrap();
        out.remove(0)
    }

    #[test]
    fn every_pattern_compiles() {
        for (i, (name, ids)) in PATTERNS.iter().enumerate() {
            assert!(pattern_for(ids[0]).is_some(), "{name}");
            assert!(COMPILED[i].get().is_some());
        }
    }

    #[test]
    fn teardown_tcp_fields_and_types() {
        let e = parse("<142>Jan  5 08:52:35 10.22.8.201 %ASA-6-302014: Teardown TCP connection 488167725 for Outside_VPN:147.111.72.16/26436 to DMZ-Inside:10.22.8.53/443 duration 0:00:00 bytes 9687 TCP FINs");
        assert_eq!(e["ciscotag"], "ASA-6-302014");
        assert_eq!(e["syslog_facility"], "local1");
        assert_eq!(e["syslog_severity"], "info");
        assert_eq!(e["syslog_host"], "10.22.8.201");
        assert_eq!(e["action"], "teardown");
        assert_eq!(e["protocol"], "tcp");
        assert_eq!(e["ip_src_addr"], "147.111.72.16");
        assert_eq!(e["ip_src_port"], 26436);
        assert_eq!(e["ip_dst_addr"], "10.22.8.53");
        assert_eq!(e["ip_dst_port"], 443);
        assert_eq!(e["connection_id"], 488_167_725);
        assert_eq!(e["bytes"], 9687);
        assert_eq!(e["duration"], "0:00:00");
        assert_eq!(e["src_interface"], "Outside_VPN");
        assert_eq!(e["reason"], "TCP FINs");
        assert_eq!(e["source.type"], "asa");
    }

    #[test]
    fn a_year_in_the_header_is_used_and_no_host_is_fine() {
        let e = parse("<166>Aug 06 2016 20:39:42: %ASA-6-110002: Failed to locate egress interface for UDP from Inside:10.25.14.52/56544 to 172.18.106.2/161");
        assert_eq!(e["timestamp"], parse_rfc3339_ms("2016-08-06T20:39:42Z").unwrap());
        assert!(!e.contains_key("syslog_host"));
        assert_eq!(e["reason"], "Failed to locate egress interface");
        assert_eq!(e["protocol"], "udp");
    }

    #[test]
    fn ids_without_a_pattern_keep_the_syslog_fields() {
        let e = parse(
            "<165>Aug 11 2016 15:42:07: %ASA-5-111010: User 'admin', running 'N/A' from IP 10.25.112.191, executed 'x'",
        );
        assert_eq!(e["ciscotag"], "ASA-5-111010");
        assert_eq!(e["syslog_severity"], "notice");
        assert!(!e.contains_key("ip_src_addr"));
    }

    #[test]
    fn ftd_and_a_missing_header() {
        let e = parse("<164>Jan 18 2024 11:50:03 firepower : %FTD-4-419002: Duplicate TCP SYN from outside:84.241.12.18/59821 to inside:134.40.10.168/8192 with different initial sequence number");
        assert_eq!(e["ciscotag"], "FTD-4-419002");
        assert_eq!(e["syslog_host"], "firepower");
        assert_eq!(e["reason"], "Duplicate TCP SYN");
        assert_eq!(e["ip_dst_addr"], "134.40.10.168");
        // No PRI: the tag's level gives the severity.
        let e =
            parse("%ASA-3-106014: Deny inbound icmp src Inside:10.230.4.87 dst Inside:10.22.75.251 (type 8, code 0)");
        assert_eq!(e["syslog_severity"], "err");
        assert!(!e.contains_key("syslog_facility"));
        assert_eq!(e["icmp_type"], 8);
        assert_eq!(e["protocol"], "icmp");
    }

    #[test]
    fn a_program_before_the_tag_is_syslog_prog() {
        let e = parse("<166>Jan  5 08:52:35 fw01 asa: %ASA-7-609001: Built local-host inside:10.22.8.205");
        assert_eq!(e["syslog_host"], "fw01");
        assert_eq!(e["syslog_prog"], "asa");
        // Metron's 609001 pattern wants a WORD where ASA writes `local-host`, so only
        // the syslog fields come out, as in Metron's expected output.
        assert!(!e.contains_key("action"));
    }

    #[test]
    fn repeated_grok_names_keep_the_first() {
        let e = parse("<164>Aug 05 2016 19:13:26: %ASA-4-313005: No matching connection for ICMP error message: icmp src Outside:198.27.69.147 dst identity:172.18.106.2 (type 3, code 3) on Outside interface.  Original IP payload: udp src 172.18.106.2/9993 dst 198.27.69.147/26410.");
        assert_eq!(e["protocol"], "icmp");
        assert!(!e.keys().any(|k| k.contains('[')), "{e:?}");
    }

    #[test]
    fn tags_are_found_only_in_their_shape() {
        assert_eq!(find_cisco_tag("100% sure %ASA-6-302013: x").map(|t| t.tag), Some("ASA-6-302013"));
        assert_eq!(find_cisco_tag("%ASA-6-302013 no colon"), None);
        assert_eq!(find_cisco_tag("%asa-6-302013: lower"), None);
        assert_eq!(find_cisco_tag("%"), None);
        assert_eq!(find_cisco_tag("%ASA-"), None);
        let err = AsaParser::new().parse("Jan  5 08:52:35 host no tag here", &mut Vec::new()).unwrap_err();
        assert_eq!(err.kind, ErrorType::ParserError);
    }

    #[test]
    fn integers_as_metron_typed_them() {
        assert_eq!(integer("443"), Some(443));
        assert_eq!(integer("0"), Some(0));
        assert_eq!(integer("-5"), Some(-5));
        assert_eq!(integer("007"), None);
        assert_eq!(integer("0x962df600"), None);
        assert_eq!(integer("99999999999999999999"), None);
    }
    /// Near-misses of the format and arbitrary text: never a panic, and a line that
    /// parses gives one event with the standard fields.
    fn near_miss() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let prefixes = prop::sample::select(vec![
            "",
            "%ASA-",
            "<166>Jan  5 08:52:35 10.22.8.216 %ASA-6-302014: Teardown TCP connection ",
            "<166>Aug 06 2016 20:39:42: %ASA-6-302013: Built inbound TCP connection 1 for a:",
            "<164>Jan 18 2024 11:50:03 firepower : %FTD-4-419002: ",
            "<166>Jan  5 08:52:35 h %ASA-6-302020: Built inbound ICMP connection for faddr ",
            "<164>Aug 05 2016 01:02:25: %ASA-4-106023: Deny tcp src Inside:",
            "%ASA-6-713172: Group = ",
        ]);
        (prefixes, ".{0,160}").prop_map(|(p, rest)| format!("{p}{rest}"))
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_asa_never_panics(line in near_miss()) {
            let mut out = Vec::new();
            if AsaParser::new().parse(&line, &mut out).is_ok() {
                proptest::prop_assert_eq!(out.len(), 1);
                proptest::prop_assert!(out[0]["timestamp"].is_i64());
                proptest::prop_assert!(out[0]["source.type"].is_string());
            }
        }
    }
}
