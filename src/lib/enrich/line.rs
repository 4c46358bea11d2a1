//! Enriching an NDJSON line without building the event: enrich only reads a few
//! fields and only adds fields, so behind a pipe it reads the fields it needs, keeps
//! the line's bytes as they came, and writes its fields before the closing brace.
//! Reading a line into an event and writing it out again was nine tenths of the time.

use super::AddFields;
use crate::event::scan::{scan_object, FieldValue, FieldVisitor, Key};
use serde_json::Value;

/// What the scan of one line found besides the wanted values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scan {
    /// Top-level fields in the object.
    pub fields: usize,
    /// Some field is named `enrichments.…` already: such a line is enriched as an
    /// event, where a new value replaces the old one instead of repeating the name.
    pub has_enrichments: bool,
}

/// Reads the values of the `wanted` top-level fields of `line` into `values`
/// (`values[i]` for `wanted[i]`; `None` when absent). `None` when the line is not
/// exactly one JSON object of valid UTF-8.
pub fn scan(line: &[u8], wanted: &[String], values: &mut Vec<Option<Value>>) -> Option<Scan> {
    values.clear();
    values.resize(wanted.len(), None);
    // Once for the whole line: names are compared as bytes, skipped values are not
    // checked, and a line passed on must be text, as `process` would require.
    std::str::from_utf8(line).ok()?;
    let scanner = Scanner { wanted, values, scan: Scan { fields: 0, has_enrichments: false } };
    scan_object(line, scanner).ok()
}

/// The line up to its closing brace, which [`scan`] found to be there.
pub fn without_closing_brace(line: &[u8]) -> Option<&[u8]> {
    let end = line.iter().rposition(|b| !b.is_ascii_whitespace())?;
    (line[end] == b'}').then(|| &line[..end])
}

/// Writes fields after the ones a line has.
pub struct Appender<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Appender<'a> {
    /// `out` holds the line without its closing brace; `empty` when it had no field.
    pub fn new(out: &'a mut Vec<u8>, empty: bool) -> Appender<'a> {
        Appender { out, first: empty }
    }
}

impl AddFields for Appender<'_> {
    fn add(&mut self, key: &str, value: &Value) {
        if !std::mem::take(&mut self.first) {
            self.out.push(b',');
        }
        // Writing into a Vec cannot fail, and a Value holds no non-finite number.
        let _ = serde_json::to_writer(&mut *self.out, key);
        self.out.push(b':');
        let _ = serde_json::to_writer(&mut *self.out, value);
    }
}

struct Scanner<'s> {
    wanted: &'s [String],
    values: &'s mut [Option<Value>],
    scan: Scan,
}

impl<'de> FieldVisitor<'de> for Scanner<'_> {
    type Output = Scan;

    fn field<V: FieldValue<'de>>(&mut self, key: Key<'de>, value: V) -> Result<(), V::Error> {
        self.scan.fields += 1;
        match self.wanted.iter().position(|w| w.as_bytes() == key.as_bytes()) {
            Some(i) => self.values[i] = Some(value.read()?),
            None => self.scan.has_enrichments |= key.as_bytes().starts_with(b"enrichments."),
        }
        Ok(())
    }

    fn finish(self) -> Scan {
        self.scan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted() -> Vec<String> {
        vec!["ip_src_addr".into(), "user".into()]
    }

    #[test]
    fn finds_wanted_top_level_fields_only() {
        let mut values = Vec::new();
        let line = br#"{"nested":{"user":"no"},"ip_src_addr":"10.0.0.1","us\u0065r":7,"x":[1,{"a":"}"}]}"#;
        let scan = scan(line, &wanted(), &mut values).unwrap();
        assert_eq!(scan, Scan { fields: 4, has_enrichments: false });
        assert_eq!(values, vec![Some(Value::from("10.0.0.1")), Some(Value::from(7))]);
    }

    #[test]
    fn not_one_object_is_none() {
        let mut values = Vec::new();
        for line in [&b"[1,2]"[..], b"{\"a\":1} {}", b"{\"a\":", b"", b"\"s\"", b"{\"a\":1}x"] {
            assert!(scan(line, &wanted(), &mut values).is_none(), "{}", String::from_utf8_lossy(line));
        }
        assert!(scan(b" {\"enrichments.geo.x.city\":1} ", &wanted(), &mut values).unwrap().has_enrichments);
    }

    #[test]
    fn appended_fields_make_valid_json() {
        for (line, empty) in [(&b"{}"[..], true), (b"{\"a\":1} ", false)] {
            let mut out = without_closing_brace(line).unwrap().to_vec();
            let mut app = Appender::new(&mut out, empty);
            app.add("k\"ey", &Value::from("v"));
            app.add("n", &Value::from(1.5));
            out.push(b'}');
            let v: Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(v["k\"ey"], "v");
            assert_eq!(v["n"], 1.5);
        }
    }
}
