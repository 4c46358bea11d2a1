//! Profiles, as Apache Metron's Profiler made them, declared in `metron.toml`: for
//! the events `onlyif` keeps, per entity (`foreach`), per period of event time, a
//! set of values (`count()`, `sum`, `min`, `max`, `mean`, `stddev`, `distinct`,
//! `quantile`, `top`), written as a `metron.profile` record when the period closes;
//! with `outlier`, that value is judged against the entity's own history
//! (`history.rs`) and an outlier is an `anomaly` finding. The built-in `metron.host`
//! profile (bytes sent, connections and peers per source address per hour, outliers
//! in bytes sent) runs the same way on the fast path.

use super::bounded::Bounded;
use super::finding::{align, profile_record, round3, Finding};
use super::history::History;
use super::obs::{Kind, Obs};
use super::sketch::{Distinct, Quantiles, Top};
use crate::event::Event;
use crate::expr::{Expr, Scope};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// `[profile.NAME]` in `metron.toml`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileDefConfig {
    /// CEL: the events the profile reads (default all).
    pub onlyif: Option<String>,
    /// A field name, or CEL giving the entity.
    pub foreach: String,
    /// The period (`1h`, `15m`); default the stage's period.
    pub period: Option<String>,
    /// A value to judge against the entity's history.
    pub outlier: Option<String>,
    /// Name -> aggregate (`sum(orig_bytes)`, `quantile(duration, 0.95)`, ...).
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}

/// What an aggregate reads: a field by name, or a CEL expression over `e`.
#[derive(Debug)]
enum Arg {
    Field(String),
    Expr(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Agg {
    Count,
    Sum,
    Min,
    Max,
    Mean,
    Stddev,
    Distinct,
    Quantile(f64),
    Top(usize),
}

#[derive(Debug)]
struct ValueDef {
    name: String,
    agg: Agg,
    arg: Option<Arg>,
}

/// A profile, checked and compiled.
#[derive(Debug)]
pub struct ProfileDef {
    pub name: String,
    onlyif: Option<Expr>,
    /// Built-in profiles read connections only.
    connections_only: bool,
    foreach: Arg,
    pub period: i64,
    values: Vec<ValueDef>,
    outlier: Option<usize>,
}

/// A field name as written in events: letters, digits, `_`, `.`, `-`.
fn is_field_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        && !s.as_bytes()[0].is_ascii_digit()
        && s != "true"
        && s != "false"
        && s != "null"
}

fn arg(text: &str) -> Result<Arg, String> {
    let t = text.trim();
    if is_field_name(t) {
        return Ok(Arg::Field(t.to_owned()));
    }
    Expr::compile(t).map(Arg::Expr).map_err(|e| format!("{t:?}: {e}"))
}

/// Splits `a, b` at its last comma outside quotes and brackets.
fn split_last_comma(s: &str) -> Option<(&str, &str)> {
    let (mut depth, mut quote) = (0i32, None);
    let mut last = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => last = Some(i),
            _ => {}
        }
    }
    last.map(|i| (&s[..i], &s[i + 1..]))
}

fn value_def(name: &str, text: &str) -> Result<ValueDef, String> {
    let t = text.trim();
    let (func, inner) = t
        .split_once('(')
        .and_then(|(f, rest)| rest.strip_suffix(')').map(|inner| (f.trim(), inner.trim())))
        .ok_or_else(|| format!("{t:?} is not an aggregate like sum(orig_bytes) or count()"))?;
    let needs_arg = |inner: &str| {
        if inner.is_empty() {
            Err(format!("{func}() needs a field or an expression"))
        } else {
            arg(inner)
        }
    };
    let (agg, arg) = match func {
        "count" if inner.is_empty() => (Agg::Count, None),
        "count" => return Err("count() takes nothing".into()),
        "sum" => (Agg::Sum, Some(needs_arg(inner)?)),
        "min" => (Agg::Min, Some(needs_arg(inner)?)),
        "max" => (Agg::Max, Some(needs_arg(inner)?)),
        "mean" => (Agg::Mean, Some(needs_arg(inner)?)),
        "stddev" => (Agg::Stddev, Some(needs_arg(inner)?)),
        "distinct" => (Agg::Distinct, Some(needs_arg(inner)?)),
        "quantile" => {
            let (a, q) = split_last_comma(inner).ok_or("quantile(F, q) needs a field and q between 0 and 1")?;
            let q: f64 = q.trim().parse().map_err(|_| format!("quantile: {:?} is not a number", q.trim()))?;
            if !(0.0..=1.0).contains(&q) {
                return Err(format!("quantile: q = {q} is not between 0 and 1"));
            }
            (Agg::Quantile(q), Some(needs_arg(a)?))
        }
        "top" => {
            let (a, k) = split_last_comma(inner).ok_or("top(F, k) needs a field and a count")?;
            let k: usize = k.trim().parse().map_err(|_| format!("top: {:?} is not a count", k.trim()))?;
            if k == 0 || k > 32 {
                return Err(format!("top: k = {k} must be 1 to 32"));
            }
            (Agg::Top(k), Some(needs_arg(a)?))
        }
        other => {
            return Err(format!(
                "{other:?} is not an aggregate: count, sum, min, max, mean, stddev, distinct, quantile, top"
            ))
        }
    };
    Ok(ValueDef { name: name.to_owned(), agg, arg })
}

impl ProfileDef {
    /// Checks and compiles `[profile.NAME]`; every problem, each naming the profile.
    pub fn compile(name: &str, cfg: &ProfileDefConfig, default_period: i64) -> Result<ProfileDef, Vec<String>> {
        let mut problems = Vec::new();
        let mut fail = |p: String| problems.push(format!("[profile.{name}]: {p}"));
        let onlyif = match cfg.onlyif.as_deref().map(Expr::compile) {
            Some(Ok(e)) => Some(e),
            Some(Err(e)) => {
                fail(format!("onlyif: {e}"));
                None
            }
            None => None,
        };
        let foreach = match arg(&cfg.foreach) {
            Ok(a) => Some(a),
            Err(e) => {
                fail(format!("foreach: {e}"));
                None
            }
        };
        let period = match cfg.period.as_deref().map(crate::event::parse_duration) {
            Some(Ok(d)) if d.as_millis() >= 1000 => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            Some(Ok(_)) => {
                fail("period: at least 1s".into());
                default_period
            }
            Some(Err(e)) => {
                fail(format!("period: {e}"));
                default_period
            }
            None => default_period,
        };
        if cfg.values.is_empty() {
            fail("no values: add [profile.NAME.values] with NAME = \"sum(field)\"".into());
        }
        let mut values = Vec::new();
        for (v, text) in &cfg.values {
            match value_def(v, text) {
                Ok(d) => values.push(d),
                Err(e) => fail(format!("values.{v}: {e}")),
            }
        }
        let outlier = match &cfg.outlier {
            Some(o) => match values.iter().position(|v| &v.name == o) {
                Some(i) if matches!(values[i].agg, Agg::Top(_)) => {
                    fail(format!("outlier = {o:?}: a top list is not a number"));
                    None
                }
                Some(i) => Some(i),
                None => {
                    fail(format!("outlier = {o:?} is not one of the values"));
                    None
                }
            },
            None => None,
        };
        match foreach {
            Some(foreach) if problems.is_empty() => Ok(ProfileDef {
                name: name.to_owned(),
                onlyif,
                connections_only: false,
                foreach,
                period,
                values,
                outlier,
            }),
            _ => Err(problems),
        }
    }

    /// The built-in profile `metron.host`: per source address and period, the bytes
    /// it sent, its connections and its distinct peers; outliers in bytes sent.
    pub fn host(period: i64) -> ProfileDef {
        let value = |name: &str, agg: Agg, arg: Option<&str>| ValueDef {
            name: name.into(),
            agg,
            arg: arg.map(|a| Arg::Field(a.into())),
        };
        ProfileDef {
            name: "metron.host".into(),
            onlyif: None,
            connections_only: true,
            foreach: Arg::Field("ip_src_addr".into()),
            period,
            values: vec![
                value("bytes_out", Agg::Sum, Some("orig_bytes")),
                value("connections", Agg::Count, None),
                value("peers", Agg::Distinct, Some("ip_dst_addr")),
            ],
            outlier: Some(0),
        }
    }

    /// Whether the profile reads only what [`Obs`] holds (so the fast path serves it).
    pub fn reads_obs_only(&self) -> bool {
        let obs_field = |a: &Arg| matches!(a, Arg::Field(f) if OBS_FIELDS.contains(&f.as_str()));
        self.onlyif.is_none()
            && obs_field(&self.foreach)
            && self.values.iter().all(|v| v.arg.as_ref().is_none_or(obs_field))
    }
}

/// Fields an [`Obs`] answers for.
const OBS_FIELDS: [&str; 7] =
    ["ip_src_addr", "ip_dst_addr", "ip_dst_port", "orig_bytes", "duration", "protocol", "query"];

/// What profiles read an event through: a whole event, or what the fast path read.
pub enum Record<'a> {
    Event(&'a Event, &'a Obs),
    Obs(&'a Obs),
}

/// A value read for an aggregate, borrowed where it can be: the fast path reads
/// an address per event and writes no text for it unless an entity is new.
enum Got<'a> {
    Num(f64),
    Ip(IpAddr),
    Text(Cow<'a, str>),
}

impl<'r> Record<'r> {
    fn obs(&self) -> &'r Obs {
        match self {
            Record::Event(_, o) | Record::Obs(o) => o,
        }
    }

    fn get(&self, a: &Arg, errors: &mut u64) -> Option<Got<'r>> {
        match (a, self) {
            (Arg::Field(f), Record::Event(e, _)) => match e.get(f.as_str())? {
                Value::Number(n) => n.as_f64().map(Got::Num),
                Value::String(s) => Some(s.trim().parse().map(Got::Num).unwrap_or(Got::Text(Cow::Borrowed(s)))),
                Value::Bool(b) => Some(Got::Text(Cow::Borrowed(if *b { "true" } else { "false" }))),
                Value::Null => None,
                other => Some(Got::Text(Cow::Owned(other.to_string()))),
            },
            (Arg::Field(f), Record::Obs(o)) => obs_field(o, f),
            (Arg::Expr(x), Record::Event(e, _)) => match x.eval(&Scope::new(e)) {
                Ok(v) => match crate::expr::as_f64(&v) {
                    Some(n) => Some(Got::Num(n)),
                    None => match crate::expr::to_json(&v) {
                        Value::String(s) => Some(Got::Text(Cow::Owned(s))),
                        Value::Null => None,
                        other => Some(Got::Text(Cow::Owned(other.to_string()))),
                    },
                },
                Err(_) => {
                    *errors += 1;
                    None
                }
            },
            (Arg::Expr(_), Record::Obs(_)) => None,
        }
    }
}

fn obs_field<'o>(o: &'o Obs, f: &str) -> Option<Got<'o>> {
    match f {
        "ip_src_addr" => o.src.map(Got::Ip),
        "ip_dst_addr" => o.dst.map(Got::Ip),
        "ip_dst_port" => o.dport.map(|p| Got::Num(f64::from(p))),
        "orig_bytes" => o.orig_bytes.map(Got::Num),
        "duration" => o.duration.map(Got::Num),
        "protocol" => o.protocol.as_deref().map(|t| Got::Text(Cow::Borrowed(t))),
        "query" => o.query.as_deref().map(|t| Got::Text(Cow::Borrowed(t))),
        _ => None,
    }
}

/// Text written on the stack (an address, a number), on the heap only when long.
struct StackText {
    bytes: [u8; 64],
    len: usize,
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl Got<'_> {
    /// Calls `f` with the value as text: an integer without a fraction, an address as
    /// it is written.
    fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        use std::fmt::Write;
        let mut buf = StackText { bytes: [0; 64], len: 0 };
        let written = match self {
            Got::Text(t) => return f(t),
            Got::Num(n) if n.fract() == 0.0 && n.abs() < 1e15 => write!(buf, "{}", *n as i64),
            Got::Num(n) => write!(buf, "{n}"),
            Got::Ip(a) => write!(buf, "{a}"),
        };
        match (written, std::str::from_utf8(&buf.bytes[..buf.len])) {
            (Ok(()), Ok(text)) => f(text),
            _ => f(&self.text()),
        }
    }

    fn text(&self) -> String {
        match self {
            Got::Num(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Got::Num(n) => n.to_string(),
            Got::Ip(a) => a.to_string(),
            Got::Text(t) => t.to_string(),
        }
    }

    fn num(&self) -> Option<f64> {
        match self {
            Got::Num(n) => Some(*n),
            Got::Ip(_) | Got::Text(_) => None,
        }
    }
}

/// One value's running aggregate over a period.
#[derive(Clone, Serialize, Deserialize)]
enum Acc {
    Count(u64),
    Sum(f64),
    Min(Option<f64>),
    Max(Option<f64>),
    /// Welford's running mean and variance.
    Moments {
        n: u64,
        mean: f64,
        m2: f64,
    },
    Distinct(Distinct),
    Quantile(Quantiles),
    Top(Top),
}

impl Acc {
    fn new(agg: Agg) -> Acc {
        match agg {
            Agg::Count => Acc::Count(0),
            Agg::Sum => Acc::Sum(0.0),
            Agg::Min => Acc::Min(None),
            Agg::Max => Acc::Max(None),
            Agg::Mean | Agg::Stddev => Acc::Moments { n: 0, mean: 0.0, m2: 0.0 },
            Agg::Distinct => Acc::Distinct(Distinct::default()),
            Agg::Quantile(_) => Acc::Quantile(Quantiles::default()),
            Agg::Top(_) => Acc::Top(Top::default()),
        }
    }

    fn add(&mut self, got: Option<&Got>) {
        match (self, got) {
            (Acc::Count(n), _) => *n += 1,
            (Acc::Sum(s), Some(g)) => *s += g.num().unwrap_or(0.0),
            (Acc::Min(m), Some(g)) => {
                if let Some(v) = g.num() {
                    *m = Some(m.map_or(v, |m| m.min(v)));
                }
            }
            (Acc::Max(m), Some(g)) => {
                if let Some(v) = g.num() {
                    *m = Some(m.map_or(v, |m| m.max(v)));
                }
            }
            (Acc::Moments { n, mean, m2 }, Some(g)) => {
                if let Some(v) = g.num().filter(|v| v.is_finite()) {
                    *n += 1;
                    let d = v - *mean;
                    *mean += d / *n as f64;
                    *m2 += d * (v - *mean);
                }
            }
            (Acc::Distinct(d), Some(g)) => g.with_text(|t| d.add(t)),
            (Acc::Quantile(q), Some(g)) => {
                if let Some(v) = g.num() {
                    q.add(v);
                }
            }
            (Acc::Top(t), Some(g)) => g.with_text(|text| t.add(text)),
            _ => {}
        }
    }

    fn value(&self, agg: Agg) -> Value {
        let num = |v: f64| serde_json::Number::from_f64(round3(v)).map_or(Value::Null, Value::Number);
        match (self, agg) {
            (Acc::Count(n), _) => Value::from(*n),
            (Acc::Sum(s), _) => num(*s),
            (Acc::Min(m) | Acc::Max(m), _) => m.map_or(Value::Null, num),
            (Acc::Moments { n: 0, .. }, _) => Value::Null,
            (Acc::Moments { mean, .. }, Agg::Mean) => num(*mean),
            (Acc::Moments { n, m2, .. }, _) => num((m2 / *n as f64).sqrt()),
            (Acc::Distinct(d), _) => Value::from(d.estimate().round() as u64),
            (Acc::Quantile(q), Agg::Quantile(at)) => q.quantile(at).map_or(Value::Null, num),
            (Acc::Top(t), Agg::Top(k)) => {
                Value::Array(t.top(k).into_iter().map(|(v, c)| serde_json::json!({"value": v, "count": c})).collect())
            }
            _ => Value::Null,
        }
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct Entity {
    /// The aggregates of the open period; `None` when nothing was seen in it.
    accs: Option<Vec<Acc>>,
    history: History,
    first: i64,
    last: i64,
}

/// One profile running over a stream.
#[derive(Serialize, Deserialize)]
pub struct Profiler {
    entities: Bounded<String, Entity>,
    /// The open period's start.
    start: Option<i64>,
    /// Expressions that could not be evaluated on an event (a missing field).
    pub expression_errors: u64,
}

impl Profiler {
    pub fn new(max_entities: usize) -> Profiler {
        Profiler { entities: Bounded::new(max_entities), start: None, expression_errors: 0 }
    }

    pub fn resize(self, max_entities: usize) -> Profiler {
        Profiler { entities: self.entities.with_cap(max_entities), ..self }
    }

    pub fn evicted(&self) -> u64 {
        self.entities.evicted
    }

    pub fn entities(&self) -> usize {
        self.entities.len()
    }

    /// One event. A period it closes is written to `records` and judged into
    /// `findings`.
    pub fn observe(
        &mut self,
        def: &ProfileDef,
        r: &Record<'_>,
        min_history: usize,
        records: &mut Vec<Event>,
        findings: &mut Vec<(Finding, i64)>,
    ) {
        let o = r.obs();
        let Some(ts) = o.ts else { return };
        if def.connections_only && o.kind != Some(Kind::Connection) {
            return;
        }
        if let (Some(x), Record::Event(e, _)) = (&def.onlyif, r) {
            match x.eval_bool(&Scope::new(e)) {
                Ok(true) => {}
                Ok(false) => return,
                Err(_) => {
                    self.expression_errors += 1;
                    return;
                }
            }
        }
        let start = *self.start.get_or_insert_with(|| align(ts, def.period));
        if ts >= start + def.period {
            self.close(def, min_history, records, findings);
            self.start = Some(align(ts, def.period));
        }
        let errors = &mut self.expression_errors;
        let Some(entity) = r.get(&def.foreach, errors) else { return };
        let state = entity.with_text(|name| {
            self.entities.entry_by(name, || {
                (name.to_owned(), Entity { accs: None, history: History::default(), first: ts, last: ts })
            })
        });
        let accs = state.accs.get_or_insert_with(|| def.values.iter().map(|v| Acc::new(v.agg)).collect());
        for (acc, v) in accs.iter_mut().zip(&def.values) {
            acc.add(v.arg.as_ref().and_then(|a| r.get(a, errors)).as_ref());
        }
        state.first = state.first.min(ts);
        state.last = state.last.max(ts);
    }

    /// Closes the open period: a record per entity seen in it, and its outlier, if any.
    pub fn close(
        &mut self,
        def: &ProfileDef,
        min_history: usize,
        records: &mut Vec<Event>,
        findings: &mut Vec<(Finding, i64)>,
    ) {
        let Some(start) = self.start.take() else { return };
        let end = start.saturating_add(def.period);
        // An entity that is an address or a domain is also written under that name,
        // so that pivots and rules on addresses find the finding.
        let entity_field: Option<&'static str> = match &def.foreach {
            Arg::Field(f) => ["ip_src_addr", "ip_dst_addr", "domain"].into_iter().find(|n| n == f),
            Arg::Expr(_) => None,
        };
        let mut names: Vec<String> =
            self.entities.iter().filter(|(_, s)| s.accs.is_some()).map(|(k, _)| k.clone()).collect();
        names.sort();
        for name in names {
            let Some(state) = self.entities.get_mut(&name) else { continue };
            let Some(accs) = state.accs.take() else { continue };
            let values: Vec<(String, Value)> =
                def.values.iter().zip(&accs).map(|(d, a)| (d.name.clone(), a.value(d.agg))).collect();
            if let Some(i) = def.outlier {
                let value = values[i].1.as_f64();
                if let Some(v) = value {
                    if let Some(j) = state.history.judge(v, min_history).filter(|j| j.is_outlier()) {
                        findings.push((anomaly(def, &name, entity_field, start, end, v, &j, state), end));
                    }
                    state.history.push(v);
                }
            }
            records.push(profile_record(&def.name, &name, start, end, values));
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn anomaly(
    def: &ProfileDef,
    entity: &str,
    entity_field: Option<&'static str>,
    start: i64,
    end: i64,
    value: f64,
    j: &super::history::Judged,
    state: &Entity,
) -> Finding {
    let what = def.outlier.map(|i| def.values[i].name.as_str()).unwrap_or("value");
    let mut fields = vec![("profile", Value::from(def.name.clone())), ("entity", Value::from(entity))];
    if let Some(f) = entity_field {
        fields.push((f, Value::from(entity)));
    }
    Finding {
        kind: "anomaly",
        score: j.score(),
        reason: format!(
            "{entity}: {what} = {} in the period from {}, against a median of {} (MAD {}) over its last {} periods: \
             {:.1} deviations out",
            round3(value),
            chrono::DateTime::from_timestamp_millis(start).map_or_else(|| start.to_string(), |t| t.to_rfc3339()),
            round3(j.median),
            round3(j.mad),
            state.history.len(),
            j.m
        ),
        first_seen: start,
        last_seen: end,
        entity: fields,
        numbers: vec![
            ("value_name", Value::from(what)),
            ("period_start", Value::from(start)),
            ("value", Value::from(round3(value))),
            ("baseline", Value::from(round3(j.median))),
            ("mad", Value::from(round3(j.mad))),
            ("m", Value::from(round3(j.m))),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(toml_text: &str) -> Result<ProfileDef, Vec<String>> {
        let cfg: ProfileDefConfig = toml::from_str(toml_text).unwrap();
        ProfileDef::compile("p", &cfg, 3_600_000)
    }

    #[test]
    fn every_problem_in_a_profile_at_once() {
        let problems = def("foreach = 'e.ip_src_addr +'\nonlyif = 'e.x =='\nperiod = 'soon'\noutlier = 'nope'\n\
             [values]\na = 'sum()'\nb = 'quantile(x, 2)'\nc = 'median(x)'\nd = 'top(x, 0)'\n")
        .unwrap_err();
        assert_eq!(problems.len(), 8, "{problems:#?}");
        assert!(problems.iter().all(|p| p.starts_with("[profile.p]:")));
    }

    #[test]
    fn aggregates_over_events() {
        let d = def("foreach = 'ip_src_addr'\nonlyif = 'e[\"source.type\"] == \"zeek.conn\"'\noutlier = 'bytes'\n\
             [values]\nbytes = 'sum(orig_bytes)'\nconns = 'count()'\npeers = 'distinct(ip_dst_addr)'\n\
             p50 = 'quantile(duration, 0.5)'\nports = 'top(ip_dst_port, 2)'\nbig = 'max(e.orig_bytes * 2)'\n\
             avg = 'mean(duration)'\nsd = 'stddev(duration)'\n")
        .unwrap();
        let mut p = Profiler::new(100);
        let (mut records, mut findings) = (Vec::new(), Vec::new());
        for i in 0..10 {
            let e = crate::event::event_from_value(serde_json::json!({
                "timestamp": 1_000 + i, "source.type": "zeek.conn", "ip_src_addr": "10.0.0.1",
                "ip_dst_addr": format!("10.0.0.{}", 2 + i % 3), "orig_bytes": 100, "duration": i,
                "ip_dst_port": if i < 7 { 443 } else { 80 }
            }))
            .unwrap();
            let o = super::super::obs::from_event(&e);
            p.observe(&d, &Record::Event(&e, &o), 3, &mut records, &mut findings);
        }
        p.close(&d, 3, &mut records, &mut findings);
        assert_eq!(records.len(), 1);
        let r = &records[0];
        assert_eq!((r["profile"].as_str(), r["entity"].as_str()), (Some("p"), Some("10.0.0.1")));
        assert_eq!((r["period_start"].as_i64(), r["period_end"].as_i64()), (Some(0), Some(3_600_000)));
        assert_eq!(r["bytes"], 1000.0);
        assert_eq!(r["conns"], 10);
        assert_eq!(r["peers"], 3);
        assert_eq!(r["big"], 200.0);
        assert_eq!(r["avg"], 4.5);
        assert_eq!(r["sd"], 2.872);
        assert!(matches!(r["p50"].as_f64(), Some(v) if (4.0..=5.0).contains(&v)));
        assert_eq!(r["ports"], serde_json::json!([{"value": "443", "count": 7}, {"value": "80", "count": 3}]));
    }
}
