//! Time conversions: every event's `timestamp` is epoch milliseconds, UTC.

use chrono::DateTime;

/// Now, in epoch milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Epoch seconds as decimal text (Zeek's `ts`, `1402307733.473`) to milliseconds,
/// without going through a float so that no millisecond is lost to rounding.
pub fn epoch_ms_from_secs_str(text: &str) -> Option<i64> {
    let text = text.trim();
    let (neg, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (secs, frac) = body.split_once('.').unwrap_or((body, ""));
    if secs.is_empty() && frac.is_empty() {
        return None;
    }
    if !secs.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i64 = if secs.is_empty() { 0 } else { secs.parse().ok()? };
    let mut ms: i64 = 0;
    for (i, b) in frac.bytes().take(3).enumerate() {
        ms += i64::from(b - b'0') * [100, 10, 1][i];
    }
    let total = secs.checked_mul(1000)?.checked_add(ms)?;
    Some(if neg { -total } else { total })
}

/// RFC 3339 / ISO 8601 with an offset (Suricata's `2016-01-28T15:29:48.512345+0000`,
/// with or without the colon in the offset) to epoch milliseconds.
pub fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_millis());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(text, fmt) {
            return Some(t.timestamp_millis());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeek_ts_to_ms_keeps_every_millisecond() {
        assert_eq!(epoch_ms_from_secs_str("1402307733.473"), Some(1_402_307_733_473));
        assert_eq!(epoch_ms_from_secs_str("1402307733.473999"), Some(1_402_307_733_473));
        assert_eq!(epoch_ms_from_secs_str("1402307733"), Some(1_402_307_733_000));
        assert_eq!(epoch_ms_from_secs_str("1.1"), Some(1_100));
        assert_eq!(epoch_ms_from_secs_str("abc"), None);
        assert_eq!(epoch_ms_from_secs_str(""), None);
        assert_eq!(epoch_ms_from_secs_str("99999999999999999999"), None);
    }

    #[test]
    fn suricata_offsets() {
        assert_eq!(parse_rfc3339_ms("2016-01-28T15:29:48.512345+0000"), Some(1_453_994_988_512));
        assert_eq!(parse_rfc3339_ms("2016-01-28T16:29:48.512+01:00"), Some(1_453_994_988_512));
        assert_eq!(parse_rfc3339_ms("2016-01-28T15:29:48Z"), Some(1_453_994_988_000));
        assert_eq!(parse_rfc3339_ms("yesterday"), None);
    }
}
