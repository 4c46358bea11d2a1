//! What expression rules cost per event: the CEL scope built at most once, answers
//! remembered by the values of the fields an expression reads, and which fields those
//! are (read off the expression's text).

use crate::event::Event;
use crate::expr::{Expr, Scope};
use std::collections::HashMap;

/// State shared by the rules evaluated on an event: the CEL scope is built at most
/// once, and only when an expression rule applies. Kept from one event to the next:
/// the answers of expressions that read known fields, by the values of those fields.
#[derive(Default)]
pub struct EvalCache {
    pub(super) scope: Option<Scope>,
    /// Expression evaluation failures (a missing field): counted, not alerts.
    pub expression_errors: u64,
    /// CEL is side-effect free, so an expression given the same fields gives the same
    /// answer (`None`: an evaluation error): converting the fields to CEL and
    /// evaluating costs far more than looking the answer up. Keyed by the expression's
    /// text and its fields as JSON; cleared when full.
    pub(super) answers: HashMap<Vec<u8>, Option<bool>, foldhash::fast::RandomState>,
    key: Vec<u8>,
}

/// Expression answers remembered at most.
const MAX_ANSWERS: usize = 4096;

impl EvalCache {
    /// Forgets the previous event (not the answers).
    pub fn start(&mut self) {
        self.scope = None;
        self.expression_errors = 0;
    }

    pub(super) fn answer(&mut self, answer: Option<bool>) -> bool {
        if answer.is_none() {
            self.expression_errors += 1;
        }
        answer.unwrap_or(false)
    }

    /// An expression on the fields `keys` of `event`, answered from memory when it
    /// has seen the same values.
    pub(super) fn eval_on(&mut self, expr: &Expr, keys: &[String], event: &Event) -> bool {
        self.key.clear();
        self.key.extend_from_slice(expr.source().as_bytes());
        let mut written = true;
        for k in keys {
            if let Some(v) = event.get(k.as_str()) {
                // A missing field writes nothing; keys come in one order, so the text
                // names the fields present and their values.
                self.key.push(0);
                written &= serde_json::to_writer(&mut self.key, k).is_ok();
                self.key.push(0);
                written &= serde_json::to_writer(&mut self.key, v).is_ok();
            }
        }
        if written {
            if let Some(&a) = self.answers.get(&self.key) {
                return self.answer(a);
            }
        }
        let mut small = crate::event::event_with_capacity(keys.len());
        for k in keys {
            if let Some(v) = event.get(k.as_str()) {
                small.insert(k.clone(), v.clone());
            }
        }
        let a = expr.eval_bool(&Scope::new(&small)).ok();
        if written {
            if self.answers.len() >= MAX_ANSWERS {
                self.answers.clear();
            }
            self.answers.insert(self.key.clone(), a);
        }
        self.answer(a)
    }
}

/// The event fields an expression can read, if its text says so for certain: every
/// use of the event `e` is `e["name"]`, `e[?"name"]`, `e.name` or `"name" in e`, and the
/// names are plain string literals. Anything else (`size(e)`, `e.exists(k, ...)`, a
/// computed key) reads the whole event: `None`.
pub fn referenced_keys(source: &str) -> Option<Vec<String>> {
    if source.contains("\"\"\"") || source.contains("'''") {
        return None;
    }
    let bytes = source.as_bytes();
    let mut keys: Vec<String> = Vec::new();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'"' || b == b'\'' {
            // A string literal: a candidate key. Escapes make the key uncertain.
            let end = source[i + 1..].find(b as char)? + i + 1;
            let lit = &source[i + 1..end];
            if lit.contains('\\') {
                return None;
            }
            keys.push(lit.to_owned());
            i = end + 1;
            continue;
        }
        if b == b'e'
            && (i == 0 || !is_ident(bytes[i - 1]) && bytes[i - 1] != b'.')
            && bytes.get(i + 1).is_none_or(|n| !is_ident(*n))
        {
            let rest = source[i + 1..].trim_start();
            let before = source[..i].trim_end();
            if let Some(member) = rest.strip_prefix('.') {
                let name: String =
                    member.trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                let after = member.trim_start()[name.len()..].trim_start();
                if name.is_empty() || after.starts_with('(') {
                    return None;
                }
                keys.push(name);
            } else if let Some(sub) = rest.strip_prefix('[') {
                // Only a literal subscript names its key; a computed one could be any.
                let sub = sub.strip_prefix('?').unwrap_or(sub).trim_start();
                let quote = sub.chars().next().filter(|c| *c == '"' || *c == '\'')?;
                let end = sub[1..].find(quote)? + 1;
                if !sub[end + 1..].trim_start().starts_with(']') {
                    return None;
                }
            } else if !(before.ends_with(" in") || before == "in") {
                return None;
            }
        }
        i += 1;
    }
    keys.sort();
    keys.dedup();
    Some(keys)
}
