//! The detail page: an alert (or an event) on one page — the triggering event's
//! fields, enrichment, threat intel, the triage score with each rule's reason, and
//! the history of status changes and comments.

use super::{clean, dim, full_time, heading, score_style, value_text};
use crate::hunt::app::App;
use crate::hunt::protocol::Detail;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;
use serde_json::Value;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let lines = match &app.detail.detail {
        Some(d) => lines(d, app),
        None => vec![Line::styled("loading…", dim(app))],
    };
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((app.detail.scroll, 0)), area);
}

/// Field names shown in the alert's own section, in this order.
const ALERT_FIELDS: [&str; 13] = [
    "rule.name",
    "rule",
    "description",
    "priority",
    "threat.triage.score",
    "status",
    "assignee",
    "meta_alert",
    "count",
    "first_timestamp",
    "last_timestamp",
    "designated_host",
    "event_source_type",
];

fn lines<'a>(d: &Detail, app: &App) -> Vec<Line<'a>> {
    let mut out = Vec::new();
    let title = match &d.alert_id {
        Some(id) => format!("alert {}", clean(id)),
        None => format!("event {}", d.field("guid").map(value_text).unwrap_or_default()),
    };
    out.push(Line::styled(title, heading(app)));
    if !d.alert.is_empty() {
        let fields: Vec<(String, Value)> =
            ALERT_FIELDS.iter().filter_map(|name| d.alert.iter().find(|(n, _)| n == name).cloned()).collect();
        section(&mut out, app, "", &fields);
        if !d.group.is_empty() {
            let names: Vec<String> = d.group.iter().map(|g| clean(g)).collect();
            out.push(Line::raw(format!("  grouped with: {}", names.join(", "))));
        }
    }
    // Enrichment and intel come from the event; an alert keeps copies when the
    // event is not in the store.
    let source: &[(String, Value)] = if d.event.is_empty() { &d.alert } else { &d.event };
    let pick = |prefix: &str| -> Vec<(String, Value)> {
        let mut v: Vec<(String, Value)> = source.iter().filter(|(n, _)| n.starts_with(prefix)).cloned().collect();
        v.sort_by_key(|a| natural(&a.0));
        v
    };
    let triage = pick("threat.triage.");
    if !triage.is_empty() {
        section(&mut out, app, "triage score", &triage);
    }
    section(&mut out, app, "threat intel", &pick("threatintels."));
    section(&mut out, app, "enrichment (geo, asn, asset, network)", &pick("enrichments."));
    event_section(&mut out, app, d);
    if d.alert_id.is_some() {
        history(&mut out, app, &d.history);
    }
    out
}

/// The event's own fields (what the sections above did not show), or why there
/// are none.
fn event_section<'a>(out: &mut Vec<Line<'a>>, app: &App, d: &Detail) {
    if !d.event.is_empty() {
        let mut rest: Vec<(String, Value)> = d
            .event
            .iter()
            .filter(|(n, _)| {
                !n.starts_with("threat.triage.") && !n.starts_with("threatintels.") && !n.starts_with("enrichments.")
            })
            .cloned()
            .collect();
        rest.sort_by(|a, b| event_order(&a.0).cmp(&event_order(&b.0)).then_with(|| a.0.cmp(&b.0)));
        section(out, app, "event", &rest);
    } else if d.alert_id.is_some() {
        out.push(Line::raw(""));
        out.push(Line::styled("event", heading(app)));
        out.push(Line::styled("  the triggering event is not in this store", dim(app)));
    }
}

/// The alert's triage history, one line per action.
fn history<'a>(out: &mut Vec<Line<'a>>, app: &App, history: &[Vec<Value>]) {
    out.push(Line::raw(""));
    out.push(Line::styled("history", heading(app)));
    if history.is_empty() {
        out.push(Line::styled("  NEW, never triaged", dim(app)));
    }
    for h in history {
        let get = |i: usize| h.get(i).map(value_text).unwrap_or_default();
        let when = h.first().and_then(Value::as_i64).map(full_time).unwrap_or_default();
        let mut what = Vec::new();
        if !get(2).is_empty() {
            what.push(get(2));
        }
        if !get(4).is_empty() {
            what.push(format!("assigned to {}", get(4)));
        }
        match h.get(5) {
            Some(Value::String(m)) if m.is_empty() => what.push("ungrouped".into()),
            Some(Value::String(m)) => what.push(format!("grouped into {}", clean(m))),
            _ => {}
        }
        if !get(3).is_empty() {
            what.push(format!("\"{}\"", get(3)));
        }
        out.push(Line::raw(format!("  {when}  {}  {}", get(1), what.join("  "))));
    }
}

fn section<'a>(out: &mut Vec<Line<'a>>, app: &App, title: &str, fields: &[(String, Value)]) {
    if !title.is_empty() {
        out.push(Line::raw(""));
        out.push(Line::styled(title.to_owned(), heading(app)));
        if fields.is_empty() {
            out.push(Line::styled("  none", dim(app)));
            return;
        }
    }
    let width = fields.iter().map(|(n, _)| n.chars().count()).max().unwrap_or(0).min(36);
    for (name, v) in fields {
        let text = match (name.as_str(), v) {
            ("timestamp" | "first_timestamp" | "last_timestamp" | "triaged_at", Value::Number(n)) => {
                n.as_i64().map(|ms| format!("{} ({ms})", full_time(ms))).unwrap_or_else(|| value_text(v))
            }
            _ => value_text(v),
        };
        let style = if name == "threat.triage.score" { score_style(app, v.as_f64()) } else { Default::default() };
        out.push(Line::from(vec![
            Span::styled(format!("  {:<width$}  ", clean(name)), dim(app)),
            Span::styled(text, style),
        ]));
    }
}

/// Numbers in names compare as numbers (`rules.10` after `rules.9`).
fn natural(name: &str) -> Vec<(String, u64)> {
    name.split('.').map(|p| p.parse::<u64>().map_or((p.to_owned(), 0), |n| (String::new(), n))).collect()
}

/// The 7-tuple first, then the rest by name, the raw record last.
fn event_order(name: &str) -> u8 {
    match name {
        "timestamp" => 0,
        "source.type" => 1,
        "ip_src_addr" => 2,
        "ip_src_port" => 3,
        "ip_dst_addr" => 4,
        "ip_dst_port" => 5,
        "protocol" => 6,
        "original_string" => 9,
        _ => 8,
    }
}
