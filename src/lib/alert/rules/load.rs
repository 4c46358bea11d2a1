//! Finding rule files (files and directories, walked to a bounded depth), reading
//! their YAML documents, and telling the two dialects apart: a document with a
//! `detection` is a Sigma rule, one with a `kind` is ours (`ours.rs`).

use super::ours::load_ours;
use super::{Check, LoadError, Loaded, Priority, Rule, RuleSet};
use crate::alert::logsource;
use crate::alert::sigma::{self, SigmaError, SigmaRule};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use yaml_rust2::{Yaml, YamlLoader};

/// Rule files larger than this are refused: no rule file is that big, and the YAML is
/// held in memory whole.
const MAX_RULE_FILE: u64 = 8 * 1024 * 1024;

/// Loads every rule under `paths`: the rules that load, and one error per rule (or
/// file) that does not.
pub fn load(paths: &[PathBuf]) -> (RuleSet, Vec<LoadError>) {
    let mut set = RuleSet::default();
    let mut errors = Vec::new();
    let mut ids = HashSet::new();
    for file in rule_files(paths, &mut errors) {
        load_file(&file, &mut set, &mut ids, &mut errors);
    }
    set.compile();
    (set, errors)
}

fn rule_files(paths: &[PathBuf], errors: &mut Vec<LoadError>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut files, errors, 0);
        } else if path.exists() {
            files.push(path.clone());
        } else {
            errors.push(LoadError {
                file: path.clone(),
                rule: None,
                message: "no such file or directory".into(),
                unsupported: false,
            });
        }
    }
    files
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<LoadError>, depth: usize) {
    // Symlink loops end here.
    if depth > 32 {
        errors.push(LoadError {
            file: dir.to_owned(),
            rule: None,
            message: "directories nested too deeply".into(),
            unsupported: false,
        });
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(LoadError { file: dir.to_owned(), rule: None, message: e.to_string(), unsupported: false });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, files, errors, depth + 1);
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
        {
            files.push(p);
        }
    }
}

/// YAML nodes a rule file may stand for once its aliases are expanded. A rule is a
/// few hundred nodes; a file of aliases of aliases (a "billion laughs") stands for
/// more nodes than memory holds, and the loader copies each alias in full.
const MAX_EXPANDED_NODES: u64 = 1_000_000;

/// Counts the nodes of `text` with its aliases expanded, from the parser's events
/// (nothing is built), and refuses a file over [`MAX_EXPANDED_NODES`]. A syntax error
/// is left for the loader to report.
pub(super) fn check_expansion(text: &str) -> Result<(), String> {
    use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
    use yaml_rust2::scanner::Marker;
    #[derive(Default)]
    struct Count {
        /// Expanded size of each anchor, by anchor id.
        anchors: std::collections::HashMap<usize, u64>,
        /// Open collections: (anchor id, nodes so far).
        open: Vec<(usize, u64)>,
        total: u64,
    }
    impl Count {
        fn add(&mut self, n: u64) {
            match self.open.last_mut() {
                Some((_, count)) => *count = count.saturating_add(n),
                None => self.total = self.total.saturating_add(n),
            }
        }
    }
    impl MarkedEventReceiver for Count {
        fn on_event(&mut self, ev: Event, _: Marker) {
            match ev {
                Event::Scalar(_, _, anchor, _) => {
                    if anchor > 0 {
                        self.anchors.insert(anchor, 1);
                    }
                    self.add(1);
                }
                Event::Alias(id) => {
                    let n = self.anchors.get(&id).copied().unwrap_or(1);
                    self.add(n);
                }
                Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => self.open.push((anchor, 1)),
                Event::SequenceEnd | Event::MappingEnd => {
                    if let Some((anchor, n)) = self.open.pop() {
                        if anchor > 0 {
                            self.anchors.insert(anchor, n);
                        }
                        self.add(n);
                    }
                }
                _ => {}
            }
        }
    }
    let mut count = Count::default();
    let _ = Parser::new_from_str(text).load(&mut count, true);
    let expanded = count.open.iter().fold(count.total, |t, (_, n)| t.saturating_add(*n));
    if expanded > MAX_EXPANDED_NODES {
        return Err(format!(
            "YAML: its aliases expand to {expanded} nodes, over the limit of {MAX_EXPANDED_NODES} \
             (anchors and aliases nested to multiply a small file: refused unread)"
        ));
    }
    Ok(())
}

fn load_file(file: &Path, set: &mut RuleSet, ids: &mut HashSet<String>, errors: &mut Vec<LoadError>) {
    let fail = |rule: Option<String>, message: String, unsupported: bool| LoadError {
        file: file.to_owned(),
        rule,
        message,
        unsupported,
    };
    match std::fs::metadata(file) {
        Ok(m) if m.len() > MAX_RULE_FILE => {
            errors.push(fail(None, format!("{} bytes, over the limit of {MAX_RULE_FILE}", m.len()), false));
            return;
        }
        Err(e) => {
            errors.push(fail(None, e.to_string(), false));
            return;
        }
        Ok(_) => {}
    }
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            errors.push(fail(None, e.to_string(), false));
            return;
        }
    };
    if let Err(why) = check_expansion(&text) {
        errors.push(fail(None, why, false));
        return;
    }
    let docs = match YamlLoader::load_from_str(&text) {
        Ok(d) => d,
        Err(e) => {
            errors.push(fail(None, format!("YAML: {e}"), false));
            return;
        }
    };
    let base = file.parent().unwrap_or(Path::new("."));
    for (i, doc) in docs.iter().enumerate() {
        let label = rule_label(doc).unwrap_or_else(|| format!("document {}", i + 1));
        let docs_in: Vec<&Yaml> = match doc {
            Yaml::Null => continue,
            Yaml::Hash(_) => match get(doc, "rules") {
                Some(Yaml::Array(list)) => list.iter().collect(),
                Some(_) => {
                    errors.push(fail(Some(label), "`rules` is not a list".into(), false));
                    continue;
                }
                None => vec![doc],
            },
            _ => {
                errors.push(fail(Some(label), "a rule is a YAML mapping".into(), false));
                continue;
            }
        };
        for (j, d) in docs_in.into_iter().enumerate() {
            let label =
                rule_label(d).unwrap_or_else(|| if docs_in_list(doc) { format!("rules[{j}]") } else { label.clone() });
            let loaded = if sigma::is_sigma(d) { load_sigma(d, file) } else { load_ours(d, file, base) };
            match loaded {
                Ok((rule, trees)) => {
                    if !ids.insert(rule.id.clone()) {
                        errors.push(fail(Some(label), format!("duplicate rule id {:?}", rule.id), false));
                        continue;
                    }
                    set.add(rule, trees);
                }
                Err(SigmaError::Invalid(m)) => errors.push(fail(Some(label), m, false)),
                Err(SigmaError::Unsupported(m)) => errors.push(fail(Some(label), m, true)),
            }
        }
    }
}

fn docs_in_list(doc: &Yaml) -> bool {
    matches!(get(doc, "rules"), Some(Yaml::Array(_)))
}

fn rule_label(doc: &Yaml) -> Option<String> {
    ["title", "name", "id"].iter().find_map(|k| match get(doc, k) {
        Some(Yaml::String(s)) => Some(s.clone()),
        _ => None,
    })
}

pub(super) fn get<'a>(doc: &'a Yaml, key: &str) -> Option<&'a Yaml> {
    match doc {
        Yaml::Hash(h) => h.get(&Yaml::String(key.into())),
        _ => None,
    }
}

fn load_sigma(doc: &Yaml, file: &Path) -> Result<Loaded, SigmaError> {
    let rule = SigmaRule::from_yaml(doc)?;
    let tree = rule.compile()?;
    let targets = logsource::targets(&rule.logsource);
    let mut notes = Vec::new();
    if let Some(t) = targets.iter().find(|t| !t.mapped) {
        notes.push(format!("logsource is not one of ours: applies to events with source.type {:?}", t.source_type));
    }
    let priority = match rule.level.as_deref() {
        None => Priority::Med,
        Some(l) => Priority::parse(l).ok_or_else(|| {
            SigmaError::Invalid(format!("level {l:?} is not one of informational, low, medium, high, critical"))
        })?,
    };
    let trees = targets.iter().map(|t| (t.source_type.clone(), Some(tree.map_fields(&|f| t.field(f))))).collect();
    let source_types = targets.iter().map(|t| t.source_type.clone()).filter(|t| !t.is_empty()).collect();
    let rule = Rule {
        id: rule.id.clone().unwrap_or_else(|| rule.title.clone()),
        description: rule.description.clone().unwrap_or_else(|| rule.title.clone()),
        name: rule.title,
        kind: "sigma",
        priority,
        dedup_key: None,
        designated_host: None,
        file: file.to_owned(),
        check: Check::Sigma,
        source_types,
        notes,
    };
    Ok((rule, trees))
}

pub(super) fn invalid<T>(m: impl Into<String>) -> Result<T, SigmaError> {
    Err(SigmaError::Invalid(m.into()))
}

pub(super) fn opt_text(doc: &Yaml, key: &str) -> Result<Option<String>, SigmaError> {
    match get(doc, key) {
        None | Some(Yaml::Null) => Ok(None),
        Some(Yaml::String(s)) | Some(Yaml::Real(s)) => Ok(Some(s.clone())),
        Some(Yaml::Integer(i)) => Ok(Some(i.to_string())),
        Some(_) => invalid(format!("`{key}` is not text")),
    }
}

/// A list of text, also written as one value.
pub(super) fn text_list(doc: &Yaml, key: &str) -> Result<Option<Vec<String>>, SigmaError> {
    let one = |v: &Yaml| match v {
        Yaml::String(s) | Yaml::Real(s) => Ok(s.clone()),
        Yaml::Integer(i) => Ok(i.to_string()),
        _ => invalid(format!("`{key}` holds something that is not text")),
    };
    match get(doc, key) {
        None | Some(Yaml::Null) => Ok(None),
        Some(Yaml::Array(list)) => Ok(Some(list.iter().map(one).collect::<Result<_, _>>()?)),
        Some(v) => Ok(Some(vec![one(v)?])),
    }
}
