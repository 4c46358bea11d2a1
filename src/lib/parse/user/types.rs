//! Field types a section may give (`types`, grok's `%{NUMBER:bytes:int}`), and
//! turning captured text into them.

use serde_json::{Number, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FieldType {
    Int,
    Float,
    Bool,
    String,
}

impl FieldType {
    pub(super) fn from_name(name: &str) -> Option<FieldType> {
        Some(match name {
            "int" | "integer" | "long" => FieldType::Int,
            "float" | "double" => FieldType::Float,
            "bool" | "boolean" => FieldType::Bool,
            "string" => FieldType::String,
            _ => return None,
        })
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            FieldType::Int => "an int",
            FieldType::Float => "a float",
            FieldType::Bool => "a bool",
            FieldType::String => "a string",
        }
    }
}

/// `-12`, `0`, `8080`: digits with no leading zero, so that turning them into a
/// number and back gives the same text.
pub(super) fn is_plain_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
}

/// `Ok(None)`: an empty text, which means "no value".
pub(super) fn convert(value: &Value, ty: FieldType) -> Result<Option<Value>, ()> {
    if let Value::String(s) = value {
        if s.trim().is_empty() && ty != FieldType::String {
            return Ok(None);
        }
    }
    let converted = match (ty, value) {
        (FieldType::String, Value::String(_)) => value.clone(),
        (FieldType::String, Value::Number(_) | Value::Bool(_)) => Value::from(value.to_string()),
        (FieldType::Int, Value::Number(n)) => match n.as_i64() {
            Some(i) => Value::from(i),
            None => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
                _ => Value::Number(n.clone()),
            },
        },
        (FieldType::Int, Value::String(s)) => Value::from(s.trim().parse::<i64>().map_err(|_| ())?),
        (FieldType::Float, Value::Number(n)) => Value::Number(Number::from_f64(n.as_f64().ok_or(())?).ok_or(())?),
        (FieldType::Float, Value::String(s)) => {
            Value::Number(Number::from_f64(s.trim().parse::<f64>().map_err(|_| ())?).ok_or(())?)
        }
        (FieldType::Bool, Value::Bool(_)) => value.clone(),
        (FieldType::Bool, Value::Number(n)) => match n.as_i64() {
            Some(0) => Value::Bool(false),
            Some(1) => Value::Bool(true),
            _ => return Err(()),
        },
        (FieldType::Bool, Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "1" => Value::Bool(true),
            "false" | "f" | "no" | "n" | "0" => Value::Bool(false),
            _ => return Err(()),
        },
        _ => return Err(()),
    };
    Ok(Some(converted))
}
