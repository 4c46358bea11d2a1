//! Expressions over events (triage rules now, `metron alert` rules later), in CEL
//! through the cel-rust crate: typed, side-effect free, and not ours to maintain.
//!
//! Event field names have dots inside them (`threatintels.feodo.ip_dst_addr.ip`), which
//! CEL would read as member selection. So the whole event is one map variable, `e`:
//! `e["ip_src_addr"]`, `e["enrichments.geo.ip_dst_addr.country"]`, and for names
//! without dots also `e.ip_src_port`. A missing field is an evaluation error in CEL;
//! test first (`"query" in e && e["query"].endsWith(".ru")`, `has(e.query)`) or use
//! the optional syntax (`e[?"query"].orValue("")`). Only `e` may be named: an
//! expression that mentions any other variable is refused when it is compiled,
//! because that is nearly always a field written without `e[...]`.

use crate::event::Event;
use cel::objects::{Key, Map};
use cel::{Context, Env, Program, Value as CelValue};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

/// The name the event has inside an expression.
pub const EVENT_VAR: &str = "e";

/// An expression that did not compile, or failed on an event.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExprError {
    /// Syntax, at 1-based line and column of the expression text.
    #[error("line {line}, column {column}: {message}")]
    Syntax { line: usize, column: usize, message: String },
    /// A variable other than `e`.
    #[error("unknown variable `{name}`: the event is `{EVENT_VAR}` (write {EVENT_VAR}[\"{name}\"])")]
    UnknownVariable { name: String },
    /// Evaluation on one event went wrong (a missing field, a type mismatch).
    #[error("{0}")]
    Eval(String),
    /// The result is not of the type the caller needs.
    #[error("result is {got}, not {want}")]
    Type { got: String, want: &'static str },
}

/// The CEL environment: the standard library with the string extension
/// (`lowerAscii`, `split`, ...) and optional values. Built once per process.
fn env() -> &'static Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Env::stdlib();
        // Only fails when added twice; this runs once.
        let _ = env.add_extension(cel::extensions::strings);
        Arc::new(env)
    })
}

/// A compiled expression with its source text.
pub struct Expr {
    source: String,
    program: Program,
}

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Expr").field(&self.source).finish()
    }
}

impl Expr {
    /// Compiles `source`; a syntax error carries its line and column.
    pub fn compile(source: &str) -> Result<Expr, ExprError> {
        let program = env().compile(source).map_err(|errors| {
            let first = errors.errors.first();
            let (line, column) = first.map(|e| (e.pos.0, e.pos.1)).unwrap_or((1, 1));
            ExprError::Syntax {
                line: usize::try_from(line).unwrap_or(1).max(1),
                column: usize::try_from(column).unwrap_or(1).max(1),
                message: first.map(|e| e.msg.clone()).unwrap_or_else(|| errors.to_string()),
            }
        })?;
        let mut bound = Vec::new();
        bound_names(program.expression(), &mut bound);
        let references = program.references();
        let mut unknown: Vec<&str> = references
            .variables()
            .into_iter()
            .filter(|v| *v != EVENT_VAR && !CEL_NAMES.contains(v) && !bound.iter().any(|b| b == v))
            .collect();
        unknown.sort_unstable();
        if let Some(name) = unknown.first() {
            return Err(ExprError::UnknownVariable { name: (*name).to_owned() });
        }
        Ok(Expr { source: source.to_owned(), program })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates against a prepared event scope.
    pub fn eval(&self, scope: &Scope) -> Result<CelValue, ExprError> {
        self.program.execute(&scope.context).map_err(|e| ExprError::Eval(e.to_string()))
    }

    /// Evaluates to a boolean.
    pub fn eval_bool(&self, scope: &Scope) -> Result<bool, ExprError> {
        match self.eval(scope)? {
            CelValue::Bool(b) => Ok(b),
            other => Err(ExprError::Type { got: type_name(&other), want: "a bool" }),
        }
    }

    /// Evaluates to text: strings as they are, other values in their JSON form.
    pub fn eval_string(&self, scope: &Scope) -> Result<String, ExprError> {
        Ok(match self.eval(scope)? {
            CelValue::String(s) => s.as_str().to_owned(),
            other => to_json(&other).to_string(),
        })
    }
}

/// Names an expression binds itself: comprehension variables (`exists(x, ...)`) and
/// the accumulators macros introduce. They show up among a program's references.
fn bound_names(expr: &cel::IdedExpr, out: &mut Vec<String>) {
    use cel::common::ast::{EntryExpr, Expr as E};
    let entry = |e: &cel::common::ast::IdedEntryExpr, out: &mut Vec<String>| match &e.expr {
        EntryExpr::StructField(f) => bound_names(&f.value, out),
        EntryExpr::MapEntry(m) => {
            bound_names(&m.key, out);
            bound_names(&m.value, out);
        }
    };
    match &expr.expr {
        E::Call(call) => {
            if let Some(t) = &call.target {
                bound_names(t, out);
            }
            call.args.iter().for_each(|a| bound_names(a, out));
        }
        E::Comprehension(c) => {
            out.push(c.iter_var.clone());
            out.extend(c.iter_var2.clone());
            out.push(c.accu_var.clone());
            for e in [&c.iter_range, &c.accu_init, &c.loop_cond, &c.loop_step, &c.result] {
                bound_names(e, out);
            }
        }
        E::List(l) => l.elements.iter().for_each(|e| bound_names(e, out)),
        E::Map(m) => m.entries.iter().for_each(|e| entry(e, out)),
        E::Struct(s) => s.entries.iter().for_each(|e| entry(e, out)),
        E::Select(s) => bound_names(&s.operand, out),
        E::Ident(_) | E::Literal(_) | E::Unspecified => {}
    }
}

/// Identifiers CEL itself defines (type names, the `optional` namespace).
const CEL_NAMES: [&str; 13] =
    ["int", "uint", "double", "string", "bool", "bytes", "list", "map", "null_type", "type", "dyn", "optional", "math"];

fn type_name(v: &CelValue) -> String {
    v.type_of().to_string()
}

/// One event, converted once and shared by every expression evaluated on it.
pub struct Scope {
    context: Context<'static, 'static>,
}

impl Scope {
    pub fn new(event: &Event) -> Scope {
        let mut map = HashMap::with_capacity(event.len());
        for (k, v) in event {
            map.insert(Key::String(Arc::new(k.clone())), from_json(v));
        }
        let mut context = Context::with_env(Arc::clone(env()));
        context.add_variable_from_value(EVENT_VAR, CelValue::Map(Map { map: Arc::new(map) }));
        Scope { context }
    }
}

/// JSON to CEL: integers stay integers (CEL keeps int and double apart).
fn from_json(v: &Value) -> CelValue {
    match v {
        Value::Null => CelValue::Null,
        Value::Bool(b) => CelValue::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => CelValue::Int(i),
            (None, Some(u)) => CelValue::UInt(u),
            _ => CelValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => CelValue::String(Arc::new(s.clone())),
        Value::Array(a) => CelValue::List(Arc::new(a.iter().map(from_json).collect())),
        Value::Object(o) => {
            let map = o.iter().map(|(k, v)| (Key::String(Arc::new(k.clone())), from_json(v))).collect();
            CelValue::Map(Map { map: Arc::new(map) })
        }
    }
}

/// CEL to JSON, for results written into events.
pub fn to_json(v: &CelValue) -> Value {
    match v {
        CelValue::Null => Value::Null,
        CelValue::Bool(b) => Value::Bool(*b),
        CelValue::Int(i) => Value::from(*i),
        CelValue::UInt(u) => Value::from(*u),
        CelValue::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null),
        CelValue::String(s) => Value::String(s.as_str().to_owned()),
        CelValue::List(l) => Value::Array(l.iter().map(to_json).collect()),
        CelValue::Map(m) => {
            let mut entries: Vec<(String, Value)> = m
                .map
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        Key::String(s) => s.as_str().to_owned(),
                        Key::Int(i) => i.to_string(),
                        Key::Uint(u) => u.to_string(),
                        Key::Bool(b) => b.to_string(),
                    };
                    (key, to_json(v))
                })
                .collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect())
        }
        other => Value::String(format!("{other:?}")),
    }
}

/// A number as f64, for scores.
pub fn as_f64(v: &CelValue) -> Option<f64> {
    match v {
        CelValue::Int(i) => Some(*i as f64),
        CelValue::UInt(u) => Some(*u as f64),
        CelValue::Float(f) => Some(*f),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::event_from_value;
    use serde_json::json;

    fn event() -> Event {
        event_from_value(json!({
            "ip_src_addr": "10.0.0.1",
            "ip_dst_port": 443,
            "threatintels.feodo.ip_dst_addr.ip": "alert",
            "tags": ["a", "b"],
            "ratio": 0.5
        }))
        .unwrap()
    }

    #[test]
    fn dotted_fields_are_reached_through_e() {
        let scope = Scope::new(&event());
        let t = |s: &str| Expr::compile(s).unwrap().eval_bool(&scope).unwrap();
        assert!(t(r#"e["threatintels.feodo.ip_dst_addr.ip"] == "alert""#));
        assert!(t("e.ip_dst_port == 443 && e.ip_src_addr.startsWith('10.')"));
        assert!(t(r#""ip_src_addr" in e && !("query" in e)"#));
        assert!(t("has(e.ip_src_addr) && !has(e.query)"));
        assert!(t(r#"e[?"query"].orValue("none") == "none""#));
        assert!(t("e.tags.exists(t, t == 'b')"));
        assert!(t("e.ratio > 0.25"));
        assert!(t("e.ip_src_addr.upperAscii() == '10.0.0.1'"));
    }

    #[test]
    fn a_missing_field_is_an_evaluation_error() {
        let scope = Scope::new(&event());
        let err = Expr::compile(r#"e["query"] == "x""#).unwrap().eval_bool(&scope).unwrap_err();
        assert!(matches!(err, ExprError::Eval(ref m) if m.contains("query")), "{err}");
    }

    #[test]
    fn syntax_errors_say_where() {
        let err = Expr::compile("e.ip_dst_port == ").unwrap_err();
        match err {
            ExprError::Syntax { line, column, .. } => assert_eq!((line, column), (1, 18)),
            other => panic!("{other:?}"),
        }
        let err = Expr::compile("true &&\n  (e.x ==").unwrap_err();
        assert!(matches!(err, ExprError::Syntax { line: 2, .. }), "{err:?}");
    }

    #[test]
    fn a_bare_field_name_is_refused_with_a_hint() {
        let err = Expr::compile("ip_src_addr == '10.0.0.1'").unwrap_err();
        assert_eq!(err, ExprError::UnknownVariable { name: "ip_src_addr".into() });
        assert!(err.to_string().contains(r#"e["ip_src_addr"]"#), "{err}");
    }

    #[test]
    fn reasons_become_text() {
        let scope = Scope::new(&event());
        let s = |src: &str| Expr::compile(src).unwrap().eval_string(&scope).unwrap();
        assert_eq!(s(r#""from " + e.ip_src_addr"#), "from 10.0.0.1");
        assert_eq!(s("e.ip_dst_port + 1"), "444");
        let err = Expr::compile("e.ip_dst_port").unwrap().eval_bool(&scope).unwrap_err();
        assert_eq!(err, ExprError::Type { got: "int".into(), want: "a bool" });
    }
}
