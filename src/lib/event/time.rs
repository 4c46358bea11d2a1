//! Time conversions: every event's `timestamp` is epoch milliseconds, UTC.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};

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
    // Every EVE record has one: read the common shape by hand, leave the rest to chrono.
    if let Some(ms) = rfc3339_fast(text.as_bytes()) {
        return Some(ms);
    }
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

/// `YYYY-MM-DD[T ]HH:MM:SS[.fff...](Z|±HH[:]MM)`, checked field by field; `None` for
/// anything else.
fn rfc3339_fast(b: &[u8]) -> Option<i64> {
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = b.get(range)?;
        digits.iter().try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&month)
        || day < 1
        || day > month_days[(month - 1) as usize]
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 3 {
                millis = millis * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        let digits = i - start;
        if digits == 0 {
            return None;
        }
        for _ in digits..3 {
            millis *= 10;
        }
    }
    let offset_minutes = match b.get(i..)? {
        [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, rest @ ..] => {
            let minutes = match rest {
                [b':', m1, m2] | [m1, m2] => [m1, m2],
                _ => return None,
            };
            let h = num_pair(*h1, *h2)?;
            let m = num_pair(*minutes[0], *minutes[1])?;
            if h > 23 || m > 59 {
                return None;
            }
            let total = h * 60 + m;
            if *sign == b'-' {
                -total
            } else {
                total
            }
        }
        _ => return None,
    };
    // Days from 1970-01-01 (Howard Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(secs * 1000 + millis)
}

fn num_pair(a: u8, b: u8) -> Option<i64> {
    (a.is_ascii_digit() && b.is_ascii_digit()).then(|| i64::from(a - b'0') * 10 + i64::from(b - b'0'))
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

/// Month number (1-12) of an English month name, abbreviated (`Jan`, `Sept`) or full,
/// in any case.
pub fn month_from_name(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    if name.len() < 3 {
        return None;
    }
    let position = MONTHS.iter().position(|full| {
        full.len() >= name.len() && full.as_bytes()[..name.len()].eq_ignore_ascii_case(name.as_bytes())
    })?;
    u32::try_from(position + 1).ok()
}

/// An RFC 3164 style time (`Jan  5 08:52:35`, maybe with a year after the day) to epoch
/// milliseconds, read as UTC. Without a year, [`month_day_time_to_ms`] picks it. A leap
/// second (`:60`) becomes the next second.
pub fn syslog_time_to_ms(month: u32, day: u32, hour: u32, minute: u32, second: u32, year: Option<i32>) -> Option<i64> {
    syslog_time_to_ms_at(month, day, hour, minute, second, year, now_ms())
}

fn syslog_time_to_ms_at(
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    year: Option<i32>,
    now: i64,
) -> Option<i64> {
    let (second, carry) = if second == 60 { (59, 1000) } else { (second, 0) };
    let time = NaiveTime::from_hms_opt(hour, minute, second)?;
    let ms = match year {
        Some(year) => NaiveDate::from_ymd_opt(year, month, day)?.and_time(time).and_utc().timestamp_millis(),
        None => month_day_time_to_ms(month, day, time, now)?,
    };
    Some(ms + carry)
}

/// A device's own time text (CEF `rt`, LEEF `devTime`) to epoch milliseconds, UTC
/// unless the text names a zone. Devices write many forms, so this accepts: epoch
/// seconds (up to 10 digits) or milliseconds; RFC 3339; the `MMM dd [yyyy] HH:mm:ss[.SSS]
/// [zone]` family the CEF and LEEF specifications allow; and, seen in the wild,
/// `dd MMMM yyyy HH:mm:ss` and `M/d/yyyy h:mm:ss AM`. A time without a year follows
/// [`syslog_time_to_ms`]. Anything it cannot read fully gives `None`, never a guess.
pub fn parse_device_time_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        if text.len() > 15 {
            return None;
        }
        let n: i64 = text.parse().ok()?;
        return Some(if text.len() <= 10 { n * 1000 } else { n });
    }
    if let Some(ms) = parse_rfc3339_ms(text) {
        return Some(ms);
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, fmt) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    parse_worded_time(text)
}

/// The `MMM dd yyyy HH:mm:ss.SSS zzz` family, token by token, in any order devices use.
fn parse_worded_time(text: &str) -> Option<i64> {
    let (mut month, mut day, mut year) = (None, None, None);
    let mut clock: Option<(u32, u32, u32, i64)> = None;
    let mut pm = None;
    let mut offset_secs = 0i64;
    for token in text.split(|c: char| c.is_whitespace() || c == ',').filter(|t| !t.is_empty()) {
        let first = token.as_bytes()[0];
        if first.is_ascii_digit() && token.contains(':') && clock.is_none() {
            clock = Some(parse_clock(token)?);
        } else if first.is_ascii_digit() && token.contains('/') && month.is_none() {
            let mut parts = token.split('/');
            let (m, d, y) = (parts.next()?, parts.next()?, parts.next()?);
            if parts.next().is_some() || y.len() != 4 {
                return None;
            }
            (month, day, year) = (Some(m.parse().ok()?), Some(d.parse().ok()?), Some(y.parse().ok()?));
        } else if token.bytes().all(|b| b.is_ascii_digit()) {
            match token.len() {
                4 if year.is_none() => year = Some(token.parse().ok()?),
                1 | 2 if day.is_none() => day = Some(token.parse().ok()?),
                _ => return None,
            }
        } else if token.eq_ignore_ascii_case("am") || token.eq_ignore_ascii_case("pm") {
            pm = Some(token.eq_ignore_ascii_case("pm"));
        } else if let Some(m) = month_from_name(token).filter(|_| month.is_none()) {
            month = Some(m);
        } else if is_weekday(token) {
            continue;
        } else {
            offset_secs = zone_offset_secs(token)?;
        }
    }
    let (mut hour, minute, second, frac_ms) = clock?;
    match pm {
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        _ => {}
    }
    let local = syslog_time_to_ms(month?, day?, hour, minute, second, year)?;
    Some(local + frac_ms - offset_secs * 1000)
}

/// `HH:mm`, `HH:mm:ss` or `HH:mm:ss.SSS` -> (hour, minute, second, milliseconds).
fn parse_clock(token: &str) -> Option<(u32, u32, u32, i64)> {
    let (hms, frac) = token.split_once(['.', ',']).unwrap_or((token, ""));
    let mut parts = hms.split(':');
    let hour = parts.next()?.parse().ok()?;
    let minute = parts.next()?.parse().ok()?;
    let second = match parts.next() {
        Some(s) => s.parse().ok()?,
        None => 0,
    };
    if parts.next().is_some() || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut ms = 0i64;
    for (i, b) in frac.bytes().take(3).enumerate() {
        ms += i64::from(b - b'0') * [100, 10, 1][i];
    }
    Some((hour, minute, second, ms))
}

fn is_weekday(token: &str) -> bool {
    const DAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
    let token = token.trim_end_matches('.');
    token.len() >= 3
        && DAYS
            .iter()
            .any(|d| d.len() >= token.len() && d.as_bytes()[..token.len()].eq_ignore_ascii_case(token.as_bytes()))
}

/// Seconds east of UTC for a zone as devices write it: `Z`, `UTC`, `GMT`, `+0200`,
/// `-04:00`, `GMT+02:00`, or a North American or Central European abbreviation. Other
/// names are ambiguous (`IST`) and give `None`.
fn zone_offset_secs(token: &str) -> Option<i64> {
    let upper = token.to_ascii_uppercase();
    let named = match upper.as_str() {
        "Z" | "UT" | "UTC" | "GMT" => Some(0),
        "EST" => Some(-5),
        "EDT" | "AST" => Some(-4),
        "CST" => Some(-6),
        "CDT" => Some(-5),
        "MST" => Some(-7),
        "MDT" => Some(-6),
        "PST" => Some(-8),
        "PDT" => Some(-7),
        "CET" | "BST" => Some(1),
        "CEST" | "EET" => Some(2),
        "EEST" => Some(3),
        _ => None,
    };
    if let Some(hours) = named {
        return Some(hours * 3600);
    }
    let numeric = upper.strip_prefix("GMT").or_else(|| upper.strip_prefix("UTC")).unwrap_or(&upper);
    let (sign, digits) = match numeric.as_bytes().first()? {
        b'+' => (1, &numeric[1..]),
        b'-' => (-1, &numeric[1..]),
        _ => return None,
    };
    let digits: String = digits.chars().filter(|&c| c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (hours, minutes): (i64, i64) = match digits.len() {
        1 | 2 => (digits.parse().ok()?, 0),
        4 => (digits[..2].parse().ok()?, digits[2..].parse().ok()?),
        _ => return None,
    };
    if hours > 14 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 3600 + minutes * 60))
}

/// Parses `1h`, `30m`, `90s`, `500ms`, `2d`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("{text:?} is not a duration (1h, 30m, 90s, 500ms)"))?;
    let ms = match unit.trim() {
        "" | "s" => n.checked_mul(1000),
        "ms" => Some(n),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        "d" => n.checked_mul(86_400_000),
        _ => None,
    };
    ms.map(std::time::Duration::from_millis).ok_or_else(|| format!("{text:?} is not a duration (1h, 30m, 90s, 500ms)"))
}

/// A point in time from a flag: RFC 3339, `YYYY-MM-DD` (midnight UTC), epoch
/// milliseconds, or a duration before `now_ms` (`7d`, `12h`, `30m`).
pub fn parse_time(text: &str, now_ms: i64) -> Result<i64, String> {
    let t = text.trim();
    if let Some(ms) = parse_rfc3339_ms(t) {
        return Ok(ms);
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        if let Some(dt) = d.and_hms_opt(0, 0, 0) {
            return Ok(dt.and_utc().timestamp_millis());
        }
    }
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().map_err(|_| format!("{t:?}: not a time"));
    }
    match parse_duration(t) {
        Ok(d) => Ok(now_ms.saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))),
        Err(_) => Err(format!("{t:?}: not a time (RFC 3339, YYYY-MM-DD, epoch ms, or a duration ago: 7d, 12h)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h").unwrap(), std::time::Duration::from_secs(3600));
        assert_eq!(parse_duration("90").unwrap(), std::time::Duration::from_secs(90));
        assert_eq!(parse_duration("500ms").unwrap(), std::time::Duration::from_millis(500));
        assert!(parse_duration("1y").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    #[test]
    fn times_from_flags() {
        let now = 1_700_000_000_000;
        assert_eq!(parse_time("2023-11-14T22:13:20Z", now), Ok(now));
        assert_eq!(parse_time("1970-01-02", now), Ok(86_400_000));
        assert_eq!(parse_time("1234", now), Ok(1234));
        assert_eq!(parse_time("1d", now), Ok(now - 86_400_000));
        assert!(parse_time("yesterday", now).is_err());
    }

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

    proptest::proptest! {
        /// The hand-written reader agrees with chrono on every time it accepts.
        #[test]
        fn fast_rfc3339_agrees_with_chrono(secs in -2_000_000_000i64..4_000_000_000i64, micros in 0u32..1_000_000, off in -14 * 60i32..14 * 60, colon: bool, z: bool) {
            let offset = chrono::FixedOffset::east_opt(off * 60).unwrap();
            let t = chrono::DateTime::from_timestamp(secs, micros * 1000).unwrap().with_timezone(&offset);
            let text = if z && off == 0 {
                t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
            } else if colon {
                t.format("%Y-%m-%dT%H:%M:%S%.6f%:z").to_string()
            } else {
                t.format("%Y-%m-%dT%H:%M:%S%.6f%z").to_string()
            };
            proptest::prop_assert_eq!(rfc3339_fast(text.as_bytes()), Some(t.timestamp_millis()), "{}", text);
        }

        #[test]
        fn fast_rfc3339_never_panics(text in ".{0,40}") {
            let _ = parse_rfc3339_ms(&text);
        }
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

    const NOW_2025_01_01_0030: i64 = 1_735_691_400_000;

    #[test]
    fn month_names_short_and_full() {
        assert_eq!(month_from_name("Jan"), Some(1));
        assert_eq!(month_from_name("DEC"), Some(12));
        assert_eq!(month_from_name("September"), Some(9));
        assert_eq!(month_from_name("Sept"), Some(9));
        assert_eq!(month_from_name("Ju"), None);
        assert_eq!(month_from_name("Marchy"), None);
        assert_eq!(month_from_name("ÄÖÜ"), None);
    }

    #[test]
    fn syslog_year_rule_crosses_new_year() {
        let at = |m, d, h, y| syslog_time_to_ms_at(m, d, h, 0, 0, y, NOW_2025_01_01_0030);
        // Read just after New Year: December is last year's.
        assert_eq!(at(12, 31, 23, None), Some(1_735_686_000_000));
        // Today and a sender's clock up to a day ahead stay this year.
        assert_eq!(at(1, 1, 0, None), Some(1_735_689_600_000));
        assert_eq!(at(1, 2, 0, None), Some(1_735_776_000_000));
        // More than a day ahead is taken as last year.
        assert_eq!(at(1, 3, 0, None), Some(1_704_240_000_000));
        // A year given is used as is.
        assert_eq!(at(8, 5, 1, Some(2016)), Some(1_470_358_800_000));
        assert_eq!(at(2, 30, 0, Some(2016)), None);
    }

    #[test]
    fn device_times_in_cef_and_leef_forms() {
        assert_eq!(parse_device_time_ms("1459517280810"), Some(1_459_517_280_810));
        assert_eq!(parse_device_time_ms("1459517280"), Some(1_459_517_280_000));
        assert_eq!(parse_device_time_ms("Apr 07 2017 00:10:10 GMT"), Some(1_491_523_810_000));
        assert_eq!(parse_device_time_ms("May 1 2016 09:29:11.356 -0400"), Some(1_462_109_351_356));
        assert_eq!(parse_device_time_ms("Feb 09 2015 00:27:43 UTC"), Some(1_423_441_663_000));
        assert_eq!(parse_device_time_ms("31 March 2016 13:04:55"), Some(1_459_429_495_000));
        assert_eq!(parse_device_time_ms("3/30/2022 10:55:34 AM"), Some(1_648_637_734_000));
        assert_eq!(parse_device_time_ms("3/30/2022 10:55:34 PM"), Some(1_648_680_934_000));
        assert_eq!(parse_device_time_ms("Mar 30 2022 10:55:34.688"), Some(1_648_637_734_688));
        assert_eq!(parse_device_time_ms("2016-04-01T09:29:11.356-0400"), Some(1_459_517_351_356));
        assert_eq!(parse_device_time_ms("2022-03-30 10:55:34"), Some(1_648_637_734_000));
        assert_eq!(parse_device_time_ms("Fri Apr 07 2017 00:10:10 EDT"), Some(1_491_538_210_000));
        assert_eq!(parse_device_time_ms("$cef-formatted-receive_time"), None);
        assert_eq!(parse_device_time_ms("Apr 07 2017 00:10:10 IST"), None);
        assert_eq!(parse_device_time_ms("99999999999999999999"), None);
        assert_eq!(parse_device_time_ms(""), None);
    }
}
