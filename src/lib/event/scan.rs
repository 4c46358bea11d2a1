//! The one reader of a JSON object's top-level fields, for every stage that reads an
//! NDJSON line without building the whole event: enrich and label read a few fields
//! and pass the line's bytes on, the store reads each field's kind, parse flattens
//! EVE records, and [`super::event_from_json_only`] keeps the fields a stage wants.
//! Each of them says, per field name, what to do with the value ([`FieldValue`]);
//! this module does the rest (the object, the names borrowed from the line, the check
//! that nothing follows the object).

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// A field name, borrowed from the line unless it had escapes. It is read as bytes:
/// serde_json then skips a UTF-8 check of every name, which visitors that compare
/// names with known ones do not need; [`Key::as_str`] checks when text is wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key<'de>(Cow<'de, [u8]>);

impl<'de> Key<'de> {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The name as text; `None` when it is not valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// The name as text, borrowed from the line where it can be.
    pub fn into_str(self) -> Option<Cow<'de, str>> {
        match self.0 {
            Cow::Borrowed(b) => std::str::from_utf8(b).ok().map(Cow::Borrowed),
            Cow::Owned(v) => String::from_utf8(v).ok().map(Cow::Owned),
        }
    }
}

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_vec())))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v.as_bytes())))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.as_bytes().to_vec())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.into_bytes())))
            }
        }
        d.deserialize_bytes(KeyVisitor)
    }
}

/// One field's value, not read yet: the visitor reads it (whole, as a type, or
/// through its own seed) or skips it. Exactly one of these is called per field.
pub trait FieldValue<'de> {
    type Error: de::Error;
    /// Passes over the value without building it.
    fn skip(self) -> Result<(), Self::Error>;
    /// Reads the value as `T` (a [`serde_json::Value`], a string, ...).
    fn read<T: de::Deserialize<'de>>(self) -> Result<T, Self::Error>;
    /// Reads the value through a seed of the visitor's own.
    fn read_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, Self::Error>;
}

/// What a stage does with the fields of one object.
pub trait FieldVisitor<'de> {
    type Output;
    /// One top-level field, in line order.
    fn field<V: FieldValue<'de>>(&mut self, key: Key<'de>, value: V) -> Result<(), V::Error>;
    /// The object ended.
    fn finish(self) -> Self::Output;
}

/// Reads `line` as exactly one JSON object (white space around it allowed), giving
/// each top-level field to `visitor`. serde_json's nesting limit (128) bounds the
/// work on hostile input.
pub fn scan_object<'de, V: FieldVisitor<'de>>(line: &'de [u8], visitor: V) -> serde_json::Result<V::Output> {
    let mut de = serde_json::Deserializer::from_slice(line);
    let out = Object(visitor).deserialize(&mut de)?;
    de.end()?;
    Ok(out)
}

/// The fields of an object met inside a value (a nested object, in a visitor of
/// one's own), given to `visitor` the same way.
pub fn fields_of_map<'de, A: MapAccess<'de>, V: FieldVisitor<'de>>(map: A, visitor: V) -> Result<V::Output, A::Error> {
    Object(visitor).visit_map(map)
}

struct Object<V>(V);

impl<'de, V: FieldVisitor<'de>> DeserializeSeed<'de> for Object<V> {
    type Value = V::Output;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<V::Output, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, V: FieldVisitor<'de>> Visitor<'de> for Object<V> {
    type Value = V::Output;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<V::Output, A::Error> {
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let mut slot = Slot { map: &mut map, used: false };
            self.0.field(key, &mut slot)?;
            if !slot.used {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(self.0.finish())
    }
}

/// The value of the field being visited; skipped after the visitor if it did not
/// take it (a visitor cannot leave the map out of step).
struct Slot<'m, A> {
    map: &'m mut A,
    used: bool,
}

impl<'de, A: MapAccess<'de>> FieldValue<'de> for &mut Slot<'_, A> {
    type Error = A::Error;

    fn skip(self) -> Result<(), A::Error> {
        self.used = true;
        self.map.next_value::<IgnoredAny>().map(|_| ())
    }

    fn read<T: de::Deserialize<'de>>(self) -> Result<T, A::Error> {
        self.used = true;
        self.map.next_value()
    }

    fn read_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        self.used = true;
        self.map.next_value_seed(seed)
    }
}

/// A scalar read without building a [`serde_json::Value`]: strings borrowed from the
/// line unless they had escapes; arrays and objects are passed over (`Other`).
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'de> {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Text(Cow<'de, str>),
    Other,
}

impl Scalar<'_> {
    /// The number, or a string that is one (`"443"`, `" 1.5 "`).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Scalar::U64(n) => Some(*n as f64),
            Scalar::I64(n) => Some(*n as f64),
            Scalar::F64(n) => Some(*n),
            Scalar::Text(t) => t.trim().parse().ok(),
            _ => None,
        }
    }

    /// An integer as it is, else a number rounded toward zero.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Scalar::U64(n) => i64::try_from(*n).ok(),
            Scalar::I64(n) => Some(*n),
            _ => self.as_f64().filter(|f| f.is_finite()).map(|f| f as i64),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Text(t) => Some(t),
            _ => None,
        }
    }

    /// A string, or an integer written out (ids some sensors write as numbers).
    pub fn to_text(&self) -> Option<String> {
        match self {
            Scalar::Text(t) => Some(t.clone().into_owned()),
            Scalar::U64(n) => Some(n.to_string()),
            Scalar::I64(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

impl<'de> de::Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::U64(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::I64(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::F64(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Null)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// Keeps the values of the names it is given; counts the others.
    struct Pick<'w> {
        want: &'w [&'w str],
        got: Vec<(String, Value)>,
        others: usize,
    }

    impl<'de> FieldVisitor<'de> for Pick<'_> {
        type Output = (Vec<(String, Value)>, usize);
        fn field<V: FieldValue<'de>>(&mut self, key: Key<'de>, value: V) -> Result<(), V::Error> {
            match key.as_str() {
                Some(k) if self.want.contains(&k) => self.got.push((k.to_owned(), value.read()?)),
                // Left alone on purpose: the scanner skips it.
                _ => self.others += 1,
            }
            Ok(())
        }
        fn finish(self) -> Self::Output {
            (self.got, self.others)
        }
    }

    #[test]
    fn top_level_fields_only_and_escaped_names() {
        let line = br#" {"nested":{"a":1},"a":"x","\u0062":[1,{"a":"}"}],"c":null} "#;
        let (got, others) = scan_object(line, Pick { want: &["a", "b"], got: vec![], others: 0 }).unwrap();
        assert_eq!(got, [("a".to_owned(), Value::from("x")), ("b".into(), serde_json::json!([1, {"a": "}"}]))]);
        assert_eq!(others, 2);
    }

    #[test]
    fn anything_but_one_object_is_an_error() {
        for line in [&b"[1]"[..], b"{\"a\":1} {}", b"{\"a\":", b"", b"\"s\"", b"{\"a\":1}x", b"{\"a\" 1}"] {
            let r = scan_object(line, Pick { want: &["a"], got: vec![], others: 0 });
            assert!(r.is_err(), "{}", String::from_utf8_lossy(line));
        }
    }
}
