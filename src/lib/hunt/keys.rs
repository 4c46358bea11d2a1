//! The one key table: every binding with the screen it works on, the command it
//! gives and its help text. Dispatch reads it, and the `?` help is drawn from it, so
//! the two cannot disagree.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Everywhere (unless a prompt is open).
    Global,
    Queue,
    Detail,
    Results,
    /// Lists of rows: the queue, search results, saved searches.
    List,
    Searches,
    /// The status chooser.
    Status,
    /// The pivot chooser.
    Pivot,
    /// Any text prompt.
    Prompt,
}

impl Context {
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "everywhere",
            Context::List => "lists",
            Context::Queue => "alert queue",
            Context::Detail => "detail",
            Context::Results => "search results",
            Context::Searches => "saved and recent searches",
            Context::Status => "after s (status)",
            Context::Pivot => "after p (pivot)",
            Context::Prompt => "prompts",
        }
    }
}

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Quit,
    Help,
    Back,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Search,
    Searches,
    Refresh,
    Charts,
    Mark,
    Unmark,
    StatusMenu,
    SetStatus(crate::store::Status),
    Comment,
    Assign,
    Group,
    Ungroup,
    Filter,
    ToggleClosed,
    CycleSort,
    PivotMenu,
    Pivot(PivotKind),
    Extract,
    SaveSearch,
    /// Choose the result table's columns.
    Columns,
    /// Scroll the result table sideways.
    Left,
    Right,
    /// The queue, filtered to the shown alert's meta-alert.
    ShowGroup,
    Submit,
    /// Complete the word before the cursor in the search or columns prompt.
    Complete,
}

/// What a pivot looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PivotKind {
    CommunityId,
    Uid,
    Source,
    Destination,
}

/// One binding.
pub struct Binding {
    pub keys: &'static [(KeyCode, KeyModifiers)],
    pub context: Context,
    pub command: Command,
    pub help: &'static str,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;
const fn ch(c: char) -> (KeyCode, KeyModifiers) {
    (KeyCode::Char(c), NONE)
}

use crate::store::Status as S;
use Command as C;
use Context as X;

pub const KEYS: &[Binding] = &[
    Binding { keys: &[ch('q'), (KeyCode::Char('c'), CTRL)], context: X::Global, command: C::Quit, help: "quit" },
    Binding { keys: &[ch('?')], context: X::Global, command: C::Help, help: "this help" },
    Binding {
        keys: &[(KeyCode::Esc, NONE)],
        context: X::Global,
        command: C::Back,
        help: "back; cancel the running query",
    },
    Binding { keys: &[ch('/')], context: X::Global, command: C::Search, help: "search events or alerts" },
    Binding { keys: &[ch('L')], context: X::Global, command: C::Searches, help: "saved and recent searches" },
    Binding { keys: &[ch('C')], context: X::Global, command: C::Charts, help: "charts for the current list" },
    Binding { keys: &[ch('r')], context: X::Global, command: C::Refresh, help: "refresh now" },
    Binding { keys: &[ch('k'), (KeyCode::Up, NONE)], context: X::List, command: C::Up, help: "up" },
    Binding { keys: &[ch('j'), (KeyCode::Down, NONE)], context: X::List, command: C::Down, help: "down" },
    Binding {
        keys: &[(KeyCode::PageUp, NONE), (KeyCode::Char('u'), CTRL)],
        context: X::List,
        command: C::PageUp,
        help: "page up",
    },
    Binding {
        keys: &[(KeyCode::PageDown, NONE), (KeyCode::Char('d'), CTRL)],
        context: X::List,
        command: C::PageDown,
        help: "page down",
    },
    Binding { keys: &[ch('g'), (KeyCode::Home, NONE)], context: X::List, command: C::Top, help: "first row" },
    Binding { keys: &[ch('G'), (KeyCode::End, NONE)], context: X::List, command: C::Bottom, help: "last row" },
    Binding { keys: &[(KeyCode::Enter, NONE)], context: X::List, command: C::Open, help: "open (detail, or run)" },
    Binding { keys: &[ch(' ')], context: X::Queue, command: C::Mark, help: "mark or unmark the alert" },
    Binding { keys: &[ch('U')], context: X::Queue, command: C::Unmark, help: "unmark all" },
    Binding {
        keys: &[ch('s')],
        context: X::Queue,
        command: C::StatusMenu,
        help: "set status (marked alerts, else this one)",
    },
    Binding { keys: &[ch('c')], context: X::Queue, command: C::Comment, help: "comment" },
    Binding { keys: &[ch('a')], context: X::Queue, command: C::Assign, help: "assign" },
    Binding { keys: &[ch('m')], context: X::Queue, command: C::Group, help: "group marked alerts into a meta-alert" },
    Binding { keys: &[ch('M')], context: X::Queue, command: C::Ungroup, help: "take alerts out of their meta-alert" },
    Binding {
        keys: &[ch('f')],
        context: X::Queue,
        command: C::Filter,
        help: "filter (search terms: priority=HIGH rule~dns text)",
    },
    Binding {
        keys: &[ch('z')],
        context: X::Queue,
        command: C::ToggleClosed,
        help: "show or hide resolved and dismissed",
    },
    Binding { keys: &[ch('o')], context: X::Queue, command: C::CycleSort, help: "sort by score, time, priority" },
    Binding { keys: &[ch('k'), (KeyCode::Up, NONE)], context: X::Detail, command: C::Up, help: "scroll up" },
    Binding { keys: &[ch('j'), (KeyCode::Down, NONE)], context: X::Detail, command: C::Down, help: "scroll down" },
    Binding {
        keys: &[(KeyCode::PageUp, NONE), (KeyCode::Char('u'), CTRL)],
        context: X::Detail,
        command: C::PageUp,
        help: "page up",
    },
    Binding {
        keys: &[(KeyCode::PageDown, NONE), (KeyCode::Char('d'), CTRL)],
        context: X::Detail,
        command: C::PageDown,
        help: "page down",
    },
    Binding { keys: &[ch('s')], context: X::Detail, command: C::StatusMenu, help: "set status" },
    Binding { keys: &[ch('c')], context: X::Detail, command: C::Comment, help: "comment" },
    Binding { keys: &[ch('a')], context: X::Detail, command: C::Assign, help: "assign" },
    Binding { keys: &[ch('m')], context: X::Detail, command: C::Group, help: "group into a meta-alert" },
    Binding { keys: &[ch('M')], context: X::Detail, command: C::Ungroup, help: "ungroup" },
    Binding {
        keys: &[ch('f')],
        context: X::Detail,
        command: C::ShowGroup,
        help: "list this alert's meta-alert in the queue",
    },
    Binding { keys: &[ch('p')], context: X::Detail, command: C::PivotMenu, help: "pivot to related events" },
    Binding { keys: &[ch('x')], context: X::Detail, command: C::Extract, help: "extract the flow's packets (pcap)" },
    Binding { keys: &[ch('p')], context: X::Results, command: C::PivotMenu, help: "pivot from this row" },
    Binding { keys: &[ch('w')], context: X::Results, command: C::SaveSearch, help: "save this search" },
    Binding {
        keys: &[ch('c')],
        context: X::Results,
        command: C::Columns,
        help: "choose the columns (names, comma-separated)",
    },
    Binding {
        keys: &[ch('h'), (KeyCode::Left, NONE)],
        context: X::Results,
        command: C::Left,
        help: "scroll the columns left",
    },
    Binding {
        keys: &[ch('l'), (KeyCode::Right, NONE)],
        context: X::Results,
        command: C::Right,
        help: "scroll the columns right",
    },
    Binding { keys: &[ch('x')], context: X::Results, command: C::Extract, help: "extract the flow's packets (pcap)" },
    Binding { keys: &[ch('n')], context: X::Status, command: C::SetStatus(S::New), help: "NEW" },
    Binding { keys: &[ch('o')], context: X::Status, command: C::SetStatus(S::Open), help: "OPEN" },
    Binding { keys: &[ch('e')], context: X::Status, command: C::SetStatus(S::Escalate), help: "ESCALATE" },
    Binding { keys: &[ch('d')], context: X::Status, command: C::SetStatus(S::Dismiss), help: "DISMISS" },
    Binding { keys: &[ch('r')], context: X::Status, command: C::SetStatus(S::Resolve), help: "RESOLVE" },
    Binding {
        keys: &[ch('c')],
        context: X::Pivot,
        command: C::Pivot(PivotKind::CommunityId),
        help: "same community_id",
    },
    Binding { keys: &[ch('u')], context: X::Pivot, command: C::Pivot(PivotKind::Uid), help: "same uid / flow_id" },
    Binding { keys: &[ch('s')], context: X::Pivot, command: C::Pivot(PivotKind::Source), help: "same source IP, ±1h" },
    Binding {
        keys: &[ch('d')],
        context: X::Pivot,
        command: C::Pivot(PivotKind::Destination),
        help: "same destination IP, ±1h",
    },
    Binding { keys: &[(KeyCode::Enter, NONE)], context: X::Prompt, command: C::Submit, help: "accept" },
    Binding { keys: &[(KeyCode::Esc, NONE)], context: X::Prompt, command: C::Back, help: "cancel" },
    Binding {
        keys: &[(KeyCode::Tab, NONE)],
        context: X::Prompt,
        command: C::Complete,
        help: "complete a field, in:view or cols: name (search and columns prompts)",
    },
];

/// The command for `key` in the first of `contexts` that binds it.
pub fn lookup(key: &KeyEvent, contexts: &[Context]) -> Option<Command> {
    // Shifted letters arrive as the upper-case char, sometimes with SHIFT set.
    let mods = key.modifiers - KeyModifiers::SHIFT;
    for ctx in contexts {
        for b in KEYS.iter().filter(|b| b.context == *ctx) {
            if b.keys.iter().any(|(code, m)| *code == key.code && *m == mods) {
                return Some(b.command);
            }
        }
    }
    None
}

/// A key as help shows it: `j`, `ctrl-d`, `enter`, `space`.
pub fn key_name(code: KeyCode, mods: KeyModifiers) -> String {
    let base = match code {
        KeyCode::Char(' ') => "space".to_owned(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Up => "↑".into(),
        KeyCode::Down => "↓".into(),
        KeyCode::Left => "←".into(),
        KeyCode::Right => "→".into(),
        KeyCode::PageUp => "pgup".into(),
        KeyCode::PageDown => "pgdn".into(),
        KeyCode::Home => "home".into(),
        KeyCode::End => "end".into(),
        KeyCode::Enter => "enter".into(),
        KeyCode::Esc => "esc".into(),
        other => format!("{other:?}").to_lowercase(),
    };
    if mods.contains(KeyModifiers::CONTROL) {
        format!("ctrl-{base}")
    } else {
        base
    }
}

/// The help lines: for each context in order, `keys  help`.
pub fn help_lines() -> Vec<(Context, String, &'static str)> {
    let order = [X::Global, X::List, X::Queue, X::Detail, X::Results, X::Searches, X::Status, X::Pivot, X::Prompt];
    let mut out = Vec::new();
    for ctx in order {
        for b in KEYS.iter().filter(|b| b.context == ctx) {
            let keys: Vec<String> = b.keys.iter().map(|(c, m)| key_name(*c, *m)).collect();
            out.push((ctx, keys.join(" "), b.help));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), NONE)
    }

    #[test]
    fn contexts_are_tried_in_order() {
        assert_eq!(lookup(&key('r'), &[X::Status, X::Global]), Some(C::SetStatus(S::Resolve)));
        assert_eq!(lookup(&key('e'), &[X::Status]), Some(C::SetStatus(S::Escalate)));
        assert_eq!(lookup(&key('s'), &[X::Queue, X::List, X::Global]), Some(C::StatusMenu));
        assert_eq!(lookup(&key('j'), &[X::Queue, X::List, X::Global]), Some(C::Down));
        assert_eq!(lookup(&key('q'), &[X::Queue, X::List, X::Global]), Some(C::Quit));
        assert_eq!(lookup(&KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT), &[X::List]), Some(C::Bottom));
        assert_eq!(lookup(&KeyEvent::new(KeyCode::Char('d'), CTRL), &[X::List]), Some(C::PageDown));
        assert_eq!(lookup(&key('y'), &[X::Queue, X::List, X::Global]), None);
    }

    #[test]
    fn no_key_is_bound_twice_in_one_context() {
        let mut seen = std::collections::HashSet::new();
        for b in KEYS {
            for k in b.keys {
                assert!(seen.insert((format!("{:?}", b.context), k.0, k.1)), "{:?} twice in {:?}", k, b.context);
            }
        }
    }

    #[test]
    fn help_comes_from_the_table() {
        let lines = help_lines();
        assert_eq!(lines.len(), KEYS.len());
        assert!(lines.iter().any(|(c, k, h)| *c == X::Global && k == "q ctrl-c" && *h == "quit"));
    }
}
