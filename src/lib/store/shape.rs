//! The shape of a batch: every top-level field its records have, and the JSON kinds
//! of the values seen under it. Read while the records are routed, so that DuckDB
//! is told the columns instead of sampling for them (a field seen once still gets
//! its column, strings are never guessed to be dates, and reading with given
//! columns is three times faster than sampling every row).

use crate::event::fields;
use crate::event::scan::{scan_object, FieldValue, FieldVisitor, Key};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

/// What the values of one field were, over a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Kinds {
    pub null: bool,
    pub boolean: bool,
    pub int: bool,
    pub float: bool,
    pub string: bool,
    pub object: bool,
    /// Arrays, and the kinds of their elements.
    pub array: bool,
    pub elem_bool: bool,
    pub elem_int: bool,
    pub elem_float: bool,
    pub elem_string: bool,
    pub elem_other: bool,
}

impl Kinds {
    fn merge(&mut self, o: Kinds) {
        self.null |= o.null;
        self.boolean |= o.boolean;
        self.int |= o.int;
        self.float |= o.float;
        self.string |= o.string;
        self.object |= o.object;
        self.array |= o.array;
        self.elem_bool |= o.elem_bool;
        self.elem_int |= o.elem_int;
        self.elem_float |= o.elem_float;
        self.elem_string |= o.elem_string;
        self.elem_other |= o.elem_other;
    }

    /// Nothing but nulls was seen.
    pub fn only_null(&self) -> bool {
        !(self.boolean || self.int || self.float || self.string || self.object || self.array)
    }

    /// [`Kinds::sql_type`], but `NULL` when nothing but nulls was seen and `NULL[]`
    /// for arrays with no element seen: a source's view does not know those types
    /// yet, and the next values decide them (see [`widen`]).
    pub fn source_type(&self) -> &'static str {
        let elems = self.elem_bool || self.elem_int || self.elem_float || self.elem_string || self.elem_other;
        if self.only_null() {
            "NULL"
        } else if self.array && !elems && !(self.boolean || self.int || self.float || self.string || self.object) {
            "NULL[]"
        } else {
            self.sql_type()
        }
    }

    /// The DuckDB type that holds every value seen: a scalar type when all agree
    /// (integers and floats make DOUBLE), a list of one element type, JSON for
    /// objects and mixed arrays, VARCHAR when scalars disagree (numbers keep their
    /// JSON text).
    pub fn sql_type(&self) -> &'static str {
        let scalars = [self.boolean, self.int || self.float, self.string].iter().filter(|b| **b).count();
        if self.object || (self.array && scalars > 0) {
            return "JSON";
        }
        if self.array {
            let elems = [self.elem_bool, self.elem_int || self.elem_float, self.elem_string, self.elem_other]
                .iter()
                .filter(|b| **b)
                .count();
            return match elems {
                0 => "VARCHAR[]",
                1 if self.elem_string => "VARCHAR[]",
                1 if self.elem_bool => "BOOLEAN[]",
                1 if self.elem_float => "DOUBLE[]",
                1 if self.elem_int => "BIGINT[]",
                _ => "JSON",
            };
        }
        match scalars {
            0 => "VARCHAR",
            1 if self.boolean => "BOOLEAN",
            1 if self.float => "DOUBLE",
            1 if self.int => "BIGINT",
            _ => "VARCHAR",
        }
    }
}

/// The fields of a batch in the order first seen.
#[derive(Debug, Default, Clone)]
pub struct Shape {
    pub fields: Vec<(String, Kinds)>,
    index: HashMap<String, usize>,
}

impl Shape {
    /// Adds the fields of one record.
    pub fn add(&mut self, fields: &Fields<'_>) {
        for (k, kinds) in fields {
            self.note(k, *kinds);
        }
    }

    fn note(&mut self, key: &str, kinds: Kinds) {
        match self.index.get(key) {
            Some(&i) => self.fields[i].1.merge(kinds),
            None => {
                self.index.insert(key.to_owned(), self.fields.len());
                self.fields.push((key.to_owned(), kinds));
            }
        }
    }

    /// Adds every field of `other`.
    pub fn merge(&mut self, other: &Shape) {
        for (k, kinds) in &other.fields {
            self.note(k, *kinds);
        }
    }

    /// Two field names that DuckDB would take for one (it ignores case), if any.
    pub fn case_clash(&self) -> Option<(&str, &str)> {
        let mut seen: HashMap<String, &str> = HashMap::new();
        for (name, _) in &self.fields {
            if let Some(other) = seen.insert(name.to_lowercase(), name) {
                return Some((other, name));
            }
        }
        None
    }
}

/// The types [`Kinds::source_type`] gives.
pub const TYPES: [&str; 11] = [
    "NULL",
    "BOOLEAN",
    "BIGINT",
    "DOUBLE",
    "VARCHAR",
    "JSON",
    "NULL[]",
    "BOOLEAN[]",
    "BIGINT[]",
    "DOUBLE[]",
    "VARCHAR[]",
];

/// `t` if it is one of [`TYPES`] (a manifest is read from disk and may have been
/// written by anyone: nothing else reaches SQL).
pub fn known_type(t: &str) -> Option<&'static str> {
    TYPES.iter().find(|k| **k == t).copied()
}

/// The type that holds the values of both `a` and `b`, as [`Kinds::sql_type`]
/// would have chosen had it seen them together: integers and floats make DOUBLE,
/// disagreeing scalars VARCHAR, anything else mixed JSON; `NULL` (only nulls seen)
/// gives way to the other.
pub fn widen(a: &str, b: &str) -> &'static str {
    let (Some(a), Some(b)) = (known_type(a), known_type(b)) else { return "JSON" };
    let scalar = |t: &str| matches!(t, "BOOLEAN" | "BIGINT" | "DOUBLE" | "VARCHAR");
    match (a, b) {
        _ if a == b => a,
        ("NULL", t) | (t, "NULL") => t,
        ("NULL[]", t) | (t, "NULL[]") if t.ends_with("[]") => t,
        ("BIGINT", "DOUBLE") | ("DOUBLE", "BIGINT") => "DOUBLE",
        ("BIGINT[]", "DOUBLE[]") | ("DOUBLE[]", "BIGINT[]") => "DOUBLE[]",
        _ if scalar(a) && scalar(b) => "VARCHAR",
        _ => "JSON",
    }
}

/// The values routing needs from one record.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Head {
    pub source_type: Option<String>,
    pub guid: Option<Value>,
    pub timestamp: Option<i64>,
}

/// The fields of one record and the kinds of their values.
pub type Fields<'a> = Vec<(Cow<'a, str>, Kinds)>;

/// Reads one record: its routing values and its fields. `None` when the line is not
/// exactly one JSON object.
pub fn read(line: &[u8]) -> Option<(Head, Fields<'_>)> {
    scan_object(line, Record { head: Head::default(), fields: Vec::new() }).ok()
}

struct Record<'de> {
    head: Head,
    fields: Fields<'de>,
}

impl<'de> FieldVisitor<'de> for Record<'de> {
    type Output = (Head, Fields<'de>);

    fn field<V: FieldValue<'de>>(&mut self, key: Key<'de>, value: V) -> Result<(), V::Error> {
        let Some(key) = key.into_str() else {
            return Err(de::Error::custom("a field name is not UTF-8"));
        };
        let kinds = match key.as_ref() {
            fields::SOURCE_TYPE | fields::GUID | fields::TIMESTAMP => {
                let v: Value = value.read()?;
                let kinds = kinds_of(&v);
                match key.as_ref() {
                    fields::SOURCE_TYPE => self.head.source_type = v.as_str().map(str::to_owned),
                    fields::GUID => self.head.guid = Some(v),
                    // As DuckDB will store it: a number, or digits in a string.
                    _ => {
                        self.head.timestamp = v
                            .as_i64()
                            .or_else(|| v.as_f64().map(|f| f as i64))
                            .or_else(|| v.as_str().and_then(|t| t.trim().parse().ok()))
                    }
                }
                kinds
            }
            _ => value.read_seed(KindOf { in_array: false })?,
        };
        self.fields.push((key, kinds));
        Ok(())
    }

    fn finish(self) -> (Head, Fields<'de>) {
        (self.head, self.fields)
    }
}

fn kinds_of(v: &Value) -> Kinds {
    let mut k = Kinds::default();
    match v {
        Value::Null => k.null = true,
        Value::Bool(_) => k.boolean = true,
        Value::Number(n) if n.is_f64() => k.float = true,
        Value::Number(_) => k.int = true,
        Value::String(_) => k.string = true,
        Value::Array(items) => {
            k.array = true;
            for i in items {
                let e = kinds_of(i);
                k.elem_bool |= e.boolean;
                k.elem_int |= e.int;
                k.elem_float |= e.float;
                k.elem_string |= e.string;
                k.elem_other |= e.object || e.array;
            }
        }
        Value::Object(_) => k.object = true,
    }
    k
}

/// The kinds of one value (inside an array: of one element), skipping its content.
struct KindOf {
    in_array: bool,
}

impl<'de> DeserializeSeed<'de> for KindOf {
    type Value = Kinds;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Kinds, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KindOf {
    type Value = Kinds;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Kinds, E> {
        Ok(Kinds { null: true, ..Kinds::default() })
    }
    fn visit_bool<E>(self, _: bool) -> Result<Kinds, E> {
        Ok(Kinds { boolean: true, ..Kinds::default() })
    }
    fn visit_i64<E>(self, _: i64) -> Result<Kinds, E> {
        Ok(Kinds { int: true, ..Kinds::default() })
    }
    fn visit_u64<E>(self, v: u64) -> Result<Kinds, E> {
        // Beyond BIGINT: kept as its text in a VARCHAR column.
        Ok(Kinds { int: true, string: v > i64::MAX as u64, ..Kinds::default() })
    }
    fn visit_f64<E>(self, _: f64) -> Result<Kinds, E> {
        Ok(Kinds { float: true, ..Kinds::default() })
    }
    fn visit_borrowed_str<E>(self, _: &'de str) -> Result<Kinds, E> {
        Ok(Kinds { string: true, ..Kinds::default() })
    }
    fn visit_str<E>(self, _: &str) -> Result<Kinds, E> {
        Ok(Kinds { string: true, ..Kinds::default() })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kinds, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Kinds { object: true, ..Kinds::default() })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kinds, A::Error> {
        if self.in_array {
            // Arrays in arrays are only "something else".
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(Kinds { array: true, ..Kinds::default() });
        }
        let mut k = Kinds { array: true, ..Kinds::default() };
        while let Some(e) = seq.next_element_seed(KindOf { in_array: true })? {
            k.elem_bool |= e.boolean;
            k.elem_int |= e.int;
            k.elem_float |= e.float;
            k.elem_string |= e.string;
            k.elem_other |= e.object || e.array;
        }
        Ok(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape_of(lines: &[&str]) -> Shape {
        let mut s = Shape::default();
        for l in lines {
            s.add(&read(l.as_bytes()).unwrap().1);
        }
        s
    }

    fn ty(s: &Shape, name: &str) -> &'static str {
        s.fields.iter().find(|(n, _)| n == name).unwrap().1.sql_type()
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_the_shape_reader(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            near in "\\{\"[a-zA-Z.\"]{0,8}\":[\\[\\]{}0-9.e\"tfnul,:\\\\-]{0,40}",
        ) {
            for line in [&bytes[..], near.as_bytes()] {
                if let Some((_, fields)) = read(line) {
                    let mut s = Shape::default();
                    s.add(&fields);
                    let _ = s.case_clash();
                    for (_, k) in &s.fields {
                        let _ = k.sql_type();
                    }
                }
            }
        }
    }

    #[test]
    fn types_hold_every_value_seen() {
        let s = shape_of(&[
            r#"{"a":1,"b":1,"c":"x","d":[1],"e":["x"],"f":{"k":1},"g":true,"h":null,"i":[1,"x"],"j":1}"#,
            r#"{"a":2,"b":1.5,"c":3,"d":[2.5],"e":[],"g":false,"i":[],"j":[1]}"#,
        ]);
        let got: Vec<&str> = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"].iter().map(|n| ty(&s, n)).collect();
        assert_eq!(
            got,
            vec!["BIGINT", "DOUBLE", "VARCHAR", "DOUBLE[]", "VARCHAR[]", "JSON", "BOOLEAN", "VARCHAR", "JSON", "JSON"]
        );
    }

    #[test]
    fn routing_values_are_read_and_bad_lines_refused() {
        let (h, fields) = read(br#"{"source.type":"alert","guid":"g","timestamp":5,"x":{"y":[1]}}"#).unwrap();
        assert_eq!(h.source_type.as_deref(), Some("alert"));
        assert_eq!(h.guid, Some(Value::from("g")));
        assert_eq!(h.timestamp, Some(5));
        for bad in [&b"[1]"[..], b"{\"a\":1} x", b"{\"a\":", b"not json"] {
            assert!(read(bad).is_none());
        }
        assert_eq!(fields.len(), 4);
        assert!(fields[3].1.object);
    }

    #[test]
    fn names_that_differ_only_in_case_are_found() {
        let s = shape_of(&[r#"{"Host":"a"}"#, r#"{"host":"b"}"#]);
        assert_eq!(s.case_clash(), Some(("Host", "host")));
        assert_eq!(shape_of(&[r#"{"a":1,"b":2}"#]).case_clash(), None);
    }

    #[test]
    fn widening_two_types_is_what_one_batch_of_both_would_give() {
        // One value of each kind a field can hold.
        let values = [
            "null",
            "true",
            "3",
            "2.5",
            "\"x\"",
            "{\"a\":1}",
            "[]",
            "[true]",
            "[1]",
            "[1.5]",
            "[\"a\"]",
            "[[1]]",
            "[1,\"a\"]",
        ];
        for a in values {
            for b in values {
                let one = |v: &str| ty_of(&shape_of(&[&format!("{{\"f\":{v}}}")]));
                let both = ty_of(&shape_of(&[&format!("{{\"f\":{a}}}"), &format!("{{\"f\":{b}}}")]));
                assert_eq!(widen(&one(a), &one(b)), both, "{a} then {b}");
                assert_eq!(widen(&one(b), &one(a)), both, "{b} then {a}");
            }
        }
        assert_eq!(widen("BIGINT", "'; DROP"), "JSON");
    }

    fn ty_of(s: &Shape) -> String {
        s.fields[0].1.source_type().to_owned()
    }
}
