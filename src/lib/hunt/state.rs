//! What each screen holds, and what can be done to it without looking at another
//! screen: moving a selection, scrolling, taking an answer in. [`super::app::App`]
//! holds one of each and decides what a command means across screens; the views
//! draw them.

use super::protocol::{field, AlertRow, Charts, Detail, Job, QueueSpec, Request, QUEUE_LIMIT, SEARCH_LIMIT};
use super::search::{self, Search, Target};
use crate::store::{cell_text, QueryResult};
use serde_json::Value;
use std::collections::BTreeSet;

/// A selection in a list of `len` rows moved by `delta`, kept in the list.
fn moved(selected: usize, len: usize, delta: i64) -> usize {
    if len == 0 {
        return 0;
    }
    (selected as i64).saturating_add(delta).clamp(0, len as i64 - 1) as usize
}

/// A page's scroll moved by `delta`, kept in what a `u16` holds.
fn scrolled(scroll: u16, delta: i64) -> u16 {
    i64::from(scroll).saturating_add(delta).clamp(0, i64::from(u16::MAX)) as u16
}

/// The alert queue.
#[derive(Debug, Clone, Default)]
pub struct QueueState {
    pub spec: QueueSpec,
    pub alerts: Vec<AlertRow>,
    /// More alerts match than the queue holds (`QUEUE_LIMIT`).
    pub more: bool,
    /// Segments of the store that cannot be read and are left out (file: why).
    pub damaged: Vec<String>,
    pub selected: usize,
    pub marked: BTreeSet<String>,
}

impl QueueState {
    pub fn selected_alert(&self) -> Option<&AlertRow> {
        self.alerts.get(self.selected)
    }

    /// The alerts an action applies to: the marked ones, else the one selected.
    pub fn targets(&self) -> Vec<String> {
        if !self.marked.is_empty() {
            return self.marked.iter().cloned().collect();
        }
        self.selected_alert().map(|a| vec![a.alert_id.clone()]).unwrap_or_default()
    }

    /// Marks the selected alert (or unmarks it) and moves to the next.
    pub fn toggle_mark(&mut self) {
        if let Some(a) = self.alerts.get(self.selected) {
            if !self.marked.remove(&a.alert_id) {
                self.marked.insert(a.alert_id.clone());
            }
            self.move_by(1);
        }
    }

    pub fn move_by(&mut self, delta: i64) {
        self.selected = moved(self.selected, self.alerts.len(), delta);
    }

    /// Only the alerts of meta-alert `meta`, closed ones too.
    pub fn show_meta_alert(&mut self, meta: &str) {
        self.spec.filter = format!("meta_alert='{}'", meta.replace('\'', "''"));
        self.spec.show_closed = true;
        self.selected = 0;
    }

    /// The queue's answer: the selection stays on the same alert when it is still
    /// listed.
    pub fn load(&mut self, r: &QueryResult, damaged: Vec<String>) {
        self.damaged = damaged;
        let keep = self.selected_alert().map(|a| a.alert_id.clone());
        // The query asks for one more than the queue holds.
        let n = r.rows.len().min(QUEUE_LIMIT as usize);
        self.more = r.rows.len() > n;
        self.alerts = (0..n).map(|i| AlertRow::from_result(r, i)).collect();
        if let Some(keep) = keep {
            if let Some(i) = self.alerts.iter().position(|a| a.alert_id == keep) {
                self.selected = i;
            }
        }
        self.selected = self.selected.min(self.alerts.len().saturating_sub(1));
    }
}

/// The detail page of an alert or an event.
#[derive(Debug, Clone, Default)]
pub struct DetailState {
    /// `None` while it loads.
    pub detail: Option<Detail>,
    pub scroll: u16,
}

impl DetailState {
    /// The alert shown, if it is one.
    pub fn alert_id(&self) -> Option<String> {
        self.detail.as_ref().and_then(|d| d.alert_id.clone())
    }

    /// The meta-alert the alert shown is in.
    pub fn meta_alert(&self) -> Option<String> {
        self.detail.as_ref().and_then(|d| field(&d.alert, "meta_alert"))
    }

    /// Every field shown: the event's, then the alert's.
    pub fn fields(&self) -> Option<Vec<(String, Value)>> {
        let d = self.detail.as_ref()?;
        Some(d.event.iter().chain(d.alert.iter()).cloned().collect())
    }

    pub fn scroll_by(&mut self, delta: i64) {
        self.scroll = scrolled(self.scroll, delta);
    }
}

/// A search and its rows.
#[derive(Debug, Clone)]
pub struct ResultsState {
    /// The search (what `/` starts from, and what `w` saves).
    pub text: String,
    /// `None` while the search runs.
    pub table: Option<QueryResult>,
    /// The columns the results table shows (the search's `cols:`, else a default).
    pub columns: Vec<String>,
    pub target: Target,
    /// The search's own `limit:`, if it set one.
    pub limit: Option<u64>,
    pub selected: usize,
    /// How many of the chosen columns the table scrolls past on the left.
    pub offset: usize,
}

impl Default for ResultsState {
    fn default() -> ResultsState {
        ResultsState {
            text: String::new(),
            table: None,
            columns: Vec::new(),
            target: Target::Events,
            limit: None,
            selected: 0,
            offset: 0,
        }
    }
}

impl ResultsState {
    /// Search `text` (parsed as `parsed`) is sent: its options, no rows yet.
    pub fn start(&mut self, text: &str, parsed: Search) {
        self.limit = parsed.limit;
        self.columns = if parsed.columns.is_empty() {
            let d: &[&str] =
                if parsed.target.is_events() { &search::DEFAULT_EVENT_COLUMNS } else { &search::DEFAULT_ALERT_COLUMNS };
            d.iter().map(|c| (*c).to_owned()).collect()
        } else {
            parsed.columns
        };
        self.target = parsed.target;
        self.text = text.to_owned();
        self.table = None;
        self.selected = 0;
        self.offset = 0;
    }

    /// The search's answer; returns what to tell the user.
    pub fn show(&mut self, mut r: QueryResult) -> String {
        // Without a limit of its own, a search is asked for one row more than is
        // shown, to tell that there are more.
        let shown = SEARCH_LIMIT as usize;
        let message = if self.limit.is_none() && r.rows.len() > shown {
            r.rows.truncate(shown);
            format!("the first {shown} rows (limit:N shows more, sort: orders)")
        } else {
            format!("{} rows", r.rows.len())
        };
        self.table = Some(r);
        message
    }

    /// The chosen columns the results have, in the chosen order; all of them when
    /// none of the chosen ones is there (none without results).
    pub fn shown_columns(&self) -> Vec<String> {
        let Some(r) = &self.table else { return Vec::new() };
        let shown: Vec<String> = self.columns.iter().filter(|c| r.columns.contains(c)).cloned().collect();
        if shown.is_empty() {
            r.columns.clone()
        } else {
            shown
        }
    }

    /// Shows `columns` (every column when empty) from the start, when the results
    /// have them all; else changes only the scroll and returns the ones they lack.
    pub fn choose_columns(&mut self, columns: Vec<String>) -> Result<(), Vec<String>> {
        let Some(r) = &self.table else { return Ok(()) };
        self.offset = 0;
        if columns.is_empty() {
            self.columns = r.columns.clone();
            return Ok(());
        }
        let missing: Vec<String> = columns.iter().filter(|c| !r.columns.contains(c)).cloned().collect();
        if !missing.is_empty() {
            return Err(missing);
        }
        self.columns = columns;
        Ok(())
    }

    /// Fields of row `i`.
    pub fn row(&self, i: usize) -> Option<Vec<(String, Value)>> {
        let r = self.table.as_ref()?;
        let row = r.rows.get(i)?;
        Some(r.columns.iter().cloned().zip(row.iter().cloned()).collect())
    }

    pub fn selected_row(&self) -> Option<Vec<(String, Value)>> {
        self.row(self.selected)
    }

    pub fn move_by(&mut self, delta: i64) {
        self.selected = moved(self.selected, self.table.as_ref().map_or(0, |r| r.rows.len()), delta);
    }

    pub fn scroll_left(&mut self) {
        self.offset = self.offset.saturating_sub(1);
    }

    /// One column right, up to the last one shown.
    pub fn scroll_right(&mut self) {
        let n = self.shown_columns().len();
        self.offset = (self.offset + 1).min(n.saturating_sub(1));
    }
}

/// The charts of the queue or of a search.
#[derive(Debug, Clone, Default)]
pub struct ChartsState {
    /// `None` while they are counted.
    pub charts: Option<Charts>,
}

/// The saved and recent searches.
#[derive(Debug, Clone, Default)]
pub struct SearchesState {
    /// `None` while they load.
    pub list: Option<QueryResult>,
    pub selected: usize,
}

impl SearchesState {
    pub fn show(&mut self, list: QueryResult) {
        self.list = Some(list);
        self.selected = 0;
    }

    /// The selected search's text, when there is one.
    pub fn selected_query(&self) -> Option<String> {
        let q = self.list.as_ref().and_then(|r| r.get(self.selected, "query")).map(cell_text).unwrap_or_default();
        Some(q).filter(|q| !q.is_empty())
    }

    pub fn move_by(&mut self, delta: i64) {
        self.selected = moved(self.selected, self.list.as_ref().map_or(0, |r| r.rows.len()), delta);
    }
}

/// The `?` page.
#[derive(Debug, Clone, Default)]
pub struct HelpState {
    pub scroll: u16,
}

impl HelpState {
    pub fn scroll_by(&mut self, delta: i64) {
        self.scroll = scrolled(self.scroll, delta);
    }
}

/// The requests the console waits for: the latest of each kind; answers to older
/// ones are dropped.
#[derive(Debug, Clone, Default)]
pub struct Pending {
    pub queue: Option<u64>,
    pub detail: Option<u64>,
    pub search: Option<u64>,
    pub charts: Option<u64>,
    pub searches: Option<u64>,
    /// Not shown as busy: completion works without it.
    pub vocabulary: Option<u64>,
    /// The id of the last request made.
    last_id: u64,
}

impl Pending {
    /// `job` with a new id, waited for when an answer replaces what a screen shows.
    pub fn track(&mut self, job: Job) -> Request {
        self.last_id += 1;
        let id = self.last_id;
        match &job {
            Job::Queue { .. } => self.queue = Some(id),
            Job::AlertDetail { .. } | Job::EventDetail { .. } => self.detail = Some(id),
            Job::Search { .. } => self.search = Some(id),
            Job::Charts { .. } => self.charts = Some(id),
            Job::Searches => self.searches = Some(id),
            Job::Vocabulary => self.vocabulary = Some(id),
            _ => {}
        }
        Request { id, job }
    }

    /// True while a query is waited for.
    pub fn busy(&self) -> bool {
        self.queue.is_some()
            || self.detail.is_some()
            || self.search.is_some()
            || self.charts.is_some()
            || self.searches.is_some()
    }

    /// Stops waiting for the queries `esc` gives up (the caller interrupts them).
    pub fn give_up(&mut self) {
        self.search = None;
        self.charts = None;
        self.detail = None;
    }

    /// Stops waiting for request `id`, whatever it was.
    pub fn forget(&mut self, id: u64) {
        for w in [
            &mut self.queue,
            &mut self.detail,
            &mut self.search,
            &mut self.charts,
            &mut self.searches,
            &mut self.vocabulary,
        ] {
            if *w == Some(id) {
                *w = None;
            }
        }
    }
}

/// True when `id` is the request `waiting` waits for, which is then no longer
/// waited for; false for a stale answer.
pub fn answers(waiting: &mut Option<u64>, id: u64) -> bool {
    if *waiting == Some(id) {
        *waiting = None;
        true
    } else {
        false
    }
}
