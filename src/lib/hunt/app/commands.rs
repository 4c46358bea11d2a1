//! What each command does, one handler per group: moving about, the queue, triage,
//! searches and their results, pivots, and the prompts' answers. [`App::update`]
//! picks the handler; a handler only sees the commands of its group.

use super::{App, Menu, Prompt, PromptKind, Screen};
use crate::hunt::keys::{Command, PivotKind};
use crate::hunt::protocol::{field, Job, Request, PIVOT_WINDOW_MS};
use crate::hunt::search::{self, Target};
use crate::hunt::state::DetailState;
use crate::store::TriageAction;
use serde_json::Value;

impl App {
    /// Quitting, help, going back, and moving in a list or a page.
    pub(super) fn navigate(&mut self, cmd: Command) {
        let page = self.page as i64;
        match cmd {
            Command::Quit => self.quit = true,
            Command::Help => {
                self.help.scroll = 0;
                self.go(Screen::Help);
            }
            Command::Back => self.back(),
            Command::Up => self.move_by(-1),
            Command::Down => self.move_by(1),
            Command::PageUp => self.move_by(-page),
            Command::PageDown => self.move_by(page),
            Command::Top => self.move_by(i64::MIN / 2),
            Command::Bottom => self.move_by(i64::MAX / 2),
            _ => {}
        }
    }

    /// `esc`: closes the prompt, else gives up the queries running and goes back.
    fn back(&mut self) {
        if self.prompt.take().is_some() {
            return;
        }
        if self.busy() {
            // The caller interrupts the worker; answers to these are dropped.
            self.pending.give_up();
            self.message = "cancelled".into();
        }
        if let Some(prev) = self.back.pop() {
            self.screen = prev;
        } else if self.screen != Screen::Queue {
            self.screen = Screen::Queue;
        }
    }

    fn move_by(&mut self, delta: i64) {
        match self.screen {
            Screen::Queue => self.queue.move_by(delta),
            Screen::Results => self.results.move_by(delta),
            Screen::Searches => self.searches.move_by(delta),
            Screen::Detail => self.detail.scroll_by(delta),
            Screen::Help => self.help.scroll_by(delta),
            Screen::Charts => {}
        }
    }

    /// `enter`: the selected alert or row in detail, or the selected search run.
    pub(super) fn open(&mut self) -> Vec<Request> {
        match self.screen {
            Screen::Queue => match self.queue.selected_alert() {
                Some(a) => {
                    let alert_id = a.alert_id.clone();
                    self.show_detail(Job::AlertDetail { alert_id })
                }
                None => Vec::new(),
            },
            Screen::Results => match self.results.selected_row() {
                Some(row) => {
                    let job = match field(&row, "alert_id") {
                        Some(alert_id) if self.results.target == Target::Alerts => Job::AlertDetail { alert_id },
                        _ => Job::EventDetail { row },
                    };
                    self.show_detail(job)
                }
                None => Vec::new(),
            },
            Screen::Searches => match self.searches.selected_query() {
                Some(q) => self.run_search(&q),
                None => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    fn show_detail(&mut self, job: Job) -> Vec<Request> {
        self.detail = DetailState::default();
        self.go(Screen::Detail);
        vec![self.request(job)]
    }

    /// What the queue shows: refresh, closed alerts, sort, filter, marks.
    pub(super) fn queue_command(&mut self, cmd: Command) -> Vec<Request> {
        match cmd {
            Command::Refresh => return vec![self.queue_request(true)],
            Command::ToggleClosed => {
                self.queue.spec.show_closed = !self.queue.spec.show_closed;
                return vec![self.queue_request(false)];
            }
            Command::CycleSort => {
                self.queue.spec.sort = self.queue.spec.sort.next();
                return vec![self.queue_request(false)];
            }
            Command::Filter => {
                let f = self.queue.spec.filter.clone();
                self.open_prompt(PromptKind::Filter, &f);
            }
            Command::Mark => self.queue.toggle_mark(),
            Command::Unmark => self.queue.marked.clear(),
            _ => {}
        }
        Vec::new()
    }

    /// Status, comments, assignment and meta-alerts: most open a prompt whose
    /// answer ([`App::submit`]) records the action.
    pub(super) fn triage_command(&mut self, cmd: Command) -> Vec<Request> {
        match cmd {
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
            Command::Ungroup => return self.triage(|a| a.meta_alert = Some(String::new())),
            _ => {}
        }
        Vec::new()
    }

    /// One triage action on [`App::targets`], filled in by `f`.
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

    /// The search prompt, saved searches, charts, and the results table's columns.
    pub(super) fn search_command(&mut self, cmd: Command) -> Vec<Request> {
        match cmd {
            Command::Search => {
                let text = self.results.text.clone();
                self.open_prompt(PromptKind::Search, &text);
                // For `tab`: the views and columns as the store has them now.
                return vec![self.request(Job::Vocabulary)];
            }
            Command::Searches => {
                self.go(Screen::Searches);
                return vec![self.request(Job::Searches)];
            }
            Command::SaveSearch => {
                if self.results.text.is_empty() {
                    self.message = "no search to save".into();
                } else {
                    self.open_prompt(PromptKind::SaveSearch, "");
                }
            }
            Command::Charts => {
                let text = if self.screen == Screen::Results { Some(self.results.text.clone()) } else { None };
                self.charts.charts = None;
                self.go(Screen::Charts);
                return vec![self.request(Job::Charts { text })];
            }
            Command::Columns => {
                if self.results.table.is_some() {
                    let shown = self.results.shown_columns().join(",");
                    self.open_prompt(PromptKind::Columns, &shown);
                    return vec![self.request(Job::Vocabulary)];
                } else {
                    self.message = "no results to choose columns of".into();
                }
            }
            Command::Left => self.results.scroll_left(),
            Command::Right => self.results.scroll_right(),
            _ => {}
        }
        Vec::new()
    }

    /// From what is shown to more: pivots, a flow's packets, an alert's meta-alert.
    pub(super) fn pivot_command(&mut self, cmd: Command) -> Vec<Request> {
        match cmd {
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
                    Ok(q) => return self.run_search(&q),
                    Err(m) => self.message = m,
                }
            }
            Command::Extract => match self.pivot_source().and_then(|f| field(&f, "community_id")) {
                Some(community_id) => {
                    self.message = format!("extracting packets of {community_id} …");
                    return vec![self.request(Job::Extract { community_id })];
                }
                None => self.message = "this row has no community_id: no flow to extract".into(),
            },
            Command::ShowGroup => match self.detail.meta_alert() {
                Some(meta) => {
                    self.queue.show_meta_alert(&meta);
                    self.back.clear();
                    self.screen = Screen::Queue;
                    self.message = format!("meta-alert {meta} (f changes the filter, z hides closed alerts)");
                    return vec![self.queue_request(false)];
                }
                None => self.message = "this alert is in no meta-alert (m groups alerts)".into(),
            },
            _ => {}
        }
        Vec::new()
    }

    /// The fields a pivot or an extraction starts from: the detail's event, or the
    /// selected search result.
    pub fn pivot_source(&self) -> Option<Vec<(String, Value)>> {
        match self.screen {
            Screen::Detail => self.detail.fields(),
            Screen::Results => self.results.selected_row(),
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
            PivotKind::Uid => ["uid", "flow_id"]
                .into_iter()
                .find_map(|name| field(&f, name).map(|v| format!("{name}={}", quote(&v))))
                .ok_or_else(|| "no uid or flow_id here".to_owned()),
            PivotKind::Source | PivotKind::Destination => {
                let name = if kind == PivotKind::Source { "ip_src_addr" } else { "ip_dst_addr" };
                let ip = field(&f, name).ok_or_else(|| format!("no {name} here"))?;
                let mut q = format!("{name}={} ", quote(&ip));
                if let Some(t) = field(&f, "timestamp").and_then(|t| t.parse::<i64>().ok()) {
                    q.push_str(&format!("since {} until {}", t - PIVOT_WINDOW_MS, t + PIVOT_WINDOW_MS));
                }
                Ok(q.trim().to_owned())
            }
        }
    }

    /// What a prompt's text asks for. An empty prompt does nothing, except where
    /// empty means something: no filter, a status without a comment, every column.
    pub(super) fn submit(&mut self, p: Prompt) -> Vec<Request> {
        let text = p.text.trim().to_owned();
        let may_be_empty = matches!(p.kind, PromptKind::Filter | PromptKind::Comment(Some(_)) | PromptKind::Columns);
        if text.is_empty() && !may_be_empty {
            return Vec::new();
        }
        match p.kind {
            PromptKind::Search => self.run_search(&text),
            PromptKind::Filter => self.set_filter(text),
            PromptKind::Comment(status) => {
                let comment = Some(text).filter(|t| !t.is_empty());
                self.triage(|a| {
                    a.status = status;
                    a.comment = comment;
                })
            }
            PromptKind::Assign => self.triage(|a| a.assignee = Some(text)),
            PromptKind::Group => self.triage(|a| a.meta_alert = Some(text)),
            PromptKind::Columns => self.choose_columns(&text),
            PromptKind::SaveSearch => {
                let query = self.results.text.clone();
                vec![self.request(Job::SaveSearch { name: text, query, who: self.who.clone() })]
            }
        }
    }

    /// The queue's filter, checked here first so that errors show at once.
    fn set_filter(&mut self, text: String) -> Vec<Request> {
        if let Err(e) = search::parse(&format!("in:alerts {text}"), 0) {
            self.message = format!("filter: {e}");
            return Vec::new();
        }
        self.queue.spec.filter = text;
        self.queue.selected = 0;
        vec![self.queue_request(false)]
    }

    /// The columns prompt: names separated by commas or spaces; empty shows every
    /// column the search returned. Columns the results lack are fetched by running
    /// the search again with them when it chose its columns (`cols:`), and are
    /// named as unknown otherwise (the search already returned every column).
    fn choose_columns(&mut self, text: &str) -> Vec<Request> {
        let cols: Vec<String> =
            text.split([',', ' ']).map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect();
        let Err(missing) = self.results.choose_columns(cols.clone()) else { return Vec::new() };
        let chose = search::parse(&self.results.text, 0).is_ok_and(|s| !s.columns.is_empty());
        if !chose {
            self.message = format!("no column {} here (enter on a row shows every field)", missing.join(", "));
            return Vec::new();
        }
        match search::with_columns(&self.results.text, &cols) {
            Ok(q) => self.run_search(&q),
            Err(e) => {
                self.message = format!("search: {e}");
                Vec::new()
            }
        }
    }

    /// Runs a search (parsed here first, so that errors show at once).
    pub fn run_search(&mut self, text: &str) -> Vec<Request> {
        let parsed = match search::parse(text, 0) {
            Ok(s) => s,
            Err(e) => {
                self.message = format!("search: {e}");
                self.results.text = text.to_owned();
                return Vec::new();
            }
        };
        self.results.start(text, parsed);
        self.go(Screen::Results);
        self.message = String::new();
        vec![self.request(Job::Search { text: text.to_owned(), who: self.who.clone(), remember: true })]
    }
}
