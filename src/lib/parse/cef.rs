//! ArcSight Common Event Format (CEF), alone or behind a syslog header. The header
//! fields take the names Apache Metron's CEFParser gave them; extension keys keep their
//! own names, except the 5-tuple, and custom fields (`cs1`, `cn2`, `flexString1`...)
//! are named by their labels, as Metron did.

use super::normalize::{move_ip, move_port, move_protocol};
use super::pairs::split_pairs;
use super::syslog_header::{self, add_pri_names};
use super::{FormatSpec, ParseError, Parser};
use crate::event::get_str;
use crate::event::{fields, now_ms, parse_device_time_ms, Event};
use serde_json::Value;

/// The registry's entry.
pub(super) const FORMAT: FormatSpec = FormatSpec {
    name: "cef",
    aliases: &[],
    about: "ArcSight CEF, with or without a syslog header",
    source_type: "cef",
    sniff: |line| {
        line.starts_with("CEF:")
            || (syslog_header::looks_like_syslog(line) && line.contains("CEF:"))
            || line.contains("CEF:0|")
            || line.contains("CEF:1|")
    },
    syslog_body: Some(|body| body.starts_with("CEF:")),
    build: |_| Box::new(CefParser::new()),
};

/// Metron's names for the six header fields after the version.
const HEADER_NAMES: [&str; 6] = ["DeviceVendor", "DeviceProduct", "DeviceVersion", "DeviceEvent", "Name", "Severity"];

/// Extension keys holding the event time, in order of preference.
const TIME_KEYS: [&str; 2] = ["rt", "start"];

/// Names a custom-field label may not take: they belong to the event model.
const RESERVED: [&str; 11] = fields::STANDARD;

#[derive(Default)]
pub struct CefParser;

impl CefParser {
    pub fn new() -> CefParser {
        CefParser
    }
}

impl Parser for CefParser {
    fn parse(&mut self, line: &str, out: &mut Vec<Event>) -> Result<(), ParseError> {
        let Some(at) = line.find("CEF:") else {
            return Err(ParseError::error("no CEF: header"));
        };
        let header = syslog_header::parse_prefix(&line[..at])?;
        let (head, extension) = split_header(&line[at + 4..])?;
        let mut event = crate::event::event_with_capacity(40);
        for (name, value) in HEADER_NAMES.iter().zip(&head[1..]) {
            let value = if *name == "Severity" { severity(value) } else { Value::from(value.as_str()) };
            event.insert((*name).to_owned(), value);
        }
        let mut labels = Vec::new();
        for (key, raw) in split_pairs(extension) {
            let value = unescape_value(raw);
            // An empty value says nothing; the raw line keeps it.
            if value.is_empty() {
                continue;
            }
            match key.strip_suffix("Label").filter(|base| !base.is_empty()) {
                Some(base) => labels.push((base, value)),
                None => {
                    event.insert(key.to_owned(), Value::from(value));
                }
            }
        }
        apply_labels(&mut event, labels);
        move_ip(&mut event, "src", fields::IP_SRC_ADDR);
        move_ip(&mut event, "dst", fields::IP_DST_ADDR);
        move_port(&mut event, "spt", fields::IP_SRC_PORT);
        move_port(&mut event, "dpt", fields::IP_DST_PORT);
        move_protocol(&mut event, "proto");
        // A device time that cannot be read falls back to the syslog time, then to now:
        // the raw value stays in its field, and the event is not lost over it.
        let device_time = TIME_KEYS.iter().find_map(|k| get_str(&event, k).and_then(parse_device_time_ms));
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
        event.insert(fields::SOURCE_TYPE.into(), Value::from("cef"));
        out.push(event);
        Ok(())
    }
}

/// `0|Vendor|Product|1.0|100|Name|5|ext...` -> (the seven header fields, ext), with
/// `\|` and `\\` unescaped in the header.
fn split_header(body: &str) -> Result<(Vec<String>, &str), ParseError> {
    let mut head = Vec::with_capacity(7);
    let mut current = String::new();
    let mut chars = body.char_indices();
    let mut extension = None;
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, e @ ('|' | '\\'))) => current.push(e),
                Some((_, other)) => {
                    current.push('\\');
                    current.push(other);
                }
                None => current.push('\\'),
            },
            '|' => {
                head.push(std::mem::take(&mut current));
                if head.len() == 7 {
                    extension = Some(&body[i + 1..]);
                    break;
                }
            }
            other => current.push(other),
        }
    }
    let extension = match extension {
        Some(ext) => ext,
        // A record without an extension may end at the severity, without the last `|`.
        None if head.len() == 6 && !current.contains('=') => {
            head.push(current);
            ""
        }
        None => {
            return Err(ParseError::invalid(format!("CEF header has {} of its 7 |-separated fields", head.len())));
        }
    };
    let version = head[0].trim();
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(ParseError::invalid(format!("CEF version is not a number: {version:?}")));
    }
    Ok((head, extension))
}

/// Metron's CEFParser made Severity an integer; the CEF words become the top of their
/// range as it did. Other text is kept as written.
fn severity(text: &str) -> Value {
    let text = text.trim();
    if let Ok(n) = text.parse::<i64>() {
        return Value::from(n);
    }
    match text.to_ascii_lowercase().as_str() {
        "unknown" => Value::from(0),
        "low" => Value::from(2),
        "medium" => Value::from(5),
        "high" => Value::from(8),
        "very-high" | "very high" => Value::from(10),
        _ => Value::from(text),
    }
}

/// CEF's extension escapes: `\=`, `\\`, `\n`, `\r` (and `\|`, which some devices
/// escape needlessly). Other backslashes are kept, as in `C:\Windows`.
fn unescape_value(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(e @ ('=' | '\\' | '|')) => out.push(e),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// `cs2Label=Safe Name cs2=x` -> `"Safe Name": "x"`. A label whose name is taken keeps
/// both as they were, so that nothing is overwritten.
fn apply_labels(event: &mut Event, labels: Vec<(&str, String)>) {
    for (base, label) in labels {
        // CyberArk quotes its labels (`cs2Label="Safe Name"`); the quotes are not the name.
        let name = label.strip_prefix('"').and_then(|l| l.strip_suffix('"')).unwrap_or(&label).trim();
        if !event.contains_key(base) {
            continue;
        }
        if name.is_empty() || event.contains_key(name) || RESERVED.contains(&name) {
            event.insert(format!("{base}Label"), Value::from(label.as_str()));
            continue;
        }
        if let Some(value) = event.shift_remove(base) {
            event.insert(name.to_owned(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorType;
    use crate::event::parse_rfc3339_ms;

    fn parse(line: &str) -> Event {
        let mut out = Vec::new();
        CefParser::new().parse(line, &mut out).unwrap();
        out.remove(0)
    }

    fn sample(name: &str) -> &'static str {
        match name {
            "adallom" => include_str!("../../../testdata/syslog/metron-cef-adallom.cef"),
            "cyberark" => include_str!("../../../testdata/syslog/metron-cef-cyberark.cef"),
            "palo" => include_str!("../../../testdata/syslog/metron-cef-palo.cef"),
            _ => include_str!("../../../testdata/syslog/metron-cef-waf.cef"),
        }
        .trim_end()
    }

    /// Every field Metron's schema for the sample requires, with the type it requires.
    #[test]
    fn metron_samples_meet_metron_schemas() {
        let schemas = [
            ("adallom", include_str!("../../../testdata/syslog/metron-cef-adallom.schema.json")),
            ("cyberark", include_str!("../../../testdata/syslog/metron-cef-cyberark.schema.json")),
            ("palo", include_str!("../../../testdata/syslog/metron-cef-palo.schema.json")),
            ("waf", include_str!("../../../testdata/syslog/metron-cef-waf.schema.json")),
        ];
        for (name, schema) in schemas {
            let schema: serde_json::Value = serde_json::from_str(schema).unwrap();
            let mut e = parse(sample(name));
            e.insert("original_string".into(), Value::from(sample(name)));
            for key in schema["required"].as_array().unwrap() {
                let key = key.as_str().unwrap();
                let value = e.get(key).unwrap_or_else(|| panic!("{name}: {key} missing in {e:#?}"));
                let ok = match schema["properties"][key]["type"].as_str() {
                    Some("integer") => value.is_i64(),
                    Some("string") => value.is_string(),
                    _ => true,
                };
                assert!(ok, "{name}: {key} = {value}");
            }
        }
    }

    #[test]
    fn cyberark_labels_escapes_and_syslog_header() {
        let e = parse(sample("cyberark"));
        assert_eq!(e["DeviceVendor"], "Cyber-Ark");
        assert_eq!(e["DeviceEvent"], "295");
        assert_eq!(e["Severity"], 5);
        assert_eq!(e["act"], "Retrieve password");
        assert_eq!(e["fname"], r"Root\ABC phobos3 - COMP");
        assert_eq!(e["Safe Name"], "Security Vulnerability Mgmt");
        assert_eq!(e["Other info"], "101.198.70.93");
        assert_eq!(e["Ticket Id"], "Needed to verify config files being pulled");
        assert_eq!(e["msg"], "Needed to verify config files being pulled");
        assert_eq!(e["host"], "HHHPVATN1");
        assert!(!e.contains_key("dhost"), "empty values are left out");
        assert!(!e.contains_key("cs1Label") && !e.contains_key("cs2"));
        // `Mar 21 14:05:02` has no year: the syslog rule gives it one.
        let want = crate::event::syslog_time_to_ms(3, 21, 14, 5, 2, None).unwrap();
        assert_eq!(e["timestamp"], want);
    }

    #[test]
    fn palo_alto_tuple_and_rt() {
        let e = parse(sample("palo"));
        assert_eq!(e["ip_src_addr"], "10.10.10.10");
        assert_eq!(e["ip_dst_addr"], "20.20.20.20");
        assert_eq!(e["ip_src_port"], 18371);
        assert_eq!(e["ip_dst_port"], 443);
        assert_eq!(e["protocol"], "tcp");
        assert_eq!(e["app"], "ssl");
        assert_eq!(e["Virtual Sys"], "vsys2");
        assert_eq!(e["Flags"], "0x8000");
        assert_eq!(e["timestamp"], parse_rfc3339_ms("2017-04-07T00:10:10Z").unwrap());
        assert_eq!(e["syslog_facility"], "user");
        assert_eq!(e["host"], "hostname");
        assert!(!e.contains_key("src") && !e.contains_key("proto"));
    }

    #[test]
    fn waf_empty_name_and_worded_severity() {
        let e = parse(sample("waf"));
        assert_eq!(e["Name"], "");
        assert_eq!(e["Severity"], 8);
        assert_eq!(e["ServerGroup"], "ABC-Secure");
        assert_eq!(e["timestamp"], parse_rfc3339_ms("2016-03-31T13:04:55Z").unwrap());
        assert_eq!(e["duser"], "${Alert.username}");
    }

    #[test]
    fn adallom_start_and_iso_prefix() {
        let e = parse(sample("adallom"));
        assert_eq!(e["timestamp"], 1_459_517_280_810i64);
        assert_eq!(e["consoleUrl"], "https://abcd-remote.console.arc.com/#/alerts/56fe779ee4b0459f4e9a484a");
        assert_eq!(e["users"], r#"["another@example.com"]"#);
    }

    #[test]
    fn metron_unit_test_cases() {
        // CEFParserTest.testEscaping and testCustomLabelWithSpace.
        let e = parse(
            r"Sep 19 08:26:10 host CEF:0|security|threatmanager|1.0|100|detected a \| in packet|10|src=10.0.0.1 act=blocked a \\ dst=1.1.1.1",
        );
        assert_eq!(e["Name"], "detected a | in packet");
        assert_eq!(e["act"], r"blocked a \");
        assert_eq!(e["ip_dst_addr"], "1.1.1.1");
        let e = parse("CEF:0|Security|threatmanager|1.0|100|worm|10|src=10.0.0.1 custom=Text with space customLabel=Label with space");
        assert_eq!(e["Label with space"], "Text with space");
        // testTimestampPriority: rt beats the syslog time.
        let e = parse("2016-06-01T09:29:11.356-04:00 host CEF:0|S|t|1.0|100|w|10|src=10.0.0.1 rt=May 1 2016 09:29:11.356 -0400 dst=2.1.2.2");
        assert_eq!(e["timestamp"], parse_rfc3339_ms("2016-05-01T09:29:11.356-04:00").unwrap());
        // NiFi's sample in testSuccessfulWhenCEFContainsJSON.
        let e = parse(
            r#"CEF:0|TestVendor|TestProduct|TestVersion|TestEventClassID|TestName|Low|rt=Feb 09 2015 00:27:43 UTC cn3Label=Test Long cn3=9223372036854775807 cfp1=1.234 cfp1Label=Test FP Number smac=00:00:0c:07:ac:00 c6a3=2001:cdba::3257:9652 c6a3Label=Test IPv6 cs1Label=Test String cs1=test test test chocolate destinationTranslatedAddress=123.123.123.123 cs2Label=JSON payload cs2={"test_test_test": "chocolate!", "what?!?": "Simple! test test test chocolate!"}"#,
        );
        assert_eq!(e["timestamp"], 1_423_441_663_000i64);
        assert_eq!(e["Severity"], 2);
        assert_eq!(e["Test Long"], "9223372036854775807");
        assert_eq!(e["Test IPv6"], "2001:cdba::3257:9652");
        assert_eq!(e["Test String"], "test test test chocolate");
        let inner: serde_json::Value = serde_json::from_str(e["JSON payload"].as_str().unwrap()).unwrap();
        assert_eq!(inner["test_test_test"], "chocolate!");
    }

    #[test]
    fn extension_escapes_and_key_boundaries() {
        let e = parse(r"CEF:1|V|P|1|1|N|3|msg=a\=b c\nd request=http://x/?a=b&c=d fname=C:\\dir\\f.exe");
        assert_eq!(e["msg"], "a=b c\nd");
        assert_eq!(e["request"], "http://x/?a=b&c=d");
        assert_eq!(e["fname"], r"C:\dir\f.exe");
    }

    #[test]
    fn labels_never_overwrite() {
        let e = parse("CEF:0|V|P|1|1|N|3|src=10.0.0.1 cs1=x cs1Label=ip_src_addr cs2=y cs2Label=msg msg=m");
        assert_eq!(e["ip_src_addr"], "10.0.0.1");
        assert_eq!(e["cs1"], "x");
        assert_eq!(e["cs1Label"], "ip_src_addr");
        assert_eq!(e["msg"], "m");
        assert_eq!(e["cs2"], "y");
    }

    #[test]
    fn values_that_are_not_addresses_or_ports_stay_put() {
        let e = parse("CEF:0|V|P|1|1|N|3|src=gateway spt=http rt=whenever");
        assert_eq!(e["src"], "gateway");
        assert_eq!(e["spt"], "http");
        assert!(!e.contains_key("ip_src_addr") && !e.contains_key("ip_src_port"));
        assert!(e["timestamp"].as_i64().unwrap() > 0);
    }

    #[test]
    fn broken_headers_are_errors() {
        let mut p = CefParser::new();
        for (line, kind) in [
            ("hello", ErrorType::ParserError),
            ("CEF:|||", ErrorType::ParserInvalid),
            ("CEF:0|a|b|c", ErrorType::ParserInvalid),
            ("CEF:x|a|b|c|d|e|f|", ErrorType::ParserInvalid),
            ("<13>Feb 30 10:00:00 host CEF:0|a|b|c|d|e|1|", ErrorType::ParserInvalid),
        ] {
            assert_eq!(p.parse(line, &mut Vec::new()).unwrap_err().kind, kind, "{line}");
        }
        // No extension and no closing pipe is still a record.
        assert_eq!(parse("CEF:0|a|b|c|d|e|7")["Severity"], 7);
    }
    /// Near-misses of the format and arbitrary text: never a panic, and a line that
    /// parses gives one event with the standard fields.
    fn near_miss() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let prefixes = prop::sample::select(vec![
            "",
            "CEF:",
            "CEF:0|",
            "CEF:0|v|p|1|100|name|5|",
            "CEF:0|v|p|1|100|name|5|src=",
            "CEF:0|v\\|p|1|100|name|High|cs1Label=",
            "<14>Apr  7 10:10:10 hostname CEF: 0|a|b|c|d|e|1|rt=",
            "Mar 21 14:05:02 HOST CEF:0|a|b|c|d|e|1|msg=\\",
        ]);
        (prefixes, ".{0,160}").prop_map(|(p, rest)| format!("{p}{rest}"))
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_cef_never_panics(line in near_miss()) {
            let mut out = Vec::new();
            if CefParser::new().parse(&line, &mut out).is_ok() {
                proptest::prop_assert_eq!(out.len(), 1);
                proptest::prop_assert!(out[0]["timestamp"].is_i64());
                proptest::prop_assert!(out[0]["source.type"].is_string());
            }
        }
    }
}
