//! YAF flow records as pipe-delimited text (yafscii's delimited output, as Apache
//! Metron ingested it), with the field names of Metron's `YAF_DELIMITED` grok
//! pattern so that Metron-era queries keep working.

use super::{FormatSpec, ParseError, Parser};
use crate::event::{canonical_ip, fields, protocol_name, Event};
use chrono::NaiveDateTime;
use serde_json::{Number, Value};

/// The registry's entry.
pub(super) const FORMAT: FormatSpec = FormatSpec {
    name: "yaf",
    aliases: &[],
    about: "YAF text flows",
    source_type: "yaf",
    sniff,
    syslog_body: None,
    build: |_| Box::new(YafParser::new()),
};

fn sniff(line: &str) -> bool {
    static FIRST_LINE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let re = FIRST_LINE.get_or_init(|| regex::Regex::new(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+\|").ok());
    re.as_ref().is_some_and(|r| r.is_match(line))
}

const SOURCE_TYPE: &str = "yaf";

#[derive(Clone, Copy)]
enum Kind {
    /// `yyyy-MM-dd HH:mm:ss.SSS` to epoch ms.
    Time,
    /// Seconds with a fraction (`duration`, `rtt`).
    Seconds,
    Int,
    Protocol,
    Ip,
    /// Kept as written: TCP flag letters, and `isn`/`risn`, which are hexadecimal
    /// sequence numbers (Metron turned the all-digit ones into decimal integers,
    /// which changed their value).
    Text,
}

/// The columns in order (Metron's `YAF_DELIMITED`). The last one takes the rest of
/// the line, as Metron's GREEDYDATA did.
const COLUMNS: [(&str, Kind); 23] = [
    ("start_time", Kind::Time),
    ("end_time", Kind::Time),
    ("duration", Kind::Seconds),
    ("rtt", Kind::Seconds),
    (fields::PROTOCOL, Kind::Protocol),
    (fields::IP_SRC_ADDR, Kind::Ip),
    (fields::IP_SRC_PORT, Kind::Int),
    (fields::IP_DST_ADDR, Kind::Ip),
    (fields::IP_DST_PORT, Kind::Int),
    ("iflags", Kind::Text),
    ("uflags", Kind::Text),
    ("riflags", Kind::Text),
    ("ruflags", Kind::Text),
    ("isn", Kind::Text),
    ("risn", Kind::Text),
    ("tag", Kind::Int),
    ("rtag", Kind::Int),
    ("pkt", Kind::Int),
    ("oct", Kind::Int),
    ("rpkt", Kind::Int),
    ("roct", Kind::Int),
    ("app", Kind::Int),
    ("end_reason", Kind::Text),
];

#[derive(Default)]
pub struct YafParser;

impl YafParser {
    pub fn new() -> YafParser {
        YafParser
    }
}

impl Parser for YafParser {
    fn parse(&mut self, line: &str, out: &mut Vec<Event>) -> Result<(), ParseError> {
        let line = line.trim_end_matches('\r');
        // YAF pads columns on the left. The last column takes the rest of the line as
        // written, trailing spaces included, as Metron's GREEDYDATA kept it.
        let values: Vec<&str> = line
            .splitn(COLUMNS.len(), '|')
            .enumerate()
            .map(|(i, v)| if i + 1 == COLUMNS.len() { v.trim_start() } else { v.trim() })
            .collect();
        if values.len() != COLUMNS.len() {
            return Err(ParseError::error(format!(
                "not a YAF flow record: {} |-separated columns where YAF writes {}",
                values.len(),
                COLUMNS.len()
            )));
        }
        let mut event = crate::event::event_with_capacity(COLUMNS.len() + 6);
        for ((name, kind), value) in COLUMNS.iter().zip(values) {
            let bad = |what: &str| ParseError::invalid(format!("{name}: not {what}: {value:?}"));
            let converted = match kind {
                Kind::Time => Value::from(yaf_time_ms(value).ok_or_else(|| bad("a yyyy-MM-dd HH:mm:ss.SSS time"))?),
                Kind::Seconds => {
                    let f: f64 = value.parse().map_err(|_| bad("a number of seconds"))?;
                    Value::Number(Number::from_f64(f).ok_or_else(|| bad("a finite number"))?)
                }
                Kind::Int => Value::from(value.parse::<u64>().map_err(|_| bad("an integer"))?),
                Kind::Protocol => {
                    let n: u8 = value.parse().map_err(|_| bad("an IP protocol number"))?;
                    Value::from(protocol_name(n).map_or_else(|| n.to_string(), str::to_owned))
                }
                Kind::Ip => Value::from(canonical_ip(value).ok_or_else(|| bad("an IP address"))?),
                Kind::Text => Value::from(value),
            };
            event.insert((*name).to_owned(), converted);
        }
        if let Some(start) = event.get("start_time").cloned() {
            event.insert(fields::TIMESTAMP.to_owned(), start);
        }
        event.insert(fields::SOURCE_TYPE.to_owned(), Value::from(SOURCE_TYPE));
        out.push(event);
        Ok(())
    }
}

/// YAF writes UTC; `T` or a space between date and time, milliseconds optional.
fn yaf_time_ms(text: &str) -> Option<i64> {
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|fmt| NaiveDateTime::parse_from_str(text, fmt).ok())
        .map(|t| t.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TCP: &str = "2016-01-28 15:29:48.512|2016-01-28 15:29:48.512|   0.000|   0.000|  6|                          \
                       216.21.170.221|   80|                               10.0.2.15|39468|      AS|       0|       0|       \
                       0|22efa001|00000000|000|000|       1|      44|       0|       0|    0|idle";

    fn parse(line: &str) -> Result<Event, ParseError> {
        let mut out = Vec::new();
        YafParser::new().parse(line, &mut out)?;
        Ok(out.remove(0))
    }

    #[test]
    fn metron_sample_flow_is_typed() {
        let e = parse(TCP).unwrap();
        assert_eq!(e["timestamp"], 1_453_994_988_512i64);
        assert_eq!(e["start_time"], 1_453_994_988_512i64);
        assert_eq!(e["end_time"], 1_453_994_988_512i64);
        assert_eq!(e["duration"], 0.0);
        assert_eq!(e["protocol"], "tcp");
        assert_eq!(e["ip_src_addr"], "216.21.170.221");
        assert_eq!(e["ip_src_port"], 80);
        assert_eq!(e["ip_dst_port"], 39468);
        assert_eq!(e["iflags"], "AS");
        assert_eq!(e["isn"], "22efa001");
        assert_eq!(e["risn"], "00000000");
        assert_eq!(e["tag"], 0);
        assert_eq!(e["oct"], 44);
        assert_eq!(e["end_reason"], "idle");
        let e = parse(&format!("{TCP} ")).unwrap();
        assert_eq!(e["end_reason"], "idle ", "kept as Metron kept it");
        assert_eq!(e["source.type"], "yaf");
    }

    #[test]
    fn unknown_protocol_numbers_stay_numbers_as_text() {
        let e = parse(&TCP.replacen("|  6|", "|253|", 1)).unwrap();
        assert_eq!(e["protocol"], "253");
    }

    #[test]
    fn wrong_shapes_and_values_are_errors() {
        assert_eq!(parse("a|b|c").unwrap_err().kind, crate::error::ErrorType::ParserError);
        let err = parse(&TCP.replacen("216.21.170.221", "216.21.170", 1)).unwrap_err();
        assert_eq!(err.kind, crate::error::ErrorType::ParserInvalid);
        assert!(err.message.contains("ip_src_addr"), "{}", err.message);
        let err = parse(&TCP.replacen("2016-01-28 15:29:48.512", "2016-13-28 15:29:48.512", 1)).unwrap_err();
        assert!(err.message.contains("start_time"), "{}", err.message);
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(line in "\\PC{0,300}") {
            let _ = YafParser::new().parse(&line, &mut Vec::new());
        }

        #[test]
        fn arbitrary_columns_never_panic(cols in proptest::collection::vec("[0-9a-fA-F:. -]{0,12}", 23)) {
            let _ = YafParser::new().parse(&cols.join("|"), &mut Vec::new());
        }
    }
}
