//! Suricata EVE JSON, every event type. Nested objects are flattened to dotted keys
//! (`alert.signature`, `http.hostname`) so that every stage sees one flat event.

use super::flatten::flatten_json;
use super::{FormatSpec, ParseError, Parser};
use crate::event::get_str;
use crate::event::{fields, parse_rfc3339_ms, Event};
use serde_json::Value;

/// The registry's entry.
pub(super) const FORMAT: FormatSpec = FormatSpec {
    name: "suricata",
    aliases: &["eve"],
    about: "EVE JSON, every event type; nested objects flattened (`alert.signature`)",
    source_type: "suricata.<event_type>",
    sniff: |line| super::sniff_json(line).is_some_and(|map| map.contains_key("event_type")),
    syslog_body: None,
    build: |_| Box::new(SuricataParser::new()),
};

const RENAMES: [(&str, &str); 4] = [
    ("src_ip", fields::IP_SRC_ADDR),
    ("dest_ip", fields::IP_DST_ADDR),
    ("src_port", fields::IP_SRC_PORT),
    ("dest_port", fields::IP_DST_PORT),
];

#[derive(Default)]
pub struct SuricataParser;

impl SuricataParser {
    pub fn new() -> SuricataParser {
        SuricataParser
    }
}

/// Our names for EVE's top-level keys.
fn rename(key: &str) -> Option<&'static str> {
    match key {
        "proto" => Some(fields::PROTOCOL),
        other => RENAMES.iter().find(|(theirs, _)| *theirs == other).map(|(_, ours)| *ours),
    }
}

impl Parser for SuricataParser {
    fn parse(&mut self, line: &str, out: &mut Vec<Event>) -> Result<(), ParseError> {
        let mut event = flatten_json(line, rename)?;
        let Some(event_type) = get_str(&event, "event_type") else {
            return Err(ParseError::error("EVE record without event_type"));
        };
        let source_type = format!("suricata.{event_type}");
        // EVE's own `timestamp` (text) becomes ours (epoch ms), in the same place.
        match event.get_mut(fields::TIMESTAMP) {
            Some(slot) => match slot.as_str().and_then(parse_rfc3339_ms) {
                Some(ms) => *slot = Value::from(ms),
                None => return Err(ParseError::invalid("EVE record without a valid timestamp")),
            },
            None => return Err(ParseError::invalid("EVE record without a valid timestamp")),
        }
        if let Some(Value::String(proto)) = event.get_mut(fields::PROTOCOL) {
            proto.make_ascii_lowercase();
            if proto == "ipv6-icmp" || proto == "icmpv6" {
                *proto = "icmp6".to_owned();
            }
        }
        for key in [fields::IP_SRC_ADDR, fields::IP_DST_ADDR] {
            if let Some(Value::String(ip)) = event.get_mut(key) {
                if !crate::event::canonicalize_ip_in_place(ip) {
                    return Err(ParseError::invalid(format!("{key} is not an IP address: {ip:?}")));
                }
            }
        }
        event.insert(fields::SOURCE_TYPE.to_owned(), Value::from(source_type));
        out.push(event);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_is_flattened_and_normalized() {
        let line = r#"{"timestamp":"2016-01-28T15:29:48.512345+0000","flow_id":123,"event_type":"alert","src_ip":"10.0.0.1","src_port":1234,"dest_ip":"10.0.0.2","dest_port":80,"proto":"TCP","alert":{"signature":"ET POLICY x","severity":2,"metadata":{"tag":["a"]}}}"#;
        let mut out = Vec::new();
        SuricataParser::new().parse(line, &mut out).unwrap();
        let e = &out[0];
        assert_eq!(e["timestamp"], 1_453_994_988_512i64);
        assert_eq!(e["source.type"], "suricata.alert");
        assert_eq!(e["protocol"], "tcp");
        assert_eq!(e["ip_dst_port"], 80);
        assert_eq!(e["flow_id"], 123);
        assert_eq!(e["alert.signature"], "ET POLICY x");
        assert_eq!(e["alert.metadata.tag"], serde_json::json!(["a"]));
    }

    #[test]
    fn missing_event_type_is_an_error() {
        let err = SuricataParser::new().parse(r#"{"timestamp":"2016-01-28T15:29:48Z"}"#, &mut Vec::new()).unwrap_err();
        assert!(err.message.contains("event_type"));
    }
}
