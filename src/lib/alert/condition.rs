//! Sigma's condition language (`selection and not 1 of filter_*`), parsed into a small
//! tree that the rule compiler resolves against the rule's detections. Aggregations
//! (`| count() > 5`) and `near` are recognized so that they are reported as
//! unsupported rather than misread.

use std::fmt;

/// A parsed condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
    /// A detection name.
    Ident(String),
    /// `1 of pattern` (`them` is `*` over names not starting with `_`).
    OneOf(Selector),
    /// `all of pattern`.
    AllOf(Selector),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Them,
    /// A name, possibly with `*` wildcards.
    Pattern(String),
}

impl Selector {
    /// Whether detection `name` is selected.
    pub fn selects(&self, name: &str) -> bool {
        match self {
            Selector::Them => !name.starts_with('_'),
            Selector::Pattern(p) => wildcard_match(p, name),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Them => f.write_str("them"),
            Selector::Pattern(p) => f.write_str(p),
        }
    }
}

/// Why a condition could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CondError {
    #[error("condition: {message} at column {column}")]
    Syntax { column: usize, message: String },
    #[error("condition: {0} is not supported")]
    Unsupported(String),
}

/// Deeper nesting than this is refused: it is never a real rule, and the parser
/// recurses.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Of,
    One,
    All,
    Them,
    Word(String),
    Pipe,
    Near,
}

fn tokenize(text: &str) -> Result<Vec<(usize, Tok)>, CondError> {
    let mut toks = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        let column = text[..pos].chars().count() + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        match c {
            '(' => toks.push((column, Tok::LParen)),
            ')' => toks.push((column, Tok::RParen)),
            '|' => toks.push((column, Tok::Pipe)),
            _ if c.is_alphanumeric() || matches!(c, '_' | '*' | '-' | '.' | '?') => {
                let start = i;
                while i < chars.len() && {
                    let c = chars[i].1;
                    c.is_alphanumeric() || matches!(c, '_' | '*' | '-' | '.' | '?')
                } {
                    i += 1;
                }
                let word: String = chars[start..i].iter().map(|(_, c)| c).collect();
                let tok = match word.to_ascii_lowercase().as_str() {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    "of" => Tok::Of,
                    "1" => Tok::One,
                    "all" => Tok::All,
                    "them" => Tok::Them,
                    "near" => Tok::Near,
                    _ => Tok::Word(word),
                };
                toks.push((column, tok));
                continue;
            }
            other => {
                return Err(CondError::Syntax { column, message: format!("unexpected character {other:?}") });
            }
        }
        i += 1;
    }
    Ok(toks)
}

/// Parses one condition string.
pub fn parse(text: &str) -> Result<Cond, CondError> {
    // An aggregation's tail (`| count() > 5`) is not condition syntax at all.
    if text.contains('|') {
        return Err(CondError::Unsupported("aggregation (`| ...`)".into()));
    }
    let toks = tokenize(text)?;
    if let Some((_, t)) = toks.iter().find(|(_, t)| matches!(t, Tok::Pipe | Tok::Near)) {
        let what = if *t == Tok::Pipe { "aggregation (`| ...`)" } else { "`near`" };
        return Err(CondError::Unsupported(what.into()));
    }
    let end = text.chars().count() + 1;
    let mut p = Parser { toks, pos: 0, end };
    let cond = p.or(0)?;
    if let Some((column, t)) = p.toks.get(p.pos) {
        return Err(CondError::Syntax { column: *column, message: format!("unexpected {}", describe(t)) });
    }
    Ok(cond)
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::And => "`and`".into(),
        Tok::Or => "`or`".into(),
        Tok::Not => "`not`".into(),
        Tok::Of => "`of`".into(),
        Tok::One => "`1`".into(),
        Tok::All => "`all`".into(),
        Tok::Them => "`them`".into(),
        Tok::Pipe => "`|`".into(),
        Tok::Near => "`near`".into(),
        Tok::Word(w) => format!("`{w}`"),
    }
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn column(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(c, _)| *c)
    }

    fn fail<T>(&self, message: impl Into<String>) -> Result<T, CondError> {
        Err(CondError::Syntax { column: self.column(), message: message.into() })
    }

    fn or(&mut self, depth: usize) -> Result<Cond, CondError> {
        let mut left = self.and(depth)?;
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            let right = self.and(depth)?;
            left = Cond::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Cond, CondError> {
        let mut left = self.not(depth)?;
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            let right = self.not(depth)?;
            left = Cond::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self, depth: usize) -> Result<Cond, CondError> {
        if depth > MAX_DEPTH {
            return self.fail(format!("nested deeper than {MAX_DEPTH}"));
        }
        if self.peek() == Some(&Tok::Not) {
            self.pos += 1;
            return Ok(Cond::Not(Box::new(self.not(depth + 1)?)));
        }
        self.atom(depth)
    }

    fn atom(&mut self, depth: usize) -> Result<Cond, CondError> {
        let Some(tok) = self.peek().cloned() else {
            return self.fail("expected a detection name, `1 of`, `all of`, `not` or `(`");
        };
        match tok {
            Tok::LParen => {
                self.pos += 1;
                let inner = self.or(depth + 1)?;
                if self.peek() != Some(&Tok::RParen) {
                    return self.fail("expected `)`");
                }
                self.pos += 1;
                Ok(inner)
            }
            Tok::One | Tok::All => {
                self.pos += 1;
                if self.peek() != Some(&Tok::Of) {
                    return self.fail("expected `of`");
                }
                self.pos += 1;
                let selector = match self.peek().cloned() {
                    Some(Tok::Them) => Selector::Them,
                    Some(Tok::Word(w)) => Selector::Pattern(w),
                    _ => return self.fail("expected a detection name pattern or `them` after `of`"),
                };
                self.pos += 1;
                Ok(if tok == Tok::One { Cond::OneOf(selector) } else { Cond::AllOf(selector) })
            }
            Tok::Word(w) => {
                // `2 of x` and friends: a number before `of` other than 1.
                if self.toks.get(self.pos + 1).map(|(_, t)| t) == Some(&Tok::Of) {
                    return Err(CondError::Unsupported(format!("`{w} of` (only `1 of` and `all of`)")));
                }
                self.pos += 1;
                Ok(Cond::Ident(w))
            }
            other => self.fail(format!("unexpected {}", describe(&other))),
        }
    }
}

/// `*` matches any run of characters (Sigma's condition wildcards); no other special
/// characters.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else { return false };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.len() >= part.len() && rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Box<Cond> {
        Box::new(Cond::Ident(s.into()))
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        let c = parse("a or b and not c").unwrap();
        assert_eq!(c, Cond::Or(id("a"), Box::new(Cond::And(id("b"), Box::new(Cond::Not(id("c")))))));
        let c = parse("(a or b) and c").unwrap();
        assert_eq!(c, Cond::And(Box::new(Cond::Or(id("a"), id("b"))), id("c")));
    }

    #[test]
    fn of_forms() {
        assert_eq!(parse("1 of selection*").unwrap(), Cond::OneOf(Selector::Pattern("selection*".into())));
        assert_eq!(parse("all of them").unwrap(), Cond::AllOf(Selector::Them));
        let c = parse("selection and not 1 of exclude_*").unwrap();
        assert_eq!(
            c,
            Cond::And(
                id("selection"),
                Box::new(Cond::Not(Box::new(Cond::OneOf(Selector::Pattern("exclude_*".into())))))
            )
        );
        assert!(Selector::Them.selects("sel"));
        assert!(!Selector::Them.selects("_hidden"));
    }

    #[test]
    fn the_zbit_condition_parses() {
        let c = parse("not z_flag_unset and most_probable_valid_domain and not (exclude_tlds or exclude_query_types or exclude_responses or exclude_netbios)").unwrap();
        assert!(matches!(c, Cond::And(_, _)));
    }

    #[test]
    fn errors_name_the_column_or_the_unsupported_feature() {
        assert_eq!(
            parse("a and").unwrap_err(),
            CondError::Syntax {
                column: 6,
                message: "expected a detection name, `1 of`, `all of`, `not` or `(`".into()
            }
        );
        assert!(matches!(parse("(a or b").unwrap_err(), CondError::Syntax { column: 8, .. }));
        assert!(matches!(parse("a b").unwrap_err(), CondError::Syntax { column: 3, .. }));
        assert!(matches!(parse("selection | count() by src > 5").unwrap_err(), CondError::Unsupported(_)));
        assert!(matches!(parse("a near b").unwrap_err(), CondError::Unsupported(_)));
        assert!(matches!(parse("2 of sel*").unwrap_err(), CondError::Unsupported(_)));
        assert!(matches!(parse("").unwrap_err(), CondError::Syntax { .. }));
        assert!(matches!(parse(&"(".repeat(1000)).unwrap_err(), CondError::Syntax { .. }));
        assert!(matches!(parse(&"not ".repeat(1000)).unwrap_err(), CondError::Syntax { .. }));
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("sel*", "selection1"));
        assert!(wildcard_match("*_allow*", "selection_allow2"));
        assert!(!wildcard_match("sel*x", "selection"));
        assert!(wildcard_match("a*a", "aa"));
        assert!(!wildcard_match("a*a", "a"));
    }
}
