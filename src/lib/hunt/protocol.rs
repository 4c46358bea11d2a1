//! What the console and its workers say to each other: the [`Job`]s the app asks
//! for, the [`Answer`]s that come back, and the data they carry. The app and the
//! worker both import this and never each other, so either can change without the
//! other noticing anything but this file.

use crate::store::{cell_text, QueryResult, TriageAction};
use serde_json::Value;

/// Alerts the queue holds at most.
pub const QUEUE_LIMIT: u64 = 2000;
/// Rows a search shows when it sets no `limit:`.
pub const SEARCH_LIMIT: u64 = 1000;
/// How long around an event a pivot on an address looks.
pub const PIVOT_WINDOW_MS: i64 = 3_600_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
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

    /// The order `o` moves to.
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Score => SortKey::Time,
            SortKey::Time => SortKey::Priority,
            SortKey::Priority => SortKey::Score,
        }
    }
}

/// What the queue shows: the query the worker turns into SQL.
#[derive(Debug, Clone, PartialEq, Default)]
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
    /// The row from a queue query's result (columns named as in `queries::queue_sql`).
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

/// A field's text, when present and not empty.
pub fn field(fields: &[(String, Value)], name: &str) -> Option<String> {
    fields.iter().find(|(n, v)| n == name && !v.is_null()).map(|(_, v)| cell_text(v)).filter(|s| !s.is_empty())
}

/// Chart data: title and (label, value) bars; a timeline has time labels.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Charts {
    pub about: String,
    /// Labelled with [`short_time`].
    pub timeline: Vec<(String, u64)>,
    pub bars: Vec<(String, Vec<(String, u64)>)>,
}

/// `MM-DD HH:MM` in UTC: the timeline's labels, and the queue's times.
pub fn short_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|d| d.format("%m-%d %H:%M").to_string()).unwrap_or_default()
}

/// The views a search can read and their columns, for completing a search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vocabulary {
    /// `events`, `alerts`, then each source type's view; each with its columns.
    pub tables: Vec<(String, Vec<String>)>,
}

impl Vocabulary {
    pub fn new(tables: Vec<(String, Vec<String>)>) -> Vocabulary {
        Vocabulary { tables }
    }

    pub fn columns(&self, view: &str) -> &[String] {
        self.tables.iter().find(|(v, _)| v == view).map_or(&[], |(_, c)| c.as_slice())
    }
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
    /// The views a search can read and their columns (for `tab` in the prompt).
    Vocabulary,
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
    Vocabulary(Vocabulary),
    /// A finished action, with what to tell the user.
    Done(String),
    Failed(String),
    Cancelled,
}
