//! Looking an NDJSON line up without building the event. Nearly every event has no
//! intel hit and passes through unchanged, so behind a pipe the stage reads only the
//! fields it checks (borrowed from the line, not copied), and when nothing hits it
//! writes the line's bytes as they came. Lines with a hit, and alerts to score, go
//! the whole way through `process`.

use crate::event::scan::{scan_object, FieldValue, FieldVisitor, Key, Scalar};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

/// The fields a line is scanned for, each to its check's number. Most names in a
/// line are not wanted: a bit table over (length, first byte, last byte) turns them
/// away before any hashing.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    names: HashMap<Box<[u8]>, usize, foldhash::fast::RandomState>,
    maybe: Box<[u64]>,
}

/// Names the scan reads besides the checked fields.
const ALSO: [&str; 4] = ["is_alert", "host", "http.hostname", "ip_dst_port"];
const TABLE_BITS: usize = 1 << 13;

fn slot(name: &[u8]) -> usize {
    let first = name.first().copied().unwrap_or(0) as usize;
    let last = name.last().copied().unwrap_or(0) as usize;
    (name.len().wrapping_mul(977) ^ first.wrapping_mul(31) ^ (last << 5)) % TABLE_BITS
}

impl Wanted {
    pub fn new<'a>(fields: impl IntoIterator<Item = (&'a str, usize)>) -> Wanted {
        let mut maybe = vec![0u64; TABLE_BITS / 64].into_boxed_slice();
        let mut names: HashMap<Box<[u8]>, usize, foldhash::fast::RandomState> = HashMap::default();
        for (name, check) in fields {
            names.insert(name.as_bytes().into(), check);
        }
        let listed: Vec<&[u8]> = names.keys().map(AsRef::as_ref).collect();
        for name in listed.into_iter().chain(ALSO.iter().map(|a| a.as_bytes())) {
            let i = slot(name);
            maybe[i / 64] |= 1 << (i % 64);
        }
        Wanted { names, maybe }
    }

    fn might_want(&self, name: &[u8]) -> bool {
        let i = slot(name);
        self.maybe[i / 64] & (1 << (i % 64)) != 0
    }
}

/// What a scan found: `(check number, value)` for every string (or string in an
/// array) under a wanted name, and whether `is_alert` is true.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Found<'a> {
    pub values: Vec<(usize, Cow<'a, str>)>,
    pub is_alert: bool,
    /// Values of the fields URL paths are joined with (`host`, `http.hostname`),
    /// and the destination port.
    pub hosts: [Option<Cow<'a, str>>; 2],
    pub dst_port: Option<u64>,
}

/// Scans `line`; `None` when it is not exactly one JSON object of valid UTF-8.
pub fn scan<'a>(line: &'a [u8], wanted: &Wanted) -> Option<Found<'a>> {
    // Once for the whole line, so that names can be compared as bytes unchecked and
    // a line passed on unchanged is text, as `process` would have required.
    std::str::from_utf8(line).ok()?;
    scan_object(line, Scanner { wanted, found: Found::default() }).ok()
}

struct Scanner<'w, 'de> {
    wanted: &'w Wanted,
    found: Found<'de>,
}

impl<'de> FieldVisitor<'de> for Scanner<'_, 'de> {
    type Output = Found<'de>;

    fn field<V: FieldValue<'de>>(&mut self, key: Key<'de>, value: V) -> Result<(), V::Error> {
        let key = key.as_bytes();
        if !self.wanted.might_want(key) {
            return Ok(());
        }
        let found = &mut self.found;
        if let Some(&check) = self.wanted.names.get(key) {
            let before = found.values.len();
            value.read_seed(Strings { check, out: &mut found.values })?;
            // A host field may be checked as a domain and also be what URL paths
            // are joined with.
            if let Some(slot) = host_slot(key) {
                found.hosts[slot] = (found.values.len() == before + 1).then(|| found.values[before].1.clone());
            }
            return Ok(());
        }
        match key {
            b"is_alert" => {
                found.is_alert = match value.read::<Scalar<'de>>()? {
                    Scalar::Bool(b) => b,
                    Scalar::Text(t) => t.eq_ignore_ascii_case("true"),
                    _ => false,
                }
            }
            b"host" | b"http.hostname" => {
                let slot = usize::from(key == b"http.hostname");
                found.hosts[slot] = match value.read::<Scalar<'de>>()? {
                    Scalar::Text(t) => Some(t),
                    _ => None,
                }
            }
            b"ip_dst_port" => {
                found.dst_port = match value.read::<Scalar<'de>>()? {
                    Scalar::U64(n) => Some(n),
                    _ => None,
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(self) -> Found<'de> {
        self.found
    }
}

fn host_slot(key: &[u8]) -> Option<usize> {
    match key {
        b"host" => Some(0),
        b"http.hostname" => Some(1),
        _ => None,
    }
}

/// Collects a value's strings: the value itself, or the strings of an array.
struct Strings<'o, 'de> {
    check: usize,
    out: &'o mut Vec<(usize, Cow<'de, str>)>,
}

impl<'de> DeserializeSeed<'de> for Strings<'_, 'de> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strings<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
        self.out.push((self.check, Cow::Borrowed(v)));
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.out.push((self.check, Cow::Owned(v.to_owned())));
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<Option<AnyText<'de>>>()? {
            if let Some(AnyText(Some(t))) = item {
                self.out.push((self.check, t));
            }
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Any value, kept only when it is a string (array elements of other types).
struct AnyText<'de>(Option<Cow<'de, str>>);

impl<'de> de::Deserialize<'de> for AnyText<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut out = Vec::new();
        Strings { check: 0, out: &mut out }.deserialize(d)?;
        Ok(AnyText(if out.len() == 1 { out.pop().map(|(_, t)| t) } else { None }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted() -> Wanted {
        Wanted::new([("ip_dst_addr", 0), ("rcptto", 1)])
    }

    #[test]
    fn finds_strings_of_wanted_fields_only() {
        let line = br#"{"nested":{"ip_dst_addr":"no"},"ip_dst_addr":"10.0.0.1","rcptto":["a@b.c",1,null,"d@e\u002ef"],"is_alert":"TRUE","host":"h.example","ip_dst_port":8080}"#;
        let f = scan(line, &wanted()).unwrap();
        let values: Vec<(usize, &str)> = f.values.iter().map(|(c, v)| (*c, v.as_ref())).collect();
        assert_eq!(values, [(0, "10.0.0.1"), (1, "a@b.c"), (1, "d@e.f")]);
        assert!(matches!(f.values[0].1, Cow::Borrowed(_)));
        assert!(f.is_alert);
        assert_eq!(f.hosts[0].as_deref(), Some("h.example"));
        assert_eq!(f.dst_port, Some(8080));
    }

    #[test]
    fn escaped_names_are_read_as_their_text() {
        let f = scan(br#"{"ip_dst\u005faddr":"10.0.0.2","\u0068ost":"x.example"}"#, &wanted()).unwrap();
        assert_eq!(f.values, [(0, Cow::Borrowed("10.0.0.2"))]);
        assert_eq!(f.hosts[0].as_deref(), Some("x.example"));
    }

    #[test]
    fn other_value_types_are_ignored_and_bad_lines_refused() {
        let f = scan(br#"{"ip_dst_addr":5,"is_alert":{"x":[1]}}"#, &wanted()).unwrap();
        assert!(f.values.is_empty() && !f.is_alert);
        for bad in [&b"[1]"[..], b"{\"a\":1} {}", b"{\"a\":", b"", b"{\"ip_dst_addr\":\"x\"}x", b"{\"a\":\"\xff\"}"] {
            assert!(scan(bad, &wanted()).is_none(), "{}", String::from_utf8_lossy(bad));
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = scan(&bytes, &wanted());
        }

        #[test]
        fn what_the_scan_reads_is_what_the_event_holds(ip in "[0-9a-f:.]{0,20}", other in "\\PC{0,20}") {
            let line = serde_json::json!({"other": other, "ip_dst_addr": ip}).to_string();
            let f = scan(line.as_bytes(), &wanted()).unwrap();
            proptest::prop_assert_eq!(f.values, vec![(0, Cow::Owned::<str>(ip))]);
        }
    }
}
