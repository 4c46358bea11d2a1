//! Triage: Apache Metron's alert workflow (NEW, OPEN, ESCALATE, DISMISS, RESOLVE),
//! comments, assignees and meta-alerts, kept as an append-only history. Every action
//! is one line of `triage.ndjson` with who and when; the current state of an alert
//! is its latest action (the `alerts` view works it out).

use super::{Reader, Store, StoreError};
use crate::event::{new_guid, now_ms};
use serde_json::{json, Value};
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// The states of Apache Metron's alert workflow.
pub const STATUSES: [&str; 5] = ["NEW", "OPEN", "ESCALATE", "DISMISS", "RESOLVE"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    New,
    Open,
    Escalate,
    Dismiss,
    Resolve,
}

impl Status {
    pub fn parse(text: &str) -> Option<Status> {
        match text.to_ascii_uppercase().as_str() {
            "NEW" => Some(Status::New),
            "OPEN" => Some(Status::Open),
            "ESCALATE" => Some(Status::Escalate),
            "DISMISS" => Some(Status::Dismiss),
            "RESOLVE" => Some(Status::Resolve),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        STATUSES[self as usize]
    }
}

/// One action on one or more alerts. Fields left `None` are not changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TriageAction {
    pub alert_ids: Vec<String>,
    pub status: Option<Status>,
    pub comment: Option<String>,
    pub assignee: Option<String>,
    /// Group into this meta-alert; `Some("")` takes the alerts out of their group.
    pub meta_alert: Option<String>,
    /// Who did it.
    pub who: String,
}

impl TriageAction {
    fn is_empty(&self) -> bool {
        self.status.is_none() && self.comment.is_none() && self.assignee.is_none() && self.meta_alert.is_none()
    }
}

/// Who is acting when nobody says: `$USER`, else `unknown`.
pub fn current_user() -> String {
    std::env::var("USER").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| "unknown".into())
}

/// Records `action` for each of its alerts, after checking that every alert exists
/// (all unknown ids are named at once). Returns the action ids.
pub fn record(store: &Store, action: &TriageAction) -> Result<Vec<String>, StoreError> {
    if action.alert_ids.is_empty() {
        return Err(StoreError::Invalid("no alert ids given".into()));
    }
    if action.is_empty() {
        return Err(StoreError::Invalid("nothing to record: give --status, --comment, --assign or a group".into()));
    }
    let reader = Reader::open(store)?;
    let ids: Vec<duckdb::types::Value> = action.alert_ids.iter().map(|a| a.clone().into()).collect();
    let placeholders = vec!["?"; ids.len()].join(", ");
    let known = reader
        .query(&format!("SELECT DISTINCT alert_id FROM alert_records WHERE alert_id IN ({placeholders})"), &ids)
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let known: Vec<&str> = known.rows.iter().filter_map(|r| r.first().and_then(Value::as_str)).collect();
    let unknown: Vec<&str> = action.alert_ids.iter().map(String::as_str).filter(|id| !known.contains(id)).collect();
    if !unknown.is_empty() {
        return Err(StoreError::Invalid(format!("no such alert in {}: {}", store.dir().display(), unknown.join(", "))));
    }
    let at = now_ms();
    let mut lines = Vec::new();
    let mut action_ids = Vec::new();
    for alert_id in &action.alert_ids {
        let id = new_guid();
        let line = json!({
            "action_id": id,
            "alert_id": alert_id,
            "status": action.status.map(Status::as_str),
            "comment": action.comment,
            "assignee": action.assignee,
            "meta_alert": action.meta_alert,
            "who": action.who,
            "timestamp": at,
        });
        lines.extend_from_slice(line.to_string().as_bytes());
        lines.push(b'\n');
        action_ids.push(id);
    }
    append_lines(&store.triage_path(), &lines)?;
    Ok(action_ids)
}

/// Keeps a search: `kind` is `saved` (with a name) or `recent`.
pub fn append_search(store: &Store, name: &str, query: &str, kind: &str, who: &str) -> Result<(), StoreError> {
    let line = json!({ "name": name, "query": query, "kind": kind, "who": who, "timestamp": now_ms() });
    let mut bytes = line.to_string().into_bytes();
    bytes.push(b'\n');
    append_lines(&store.searches_path(), &bytes)
}

/// Appends whole lines under an exclusive lock, durably. A line torn by a crash
/// before is ended first, so that it cannot swallow the new one.
fn append_lines(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let err = |e| StoreError::io(path, e);
    let mut f = fs::OpenOptions::new().create(true).read(true).append(true).open(path).map_err(err)?;
    f.lock().map_err(err)?;
    let len = f.metadata().map_err(err)?.len();
    if len > 0 {
        let mut last = [0u8; 1];
        f.seek(SeekFrom::Start(len - 1)).map_err(err)?;
        f.read_exact(&mut last).map_err(err)?;
        if last[0] != b'\n' {
            f.write_all(b"\n").map_err(err)?;
        }
    }
    f.write_all(bytes).map_err(err)?;
    f.sync_data().map_err(err)?;
    f.unlock().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_in_any_case() {
        assert_eq!(Status::parse("escalate"), Some(Status::Escalate));
        assert_eq!(Status::parse("RESOLVE").map(Status::as_str), Some("RESOLVE"));
        assert_eq!(Status::parse("closed"), None);
    }

    #[test]
    fn a_torn_line_is_ended_before_appending() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("log");
        fs::write(&p, "{\"a\":1}\n{\"torn\":").unwrap();
        append_lines(&p, b"{\"b\":2}\n").unwrap();
        let text = fs::read_to_string(&p).unwrap();
        assert_eq!(text, "{\"a\":1}\n{\"torn\":\n{\"b\":2}\n");
    }
}
