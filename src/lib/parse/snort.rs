//! Snort alerts, in the two text outputs analysts keep: the default 27-column
//! `alert_csv` that Apache Metron ingested (with Metron's field names, so Metron-era
//! queries keep working), and `alert_fast` lines as Snort 2, Snort 3 and Suricata's
//! fast.log write them. Every Snort event is an alert: `is_alert` is `true`.

use super::{FormatSpec, ParseError, Parser};
use crate::event::{canonical_ip, fields, month_day_time_to_ms, now_ms, protocol_name, Event};
use chrono::{NaiveDate, NaiveTime};
use regex::Regex;
use serde_json::Value;
use std::sync::OnceLock;

/// The registry's entry.
pub(super) const FORMAT: FormatSpec = FormatSpec {
    name: "snort",
    aliases: &[],
    about: "alert CSV (Metron's 27 columns), alert_fast (Snort 2 and 3, Suricata fast.log); `is_alert` = true",
    source_type: "snort",
    sniff,
    syslog_body: None,
    build: |_| Box::new(SnortParser::new()),
};

fn sniff(line: &str) -> bool {
    static FIRST_LINE: OnceLock<Option<regex::RegexSet>> = OnceLock::new();
    let set = FIRST_LINE.get_or_init(|| {
        regex::RegexSet::new([
            r"^\d\d/\d\d/\d\d-\d\d:\d\d:\d\d\.\d+ ?,",
            r"^\d\d/\d\d(/\d{2,4})?-\d\d:\d\d:\d\d\.\d+\s+\[\*\*\]",
        ])
        .ok()
    });
    set.as_ref().is_some_and(|s| s.is_match(line))
}

const SOURCE_TYPE: &str = "snort";

/// The columns of Snort 2's `output alert_csv: <file> default`, named as Metron's
/// BasicSnortParser named them.
const CSV_COLUMNS: [&str; 27] = [
    "timestamp",
    "sig_generator",
    "sig_id",
    "sig_rev",
    "msg",
    "protocol",
    "ip_src_addr",
    "ip_src_port",
    "ip_dst_addr",
    "ip_dst_port",
    "ethsrc",
    "ethdst",
    "ethlen",
    "tcpflags",
    "tcpseq",
    "tcpack",
    "tcplen",
    "tcpwindow",
    "ttl",
    "tos",
    "id",
    "dgmlen",
    "iplen",
    "icmptype",
    "icmpcode",
    "icmpid",
    "icmpseq",
];

/// Columns that become integers. The other columns stay text as Metron kept them:
/// several are hexadecimal (`tcpseq`, `ethlen`) and most are empty for some
/// protocols, and an empty string next to a number would give one field two types.
const CSV_INTEGERS: [&str; 3] = ["sig_generator", "sig_id", "sig_rev"];

fn fast_line() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // A literal covered by the tests, so it always compiles. The message is
        // matched lazily up to the closing `[**]`; Snort 3 quotes it, Snort 2 does not.
        Regex::new(
            r"(?x)^
            (?P<ts>\d{1,2}/\d{1,2}(?:/\d{2,4})?-\d{1,2}:\d{2}:\d{2}(?:\.\d+)?)\s+
            \[\*\*\]\s+\[(?P<gid>\d+):(?P<sid>\d+):(?P<rev>\d+)\]\s*(?P<msg>.*?)\s*\[\*\*\]
            (?:\s*\[Classification:\s*(?P<class>[^\]]*)\])?
            (?:\s*\[Priority:\s*(?P<prio>\d+)\])?
            (?:\s*\[[^\]]*\])*
            \s*\{(?P<proto>[^}]*)\}\s*(?P<src>\S+)(?:\s+->\s+(?P<dst>\S+))?\s*$",
        )
        .unwrap_or_else(|_| unreachable!())
    })
}

/// Parses Snort alert lines; which output wrote a line is told line by line, so
/// files that mix them (rotated outputs `cat`-ed together) still parse.
pub struct SnortParser {
    /// A fixed "now" for the year of `alert_fast` times, in tests; the clock otherwise.
    now: Option<i64>,
}

impl SnortParser {
    pub fn new() -> SnortParser {
        SnortParser { now: None }
    }

    fn now(&self) -> i64 {
        self.now.unwrap_or_else(now_ms)
    }
}

impl Parser for SnortParser {
    fn parse(&mut self, line: &str, out: &mut Vec<Event>) -> Result<(), ParseError> {
        let line = line.trim_end_matches('\r');
        let mut event = if line.contains("[**]") { self.fast(line)? } else { self.csv(line)? };
        event.insert(fields::IS_ALERT.to_owned(), Value::Bool(true));
        event.insert(fields::SOURCE_TYPE.to_owned(), Value::from(SOURCE_TYPE));
        out.push(event);
        Ok(())
    }
}

impl SnortParser {
    fn csv(&self, line: &str) -> Result<Event, ParseError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(line.len().max(64))
            .from_reader(line.as_bytes());
        let mut record = csv::StringRecord::new();
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return Err(ParseError::error("not a Snort alert: empty line")),
            Err(e) => return Err(ParseError::error(format!("not a Snort alert_csv line: {e}"))),
        }
        if record.len() != CSV_COLUMNS.len() {
            return Err(ParseError::error(format!(
                "not a Snort alert line: no [**] for alert_fast, and {} comma-separated columns where alert_csv has {}",
                record.len(),
                CSV_COLUMNS.len()
            )));
        }
        let mut event = crate::event::event_with_capacity(CSV_COLUMNS.len() + 6);
        let raw_time = record.get(0).unwrap_or("").trim();
        let ms = self.alert_time(raw_time)?;
        event.insert(fields::TIMESTAMP.to_owned(), Value::from(ms));
        for (name, value) in CSV_COLUMNS.iter().zip(record.iter()).skip(1) {
            let value = value.trim();
            let converted = match *name {
                "protocol" => Value::from(normalize_protocol(value)),
                "ip_src_addr" | "ip_dst_addr" => match address(name, value)? {
                    Some(ip) => Value::from(ip),
                    None => continue,
                },
                "ip_src_port" | "ip_dst_port" => match port(name, value)? {
                    Some(p) => Value::from(p),
                    None => continue,
                },
                n if CSV_INTEGERS.contains(&n) => Value::from(integer(n, value)?),
                _ => Value::from(value),
            };
            event.insert((*name).to_owned(), converted);
        }
        Ok(event)
    }

    fn fast(&self, line: &str) -> Result<Event, ParseError> {
        let Some(caps) = fast_line().captures(line) else {
            return Err(ParseError::error(
                "not a Snort alert_fast line: expected `TIME [**] [gid:sid:rev] msg [**] ... {PROTO} src -> dst`",
            ));
        };
        let text = |name: &str| caps.name(name).map_or("", |m| m.as_str());
        let mut event = crate::event::event_with_capacity(16);
        event.insert(fields::TIMESTAMP.to_owned(), Value::from(self.alert_time(text("ts"))?));
        for (name, group) in [("sig_generator", "gid"), ("sig_id", "sid"), ("sig_rev", "rev")] {
            event.insert(name.to_owned(), Value::from(integer(name, text(group))?));
        }
        let msg = text("msg");
        let msg = msg.strip_prefix('"').and_then(|m| m.strip_suffix('"')).unwrap_or(msg);
        event.insert("msg".to_owned(), Value::from(msg));
        if let Some(class) = caps.name("class") {
            event.insert("classification".to_owned(), Value::from(class.as_str().trim()));
        }
        if let Some(prio) = caps.name("prio") {
            event.insert("priority".to_owned(), Value::from(integer("priority", prio.as_str())?));
        }
        let protocol = normalize_protocol(text("proto").trim());
        let has_ports = matches!(protocol.as_str(), "tcp" | "udp" | "sctp");
        event.insert(fields::PROTOCOL.to_owned(), Value::from(protocol));
        // A lone address (no ` -> `) is the source: Snort writes IP-only alerts so.
        for (which, (addr_key, port_key)) in
            [("src", (fields::IP_SRC_ADDR, fields::IP_SRC_PORT)), ("dst", (fields::IP_DST_ADDR, fields::IP_DST_PORT))]
        {
            let Some(m) = caps.name(which) else { continue };
            let (ip, port) = split_endpoint(m.as_str(), has_ports)
                .ok_or_else(|| ParseError::invalid(format!("{addr_key}: not an address: {:?}", m.as_str())))?;
            event.insert(addr_key.to_owned(), Value::from(ip));
            if let Some(p) = port {
                event.insert(port_key.to_owned(), Value::from(p));
            }
        }
        Ok(event)
    }

    /// `MM/DD/YY-HH:MM:SS.ffffff` (`-y`), `MM/DD/YYYY-...` (Suricata) or
    /// `MM/DD-...` (no year) to epoch ms, read as UTC; sub-millisecond digits are
    /// dropped, not rounded, so that an alert never moves to a later millisecond.
    fn alert_time(&self, raw: &str) -> Result<i64, ParseError> {
        let bad = || ParseError::invalid(format!("timestamp: not a Snort alert time: {raw:?}"));
        let (date, time) = raw.split_once('-').ok_or_else(bad)?;
        let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let mut millis = 0;
        for (i, b) in frac.bytes().take(3).enumerate() {
            millis += u32::from(b - b'0') * [100, 10, 1][i];
        }
        let mut hms_parts = hms.split(':').map(|p| p.parse::<u32>().ok());
        let (Some(Some(h)), Some(Some(m)), Some(Some(s)), None) =
            (hms_parts.next(), hms_parts.next(), hms_parts.next(), hms_parts.next())
        else {
            return Err(bad());
        };
        let time = NaiveTime::from_hms_milli_opt(h, m, s, millis).ok_or_else(bad)?;
        let mut date_parts = date.split('/').map(|p| p.parse::<u32>().ok());
        let month = date_parts.next().flatten().ok_or_else(bad)?;
        let day = date_parts.next().flatten().ok_or_else(bad)?;
        let ms = match (date_parts.next(), date_parts.next()) {
            (None, _) => month_day_time_to_ms(month, day, time, self.now()),
            (Some(Some(year)), None) => {
                let year = if year < 100 { 2000 + year } else { year };
                let year = i32::try_from(year).map_err(|_| bad())?;
                NaiveDate::from_ymd_opt(year, month, day).map(|d| d.and_time(time).and_utc().timestamp_millis())
            }
            _ => None,
        };
        ms.ok_or_else(bad)
    }
}

impl Default for SnortParser {
    fn default() -> Self {
        SnortParser::new()
    }
}

/// `10.0.0.1:80`, `2a01::3a06:56665` or a bare address to (canonical IP, port).
/// Snort writes IPv6 with a port after one more colon and no brackets, so for
/// protocols with ports the port is whatever follows the last colon; for the others
/// (ICMP, IP-only) there is no port to split off.
fn split_endpoint(text: &str, has_ports: bool) -> Option<(String, Option<u16>)> {
    if let Some(rest) = text.strip_prefix('[') {
        let (ip, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((canonical_ip(ip)?, port));
    }
    if has_ports {
        if let Some((ip, port)) = text.rsplit_once(':') {
            if let (Some(ip), Ok(port)) = (canonical_ip(ip), port.parse::<u16>()) {
                return Some((ip, Some(port)));
            }
        }
    }
    if let Some(ip) = canonical_ip(text) {
        return Some((ip, None));
    }
    // A port where the protocol has none (an unknown protocol number, say).
    let (ip, port) = text.rsplit_once(':')?;
    Some((canonical_ip(ip)?, Some(port.parse().ok()?)))
}

/// `TCP`, `{6}`'s `6`, `IPV6-ICMP` -> `tcp`, `tcp`, `icmp6`.
fn normalize_protocol(raw: &str) -> String {
    if let Ok(n) = raw.parse::<u8>() {
        return protocol_name(n).map_or_else(|| n.to_string(), str::to_owned);
    }
    let lower = raw.to_ascii_lowercase();
    match lower.as_str() {
        "ipv6-icmp" | "icmpv6" => "icmp6".to_owned(),
        _ => lower,
    }
}

fn address(name: &str, value: &str) -> Result<Option<String>, ParseError> {
    if value.is_empty() {
        return Ok(None);
    }
    canonical_ip(value).map(Some).ok_or_else(|| ParseError::invalid(format!("{name}: not an IP address: {value:?}")))
}

fn port(name: &str, value: &str) -> Result<Option<u16>, ParseError> {
    if value.is_empty() {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| ParseError::invalid(format!("{name}: not a port: {value:?}")))
}

fn integer(name: &str, value: &str) -> Result<u64, ParseError> {
    value.trim().parse().map_err(|_| ParseError::invalid(format!("{name}: not a number: {value:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse_rfc3339_ms;
    use proptest::prelude::*;

    fn parse_at(now: &str, line: &str) -> Result<Event, ParseError> {
        let mut p = SnortParser { now: parse_rfc3339_ms(now) };
        let mut out = Vec::new();
        p.parse(line, &mut out)?;
        assert_eq!(out.len(), 1);
        Ok(out.remove(0))
    }

    fn parse(line: &str) -> Event {
        parse_at("2024-06-01T00:00:00Z", line).unwrap()
    }

    #[test]
    fn metron_csv_sample_keeps_metron_names_and_empty_fields() {
        let e = parse(
            "01/27/16-16:01:04.877970 ,129,12,1,\"Consecutive TCP small segments exceeding threshold\",TCP,10.0.2.2,\
             56642,10.0.2.15,22,52:54:00:12:35:02,08:00:27:7F:93:2D,0x4E,***AP***,0x9AFF3D7,0xC8761D52,,0xFFFF,64,0,\
             59677,64,65536,,,,",
        );
        assert_eq!(e["timestamp"], 1_453_910_464_877i64);
        assert_eq!(e["msg"], "Consecutive TCP small segments exceeding threshold");
        assert_eq!(e["sig_generator"], 129);
        assert_eq!(e["protocol"], "tcp");
        assert_eq!(e["ip_src_addr"], "10.0.2.2");
        assert_eq!(e["ip_src_port"], 56642);
        assert_eq!(e["ip_dst_port"], 22);
        assert_eq!(e["tcpseq"], "0x9AFF3D7");
        assert_eq!(e["ttl"], "64");
        assert_eq!(e["tcplen"], "");
        assert_eq!(e["icmpseq"], "");
        assert_eq!(e["is_alert"], true);
        assert_eq!(e["source.type"], "snort");
    }

    #[test]
    fn csv_icmp_alert_has_no_ports() {
        let e = parse("01/27/16-16:01:04.877970 ,1,384,5,\"ICMP PING\",ICMP,10.0.2.2,,10.0.2.15,,a,b,0x4E,,,,,,64,0,1,84,84,8,0,1,2");
        assert!(!e.contains_key("ip_src_port"));
        assert_eq!(e["protocol"], "icmp");
        assert_eq!(e["icmptype"], "8");
    }

    #[test]
    fn snort2_fast_without_year_takes_the_current_year() {
        let line = "05/20-00:32:42.828652  [**] [1:254:4] DNS SPOOF query response with TTL of 1 min. and no authority [**] \
                    [Classification: Potentially Bad Traffic] [Priority: 2] {UDP} 172.16.255.202:53 -> 192.168.2.83:45632";
        let e = parse(line);
        assert_eq!(Some(e["timestamp"].as_i64().unwrap()), parse_rfc3339_ms("2024-05-20T00:32:42.828Z"));
        assert_eq!(e["sig_id"], 254);
        assert_eq!(e["sig_rev"], 4);
        assert_eq!(e["msg"], "DNS SPOOF query response with TTL of 1 min. and no authority");
        assert_eq!(e["classification"], "Potentially Bad Traffic");
        assert_eq!(e["priority"], 2);
        assert_eq!(e["protocol"], "udp");
        assert_eq!(e["ip_src_port"], 53);
        assert_eq!(e["ip_dst_addr"], "192.168.2.83");
        assert_eq!(e["is_alert"], true);
        // Read in January, a December alert is last year's.
        let e = parse_at("2025-01-01T00:05:00Z", &line.replacen("05/20", "12/31", 1)).unwrap();
        assert_eq!(Some(e["timestamp"].as_i64().unwrap()), parse_rfc3339_ms("2024-12-31T00:32:42.828Z"));
    }

    #[test]
    fn snort2_fast_ipv6_port_follows_the_last_colon() {
        let e = parse(
            "04/11-00:36:01.316702  [**] [1:1000009:1] Possible TCP SYN Flood attack detected [**] [Priority: 0] {TCP} \
             2a01:4b00:b021:ed00:300f:f54f:9daa:3a06:56665 -> 2a02:26f0:5d00:4::6011:b29b:80",
        );
        assert_eq!(e["ip_src_addr"], "2a01:4b00:b021:ed00:300f:f54f:9daa:3a06");
        assert_eq!(e["ip_src_port"], 56665);
        assert_eq!(e["ip_dst_addr"], "2a02:26f0:5d00:4::6011:b29b");
        assert_eq!(e["ip_dst_port"], 80);
        assert!(!e.contains_key("classification"));
        assert_eq!(e["priority"], 0);
    }

    #[test]
    fn icmp_and_ipv6_icmp_have_no_ports() {
        let e = parse(
            "05/22-14:44:52.493177  [**] [1:527:8] BAD-TRAFFIC same SRC/DST [**] [Classification: Potentially Bad Traffic] \
             [Priority: 2] {IPV6-ICMP} :: -> ff02::2",
        );
        assert_eq!(e["protocol"], "icmp6");
        assert_eq!(e["ip_src_addr"], "::");
        assert_eq!(e["ip_dst_addr"], "ff02::2");
        assert!(!e.contains_key("ip_src_port") && !e.contains_key("ip_dst_port"));
        let e = parse(
            "05/25-14:44:51.212176  [**] [1:469:3] ICMP PING NMAP [**] [Classification: Attempted Information Leak] \
             [Priority: 2] {ICMP} 172.16.255.162 -> 192.168.2.83",
        );
        assert_eq!(e["protocol"], "icmp");
        assert_eq!(e["ip_src_addr"], "172.16.255.162");
        assert!(!e.contains_key("ip_dst_port"));
    }

    #[test]
    fn snort3_fast_has_a_quoted_msg_and_one_space() {
        let e = parse(
            "11/14-17:31:36.069820 [**] [1:48402:1] \"MALWARE-CNC Win.Trojan.Emotet variant outbound connection attempt\" \
             [**] [Classification: A Network Trojan was detected] [Priority: 1] {TCP} 10.11.14.101:49210 -> 50.78.167.65:7080",
        );
        assert_eq!(e["msg"], "MALWARE-CNC Win.Trojan.Emotet variant outbound connection attempt");
        assert_eq!(e["classification"], "A Network Trojan was detected");
        assert_eq!(e["ip_dst_port"], 7080);
        assert_eq!(Some(e["timestamp"].as_i64().unwrap()), parse_rfc3339_ms("2023-11-14T17:31:36.069Z"));
    }

    #[test]
    fn suricata_fast_log_has_a_year_expanded_ipv6_and_protocol_numbers() {
        let e = parse(
            "08/02/2014-10:50:25.823699  [**] [1:6:1] (null) [**] [Classification: (null)] [Priority: 3] {TCP} \
             0000:0000:0000:0000:0000:0000:0000:0001:3000 -> 0000:0000:0000:0000:0000:0000:0000:0001:56508",
        );
        assert_eq!(Some(e["timestamp"].as_i64().unwrap()), parse_rfc3339_ms("2014-08-02T10:50:25.823Z"));
        assert_eq!(e["ip_src_addr"], "::1");
        assert_eq!(e["ip_src_port"], 3000);
        assert_eq!(e["ip_dst_port"], 56508);
        let e = parse(
            "07/13/2016-22:42:07.573103  [**] [1:2100498:7] GPL ATTACK_RESPONSE id check returned root [**] \
             [Classification: Potentially Bad Traffic] [Priority: 2] {6} 82.165.177.154:80 -> 10.16.1.11:54186",
        );
        assert_eq!(e["protocol"], "tcp");
        assert_eq!(e["ip_src_port"], 80);
        assert_eq!(e["sig_id"], 2_100_498);
    }

    #[test]
    fn other_text_is_a_parser_error_and_bad_values_are_invalid() {
        let err = parse_at("2024-06-01T00:00:00Z", "hello, world").unwrap_err();
        assert_eq!(err.kind, crate::error::ErrorType::ParserError);
        let err =
            parse_at("2024-06-01T00:00:00Z", "13/40-00:00:00.0  [**] [1:2:3] m [**] {TCP} 1.2.3.4:1 -> 5.6.7.8:2")
                .unwrap_err();
        assert_eq!(err.kind, crate::error::ErrorType::ParserInvalid, "{}", err.message);
        let err = parse_at("2024-06-01T00:00:00Z", "01/01-00:00:00.0  [**] [1:2:3] m [**] {TCP} 1.2.3:1 -> 5.6.7.8:2")
            .unwrap_err();
        assert!(err.message.contains("ip_src_addr"), "{}", err.message);
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(line in "\\PC{0,200}") {
            let _ = SnortParser::new().parse(&line, &mut Vec::new());
        }

        #[test]
        fn near_misses_never_panic(line in "[0-9/:.\\- ]{0,30}( \\[\\*\\*\\] \\[[0-9:]{0,12}\\] [a-z\"]{0,5} \\[\\*\\*\\] \\{[A-Z0-9]{0,4}\\} [0-9a-f:.]{0,40} -> [0-9a-f:.\\[\\]]{0,40})?") {
            let _ = SnortParser::new().parse(&line, &mut Vec::new());
        }
    }
}
