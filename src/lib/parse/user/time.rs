//! `timestamp_format`: how a section's time field is read.

use crate::event::{epoch_ms_from_secs_str, parse_rfc3339_ms};
use chrono::format::{Fixed, Item, StrftimeItems};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde_json::Value;

#[derive(Debug, Clone)]
pub(super) enum TimeFormat {
    Auto,
    EpochS,
    EpochMs,
    Rfc3339,
    Strftime { format: String, with_zone: bool },
}

pub(super) fn compile_time_format(format: &str) -> Result<TimeFormat, String> {
    Ok(match format {
        "auto" => TimeFormat::Auto,
        "epoch_s" => TimeFormat::EpochS,
        "epoch_ms" => TimeFormat::EpochMs,
        "rfc3339" => TimeFormat::Rfc3339,
        strftime => {
            let mut with_zone = false;
            let mut has_field = false;
            for item in StrftimeItems::new(strftime) {
                match item {
                    Item::Error => {
                        return Err(format!("timestamp_format {strftime:?}: not a valid strftime format"));
                    }
                    Item::Fixed(Fixed::TimezoneName) => {
                        return Err(format!("timestamp_format {strftime:?}: %Z (zone names) cannot be read; use %z"));
                    }
                    Item::Fixed(
                        Fixed::TimezoneOffset
                        | Fixed::TimezoneOffsetColon
                        | Fixed::TimezoneOffsetDoubleColon
                        | Fixed::TimezoneOffsetTripleColon
                        | Fixed::TimezoneOffsetColonZ
                        | Fixed::TimezoneOffsetZ
                        | Fixed::RFC2822
                        | Fixed::RFC3339,
                    ) => {
                        with_zone = true;
                        has_field = true;
                    }
                    Item::Numeric(..) | Item::Fixed(_) => has_field = true,
                    _ => {}
                }
            }
            if !has_field {
                return Err(format!(
                    "timestamp_format {strftime:?}: use auto, epoch_s, epoch_ms, rfc3339 or a strftime format such as \"%Y-%m-%d %H:%M:%S\""
                ));
            }
            TimeFormat::Strftime { format: strftime.to_owned(), with_zone }
        }
    })
}

impl TimeFormat {
    pub(super) fn describe(&self) -> &str {
        match self {
            TimeFormat::Auto => "auto: epoch seconds or milliseconds, or RFC 3339; set timestamp_format",
            TimeFormat::EpochS => "epoch_s",
            TimeFormat::EpochMs => "epoch_ms",
            TimeFormat::Rfc3339 => "rfc3339",
            TimeFormat::Strftime { format, .. } => format,
        }
    }
}

/// Epoch values below this are seconds, above it milliseconds (1e11 s is the year
/// 5138; 1e11 ms is 1973).
const AUTO_MS_THRESHOLD: f64 = 1e11;

pub(super) fn read_time(value: &Value, format: &TimeFormat) -> Option<i64> {
    let text = match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let epoch_ms = |text: &str| text.parse::<i64>().ok().or_else(|| epoch_ms_from_secs_str(text).map(|ms| ms / 1000));
    match format {
        TimeFormat::EpochS => epoch_ms_from_secs_str(&text).or_else(|| float_ms(&text, 1000.0)),
        TimeFormat::EpochMs => epoch_ms(&text).or_else(|| float_ms(&text, 1.0)),
        TimeFormat::Rfc3339 => parse_rfc3339_ms(&text),
        TimeFormat::Auto => match text.parse::<f64>() {
            Ok(f) if f.is_finite() && f.abs() < AUTO_MS_THRESHOLD => {
                epoch_ms_from_secs_str(&text).or_else(|| float_ms(&text, 1000.0))
            }
            Ok(f) if f.is_finite() => epoch_ms(&text).or_else(|| float_ms(&text, 1.0)),
            Ok(_) => None,
            Err(_) => parse_rfc3339_ms(&text),
        },
        TimeFormat::Strftime { format, with_zone } => {
            if *with_zone {
                if let Ok(t) = DateTime::parse_from_str(&text, format) {
                    return Some(t.timestamp_millis());
                }
            }
            if let Ok(t) = NaiveDateTime::parse_from_str(&text, format) {
                return Some(t.and_utc().timestamp_millis());
            }
            NaiveDate::parse_from_str(&text, format).ok()?.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp_millis())
        }
    }
}

/// Numbers written with an exponent (`1.4e9`), which the exact text readers refuse.
fn float_ms(text: &str, scale: f64) -> Option<i64> {
    let f = text.parse::<f64>().ok()? * scale;
    (f.is_finite() && f.abs() < 9.0e15).then_some(f as i64)
}
