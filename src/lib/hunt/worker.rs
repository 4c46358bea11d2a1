//! Queries off the UI thread: each worker is a thread owning a [`Reader`], taking
//! [`Request`]s over a channel and sending [`Answer`]s back. The UI never waits on
//! one; it can interrupt the query running on a worker through its handle.
//!
//! The console runs two workers, so that a slow search does not hold up the queue,
//! the detail page or a triage action.

use super::protocol::{field, short_time, Answer, Charts, Detail, Job, QueueSpec, Request, Vocabulary, SEARCH_LIMIT};
use super::queries::{self, queue_sql, AlertColumns};
use super::search;
use crate::store::{self, QueryResult, Reader, SqlValue, Store, TriageAction};
use serde_json::Value;
use std::io;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// What a worker needs besides its reader.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Where `metron capture --write` keeps packets, for extraction.
    pub pcap_dir: Option<PathBuf>,
    /// The program that runs `extract` (the current executable).
    pub exe: Option<PathBuf>,
    /// Where extracted packets are written.
    pub out_dir: PathBuf,
}

/// One worker thread.
pub struct Worker {
    tx: mpsc::Sender<Request>,
    /// Set by the thread once its reader is open.
    interrupt: Arc<Mutex<Option<Arc<duckdb::InterruptHandle>>>>,
    /// Requests sent and not answered yet.
    pub outstanding: usize,
}

impl Worker {
    /// Starts a thread that opens a reader on `store` (so that two workers open
    /// theirs at once) and answers requests to `answers`. A store that cannot be
    /// read is reported as a failed answer to request 0.
    pub fn spawn(store: &Store, settings: Settings, answers: mpsc::Sender<(u64, Answer)>) -> io::Result<Worker> {
        let (tx, rx) = mpsc::channel::<Request>();
        let interrupt = Arc::new(Mutex::new(None));
        let handle = Arc::clone(&interrupt);
        let store = store.clone();
        std::thread::Builder::new().name("hunt-worker".into()).spawn(move || {
            let reader = match Reader::open(&store) {
                Ok(r) => r,
                Err(e) => {
                    let _ = answers.send((0, Answer::Failed(crate::text::sanitize(&e.to_string()))));
                    return;
                }
            };
            if let Ok(mut h) = handle.lock() {
                *h = Some(reader.interrupt_handle());
            }
            let mut ctx = Ctx::new(reader, settings);
            for req in rx {
                let answer = ctx.run(req.job);
                if answers.send((req.id, answer)).is_err() {
                    break;
                }
            }
        })?;
        Ok(Worker { tx, interrupt, outstanding: 0 })
    }

    pub fn send(&mut self, req: Request) {
        if self.tx.send(req).is_ok() {
            self.outstanding += 1;
        }
    }

    /// Stops the query running now, if any.
    pub fn cancel(&self) {
        if self.outstanding > 0 {
            if let Ok(Some(h)) = self.interrupt.lock().as_deref() {
                h.interrupt();
            }
        }
    }
}

/// A worker's state: its reader and what it learnt about the store.
pub struct Ctx {
    pub reader: Reader,
    pub settings: Settings,
    columns: Option<AlertColumns>,
}

impl Ctx {
    pub fn new(reader: Reader, settings: Settings) -> Ctx {
        Ctx { reader, settings, columns: None }
    }

    fn query(&self, sql: &str, params: &[SqlValue]) -> Result<QueryResult, String> {
        self.reader.query(sql, params).map_err(|e| e.to_string())
    }

    fn alert_columns(&mut self) -> Result<AlertColumns, String> {
        if let Some(c) = &self.columns {
            return Ok(c.clone());
        }
        let r = self.query(queries::ALERT_COLUMN_NAMES, &[])?;
        let names: Vec<String> = r.rows.iter().filter_map(|r| r.first().map(store::cell_text)).collect();
        let c = AlertColumns::from_names(&names);
        self.columns = Some(c.clone());
        Ok(c)
    }

    /// Does one job; every failure becomes an answer, never a panic.
    pub fn run(&mut self, job: Job) -> Answer {
        match self.try_run(job) {
            Ok(a) => a,
            Err(m) if m.contains("INTERRUPT") || m.contains("nterrupted") => Answer::Cancelled,
            Err(m) => Answer::Failed(crate::text::sanitize(&m)),
        }
    }

    fn try_run(&mut self, job: Job) -> Result<Answer, String> {
        // Each worker has its own reader: the one that runs searches sees what was
        // ingested, compacted or pruned since, as the queue's does.
        if self.reader.refresh_if_changed().map_err(|e| e.to_string())? {
            self.columns = None;
        }
        match job {
            Job::Queue { spec, refresh } => self.queue(&spec, refresh),
            Job::AlertDetail { alert_id } => Ok(Answer::Detail(self.alert_detail(&alert_id)?)),
            Job::EventDetail { row } => Ok(Answer::Detail(self.event_detail(row)?)),
            Job::Search { text, who, remember } => {
                let s = search::parse(&text, crate::event::now_ms()).map_err(|e| format!("search: {e}"))?;
                // One row more than is shown, to know that there are more.
                let r = self.search(&s, SEARCH_LIMIT + 1)?;
                if remember {
                    store::append_search(self.reader.store(), "", &text, "recent", &who).map_err(|e| e.to_string())?;
                }
                Ok(Answer::Search(r))
            }
            Job::Charts { text } => Ok(Answer::Charts(self.charts(text.as_deref())?)),
            Job::Triage(action) => {
                let ids = store::record(self.reader.store(), &action).map_err(|e| e.to_string())?;
                Ok(Answer::Done(triage_done(&action, ids.len())))
            }
            Job::SaveSearch { name, query, who } => {
                store::append_search(self.reader.store(), &name, &query, "saved", &who).map_err(|e| e.to_string())?;
                Ok(Answer::Done(format!("saved search {name:?}")))
            }
            Job::Searches => {
                // The log may have been empty when the views were made.
                self.reader.refresh().map_err(|e| e.to_string())?;
                Ok(Answer::Searches(self.query(queries::SEARCH_LIST, &[])?))
            }
            Job::Extract { community_id } => self.extract(&community_id).map(Answer::Done),
            Job::Vocabulary => Ok(Answer::Vocabulary(self.vocabulary()?)),
        }
    }

    fn search(&self, s: &search::Search, limit: u64) -> Result<QueryResult, String> {
        queries::run_search(&self.reader, s, limit).map_err(|e| e.to_string())
    }

    /// `events`, `alerts` and every source type's view, with their columns.
    fn vocabulary(&self) -> Result<Vocabulary, String> {
        let r = self.query(
            "SELECT table_name, list(column_name ORDER BY ordinal_position) FROM information_schema.columns \
             GROUP BY 1 ORDER BY table_name <> 'events', table_name <> 'alerts', table_name",
            &[],
        )?;
        let found = r
            .rows
            .iter()
            .filter_map(|row| {
                let name = row.first()?.as_str()?.to_owned();
                if name != "events" && name != "alerts" && store::VIEWS.contains(&name.as_str()) {
                    return None;
                }
                let cols = row.get(1)?.as_array()?.iter().filter_map(|c| c.as_str().map(str::to_owned)).collect();
                Some((name, cols))
            })
            .collect();
        Ok(Vocabulary::new(found))
    }

    /// The queue; the store read again first when `refresh` (new segments, new
    /// optional columns).
    fn queue(&mut self, spec: &QueueSpec, refresh: bool) -> Result<Answer, String> {
        if refresh {
            self.reader.refresh().map_err(|e| e.to_string())?;
            self.columns = None;
        }
        let cols = self.alert_columns()?;
        let (sql, params) = queue_sql(spec, &cols)?;
        let damaged = self.reader.damaged().map(|(f, why)| format!("{f}: {why}")).collect();
        Ok(Answer::Queue(self.query(&sql, &params)?, damaged))
    }

    /// Event `guid`'s fields, when it is in the store.
    fn event(&self, guid: String) -> Result<Option<Vec<(String, Value)>>, String> {
        let r = self.query(queries::EVENT_BY_GUID, &[guid.into()])?;
        Ok(if r.rows.is_empty() { None } else { Some(fields(&r, 0)) })
    }

    /// A search result's row: a search may have chosen few columns, so the whole
    /// event by its guid.
    fn event_detail(&self, row: Vec<(String, Value)>) -> Result<Detail, String> {
        let event = match field(&row, "guid") {
            Some(guid) => self.event(guid)?.unwrap_or(row),
            None => row,
        };
        Ok(Detail { event, ..Default::default() })
    }

    fn alert_detail(&self, alert_id: &str) -> Result<Detail, String> {
        let a = self.query(queries::ALERT_BY_ID, &[alert_id.to_owned().into()])?;
        if a.rows.is_empty() {
            return Err(format!("no alert {alert_id}"));
        }
        let alert = fields(&a, 0);
        let event = match field(&alert, "event_guid") {
            Some(guid) => self.event(guid)?.unwrap_or_default(),
            None => Vec::new(),
        };
        let h = self.query(queries::TRIAGE_HISTORY, &[alert_id.to_owned().into()])?;
        let mut group = Vec::new();
        if let Some(meta) = field(&alert, "meta_alert") {
            let g = self.query(queries::META_ALERT_GROUP, &[meta.into(), alert_id.to_owned().into()])?;
            group = g.rows.iter().filter_map(|r| r.first().map(store::cell_text)).collect();
        }
        Ok(Detail { alert_id: Some(alert_id.to_owned()), alert, event, history: h.rows, group })
    }

    /// The pictures: for a search, its events over time and its top talkers; for
    /// the queue, alerts over time, per priority and per rule.
    fn charts(&mut self, text: Option<&str>) -> Result<Charts, String> {
        let (view, cond, params, about) = match text {
            Some(t) => {
                let s = search::parse(t, crate::event::now_ms()).map_err(|e| format!("search: {e}"))?;
                (s.target.view().to_owned(), s.where_clause(), s.params.clone(), format!("search: {t}"))
            }
            None => ("alerts".to_owned(), String::new(), Vec::new(), "all alerts".to_owned()),
        };
        let view = view.as_str();
        let timeline = self.query(&queries::timeline_sql(view, &cond), &params)?;
        let timeline = timeline
            .rows
            .iter()
            .map(|r| (r.first().and_then(Value::as_i64).map(short_time).unwrap_or_default(), count(r.get(1))))
            .collect();
        let mut bars = Vec::new();
        let top = |ctx: &Ctx, col: &str, title: &str| -> Result<(String, Vec<(String, u64)>), String> {
            let r = ctx.query(&queries::top_values_sql(view, &cond, col), &params)?;
            Ok((
                title.to_owned(),
                r.rows.iter().map(|r| (r.first().map(store::cell_text).unwrap_or_default(), count(r.get(1)))).collect(),
            ))
        };
        if view == "alerts" {
            bars.push(top(self, "priority", "alerts per priority")?);
            bars.push(top(self, "rule.name", "top rules")?);
            bars.push(top(self, "ip_src_addr", "top sources")?);
        } else {
            bars.push(top(self, "ip_src_addr", "top talkers (source)")?);
            bars.push(top(self, "ip_dst_addr", "top destinations")?);
            bars.push(top(self, "source.type", "source types")?);
        }
        Ok(Charts { about, timeline, bars })
    }

    /// Runs `metron extract` for one flow into a pcap file.
    fn extract(&self, community_id: &str) -> Result<String, String> {
        let Some(dir) = &self.settings.pcap_dir else {
            return Err("no capture directory: start hunt with --pcap-dir DIR (where `metron capture --write` \
                        keeps packets)"
                .into());
        };
        let exe = match &self.settings.exe {
            Some(e) => e.clone(),
            None => std::env::current_exe().map_err(|e| format!("cannot find metron itself: {e}"))?,
        };
        let safe: String =
            community_id.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).take(40).collect();
        let out = self.settings.out_dir.join(format!("flow-{safe}.pcap"));
        let probe = std::process::Command::new(&exe)
            .args(["extract", "--help"])
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
        if !probe.status.success() {
            return Err("this metron has no `extract` command: packets cannot be extracted (build one with \
                        capture and extract)"
                .into());
        }
        let run = std::process::Command::new(&exe)
            .arg("extract")
            .arg("--from")
            .arg(dir)
            .args(["--community-id", community_id, "-o"])
            .arg(&out)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
        if !run.status.success() {
            let err = String::from_utf8_lossy(&run.stderr);
            return Err(format!("extract failed: {}", err.lines().last().unwrap_or("").trim()));
        }
        Ok(format!("packets of {community_id} written to {}", out.display()))
    }
}

/// Row `i` of `r` as (column, value), nulls left out.
fn fields(r: &QueryResult, i: usize) -> Vec<(String, Value)> {
    let Some(row) = r.rows.get(i) else { return Vec::new() };
    r.columns.iter().zip(row).filter(|(_, v)| !v.is_null()).map(|(c, v)| (c.clone(), v.clone())).collect()
}

fn count(v: Option<&Value>) -> u64 {
    v.and_then(Value::as_u64).unwrap_or(0)
}

/// What to tell the user about a recorded triage action on `n` alerts.
fn triage_done(action: &TriageAction, n: usize) -> String {
    let mut what = Vec::new();
    if let Some(s) = action.status {
        what.push(s.as_str().to_owned());
    }
    if action.comment.is_some() {
        what.push("comment".into());
    }
    if let Some(a) = &action.assignee {
        what.push(format!("assigned to {a}"));
    }
    match action.meta_alert.as_deref() {
        Some("") => what.push("ungrouped".into()),
        Some(m) => what.push(format!("grouped into {m}")),
        None => {}
    }
    format!("{} on {n} alert(s) by {}", what.join(", "), action.who)
}
