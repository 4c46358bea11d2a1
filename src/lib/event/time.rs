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

/// A month, day and time of day without a year (Snort's alert_fast, BSD syslog) to
/// epoch milliseconds, UTC. Such logs mean "this year", but a line written on 31
/// December and read on 1 January would then land a year ahead; so the year is the
/// current one unless that puts the time more than a day after `now_ms` (the day of
/// slack absorbs clocks and time zones), else the year before. A 29 February goes to
/// the latest leap year that fits.
pub fn month_day_time_to_ms(month: u32, day: u32, time: chrono::NaiveTime, now_ms: i64) -> Option<i64> {
    use chrono::Datelike;
    const DAY_MS: i64 = 86_400_000;
    let this_year = DateTime::from_timestamp_millis(now_ms)?.year();
    // Eight years back always reaches a leap year (2100 is not one).
    for year in (this_year - 8..=this_year).rev() {
        let Some(date) = chrono::NaiveDate::from_ymd_opt(year, month, day) else { continue };
        let ms = date.and_time(time).and_utc().timestamp_millis();
        if ms <= now_ms.saturating_add(DAY_MS) {
            return Some(ms);
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

    #[test]
    fn month_day_time_takes_the_year_that_is_not_in_the_future() {
        let t = |h, m, s, ms| chrono::NaiveTime::from_hms_milli_opt(h, m, s, ms).unwrap();
        let now = parse_rfc3339_ms("2024-01-01T00:10:00Z").unwrap();
        // The same year.
        assert_eq!(month_day_time_to_ms(1, 1, t(0, 5, 0, 123), now), parse_rfc3339_ms("2024-01-01T00:05:00.123Z"));
        // Up to a day ahead is still this year (clock skew, time zones).
        assert_eq!(month_day_time_to_ms(1, 1, t(23, 0, 0, 0), now), parse_rfc3339_ms("2024-01-01T23:00:00Z"));
        // December read in January is last year's.
        assert_eq!(month_day_time_to_ms(12, 31, t(23, 59, 59, 0), now), parse_rfc3339_ms("2023-12-31T23:59:59Z"));
        // 29 February goes back to the latest leap year.
        let now = parse_rfc3339_ms("2027-06-01T00:00:00Z").unwrap();
        assert_eq!(month_day_time_to_ms(2, 29, t(12, 0, 0, 0), now), parse_rfc3339_ms("2024-02-29T12:00:00Z"));
        assert_eq!(month_day_time_to_ms(2, 30, t(12, 0, 0, 0), now), None);
        assert_eq!(month_day_time_to_ms(13, 1, t(12, 0, 0, 0), now), None);
    }
}
