//! The console's state and what each action does to it, with no terminal: keys become
//! [`Command`]s, `update` changes the state and returns the work the worker should
//! do; answers come back through `apply`. Each screen's own state is in
//! [`super::state`]; what a command means across screens is here and in
//! `commands.rs`. Everything here is tested without a terminal or a store.

mod commands;
#[cfg(test)]
mod tests;

use super::keys::{self, Command, Context};
use super::protocol::{Answer, Job, Request, Vocabulary};
use super::search;
use super::state::{answers, ChartsState, DetailState, HelpState, Pending, QueueState, ResultsState, SearchesState};
use crate::store::Status;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Queue,
    Detail,
    Results,
    Charts,
    Searches,
    Help,
}

/// Which prompt is open, and for what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptKind {
    Search,
    Filter,
    /// A comment; with a status when it follows the status chooser.
    Comment(Option<Status>),
    Assign,
    Group,
    SaveSearch,
    Columns,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub text: String,
}

/// A small chooser drawn over the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Menu {
    Status,
    Pivot,
}

/// The console.
#[derive(Debug, Clone)]
pub struct App {
    pub screen: Screen,
    /// Where `esc` goes from the detail page and charts.
    pub back: Vec<Screen>,
    pub prompt: Option<Prompt>,
    pub menu: Option<Menu>,
    pub queue: QueueState,
    pub detail: DetailState,
    pub results: ResultsState,
    pub charts: ChartsState,
    pub searches: SearchesState,
    pub help: HelpState,
    pub pending: Pending,
    pub message: String,
    pub who: String,
    pub color: bool,
    pub quit: bool,
    /// The queue has been read once.
    pub loaded: bool,
    /// Rows a page of a list moves.
    pub page: usize,
    /// Views and columns for `tab` in the search prompt (asked for when it opens).
    pub vocabulary: Vocabulary,
}

impl App {
    pub fn new(who: &str, color: bool) -> App {
        App {
            screen: Screen::Queue,
            back: Vec::new(),
            prompt: None,
            menu: None,
            queue: QueueState::default(),
            detail: DetailState::default(),
            results: ResultsState::default(),
            charts: ChartsState::default(),
            searches: SearchesState::default(),
            help: HelpState::default(),
            pending: Pending::default(),
            message: String::new(),
            who: who.to_owned(),
            color,
            quit: false,
            loaded: false,
            page: 10,
            vocabulary: Vocabulary::default(),
        }
    }

    fn request(&mut self, job: Job) -> Request {
        self.pending.track(job)
    }

    /// The queue as it is specified now, read again from the store when `refresh`.
    fn queue_request(&mut self, refresh: bool) -> Request {
        self.request(Job::Queue { spec: self.queue.spec.clone(), refresh })
    }

    /// The first request: the queue.
    pub fn start(&mut self) -> Vec<Request> {
        vec![self.queue_request(false)]
    }

    /// The periodic refresh: the queue again, after re-reading the manifest (skipped
    /// while the last one is still out).
    pub fn tick_refresh(&mut self) -> Vec<Request> {
        if self.pending.queue.is_some() {
            return Vec::new();
        }
        vec![self.queue_request(true)]
    }

    /// True while a query this console waits for is out.
    pub fn busy(&self) -> bool {
        self.pending.busy()
    }

    /// The contexts a key is looked up in, most specific first.
    pub fn contexts(&self) -> Vec<Context> {
        if self.prompt.is_some() {
            return vec![Context::Prompt];
        }
        match self.menu {
            Some(Menu::Status) => return vec![Context::Status],
            Some(Menu::Pivot) => return vec![Context::Pivot],
            None => {}
        }
        match self.screen {
            Screen::Queue => vec![Context::Queue, Context::List, Context::Global],
            Screen::Detail => vec![Context::Detail, Context::Global],
            Screen::Results => vec![Context::Results, Context::List, Context::Global],
            Screen::Searches => vec![Context::Searches, Context::List, Context::Global],
            Screen::Help => vec![Context::List, Context::Global],
            Screen::Charts => vec![Context::Global],
        }
    }

    /// A key: text for an open prompt, else a command from the key table.
    pub fn key(&mut self, key: KeyEvent) -> Vec<Request> {
        if let Some(p) = &mut self.prompt {
            let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
            match key.code {
                KeyCode::Char('c') if ctrl => return self.update(Command::Back),
                KeyCode::Char('u') if ctrl => {
                    p.text.clear();
                    return Vec::new();
                }
                KeyCode::Char(c) if !ctrl => {
                    p.text.push(c);
                    return Vec::new();
                }
                KeyCode::Backspace => {
                    p.text.pop();
                    return Vec::new();
                }
                _ => {}
            }
        }
        match keys::lookup(&key, &self.contexts()) {
            Some(cmd) => self.update(cmd),
            None => {
                if self.menu.is_some() {
                    self.menu = None;
                }
                Vec::new()
            }
        }
    }

    /// Does what `cmd` asks; each group of commands has its handler in `commands.rs`.
    pub fn update(&mut self, cmd: Command) -> Vec<Request> {
        use Command as C;
        // Any other command closes a chooser; `esc` only closes it.
        if self.menu.is_some() && !matches!(cmd, C::SetStatus(_) | C::Pivot(_)) {
            self.menu = None;
            if cmd == C::Back {
                return Vec::new();
            }
        }
        match cmd {
            C::Quit | C::Help | C::Back | C::Up | C::Down | C::PageUp | C::PageDown | C::Top | C::Bottom => {
                self.navigate(cmd);
                Vec::new()
            }
            C::Open => self.open(),
            C::Refresh | C::ToggleClosed | C::CycleSort | C::Filter | C::Mark | C::Unmark => self.queue_command(cmd),
            C::StatusMenu | C::SetStatus(_) | C::Comment | C::Assign | C::Group | C::Ungroup => {
                self.triage_command(cmd)
            }
            C::Search | C::Searches | C::SaveSearch | C::Charts | C::Columns | C::Left | C::Right => {
                self.search_command(cmd)
            }
            C::PivotMenu | C::Pivot(_) | C::Extract | C::ShowGroup => self.pivot_command(cmd),
            C::Complete => {
                self.complete_prompt();
                Vec::new()
            }
            C::Submit => match self.prompt.take() {
                Some(p) => self.submit(p),
                None => Vec::new(),
            },
        }
    }

    /// An answer from the worker to request `id`. Answers to requests no longer
    /// waited for are dropped.
    pub fn apply(&mut self, id: u64, answer: Answer) -> Vec<Request> {
        match answer {
            Answer::Queue(r, damaged) => {
                if answers(&mut self.pending.queue, id) {
                    self.loaded = true;
                    self.queue.load(&r, damaged);
                }
            }
            Answer::Detail(d) => {
                if answers(&mut self.pending.detail, id) {
                    self.detail.detail = Some(d);
                }
            }
            Answer::Search(r) => {
                if answers(&mut self.pending.search, id) {
                    self.message = self.results.show(r);
                }
            }
            Answer::Charts(c) => {
                if answers(&mut self.pending.charts, id) {
                    self.charts.charts = Some(c);
                }
            }
            Answer::Searches(r) => {
                if answers(&mut self.pending.searches, id) {
                    self.searches.show(r);
                }
            }
            Answer::Vocabulary(v) => {
                if answers(&mut self.pending.vocabulary, id) {
                    self.vocabulary = v;
                }
            }
            Answer::Done(m) => return self.done(m),
            Answer::Failed(m) => {
                self.pending.forget(id);
                self.message = m;
            }
            Answer::Cancelled => self.pending.forget(id),
        }
        Vec::new()
    }

    /// An action changed the store: show it (the queue first: it re-reads the
    /// store, then the detail page).
    fn done(&mut self, message: String) -> Vec<Request> {
        self.message = message;
        let mut out = vec![self.queue_request(true)];
        if self.screen == Screen::Detail {
            if let Some(alert_id) = self.detail.alert_id() {
                out.push(self.request(Job::AlertDetail { alert_id }));
            }
        }
        out
    }

    /// The alerts an action applies to: the marked ones, else the one selected (or
    /// shown in detail).
    pub fn targets(&self) -> Vec<String> {
        if self.screen == Screen::Detail {
            return self.detail.alert_id().into_iter().collect();
        }
        self.queue.targets()
    }

    /// `tab` in the search or columns prompt: the last word completed from the
    /// store's views and columns; the candidates shown when more than one fits.
    fn complete_prompt(&mut self) {
        let Some(p) = &mut self.prompt else { return };
        let columns = match p.kind {
            PromptKind::Search => false,
            PromptKind::Columns => true,
            _ => return,
        };
        let text = if columns {
            // The columns of the view the results came from.
            format!("in:{} cols:{}", self.results.target.view(), p.text)
        } else {
            p.text.clone()
        };
        let (done, fits) = search::complete(&text, &self.vocabulary);
        p.text = match done.find(" cols:") {
            Some(i) if columns => done[i + 6..].to_owned(),
            _ => done,
        };
        self.message = crate::text::sanitize(&clip_list(&fits, 12));
    }

    fn open_prompt(&mut self, kind: PromptKind, text: &str) {
        self.prompt = Some(Prompt { kind, text: text.to_owned() });
    }

    fn go(&mut self, screen: Screen) {
        if self.screen != screen {
            self.back.push(self.screen);
            self.screen = screen;
        }
    }
}

/// The first `n` of `items`, space-separated, and how many more.
fn clip_list(items: &[String], n: usize) -> String {
    let mut s = items.iter().take(n).cloned().collect::<Vec<_>>().join("  ");
    if items.len() > n {
        s.push_str(&format!("  (+{} more)", items.len() - n));
    }
    s
}
