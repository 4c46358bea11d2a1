//! Our rule dialect (`kind: all | intel | list | keyword | expression`): see the
//! module docs of `alert`.

use super::cache::referenced_keys;
use super::load::{get, invalid, opt_text, text_list};
use super::{Check, ListCheck, Loaded, Priority, Rule};
use crate::alert::sigma::SigmaError;
use crate::event::fields;
use crate::expr::Expr;
use crate::net::NetSet;
use std::path::Path;
use yaml_rust2::Yaml;

const KNOWN_KEYS: &[&str] = &[
    "id",
    "name",
    "kind",
    "priority",
    "description",
    "dedup_key",
    "designated_host",
    "source_types",
    "severity_field",
    "min_score",
    "fields",
    "block",
    "allow",
    "block_files",
    "allow_files",
    "keywords",
    "case_sensitive",
    "expression",
];

/// Our rule format: see the module docs of `alert`.
pub(super) fn load_ours(doc: &Yaml, file: &Path, base: &Path) -> Result<Loaded, SigmaError> {
    let Yaml::Hash(map) = doc else { return invalid("a rule is a YAML mapping") };
    for k in map.keys() {
        match k {
            Yaml::String(k) if KNOWN_KEYS.contains(&k.as_str()) => {}
            Yaml::String(k) => return invalid(format!("unknown key `{k}`")),
            _ => return invalid("a key is not text"),
        }
    }
    let Some(kind) = opt_text(doc, "kind")? else {
        return invalid("neither a Sigma rule (no `detection`) nor a metron rule (no `kind`)");
    };
    let id = opt_text(doc, "id")?.ok_or_else(|| SigmaError::Invalid("no `id`".into()))?;
    let name = opt_text(doc, "name")?.unwrap_or_else(|| id.clone());
    let priority = match opt_text(doc, "priority")? {
        None => Priority::Med,
        Some(p) => {
            Priority::parse(&p).ok_or_else(|| SigmaError::Invalid(format!("priority {p:?} is not HIGH, MED or LOW")))?
        }
    };
    let fields_list = text_list(doc, "fields")?;
    let (kind, check): (&'static str, Check) = match kind.as_str() {
        "all" => ("all", Check::All { severity_field: opt_text(doc, "severity_field")? }),
        "intel" => ("intel", Check::Intel { min_score: min_score(doc)? }),
        "list" => ("list", Check::List(list_check(doc, base, fields_list)?)),
        "keyword" => ("keyword", keyword_check(doc, fields_list)?),
        "expression" => {
            let source = opt_text(doc, "expression")?.ok_or_else(|| SigmaError::Invalid("no `expression`".into()))?;
            let expr = Expr::compile(&source).map_err(|e| SigmaError::Invalid(format!("expression: {e}")))?;
            let keys = referenced_keys(&source);
            ("expression", Check::Expression { expr, keys })
        }
        other => return invalid(format!("kind {other:?} is not one of all, intel, list, keyword, expression")),
    };
    let source_types = text_list(doc, "source_types")?.unwrap_or_default();
    if kind == "all" && source_types.is_empty() {
        return invalid("an `all` rule needs `source_types` (every event of every type would be an alert)");
    }
    let trees = if source_types.is_empty() {
        vec![(String::new(), None)]
    } else {
        source_types.iter().map(|t| (t.clone(), None)).collect()
    };
    let rule = Rule {
        description: opt_text(doc, "description")?.unwrap_or_else(|| name.clone()),
        id,
        name,
        kind,
        priority,
        dedup_key: text_list(doc, "dedup_key")?,
        designated_host: opt_text(doc, "designated_host")?,
        file: file.to_owned(),
        check,
        source_types,
        notes: Vec::new(),
    };
    Ok((rule, trees))
}

/// An intel rule's `min_score`, if it has one.
fn min_score(doc: &Yaml) -> Result<Option<f64>, SigmaError> {
    match get(doc, "min_score") {
        None | Some(Yaml::Null) => Ok(None),
        Some(Yaml::Integer(i)) => Ok(Some(*i as f64)),
        Some(Yaml::Real(r)) => {
            r.parse::<f64>().map(Some).map_err(|_| SigmaError::Invalid("`min_score` is not a number".into()))
        }
        Some(_) => invalid("`min_score` is not a number"),
    }
}

/// A list rule: `block`/`allow` entries and files of entries (relative to the rule
/// file), on `fields` (by default both addresses).
fn list_check(doc: &Yaml, base: &Path, fields_list: Option<Vec<String>>) -> Result<ListCheck, SigmaError> {
    let mut block = NetSet::default();
    let mut allow = NetSet::default();
    for (key, files_key, set) in [("block", "block_files", &mut block), ("allow", "allow_files", &mut allow)] {
        let mut entries: Vec<String> = text_list(doc, key)?.unwrap_or_default();
        for f in text_list(doc, files_key)?.unwrap_or_default() {
            let path = base.join(&f);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| SigmaError::Invalid(format!("`{files_key}` {}: {e}", path.display())))?;
            entries.extend(
                text.lines().map(|l| l.split('#').next().unwrap_or("").trim().to_owned()).filter(|l| !l.is_empty()),
            );
        }
        for e in entries {
            let net = crate::net::parse_net(&e)
                .ok_or_else(|| SigmaError::Invalid(format!("`{key}`: {e:?} is not an address or network")))?;
            set.insert(net);
        }
    }
    if block.is_empty() && allow.is_empty() {
        return invalid("a list rule needs `block` or `allow` entries");
    }
    let fields = fields_list.unwrap_or_else(|| vec![fields::IP_SRC_ADDR.into(), fields::IP_DST_ADDR.into()]);
    Ok(ListCheck { fields, block, allow })
}

fn keyword_check(doc: &Yaml, fields_list: Option<Vec<String>>) -> Result<Check, SigmaError> {
    let keywords = text_list(doc, "keywords")?.unwrap_or_default();
    if keywords.is_empty() || keywords.iter().any(String::is_empty) {
        return invalid("a keyword rule needs `keywords`, none of them empty");
    }
    let case_sensitive = matches!(get(doc, "case_sensitive"), Some(Yaml::Boolean(true)));
    let matcher = aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(!case_sensitive)
        .build(&keywords)
        .map_err(|e| SigmaError::Invalid(format!("keywords: {e}")))?;
    Ok(Check::Keyword { matcher, fields: fields_list.unwrap_or_default() })
}
