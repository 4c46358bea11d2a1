//! The console's state and what each action does to it, with no terminal: keys become
//! [`Command`]s, `update` changes the state and returns the work the worker should
//! do; results come back through `apply`. Everything here is tested without a
//! terminal or a store.

use super::keys::{self, Command, Context, PivotKind};
use super::search::{self, Target};
use super::worker::SEARCH_LIMIT;
use crate::store::{cell_text, QueryResult, SqlValue, Status, TriageAction};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::Value;
use std::collections::BTreeSet;

/// How long around an event a pivot on an address looks.
pub const PIVOT_WINDOW_MS: i64 = 3_600_000;
/// Alerts the queue holds at most.
pub const QUEUE_LIMIT: u64 = 2000;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Score,
    Time,
    Priority,
}

impl SortKey {
    pub fn name(self) -> &'static str {
        match self {
            SortKey::Score => "score",
            SortKey::Time => "time",
            SortKey::Priority => "priority",
        }
    }
}

/// What the queue shows: the query the worker turns into SQL.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSpec {
    pub sort: SortKey,
    pub show_closed: bool,
    /// Search-language terms over the alerts view.
    pub filter: String,
}

/// One alert in the queue.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertRow {
    pub alert_id: String,
    pub time: Option<i64>,
    pub score: Option<f64>,
    pub priority: String,
    pub status: String,
    pub rule: String,
    pub description: String,
    pub src: String,
    pub dst: String,
    pub src_country: String,
    pub dst_country: String,
    pub source_type: String,
    pub count: i64,
    pub meta_alert: String,
    pub assignee: String,
    pub event_guid: String,
}

impl AlertRow {
    /// The row from a queue query's result (columns named as in `queue_sql`).
    pub fn from_result(r: &QueryResult, i: usize) -> AlertRow {
        let s = |c: &str| r.get(i, c).map(cell_text).unwrap_or_default();
        AlertRow {
            alert_id: s("alert_id"),
            time: r.get(i, "t").and_then(Value::as_i64),
            score: r.get(i, "score").and_then(Value::as_f64),
            priority: s("priority"),
            status: s("status"),
            rule: s("rule"),
            description: s("description"),
            src: s("ip_src_addr"),
            dst: s("ip_dst_addr"),
            src_country: s("src_country"),
            dst_country: s("dst_country"),
            source_type: s("stype"),
            count: r.get(i, "count").and_then(Value::as_i64).unwrap_or(1),
            meta_alert: s("meta_alert"),
            assignee: s("assignee"),
            event_guid: s("event_guid"),
        }
    }
}

/// Everything the detail page shows, as fields (name, value) from the store.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Detail {
    pub alert_id: Option<String>,
    /// The alert's own row (empty for an event).
    pub alert: Vec<(String, Value)>,
    /// The triggering event, or the event itself.
    pub event: Vec<(String, Value)>,
    /// Triage history: time, who, status, comment, assignee, meta-alert.
    pub history: Vec<Vec<Value>>,
    /// Other alerts in the same meta-alert.
    pub group: Vec<String>,
}

impl Detail {
    /// A field of the event, else of the alert.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.event.iter().chain(self.alert.iter()).find(|(n, v)| n == name && !v.is_null()).map(|(_, v)| v)
    }
}

/// Chart data: title and (label, value) bars; a timeline has time labels.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Charts {
    pub about: String,
    pub timeline: Vec<(String, u64)>,
    pub bars: Vec<(String, Vec<(String, u64)>)>,
}

/// Work for the worker.
#[derive(Debug, Clone, PartialEq)]
pub enum Job {
    /// Re-read the manifest first when `refresh`.
    Queue {
        spec: QueueSpec,
        refresh: bool,
    },
    AlertDetail {
        alert_id: String,
    },
    EventDetail {
        row: Vec<(String, Value)>,
    },
    Search {
        text: String,
        who: String,
        remember: bool,
    },
    Charts {
        text: Option<String>,
    },
    Triage(TriageAction),
    SaveSearch {
        name: String,
        query: String,
        who: String,
    },
    Searches,
    Extract {
        community_id: String,
    },
}

/// A job with the id its answer will carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub id: u64,
    pub job: Job,
}

/// An answer from the worker.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The queue, and the store's segments left out because they cannot be read.
    Queue(QueryResult, Vec<String>),
    Detail(Detail),
    Search(QueryResult),
    Charts(Charts),
    Searches(QueryResult),
    /// A finished action, with what to tell the user.
    Done(String),
    Failed(String),
    Cancelled,
}

/// The console.
#[derive(Debug, Clone)]
pub struct App {
    pub screen: Screen,
    /// Where `esc` goes from the detail page and charts.
    pub back: Vec<Screen>,
    pub prompt: Option<Prompt>,
    pub menu: Option<Menu>,
    pub spec: QueueSpec,
    pub alerts: Vec<AlertRow>,
    /// More alerts match than the queue holds (`QUEUE_LIMIT`).
    pub queue_more: bool,
    /// Segments of the store that cannot be read and are left out (file: why).
    pub damaged: Vec<String>,
    pub selected: usize,
    pub marked: BTreeSet<String>,
    pub detail: Option<Detail>,
    pub detail_scroll: u16,
    pub help_scroll: u16,
    pub search_text: String,
    pub results: Option<QueryResult>,
    /// The columns the results table shows (the search's `cols:`, else a default).
    pub result_columns: Vec<String>,
    pub result_target: Target,
    /// The search's own `limit:`, if it set one.
    pub result_limit: Option<u64>,
    pub result_selected: usize,
    /// How many of the chosen columns the table scrolls past on the left.
    pub result_offset: usize,
    pub charts: Option<Charts>,
    pub searches: Option<QueryResult>,
    pub searches_selected: usize,
    pub message: String,
    pub who: String,
    pub color: bool,
    pub quit: bool,
    pub loaded: bool,
    pub page: usize,
    next_id: u64,
    /// The latest request of each kind; older answers are dropped.
    pub want_queue: Option<u64>,
    pub want_detail: Option<u64>,
    pub want_search: Option<u64>,
    pub want_charts: Option<u64>,
    pub want_searches: Option<u64>,
}

impl App {
    pub fn new(who: &str, color: bool) -> App {
        App {
            screen: Screen::Queue,
            back: Vec::new(),
            prompt: None,
            menu: None,
            spec: QueueSpec { sort: SortKey::Score, show_closed: false, filter: String::new() },
            alerts: Vec::new(),
            queue_more: false,
            damaged: Vec::new(),
            selected: 0,
            marked: BTreeSet::new(),
            detail: None,
            detail_scroll: 0,
            help_scroll: 0,
            search_text: String::new(),
            results: None,
            result_columns: Vec::new(),
            result_target: Target::Events,
            result_limit: None,
            result_selected: 0,
            result_offset: 0,
            charts: None,
            searches: None,
            searches_selected: 0,
            message: String::new(),
            who: who.to_owned(),
            color,
            quit: false,
            loaded: false,
            page: 10,
            next_id: 0,
            want_queue: None,
            want_detail: None,
            want_search: None,
            want_charts: None,
            want_searches: None,
        }
    }

    fn request(&mut self, job: Job) -> Request {
        self.next_id += 1;
        let id = self.next_id;
        match &job {
            Job::Queue { .. } => self.want_queue = Some(id),
            Job::AlertDetail { .. } | Job::EventDetail { .. } => self.want_detail = Some(id),
            Job::Search { .. } => self.want_search = Some(id),
            Job::Charts { .. } => self.want_charts = Some(id),
            Job::Searches => self.want_searches = Some(id),
            _ => {}
        }
        Request { id, job }
    }

    /// The first request: the queue.
    pub fn start(&mut self) -> Vec<Request> {
        vec![self.request(Job::Queue { spec: self.spec.clone(), refresh: false })]
    }

    /// The periodic refresh: the queue again, after re-reading the manifest (skipped
    /// while the last one is still out).
    pub fn tick_refresh(&mut self) -> Vec<Request> {
        if self.want_queue.is_some() {
            return Vec::new();
        }
        vec![self.request(Job::Queue { spec: self.spec.clone(), refresh: true })]
    }

    /// True while a query this console waits for is out.
    pub fn busy(&self) -> bool {
        self.want_queue.is_some()
            || self.want_detail.is_some()
            || self.want_search.is_some()
            || self.want_charts.is_some()
            || self.want_searches.is_some()
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

    /// The alerts an action applies to: the marked ones, else the one selected (or
    /// shown in detail).
    pub fn targets(&self) -> Vec<String> {
        if self.screen == Screen::Detail {
            if let Some(id) = self.detail.as_ref().and_then(|d| d.alert_id.clone()) {
                return vec![id];
            }
            return Vec::new();
        }
        if !self.marked.is_empty() {
            return self.marked.iter().cloned().collect();
        }
        self.alerts.get(self.selected).map(|a| vec![a.alert_id.clone()]).unwrap_or_default()
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

    fn triage(&mut self, f: impl FnOnce(&mut TriageAction)) -> Vec<Request> {
        let ids = self.targets();
        if ids.is_empty() {
            self.message = "no alert here".into();
            return Vec::new();
        }
        let mut action = TriageAction { alert_ids: ids, who: self.who.clone(), ..Default::default() };
        f(&mut action);
        vec![self.request(Job::Triage(action))]
    }

    /// Does what `cmd` asks.
    pub fn update(&mut self, cmd: Command) -> Vec<Request> {
        let mut out = Vec::new();
        if self.menu.is_some() && !matches!(cmd, Command::SetStatus(_) | Command::Pivot(_)) {
            self.menu = None;
            if cmd == Command::Back {
                return out;
            }
        }
        match cmd {
            Command::Quit => self.quit = true,
            Command::Help => {
                self.help_scroll = 0;
                self.go(Screen::Help);
            }
            Command::Back => {
                if self.prompt.take().is_some() {
                    return out;
                }
                if self.busy() {
                    // The caller interrupts the worker; answers to these are dropped.
                    self.want_search = None;
                    self.want_charts = None;
                    self.want_detail = None;
                    self.message = "cancelled".into();
                }
                if let Some(prev) = self.back.pop() {
                    self.screen = prev;
                } else if self.screen != Screen::Queue {
                    self.screen = Screen::Queue;
                }
            }
            Command::Up => self.move_by(-1),
            Command::Down => self.move_by(1),
            Command::PageUp => self.move_by(-(self.page as i64)),
            Command::PageDown => self.move_by(self.page as i64),
            Command::Top => self.move_by(i64::MIN / 2),
            Command::Bottom => self.move_by(i64::MAX / 2),
            Command::Open => match self.screen {
                Screen::Queue => {
                    if let Some(a) = self.alerts.get(self.selected) {
                        let alert_id = a.alert_id.clone();
                        self.detail = None;
                        self.detail_scroll = 0;
                        self.go(Screen::Detail);
                        out.push(self.request(Job::AlertDetail { alert_id }));
                    }
                }
                Screen::Results => {
                    if let Some(row) = self.result_row(self.result_selected) {
                        self.detail = None;
                        self.detail_scroll = 0;
                        self.go(Screen::Detail);
                        let job = match field(&row, "alert_id") {
                            Some(alert_id) if self.result_target == Target::Alerts => Job::AlertDetail { alert_id },
                            _ => Job::EventDetail { row },
                        };
                        out.push(self.request(job));
                    }
                }
                Screen::Searches => {
                    let q = self
                        .searches
                        .as_ref()
                        .and_then(|r| r.get(self.searches_selected, "query"))
                        .map(cell_text)
                        .unwrap_or_default();
                    if !q.is_empty() {
                        out.extend(self.run_search(&q));
                    }
                }
                _ => {}
            },
            Command::Search => {
                let text = self.search_text.clone();
                self.open_prompt(PromptKind::Search, &text);
            }
            Command::Searches => {
                self.go(Screen::Searches);
                out.push(self.request(Job::Searches));
            }
            Command::Refresh => {
                out.push(self.request(Job::Queue { spec: self.spec.clone(), refresh: true }));
            }
            Command::Charts => {
                let text = if self.screen == Screen::Results { Some(self.search_text.clone()) } else { None };
                self.charts = None;
                self.go(Screen::Charts);
                out.push(self.request(Job::Charts { text }));
            }
            Command::Mark => {
                if let Some(a) = self.alerts.get(self.selected) {
                    if !self.marked.remove(&a.alert_id) {
                        self.marked.insert(a.alert_id.clone());
                    }
                    self.move_by(1);
                }
            }
            Command::Unmark => self.marked.clear(),
            Command::StatusMenu => {
                if self.targets().is_empty() {
                    self.message = "no alert here".into();
                } else {
                    self.menu = Some(Menu::Status);
                }
            }
            Command::SetStatus(s) => {
                self.menu = None;
                self.open_prompt(PromptKind::Comment(Some(s)), "");
            }
            Command::Comment => self.open_prompt(PromptKind::Comment(None), ""),
            Command::Assign => self.open_prompt(PromptKind::Assign, &self.who.clone()),
            Command::Group => {
                let id = format!("meta-{}", crate::event::new_guid());
                self.open_prompt(PromptKind::Group, &id);
            }
            Command::Ungroup => out.extend(self.triage(|a| a.meta_alert = Some(String::new()))),
            Command::Filter => {
                let f = self.spec.filter.clone();
                self.open_prompt(PromptKind::Filter, &f);
            }
            Command::ToggleClosed => {
                self.spec.show_closed = !self.spec.show_closed;
                out.push(self.request(Job::Queue { spec: self.spec.clone(), refresh: false }));
            }
            Command::CycleSort => {
                self.spec.sort = match self.spec.sort {
                    SortKey::Score => SortKey::Time,
                    SortKey::Time => SortKey::Priority,
                    SortKey::Priority => SortKey::Score,
                };
                out.push(self.request(Job::Queue { spec: self.spec.clone(), refresh: false }));
            }
            Command::PivotMenu => {
                if self.pivot_source().is_some() {
                    self.menu = Some(Menu::Pivot);
                } else {
                    self.message = "nothing to pivot from here".into();
                }
            }
            Command::Pivot(kind) => {
                self.menu = None;
                match self.pivot_search(kind) {
                    Ok(q) => out.extend(self.run_search(&q)),
                    Err(m) => self.message = m,
                }
            }
            Command::Extract => {
                let cid = self.pivot_source().and_then(|f| field(&f, "community_id"));
                match cid {
                    Some(community_id) => {
                        self.message = format!("extracting packets of {community_id} …");
                        out.push(self.request(Job::Extract { community_id }));
                    }
                    None => self.message = "this row has no community_id: no flow to extract".into(),
                }
            }
            Command::SaveSearch => {
                if self.search_text.is_empty() {
                    self.message = "no search to save".into();
                } else {
                    self.open_prompt(PromptKind::SaveSearch, "");
                }
            }
            Command::Columns => match &self.results {
                Some(r) => {
                    let shown = self.shown_columns(r).join(",");
                    self.open_prompt(PromptKind::Columns, &shown);
                }
                None => self.message = "no results to choose columns of".into(),
            },
            Command::Left => self.result_offset = self.result_offset.saturating_sub(1),
            Command::Right => {
                let n = self.results.as_ref().map_or(0, |r| self.shown_columns(r).len());
                self.result_offset = (self.result_offset + 1).min(n.saturating_sub(1));
            }
            Command::ShowGroup => match self.detail.as_ref().and_then(|d| field(&d.alert, "meta_alert")) {
                Some(meta) => {
                    self.spec.filter = format!("meta_alert='{}'", meta.replace('\'', "''"));
                    self.spec.show_closed = true;
                    self.selected = 0;
                    self.back.clear();
                    self.screen = Screen::Queue;
                    self.message = format!("meta-alert {meta} (f changes the filter, z hides closed alerts)");
                    out.push(self.request(Job::Queue { spec: self.spec.clone(), refresh: false }));
                }
                None => self.message = "this alert is in no meta-alert (m groups alerts)".into(),
            },
            Command::Submit => {
                if let Some(p) = self.prompt.take() {
                    out.extend(self.submit(p));
                }
            }
        }
        out
    }

    fn submit(&mut self, p: Prompt) -> Vec<Request> {
        let text = p.text.trim().to_owned();
        match p.kind {
            PromptKind::Search => {
                if text.is_empty() {
                    return Vec::new();
                }
                self.run_search(&text)
            }
            PromptKind::Filter => {
                let probe = format!("in:alerts {text}");
                if let Err(e) = search::parse(&probe, 0) {
                    self.message = format!("filter: {e}");
                    return Vec::new();
                }
                self.spec.filter = text;
                self.selected = 0;
                vec![self.request(Job::Queue { spec: self.spec.clone(), refresh: false })]
            }
            PromptKind::Comment(status) => {
                if status.is_none() && text.is_empty() {
                    return Vec::new();
                }
                let comment = if text.is_empty() { None } else { Some(text) };
                self.triage(|a| {
                    a.status = status;
                    a.comment = comment;
                })
            }
            PromptKind::Assign => {
                if text.is_empty() {
                    return Vec::new();
                }
                self.triage(|a| a.assignee = Some(text))
            }
            PromptKind::Group => {
                if text.is_empty() {
                    return Vec::new();
                }
                self.triage(|a| a.meta_alert = Some(text))
            }
            PromptKind::Columns => self.choose_columns(&text),
            PromptKind::SaveSearch => {
                if text.is_empty() {
                    return Vec::new();
                }
                let query = self.search_text.clone();
                vec![self.request(Job::SaveSearch { name: text, query, who: self.who.clone() })]
            }
        }
    }

    /// The chosen columns the results have, in the chosen order; all of them when
    /// none of the chosen ones is there.
    pub fn shown_columns(&self, r: &QueryResult) -> Vec<String> {
        let shown: Vec<String> = self.result_columns.iter().filter(|c| r.columns.contains(c)).cloned().collect();
        if shown.is_empty() {
            r.columns.clone()
        } else {
            shown
        }
    }

    /// The columns prompt: names separated by commas or spaces; empty shows every
    /// column the search returned. Columns the results lack are fetched by running
    /// the search again with them when it chose its columns (`cols:`), and are
    /// named as unknown otherwise (the search already returned every column).
    fn choose_columns(&mut self, text: &str) -> Vec<Request> {
        let Some(r) = &self.results else { return Vec::new() };
        let cols: Vec<String> =
            text.split([',', ' ']).map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect();
        self.result_offset = 0;
        if cols.is_empty() {
            self.result_columns = r.columns.clone();
            return Vec::new();
        }
        let missing: Vec<&str> = cols.iter().filter(|c| !r.columns.contains(c)).map(String::as_str).collect();
        if missing.is_empty() {
            self.result_columns = cols;
            return Vec::new();
        }
        let chose = search::parse(&self.search_text, 0).is_ok_and(|s| !s.columns.is_empty());
        if chose {
            return match search::with_columns(&self.search_text, &cols) {
                Ok(q) => self.run_search(&q),
                Err(e) => {
                    self.message = format!("search: {e}");
                    Vec::new()
                }
            };
        }
        self.message = format!("no column {} here (enter on a row shows every field)", missing.join(", "));
        Vec::new()
    }

    /// Runs a search (parsed here first, so that errors show at once).
    pub fn run_search(&mut self, text: &str) -> Vec<Request> {
        let parsed = match search::parse(text, 0) {
            Ok(s) => s,
            Err(e) => {
                self.message = format!("search: {e}");
                self.search_text = text.to_owned();
                return Vec::new();
            }
        };
        self.result_target = parsed.target;
        self.result_limit = parsed.limit;
        self.result_columns = if parsed.columns.is_empty() {
            let d: &[&str] = match parsed.target {
                Target::Events => &search::DEFAULT_EVENT_COLUMNS,
                Target::Alerts => &search::DEFAULT_ALERT_COLUMNS,
            };
            d.iter().map(|c| (*c).to_owned()).collect()
        } else {
            parsed.columns
        };
        self.search_text = text.to_owned();
        self.results = None;
        self.result_selected = 0;
        self.result_offset = 0;
        if self.screen != Screen::Results {
            self.go(Screen::Results);
        }
        self.message = String::new();
        vec![self.request(Job::Search { text: text.to_owned(), who: self.who.clone(), remember: true })]
    }

    /// Fields of search result row `i`.
    pub fn result_row(&self, i: usize) -> Option<Vec<(String, Value)>> {
        let r = self.results.as_ref()?;
        let row = r.rows.get(i)?;
        Some(r.columns.iter().cloned().zip(row.iter().cloned()).collect())
    }

    /// The fields a pivot or an extraction starts from: the detail's event, or the
    /// selected search result.
    pub fn pivot_source(&self) -> Option<Vec<(String, Value)>> {
        match self.screen {
            Screen::Detail => {
                let d = self.detail.as_ref()?;
                Some(d.event.iter().chain(d.alert.iter()).cloned().collect())
            }
            Screen::Results => self.result_row(self.result_selected),
            _ => None,
        }
    }

    /// The search a pivot runs.
    pub fn pivot_search(&self, kind: PivotKind) -> Result<String, String> {
        let f = self.pivot_source().ok_or("nothing to pivot from here")?;
        let quote = |v: &str| format!("'{}'", v.replace('\'', "''"));
        match kind {
            PivotKind::CommunityId => field(&f, "community_id")
                .map(|c| format!("community_id={}", quote(&c)))
                .ok_or_else(|| "no community_id here".to_owned()),
            PivotKind::Uid => {
                for name in ["uid", "flow_id"] {
                    if let Some(v) = field(&f, name) {
                        return Ok(format!("{name}={}", quote(&v)));
                    }
                }
                Err("no uid or flow_id here".into())
            }
            PivotKind::Source | PivotKind::Destination => {
                let name = if kind == PivotKind::Source { "ip_src_addr" } else { "ip_dst_addr" };
                let ip = field(&f, name).ok_or_else(|| format!("no {name} here"))?;
                let t = field(&f, "timestamp").and_then(|t| t.parse::<i64>().ok());
                let mut q = format!("ip_src_addr={ip0} ", ip0 = quote(&ip));
                if kind == PivotKind::Destination {
                    q = format!("ip_dst_addr={} ", quote(&ip));
                }
                if let Some(t) = t {
                    q.push_str(&format!("since {} until {}", t - PIVOT_WINDOW_MS, t + PIVOT_WINDOW_MS));
                }
                Ok(q.trim().to_owned())
            }
        }
    }

    fn move_by(&mut self, delta: i64) {
        let (len, sel) = match self.screen {
            Screen::Queue => (self.alerts.len(), &mut self.selected),
            Screen::Results => (self.results.as_ref().map_or(0, |r| r.rows.len()), &mut self.result_selected),
            Screen::Searches => (self.searches.as_ref().map_or(0, |r| r.rows.len()), &mut self.searches_selected),
            Screen::Detail => {
                let s = i64::from(self.detail_scroll).saturating_add(delta).clamp(0, i64::from(u16::MAX));
                self.detail_scroll = s as u16;
                return;
            }
            Screen::Help => {
                let s = i64::from(self.help_scroll).saturating_add(delta).clamp(0, i64::from(u16::MAX));
                self.help_scroll = s as u16;
                return;
            }
            _ => return,
        };
        if len == 0 {
            *sel = 0;
            return;
        }
        let to = (*sel as i64).saturating_add(delta).clamp(0, len as i64 - 1);
        *sel = to as usize;
    }

    /// An answer from the worker to request `id`.
    pub fn apply(&mut self, id: u64, answer: Answer) -> Vec<Request> {
        let mut out = Vec::new();
        match answer {
            Answer::Queue(r, damaged) => {
                if self.want_queue != Some(id) {
                    return out;
                }
                self.want_queue = None;
                self.damaged = damaged;
                self.loaded = true;
                let keep = self.alerts.get(self.selected).map(|a| a.alert_id.clone());
                // The query asks for one more than the queue holds.
                let n = r.rows.len().min(QUEUE_LIMIT as usize);
                self.queue_more = r.rows.len() > n;
                self.alerts = (0..n).map(|i| AlertRow::from_result(&r, i)).collect();
                // The selection stays on the same alert when it is still listed.
                if let Some(keep) = keep {
                    if let Some(i) = self.alerts.iter().position(|a| a.alert_id == keep) {
                        self.selected = i;
                    }
                }
                self.selected = self.selected.min(self.alerts.len().saturating_sub(1));
            }
            Answer::Detail(d) => {
                if self.want_detail == Some(id) {
                    self.want_detail = None;
                    self.detail = Some(d);
                }
            }
            Answer::Search(mut r) => {
                if self.want_search == Some(id) {
                    self.want_search = None;
                    // Without a limit of its own, a search is asked for one row more
                    // than is shown, to tell that there are more.
                    let shown = SEARCH_LIMIT as usize;
                    if self.result_limit.is_none() && r.rows.len() > shown {
                        r.rows.truncate(shown);
                        self.message = format!("the first {shown} rows (limit:N shows more, sort: orders)");
                    } else {
                        self.message = format!("{} rows", r.rows.len());
                    }
                    self.results = Some(r);
                }
            }
            Answer::Charts(c) => {
                if self.want_charts == Some(id) {
                    self.want_charts = None;
                    self.charts = Some(c);
                }
            }
            Answer::Searches(r) => {
                if self.want_searches == Some(id) {
                    self.want_searches = None;
                    self.searches = Some(r);
                    self.searches_selected = 0;
                }
            }
            Answer::Done(m) => {
                self.message = m;
                // An action changed the store: show it (the queue first: it re-reads
                // the store, then the detail page).
                out.push(self.request(Job::Queue { spec: self.spec.clone(), refresh: true }));
                if self.screen == Screen::Detail {
                    if let Some(alert_id) = self.detail.as_ref().and_then(|d| d.alert_id.clone()) {
                        out.push(self.request(Job::AlertDetail { alert_id }));
                    }
                }
            }
            Answer::Failed(m) => {
                self.forget(id);
                self.message = m;
            }
            Answer::Cancelled => {
                self.forget(id);
            }
        }
        out
    }

    fn forget(&mut self, id: u64) {
        for w in [
            &mut self.want_queue,
            &mut self.want_detail,
            &mut self.want_search,
            &mut self.want_charts,
            &mut self.want_searches,
        ] {
            if *w == Some(id) {
                *w = None;
            }
        }
    }
}

/// A field's text, when present and not empty.
pub fn field(fields: &[(String, Value)], name: &str) -> Option<String> {
    fields.iter().find(|(n, v)| n == name && !v.is_null()).map(|(_, v)| cell_text(v)).filter(|s| !s.is_empty())
}

/// Which optional columns the alerts view has (probed with DESCRIBE).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertColumns {
    pub src_country: bool,
    pub dst_country: bool,
    pub event_source_type: bool,
}

impl AlertColumns {
    pub fn from_names(names: &[String]) -> AlertColumns {
        let has = |c: &str| names.iter().any(|n| n == c);
        AlertColumns {
            src_country: has("enrichments.geo.ip_src_addr.country"),
            dst_country: has("enrichments.geo.ip_dst_addr.country"),
            event_source_type: has("event_source_type"),
        }
    }
}

/// The queue's SQL and parameters: alerts, newest state, filtered and sorted.
pub fn queue_sql(spec: &QueueSpec, cols: &AlertColumns) -> Result<(String, Vec<SqlValue>), String> {
    let filter = search::parse(&format!("in:alerts {}", spec.filter), crate::event::now_ms())
        .map_err(|e| format!("filter: {e}"))?;
    debug_assert_eq!(filter.target, Target::Alerts);
    let opt = |present: bool, col: &str| if present { search::ident(col) } else { "NULL".to_owned() };
    let mut sql = format!(
        "SELECT alert_id, coalesce(last_timestamp, \"timestamp\") AS t, \"threat.triage.score\" AS score, \
         priority, status, coalesce(\"rule.name\", rule) AS rule, description, ip_src_addr, ip_dst_addr, \
         {} AS src_country, {} AS dst_country, {} AS stype, \"count\", meta_alert, assignee, event_guid FROM alerts",
        opt(cols.src_country, "enrichments.geo.ip_src_addr.country"),
        opt(cols.dst_country, "enrichments.geo.ip_dst_addr.country"),
        opt(cols.event_source_type, "event_source_type"),
    );
    let mut conds = filter.conditions.clone();
    if !spec.show_closed {
        conds.insert(0, "status NOT IN ('DISMISS', 'RESOLVE')".to_owned());
    }
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    sql.push_str(match spec.sort {
        SortKey::Score => " ORDER BY score DESC NULLS LAST, t DESC NULLS LAST, alert_id",
        SortKey::Time => " ORDER BY t DESC NULLS LAST, alert_id",
        SortKey::Priority => {
            " ORDER BY CASE priority WHEN 'HIGH' THEN 0 WHEN 'MED' THEN 1 WHEN 'LOW' THEN 2 ELSE 3 END, \
             score DESC NULLS LAST, t DESC NULLS LAST, alert_id"
        }
    });
    // One more than the queue holds, to tell that there are more.
    sql.push_str(&format!(" LIMIT {}", QUEUE_LIMIT + 1));
    Ok((sql, filter.params))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn queue_result(ids: &[&str]) -> QueryResult {
        QueryResult {
            columns: vec!["alert_id".into(), "t".into(), "score".into(), "priority".into(), "status".into()],
            rows: ids
                .iter()
                .map(|id| vec![json!(id), json!(1_700_000_000_000i64), json!(50), json!("HIGH"), json!("NEW")])
                .collect(),
        }
    }

    fn loaded(ids: &[&str]) -> App {
        let mut app = App::new("ann", false);
        let r = app.start();
        app.apply(r[0].id, Answer::Queue(queue_result(ids), Vec::new()));
        app
    }

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    fn typed(app: &mut App, text: &str) {
        for c in text.chars() {
            app.key(key(c));
        }
    }

    #[test]
    fn a_refresh_keeps_the_selection_on_the_same_alert() {
        let mut app = loaded(&["a", "b", "c"]);
        app.update(Command::Down);
        assert_eq!(app.alerts[app.selected].alert_id, "b");
        let r = app.tick_refresh();
        assert_eq!(r.len(), 1);
        // A new alert arrives at the top.
        app.apply(r[0].id, Answer::Queue(queue_result(&["new", "a", "b", "c"]), Vec::new()));
        assert_eq!(app.alerts[app.selected].alert_id, "b");
        // Another refresh is not sent while one is out.
        let r = app.tick_refresh();
        assert!(app.tick_refresh().is_empty());
        // The selected alert disappears: the selection stays in range.
        app.apply(r[0].id, Answer::Queue(queue_result(&["new"]), Vec::new()));
        assert_eq!(app.selected, 0);
    }

    #[test]
    fn more_alerts_or_rows_than_shown_are_told() {
        let ids: Vec<String> = (0..=QUEUE_LIMIT).map(|i| format!("a{i}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let app = loaded(&refs);
        assert_eq!(app.alerts.len(), QUEUE_LIMIT as usize);
        assert!(app.queue_more);
        let app = loaded(&refs[..10]);
        assert!(!app.queue_more);

        let many = |n: u64| QueryResult { columns: vec!["x".into()], rows: (0..n).map(|i| vec![json!(i)]).collect() };
        let mut app = loaded(&["a"]);
        let r = app.run_search("x>0");
        app.apply(r[0].id, Answer::Search(many(SEARCH_LIMIT + 1)));
        assert_eq!(app.results.as_ref().unwrap().rows.len(), SEARCH_LIMIT as usize);
        assert!(app.message.starts_with("the first 1000 rows"), "{}", app.message);
        // A search with its own limit shows all it asked for.
        let r = app.run_search("x>0 limit:1001");
        app.apply(r[0].id, Answer::Search(many(1001)));
        assert_eq!(app.results.as_ref().unwrap().rows.len(), 1001);
        assert_eq!(app.message, "1001 rows");
    }

    #[test]
    fn stale_answers_are_dropped() {
        let mut app = loaded(&["a"]);
        let first = app.run_search("x=1");
        let second = app.run_search("x=2");
        app.apply(first[0].id, Answer::Search(QueryResult::default()));
        assert!(app.results.is_none());
        app.apply(second[0].id, Answer::Search(QueryResult { columns: vec!["x".into()], rows: vec![vec![json!(2)]] }));
        assert_eq!(app.results.as_ref().unwrap().rows.len(), 1);
    }

    #[test]
    fn escalate_with_a_comment_is_one_action_on_the_selected_alert() {
        let mut app = loaded(&["a", "b"]);
        assert!(app.key(key('s')).is_empty());
        assert_eq!(app.menu, Some(Menu::Status));
        assert!(app.key(key('e')).is_empty());
        assert_eq!(app.prompt.as_ref().map(|p| p.kind.clone()), Some(PromptKind::Comment(Some(Status::Escalate))));
        typed(&mut app, "beaconing, q");
        let reqs = app.key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
        assert!(!app.quit, "q typed in a prompt is text");
        assert_eq!(
            reqs[0].job,
            Job::Triage(TriageAction {
                alert_ids: vec!["a".into()],
                status: Some(Status::Escalate),
                comment: Some("beaconing, q".into()),
                who: "ann".into(),
                ..Default::default()
            })
        );
        // The store changed: the queue is asked for again.
        let again = app.apply(reqs[0].id, Answer::Done("ok".into()));
        assert!(matches!(again[0].job, Job::Queue { .. }));
    }

    #[test]
    fn marked_alerts_are_grouped_and_ungrouped_together() {
        let mut app = loaded(&["a", "b", "c"]);
        app.update(Command::Mark); // a, moves to b
        app.update(Command::Down); // c
        app.update(Command::Mark);
        assert_eq!(app.targets(), vec!["a".to_owned(), "c".to_owned()]);
        app.update(Command::Group);
        app.prompt.as_mut().unwrap().text = "incident-7".into();
        let r = app.update(Command::Submit);
        match &r[0].job {
            Job::Triage(a) => {
                assert_eq!(a.alert_ids, vec!["a", "c"]);
                assert_eq!(a.meta_alert.as_deref(), Some("incident-7"));
            }
            other => panic!("{other:?}"),
        }
        let r = app.update(Command::Ungroup);
        assert!(matches!(&r[0].job, Job::Triage(a) if a.meta_alert.as_deref() == Some("")));
        app.update(Command::Unmark);
        assert_eq!(app.targets(), vec!["c".to_owned()]);
    }

    #[test]
    fn esc_closes_a_prompt_then_goes_back_and_cancels() {
        let mut app = loaded(&["a"]);
        let r = app.update(Command::Open);
        assert_eq!(app.screen, Screen::Detail);
        assert!(matches!(r[0].job, Job::AlertDetail { ref alert_id } if alert_id == "a"));
        app.update(Command::Comment);
        app.update(Command::Back);
        assert!(app.prompt.is_none());
        assert_eq!(app.screen, Screen::Detail);
        assert!(app.busy());
        app.update(Command::Back);
        assert_eq!(app.screen, Screen::Queue);
        assert!(!app.busy(), "the detail query was given up");
    }

    #[test]
    fn sort_and_filter_ask_for_the_queue_again() {
        let mut app = loaded(&["a"]);
        let r = app.update(Command::CycleSort);
        assert!(matches!(&r[0].job, Job::Queue { spec, .. } if spec.sort == SortKey::Time));
        app.update(Command::Filter);
        typed(&mut app, "priority=HIGH dns");
        let r = app.update(Command::Submit);
        assert!(matches!(&r[0].job, Job::Queue { spec, .. } if spec.filter == "priority=HIGH dns"));
        app.update(Command::Filter);
        typed(&mut app, " x~(");
        assert!(app.update(Command::Submit).is_empty());
        assert!(app.message.starts_with("filter:"), "{}", app.message);
    }

    #[test]
    fn queue_sql_hides_closed_alerts_and_binds_filter_values() {
        let spec = QueueSpec { sort: SortKey::Priority, show_closed: false, filter: "priority=HIGH".into() };
        let (sql, params) = queue_sql(&spec, &AlertColumns::default()).unwrap();
        assert!(
            sql.contains("WHERE status NOT IN ('DISMISS', 'RESOLVE') AND CAST(\"priority\" AS VARCHAR) = ?"),
            "{sql}"
        );
        assert!(sql.contains("NULL AS src_country"));
        assert!(sql.contains("ORDER BY CASE priority"));
        assert_eq!(params, vec![SqlValue::from("HIGH".to_owned())]);
        let cols = AlertColumns::from_names(&["enrichments.geo.ip_dst_addr.country".to_owned()]);
        let spec = QueueSpec { sort: SortKey::Score, show_closed: true, filter: String::new() };
        let (sql, _) = queue_sql(&spec, &cols).unwrap();
        assert!(!sql.contains("WHERE"));
        assert!(sql.contains("\"enrichments.geo.ip_dst_addr.country\" AS dst_country"));
    }

    #[test]
    fn pivots_build_searches_from_the_row() {
        let mut app = loaded(&["a"]);
        app.screen = Screen::Results;
        app.results = Some(QueryResult {
            columns: vec!["timestamp".into(), "ip_src_addr".into(), "community_id".into(), "uid".into()],
            rows: vec![vec![json!(10_000_000), json!("10.0.0.5"), json!("1:abc="), json!("C'x")]],
        });
        assert_eq!(app.pivot_search(PivotKind::CommunityId).unwrap(), "community_id='1:abc='");
        assert_eq!(app.pivot_search(PivotKind::Uid).unwrap(), "uid='C''x'");
        assert_eq!(app.pivot_search(PivotKind::Source).unwrap(), "ip_src_addr='10.0.0.5' since 6400000 until 13600000");
        assert!(app.pivot_search(PivotKind::Destination).is_err());
        // The pivot's search parses and runs.
        let q = app.pivot_search(PivotKind::Uid).unwrap();
        let s = search::parse(&q, 0).unwrap();
        assert_eq!(s.params, vec![SqlValue::from("C'x".to_owned())]);
        app.update(Command::PivotMenu);
        assert_eq!(app.menu, Some(Menu::Pivot));
        let r = app.key(key('c'));
        assert!(matches!(&r[0].job, Job::Search { text, .. } if text == "community_id='1:abc='"));
    }

    fn results(app: &mut App, search: &str, columns: &[&str]) {
        let r = app.run_search(search);
        let row: Vec<Value> = columns.iter().map(|c| json!(format!("{c}-value"))).collect();
        app.apply(
            r[0].id,
            Answer::Search(QueryResult { columns: columns.iter().map(|c| (*c).to_owned()).collect(), rows: vec![row] }),
        );
    }

    #[test]
    fn columns_are_chosen_from_the_results_or_fetched_again() {
        let mut app = loaded(&["a"]);
        results(&mut app, "uid=x", &["timestamp", "uid", "ip_src_addr", "query"]);
        // The defaults the results have, in the default order.
        assert_eq!(app.shown_columns(app.results.as_ref().unwrap()), vec!["timestamp", "ip_src_addr"]);
        app.key(key('c'));
        assert_eq!(app.prompt.as_ref().map(|p| p.text.as_str()), Some("timestamp,ip_src_addr"));
        app.prompt.as_mut().unwrap().text = "query, uid".into();
        assert!(app.update(Command::Submit).is_empty(), "the results have them: no query");
        assert_eq!(app.shown_columns(app.results.as_ref().unwrap()), vec!["query", "uid"]);
        // A column the results lack, when the search returned every column: named.
        app.key(key('c'));
        app.prompt.as_mut().unwrap().text = "uid nosuch".into();
        assert!(app.update(Command::Submit).is_empty());
        assert!(app.message.contains("no column nosuch"), "{}", app.message);
        // Empty: every column.
        app.key(key('c'));
        app.prompt.as_mut().unwrap().text.clear();
        app.update(Command::Submit);
        assert_eq!(app.shown_columns(app.results.as_ref().unwrap()).len(), 4);
        // A search that chose its columns is run again with the new ones.
        results(&mut app, "uid=x cols:uid", &["uid"]);
        app.key(key('c'));
        app.prompt.as_mut().unwrap().text = "uid,conn_state".into();
        let r = app.update(Command::Submit);
        assert!(matches!(&r[0].job, Job::Search { text, .. } if text == "uid=x cols:uid,conn_state"));
    }

    #[test]
    fn the_results_scroll_sideways_within_the_columns() {
        let mut app = loaded(&["a"]);
        results(&mut app, "cols:a,b,c", &["a", "b", "c"]);
        app.key(key('h'));
        assert_eq!(app.result_offset, 0);
        app.key(key('l'));
        app.key(KeyEvent::new(KeyCode::Right, KeyModifiers::NONE));
        app.key(key('l'));
        assert_eq!(app.result_offset, 2, "stops at the last column");
        app.key(KeyEvent::new(KeyCode::Left, KeyModifiers::NONE));
        assert_eq!(app.result_offset, 1);
        // A new search starts at the first column.
        results(&mut app, "cols:a,b", &["a", "b"]);
        assert_eq!(app.result_offset, 0);
    }

    #[test]
    fn a_meta_alert_is_listed_in_the_queue_from_the_detail_page() {
        let mut app = loaded(&["a"]);
        let r = app.update(Command::Open);
        let d = Detail {
            alert_id: Some("a".into()),
            alert: vec![("alert_id".into(), json!("a")), ("meta_alert".into(), json!("inc'7"))],
            ..Default::default()
        };
        app.apply(r[0].id, Answer::Detail(d));
        let r = app.key(key('f'));
        assert_eq!(app.screen, Screen::Queue);
        assert!(
            matches!(&r[0].job, Job::Queue { spec, .. } if spec.filter == "meta_alert='inc''7'" && spec.show_closed)
        );
        assert!(queue_sql(&app.spec, &AlertColumns::default()).is_ok());
        // An alert in no meta-alert says so.
        let r = app.update(Command::Open);
        app.apply(r[0].id, Answer::Detail(Detail { alert_id: Some("a".into()), ..Default::default() }));
        assert!(app.key(key('f')).is_empty());
        assert!(app.message.contains("no meta-alert"));
    }

    #[test]
    fn extraction_needs_a_community_id() {
        let mut app = loaded(&["a"]);
        app.screen = Screen::Results;
        app.results = Some(QueryResult { columns: vec!["x".into()], rows: vec![vec![json!(1)]] });
        assert!(app.update(Command::Extract).is_empty());
        assert!(app.message.contains("no community_id"));
    }

    #[test]
    fn q_quits_and_help_opens() {
        let mut app = loaded(&["a"]);
        app.key(key('?'));
        assert_eq!(app.screen, Screen::Help);
        app.key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
        assert_eq!(app.screen, Screen::Queue);
        app.key(key('q'));
        assert!(app.quit);
    }
}
