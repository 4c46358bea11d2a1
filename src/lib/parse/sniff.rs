//! `--format auto`: tells the format from the first non-blank line of each input.

use super::Format;
use regex::Regex;
use std::sync::OnceLock;

struct Patterns {
    snort_csv: Regex,
    snort_fast: Regex,
    yaf: Regex,
    squid: Regex,
    syslog_3164: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        // These are literals checked by the tests, so they always compile.
        snort_csv: Regex::new(r"^\d\d/\d\d/\d\d-\d\d:\d\d:\d\d\.\d+ ?,").unwrap_or_else(|_| unreachable!()),
        snort_fast: Regex::new(r"^\d\d/\d\d(/\d{2,4})?-\d\d:\d\d:\d\d\.\d+\s+\[\*\*\]")
            .unwrap_or_else(|_| unreachable!()),
        yaf: Regex::new(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+\|").unwrap_or_else(|_| unreachable!()),
        squid: Regex::new(r"^\d{9,}\.\d+\s+-?\d+ \S+ \S+/\d+ ").unwrap_or_else(|_| unreachable!()),
        syslog_3164: Regex::new(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ").unwrap_or_else(|_| unreachable!()),
    })
}

/// The format of `line`, or `None` when nothing fits.
pub fn sniff(line: &str) -> Option<Format> {
    let line = line.trim_start_matches('\u{feff}');
    if line.starts_with("#separator") || line.starts_with("#fields") || line.starts_with("#path") {
        return Some(Format::Zeek);
    }
    if line.starts_with('{') {
        return sniff_json(line);
    }
    if line.starts_with("CEF:") {
        return Some(Format::Cef);
    }
    if line.starts_with("LEEF:") {
        return Some(Format::Leef);
    }
    let p = patterns();
    if line.starts_with('<') || p.syslog_3164.is_match(line) {
        if line.contains("%ASA-") || line.contains("%FTD-") || line.contains("%PIX-") {
            return Some(Format::Asa);
        }
        if line.contains("CEF:") {
            return Some(Format::Cef);
        }
        if line.contains("LEEF:") {
            return Some(Format::Leef);
        }
        return Some(Format::Syslog);
    }
    if p.snort_csv.is_match(line) || p.snort_fast.is_match(line) {
        return Some(Format::Snort);
    }
    // CEF or LEEF behind some other header (a relay's ISO time, say).
    if line.contains("CEF:0|") || line.contains("CEF:1|") {
        return Some(Format::Cef);
    }
    if line.contains("LEEF:1.0|") || line.contains("LEEF:2.0|") {
        return Some(Format::Leef);
    }
    if p.yaf.is_match(line) {
        return Some(Format::Yaf);
    }
    if p.squid.is_match(line) {
        return Some(Format::Squid);
    }
    None
}

fn sniff_json(line: &str) -> Option<Format> {
    let serde_json::Value::Object(map) = serde_json::from_str(line).ok()? else { return None };
    if map.contains_key("event_type") {
        return Some(Format::Suricata);
    }
    if map.contains_key("id.orig_h") || map.contains_key("_path") || (map.contains_key("ts") && map.contains_key("uid"))
    {
        return Some(Format::Zeek);
    }
    if map.len() == 1 {
        if let Some(serde_json::Value::Object(inner)) = map.values().next() {
            if inner.contains_key("ts") {
                return Some(Format::Zeek);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_each_format_from_real_first_lines() {
        let cases = [
            ("#separator \\x09", Format::Zeek),
            (r#"{"ts":1.0,"uid":"C1","id.orig_h":"1.2.3.4"}"#, Format::Zeek),
            (r#"{"http":{"ts":1402307733.473,"uid":"C"}}"#, Format::Zeek),
            (r#"{"timestamp":"2016-01-28T15:29:48.512345+0000","event_type":"alert"}"#, Format::Suricata),
            ("<166>Jan  5 08:52:35 10.22.8.216 %ASA-6-302021: Teardown", Format::Asa),
            ("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - msg", Format::Syslog),
            ("Jan  5 08:52:35 host sshd[12]: Accepted", Format::Syslog),
            ("CEF:0|Adallom|Adallom|1.0|5", Format::Cef),
            ("LEEF:1.0|Microsoft|MSExchange|4.0", Format::Leef),
            ("01/27/16-16:01:04.877970 ,129,12,1,\"x\",TCP", Format::Snort),
            ("01/27-16:01:04.877970  [**] [1:2:3] msg [**]", Format::Snort),
            ("10/06/2016-10:28:51.339398  [**] [1:2:3] msg [**]", Format::Snort),
            ("2016-01-28 15:29:48.512|2016-01-28 15:29:48.512|   0.000|", Format::Yaf),
            ("1461576382.642    161 127.0.0.1 TCP_MISS/200 103701 GET http://www.cnn.com/ - DIRECT/199.27.79.73 text/html", Format::Squid),
        ];
        for (line, want) in cases {
            assert_eq!(sniff(line), Some(want.clone()), "{line}");
        }
        assert_eq!(sniff("hello world"), None);
        assert_eq!(sniff("{not json"), None);
    }
}
