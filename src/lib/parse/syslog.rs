//! Syslog, RFC 3164 (BSD) and RFC 5424: the envelope most devices log in. One syslog
//! stream often carries several bodies, so a body that a registered format claims
//! (CEF, LEEF, Cisco ASA/FTD: `FormatSpec::syslog_body`) goes to that format's parser.
//! The header itself is read in `syslog_header`, shared with those formats.

use super::syslog_header::*;
use super::{FormatSpec, ParseError, Parser, FORMATS};
use crate::event::{fields, now_ms, Event};
use serde_json::Value;

/// The registry's entry.
pub(super) const FORMAT: FormatSpec = FormatSpec {
    name: "syslog",
    aliases: &[],
    about: "RFC 3164 and RFC 5424 (CEF, LEEF and ASA bodies handed to those parsers)",
    source_type: "syslog",
    sniff: looks_like_syslog,
    syslog_body: None,
    build: |_| Box::new(SyslogParser::new()),
};

/// Syslog lines; bodies another format claims are handed on (see the module comment).
#[derive(Default)]
pub struct SyslogParser {
    /// Parsers of body formats, made when first needed: (index in FORMATS, parser).
    bodies: Vec<(usize, Box<dyn Parser>)>,
}

impl SyslogParser {
    pub fn new() -> SyslogParser {
        SyslogParser::default()
    }
}

/// The format that claims `text` as its body, by its index in the registry.
fn body_format(text: &str) -> Option<usize> {
    let text = text.trim_start();
    FORMATS.iter().position(|f| f.syslog_body.is_some_and(|claims| claims(text)))
}

impl Parser for SyslogParser {
    fn parse(&mut self, line: &str, out: &mut Vec<Event>) -> Result<(), ParseError> {
        let header = match parse_header(line) {
            Ok(h) => h,
            // A relay that strips the syslog header leaves the bare body.
            Err(e) => match body_format(line) {
                Some(format) => return self.hand_on(format, line, out).map_err(|_| e),
                None => return Err(e),
            },
        };
        if let Some(format) = body_format(header.msg).or_else(|| body_format(header.full_msg)) {
            // A body that only looked like CEF or LEEF is still a good syslog message.
            if self.hand_on(format, line, out).is_ok() {
                return Ok(());
            }
        }
        out.push(syslog_event(&header));
        Ok(())
    }
}

impl SyslogParser {
    fn hand_on(&mut self, format: usize, line: &str, out: &mut Vec<Event>) -> Result<(), ParseError> {
        let at = match self.bodies.iter().position(|(f, _)| *f == format) {
            Some(at) => at,
            None => {
                self.bodies.push((format, (FORMATS[format].build)(None)));
                self.bodies.len() - 1
            }
        };
        let before = out.len();
        let result = self.bodies[at].1.parse(line, out);
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
    use crate::error::ErrorType;
    use crate::event::{parse_rfc3339_ms, syslog_time_to_ms};
    use crate::parse::normalize::normalize_protocol;
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
