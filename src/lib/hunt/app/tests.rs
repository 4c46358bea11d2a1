//! The app's unit tests: commands and answers in, state and requests out.

use super::*;
use crate::hunt::keys::PivotKind;
use crate::hunt::protocol::{Detail, SortKey, QUEUE_LIMIT, SEARCH_LIMIT};
use crate::hunt::queries::{queue_sql, AlertColumns};
use crate::hunt::search;
use crate::store::{QueryResult, SqlValue, TriageAction};
use serde_json::{json, Value};

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
    assert_eq!(app.queue.alerts[app.queue.selected].alert_id, "b");
    let r = app.tick_refresh();
    assert_eq!(r.len(), 1);
    // A new alert arrives at the top.
    app.apply(r[0].id, Answer::Queue(queue_result(&["new", "a", "b", "c"]), Vec::new()));
    assert_eq!(app.queue.alerts[app.queue.selected].alert_id, "b");
    // Another refresh is not sent while one is out.
    let r = app.tick_refresh();
    assert!(app.tick_refresh().is_empty());
    // The selected alert disappears: the selection stays in range.
    app.apply(r[0].id, Answer::Queue(queue_result(&["new"]), Vec::new()));
    assert_eq!(app.queue.selected, 0);
}

#[test]
fn more_alerts_or_rows_than_shown_are_told() {
    let ids: Vec<String> = (0..=QUEUE_LIMIT).map(|i| format!("a{i}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let app = loaded(&refs);
    assert_eq!(app.queue.alerts.len(), QUEUE_LIMIT as usize);
    assert!(app.queue.more);
    let app = loaded(&refs[..10]);
    assert!(!app.queue.more);

    let many = |n: u64| QueryResult { columns: vec!["x".into()], rows: (0..n).map(|i| vec![json!(i)]).collect() };
    let mut app = loaded(&["a"]);
    let r = app.run_search("x>0");
    app.apply(r[0].id, Answer::Search(many(SEARCH_LIMIT + 1)));
    assert_eq!(app.results.table.as_ref().unwrap().rows.len(), SEARCH_LIMIT as usize);
    assert!(app.message.starts_with("the first 1000 rows"), "{}", app.message);
    // A search with its own limit shows all it asked for.
    let r = app.run_search("x>0 limit:1001");
    app.apply(r[0].id, Answer::Search(many(1001)));
    assert_eq!(app.results.table.as_ref().unwrap().rows.len(), 1001);
    assert_eq!(app.message, "1001 rows");
}

#[test]
fn stale_answers_are_dropped() {
    let mut app = loaded(&["a"]);
    let first = app.run_search("x=1");
    let second = app.run_search("x=2");
    app.apply(first[0].id, Answer::Search(QueryResult::default()));
    assert!(app.results.table.is_none());
    app.apply(second[0].id, Answer::Search(QueryResult { columns: vec!["x".into()], rows: vec![vec![json!(2)]] }));
    assert_eq!(app.results.table.as_ref().unwrap().rows.len(), 1);
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
fn pivots_build_searches_from_the_row() {
    let mut app = loaded(&["a"]);
    app.screen = Screen::Results;
    app.results.table = Some(QueryResult {
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
    assert_eq!(app.results.shown_columns(), vec!["timestamp", "ip_src_addr"]);
    app.key(key('c'));
    assert_eq!(app.prompt.as_ref().map(|p| p.text.as_str()), Some("timestamp,ip_src_addr"));
    app.prompt.as_mut().unwrap().text = "query, uid".into();
    assert!(app.update(Command::Submit).is_empty(), "the results have them: no query");
    assert_eq!(app.results.shown_columns(), vec!["query", "uid"]);
    // A column the results lack, when the search returned every column: named.
    app.key(key('c'));
    app.prompt.as_mut().unwrap().text = "uid nosuch".into();
    assert!(app.update(Command::Submit).is_empty());
    assert!(app.message.contains("no column nosuch"), "{}", app.message);
    // Empty: every column.
    app.key(key('c'));
    app.prompt.as_mut().unwrap().text.clear();
    app.update(Command::Submit);
    assert_eq!(app.results.shown_columns().len(), 4);
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
    assert_eq!(app.results.offset, 0);
    app.key(key('l'));
    app.key(KeyEvent::new(KeyCode::Right, KeyModifiers::NONE));
    app.key(key('l'));
    assert_eq!(app.results.offset, 2, "stops at the last column");
    app.key(KeyEvent::new(KeyCode::Left, KeyModifiers::NONE));
    assert_eq!(app.results.offset, 1);
    // A new search starts at the first column.
    results(&mut app, "cols:a,b", &["a", "b"]);
    assert_eq!(app.results.offset, 0);
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
    assert!(matches!(&r[0].job, Job::Queue { spec, .. } if spec.filter == "meta_alert='inc''7'" && spec.show_closed));
    assert!(queue_sql(&app.queue.spec, &AlertColumns::default()).is_ok());
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
    app.results.table = Some(QueryResult { columns: vec!["x".into()], rows: vec![vec![json!(1)]] });
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

#[test]
fn tab_completes_views_and_fields_from_the_store() {
    let mut app = loaded(&["a"]);
    let r = app.key(key('/'));
    let id = r.iter().find(|r| r.job == Job::Vocabulary).expect("the prompt asks for the views").id;
    let cols = |c: &[&str]| c.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    app.apply(
        id,
        Answer::Vocabulary(search::Vocabulary {
            tables: vec![
                ("events".into(), cols(&["timestamp", "ip_src_addr"])),
                ("alerts".into(), cols(&["alert_id"])),
                ("zeek_conn".into(), cols(&["timestamp", "duration", "conn_state"])),
                ("zeek_dns".into(), cols(&["query"])),
            ],
        }),
    );
    let tab = KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE);
    typed(&mut app, "in:z");
    app.key(tab);
    assert_eq!(app.prompt.as_ref().unwrap().text, "in:zeek_");
    assert!(app.message.contains("zeek_conn") && app.message.contains("zeek_dns"), "{}", app.message);
    typed(&mut app, "c");
    app.key(tab);
    typed(&mut app, "dur");
    app.key(tab);
    assert_eq!(app.prompt.as_ref().unwrap().text, "in:zeek_conn duration");
    typed(&mut app, ">100");
    let r = app.update(Command::Submit);
    assert!(matches!(&r[0].job, Job::Search { text, .. } if text == "in:zeek_conn duration>100"));
    // The columns prompt completes the columns of the view the results came from.
    app.apply(
        r[0].id,
        Answer::Search(QueryResult { columns: cols(&["timestamp", "duration"]), rows: vec![vec![json!(1), json!(2)]] }),
    );
    app.key(key('c'));
    app.prompt.as_mut().unwrap().text = "timestamp,con".into();
    app.key(tab);
    assert_eq!(app.prompt.as_ref().unwrap().text, "timestamp,conn_state");
}
