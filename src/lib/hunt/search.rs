//! The hunt search language, turned into SQL conditions and bound parameters over
//! the store's views (the statement around them, `Search::sql`, is built in
//! [`super::queries`] with the console's other SQL).
//!
//! ```text
//! ip_src_addr=10.0.0.5 ip_dst_port>1000 query~'evil\.(com|net)' last 24h
//! in:alerts status!=DISMISS priority=HIGH
//! ip_src_addr in 10.0.0.0/8 "powershell -enc" cols:timestamp,ip_src_addr,uri
//! ```
//!
//! Terms are ANDed. A term is one of:
//! - `field=value`, `field!=value` (compared as text, so `ip_dst_port=53` works on
//!   any column type), `field>n`, `field>=n`, `field<n`, `field<=n` (as numbers),
//!   `field~regex` (RE2, anywhere in the value), `field!~regex`;
//! - `field in CIDR` (IPv4 or IPv6), `field in a,b,c` (any of the values);
//! - `last DURATION` (`last 24h`, `last 7d`), `since TIME`, `until TIME` (RFC 3339,
//!   YYYY-MM-DD or epoch ms) on `timestamp`;
//! - `in:events` (the default) or `in:alerts`; `cols:a,b,c` chooses the columns;
//!   `sort:field` or `sort:-field`; `limit:N`;
//! - anything else is free text, matched case-insensitively in `original_string`
//!   (events) or in the description, rule name and host (alerts).
//!
//! Values may be quoted with '...' or "..." (a quote doubled inside stands for
//! itself). Field names may be quoted the same way. Every value is a bound
//! parameter; field names are quoted identifiers.

pub use super::protocol::Vocabulary;
use crate::store::SqlValue;
use std::net::IpAddr;

/// Which view a search reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Events,
    Alerts,
    /// One source type's view (`in:zeek_conn`): its events with that source's own
    /// column types (see `store::source_view_name`).
    Source(String),
}

impl Target {
    /// The view's name (a source view's name is letters, digits and `_` only).
    pub fn view(&self) -> &str {
        match self {
            Target::Events => "events",
            Target::Alerts => "alerts",
            Target::Source(name) => name,
        }
    }

    /// Events of some kind (free text and the default columns are the events').
    pub fn is_events(&self) -> bool {
        !matches!(self, Target::Alerts)
    }
}

/// A search, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub target: Target,
    pub conditions: Vec<String>,
    pub params: Vec<SqlValue>,
    pub columns: Vec<String>,
    /// Column and descending?
    pub sort: Option<(String, bool)>,
    pub limit: Option<u64>,
    /// It has a time condition (`last`, `since`, `until`).
    pub timed: bool,
}

/// Columns shown when a search does not choose them.
pub const DEFAULT_EVENT_COLUMNS: [&str; 7] =
    ["timestamp", "source.type", "ip_src_addr", "ip_src_port", "ip_dst_addr", "ip_dst_port", "protocol"];
pub const DEFAULT_ALERT_COLUMNS: [&str; 7] =
    ["timestamp", "priority", "status", "rule.name", "designated_host", "count", "alert_id"];

impl Search {
    /// ` WHERE a AND b`, or nothing.
    pub fn where_clause(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conditions.join(" AND "))
        }
    }
}

/// Completes the word at the end of `input` (`tab` in the search prompt): after
/// `in:` a view, after `cols:` or `sort:` a column (after the last comma), else a
/// field name of the view the search reads. Returns the new text (the word made as
/// long as every candidate agrees on) and the candidates when more than one fits.
pub fn complete(input: &str, vocab: &Vocabulary) -> (String, Vec<String>) {
    let start = input.rfind(char::is_whitespace).map_or(0, |i| i + 1);
    let word = &input[start..];
    let lower = word.to_ascii_lowercase();
    let view = input
        .split_whitespace()
        .filter_map(|w| w.to_ascii_lowercase().strip_prefix("in:").map(str::to_owned))
        .next_back()
        .filter(|v| vocab.tables.iter().any(|(name, _)| name == v))
        .unwrap_or_else(|| "events".to_owned());
    let (keep, partial, names): (usize, &str, Vec<&str>) = if lower.starts_with("in:") {
        (3, &word[3..], vocab.tables.iter().map(|(v, _)| v.as_str()).collect())
    } else if lower.starts_with("cols:") || lower.starts_with("sort:") {
        let after = word.rfind(',').map_or(if word[5..].starts_with('-') { 6 } else { 5 }, |i| i + 1);
        (after, &word[after..], vocab.columns(&view).iter().map(String::as_str).collect())
    } else if word.is_empty() || word.contains(['=', '<', '>', '~', '!', '\'', '"']) {
        return (input.to_owned(), Vec::new());
    } else {
        (0, word, vocab.columns(&view).iter().map(String::as_str).collect())
    };
    let fits: Vec<&str> = names
        .into_iter()
        .filter(|n| n.len() >= partial.len() && n.is_char_boundary(partial.len()))
        .filter(|n| n[..partial.len()].eq_ignore_ascii_case(partial))
        .collect();
    let Some(first) = fits.first() else { return (input.to_owned(), Vec::new()) };
    let mut common: &str = first;
    for f in &fits[1..] {
        let n = common.chars().zip(f.chars()).take_while(|(a, b)| a == b).map(|(a, _)| a.len_utf8()).sum();
        common = &common[..n];
    }
    let word = if common.len() < partial.len() { partial } else { common };
    let mut out = format!("{}{word}", &input[..start + keep]);
    if fits.len() == 1 {
        if keep == 3 {
            out.push(' ');
        }
        return (out, Vec::new());
    }
    (out, fits.iter().map(|f| (*f).to_owned()).collect())
}

/// What is wrong with a search, and where (a character offset).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at {at}: {message}")]
pub struct SearchError {
    pub at: usize,
    pub message: String,
}

fn err(at: usize, message: impl Into<String>) -> SearchError {
    SearchError { at, message: message.into() }
}

/// A quoted SQL identifier.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// One word of a search, with its offset; `quoted` words are never operators.
#[derive(Debug, Clone, PartialEq)]
struct Word {
    text: String,
    at: usize,
    /// The byte offset just past the word.
    end: usize,
    quoted: bool,
}

/// Splits on whitespace, honouring quotes anywhere in a word (`query~'a b'`).
fn words(input: &str) -> Result<Vec<Word>, SearchError> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = input.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].1.is_whitespace() {
            i += 1;
            continue;
        }
        let at = chars[i].0;
        let mut text = String::new();
        let mut quoted = false;
        while i < chars.len() && !chars[i].1.is_whitespace() {
            let c = chars[i].1;
            if c == '\'' || c == '"' {
                quoted = true;
                let start = chars[i].0;
                i += 1;
                loop {
                    let Some(&(_, d)) = chars.get(i) else {
                        return Err(err(start, format!("{c} is not closed")));
                    };
                    i += 1;
                    if d == c {
                        if chars.get(i).map(|x| x.1) == Some(c) {
                            text.push(c);
                            i += 1;
                            continue;
                        }
                        break;
                    }
                    text.push(d);
                }
            } else {
                text.push(c);
                i += 1;
            }
        }
        let end = chars.get(i).map_or(input.len(), |c| c.0);
        out.push(Word { text, at, end, quoted });
    }
    Ok(out)
}

/// Operators, longest first so that `>=` is not read as `>`.
const OPS: [&str; 8] = ["!=", ">=", "<=", "!~", "=", ">", "<", "~"];

/// The search with `columns` chosen: each `cols:` term it has is replaced where it
/// stands (so no other word changes its meaning), else one is put first.
pub fn with_columns(input: &str, columns: &[String]) -> Result<String, SearchError> {
    let (_, spans) = parse_spans(input, 0)?;
    let term = if columns.is_empty() { String::new() } else { format!("cols:{}", columns.join(",")) };
    if spans.is_empty() {
        return Ok(format!("{term} {input}").trim().to_owned());
    }
    let mut out = String::new();
    let mut from = 0;
    for (at, end) in spans {
        out.push_str(&input[from..at]);
        out.push_str(&term);
        from = end;
    }
    out.push_str(&input[from..]);
    Ok(out.trim().to_owned())
}

/// Parses a search; `now_ms` anchors `last`.
pub fn parse(input: &str, now_ms: i64) -> Result<Search, SearchError> {
    parse_spans(input, now_ms).map(|(s, _)| s)
}

/// [`parse`], and where in `input` each `cols:` term it took stands.
fn parse_spans(input: &str, now_ms: i64) -> Result<(Search, Vec<(usize, usize)>), SearchError> {
    let ws = words(input)?;
    let mut spans = Vec::new();
    let mut s = Search {
        target: Target::Events,
        conditions: Vec::new(),
        params: Vec::new(),
        columns: Vec::new(),
        sort: None,
        limit: None,
        timed: false,
    };
    let mut free: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ws.len() {
        let w = &ws[i];
        if !w.quoted {
            // Each of these takes the words it reads, or none when it is not one.
            let mut taken = time_range(&ws, i, now_ms, &mut s)?;
            if taken == 0 {
                taken = option(w, &mut s, &mut spans)?;
            }
            if taken == 0 {
                taken = in_term(&ws, i, &mut s)?;
            }
            if taken > 0 {
                i += taken;
                continue;
            }
        }
        // `field OP value`: the operator is outside quotes, so find it in the raw word.
        if let Some((field, op, value)) = split_term(w) {
            s.conditions.push(compare(&field, op, &value, w.at, &mut s.params)?);
        } else {
            free.push(w.text.clone());
        }
        i += 1;
    }
    for text in free {
        let condition = free_text(&text, &s.target, &mut s.params);
        s.conditions.push(condition);
    }
    Ok((s, spans))
}

/// `last DURATION`, `since TIME` or `until TIME` at word `i`: its condition, and
/// the words it took (none when it is not one).
fn time_range(ws: &[Word], i: usize, now_ms: i64, s: &mut Search) -> Result<usize, SearchError> {
    let w = &ws[i];
    let lower = w.text.to_ascii_lowercase();
    if !matches!(lower.as_str(), "last" | "since" | "until") {
        return Ok(0);
    }
    let Some(arg) = ws.get(i + 1) else {
        return Err(err(w.at, format!("{lower} needs a time or duration")));
    };
    let t = if lower == "last" {
        let d = crate::event::parse_duration(&arg.text).map_err(|e| err(arg.at, e))?;
        now_ms.saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    } else {
        crate::event::parse_time(&arg.text, now_ms).map_err(|e| err(arg.at, e))?
    };
    let op = if lower == "until" { "<" } else { ">=" };
    s.conditions.push(format!("\"timestamp\" {op} ?"));
    s.timed = true;
    s.params.push(t.into());
    Ok(2)
}

/// An option word (`in:`, `cols:`, `sort:`, `limit:`) set on `s`: 1 word taken, or
/// 0 when `w` is not one. A `cols:` word's place goes to `spans`.
fn option(w: &Word, s: &mut Search, spans: &mut Vec<(usize, usize)>) -> Result<usize, SearchError> {
    let lower = w.text.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("in:") {
        s.target = match rest {
            "events" => Target::Events,
            "alerts" => Target::Alerts,
            // A source type's view, named as the store names them; whether the store
            // has it is for the store to say.
            _ if crate::store::source_view_name(rest).as_deref() == Some(rest) => Target::Source(rest.to_owned()),
            _ => {
                return Err(err(
                    w.at,
                    format!("in:{rest}: search in:events, in:alerts or a source type's view (in:zeek_conn)"),
                ))
            }
        };
    } else if lower.starts_with("cols:") {
        spans.push((w.at, w.end));
        s.columns = w.text[5..].split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect();
    } else if lower.starts_with("sort:") {
        let f = &w.text[5..];
        let (f, desc) = match f.strip_prefix('-') {
            Some(f) => (f, true),
            None => (f, false),
        };
        if f.is_empty() {
            return Err(err(w.at, "sort: needs a field (sort:timestamp, sort:-count)"));
        }
        s.sort = Some((f.to_owned(), desc));
    } else if let Some(n) = lower.strip_prefix("limit:") {
        s.limit = Some(n.parse().map_err(|_| err(w.at, format!("limit:{n}: not a number")))?);
    } else {
        return Ok(0);
    }
    Ok(1)
}

/// `field in X` at word `i`: its condition, and the words it took (none when it is
/// not one).
fn in_term(ws: &[Word], i: usize, s: &mut Search) -> Result<usize, SearchError> {
    if !ws.get(i + 1).is_some_and(|n| !n.quoted && n.text.eq_ignore_ascii_case("in")) {
        return Ok(0);
    }
    let Some(arg) = ws.get(i + 2) else {
        return Err(err(ws[i].at, "`in` needs a CIDR or a list: ip_src_addr in 10.0.0.0/8"));
    };
    s.conditions.push(in_condition(&ws[i].text, arg, &mut s.params)?);
    Ok(3)
}

/// Free text: a case-insensitive match in the target's text columns.
fn free_text(text: &str, target: &Target, params: &mut Vec<SqlValue>) -> String {
    let pattern = format!("%{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let cols: &[&str] = match target {
        Target::Events | Target::Source(_) => &["original_string"],
        Target::Alerts => &["description", "rule.name", "designated_host", "rule"],
    };
    let ors: Vec<String> = cols.iter().map(|c| format!("CAST({} AS VARCHAR) ILIKE ? ESCAPE '\\'", ident(c))).collect();
    for _ in cols {
        params.push(pattern.clone().into());
    }
    format!("({})", ors.join(" OR "))
}

/// `field`, operator, value of a comparison word, if it is one.
fn split_term(w: &Word) -> Option<(String, &'static str, String)> {
    // Re-scan the original word: an operator inside quotes does not count. The word's
    // text has quotes removed, so find the first operator before any quoted part.
    let t = &w.text;
    let pos =
        OPS.iter().filter_map(|op| t.find(op).map(|p| (p, *op))).min_by_key(|(p, op)| (*p, usize::MAX - op.len()))?;
    let (p, op) = pos;
    if p == 0 {
        return None;
    }
    Some((t[..p].to_owned(), op, t[p + op.len()..].to_owned()))
}

fn compare(field: &str, op: &str, value: &str, at: usize, params: &mut Vec<SqlValue>) -> Result<String, SearchError> {
    let col = ident(field);
    Ok(match op {
        "=" | "!=" => {
            params.push(value.to_owned().into());
            let sql_op = if op == "=" { "=" } else { "IS DISTINCT FROM" };
            format!("CAST({col} AS VARCHAR) {sql_op} ?")
        }
        ">" | ">=" | "<" | "<=" => {
            let n: f64 = value
                .parse()
                .ok()
                .filter(|n: &f64| n.is_finite())
                .or_else(|| crate::event::parse_time(value, 0).ok().filter(|_| field == "timestamp").map(|t| t as f64))
                .ok_or_else(|| err(at, format!("{field}{op}{value}: {value:?} is not a number")))?;
            params.push(n.into());
            format!("TRY_CAST({col} AS DOUBLE) {op} ?")
        }
        "~" | "!~" => {
            if let Err(e) = regex::Regex::new(value) {
                return Err(err(at, format!("{field}{op}: not a regular expression: {e}")));
            }
            params.push(value.to_owned().into());
            let not = if op == "!~" { "NOT " } else { "" };
            format!("{not}coalesce(regexp_matches(CAST({col} AS VARCHAR), ?), false)")
        }
        _ => return Err(err(at, format!("unknown operator {op}"))),
    })
}

fn in_condition(field: &str, arg: &Word, params: &mut Vec<SqlValue>) -> Result<String, SearchError> {
    let col = ident(field);
    if !arg.quoted && arg.text.contains('/') {
        let net: ipnet::IpNet = arg.text.parse().map_err(|e| err(arg.at, format!("{}: not a CIDR: {e}", arg.text)))?;
        let net = net.trunc();
        return Ok(match net {
            ipnet::IpNet::V4(n) => {
                params.push(i64::from(u32::from(n.network())).into());
                params.push(i64::from(u32::from(n.broadcast())).into());
                format!("{} BETWEEN ? AND ?", ipv4_number(&col))
            }
            ipnet::IpNet::V6(n) => {
                params.push(ipv6_hex(n.network().into()).into());
                params.push(ipv6_hex(n.broadcast().into()).into());
                format!("{} BETWEEN ? AND ?", ipv6_hex_sql(&col))
            }
        });
    }
    let values: Vec<&str> = arg.text.split(',').map(str::trim).filter(|v| !v.is_empty()).collect();
    if values.is_empty() {
        return Err(err(arg.at, "`in` needs a CIDR or a list of values"));
    }
    for v in &values {
        params.push((*v).to_owned().into());
    }
    Ok(format!("CAST({col} AS VARCHAR) IN ({})", vec!["?"; values.len()].join(", ")))
}

/// SQL for the number of a dotted IPv4 address in `col` (NULL when it is not one).
fn ipv4_number(col: &str) -> String {
    let part = |i: u8| format!("TRY_CAST(split_part(CAST({col} AS VARCHAR), '.', {i}) AS BIGINT)");
    format!(
        "(CASE WHEN regexp_full_match(CAST({col} AS VARCHAR), '\\d{{1,3}}(\\.\\d{{1,3}}){{3}}') \
         THEN {} * 16777216 + {} * 65536 + {} * 256 + {} END)",
        part(1),
        part(2),
        part(3),
        part(4)
    )
}

/// 32 hex digits of an IPv6 address, so that ranges compare as text.
fn ipv6_hex(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => v6.octets().iter().map(|b| format!("{b:02x}")).collect(),
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets().iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// SQL giving the 32 hex digits of a canonical IPv6 address in `col` (NULL when it
/// has no `:`): `::` expanded to the missing groups, each group padded to 4.
fn ipv6_hex_sql(col: &str) -> String {
    let v = format!("lower(CAST({col} AS VARCHAR))");
    // groups before and after '::'
    let head = format!("string_split(split_part({v}, '::', 1), ':')");
    let tail = format!("string_split(split_part({v}, '::', 2), ':')");
    let pad = |list: &str| format!("list_transform(list_filter({list}, lambda g: g <> ''), lambda g: lpad(g, 4, '0'))");
    format!(
        "(CASE WHEN contains({v}, ':') AND NOT contains({v}, '.') THEN \
           CASE WHEN contains({v}, '::') THEN \
             array_to_string({h}, '') || repeat('0000', 8 - len({h}) - len({t})) || array_to_string({t}, '') \
           ELSE array_to_string({h}, '') END \
         END)",
        h = pad(&head),
        t = pad(&tail),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Search {
        parse(s, 1_000_000_000_000).unwrap()
    }

    #[test]
    fn comparisons_become_parameterized_conditions() {
        let s = p("ip_src_addr=10.0.0.5 ip_dst_port>1000 uri~'a b' proto!=udp");
        assert_eq!(s.target, Target::Events);
        assert_eq!(
            s.conditions,
            vec![
                "CAST(\"ip_src_addr\" AS VARCHAR) = ?",
                "TRY_CAST(\"ip_dst_port\" AS DOUBLE) > ?",
                "coalesce(regexp_matches(CAST(\"uri\" AS VARCHAR), ?), false)",
                "CAST(\"proto\" AS VARCHAR) IS DISTINCT FROM ?",
            ]
        );
        assert_eq!(
            s.params,
            vec![
                SqlValue::from("10.0.0.5".to_owned()),
                1000.0.into(),
                "a b".to_owned().into(),
                "udp".to_owned().into()
            ]
        );
    }

    #[test]
    fn quoted_values_and_field_names_with_dots() {
        let s = p("\"source.type\"=zeek.conn 'rule.name'='Known bad'");
        assert_eq!(s.conditions[0], "CAST(\"source.type\" AS VARCHAR) = ?");
        assert_eq!(s.params[1], SqlValue::from("Known bad".to_owned()));
        // A value with an injection attempt is only ever a parameter.
        let s = p("uri=\"x' OR 1=1 --\"");
        assert_eq!(s.params, vec![SqlValue::from("x' OR 1=1 --".to_owned())]);
        assert!(!s.conditions.concat().contains("OR 1=1"));
    }

    #[test]
    fn choosing_columns_rewrites_only_the_cols_term() {
        let cols = |c: &[&str]| c.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            with_columns("ip_src_addr=1.2.3.4 cols:a,b last 1h", &cols(&["x", "y"])).unwrap(),
            "ip_src_addr=1.2.3.4 cols:x,y last 1h"
        );
        assert_eq!(with_columns("query~'cols:a b'", &cols(&["uid"])).unwrap(), "cols:uid query~'cols:a b'");
        // A `cols:` word that is the argument of `in` is a value, not a term.
        assert_eq!(with_columns("x in cols:a", &cols(&["uid"])).unwrap(), "cols:uid x in cols:a");
        assert_eq!(with_columns("COLS:a", &[]).unwrap(), "");
        let again = parse(&with_columns("in:alerts cols:a", &cols(&["alert_id", "count"])).unwrap(), 0).unwrap();
        assert_eq!(again.columns, cols(&["alert_id", "count"]));
        assert_eq!(again.target, Target::Alerts);
    }

    #[test]
    fn time_ranges_and_options() {
        let s = p("last 24h in:alerts sort:-count limit:5 cols:alert_id,count");
        assert_eq!(s.target, Target::Alerts);
        assert_eq!(s.params, vec![SqlValue::from(1_000_000_000_000i64 - 86_400_000)]);
        assert_eq!(s.conditions, vec!["\"timestamp\" >= ?"]);
        assert_eq!(s.sort, Some(("count".to_owned(), true)));
        assert_eq!((s.limit, s.columns), (Some(5), vec!["alert_id".to_owned(), "count".to_owned()]));
        let s = p("since 2001-09-09 until 2001-09-10");
        assert_eq!(s.conditions, vec!["\"timestamp\" >= ?", "\"timestamp\" < ?"]);
    }

    #[test]
    fn cidr_and_lists() {
        let s = p("ip_src_addr in 10.0.0.0/8 ip_dst_port in 53,853");
        assert_eq!(s.params[0], SqlValue::from(167_772_160i64));
        assert_eq!(s.params[1], SqlValue::from(184_549_375i64));
        assert_eq!(s.conditions[1], "CAST(\"ip_dst_port\" AS VARCHAR) IN (?, ?)");
        let s = p("ip_dst_addr in 2001:db8::/32");
        assert_eq!(s.params[0], SqlValue::from("20010db8000000000000000000000000".to_owned()));
    }

    #[test]
    fn a_source_types_view_is_a_target() {
        let s = p("in:zeek_conn duration>100");
        assert_eq!(s.target, Target::Source("zeek_conn".into()));
        assert!(s.sql(10).contains("FROM \"zeek_conn\""), "{}", s.sql(10));
        // Only names the store could have made; nothing else reaches the SQL.
        for bad in ["in:zeek.conn", "in:a;b", "in:_x", "in:x__y", "in:1x"] {
            assert!(parse(bad, 0).is_err(), "{bad}");
        }
    }

    fn vocab() -> Vocabulary {
        let cols = |c: &[&str]| c.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        Vocabulary {
            tables: vec![
                ("events".into(), cols(&["timestamp", "ip_src_addr", "ip_dst_addr", "source.type"])),
                ("alerts".into(), cols(&["alert_id", "priority"])),
                ("zeek_conn".into(), cols(&["timestamp", "ip_src_addr", "duration", "conn_state"])),
                ("zeek_dns".into(), cols(&["query", "qtype_name"])),
            ],
        }
    }

    #[test]
    fn completion_finds_views_columns_and_fields() {
        let v = vocab();
        assert_eq!(complete("in:zeek_c", &v), ("in:zeek_conn ".into(), vec![]));
        assert_eq!(complete("in:z", &v), ("in:zeek_".into(), vec!["zeek_conn".into(), "zeek_dns".into()]));
        // Fields of the view the search reads, wherever its in: stands.
        assert_eq!(complete("in:zeek_conn dur", &v), ("in:zeek_conn duration".into(), vec![]));
        assert_eq!(complete("con", &v).1, Vec::<String>::new());
        // Only the last word is completed.
        assert_eq!(complete("x=1 con in:zeek_conn", &v).0, "x=1 con in:zeek_conn ");
        assert_eq!(complete("ip_", &v), ("ip_".into(), vec!["ip_src_addr".into(), "ip_dst_addr".into()]));
        assert_eq!(complete("IP_S", &v).0, "ip_src_addr");
        assert_eq!(complete("cols:timestamp,ip_d", &v).0, "cols:timestamp,ip_dst_addr");
        assert_eq!(complete("sort:-time", &v).0, "sort:-timestamp");
        // Values are not completed.
        assert_eq!(complete("ip_src_addr=10", &v).0, "ip_src_addr=10");
        assert_eq!(complete("", &v).0, "");
        assert_eq!(complete("in:zeek_dns q", &v), ("in:zeek_dns q".into(), vec!["query".into(), "qtype_name".into()]));
    }

    #[test]
    fn free_text_and_errors() {
        let s = p("powershell");
        assert_eq!(s.params, vec![SqlValue::from("%powershell%".to_owned())]);
        assert!(parse("uri~'(' ", 0).is_err());
        assert!(parse("x>abc", 0).is_err());
        assert!(parse("last", 0).is_err());
        assert!(parse("'open", 0).is_err());
        assert!(parse("in:no-where", 0).is_err());
        assert_eq!(parse("last 1x", 0).unwrap_err().at, 5);
    }
}
