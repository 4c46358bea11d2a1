//! Error records: what a record that could not be processed becomes (DESIGN.md,
//! "errors"), so that records in = records out + filtered + errors, always.

use crate::event::{fields, now_ms, Event};
use serde_json::Value;
use sha1::{Digest, Sha1};

/// The `error_type` values of DESIGN.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    ParserError,
    ParserInvalid,
    EnrichmentError,
    ThreatIntelError,
    AlertError,
    ProfileError,
    StoreError,
}

impl ErrorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::ParserError => "parser_error",
            ErrorType::ParserInvalid => "parser_invalid",
            ErrorType::EnrichmentError => "enrichment_error",
            ErrorType::ThreatIntelError => "threatintel_error",
            ErrorType::AlertError => "alert_error",
            ErrorType::ProfileError => "profile_error",
            ErrorType::StoreError => "store_error",
        }
    }
}

/// How much of a raw record an error record keeps.
const RAW_KEEP: usize = 64 * 1024;

/// Builds an error record. `raw` is the record as it arrived (lossily decoded when
/// it was not UTF-8).
pub fn error_record(kind: ErrorType, sensor: &str, message: &str, raw: &str, file: &str, line: Option<u64>) -> Event {
    let mut raw_kept = raw;
    if raw_kept.len() > RAW_KEEP {
        let mut end = RAW_KEEP;
        while !raw_kept.is_char_boundary(end) {
            end -= 1;
        }
        raw_kept = &raw_kept[..end];
    }
    let hash = Sha1::digest(raw.as_bytes());
    let hash = crate::text::hex(&hash);
    let mut e = Event::default();
    e.insert(fields::SOURCE_TYPE.into(), "error".into());
    e.insert(fields::ERROR_TYPE.into(), kind.as_str().into());
    e.insert(fields::FAILED_SENSOR_TYPE.into(), sensor.into());
    e.insert(fields::MESSAGE.into(), message.into());
    e.insert(fields::RAW_MESSAGE.into(), raw_kept.into());
    e.insert(fields::ERROR_HASH.into(), hash.into());
    e.insert(fields::TIMESTAMP.into(), now_ms().into());
    e.insert(fields::FILE.into(), file.into());
    if let Some(line) = line {
        e.insert(fields::LINE.into(), Value::from(line));
    }
    e.insert(fields::GUID.into(), crate::event::new_guid().into());
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_record_has_every_design_field() {
        let e = error_record(ErrorType::ParserError, "zeek", "bad", "raw line", "conn.log", Some(3));
        for k in [
            "source.type",
            "error_type",
            "failed_sensor_type",
            "message",
            "raw_message",
            "error_hash",
            "timestamp",
            "file",
            "line",
            "guid",
        ] {
            assert!(e.contains_key(k), "{k}");
        }
        assert_eq!(e["error_type"], "parser_error");
        assert_eq!(e["line"], 3);
        assert_eq!(e["error_hash"].as_str().unwrap().len(), 40);
    }
}
