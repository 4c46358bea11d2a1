//! The Sigma trees of every rule that applies to one source.type, compiled together.
//! Evaluated one by one, each rule looks up the fields it reads and scans their values
//! for its own literals, so a hundred rules on the same field scan it a hundred times.
//! Here each value is scanned once for all the literals any rule compares it with (per
//! field: a hash table for equality and one Aho-Corasick automaton for `contains`,
//! `startswith` and `endswith`), which sets one bit per literal found; a rule's field
//! test then reads its literals' bits with a mask, and every distinct field test is
//! decided at most once per event. [`Node::matches`] stays the reference: tests check on
//! random rules and events that both agree.

use super::matcher::{lowercase, scalar_text, uri_extension, Cmp, FieldRef, Node, Pattern, StrOp};
use crate::event::Event;
use aho_corasick::AhoCorasick;
use ipnet::IpNet;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// What is known of a test for the event being judged.
const UNKNOWN: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;

/// A rule's condition over the program's field tests.
#[derive(Debug)]
enum Tree {
    And(Vec<Tree>),
    Or(Vec<Tree>),
    Not(Box<Tree>),
    Const(bool),
    Check(usize),
    /// Field-less keywords read every field of the event: evaluated as written.
    Whole(Node),
}

/// One field test of a rule (its values, any or `|all`): the literals among them as
/// bits, the other patterns as tests of their own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Check {
    slot: usize,
    /// Words of the literal bitset and the bits of this test's literals in them.
    mask: Vec<(usize, u64)>,
    others: Vec<usize>,
    all: bool,
}

/// A pattern that is not a literal, on a field.
#[derive(Debug)]
struct Test {
    slot: usize,
    pattern: Pattern,
}

/// What makes two patterns the same (regexes are never merged: their flags are not
/// part of what they show of themselves).
#[derive(Debug, PartialEq, Eq, Hash)]
enum PatternKey {
    Null,
    Exists(bool),
    Cidr(IpNet),
    Num { cmp: Cmp, bits: u64 },
}

/// A field that tests read, with the literals compared with its value.
#[derive(Debug)]
struct Slot {
    field: FieldRef,
    /// Literals compared with the lower-cased value, and `|cased` ones with the value.
    lower: Literals,
    cased: Literals,
}

/// Literals of one field, each a bit of the program's literal bitset.
#[derive(Debug, Default)]
struct Literals {
    equal: FastMap<String, Vec<usize>>,
    /// `contains`, `startswith` and `endswith` the empty string: any text at all.
    any_text: Vec<usize>,
    /// The texts searched for, each with the bits it sets and when.
    texts: Vec<String>,
    found: Vec<Vec<(StrOp, usize)>>,
    index: FastMap<String, usize>,
    scanner: Option<AhoCorasick>,
}

fn set(bits: &mut [u64], bit: usize) {
    bits[bit / 64] |= 1 << (bit % 64);
}

impl Literals {
    fn is_empty(&self) -> bool {
        self.equal.is_empty() && self.any_text.is_empty() && self.texts.is_empty()
    }

    fn add(&mut self, op: StrOp, text: &str, bit: usize) {
        if op == StrOp::Eq {
            self.equal.entry(text.to_owned()).or_default().push(bit);
        } else if text.is_empty() {
            self.any_text.push(bit);
        } else {
            let i = *self.index.entry(text.to_owned()).or_insert_with(|| {
                self.texts.push(text.to_owned());
                self.found.push(Vec::new());
                self.texts.len() - 1
            });
            self.found[i].push((op, bit));
        }
    }

    fn build(&mut self) -> Result<(), aho_corasick::BuildError> {
        if !self.texts.is_empty() {
            self.scanner = Some(AhoCorasick::new(&self.texts)?);
        }
        self.index = FastMap::default();
        Ok(())
    }

    /// Sets the bits of the literals `hay` matches.
    fn mark(&self, hay: &str, bits: &mut [u64]) {
        if !self.equal.is_empty() {
            if let Some(found) = self.equal.get(hay) {
                found.iter().for_each(|&b| set(bits, b));
            }
        }
        self.any_text.iter().for_each(|&b| set(bits, b));
        if let Some(scanner) = &self.scanner {
            for m in scanner.find_overlapping_iter(hay) {
                for &(op, b) in &self.found[m.pattern().as_usize()] {
                    let hit = match op {
                        StrOp::StartsWith => m.start() == 0,
                        StrOp::EndsWith => m.end() == hay.len(),
                        StrOp::Contains | StrOp::Eq => true,
                    };
                    if hit {
                        set(bits, b);
                    }
                }
            }
        }
    }
}

/// The compiled trees of one group of rules, in the group's order (`None` for rules
/// that are not Sigma rules).
#[derive(Debug, Default)]
pub struct Program {
    trees: Vec<Option<Tree>>,
    slots: Vec<Slot>,
    checks: Vec<Check>,
    tests: Vec<Test>,
    literals: usize,
}

/// Per-event state, kept between events so that judging one allocates nothing.
#[derive(Debug, Default)]
pub struct Scratch {
    checks: Vec<u8>,
    tests: Vec<u8>,
    scanned: Vec<bool>,
    bits: Vec<u64>,
}

/// Builds a [`Program`].
#[derive(Default)]
struct Compiler {
    program: Program,
    slots: FastMap<FieldRef, usize>,
    literals: FastMap<(usize, StrOp, String, bool), usize>,
    patterns: FastMap<(usize, PatternKey), usize>,
    checks: FastMap<Check, usize>,
}

impl Compiler {
    fn slot(&mut self, field: &FieldRef) -> usize {
        if let Some(&s) = self.slots.get(field) {
            return s;
        }
        let s = self.program.slots.len();
        self.program.slots.push(Slot { field: field.clone(), lower: Literals::default(), cased: Literals::default() });
        self.slots.insert(field.clone(), s);
        s
    }

    fn literal(&mut self, slot: usize, op: StrOp, text: &str, cased: bool) -> usize {
        let key = (slot, op, text.to_owned(), cased);
        if let Some(&b) = self.literals.get(&key) {
            return b;
        }
        let b = self.program.literals;
        self.program.literals += 1;
        let s = &mut self.program.slots[slot];
        if cased { &mut s.cased } else { &mut s.lower }.add(op, text, b);
        self.literals.insert(key, b);
        b
    }

    fn test(&mut self, slot: usize, pattern: &Pattern) -> usize {
        let key = match pattern {
            Pattern::Null => Some(PatternKey::Null),
            Pattern::Exists(b) => Some(PatternKey::Exists(*b)),
            Pattern::Cidr(net) => Some(PatternKey::Cidr(*net)),
            Pattern::Num { cmp, n } => Some(PatternKey::Num { cmp: *cmp, bits: n.to_bits() }),
            Pattern::Str { .. } | Pattern::Regex(_) => None,
        }
        .map(|k| (slot, k));
        if let Some(&t) = key.as_ref().and_then(|k| self.patterns.get(k)) {
            return t;
        }
        let t = self.program.tests.len();
        self.program.tests.push(Test { slot, pattern: pattern.clone() });
        if let Some(k) = key {
            self.patterns.insert(k, t);
        }
        t
    }

    fn check(&mut self, field: &FieldRef, values: &[Pattern], all: bool) -> usize {
        let slot = self.slot(field);
        let mut words: std::collections::BTreeMap<usize, u64> = Default::default();
        let mut others = Vec::new();
        for p in values {
            match p {
                Pattern::Str { op, text, cased } => {
                    let b = self.literal(slot, *op, text, *cased);
                    *words.entry(b / 64).or_default() |= 1 << (b % 64);
                }
                other => others.push(self.test(slot, other)),
            }
        }
        others.sort_unstable();
        others.dedup();
        let check = Check { slot, mask: words.into_iter().collect(), others, all };
        if let Some(&c) = self.checks.get(&check) {
            return c;
        }
        let c = self.program.checks.len();
        self.program.checks.push(check.clone());
        self.checks.insert(check, c);
        c
    }

    fn tree(&mut self, node: &Node) -> Tree {
        match node {
            Node::And(nodes) => Tree::And(nodes.iter().map(|n| self.tree(n)).collect()),
            Node::Or(nodes) => Tree::Or(nodes.iter().map(|n| self.tree(n)).collect()),
            Node::Not(n) => Tree::Not(Box::new(self.tree(n))),
            Node::Const(b) => Tree::Const(*b),
            Node::Field { field, test } => Tree::Check(self.check(field, &test.values, test.all)),
            Node::Keywords(_) => Tree::Whole(node.clone()),
        }
    }
}

impl Program {
    /// Compiles the trees of a group of rules (`None`: not a Sigma rule).
    pub fn compile<'a>(trees: impl IntoIterator<Item = Option<&'a Node>>) -> Result<Program, aho_corasick::BuildError> {
        let mut c = Compiler::default();
        let trees = trees.into_iter().map(|n| n.map(|n| c.tree(n))).collect();
        let mut program = c.program;
        program.trees = trees;
        for s in &mut program.slots {
            s.lower.build()?;
            s.cased.build()?;
        }
        Ok(program)
    }

    /// Forgets the previous event.
    pub fn start(&self, scratch: &mut Scratch) {
        scratch.checks.clear();
        scratch.checks.resize(self.checks.len(), UNKNOWN);
        scratch.tests.clear();
        scratch.tests.resize(self.tests.len(), UNKNOWN);
        scratch.scanned.clear();
        scratch.scanned.resize(self.slots.len(), false);
        scratch.bits.clear();
        scratch.bits.resize(self.literals.div_ceil(64), 0);
    }

    /// Whether the `i`th rule's tree (`None`: it is not a Sigma rule) holds for
    /// `event`. `scratch` must be [`Program::start`]ed for this event.
    pub fn matches(&self, i: usize, event: &Event, scratch: &mut Scratch) -> Option<bool> {
        let tree = self.trees.get(i)?.as_ref()?;
        Some(self.eval(tree, event, scratch))
    }

    fn eval(&self, tree: &Tree, event: &Event, scratch: &mut Scratch) -> bool {
        match tree {
            Tree::And(trees) => trees.iter().all(|t| self.eval(t, event, scratch)),
            Tree::Or(trees) => trees.iter().any(|t| self.eval(t, event, scratch)),
            Tree::Not(t) => !self.eval(t, event, scratch),
            Tree::Const(b) => *b,
            Tree::Check(c) => match scratch.checks[*c] {
                TRUE => true,
                FALSE => false,
                _ => {
                    let hit = self.check(&self.checks[*c], event, scratch);
                    scratch.checks[*c] = if hit { TRUE } else { FALSE };
                    hit
                }
            },
            Tree::Whole(node) => node.matches(event),
        }
    }

    fn check(&self, check: &Check, event: &Event, scratch: &mut Scratch) -> bool {
        if !check.mask.is_empty() && !scratch.scanned[check.slot] {
            let slot = &self.slots[check.slot];
            scan(slot, value(&slot.field, event).as_deref(), &mut scratch.bits);
            scratch.scanned[check.slot] = true;
        }
        let bits = &scratch.bits;
        if check.all {
            check.mask.iter().all(|&(w, m)| bits[w] & m == m)
                && check.others.iter().all(|&t| self.test(t, event, &mut scratch.tests))
        } else {
            check.mask.iter().any(|&(w, m)| bits[w] & m != 0)
                || check.others.iter().any(|&t| self.test(t, event, &mut scratch.tests))
        }
    }

    fn test(&self, t: usize, event: &Event, known: &mut [u8]) -> bool {
        match known[t] {
            TRUE => return true,
            FALSE => return false,
            _ => {}
        }
        let test = &self.tests[t];
        let hit = test.pattern.matches_value(value(&self.slots[test.slot].field, event).as_deref());
        known[t] = if hit { TRUE } else { FALSE };
        hit
    }
}

/// A field's value as tests see it.
fn value<'a>(field: &FieldRef, event: &'a Event) -> Option<Cow<'a, Value>> {
    match field {
        FieldRef::Name(name) => event.get(name.as_str()).map(Cow::Borrowed),
        FieldRef::UriExtension(name) => {
            event.get(name.as_str()).and_then(Value::as_str).map(|u| Cow::Owned(Value::String(uri_extension(u).into())))
        }
    }
}

/// Sets the bits of every literal of a field that its value matches. An array matches
/// a literal when one of its elements does, as in [`Pattern::matches_value`].
fn scan(slot: &Slot, value: Option<&Value>, bits: &mut [u64]) {
    let mut one = |v: &Value| {
        if let Some(text) = scalar_text(v) {
            if !slot.lower.is_empty() {
                slot.lower.mark(&lowercase(&text), bits);
            }
            if !slot.cased.is_empty() {
                slot.cased.mark(&text, bits);
            }
        }
    };
    match value {
        Some(Value::Array(items)) => items.iter().for_each(&mut one),
        Some(v) => one(v),
        None => {}
    }
}

/// Whether an event holds an array inside an array, where `|all` tests (which look
/// into nested arrays) and the others (which do not) part ways: such an event is
/// judged by the rules' trees as written.
pub fn has_nested_arrays(event: &Event) -> bool {
    event.values().any(|v| matches!(v, Value::Array(items) if items.iter().any(Value::is_array)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::matcher::FieldTest;
    use proptest::prelude::*;
    use serde_json::json;

    /// Pieces that make literals and values overlap, differ in case, and leave ASCII.
    const PIECES: [&str; 9] = ["", "ab", "AB", "b", "abc", "xaby", "É", "é", "1"];

    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(&PIECES[..]), 0..4).prop_map(|p| p.concat())
    }

    fn pattern() -> impl Strategy<Value = Pattern> {
        let ops = vec![StrOp::Eq, StrOp::Contains, StrOp::StartsWith, StrOp::EndsWith];
        let cmps = vec![Cmp::Gt, Cmp::Gte, Cmp::Lt, Cmp::Lte];
        prop_oneof![
            // As the rule compiler makes them: lower-cased unless `|cased`.
            8 => (prop::sample::select(ops), text(), any::<bool>()).prop_map(|(op, t, cased)| Pattern::Str {
                op,
                text: if cased { t } else { lowercase(&t).into_owned() },
                cased
            }),
            1 => Just(Pattern::Null),
            1 => any::<bool>().prop_map(Pattern::Exists),
            1 => prop::sample::select(vec!["10.0.0.0/8", "10.1.2.3/32", "::/0"])
                .prop_map(|n| Pattern::Cidr(n.parse().unwrap_or_else(|_| unreachable!()))),
            1 => (prop::sample::select(cmps), 0..3i32).prop_map(|(cmp, n)| Pattern::Num { cmp, n: f64::from(n) }),
            1 => prop::sample::select(vec!["^a.*b$", "(?i)É", "1"])
                .prop_map(|r| Pattern::Regex(regex::Regex::new(r).unwrap_or_else(|_| unreachable!()))),
        ]
    }

    fn field_test() -> impl Strategy<Value = FieldTest> {
        (prop::collection::vec(pattern(), 0..4), any::<bool>()).prop_map(|(values, all)| FieldTest { values, all })
    }

    fn node() -> impl Strategy<Value = Node> {
        let field = prop_oneof![
            4 => prop::sample::select(vec!["a", "b", "c"]).prop_map(|f| FieldRef::Name(f.into())),
            1 => Just(FieldRef::UriExtension("u".into())),
        ];
        let leaf = prop_oneof![
            8 => (field, field_test()).prop_map(|(field, test)| Node::Field { field, test }),
            1 => field_test().prop_map(Node::Keywords),
            1 => any::<bool>().prop_map(Node::Const),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Node::And),
                prop::collection::vec(inner.clone(), 0..4).prop_map(Node::Or),
                inner.prop_map(|n| Node::Not(Box::new(n))),
            ]
        })
    }

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            4 => text().prop_map(Value::from),
            1 => prop::sample::select(vec!["10.1.2.3", "192.168.0.1", "/x/y.AB?z", "http://h/p.ab"]).prop_map(Value::from),
            1 => (0..3i64).prop_map(Value::from),
            1 => Just(json!(1.5)),
            1 => any::<bool>().prop_map(Value::from),
            1 => Just(Value::Null),
        ]
    }

    fn event() -> impl Strategy<Value = Event> {
        let value = prop_oneof![
            4 => scalar(),
            1 => prop::collection::vec(scalar(), 0..3).prop_map(Value::Array),
        ];
        prop::collection::vec((prop::sample::select(vec!["a", "b", "c", "u", "other"]), value), 0..5)
            .prop_map(|fields| fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The compiled program and the trees as written agree on every rule.
        #[test]
        fn compiled_trees_agree_with_the_trees_as_written(
            nodes in prop::collection::vec(node(), 1..6),
            events in prop::collection::vec(event(), 1..6),
        ) {
            let program = Program::compile(nodes.iter().map(Some)).unwrap();
            let mut scratch = Scratch::default();
            for e in &events {
                prop_assume!(!has_nested_arrays(e));
                program.start(&mut scratch);
                for (i, n) in nodes.iter().enumerate() {
                    prop_assert_eq!(program.matches(i, e, &mut scratch), Some(n.matches(e)), "rule {} {:?} on {:?}", i, n, e);
                }
            }
        }
    }

    #[test]
    fn literals_on_one_field_are_scanned_together() {
        let lit = |op, text: &str| Pattern::Str { op, text: text.into(), cased: false };
        let field = |values| Node::Field { field: FieldRef::Name("q".into()), test: FieldTest { values, all: false } };
        let nodes = [
            field(vec![lit(StrOp::EndsWith, ".onion"), lit(StrOp::EndsWith, "onion.to")]),
            field(vec![lit(StrOp::StartsWith, "onion")]),
            field(vec![lit(StrOp::Contains, "onion")]),
            field(vec![lit(StrOp::Eq, "x.onion")]),
            field(vec![lit(StrOp::Contains, "onion")]),
        ];
        let program = Program::compile(nodes.iter().map(Some)).unwrap();
        assert_eq!(program.slots.len(), 1);
        assert_eq!(program.literals, 5, "literals: .onion, onion.to, onion twice, x.onion");
        assert_eq!(program.checks.len(), 4, "the same field test is one check");
        let mut scratch = Scratch::default();
        let e: Event = [("q".to_owned(), Value::from("X.Onion"))].into_iter().collect();
        program.start(&mut scratch);
        let got: Vec<_> = (0..nodes.len()).map(|i| program.matches(i, &e, &mut scratch)).collect();
        assert_eq!(got, [Some(true), Some(false), Some(true), Some(true), Some(true)]);
    }
}
