//! JSON lines straight into a flat event: nested objects become dotted keys while the
//! line is read (`{"alert":{"signature":"x"}}` -> `"alert.signature":"x"`), without
//! building the nested maps first. EVE records are read this way.

use super::ParseError;
use crate::event::scan::{fields_of_map, scan_object, FieldValue, FieldVisitor, Key};
use crate::event::{event_with_capacity, Event};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;

/// Nesting flattened; deeper objects stay JSON values (serde_json's own limit of 128
/// stops JSON bombs before that matters).
pub const MAX_FLATTEN_DEPTH: usize = 16;

/// Reads one JSON object; `rename` gives our name for a top-level key, if it has one.
pub fn flatten_json(line: &str, rename: fn(&str) -> Option<&'static str>) -> Result<Event, ParseError> {
    let mut event = event_with_capacity(32);
    let top = Flatten { event: &mut event, prefix: "", depth: 0, rename, entries: 0 };
    match scan_object(line.as_bytes(), top) {
        Ok(_) => Ok(event),
        Err(e) if e.classify() == serde_json::error::Category::Data => Err(ParseError::error("not a JSON object")),
        Err(e) => Err(ParseError::error(format!("invalid JSON: {e}"))),
    }
}

/// `{"alert": {"signature": "x"}}` -> `"alert.signature": "x"`, for a value already
/// read (user-defined JSON parsers); [`flatten_json`] does the same while reading.
pub(crate) fn flatten_into(event: &mut Event, key: String, value: Value, depth: usize) {
    match value {
        Value::Object(inner) if depth < MAX_FLATTEN_DEPTH && !inner.is_empty() => {
            for (k, v) in inner {
                flatten_into(event, format!("{key}.{k}"), v, depth + 1);
            }
        }
        other => {
            event.insert(key, other);
        }
    }
}

/// The fields of one object (at `depth`, named under `prefix`) into the event.
struct Flatten<'a> {
    event: &'a mut Event,
    prefix: &'a str,
    depth: usize,
    rename: fn(&str) -> Option<&'static str>,
    /// How many entries the object had.
    entries: usize,
}

impl<'de> FieldVisitor<'de> for Flatten<'_> {
    type Output = usize;

    fn field<V: FieldValue<'de>>(&mut self, key: Key<'de>, value: V) -> Result<(), V::Error> {
        let Some(key) = key.into_str() else {
            return Err(de::Error::custom("a field name is not UTF-8"));
        };
        self.entries += 1;
        let name = if self.depth == 0 {
            (self.rename)(&key).map_or_else(|| key.into_owned(), str::to_owned)
        } else {
            let mut name = String::with_capacity(self.prefix.len() + 1 + key.len());
            name.push_str(self.prefix);
            name.push('.');
            name.push_str(&key);
            name
        };
        value.read_seed(Field { event: &mut *self.event, name, depth: self.depth + 1, rename: self.rename })
    }

    fn finish(self) -> usize {
        self.entries
    }
}

/// One value: objects are flattened further, anything else is stored under `name`.
struct Field<'a> {
    event: &'a mut Event,
    name: String,
    depth: usize,
    rename: fn(&str) -> Option<&'static str>,
}

impl<'de> DeserializeSeed<'de> for Field<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Field<'_> {
    fn put(self, value: Value) {
        self.event.insert(self.name, value);
    }
}

impl<'de> Visitor<'de> for Field<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.depth >= MAX_FLATTEN_DEPTH {
            let mut object = serde_json::Map::new();
            while let Some((k, v)) = map.next_entry::<String, Value>()? {
                object.insert(k, v);
            }
            self.put(Value::Object(object));
            return Ok(());
        }
        let nested =
            Flatten { event: &mut *self.event, prefix: &self.name, depth: self.depth, rename: self.rename, entries: 0 };
        let n = fields_of_map(map, nested)?;
        if n == 0 {
            // An empty object leaves no dotted key, so it is kept as itself.
            self.put(Value::Object(serde_json::Map::new()));
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element::<Value>()? {
            items.push(v);
        }
        self.put(Value::Array(items));
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.put(Value::Bool(v));
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.put(Value::from(v));
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.put(Value::from(v));
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.put(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number));
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.put(Value::String(v.to_owned()));
        Ok(())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<(), E> {
        self.put(Value::String(v));
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.put(Value::Null);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_rename(_: &str) -> Option<&'static str> {
        None
    }

    /// The streaming flattener gives what flattening a parsed value gives.
    #[test]
    fn agrees_with_flattening_a_parsed_value() {
        let lines = [
            r#"{"a":1,"b":{"c":"x","d":{"e":[1,{"f":2}],"g":null}},"h":{},"i":-1.5,"j\"k":true}"#,
            r#"{"timestamp":"2016-01-28T15:29:48Z","event_type":"dns","dns":{"type":"query","rrname":"a\u00e9b"}}"#,
        ];
        for line in lines {
            let streamed = flatten_json(line, no_rename).unwrap();
            let value: serde_json::Map<String, Value> = serde_json::from_str(line).unwrap();
            let mut expected = Event::default();
            for (k, v) in value {
                flatten_into(&mut expected, k, v, 0);
            }
            assert_eq!(streamed, expected, "{line}");
        }
    }

    #[test]
    fn not_an_object_and_bad_json_are_errors() {
        assert_eq!(flatten_json("[1]", no_rename).unwrap_err().message, "not a JSON object");
        assert!(flatten_json("{\"a\":", no_rename).unwrap_err().message.starts_with("invalid JSON"));
        assert!(flatten_json("{\"a\":1} trailing", no_rename).is_err());
        let bomb = format!("{{\"a\":{}{}}}", "[".repeat(5000), "]".repeat(5000));
        assert!(flatten_json(&bomb, no_rename).is_err());
    }
}
