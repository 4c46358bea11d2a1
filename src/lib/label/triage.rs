//! Triage scores that explain themselves, as Apache Metron's `riskLevelRules`: each
//! rule is a boolean expression over an alert with a score and a reason expression;
//! the scores of the rules that fire are aggregated into `threat.triage.score`, and
//! each fired rule is written beside it (`threat.triage.rules.<i>.{name,comment,
//! score,reason}`), so an analyst sees why an alert scored what it did.

use crate::event::Event;
use crate::expr::{self, Expr, ExprError, Scope};
use serde::Deserialize;
use serde_json::Value;

/// How the scores of the fired rules become one score (Metron's names). With no rule
/// fired the score is 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum Aggregator {
    #[default]
    #[serde(rename = "MAX", alias = "max")]
    Max,
    #[serde(rename = "MIN", alias = "min")]
    Min,
    #[serde(rename = "SUM", alias = "sum")]
    Sum,
    #[serde(rename = "MEAN", alias = "mean")]
    Mean,
    /// The mean of the positive scores only.
    #[serde(rename = "POSITIVE_MEAN", alias = "positive_mean")]
    PositiveMean,
}

impl Aggregator {
    pub fn aggregate(self, scores: &[f64]) -> f64 {
        let mean = |s: &[f64]| if s.is_empty() { 0.0 } else { s.iter().sum::<f64>() / s.len() as f64 };
        match self {
            Aggregator::Max => scores.iter().copied().reduce(f64::max).unwrap_or(0.0),
            Aggregator::Min => scores.iter().copied().reduce(f64::min).unwrap_or(0.0),
            Aggregator::Sum => scores.iter().sum(),
            Aggregator::Mean => mean(scores),
            Aggregator::PositiveMean => {
                let positive: Vec<f64> = scores.iter().copied().filter(|s| *s > 0.0).collect();
                mean(&positive)
            }
        }
    }
}

/// A score: a number, or an expression giving one.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ScoreConfig {
    Number(f64),
    Expr(String),
}

/// `[[label.triage.rules]]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    pub name: String,
    pub comment: Option<String>,
    /// When the rule fires: a boolean expression over the event `e`.
    pub rule: String,
    pub score: ScoreConfig,
    /// Why, in words: an expression giving text (a plain string is `'...'`).
    pub reason: Option<String>,
}

/// `[label.triage]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageConfig {
    #[serde(default)]
    pub aggregator: Aggregator,
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
}

enum Score {
    Number(f64),
    Expr(Expr),
}

struct Rule {
    name: String,
    comment: Option<String>,
    rule: Expr,
    score: Score,
    reason: Option<Expr>,
    /// Events this rule could not be evaluated on, and the first error.
    failures: u64,
    first_failure: Option<String>,
    reported: u64,
}

/// Compiled triage rules.
pub struct Triage {
    aggregator: Aggregator,
    rules: Vec<Rule>,
    pub scored: u64,
}

pub const SCORE: &str = "threat.triage.score";
const RULES: &str = "threat.triage.rules";

impl TriageConfig {
    /// Compiles every rule; every expression that does not compile is named with
    /// its rule and position.
    pub fn compile(&self) -> Result<Triage, Vec<String>> {
        let mut problems = Vec::new();
        let mut rules = Vec::new();
        for (i, r) in self.rules.iter().enumerate() {
            let at = |what: &str, e: ExprError| format!("triage rule {:?} (rules[{i}]) {what}: {e}", r.name);
            let rule = Expr::compile(&r.rule).map_err(|e| problems.push(at("rule", e))).ok();
            let score = match &r.score {
                ScoreConfig::Number(n) if n.is_finite() => Some(Score::Number(*n)),
                ScoreConfig::Number(n) => {
                    problems.push(format!("triage rule {:?} (rules[{i}]) score {n} is not a number", r.name));
                    None
                }
                ScoreConfig::Expr(s) => {
                    Expr::compile(s).map(Score::Expr).map_err(|e| problems.push(at("score", e))).ok()
                }
            };
            let reason = match &r.reason {
                Some(s) => match Expr::compile(s) {
                    Ok(e) => Some(Some(e)),
                    Err(e) => {
                        problems.push(at("reason", e));
                        None
                    }
                },
                None => Some(None),
            };
            if r.name.trim().is_empty() {
                problems.push(format!("triage rules[{i}] has no name"));
            }
            if let (Some(rule), Some(score), Some(reason)) = (rule, score, reason) {
                rules.push(Rule {
                    name: r.name.clone(),
                    comment: r.comment.clone(),
                    rule,
                    score,
                    reason,
                    failures: 0,
                    first_failure: None,
                    reported: 0,
                });
            }
        }
        if problems.is_empty() {
            Ok(Triage { aggregator: self.aggregator, rules, scored: 0 })
        } else {
            Err(problems)
        }
    }
}

impl Triage {
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Scores one alert. A rule that cannot be evaluated on it (a missing field, a
    /// type mismatch) does not fire; that is counted and reported, not hidden.
    pub fn apply(&mut self, event: &mut Event) {
        let scope = Scope::new(event);
        let mut fired: Vec<(usize, f64, Value)> = Vec::new();
        for (i, r) in self.rules.iter_mut().enumerate() {
            let fail = |r: &mut Rule, e: ExprError, what: &str| {
                r.failures += 1;
                if r.first_failure.is_none() {
                    r.first_failure = Some(format!("{what}: {e}"));
                }
            };
            match r.rule.eval_bool(&scope) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    fail(r, e, "rule");
                    continue;
                }
            }
            let score = match &r.score {
                Score::Number(n) => *n,
                Score::Expr(x) => match x.eval(&scope).map(|v| expr::as_f64(&v)) {
                    Ok(Some(n)) if n.is_finite() => n,
                    Ok(_) => {
                        fail(r, ExprError::Eval("the score is not a number".into()), "score");
                        continue;
                    }
                    Err(e) => {
                        fail(r, e, "score");
                        continue;
                    }
                },
            };
            let reason = match &r.reason {
                None => Value::Null,
                Some(x) => match x.eval_string(&scope) {
                    Ok(s) => Value::String(s),
                    Err(e) => {
                        let text = format!("(reason could not be evaluated: {e})");
                        fail(r, e, "reason");
                        Value::String(text)
                    }
                },
            };
            fired.push((i, score, reason));
        }
        let scores: Vec<f64> = fired.iter().map(|f| f.1).collect();
        event.insert(SCORE.to_owned(), number(self.aggregator.aggregate(&scores)));
        for (n, (i, score, reason)) in fired.into_iter().enumerate() {
            let r = &self.rules[i];
            event.insert(format!("{RULES}.{n}.name"), Value::String(r.name.clone()));
            event.insert(format!("{RULES}.{n}.comment"), r.comment.clone().map_or(Value::Null, Value::String));
            event.insert(format!("{RULES}.{n}.score"), number(score));
            event.insert(format!("{RULES}.{n}.reason"), reason);
        }
        self.scored += 1;
    }

    /// Rules that failed on events since the last call, one line each.
    pub fn failure_messages(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        for r in &mut self.rules {
            if r.failures > r.reported {
                out.push(format!(
                    "triage rule {:?} could not be evaluated on {} alert(s) so far (it did not fire there); first: {}",
                    r.name,
                    crate::io::thousands(r.failures),
                    r.first_failure.as_deref().unwrap_or("")
                ));
                r.reported = r.failures;
            }
        }
        out
    }
}

/// Scores are numbers; whole ones are written as integers (`10`, not `10.0`), as
/// Metron's JSON showed them.
fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::event_from_value;
    use serde_json::json;

    #[test]
    fn aggregators_on_scores_and_on_nothing() {
        let s = [10.0, -5.0, 20.0];
        assert_eq!(Aggregator::Max.aggregate(&s), 20.0);
        assert_eq!(Aggregator::Min.aggregate(&s), -5.0);
        assert_eq!(Aggregator::Sum.aggregate(&s), 25.0);
        assert!((Aggregator::Mean.aggregate(&s) - 25.0 / 3.0).abs() < 1e-9);
        assert_eq!(Aggregator::PositiveMean.aggregate(&s), 15.0);
        for a in [Aggregator::Max, Aggregator::Min, Aggregator::Sum, Aggregator::Mean, Aggregator::PositiveMean] {
            assert_eq!(a.aggregate(&[]), 0.0);
        }
    }

    fn config(text: &str) -> TriageConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn fired_rules_are_written_with_their_reasons() {
        let mut t = config(
            r#"aggregator = "SUM"
[[rules]]
name = "external C2"
comment = "Feodo lists botnet C2 servers"
rule = '"threatintels.feodo.ip_dst_addr.ip" in e'
score = 50
reason = '"connection to C2 " + e.ip_dst_addr'
[[rules]]
name = "never"
rule = "false"
score = 100
[[rules]]
name = "port"
rule = "e.ip_dst_port == 443"
score = "e.ip_dst_port / 100"
"#,
        )
        .compile()
        .unwrap();
        let mut e = event_from_value(json!({"ip_dst_addr": "192.9.135.73", "ip_dst_port": 443,
            "threatintels.feodo.ip_dst_addr.ip": "alert", "is_alert": true}))
        .unwrap();
        t.apply(&mut e);
        assert_eq!(e[SCORE], 54);
        assert_eq!(e["threat.triage.rules.0.name"], "external C2");
        assert_eq!(e["threat.triage.rules.0.comment"], "Feodo lists botnet C2 servers");
        assert_eq!(e["threat.triage.rules.0.score"], 50);
        assert_eq!(e["threat.triage.rules.0.reason"], "connection to C2 192.9.135.73");
        assert_eq!(e["threat.triage.rules.1.name"], "port");
        assert_eq!(e["threat.triage.rules.1.comment"], Value::Null);
        assert!(!e.contains_key("threat.triage.rules.2.name"));
    }

    #[test]
    fn a_rule_that_fails_does_not_fire_and_is_reported() {
        let mut t =
            config("[[rules]]\nname = \"dns\"\nrule = 'e.query.endsWith(\".ru\")'\nscore = 5\n").compile().unwrap();
        let mut e = event_from_value(json!({"is_alert": true})).unwrap();
        t.apply(&mut e);
        assert_eq!(e[SCORE], 0);
        let msgs = t.failure_messages();
        assert_eq!(msgs.len(), 1);
        assert!(msgs[0].contains("\"dns\"") && msgs[0].contains("query"), "{msgs:?}");
        assert!(t.failure_messages().is_empty());
    }

    #[test]
    fn every_bad_expression_is_named_with_its_rule_and_position() {
        let problems = config(
            r#"[[rules]]
name = "a"
rule = "e.x == "
score = 1
[[rules]]
name = "b"
rule = "true"
score = 1
reason = "ip_src_addr"
"#,
        )
        .compile()
        .err()
        .unwrap();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("\"a\"") && problems[0].contains("column"), "{}", problems[0]);
        assert!(problems[1].contains("\"b\"") && problems[1].contains("reason"), "{}", problems[1]);
    }

    #[test]
    fn unknown_aggregator_is_refused() {
        assert!(toml::from_str::<TriageConfig>("aggregator = \"MEDIAN\"").is_err());
    }
}
