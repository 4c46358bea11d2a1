//! The event: one flat JSON object per record, the contract between every stage.
//!
//! Keys are flat with dots inside names (Apache Metron's and Zeek's convention), so an
//! event is a flat map from names to JSON values. This module owns the standard field
//! names and the helpers every stage uses to fill them the same way.

mod community_id;
pub mod fields;
pub mod scan;
mod time;

pub use community_id::community_id;
pub use time::{
    epoch_ms_from_secs_str, month_day_time_to_ms, month_from_name, now_ms, parse_device_time_ms, parse_duration,
    parse_rfc3339_ms, parse_time, syslog_time_to_ms,
};

use serde_json::Value;
use std::net::IpAddr;

/// One event. Field order is kept as inserted (sensor order reads best). The hasher is
/// foldhash, seeded per process: events are built and looked up field by field at
/// every stage, and SipHash was a sixth of parse time.
pub type Event = indexmap::IndexMap<String, Value, EventHasher>;

/// The hasher of [`Event`].
pub type EventHasher = foldhash::fast::RandomState;

/// An empty event with room for `n` fields.
pub fn event_with_capacity(n: usize) -> Event {
    Event::with_capacity_and_hasher(n, EventHasher::default())
}

/// Reads one event from a line of JSON. The map starts with room for a typical event:
/// JSON gives no size up front, and growing from empty rebuilt the table several
/// times for every event a stage read.
pub fn event_from_json(bytes: &[u8]) -> serde_json::Result<Event> {
    event_from_json_only(bytes, |_| true)
}

/// Reads only the fields `keep` wants from a line of JSON, skipping the values of the
/// others without building them (a stage that reads few fields of a large event).
pub fn event_from_json_only(bytes: &[u8], keep: impl Fn(&str) -> bool) -> serde_json::Result<Event> {
    use scan::{FieldValue, FieldVisitor, Key};
    struct Keep<F> {
        keep: F,
        event: Event,
    }
    impl<'de, F: Fn(&str) -> bool> FieldVisitor<'de> for Keep<F> {
        type Output = Event;
        fn field<V: FieldValue<'de>>(&mut self, key: Key<'de>, value: V) -> Result<(), V::Error> {
            let Some(name) = key.into_str() else {
                return Err(serde::de::Error::custom("a field name is not UTF-8"));
            };
            if (self.keep)(&name) {
                self.event.insert(name.into_owned(), value.read()?);
            }
            Ok(())
        }
        fn finish(self) -> Event {
            self.event
        }
    }
    scan::scan_object(bytes, Keep { keep, event: event_with_capacity(32) })
}

/// An event from a JSON value, if it is an object (tests and conversions).
pub fn event_from_value(value: Value) -> Option<Event> {
    match value {
        Value::Object(map) => Some(map.into_iter().collect()),
        _ => None,
    }
}

/// Guids that are the same every time the same input is read again (`metron run`
/// replaying a followed file after a crash): a UUID v7 whose time is the event's own,
/// so that ids still sort by time, and whose other bits are the SHA-1 of what
/// identifies the input (for a line: its file's inode, its number and its bytes) and of
/// the record's index among those made from it. The input is hashed once; each guid
/// hashes only its index.
#[derive(Clone)]
pub struct StableGuid(sha1::Sha1);

impl StableGuid {
    pub fn new(parts: &[&[u8]]) -> StableGuid {
        use sha1::Digest;
        let mut h = sha1::Sha1::new();
        for p in parts {
            h.update((p.len() as u64).to_le_bytes());
            h.update(p);
        }
        StableGuid(h)
    }

    /// The guid of the `index`th record made of the input, at `ts_ms`.
    pub fn guid(&self, ts_ms: i64, index: u32) -> String {
        use sha1::Digest;
        let mut h = self.0.clone();
        h.update(index.to_le_bytes());
        let digest = h.finalize();
        let mut b = [0u8; 16];
        b[6..].copy_from_slice(&digest[..10]);
        let ms = u64::try_from(ts_ms).unwrap_or(0).min((1 << 48) - 1);
        b[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
        b[6] = (b[6] & 0x0f) | 0x70;
        b[8] = (b[8] & 0x3f) | 0x80;
        uuid::Uuid::from_bytes(b).hyphenated().to_string()
    }

    /// Gives what one record became the guids this key makes, numbered in order:
    /// first the NDJSON lines a parser's direct path wrote for it, then its events.
    /// The same record read again gets the same guids.
    pub fn stamp(&self, lines: &mut [u8], events: &mut [Event]) {
        let mut index = 0u32;
        for line in lines.split_mut(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            restamp(line, &self.guid(line_ms(line), index));
            index += 1;
        }
        for e in events {
            let guid = self.guid(event_ms(e), index);
            e.insert(fields::GUID.into(), guid.into());
            index += 1;
        }
    }
}

/// An event's `timestamp` (epoch ms), or 0.
pub fn event_ms(e: &Event) -> i64 {
    e.get(fields::TIMESTAMP).and_then(|v| v.as_i64()).unwrap_or(0)
}

/// The `timestamp` of an NDJSON line written by a parser's direct path (flat, the
/// field written as an integer), or 0.
pub fn line_ms(line: &[u8]) -> i64 {
    const KEY: &[u8] = b"\"timestamp\":";
    let Some(at) = line.windows(KEY.len()).position(|w| w == KEY) else { return 0 };
    let digits = line[at + KEY.len()..].iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&line[at + KEY.len()..at + KEY.len() + digits]).ok().and_then(|d| d.parse().ok()).unwrap_or(0)
}

/// Overwrites the guid a direct path wrote (`"guid":"` and 36 characters) in place.
pub fn restamp(line: &mut [u8], guid: &str) {
    const KEY: &[u8] = b"\"guid\":\"";
    if let Some(at) = line.windows(KEY.len()).position(|w| w == KEY) {
        let start = at + KEY.len();
        if line.get(start + 36) == Some(&b'"') && guid.len() == 36 {
            line[start..start + 36].copy_from_slice(guid.as_bytes());
        }
    }
}

/// A new UUID v7 as text: ids sort by the time they were made, also within one
/// millisecond (RFC 9562 method 3: the random part counts up within a millisecond).
/// The random bits come from a per-thread generator seeded once, not from a system
/// call per id: ids are made for every event.
pub fn new_guid() -> String {
    use rand::Rng;
    use std::cell::Cell;
    thread_local! {
        static LAST: Cell<(u64, u128)> = const { Cell::new((0, 0)) };
    }
    const RANDOM_BITS: u32 = 74;
    let now = u64::try_from(now_ms()).unwrap_or(0);
    let (ms, counter) = LAST.with(|last| {
        let (last_ms, last_counter) = last.get();
        let next = if now > last_ms {
            (now, rand::rng().random::<u128>() >> (128 - RANDOM_BITS + 1))
        } else if last_counter + 1 < (1u128 << RANDOM_BITS) {
            (last_ms, last_counter + 1)
        } else {
            (last_ms + 1, 0)
        };
        last.set(next);
        next
    });
    let rand_a = ((counter >> 62) & 0xFFF) as u16;
    let rand_b = (counter & ((1u128 << 62) - 1)) as u64;
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    bytes[6..8].copy_from_slice(&(0x7000 | rand_a).to_be_bytes());
    bytes[8..].copy_from_slice(&((0b10u64 << 62) | rand_b).to_be_bytes());
    uuid::Uuid::from_bytes(bytes).hyphenated().to_string()
}

/// The canonical text of an address (IPv4 dotted, IPv6 RFC 5952), or `None` when
/// the text is not an address. IPv4-mapped IPv6 stays IPv6, as the sensor wrote it.
pub fn canonical_ip(text: &str) -> Option<String> {
    let text = text.trim();
    // Rust's IPv4 parser takes only the canonical dotted form (no leading zeros), so
    // what it accepts needs no rewriting.
    if text.parse::<std::net::Ipv4Addr>().is_ok() {
        return Some(text.to_owned());
    }
    text.parse::<IpAddr>().ok().map(|ip| ip.to_string())
}

/// Rewrites an address field in place to its canonical text; `false` if it is not an
/// address.
pub fn canonicalize_ip_in_place(text: &mut String) -> bool {
    if text.parse::<std::net::Ipv4Addr>().is_ok() {
        return true;
    }
    match canonical_ip(text) {
        Some(c) => {
            *text = c;
            true
        }
        None => false,
    }
}

/// Layer 4 protocol name for an IP protocol number, lower case.
pub fn protocol_name(number: u8) -> Option<&'static str> {
    Some(match number {
        1 => "icmp",
        2 => "igmp",
        4 => "ipip",
        6 => "tcp",
        17 => "udp",
        41 => "ipv6",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "icmp6",
        89 => "ospf",
        103 => "pim",
        112 => "vrrp",
        132 => "sctp",
        _ => return None,
    })
}

/// IP protocol number for a protocol name (any case; `icmpv6` and `ipv6-icmp` too).
pub fn protocol_number(name: &str) -> Option<u8> {
    let lower = name.to_ascii_lowercase();
    Some(match lower.as_str() {
        "icmp" => 1,
        "igmp" => 2,
        "tcp" => 6,
        "udp" => 17,
        "gre" => 47,
        "esp" => 50,
        "ah" => 51,
        "icmp6" | "icmpv6" | "ipv6-icmp" => 58,
        "sctp" => 132,
        other => return other.parse().ok(),
    })
}

/// Fills the standard fields every parsed event carries and adds `community_id`
/// when the 5-tuple is there. Existing values are kept (later stages add, never rename).
pub fn finish(event: &mut Event, source_type: &str, original: &str) {
    event.insert(fields::SOURCE_TYPE.into(), Value::String(source_type.to_owned()));
    complete(event, original);
}

/// [`finish`] for an event whose parser set `source.type` already (`unknown` if not).
/// Each field is looked up once: this runs for every event.
pub fn complete(event: &mut Event, original: &str) {
    use indexmap::map::Entry;
    if let Entry::Vacant(slot) = event.entry(fields::SOURCE_TYPE.to_owned()) {
        slot.insert(Value::from("unknown"));
    }
    if let Entry::Vacant(slot) = event.entry(fields::ORIGINAL_STRING.to_owned()) {
        slot.insert(Value::String(original.to_owned()));
    }
    if let Entry::Vacant(slot) = event.entry(fields::GUID.to_owned()) {
        slot.insert(Value::String(new_guid()));
    }
    if !event.contains_key(fields::COMMUNITY_ID) {
        if let Some(id) = community_id_of(event) {
            event.insert(fields::COMMUNITY_ID.into(), Value::String(id));
        }
    }
}

/// Community ID of an event's 5-tuple, if it has one (protocol and both addresses;
/// ports where the protocol has them).
pub fn community_id_of(event: &Event) -> Option<String> {
    let src: IpAddr = event.get(fields::IP_SRC_ADDR)?.as_str()?.parse().ok()?;
    let dst: IpAddr = event.get(fields::IP_DST_ADDR)?.as_str()?.parse().ok()?;
    let proto = protocol_number(event.get(fields::PROTOCOL)?.as_str()?)?;
    let port = |key: &str| -> Option<u16> {
        match event.get(key)? {
            Value::Number(n) => n.as_u64().and_then(|p| u16::try_from(p).ok()),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    };
    let ports = match (port(fields::IP_SRC_PORT), port(fields::IP_DST_PORT)) {
        (Some(s), Some(d)) => Some((s, d)),
        // ICMP has type and code where other protocols have ports (Suricata's names).
        _ => match (port("icmp_type"), port("icmp_code")) {
            (Some(t), Some(c)) if matches!(proto, 1 | 58) => Some((t, c)),
            _ => None,
        },
    };
    if matches!(proto, 6 | 17 | 132 | 1 | 58) && ports.is_none() {
        return None;
    }
    Some(community_id(0, src, dst, proto, ports))
}

/// Reads a field as text (strings only).
pub fn get_str<'a>(event: &'a Event, key: &str) -> Option<&'a str> {
    event.get(key)?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_read_from_json_keep_order_and_refuse_non_objects() {
        let e = event_from_json(br#"{"b":1,"a":{"x":[1,2]},"c":"t"}"#).unwrap();
        assert_eq!(e.keys().collect::<Vec<_>>(), ["b", "a", "c"]);
        assert_eq!(e["a"], json!({"x": [1, 2]}));
        let err = event_from_json(b"[1]").unwrap_err();
        assert_eq!(err.classify(), serde_json::error::Category::Data);
        assert!(event_from_json(br#"{"a":1} x"#).is_err());
        assert!(event_from_json(br#"{"a":"#).is_err());
    }

    #[test]
    fn canonical_ipv6_is_rfc5952() {
        assert_eq!(canonical_ip("2001:0DB8:0000:0000:0000:0000:0000:0001").as_deref(), Some("2001:db8::1"));
        assert_eq!(canonical_ip(" 10.0.0.1 ").as_deref(), Some("10.0.0.1"));
        assert_eq!(canonical_ip("10.0.0.256"), None);
    }

    #[test]
    fn guid_is_uuid_v7_and_sorts_by_time() {
        let ids: Vec<String> = (0..10_000).map(|_| new_guid()).collect();
        for id in &ids {
            let parsed = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(parsed.get_version_num(), 7);
            assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122);
            let (secs, _) = parsed.get_timestamp().unwrap().to_unix();
            assert!((secs as i64 - now_ms() / 1000).abs() < 5);
        }
        for pair in ids.windows(2) {
            assert!(pair[0] < pair[1], "{} then {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn finish_adds_community_id_for_a_five_tuple() {
        let mut e = event_from_value(json!({"ip_src_addr":"1.2.3.4","ip_dst_addr":"5.6.7.8","ip_src_port":1122,
            "ip_dst_port":3344,"protocol":"tcp"}))
        .unwrap();
        finish(&mut e, "test", "raw");
        assert_eq!(e["community_id"], "1:wCb3OG7yAFWelaUydu0D+125CLM=");
        assert_eq!(e["source.type"], "test");
        assert_eq!(e["original_string"], "raw");
    }

    #[test]
    fn finish_skips_community_id_without_ports_for_tcp() {
        let mut e =
            event_from_value(json!({"ip_src_addr":"1.2.3.4","ip_dst_addr":"5.6.7.8","protocol":"tcp"})).unwrap();
        finish(&mut e, "test", "raw");
        assert!(!e.contains_key("community_id"));
    }
}
