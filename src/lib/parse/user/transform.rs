//! Apache Metron's field transformations, applied after extraction: rename, remove,
//! select, ip_protocol.

use super::{FieldSpec, TransformationConfig};
use crate::event::{fields, protocol_name, Event};
use serde_json::Value;

/// The fields a `select` transformation always keeps: the ones every event has.
const STANDARD_FIELDS: [&str; 11] = fields::STANDARD;

#[derive(Debug)]
pub(super) enum Transformation {
    Rename(Vec<(String, String)>),
    Remove(Vec<String>),
    Select(Vec<String>),
    IpProtocol(Vec<String>),
}

pub(super) fn compile_transformation(t: &TransformationConfig) -> Result<Transformation, String> {
    let list = || match &t.fields {
        Some(FieldSpec::List(l)) if !l.is_empty() => Ok(l.clone()),
        _ => Err("needs fields = [\"name\", ...]".to_owned()),
    };
    match t.kind.as_str() {
        "rename" => match &t.fields {
            Some(FieldSpec::Map(m)) if !m.is_empty() => Ok(Transformation::Rename(m.clone().into_iter().collect())),
            _ => Err("needs fields = { old = \"new\", ... }".into()),
        },
        "remove" => list().map(Transformation::Remove),
        "select" => list().map(Transformation::Select),
        "ip_protocol" => list().map(Transformation::IpProtocol),
        other => Err(format!("unknown kind {other:?}: use rename, remove, select or ip_protocol")),
    }
}

impl Transformation {
    pub(super) fn apply(&self, event: &mut Event) {
        match self {
            Transformation::Rename(pairs) => {
                for (from, to) in pairs {
                    if let Some(v) = event.shift_remove(from) {
                        event.insert(to.clone(), v);
                    }
                }
            }
            Transformation::Remove(names) => {
                for name in names {
                    event.shift_remove(name);
                }
            }
            Transformation::Select(names) => {
                event.retain(|k, _| names.contains(k) || STANDARD_FIELDS.contains(&k.as_str()));
            }
            Transformation::IpProtocol(names) => {
                for name in names {
                    if let Some(value) = event.get_mut(name) {
                        let number = match value {
                            Value::Number(n) => n.as_u64(),
                            Value::String(s) => s.trim().parse().ok(),
                            _ => None,
                        };
                        if let Some(proto) = number.and_then(|n| u8::try_from(n).ok()).and_then(protocol_name) {
                            *value = Value::from(proto);
                        }
                    }
                }
            }
        }
    }
}
