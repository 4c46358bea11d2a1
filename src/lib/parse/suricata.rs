//! Suricata EVE JSON, every event type. Nested objects are flattened to dotted keys
//! (`alert.signature`, `http.hostname`) so that every stage sees one flat event.

use super::{json_object, ParseError, Parser};
use crate::event::{fields, parse_rfc3339_ms, Event};
use serde_json::Value;

const RENAMES: [(&str, &str); 4] = [
    ("src_ip", fields::IP_SRC_ADDR),
    ("dest_ip", fields::IP_DST_ADDR),
    ("src_port", fields::IP_SRC_PORT),
    ("dest_port", fields::IP_DST_PORT),
];

/// Nesting kept when flattening; deeper objects stay as JSON values.
const MAX_FLATTEN_DEPTH: usize = 16;

#[derive(Default)]
pub struct SuricataParser;

impl SuricataParser {
    pub fn new() -> SuricataParser {
        SuricataParser
    }
}

impl Parser for SuricataParser {
    fn parse(&mut self, line: &str, out: &mut Vec<Event>) -> Result<(), ParseError> {
        let object = json_object(line)?;
        let Some(event_type) = object.get("event_type").and_then(Value::as_str).map(str::to_owned) else {
            return Err(ParseError::error("EVE record without event_type"));
        };
        let Some(ms) = object.get("timestamp").and_then(Value::as_str).and_then(parse_rfc3339_ms) else {
            return Err(ParseError::invalid("EVE record without a valid timestamp"));
        };
        let mut event = Event::with_capacity(object.len() + 8);
        event.insert(fields::TIMESTAMP.to_owned(), Value::from(ms));
        for (key, value) in object {
            // Renamed as they are copied: moving keys afterwards costs a shift each.
            if let Some((_, ours)) = RENAMES.iter().find(|(theirs, _)| *theirs == key) {
                event.insert((*ours).to_owned(), value);
                continue;
            }
            match key.as_str() {
                "timestamp" => {}
                "proto" => {
                    let name = match value.as_str().map(str::to_ascii_lowercase) {
                        Some(p) if p == "ipv6-icmp" || p == "icmpv6" => Value::from("icmp6"),
                        Some(p) => Value::from(p),
                        None => value,
                    };
                    event.insert(fields::PROTOCOL.to_owned(), name);
                }
                _ => flatten_into(&mut event, key, value, 0),
            }
        }
        for key in [fields::IP_SRC_ADDR, fields::IP_DST_ADDR] {
            if let Some(Value::String(ip)) = event.get_mut(key) {
                if !crate::event::canonicalize_ip_in_place(ip) {
                    return Err(ParseError::invalid(format!("{key} is not an IP address: {ip:?}")));
                }
            }
        }
        event.insert(fields::SOURCE_TYPE.to_owned(), Value::from(format!("suricata.{event_type}")));
        out.push(event);
        Ok(())
    }
}

/// `{"alert": {"signature": "x"}}` -> `"alert.signature": "x"`.
pub(crate) fn flatten_into(event: &mut Event, key: String, value: Value, depth: usize) {
    match value {
        Value::Object(inner) if depth < MAX_FLATTEN_DEPTH && !inner.is_empty() => {
            for (k, v) in inner {
                flatten_into(event, format!("{key}.{k}"), v, depth + 1);
            }
        }
        other => {
            event.insert(key, other);
        }
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
