//! STIX 2.1 indicators: a parser for the whole patterning grammar (so that every
//! pattern we cannot evaluate is named with its reason, not misread), the subset we
//! evaluate per event, and the loader for bundles and other JSON holding indicators.
//!
//! Evaluated: comparisons with `=` (and `IN`, which is a list of `=`) on
//! `ipv4-addr:value`, `ipv6-addr:value`, `domain-name:value`, `url:value`,
//! `email-addr:value` and `file:hashes.'MD5' | 'SHA-1' | 'SHA-256'`, and `ISSUBSET`
//! on addresses, joined by `OR` inside brackets and between observations. An event
//! matches when one of them holds. Anything else (`AND`, `FOLLOWEDBY`, qualifiers,
//! `NOT`, `MATCHES`, `LIKE`, other objects and properties) would need more than one
//! field or more than one event, so the whole pattern is listed as not evaluated.
//! No pattern is half-evaluated.

use super::index::{Indicator, IndicatorType, Meta};
use crate::event::parse_rfc3339_ms;
use serde_json::Value;
use std::fmt;

/// How deep parentheses and brackets may nest: hostile input must not overflow the
/// stack.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// `h'..'`
    Hex(String),
    /// `b'..'`
    Binary(String),
    /// `t'..'`
    Timestamp(String),
    /// `( .., .. )` after `IN`
    Set(Vec<Literal>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Neq,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Like,
    Matches,
    IsSubset,
    IsSuperset,
    Exists,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Neq => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::In => "IN",
            Op::Like => "LIKE",
            Op::Matches => "MATCHES",
            Op::IsSubset => "ISSUBSET",
            Op::IsSuperset => "ISSUPERSET",
            Op::Exists => "EXISTS",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    Prop(String),
    /// `[n]` or `[*]` (None).
    Index(Option<i64>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ObjectPath {
    pub object_type: String,
    pub steps: Vec<PathStep>,
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.object_type)?;
        for (i, s) in self.steps.iter().enumerate() {
            match s {
                PathStep::Prop(p) if i == 0 => write!(f, "{p}")?,
                PathStep::Prop(p) if p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') => write!(f, ".{p}")?,
                PathStep::Prop(p) => write!(f, ".'{p}'")?,
                PathStep::Index(Some(n)) => write!(f, "[{n}]")?,
                PathStep::Index(None) => write!(f, "[*]")?,
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub path: ObjectPath,
    pub negated: bool,
    pub op: Op,
    /// None for `EXISTS`.
    pub value: Option<Literal>,
}

/// Inside `[ ]`.
#[derive(Debug, Clone, PartialEq)]
pub enum CmpExpr {
    Test(Comparison),
    And(Vec<CmpExpr>),
    Or(Vec<CmpExpr>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Qualifier {
    Within(f64),
    Repeats(i64),
    StartStop(String, String),
}

/// Observation expressions, combined.
#[derive(Debug, Clone, PartialEq)]
pub enum ObsExpr {
    Simple(CmpExpr),
    And(Vec<ObsExpr>),
    Or(Vec<ObsExpr>),
    FollowedBy(Vec<ObsExpr>),
    Qualified(Box<ObsExpr>, Qualifier),
}

/// A pattern that does not parse, with the 1-based column where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct SyntaxError {
    pub column: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LBrack,
    RBrack,
    LParen,
    RParen,
    Colon,
    Dot,
    Comma,
    Star,
    Op(Op),
    Str(String),
    Int(i64),
    Float(f64),
    Hex(String),
    Binary(String),
    Timestamp(String),
    /// Identifiers and keywords (keywords are upper case words).
    Word(String),
}

/// Splits a pattern into tokens, each with its byte offset.
fn tokenize(src: &str) -> Result<Vec<(usize, Tok)>, SyntaxError> {
    let err = |at: usize, message: String| SyntaxError { column: src[..at].chars().count() + 1, message };
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let single = match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'[' => Some(Tok::LBrack),
            b']' => Some(Tok::RBrack),
            b'(' => Some(Tok::LParen),
            b')' => Some(Tok::RParen),
            b':' => Some(Tok::Colon),
            b',' => Some(Tok::Comma),
            b'*' => Some(Tok::Star),
            b'.' if !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => Some(Tok::Dot),
            _ => None,
        };
        if let Some(t) = single {
            out.push((start, t));
            i += 1;
            continue;
        }
        let two = bytes.get(i..i + 2);
        let op = match (c, two) {
            (_, Some(b"==")) => Some((Op::Eq, 2)),
            (_, Some(b"!=")) | (_, Some(b"<>")) => Some((Op::Neq, 2)),
            (_, Some(b"<=")) => Some((Op::Le, 2)),
            (_, Some(b">=")) => Some((Op::Ge, 2)),
            (b'=', _) => Some((Op::Eq, 1)),
            (b'<', _) => Some((Op::Lt, 1)),
            (b'>', _) => Some((Op::Gt, 1)),
            _ => None,
        };
        if let Some((op, len)) = op {
            out.push((start, Tok::Op(op)));
            i += len;
            continue;
        }
        if c == b'\'' {
            let (s, next) = quoted(src, i).ok_or_else(|| err(start, "unterminated string".into()))?;
            out.push((start, Tok::Str(s)));
            i = next;
            continue;
        }
        if matches!(c, b'h' | b'b' | b't') && bytes.get(i + 1) == Some(&b'\'') {
            let (s, next) = quoted(src, i + 1).ok_or_else(|| err(start, "unterminated string".into()))?;
            let tok = match c {
                b'h' if s.len() % 2 == 0 && s.bytes().all(|b| b.is_ascii_hexdigit()) => Tok::Hex(s),
                b'h' => return Err(err(start, format!("bad hex literal h'{s}'"))),
                b'b' => Tok::Binary(s),
                _ if parse_rfc3339_ms(&s).is_some() => Tok::Timestamp(s),
                _ => return Err(err(start, format!("bad timestamp t'{s}'"))),
            };
            out.push((start, tok));
            i = next;
            continue;
        }
        if c.is_ascii_digit() || ((c == b'-' || c == b'+' || c == b'.') && i + 1 < bytes.len()) {
            let mut j = i + usize::from(c == b'-' || c == b'+');
            while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b'.') {
                j += 1;
            }
            let text = &src[i..j];
            let tok = if text.contains('.') {
                text.parse::<f64>().ok().map(Tok::Float)
            } else {
                text.parse::<i64>().ok().map(Tok::Int)
            };
            match tok {
                Some(t) if j > i + usize::from(c == b'-' || c == b'+') => {
                    out.push((start, t));
                    i = j;
                    continue;
                }
                _ => return Err(err(start, format!("bad number {text:?}"))),
            }
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let mut j = i;
            while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_' || bytes[j] == b'-') {
                j += 1;
            }
            out.push((start, Tok::Word(src[i..j].to_owned())));
            i = j;
            continue;
        }
        let ch = src[i..].chars().next().unwrap_or('?');
        return Err(err(start, format!("unexpected character {ch:?}")));
    }
    Ok(out)
}

/// A `'...'` string starting at `at` (the quote): its text with `\'` and `\\`
/// unescaped, and the offset after the closing quote.
fn quoted(src: &str, at: usize) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = src[at + 1..].char_indices();
    while let Some((k, ch)) = chars.next() {
        match ch {
            '\'' => return Some((out, at + 1 + k + 1)),
            '\\' => match chars.next() {
                Some((_, e @ ('\'' | '\\'))) => out.push(e),
                // The grammar allows only these two escapes; keep anything else as
                // written rather than refuse a pattern over it.
                Some((_, other)) => {
                    out.push('\\');
                    out.push(other);
                }
                None => return None,
            },
            other => out.push(other),
        }
    }
    None
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<(usize, Tok)>,
    pos: usize,
    depth: usize,
}

/// Parses a STIX pattern.
pub fn parse_pattern(src: &str) -> Result<ObsExpr, SyntaxError> {
    let toks = tokenize(src)?;
    let mut p = Parser { src, toks, pos: 0, depth: 0 };
    let expr = p.obs_followed_by()?;
    if p.pos < p.toks.len() {
        return Err(p.error("unexpected text after the pattern"));
    }
    Ok(expr)
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn error(&self, message: &str) -> SyntaxError {
        let at = self.toks.get(self.pos).map_or(self.src.len(), |(o, _)| *o);
        let found = match self.toks.get(self.pos) {
            Some(_) => format!(" at {:?}", self.src[at..].chars().take(12).collect::<String>()),
            None => " at the end".to_owned(),
        };
        SyntaxError { column: self.src[..at].chars().count() + 1, message: format!("{message}{found}") }
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.is_word(w) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: Tok, what: &str) -> Result<(), SyntaxError> {
        if self.peek() == Some(&t) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected {what}")))
        }
    }

    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        Ok(())
    }

    /// `a FOLLOWEDBY b`: lowest precedence.
    fn obs_followed_by(&mut self) -> Result<ObsExpr, SyntaxError> {
        let mut items = vec![self.obs_or()?];
        while self.eat_word("FOLLOWEDBY") {
            items.push(self.obs_or()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { ObsExpr::FollowedBy(items) })
    }

    fn obs_or(&mut self) -> Result<ObsExpr, SyntaxError> {
        let mut items = vec![self.obs_and()?];
        while self.eat_word("OR") {
            items.push(self.obs_and()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { ObsExpr::Or(items) })
    }

    fn obs_and(&mut self) -> Result<ObsExpr, SyntaxError> {
        let mut items = vec![self.obs_qualified()?];
        while self.eat_word("AND") {
            items.push(self.obs_qualified()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { ObsExpr::And(items) })
    }

    fn obs_qualified(&mut self) -> Result<ObsExpr, SyntaxError> {
        let mut expr = self.obs_primary()?;
        loop {
            let q = if self.eat_word("WITHIN") {
                let n = match self.peek() {
                    Some(Tok::Int(n)) if *n > 0 => *n as f64,
                    Some(Tok::Float(f)) if *f > 0.0 => *f,
                    _ => return Err(self.error("expected a positive number of seconds")),
                };
                self.pos += 1;
                if !self.eat_word("SECONDS") {
                    return Err(self.error("expected SECONDS"));
                }
                Qualifier::Within(n)
            } else if self.eat_word("REPEATS") {
                let n = match self.peek() {
                    Some(Tok::Int(n)) if *n > 0 => *n,
                    _ => return Err(self.error("expected a positive count")),
                };
                self.pos += 1;
                if !self.eat_word("TIMES") {
                    return Err(self.error("expected TIMES"));
                }
                Qualifier::Repeats(n)
            } else if self.eat_word("START") {
                let a = self.timestamp()?;
                if !self.eat_word("STOP") {
                    return Err(self.error("expected STOP"));
                }
                Qualifier::StartStop(a, self.timestamp()?)
            } else {
                return Ok(expr);
            };
            expr = ObsExpr::Qualified(Box::new(expr), q);
        }
    }

    fn timestamp(&mut self) -> Result<String, SyntaxError> {
        match self.peek() {
            Some(Tok::Timestamp(t)) => {
                let t = t.clone();
                self.pos += 1;
                Ok(t)
            }
            _ => Err(self.error("expected a timestamp t'...'")),
        }
    }

    fn obs_primary(&mut self) -> Result<ObsExpr, SyntaxError> {
        self.enter()?;
        let expr = match self.peek() {
            Some(Tok::LBrack) => {
                self.pos += 1;
                let cmp = self.cmp_or()?;
                self.expect(Tok::RBrack, "`]`")?;
                ObsExpr::Simple(cmp)
            }
            Some(Tok::LParen) => {
                self.pos += 1;
                let inner = self.obs_followed_by()?;
                self.expect(Tok::RParen, "`)`")?;
                inner
            }
            _ => return Err(self.error("expected `[` or `(`")),
        };
        self.depth -= 1;
        Ok(expr)
    }

    fn cmp_or(&mut self) -> Result<CmpExpr, SyntaxError> {
        let mut items = vec![self.cmp_and()?];
        while self.eat_word("OR") {
            items.push(self.cmp_and()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { CmpExpr::Or(items) })
    }

    fn cmp_and(&mut self) -> Result<CmpExpr, SyntaxError> {
        let mut items = vec![self.cmp_primary()?];
        while self.eat_word("AND") {
            items.push(self.cmp_primary()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { CmpExpr::And(items) })
    }

    fn cmp_primary(&mut self) -> Result<CmpExpr, SyntaxError> {
        self.enter()?;
        let expr = if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let inner = self.cmp_or()?;
            self.expect(Tok::RParen, "`)`")?;
            inner
        } else if self.eat_word("EXISTS") {
            let path = self.object_path()?;
            CmpExpr::Test(Comparison { path, negated: false, op: Op::Exists, value: None })
        } else {
            let path = self.object_path()?;
            let negated = self.eat_word("NOT");
            let op = match self.peek() {
                Some(Tok::Op(op)) => *op,
                Some(Tok::Word(w)) => match w.as_str() {
                    "IN" => Op::In,
                    "LIKE" => Op::Like,
                    "MATCHES" => Op::Matches,
                    "ISSUBSET" => Op::IsSubset,
                    "ISSUPERSET" => Op::IsSuperset,
                    _ => return Err(self.error("expected a comparison operator")),
                },
                _ => return Err(self.error("expected a comparison operator")),
            };
            self.pos += 1;
            let value = if op == Op::In { self.set()? } else { self.literal()? };
            if matches!(op, Op::Like | Op::Matches | Op::IsSubset | Op::IsSuperset) && !matches!(value, Literal::Str(_))
            {
                return Err(self.error(&format!("{} takes a string", op.name())));
            }
            CmpExpr::Test(Comparison { path, negated, op, value: Some(value) })
        };
        self.depth -= 1;
        Ok(expr)
    }

    fn literal(&mut self) -> Result<Literal, SyntaxError> {
        let lit = match self.peek() {
            Some(Tok::Str(s)) => Literal::Str(s.clone()),
            Some(Tok::Int(n)) => Literal::Int(*n),
            Some(Tok::Float(f)) => Literal::Float(*f),
            Some(Tok::Hex(h)) => Literal::Hex(h.clone()),
            Some(Tok::Binary(b)) => Literal::Binary(b.clone()),
            Some(Tok::Timestamp(t)) => Literal::Timestamp(t.clone()),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("false") => Literal::Bool(false),
            _ => return Err(self.error("expected a literal")),
        };
        self.pos += 1;
        Ok(lit)
    }

    fn set(&mut self) -> Result<Literal, SyntaxError> {
        self.expect(Tok::LParen, "`(` after IN")?;
        let mut items = Vec::new();
        if self.peek() == Some(&Tok::RParen) {
            self.pos += 1;
            return Ok(Literal::Set(items));
        }
        loop {
            items.push(self.literal()?);
            match self.peek() {
                Some(Tok::Comma) => self.pos += 1,
                Some(Tok::RParen) => {
                    self.pos += 1;
                    return Ok(Literal::Set(items));
                }
                _ => return Err(self.error("expected `,` or `)`")),
            }
        }
    }

    fn object_path(&mut self) -> Result<ObjectPath, SyntaxError> {
        let object_type = match self.peek() {
            Some(Tok::Word(w)) => w.clone(),
            _ => return Err(self.error("expected an object type")),
        };
        self.pos += 1;
        self.expect(Tok::Colon, "`:` after the object type")?;
        let mut steps = vec![match self.peek() {
            Some(Tok::Word(w)) if !w.contains('-') => PathStep::Prop(w.clone()),
            Some(Tok::Str(s)) => PathStep::Prop(s.clone()),
            _ => return Err(self.error("expected a property name")),
        }];
        self.pos += 1;
        loop {
            match self.peek() {
                Some(Tok::Dot) => {
                    self.pos += 1;
                    match self.peek() {
                        Some(Tok::Word(w)) if !w.contains('-') => steps.push(PathStep::Prop(w.clone())),
                        Some(Tok::Str(s)) => steps.push(PathStep::Prop(s.clone())),
                        _ => return Err(self.error("expected a property name after `.`")),
                    }
                    self.pos += 1;
                }
                Some(Tok::LBrack) => {
                    // `[` here is a list index only when an index and `]` follow;
                    // otherwise it is the next observation (never, after a path).
                    self.pos += 1;
                    let idx = match self.peek() {
                        Some(Tok::Int(n)) => Some(*n),
                        Some(Tok::Star) => None,
                        _ => return Err(self.error("expected a list index or `*`")),
                    };
                    self.pos += 1;
                    self.expect(Tok::RBrack, "`]` after the list index")?;
                    steps.push(PathStep::Index(idx));
                }
                _ => return Ok(ObjectPath { object_type, steps }),
            }
        }
    }
}

/// How `ipv4-addr:value = '10.0.0.0/8'` is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CidrEquality {
    /// As the STIX semantics (and the stix2-matcher reference) say: `=` compares the
    /// text, so it matches no address inside the network. Reported at load.
    #[default]
    Exact,
    /// As if it were `ISSUBSET`: every address in the network matches.
    Subset,
}

/// Turns a parsed pattern into the indicators whose presence in one event field
/// makes it match, or says why that is not what the pattern means.
pub fn evaluable(expr: &ObsExpr, cidr: CidrEquality, notes: &mut Vec<String>) -> Result<Vec<Indicator>, String> {
    let mut out = Vec::new();
    obs(expr, cidr, notes, &mut out)?;
    Ok(out)
}

fn obs(expr: &ObsExpr, cidr: CidrEquality, notes: &mut Vec<String>, out: &mut Vec<Indicator>) -> Result<(), String> {
    match expr {
        ObsExpr::Simple(c) => cmp(c, cidr, notes, out),
        ObsExpr::Or(items) => items.iter().try_for_each(|i| obs(i, cidr, notes, out)),
        ObsExpr::And(_) => Err("AND between observations needs several events together".into()),
        ObsExpr::FollowedBy(_) => Err("FOLLOWEDBY needs events in order".into()),
        ObsExpr::Qualified(_, q) => Err(match q {
            Qualifier::Within(_) => "the WITHIN qualifier needs a time window of events".into(),
            Qualifier::Repeats(_) => "the REPEATS qualifier needs counting events".into(),
            Qualifier::StartStop(..) => "the START/STOP qualifier is not evaluated".into(),
        }),
    }
}

fn cmp(expr: &CmpExpr, cidr: CidrEquality, notes: &mut Vec<String>, out: &mut Vec<Indicator>) -> Result<(), String> {
    match expr {
        CmpExpr::Or(items) => items.iter().try_for_each(|i| cmp(i, cidr, notes, out)),
        CmpExpr::And(_) => Err("AND inside [ ] needs several properties of one object".into()),
        CmpExpr::Test(c) => test(c, cidr, notes, out),
    }
}

fn test(c: &Comparison, cidr: CidrEquality, notes: &mut Vec<String>, out: &mut Vec<Indicator>) -> Result<(), String> {
    if c.negated {
        return Err(format!("NOT {} is not evaluated", c.op.name()));
    }
    let kind = path_kind(&c.path).ok_or_else(|| format!("{} is not an observable we match", c.path))?;
    let values: Vec<&Literal> = match (&c.op, &c.value) {
        (Op::Eq, Some(v)) => vec![v],
        (Op::In, Some(Literal::Set(items))) => items.iter().collect(),
        (Op::IsSubset, Some(v)) if kind == IndicatorType::Ip => vec![v],
        (op, _) => return Err(format!("{} on {} is not evaluated", op.name(), c.path)),
    };
    for v in values {
        let Literal::Str(text) = v else {
            return Err(format!("{} compared with a non-string literal", c.path));
        };
        let indicator = match kind {
            IndicatorType::Ip => ip_literal(text, c.op == Op::IsSubset, cidr, notes),
            IndicatorType::Domain => match super::index::normalize_domain(text) {
                Some(d) => Ok(Indicator::Domain { name: d.into_owned(), subdomains: false }),
                None => Err(format!("empty domain-name in {}", c.path)),
            },
            other => Indicator::parse(other, text),
        };
        out.push(indicator.map_err(|e| format!("{}: {e}", c.path))?);
    }
    Ok(())
}

fn ip_literal(text: &str, subset: bool, cidr: CidrEquality, notes: &mut Vec<String>) -> Result<Indicator, String> {
    let parsed = Indicator::parse(IndicatorType::Ip, text)?;
    Ok(match parsed {
        Indicator::Net(net) if !subset && cidr == CidrEquality::Exact => {
            notes.push(format!(
                "`= '{text}'` compares text, so no address inside {net} matches (STIX semantics); \
                 write ISSUBSET, or set [label] stix_cidr_equality = \"subset\""
            ));
            Indicator::IpText(text.trim().to_owned())
        }
        other => other,
    })
}

/// The indicator type an object path compares, if it is one we match.
fn path_kind(path: &ObjectPath) -> Option<IndicatorType> {
    let prop = |i: usize| match path.steps.get(i) {
        Some(PathStep::Prop(p)) => Some(p.as_str()),
        _ => None,
    };
    let single = path.steps.len() == 1;
    match (path.object_type.as_str(), prop(0)) {
        ("ipv4-addr" | "ipv6-addr", Some("value")) if single => Some(IndicatorType::Ip),
        ("domain-name", Some("value")) if single => Some(IndicatorType::Domain),
        ("url", Some("value")) if single => Some(IndicatorType::Url),
        ("email-addr", Some("value")) if single => Some(IndicatorType::Email),
        ("file", Some("hashes")) if path.steps.len() == 2 => {
            match prop(1)?.to_ascii_uppercase().replace('_', "-").as_str() {
                "MD5" => Some(IndicatorType::Md5),
                "SHA-1" | "SHA1" => Some(IndicatorType::Sha1),
                "SHA-256" | "SHA256" => Some(IndicatorType::Sha256),
                _ => None,
            }
        }
        _ => None,
    }
}

/// One STIX indicator object, read.
#[derive(Debug, Clone)]
pub struct StixIndicator {
    /// Where it was in the file (`objects[12]`).
    pub location: String,
    pub id: String,
    pub pattern: String,
    pub meta: Meta,
}

/// What is in a STIX JSON file: the indicators to evaluate, and everything that was
/// not used and why.
#[derive(Debug, Default)]
pub struct StixFile {
    pub indicators: Vec<StixIndicator>,
    /// (location, message): objects that are not valid indicators.
    pub malformed: Vec<(String, String)>,
    pub revoked: u64,
    /// Older versions of an indicator whose newer version (`modified`) is there too.
    pub superseded: u64,
    /// (location and id, pattern_type) of indicators in another pattern language.
    pub other_language: Vec<(String, String)>,
}

/// Reads indicators out of any JSON holding STIX objects: a bundle, a bare array of
/// objects, a TAXII envelope or collection data. Every object whose `type` is
/// `indicator` counts, wherever it sits.
pub fn read_stix(json: &Value) -> StixFile {
    let mut found: Vec<(String, &serde_json::Map<String, Value>)> = Vec::new();
    collect(json, String::new(), 0, &mut found);
    let mut file = StixFile::default();
    // STIX versioning: the same id with a later `modified` replaces the earlier one.
    let mut latest: std::collections::HashMap<&str, (i64, usize)> = std::collections::HashMap::new();
    let mut read: Vec<Option<StixIndicator>> = Vec::new();
    for (location, obj) in &found {
        match indicator(location, obj) {
            Ok(ind) => {
                let modified =
                    obj.get("modified").and_then(Value::as_str).and_then(parse_rfc3339_ms).unwrap_or(i64::MIN);
                let id = obj.get("id").and_then(Value::as_str).unwrap_or("");
                let slot = read.len();
                match latest.get(id) {
                    Some(&(m, _)) if m >= modified => {
                        file.superseded += 1;
                        continue;
                    }
                    Some(&(_, prev)) => {
                        file.superseded += 1;
                        read[prev] = None;
                    }
                    None => {}
                }
                latest.insert(id, (modified, slot));
                read.push(Some(ind));
            }
            Err(Skip::Malformed(m)) => file.malformed.push((location.clone(), m)),
            Err(Skip::Revoked) => file.revoked += 1,
            Err(Skip::Language(l)) => file.other_language.push((location.clone(), l)),
        }
    }
    file.indicators = read.into_iter().flatten().collect();
    file
}

fn collect<'a>(v: &'a Value, path: String, depth: usize, out: &mut Vec<(String, &'a serde_json::Map<String, Value>)>) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(o) => {
            if o.get("type").and_then(Value::as_str) == Some("indicator") {
                out.push((if path.is_empty() { "(top)".into() } else { path }, o));
                return;
            }
            for (k, child) in o {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                collect(child, p, depth + 1, out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                collect(child, format!("{path}[{i}]"), depth + 1, out);
            }
        }
        _ => {}
    }
}

enum Skip {
    Malformed(String),
    Revoked,
    Language(String),
}

fn indicator(location: &str, o: &serde_json::Map<String, Value>) -> Result<StixIndicator, Skip> {
    let s = |k: &str| o.get(k).and_then(Value::as_str);
    let id = match s("id") {
        Some(id) if id.starts_with("indicator--") => id.to_owned(),
        Some(id) => return Err(Skip::Malformed(format!("id {id:?} is not an indicator id"))),
        None => return Err(Skip::Malformed("indicator without an id".into())),
    };
    let named = |m: String| Skip::Malformed(format!("{id}: {m}"));
    if o.get("revoked").and_then(Value::as_bool) == Some(true) {
        return Err(Skip::Revoked);
    }
    // STIX 2.0 indicators have no pattern_type: their patterns are STIX patterns.
    match s("pattern_type") {
        None | Some("stix") => {}
        Some(other) => return Err(Skip::Language(format!("{id}: pattern_type {other:?}"))),
    }
    let pattern = s("pattern").ok_or_else(|| named("no pattern".into()))?.to_owned();
    let time = |k: &str| -> Result<Option<i64>, Skip> {
        match o.get(k) {
            None => Ok(None),
            Some(Value::String(t)) => {
                parse_rfc3339_ms(t).map(Some).ok_or_else(|| named(format!("{k} {t:?} is not a timestamp")))
            }
            Some(other) => Err(named(format!("{k} is {other}, not a timestamp"))),
        }
    };
    let valid_from = time("valid_from")?;
    let valid_until = time("valid_until")?;
    let strings = |k: &str| -> Vec<String> {
        o.get(k)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    let mut labels = strings("labels");
    for t in strings("indicator_types") {
        if !labels.contains(&t) {
            labels.push(t);
        }
    }
    let meta = Meta {
        id: Some(id.clone()),
        name: s("name").map(str::to_owned),
        labels,
        confidence: o.get("confidence").and_then(Value::as_i64),
        valid_from,
        valid_until,
    };
    Ok(StixIndicator { location: location.to_owned(), id, pattern, meta })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(p: &str) -> Result<Vec<String>, String> {
        let expr = parse_pattern(p).map_err(|e| format!("syntax: {e}"))?;
        let mut notes = Vec::new();
        evaluable(&expr, CidrEquality::Exact, &mut notes).map(|v| v.iter().map(Indicator::text).collect())
    }

    #[test]
    fn or_inside_and_between_brackets() {
        assert_eq!(
            eval("[domain-name:value = 'a.example' OR ipv4-addr:value = '10.0.0.1'] OR [url:value = 'http://x.cn/4712/']")
                .unwrap(),
            ["a.example", "10.0.0.1", "http://x.cn/4712/"]
        );
        assert_eq!(eval("([ipv4-addr:value = '10.0.0.1'])").unwrap(), ["10.0.0.1"]);
        assert_eq!(eval("[ipv4-addr:value IN ('10.0.0.1', '10.0.0.2')]").unwrap(), ["10.0.0.1", "10.0.0.2"]);
    }

    #[test]
    fn hashes_quoted_or_not_any_case() {
        let md5 = "001dd76872d80801692ff942308c64e6";
        assert_eq!(eval(&format!("[file:hashes.md5 = '{md5}']")).unwrap(), [md5]);
        assert_eq!(eval(&format!("[file:hashes.'MD5' = '{}']", md5.to_uppercase())).unwrap(), [md5]);
        let sha1 = "2e3519b7cb61a3cd6167f727df993f68311085ea";
        assert_eq!(eval(&format!("[file:hashes.'SHA-1' = '{sha1}']")).unwrap(), [sha1]);
        assert!(eval("[file:hashes.'SHA-512' = 'ab']").unwrap_err().contains("not an observable"));
        assert!(eval("[file:hashes.'MD5' = 'abc']").unwrap_err().contains("md5"));
    }

    #[test]
    fn cidr_equality_is_text_and_issubset_is_a_range() {
        let expr = parse_pattern("[ipv4-addr:value = '223.166.0.0/15']").unwrap();
        let mut notes = Vec::new();
        let v = evaluable(&expr, CidrEquality::Exact, &mut notes).unwrap();
        assert_eq!(v, [Indicator::IpText("223.166.0.0/15".into())]);
        assert_eq!(notes.len(), 1);
        let v = evaluable(&expr, CidrEquality::Subset, &mut Vec::new()).unwrap();
        assert_eq!(v[0].text(), "223.166.0.0/15");
        assert!(matches!(v[0], Indicator::Net(_)));
        let subset = parse_pattern("[ipv4-addr:value ISSUBSET '198.51.100.0/24']").unwrap();
        assert!(matches!(evaluable(&subset, CidrEquality::Exact, &mut notes).unwrap()[0], Indicator::Net(_)));
    }

    #[test]
    fn what_we_cannot_evaluate_says_why() {
        let cases = [
            ("[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c']", "AND inside"),
            ("[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'a.b']", "AND between"),
            ("[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [domain-name:value = 'a.b']", "FOLLOWEDBY"),
            ("[email-message:subject MATCHES '^[IMPORTANT] Please']", "not an observable"),
            ("[domain-name:value MATCHES 'evil']", "MATCHES"),
            ("[domain-name:value LIKE 'evil%']", "LIKE"),
            ("[domain-name:value != 'a.b']", "!="),
            ("[domain-name:value NOT = 'a.b']", "NOT"),
            ("[file:name = 'CBricksDoc']", "file:name"),
            ("[ipv4-addr:value = '1.2.3.4'] REPEATS 5 TIMES", "REPEATS"),
            ("[ipv4-addr:value = '1.2.3.4'] WITHIN 300 SECONDS", "WITHIN"),
            ("[ipv4-addr:value = '1.2.3.4'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'", "START/STOP"),
            ("[network-traffic:dst_ref.value = '1.2.3.4']", "network-traffic:dst_ref.value"),
            ("[ipv4-addr:value = 5]", "non-string"),
            ("[ipv4-addr:value = 'not-an-ip']", "not an IP"),
        ];
        for (p, why) in cases {
            let err = eval(p).unwrap_err();
            assert!(err.contains(why), "{p}: {err}");
        }
    }

    #[test]
    fn strings_unescape_and_paths_print_back() {
        let expr =
            parse_pattern(r"[email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\.exe$']")
                .unwrap();
        let ObsExpr::Simple(CmpExpr::Test(c)) = expr else { panic!() };
        assert_eq!(c.path.to_string(), "email-message:body_multipart[*].body_raw_ref.name");
        assert_eq!(c.value, Some(Literal::Str(r"^Final Report.+\.exe$".into())));
        let expr = parse_pattern(r"[domain-name:value = 'it\'s.example']").unwrap();
        let ObsExpr::Simple(CmpExpr::Test(c)) = expr else { panic!() };
        assert_eq!(c.value, Some(Literal::Str("it's.example".into())));
    }

    #[test]
    fn every_literal_kind_parses() {
        for p in [
            "[a:b = 1]",
            "[a:b = -1]",
            "[a:b = 1.5]",
            "[a:b = true]",
            "[a:b = h'ff00']",
            "[a:b = b'AAEC']",
            "[a:b = t'2016-01-01T00:00:00Z']",
            "[a:b IN ()]",
            "[a:'x-y'.c[0] > 2]",
            "[a:b == 'x' OR (a:c <> 'y' AND a:d >= 3)]",
            "[EXISTS a:b]",
        ] {
            parse_pattern(p).unwrap_or_else(|e| panic!("{p}: {e}"));
        }
    }

    #[test]
    fn syntax_errors_have_columns_and_never_panic() {
        let err = parse_pattern("[ipv4-addr:value = '1.2.3.4'").unwrap_err();
        assert!(err.message.contains("`]`"), "{err}");
        assert_eq!(err.column, 29);
        let err = parse_pattern("[ipv4-addr:value = '1.2.3.4").unwrap_err();
        assert!(err.message.contains("unterminated"), "{err}");
        assert_eq!(err.column, 20);
        for bad in
            ["", "[", "]", "[a]", "[a:]", "[a:b =]", "[a:b = 'x'] OR", "(((", "[a:b = h'f']", "ü", "[a:b = t'x']"]
        {
            assert!(parse_pattern(bad).is_err(), "{bad:?}");
        }
        let deep = format!("{}[a:b = 'x']{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse_pattern(&deep).unwrap_err().message.contains("deeply"));
    }

    #[test]
    fn versions_revocation_and_other_languages() {
        let json: Value = serde_json::from_str(
            r#"{"type":"bundle","id":"bundle--1","objects":[
              {"type":"indicator","id":"indicator--a","modified":"2016-01-01T00:00:00Z","pattern":"[url:value = 'http://old.example/']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"},
              {"type":"indicator","id":"indicator--a","modified":"2017-01-01T00:00:00Z","pattern":"[url:value = 'http://new.example/']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"},
              {"type":"indicator","id":"indicator--b","revoked":true,"pattern":"[url:value = 'http://r.example/']","pattern_type":"stix"},
              {"type":"indicator","id":"indicator--c","pattern":"alert tcp any any -> any any","pattern_type":"snort"},
              {"type":"indicator","id":"indicator--d","pattern_type":"stix","valid_from":"yesterday","pattern":"[url:value = 'http://d.example/']"},
              {"type":"indicator","pattern":"[url:value = 'http://e.example/']"},
              {"type":"malware","id":"malware--1"}]}"#,
        )
        .unwrap();
        let f = read_stix(&json);
        assert_eq!(f.indicators.len(), 1);
        assert_eq!(f.indicators[0].pattern, "[url:value = 'http://new.example/']");
        assert_eq!(f.superseded, 1);
        assert_eq!(f.revoked, 1);
        assert_eq!(f.other_language.len(), 1);
        assert_eq!(f.malformed.len(), 2, "{:?}", f.malformed);
        assert_eq!(f.malformed[0].0, "objects[4]");
        assert!(f.malformed[0].1.contains("valid_from"));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
            if let Ok(expr) = parse_pattern(&s) {
                let _ = evaluable(&expr, CidrEquality::Exact, &mut Vec::new());
            }
        }

        #[test]
        fn pattern_shaped_text_never_panics(
            parts in proptest::collection::vec(
                proptest::sample::select(vec!["[", "]", "(", ")", "ipv4-addr:value", "file:hashes.'MD5'", "=", "!=",
                    "IN", "OR", "AND", "NOT", "FOLLOWEDBY", "'1.2.3.4'", "'a\\'b'", "t'2016-01-01T00:00:00Z'", "h'ff'",
                    "5", "-2.5", ",", "WITHIN", "SECONDS", "REPEATS", "TIMES", "ISSUBSET", "'10.0.0.0/8'", "[*]", "."]),
                0..30)
        ) {
            let text = parts.join(" ");
            if let Ok(expr) = parse_pattern(&text) {
                let _ = evaluable(&expr, CidrEquality::Subset, &mut Vec::new());
            }
        }
    }
}
