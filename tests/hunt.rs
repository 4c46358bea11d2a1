//! `metron hunt`: every view drawn into ratatui's TestBackend from a real store (made
//! with `metron store ingest` from the records below) and compared with a reviewed
//! snapshot; the worker's queries, the triage actions and `--query` against that
//! store.

mod common;

use common::{lines, metron, packets_of, testdata};
use metron::hunt::app::{App, Screen};
use metron::hunt::keys::Command;
use metron::hunt::protocol::{Answer, Job, Request};
use metron::hunt::views;
use metron::hunt::worker::{Ctx, Settings};
use metron::store::{Reader, Status, Store};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::{json, Value};
use std::path::Path;

/// 2025-11-23 12:13:20 UTC.
const T: i64 = 1_763_900_000_000;
const HOSTILE: &str = "evil\x1b]2;pwned\x07\x1b[2J\u{9b}31m\u{202e}gpj.exe";

fn records() -> Vec<Value> {
    vec![
        json!({"guid": "ev-1", "timestamp": T, "source.type": "zeek.conn", "ip_src_addr": "10.0.0.5",
               "ip_src_port": 51234, "ip_dst_addr": "203.0.113.9", "ip_dst_port": 4444, "protocol": "tcp",
               "community_id": "1:wCb3OG7yAFWelaUydu0D+125CLM=", "uid": "CAbc123", "duration": 12.5,
               "enrichments.geo.ip_dst_addr.country": "NL", "enrichments.geo.ip_dst_addr.city": "Amsterdam",
               "enrichments.asn.ip_dst_addr.number": 64500, "enrichments.asn.ip_dst_addr.organization": "Example Hosting",
               "enrichments.host.ip_src_addr.owner": "finance-laptop-7",
               "threatintels.abuse.ip_dst_addr.ip": "alert", "threatintels.abuse.ip_dst_addr.ip.indicator": "203.0.113.9",
               "threatintels.abuse.ip_dst_addr.ip.name": "Known C2 server",
               "is_alert": true, "threat.triage.score": 85.0,
               "threat.triage.rules.0.name": "c2 port", "threat.triage.rules.0.score": 60,
               "threat.triage.rules.0.reason": "destination port 4444",
               "threat.triage.rules.1.name": "intel hit", "threat.triage.rules.1.score": 25,
               "threat.triage.rules.1.reason": "203.0.113.9 in abuse feed",
               "alerts": ["al-1"], "original_string": "CAbc123 10.0.0.5 51234 203.0.113.9 4444 tcp"}),
        json!({"guid": "ev-2", "timestamp": T + 60_000, "source.type": "zeek.dns", "ip_src_addr": "10.0.0.7",
               "ip_src_port": 53001, "ip_dst_addr": "198.51.100.2", "ip_dst_port": 53, "protocol": "udp",
               "query": HOSTILE, "uid": "CDns1", "is_alert": true, "threat.triage.score": 45.0,
               "alerts": ["al-2"], "original_string": format!("CDns1 query {HOSTILE}")}),
        json!({"guid": "ev-3", "timestamp": T + 1_000, "source.type": "zeek.conn", "ip_src_addr": "10.0.0.5",
               "ip_src_port": 51234, "ip_dst_addr": "203.0.113.9", "ip_dst_port": 4444, "protocol": "tcp",
               "community_id": "1:wCb3OG7yAFWelaUydu0D+125CLM=", "uid": "CAbc124",
               "original_string": "CAbc124 10.0.0.5 51234 203.0.113.9 4444 tcp"}),
        json!({"guid": "ev-4", "timestamp": T + 7_200_000, "source.type": "zeek.conn", "ip_src_addr": "10.0.0.9",
               "ip_src_port": 40000, "ip_dst_addr": "192.0.2.1", "ip_dst_port": 443, "protocol": "tcp",
               "original_string": "CQuiet 10.0.0.9 40000 192.0.2.1 443 tcp"}),
        json!({"guid": "al-1-r1", "source.type": "alert", "alert_id": "al-1", "timestamp": T, "priority": "HIGH",
               "description": "Connection to known C2", "rule": "c2-port", "rule.name": "C2 port 4444",
               "designated_host": "10.0.0.5", "event_guid": "ev-1", "event_source_type": "zeek.conn",
               "ip_src_addr": "10.0.0.5", "ip_dst_addr": "203.0.113.9", "threat.triage.score": 85.0,
               "count": 1, "first_timestamp": T, "last_timestamp": T,
               "enrichments.geo.ip_dst_addr.country": "NL"}),
        json!({"guid": "al-1-r2", "source.type": "alert", "alert_id": "al-1", "timestamp": T + 1_000, "priority": "HIGH",
               "description": "Connection to known C2", "rule": "c2-port", "rule.name": "C2 port 4444",
               "designated_host": "10.0.0.5", "event_guid": "ev-1", "event_source_type": "zeek.conn",
               "ip_src_addr": "10.0.0.5", "ip_dst_addr": "203.0.113.9", "threat.triage.score": 85.0,
               "count": 3, "first_timestamp": T, "last_timestamp": T + 1_000,
               "enrichments.geo.ip_dst_addr.country": "NL"}),
        json!({"guid": "al-2-r1", "source.type": "alert", "alert_id": "al-2", "timestamp": T + 60_000, "priority": "MED",
               "description": format!("DNS query {HOSTILE}"), "rule": "dns-tunnel", "rule.name": "DNS tunnel",
               "designated_host": "10.0.0.7", "event_guid": "ev-2", "event_source_type": "zeek.dns",
               "ip_src_addr": "10.0.0.7", "ip_dst_addr": "198.51.100.2", "threat.triage.score": 45.0,
               "count": 12, "first_timestamp": T + 60_000, "last_timestamp": T + 60_000}),
        json!({"guid": "al-3-r1", "source.type": "alert", "alert_id": "al-3", "timestamp": T + 120_000, "priority": "LOW",
               "description": "Rare user agent", "rule": "rare-ua", "rule.name": "Rare user agent",
               "designated_host": "10.0.0.9", "event_guid": "ev-missing", "event_source_type": "zeek.http",
               "ip_src_addr": "10.0.0.9", "ip_dst_addr": "192.0.2.1", "threat.triage.score": 10.0,
               "count": 1, "first_timestamp": T + 120_000, "last_timestamp": T + 120_000}),
        json!({"guid": "al-4-r1", "source.type": "alert", "alert_id": "al-4", "timestamp": T + 180_000, "priority": "LOW",
               "description": "Port scan", "rule": "scan", "rule.name": "Port scan",
               "designated_host": "10.0.0.9", "event_guid": "ev-4", "event_source_type": "zeek.conn",
               "ip_src_addr": "10.0.0.9", "ip_dst_addr": "192.0.2.1", "threat.triage.score": 20.0,
               "count": 40, "first_timestamp": T + 180_000, "last_timestamp": T + 180_000}),
    ]
}

/// Triage history with fixed times (as `store triage` writes it), so snapshots
/// hold still: al-1 opened, assigned and commented; al-4 resolved (hidden).
fn triage_lines() -> String {
    let line = |id: &str, alert: &str, status: Value, comment: Value, assignee: Value, meta: Value, t: i64| {
        json!({"action_id": id, "alert_id": alert, "status": status, "comment": comment, "assignee": assignee,
               "meta_alert": meta, "who": "ann", "timestamp": t})
        .to_string()
            + "\n"
    };
    [
        line("t1", "al-1", json!("OPEN"), Value::Null, json!("ann"), Value::Null, T + 300_000),
        line("t2", "al-1", Value::Null, json!("beacons every 60s \x1b]2;x\x07"), Value::Null, Value::Null, T + 360_000),
        line("t3", "al-1", Value::Null, Value::Null, Value::Null, json!("incident-7"), T + 420_000),
        line("t4", "al-2", Value::Null, Value::Null, Value::Null, json!("incident-7"), T + 420_000),
        line("t5", "al-4", json!("RESOLVE"), json!("scanner of the red team"), Value::Null, Value::Null, T + 480_000),
    ]
    .concat()
}

fn make_store(dir: &Path) -> Store {
    let input: String = records().iter().map(|r| r.to_string() + "\n").collect();
    let out = metron().args(["store", "ingest", "-q", "--store"]).arg(dir).write_stdin(input).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let store = Store::open(dir).unwrap();
    std::fs::write(store.triage_path(), triage_lines()).unwrap();
    store
}

/// Adds one record to the store in `dir`, as a second process would.
fn ingest_one(dir: &Path, record: &Value) {
    let out = metron()
        .args(["store", "ingest", "-q", "--store"])
        .arg(dir)
        .write_stdin(record.to_string() + "\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Runs requests through a worker context synchronously, feeding answers back.
fn settle(ctx: &mut Ctx, app: &mut App, reqs: Vec<Request>) {
    let mut reqs: std::collections::VecDeque<Request> = reqs.into();
    while let Some(r) = reqs.pop_front() {
        let answer = ctx.run(r.job);
        if let Answer::Failed(m) = &answer {
            panic!("worker failed: {m}");
        }
        reqs.extend(app.apply(r.id, answer));
    }
}

fn render(app: &App, w: u16, h: u16) -> String {
    let mut t = ratatui::Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| views::draw(f, app)).unwrap();
    let buf = t.backend().buffer().clone();
    for cell in buf.content() {
        assert!(!cell.symbol().chars().any(|c| c.is_control()), "a control character reached the screen");
    }
    views::buffer_text(&buf)
}

fn console(dir: &Path, color: bool) -> (Ctx, App) {
    let store = make_store(dir);
    let reader = Reader::open(&store).unwrap();
    let mut ctx = Ctx::new(reader, Settings { pcap_dir: None, exe: None, out_dir: dir.to_owned() });
    let mut app = App::new("ann", color);
    let reqs = app.start();
    settle(&mut ctx, &mut app, reqs);
    (ctx, app)
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn enter() -> KeyEvent {
    KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)
}

#[test]
fn queue_views() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut ctx, mut app) = console(tmp.path(), false);
    // By score; al-4 is resolved, so hidden.
    let ids: Vec<&str> = app.queue.alerts.iter().map(|a| a.alert_id.as_str()).collect();
    assert_eq!(ids, ["al-1", "al-2", "al-3"]);
    assert_eq!(app.queue.alerts[0].status, "OPEN");
    assert_eq!(app.queue.alerts[0].count, 3, "the latest record of a de-duplicated alert");
    assert_eq!(app.queue.alerts[0].meta_alert, "incident-7");
    insta::assert_snapshot!("queue_80x24", render(&app, 80, 24));
    let r = app.update(Command::ToggleClosed);
    settle(&mut ctx, &mut app, r);
    let r = app.update(Command::CycleSort);
    settle(&mut ctx, &mut app, r);
    assert_eq!(app.queue.alerts.len(), 4);
    insta::assert_snapshot!("queue_by_time_all_140x12", render(&app, 140, 12));
    app.update(Command::StatusMenu);
    insta::assert_snapshot!("queue_status_menu_80x24", render(&app, 80, 24));
    app.key(key('e'));
    for c in "beaconing to C2".chars() {
        app.key(key(c));
    }
    insta::assert_snapshot!("queue_comment_prompt_80x24", render(&app, 80, 24));
}

#[test]
fn detail_views() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut ctx, mut app) = console(tmp.path(), false);
    let r = app.update(Command::Open);
    settle(&mut ctx, &mut app, r);
    let d = app.detail.detail.as_ref().unwrap();
    assert_eq!(d.alert_id.as_deref(), Some("al-1"));
    assert_eq!(d.group, vec!["al-2"]);
    assert_eq!(d.history.len(), 3);
    insta::assert_snapshot!("detail_alert_80x24", render(&app, 80, 24));
    insta::assert_snapshot!("detail_alert_full_100x70", render(&app, 100, 70));
    // The hostile one.
    app.update(Command::Back);
    app.update(Command::Down);
    let r = app.update(Command::Open);
    settle(&mut ctx, &mut app, r);
    let text = render(&app, 100, 40);
    assert!(text.contains("evil\u{FFFD}]2;pwned\u{FFFD}\u{FFFD}[2J\u{FFFD}31m\u{FFFD}gpj.exe"), "{text}");
    insta::assert_snapshot!("detail_hostile_100x40", text);
    // An alert whose event is not in the store still has a page.
    app.update(Command::Back);
    app.update(Command::Down);
    let r = app.update(Command::Open);
    settle(&mut ctx, &mut app, r);
    insta::assert_snapshot!("detail_no_event_80x24", render(&app, 80, 24));
}

#[test]
fn search_pivot_and_charts_views() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut ctx, mut app) = console(tmp.path(), false);
    app.key(key('/'));
    for c in "ip_src_addr in 10.0.0.0/8 ip_dst_port<5000".chars() {
        app.key(key(c));
    }
    insta::assert_snapshot!("search_prompt_80x24", render(&app, 80, 24));
    let r = app.key(enter());
    settle(&mut ctx, &mut app, r);
    assert_eq!(app.screen, Screen::Results);
    assert_eq!(app.results.table.as_ref().unwrap().rows.len(), 4);
    insta::assert_snapshot!("search_results_80x24", render(&app, 80, 24));
    // Sideways: protocol comes into view.
    app.key(key('l'));
    app.key(key('l'));
    insta::assert_snapshot!("search_results_scrolled_80x24", render(&app, 80, 24));
    // Chosen columns, from the fields every event has (the search returned them all).
    app.key(key('c'));
    app.prompt.as_mut().unwrap().text = "uid, ip_dst_addr,query".into();
    assert!(app.key(enter()).is_empty(), "no new query");
    assert_eq!(app.results.offset, 0);
    insta::assert_snapshot!("search_results_chosen_columns_80x24", render(&app, 80, 24));
    // Pivot from the DNS event (second, by time) to its source address within an hour.
    app.update(Command::Down);
    app.key(key('p'));
    insta::assert_snapshot!("pivot_menu_80x24", render(&app, 80, 24));
    let r = app.key(key('s'));
    settle(&mut ctx, &mut app, r);
    assert_eq!(app.results.text, format!("ip_src_addr='10.0.0.7' since {} until {}", T - 3_540_000, T + 3_660_000));
    assert_eq!(app.results.table.as_ref().unwrap().rows.len(), 1);
    // From the first C2 event: the same community_id.
    let r = app.run_search("ip_dst_port=4444");
    settle(&mut ctx, &mut app, r);
    app.key(key('p'));
    let r = app.key(key('c'));
    settle(&mut ctx, &mut app, r);
    let guids: Vec<String> =
        app.results.table.as_ref().unwrap().rows.iter().map(|r| metron::store::cell_text(&r[0])).collect();
    assert_eq!(app.results.table.as_ref().unwrap().rows.len(), 2, "{guids:?}");
    // Enter opens the whole event by its guid.
    let r = app.update(Command::Open);
    settle(&mut ctx, &mut app, r);
    assert!(app.detail.detail.as_ref().unwrap().field("uid").is_some());
    insta::assert_snapshot!("event_detail_80x24", render(&app, 80, 24));
    // Charts of the queue: alerts over time, per priority, per rule.
    app.screen = Screen::Queue;
    app.back.clear();
    let r = app.update(Command::Charts);
    settle(&mut ctx, &mut app, r);
    insta::assert_snapshot!("charts_alerts_80x24", render(&app, 80, 24));
    // Saved and recent searches are in the store.
    app.screen = Screen::Results;
    app.update(Command::SaveSearch);
    for c in "c2 hosts".chars() {
        app.key(key(c));
    }
    let r = app.key(enter());
    settle(&mut ctx, &mut app, r);
    assert_eq!(app.message, "saved search \"c2 hosts\"");
    let r = app.update(Command::Searches);
    settle(&mut ctx, &mut app, r);
    let s = app.searches.list.as_ref().unwrap();
    assert_eq!(s.get(0, "kind"), Some(&json!("saved")));
    assert_eq!(s.get(0, "name"), Some(&json!("c2 hosts")));
    assert!(s.rows.len() >= 4, "recent searches too: {:?}", s.rows);
}

/// A finding from `metron profile`, stored like any event, is found by a search on
/// its kind and shows its reason and numbers in the detail page.
#[test]
fn a_finding_shows_its_reason_in_the_detail_page() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut ctx, mut app) = console(tmp.path(), false);
    let finding = json!({"guid": "019b7c00-8d28-7585-b8b7-d054bfb3b912", "source.type": "metron.finding",
        "timestamp": T + 5_000, "finding.kind": "beacon", "score": 0.97, "ip_src_addr": "10.0.0.7",
        "ip_dst_addr": "203.0.113.9", "first_seen": T - 86_000_000, "last_seen": T + 5_000,
        "reason": "10.0.0.7 called 203.0.113.9 288 times, every 5 min (± 3 s)", "finding.interval": 300.0});
    let out = metron()
        .args(["store", "ingest", "-q", "--store"])
        .arg(tmp.path())
        .write_stdin(finding.to_string() + "\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r = app.run_search("finding.kind=beacon");
    settle(&mut ctx, &mut app, r);
    assert_eq!(app.results.table.as_ref().unwrap().rows.len(), 1);
    let r = app.key(enter());
    settle(&mut ctx, &mut app, r);
    assert_eq!(app.screen, Screen::Detail);
    let text = render(&app, 120, 40);
    assert!(text.contains("reason") && text.contains("called 203.0.113.9 288 times, every 5 min"), "{text}");
    assert!(text.contains("finding.interval"), "{text}");
}

#[test]
fn help_is_drawn_from_the_key_table() {
    let mut app = App::new("ann", false);
    app.loaded = true;
    app.update(Command::Help);
    let first = render(&app, 80, 24);
    insta::assert_snapshot!("help_80x24", first);
    let all = render(&app, 100, 120);
    for b in metron::hunt::keys::KEYS {
        assert!(all.contains(b.help), "{} missing from help", b.help);
    }
    assert!(all.contains("ip_src_addr in 10.0.0.0/8"));
}

#[test]
fn actions_are_recorded_with_who_and_when_and_seen_after_refresh() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut ctx, mut app) = console(tmp.path(), false);
    // Mark al-2 and al-3, escalate both with one comment.
    app.update(Command::Down);
    app.update(Command::Mark);
    app.update(Command::Mark);
    app.key(key('s'));
    app.key(key('e'));
    for c in "both hosts".chars() {
        app.key(key(c));
    }
    let r = app.key(enter());
    assert!(
        matches!(&r[0].job, Job::Triage(a) if a.alert_ids == ["al-2", "al-3"] && a.status == Some(Status::Escalate))
    );
    settle(&mut ctx, &mut app, r);
    assert!(app.message.starts_with("ESCALATE, comment on 2 alert(s) by ann"), "{}", app.message);
    let statuses: Vec<(&str, &str)> =
        app.queue.alerts.iter().map(|a| (a.alert_id.as_str(), a.status.as_str())).collect();
    assert!(statuses.contains(&("al-2", "ESCALATE")) && statuses.contains(&("al-3", "ESCALATE")), "{statuses:?}");
    // Another console on the same store sees it on its next refresh.
    let other = Reader::open(&Store::open(tmp.path()).unwrap()).unwrap();
    let rows = other
        .query("SELECT alert_id, status, comment, who, \"timestamp\" FROM triage WHERE status = 'ESCALATE' ORDER BY alert_id", &[])
        .unwrap();
    assert_eq!(rows.rows.len(), 2);
    assert_eq!(rows.rows[0][2], json!("both hosts"));
    assert_eq!(rows.rows[0][3], json!("ann"));
    assert!(rows.rows[0][4].as_i64().unwrap() > T);
    // Ungroup al-1, assign it; dismiss it: it leaves the queue.
    app.update(Command::Unmark);
    app.update(Command::Top);
    let r = app.update(Command::Ungroup);
    settle(&mut ctx, &mut app, r);
    app.update(Command::Assign);
    app.prompt.as_mut().unwrap().text = "bob".into();
    let r = app.key(enter());
    settle(&mut ctx, &mut app, r);
    let a1 = app.queue.alerts.iter().find(|a| a.alert_id == "al-1").unwrap();
    assert_eq!((a1.meta_alert.as_str(), a1.assignee.as_str()), ("", "bob"));
    app.key(key('s'));
    app.key(key('d'));
    let r = app.key(enter());
    settle(&mut ctx, &mut app, r);
    assert!(app.queue.alerts.iter().all(|a| a.alert_id != "al-1"));
}

#[test]
fn new_alerts_appear_on_refresh_without_moving_the_selection() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut ctx, mut app) = console(tmp.path(), false);
    app.update(Command::Down);
    assert_eq!(app.queue.alerts[app.queue.selected].alert_id, "al-2");
    let new = json!({"guid": "al-9-r1", "source.type": "alert", "alert_id": "al-9", "timestamp": T + 999_000,
        "priority": "HIGH", "description": "New one", "rule": "x", "rule.name": "X", "threat.triage.score": 99.0,
        "count": 1, "first_timestamp": T + 999_000, "last_timestamp": T + 999_000});
    ingest_one(tmp.path(), &new);
    let r = app.tick_refresh();
    settle(&mut ctx, &mut app, r);
    assert_eq!(app.queue.alerts[0].alert_id, "al-9");
    assert_eq!(app.queue.alerts[app.queue.selected].alert_id, "al-2");
}

/// The console's second worker runs only searches and charts, never the queue's
/// refresh: it must still see data ingested and compacted after it opened.
#[test]
fn searches_see_what_was_ingested_and_compacted_after_the_console_opened() {
    let tmp = tempfile::tempdir().unwrap();
    let store = make_store(tmp.path());
    let reader = Reader::open(&store).unwrap();
    let mut search_lane = Ctx::new(reader, Settings { pcap_dir: None, exe: None, out_dir: tmp.path().to_owned() });
    let mut app = App::new("ann", false);
    let search = |ctx: &mut Ctx, app: &mut App| {
        let r = app.run_search("uid='CNEW'");
        settle(ctx, app, r);
        app.results.table.as_ref().map_or(0, |r| r.rows.len())
    };
    assert_eq!(search(&mut search_lane, &mut app), 0);
    for i in 0..3 {
        let new = json!({"guid": format!("new-{i}"), "source.type": "zeek.conn", "uid": "CNEW", "timestamp": T + i});
        ingest_one(tmp.path(), &new);
    }
    assert_eq!(search(&mut search_lane, &mut app), 3, "the search lane missed new data");
    let out = metron().args(["store", "compact", "--store"]).arg(tmp.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(search(&mut search_lane, &mut app), 3, "after compaction");
}

#[test]
fn scores_are_coloured_as_metron_did_unless_no_color() {
    let tmp = tempfile::tempdir().unwrap();
    let (_ctx, app) = console(tmp.path(), true);
    let mut t = ratatui::Terminal::new(TestBackend::new(140, 10)).unwrap();
    t.draw(|f| views::draw(f, &app)).unwrap();
    let buf = t.backend().buffer().clone();
    // Header on row 1; alerts from row 2: scores 85 (red), 45 (orange), 10 (plain).
    let fg = |y: u16| buf[(14, y)].fg;
    assert_eq!(buf[(14, 2)].symbol(), "8");
    assert_eq!(fg(2), ratatui::style::Color::Red);
    assert_eq!(fg(3), ratatui::style::Color::Indexed(208));
    assert_eq!(fg(4), ratatui::style::Color::Reset);
    let mut plain = app.clone();
    plain.color = false;
    t.draw(|f| views::draw(f, &plain)).unwrap();
    let buf = t.backend().buffer().clone();
    assert!(buf.content().iter().all(|c| c.fg == ratatui::style::Color::Reset));
}

#[test]
fn hunt_query_prints_the_search() {
    let tmp = tempfile::tempdir().unwrap();
    make_store(tmp.path());
    let out = metron()
        .args(["hunt", "--store"])
        .arg(tmp.path())
        .args(["--query", "in:alerts priority=HIGH cols:alert_id,count", "--format", "ndjson"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(lines(&out.stdout), vec![json!({"alert_id": "al-1", "count": 3})]);
    let out = metron()
        .args(["hunt", "--store"])
        .arg(tmp.path())
        .args(["--query", "source.type=zeek.dns cols:query", "--format", "table"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\x1b') && text.contains("pwned"), "{text}");
    let out = metron().args(["hunt", "--store"]).arg(tmp.path()).args(["--query", "x~("]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular expression"));
}

#[test]
fn extraction_says_clearly_when_it_cannot_run() {
    let tmp = tempfile::tempdir().unwrap();
    let store = make_store(tmp.path());
    let reader = Reader::open(&store).unwrap();
    // No --pcap-dir.
    let mut ctx = Ctx::new(reader, Settings { pcap_dir: None, exe: None, out_dir: tmp.path().to_owned() });
    let a = ctx.run(Job::Extract { community_id: "1:x".into() });
    assert!(matches!(&a, Answer::Failed(m) if m.contains("--pcap-dir")), "{a:?}");
    // A stand-in `extract` that writes the file: the message says where it went.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let fake = tmp.path().join("fake-metron");
        std::fs::write(
            &fake,
            "#!/bin/sh\n[ \"$2\" = --help ] && exit 0\nwhile [ $# -gt 0 ]; do [ \"$1\" = -o ] && : > \"$2\"; shift; done\n",
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let reader = Reader::open(&store).unwrap();
        let mut ctx = Ctx::new(
            reader,
            Settings { pcap_dir: Some(tmp.path().to_owned()), exe: Some(fake), out_dir: tmp.path().to_owned() },
        );
        let a = ctx.run(Job::Extract { community_id: "1:wCb3OG7yAFWelaUydu0D+125CLM=".into() });
        let want = tmp.path().join("flow-1_wCb3OG7yAFWelaUydu0D_125CLM_.pcap");
        assert!(matches!(&a, Answer::Done(m) if m.ends_with(&want.display().to_string())), "{a:?}");
        assert!(want.exists());
    }
}

/// The console's pcap extraction on what `metron capture --write` recorded: the flow
/// records go into a store, a search finds one, `x` extracts it through the real
/// `metron extract`, and the file holds the packets tshark selects with
/// `communityid == "..."` from the original capture.
#[test]
fn the_console_extracts_a_recorded_flow_as_tshark_selects_it() {
    let tmp = tempfile::tempdir().unwrap();
    let pcaps = tmp.path().join("pcaps");
    let flows = tmp.path().join("flows.ndjson");
    metron()
        .args(["capture", "-q", "-r"])
        .arg(testdata("pcaps/zeek-wikipedia.pcap"))
        .arg("--write")
        .arg(&pcaps)
        .arg("-o")
        .arg(&flows)
        .assert()
        .success();
    let dir = tmp.path().join("store");
    metron().args(["store", "ingest", "-q", "--store"]).arg(&dir).arg(&flows).assert().success();
    let reader = Reader::open(&Store::open(&dir).unwrap()).unwrap();
    let exe = assert_cmd::cargo::cargo_bin("metron");
    let out_dir = tmp.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let mut ctx =
        Ctx::new(reader, Settings { pcap_dir: Some(pcaps.clone()), exe: Some(exe), out_dir: out_dir.clone() });
    let mut app = App::new("ann", false);
    let id = "1:23JKDxfIoGW8QwmTQ80eENbb+Zw=";
    let r = app.run_search(&format!("community_id='{id}'"));
    settle(&mut ctx, &mut app, r);
    assert_eq!(app.results.table.as_ref().unwrap().rows.len(), 1, "one flow record");
    let r = app.key(key('x'));
    assert!(matches!(&r[0].job, Job::Extract { community_id } if community_id == id));
    settle(&mut ctx, &mut app, r);
    let file = out_dir.join("flow-1_23JKDxfIoGW8QwmTQ80eENbb_Zw_.pcap");
    assert_eq!(app.message, format!("packets of {id} written to {}", file.display()));
    let want = packets_of(&testdata("pcaps/roundtrip/zeek-wikipedia.pcap.1_23JKDxfIoGW8QwmTQ80eENbb_Zw_.pcap"));
    assert!(!want.is_empty());
    assert_eq!(packets_of(&file), want);
}

/// A damaged segment of events: the console still opens on the alerts and says, on
/// every screen, that part of the store is left out.
#[test]
fn a_damaged_segment_is_shown_in_the_title() {
    let tmp = tempfile::tempdir().unwrap();
    let store = make_store(tmp.path());
    let manifest = Reader::open(&store).unwrap().manifest().clone();
    let seg = &manifest.events[0].file;
    std::fs::write(tmp.path().join(seg), b"PAR1 not a parquet file").unwrap();
    let reader = Reader::open(&store).unwrap();
    let mut ctx = Ctx::new(reader, Settings { pcap_dir: None, exe: None, out_dir: tmp.path().to_owned() });
    let mut app = App::new("ann", false);
    let r = app.start();
    settle(&mut ctx, &mut app, r);
    assert_eq!(app.queue.alerts.len(), 3, "the alerts are read");
    assert_eq!(app.queue.damaged.len(), 1);
    assert!(app.queue.damaged[0].starts_with(seg.as_str()), "{:?}", app.queue.damaged);
    let screen = render(&app, 80, 24);
    assert!(screen.lines().next().unwrap().contains("1 damaged segment left out"), "{screen}");
}

/// The console's own layers (docs/architecture.md): the app and the worker talk only
/// through `protocol`, all SQL is in `queries`, and drawing never reaches the worker
/// or the queries. Reads each file's code outside its unit tests.
#[test]
fn the_console_modules_import_only_their_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib/hunt");
    // Files (or folders) and the hunt modules they must not name.
    let rules: &[(&str, &[&str])] = &[
        ("app", &["worker", "queries", "views"]),
        ("views", &["worker", "queries"]),
        ("worker.rs", &["app", "state", "views"]),
        ("queries.rs", &["app", "state", "views", "worker"]),
        ("state.rs", &["app", "worker", "queries", "views"]),
        ("protocol.rs", &["app", "state", "worker", "queries", "views", "search"]),
    ];
    let (mut broken, mut checked) = (Vec::new(), 0);
    for (place, forbidden) in rules {
        let path = root.join(place);
        let files: Vec<std::path::PathBuf> = if path.is_dir() {
            std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()).collect()
        } else {
            vec![path]
        };
        for file in files.iter().filter(|f| f.file_name().is_some_and(|n| n != "tests.rs")) {
            checked += 1;
            let text = std::fs::read_to_string(file).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for line in code.lines().map(str::trim).filter(|l| !l.starts_with("//")) {
                for name in *forbidden {
                    if names_module(line, name) {
                        broken.push(format!("{}: {line}", file.strip_prefix(&root).unwrap().display()));
                    }
                }
            }
        }
    }
    assert!(broken.is_empty(), "hunt's layers broken:\n  {}", broken.join("\n  "));
    assert!(checked >= 12, "only {checked} files read");
    assert!(names_module("use crate::hunt::{keys, worker};", "worker"));
    assert!(names_module("use super::worker::Settings;", "worker"));
    assert!(!names_module("let worker = 1; app.apply(x)", "app"));
}

/// Whether `line` names module `name` in a path (`::name`, `{name`, `, name`).
fn names_module(line: &str, name: &str) -> bool {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    line.match_indices(name).any(|(at, _)| {
        let before = line[..at].trim_end();
        let after = line[at + name.len()..].chars().next();
        !after.is_some_and(is_word)
            && !before.chars().last().is_some_and(is_word)
            && (before.ends_with("::") || before.ends_with('{') || (before.ends_with(',') && line.starts_with("use ")))
    })
}

#[test]
fn a_search_in_a_source_view_compares_its_numbers_as_numbers_and_tab_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut ctx, mut app) = console(tmp.path(), false);
    // Another sensor writes `duration` as text: in `events` it is text now.
    let text = json!({"guid": "other-1", "source.type": "other.sensor", "timestamp": T, "duration": "00:00:09"});
    ingest_one(tmp.path(), &text);
    // `/`, then tab from the store's own views and columns.
    let reqs = app.key(key('/'));
    settle(&mut ctx, &mut app, reqs);
    app.prompt.as_mut().unwrap().text.clear();
    let tab = KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE);
    for c in "in:zeek_co".chars() {
        app.key(key(c));
    }
    app.key(tab);
    for c in "dura".chars() {
        app.key(key(c));
    }
    app.key(tab);
    assert_eq!(app.prompt.as_ref().unwrap().text, "in:zeek_conn duration");
    for c in ">9 sort:-duration cols:guid,duration".chars() {
        app.key(key(c));
    }
    let reqs = app.key(enter());
    settle(&mut ctx, &mut app, reqs);
    let r = app.results.table.as_ref().expect("results");
    // 12.5 > 9 as numbers; as text "12.5" < "9" and would be left out.
    assert_eq!(r.rows, vec![vec![json!("ev-1"), json!(12.5)]]);
    let in_events = Reader::open(&Store::open(tmp.path()).unwrap())
        .unwrap()
        .query("SELECT typeof(duration) FROM events LIMIT 1", &[])
        .unwrap();
    assert_eq!(in_events.rows[0][0], json!("VARCHAR"));
}

#[test]
fn a_search_in_two_steps_returns_what_one_query_does() {
    use metron::hunt::{queries, search};
    let tmp = tempfile::tempdir().unwrap();
    let store = make_store(tmp.path());
    let reader = Reader::open(&store).unwrap();
    // Limit 2: the first step fills the limit and the rows are read by guid; 1,000:
    // every match is found in the first step and read by the search itself. Limit 2
    // only for searches ordered by time (unique here), so that ties cannot differ.
    let timed = "ip_src_addr in 10.0.0.0/8 since 1763899000000 until 1763910000000";
    let by_time = ["ip_src_addr in 10.0.0.0/8", "protocol=tcp cols:guid,uid", "4444", "in:zeek_conn", timed];
    let cases = [
        "ip_src_addr in 10.0.0.0/8",
        "ip_src_addr in 10.0.0.0/8 ip_dst_port=4444",
        "sort:ip_src_addr",
        "sort:-duration limit:2",
        "protocol=tcp cols:guid,uid",
        "in:zeek_conn sort:-ip_dst_port",
        "uid=nothing-has-this",
        "4444",
        timed,
    ];
    let runs = cases.iter().map(|t| (*t, 1000)).chain(by_time.iter().map(|t| (*t, 2)));
    for (text, limit) in runs {
        let s = search::parse(text, T).unwrap();
        let two = queries::run_search(&reader, &s, limit).unwrap();
        let one = reader.query(&s.sql(limit), &s.params).unwrap();
        assert_eq!(two.columns, one.columns, "{text}");
        let rows = |r: &metron::store::QueryResult| {
            let mut v: Vec<String> = r.rows.iter().map(|row| Value::from(row.clone()).to_string()).collect();
            v.sort();
            v
        };
        assert_eq!(rows(&two), rows(&one), "{text}");
        // In the same order of the sort column.
        let key = s.sort.as_ref().map_or("timestamp", |(c, _)| c.as_str());
        if let Some(i) = one.columns.iter().position(|c| c == key) {
            let order = |r: &metron::store::QueryResult| r.rows.iter().map(|row| row[i].clone()).collect::<Vec<_>>();
            assert_eq!(order(&two), order(&one), "{text}");
        }
        assert!(limit > 2 || two.rows.len() == 2, "{text}: the first step did not fill the limit");
        assert!(!one.rows.is_empty() || text.contains("nothing"), "{text} found nothing: the test would prove nothing");
    }
}
