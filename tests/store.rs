//! `metron store`: a real store on disk, driven through the binary as a user would.

mod common;

use common::{lines, metron, testdata};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Events of the WRCCDC Zeek logs (conn, dns, ssl, x509, notice, weird), parsed by metron.
fn zeek_events() -> Vec<u8> {
    let dir = testdata("zeek/wrccdc2018-tsv");
    let mut cmd = metron();
    cmd.arg("parse").arg("-q");
    for log in ["conn", "dns", "ssl", "x509", "notice", "weird"] {
        cmd.arg(dir.join(format!("{log}.log")));
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn ingest(store: &Path, input: &[u8], extra: &[&str]) -> std::process::Output {
    metron().args(["store", "ingest", "--store"]).arg(store).args(extra).write_stdin(input.to_vec()).output().unwrap()
}

/// `metron store ingest ARGS --store STORE FILE` as a background process, quiet.
fn spawn_ingest(args: &[&str], store: &Path, file: &Path) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("metron"))
        .args(["store", "ingest"])
        .args(args)
        .arg("--store")
        .arg(store)
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn query(store: &Path, sql: &str) -> Vec<Value> {
    let out = metron().args(["store", "query", "--format", "ndjson", "--store"]).arg(store).arg(sql).output().unwrap();
    assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
    lines(&out.stdout)
}

fn count(store: &Path, sql: &str) -> u64 {
    let rows = query(store, sql);
    rows[0].as_object().and_then(|o| o.values().next()).and_then(Value::as_u64).unwrap()
}

/// Equal as JSON, numbers compared as numbers (DuckDB reads 3 and 3.0 alike).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => (x.as_f64().unwrap() - y.as_f64().unwrap()).abs() < 1e-9,
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        _ => a == b,
    }
}

#[test]
fn every_field_of_every_event_comes_back_as_it_went_in() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s");
    let input = zeek_events();
    let sent = lines(&input);
    assert!(sent.len() > 900, "{}", sent.len());
    let out = ingest(&store, &input, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stored = query(&store, "SELECT * FROM events");
    assert_eq!(stored.len(), sent.len());
    let by_guid: std::collections::HashMap<&str, &Value> =
        stored.iter().map(|e| (e["guid"].as_str().unwrap(), e)).collect();
    for e in &sent {
        let got = by_guid[e["guid"].as_str().unwrap()];
        for (k, v) in e.as_object().unwrap() {
            assert!(same(v, &got[k]), "{k}: sent {v}, stored {}", got[k]);
        }
        // Nothing added but columns other events have (null here).
        for (k, v) in got.as_object().unwrap() {
            assert!(v.is_null() || e.get(k).is_some(), "{k} = {v} was not sent");
        }
    }
    // The standard fields are typed columns.
    let types = query(&store, "SELECT column_name, column_type FROM (DESCRIBE events)");
    let ty = |c: &str| types.iter().find(|r| r["column_name"] == c).map(|r| r["column_type"].clone());
    assert_eq!(ty("timestamp"), Some(json!("BIGINT")));
    assert_eq!(ty("ip_src_port"), Some(json!("INTEGER")));
    assert_eq!(ty("is_alert"), Some(json!("BOOLEAN")));
}

#[test]
fn ingesting_the_same_input_twice_adds_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s");
    let input = zeek_events();
    let n = lines(&input).len() as u64;
    assert!(ingest(&store, &input, &["--batch-rows", "300"]).status.success());
    let again = ingest(&store, &input, &["--batch-rows", "250"]);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains(&format!("{} duplicates", metron::io::thousands(n))));
    assert_eq!(count(&store, "SELECT count(*) FROM events"), n);
    assert_eq!(count(&store, "SELECT count(DISTINCT guid) FROM events"), n);
    // Records without a guid get one from their content, so they too are stored once.
    let bare = b"{\"source.type\":\"custom\",\"msg\":\"a\"}\n{\"source.type\":\"custom\",\"msg\":\"b\"}\n";
    assert!(ingest(&store, bare, &[]).status.success());
    assert!(ingest(&store, bare, &[]).status.success());
    assert_eq!(count(&store, "SELECT count(*) FROM events WHERE \"source.type\" = 'custom'"), 2);
}

/// Alert records of one alert: the first, then a de-dup update with the final count.
fn alert_records(id: &str) -> Vec<u8> {
    let first = json!({"source.type": "alert", "alert_id": id, "guid": format!("{id}-1"), "timestamp": 1_700_000_000_000i64,
        "description": "beacon", "priority": "HIGH", "designated_host": "10.0.0.1", "rule": "r1", "count": 1});
    let update = json!({"source.type": "alert", "alert_id": id, "guid": format!("{id}-2"), "timestamp": 1_700_000_000_000i64,
        "description": "beacon", "priority": "HIGH", "designated_host": "10.0.0.1", "rule": "r1", "count": 1000,
        "alert_update": "end_of_input"});
    format!("{first}\n{update}\n").into_bytes()
}

#[test]
fn alert_updates_apply_once_and_triage_is_kept_with_who_and_when() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s");
    let input = alert_records("A1");
    assert!(ingest(&store, &input, &[]).status.success());
    assert!(ingest(&store, &input, &[]).status.success());
    let alerts = query(&store, "SELECT alert_id, \"count\", status FROM alerts");
    assert_eq!(alerts, vec![json!({"alert_id": "A1", "count": 1000, "status": "NEW"})]);

    let triage = |args: &[&str]| {
        metron().args(["store", "triage", "--store"]).arg(&store).args(args).env("USER", "ana").output().unwrap()
    };
    let out = triage(&["A1", "--status", "escalate", "--comment", "beaconing to known C2"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(triage(&["A1", "--assign", "bob", "--who", "lead"]).status.success());
    let unknown = triage(&["A1", "NOPE", "NOPE2", "--status", "OPEN"]);
    assert_eq!(unknown.status.code(), Some(2));
    let err = String::from_utf8_lossy(&unknown.stderr);
    assert!(err.contains("NOPE, NOPE2"), "{err}");
    assert_eq!(triage(&["A1", "--status", "closed"]).status.code(), Some(2));

    let a = query(&store, "SELECT status, assignee, comments FROM alerts");
    assert_eq!(a, vec![json!({"status": "ESCALATE", "assignee": "bob", "comments": 1})]);
    let history = query(&store, "SELECT status, comment, assignee, who FROM triage ORDER BY \"timestamp\", action_id");
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["who"], "ana");
    assert_eq!(history[0]["comment"], "beaconing to known C2");
    assert_eq!(history[1]["who"], "lead");
}

#[test]
fn new_fields_and_changed_types_never_fail_an_ingest() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s");
    let one = b"{\"guid\":\"g1\",\"source.type\":\"t\",\"a\":1}\n";
    let two = b"{\"guid\":\"g2\",\"source.type\":\"t\",\"a\":\"text now\",\"b\":[1,2]}\n";
    // Keys that differ only in case cannot both be DuckDB columns: kept whole as JSON.
    let three = b"{\"guid\":\"g3\",\"source.type\":\"t\",\"Host\":\"x\",\"host\":\"y\"}\n";
    for batch in [&one[..], two, three] {
        let out = ingest(&store, batch, &[]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let rows = query(&store, "SELECT guid, a, b, event FROM events ORDER BY guid");
    assert_eq!(rows[0]["a"], "1");
    assert_eq!(rows[1]["a"], "text now");
    assert_eq!(rows[1]["b"], json!([1, 2]));
    assert_eq!(rows[2]["guid"], "g3");
    let whole = &rows[2]["event"];
    assert_eq!((whole["Host"].clone(), whole["host"].clone()), (json!("x"), json!("y")), "{whole}");
}

#[test]
fn bad_lines_become_error_records_and_the_rest_is_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s");
    let input = b"{\"guid\":\"g1\",\"source.type\":\"t\"}\nnot json\n[1,2]\n{\"guid\":\"g2\",\"source.type\":\"t\"}\n";
    let errors = tmp.path().join("errors.ndjson");
    let out = ingest(&store, input, &["--errors", errors.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(count(&store, "SELECT count(*) FROM events"), 2);
    let errs = lines(&std::fs::read(&errors).unwrap());
    assert_eq!(errs.len(), 2);
    assert_eq!(errs[0]["error_type"], "store_error");
    assert_eq!(errs[0]["line"], 2);
    // Error records in the input are stored in `errors`.
    assert!(ingest(&store, &std::fs::read(&errors).unwrap(), &[]).status.success());
    assert_eq!(count(&store, "SELECT count(*) FROM errors WHERE error_type = 'store_error'"), 2);
}

#[test]
fn queries_are_read_only_and_sql_errors_are_clear() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s");
    assert!(ingest(&store, b"{\"guid\":\"g1\",\"source.type\":\"t\"}\n", &[]).status.success());
    for sql in
        ["COPY events TO '/tmp/x.parquet'", "DROP VIEW events", "INSERT INTO x VALUES (1)", "SELECT * FROM nowhere"]
    {
        let out = metron().args(["store", "query", "--store"]).arg(&store).arg(sql).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{sql}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("error"), "{sql}");
    }
    assert_eq!(count(&store, "SELECT count(*) FROM events"), 1);
    let out = metron()
        .args(["store", "query", "--store"])
        .arg(&store)
        .args(["--param", "t", "--format", "csv", "SELECT guid FROM events WHERE \"source.type\" = ?"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "guid\ng1\n");
    // A table shows at most 10,000 rows and says so; NDJSON streams every row.
    let big = "SELECT range AS n FROM range(10005)";
    let out = metron().args(["store", "query", "--format", "table", "--store"]).arg(&store).arg(big).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("(10000 rows)") && text.contains("the first 10000 rows"), "{}", &text[text.len() - 200..]);
    assert_eq!(query(&store, big).len(), 10_005);
    let missing = metron().args(["store", "query", "--store"]).arg(tmp.path().join("none")).arg("SELECT 1").output();
    assert_eq!(missing.unwrap().status.code(), Some(2));
}

#[test]
fn table_output_neutralizes_escape_sequences() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s");
    let hostile = json!({"guid": "g1", "source.type": "t", "uri": "/a\u{1b}]2;pwned\u{7}\u{1b}[2J"});
    assert!(ingest(&store, format!("{hostile}\n").as_bytes(), &[]).status.success());
    let out = metron()
        .args(["store", "query", "--format", "table", "--store"])
        .arg(&store)
        .arg("SELECT uri FROM events")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{text:?}");
    assert!(text.contains("]2;pwned"), "{text}");
}

#[test]
fn export_is_read_back_by_duckdb_with_the_same_rows_and_values() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s");
    let input = zeek_events();
    let n = lines(&input).len() as i64;
    assert!(ingest(&store, &input, &[]).status.success());
    let lake = tmp.path().join("lake");
    let out = metron().args(["store", "export", "--store"]).arg(&store).arg("--parquet").arg(&lake).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // DuckDB itself, not metron, reads the lake.
    let db = duckdb::Connection::open_in_memory().unwrap();
    let glob = format!("{}/**/*.parquet", lake.display());
    let (rows, days, types): (i64, i64, i64) = db
        .query_row(
            "SELECT count(*), count(DISTINCT day), count(DISTINCT source_type) \
             FROM read_parquet(?, hive_partitioning = true, union_by_name = true)",
            [&glob],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(rows, n);
    assert!(days >= 1 && types == 6, "{days} days, {types} types");
    let stored = query(&store, "SELECT sum(ip_src_port), count(DISTINCT uid), sum(\"timestamp\") FROM events");
    let (ports, uids, ts): (i64, i64, i64) = db
        .query_row(
            "SELECT sum(ip_src_port), count(DISTINCT uid), sum(\"timestamp\") \
             FROM read_parquet(?, hive_partitioning = true, union_by_name = true)",
            [&glob],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let s = stored[0].as_object().unwrap().values().map(|v| v.as_i64().unwrap()).collect::<Vec<_>>();
    assert_eq!(s, vec![ports, uids, ts]);
    let day_dirs = std::fs::read_dir(&lake).unwrap().count();
    assert!(day_dirs >= 1);
}

#[test]
fn prune_removes_old_records_and_stats_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s");
    let now = metron::event::now_ms();
    let mut input = String::new();
    for (i, age_days) in [200, 100, 10, 1].iter().enumerate() {
        let ts = now - age_days * 86_400_000;
        input.push_str(&format!("{{\"guid\":\"g{i}\",\"source.type\":\"t\",\"timestamp\":{ts}}}\n"));
    }
    input.push_str("{\"guid\":\"gx\",\"source.type\":\"u\"}\n");
    assert!(ingest(&store, input.as_bytes(), &[]).status.success());
    let out = metron().args(["store", "prune", "--older-than", "90d", "--store"]).arg(&store).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let left = query(&store, "SELECT guid FROM events ORDER BY guid");
    assert_eq!(left, vec![json!({"guid": "g2"}), json!({"guid": "g3"}), json!({"guid": "gx"})]);
    let stats = metron().args(["store", "stats", "--store"]).arg(&store).output().unwrap();
    let text = String::from_utf8_lossy(&stats.stdout);
    assert!(text.contains("events       3"), "{text}");
    assert!(text.contains("bytes per event"), "{text}");
}

/// A real ingest process killed with SIGKILL mid-way leaves whole batches only, and
/// running it again completes the store to exactly the input.
#[cfg(unix)]
#[test]
fn kill_9_mid_ingest_leaves_whole_batches_and_a_rerun_completes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s");
    let data = tmp.path().join("events.ndjson");
    let total = 200_000u64;
    let gen = metron().args(["generate", "zeek-conn", "-n", &total.to_string()]).output().unwrap();
    let parsed = metron().args(["parse", "-q"]).write_stdin(gen.stdout).output().unwrap();
    std::fs::write(&data, &parsed.stdout).unwrap();
    let batch = 2_000u64;
    let mut child = spawn_ingest(&["-q", "--batch-rows", &batch.to_string()], &store, &data);
    // Wait for a few committed segments, then kill.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let manifest = std::fs::read_to_string(store.join("MANIFEST.json")).unwrap_or_default();
        if manifest.matches("seg-").count() >= 3 {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the ingest ended before it could be killed");
        assert!(Instant::now() < deadline, "no segments after 120 s");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = count(&store, "SELECT count(*) FROM events");
    assert!(partial > 0 && partial < total, "{partial}");
    assert_eq!(partial % batch, 0, "only whole batches: {partial}");
    let out = metron().args(["store", "ingest", "-q", "--store"]).arg(&store).arg(&data).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(count(&store, "SELECT count(*) FROM events"), total);
    assert_eq!(count(&store, "SELECT count(DISTINCT guid) FROM events"), total);
}

/// `store ingest --follow` keeps running while a query and a triage action use the
/// same store.
#[test]
fn queries_and_triage_run_while_a_follow_ingest_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s");
    let feed = tmp.path().join("feed.ndjson");
    std::fs::write(&feed, alert_records("F1")).unwrap();
    let mut child = spawn_ingest(&["-F", "--flush-interval", "100ms"], &store, &feed);
    let wait_for = |sql: &str, want: u64| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if store.join("MANIFEST.json").exists() && count(&store, sql) == want {
                return;
            }
            assert!(Instant::now() < deadline, "{sql} never reached {want}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_for("SELECT count(*) FROM alerts", 1);
    let out = metron().args(["store", "triage", "F1", "--status", "OPEN", "--store"]).arg(&store).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(&feed).unwrap();
        for i in 0..50 {
            writeln!(f, "{}", json!({"guid": format!("e{i}"), "source.type": "t", "timestamp": i})).unwrap();
        }
    }
    wait_for("SELECT count(*) FROM events", 50);
    assert_eq!(query(&store, "SELECT status FROM alerts"), vec![json!({"status": "OPEN"})]);
    assert!(child.try_wait().unwrap().is_none(), "the follow ingest stopped");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_second_writer_is_refused_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s");
    let feed = tmp.path().join("feed.ndjson");
    std::fs::write(&feed, "").unwrap();
    let mut child = spawn_ingest(&["-F"], &store, &feed);
    // The follow ingest holds the writer lock once it has made the store.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !store.join("MANIFEST.json").exists() {
        assert!(Instant::now() < deadline, "the follow ingest made no store");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let out = ingest(&store, b"{\"guid\":\"x\"}\n", &[]);
    assert!(child.try_wait().unwrap().is_none(), "the follow ingest stopped");
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("one writer at a time"));
}

#[test]
fn many_small_batches_are_compacted_without_losing_a_row() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s");
    let input = zeek_events();
    let n = lines(&input).len() as u64;
    let out = ingest(&store, &input, &["--batch-rows", "25"]);
    assert!(out.status.success());
    let segments = live_segments(&store, "events").len();
    assert!(segments < 10, "{segments} segments after compaction");
    assert_eq!(count(&store, "SELECT count(*) FROM events"), n);
    assert_eq!(count(&store, "SELECT count(DISTINCT guid) FROM events"), n);
}

/// The Parquet files in a store's table directory.
fn segment_files(store: &Path, table: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(store.join(table))
        .unwrap()
        .map(|e| format!("{table}/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    v.sort();
    v
}

fn live_segments(store: &Path, table: &str) -> Vec<String> {
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(store.join("MANIFEST.json")).unwrap()).unwrap();
    let mut v: Vec<String> =
        manifest[table].as_array().unwrap().iter().map(|s| s["file"].as_str().unwrap().to_owned()).collect();
    v.sort();
    v
}

/// Segments that compaction replaced go at once when no reader is open; while one is
/// (a reader in this process), they stay, the reader's views still read them, and
/// they go with the next writer after it closes.
#[test]
fn replaced_segments_go_at_once_unless_a_reader_may_use_them() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s");
    let input = zeek_events();
    let n = lines(&input).len() as u64;
    assert!(ingest(&store, &input, &["--batch-rows", "25"]).status.success());
    assert_eq!(segment_files(&store, "events"), live_segments(&store, "events"), "nothing left over");
    let stats = metron().args(["store", "stats", "--store"]).arg(&store).output().unwrap();
    assert!(!String::from_utf8_lossy(&stats.stdout).contains("replaced"));

    // More small segments, then a compaction while a reader is open.
    let more = lines(&zeek_events())
        .into_iter()
        .map(|mut e| {
            e["guid"] = json!(format!("again-{}", e["guid"].as_str().unwrap()));
            e.to_string() + "\n"
        })
        .collect::<String>();
    let file = tmp.path().join("more.ndjson");
    std::fs::write(&file, &more).unwrap();
    let reader = metron::store::Reader::open(&metron::store::Store::open(&store).unwrap()).unwrap();
    let before = live_segments(&store, "events");
    let status = spawn_ingest(&["-q", "--batch-rows", "25"], &store, &file).wait().unwrap();
    assert!(status.success());
    let after = live_segments(&store, "events");
    let gone: Vec<&String> = before.iter().filter(|f| !after.contains(f)).collect();
    assert!(!gone.is_empty(), "compaction replaced segments the reader's views name");
    for f in &gone {
        assert!(store.join(f).exists(), "{f} was deleted under an open reader");
    }
    let r = reader.query("SELECT count(*) FROM events", &[]).unwrap();
    assert_eq!(r.rows[0][0], json!(n), "the reader still reads what it saw");
    let stats = metron().args(["store", "stats", "--store"]).arg(&store).output().unwrap();
    assert!(String::from_utf8_lossy(&stats.stdout).contains("replaced"), "stats names them");
    drop(reader);
    assert!(metron().args(["store", "compact", "--store"]).arg(&store).output().unwrap().status.success());
    assert_eq!(segment_files(&store, "events"), live_segments(&store, "events"));
    assert_eq!(count(&store, "SELECT count(*) FROM events"), 2 * n);
}

/// A segment damaged on disk is named and left out; the rest of the store is read,
/// and the exit status says the answer may be partial.
#[test]
fn a_damaged_segment_is_named_and_the_rest_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s");
    let input = zeek_events();
    let n = lines(&input).len() as u64;
    assert!(ingest(&store, &input, &["--batch-rows", "300"]).status.success());
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(store.join("MANIFEST.json")).unwrap()).unwrap();
    let segments = manifest["events"].as_array().unwrap();
    assert!(segments.len() > 1, "{manifest}");
    let (file, rows) = (segments[0]["file"].as_str().unwrap(), segments[0]["rows"].as_u64().unwrap());
    let bytes = std::fs::read(store.join(file)).unwrap();
    std::fs::write(store.join(file), &bytes[..bytes.len() / 2]).unwrap();

    let out = metron()
        .args(["store", "query", "--format", "ndjson", "--store"])
        .arg(&store)
        .arg("SELECT count(*) AS n FROM events")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(lines(&out.stdout)[0]["n"], json!(n - rows));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(file) && stderr.contains("left out"), "{stderr}");

    let stats = metron().args(["store", "stats", "--store"]).arg(&store).output().unwrap();
    let text = String::from_utf8_lossy(&stats.stdout);
    assert!(text.contains("damaged") && text.contains(file), "{text}");

    let hunt = metron().args(["hunt", "--store"]).arg(&store).args(["--query", "proto=tcp"]).output().unwrap();
    assert_eq!(hunt.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&hunt.stderr).contains(file));
}

/// Events of every source type the bundled samples have: the Zeek logs, Apache
/// Metron's Bro, YAF, Squid, ASA and Snort samples, Suricata EVE and metron's own
/// flows from a capture; then CEF, LEEF and syslog, whose field names differ from
/// the others' only in case (`Name` and `name`), which the store keeps whole as JSON.
fn every_source_type() -> (Vec<u8>, Vec<u8>) {
    let parse = |files: &[&str]| {
        let mut cmd = metron();
        cmd.args(["parse", "-q"]);
        for f in files {
            cmd.arg(testdata(f));
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let mut columns = zeek_events();
    columns.extend(parse(&[
        "metron/bro/BroExampleOutput",
        "metron/yaf/YafExampleOutput",
        "metron/squid/SquidExampleOutput",
        "metron/asa/asa_raw",
        "metron/snort/SnortOutput",
        "suricata/tenzir-eve-first6lines.json",
        "suricata/suricata-verify-output-eve-fileinfo.expected.eve.json",
    ]));
    let flows = metron().args(["capture", "-q", "-r"]).arg(testdata("pcaps/zeek-http-get.pcap")).output().unwrap();
    assert!(flows.status.success(), "{}", String::from_utf8_lossy(&flows.stderr));
    columns.extend(flows.stdout);
    let whole =
        parse(&["syslog/metron-cef-palo.cef", "syslog/metron-syslog5424.raw.log", "syslog/metron-leef.raw.log"]);
    (columns, whole)
}

#[test]
fn each_source_type_has_a_view_where_its_numbers_stay_numbers() {
    let (columns, whole) = every_source_type();
    let mut parsed = lines(&columns);
    parsed.extend(lines(&whole));
    // Per source type, the fields whose every value is a JSON number, and their sum:
    // the oracle is the parsed events themselves.
    type Sums = std::collections::BTreeMap<String, std::collections::BTreeMap<String, f64>>;
    let mut numeric: Sums = Default::default();
    let mut other: std::collections::BTreeSet<(String, String)> = Default::default();
    for e in &parsed {
        let st = e["source.type"].as_str().unwrap().to_owned();
        for (k, v) in e.as_object().unwrap() {
            match v {
                Value::Number(n) => {
                    *numeric.entry(st.clone()).or_default().entry(k.clone()).or_default() += n.as_f64().unwrap()
                }
                Value::Null => {}
                _ => {
                    other.insert((st.clone(), k.clone()));
                }
            }
        }
    }
    for (st, fields) in &mut numeric {
        fields.retain(|k, _| !other.contains(&(st.clone(), k.clone())) && k != "timestamp");
    }
    // Another sensor writes every one of those names as text, in the same batch.
    let mut hostile = serde_json::Map::new();
    hostile.insert("source.type".into(), json!("text.sensor"));
    for fields in numeric.values() {
        for k in fields.keys() {
            hostile.insert(k.clone(), json!("n/a"));
        }
    }
    let mut first = columns.clone();
    first.extend_from_slice(format!("{}\n", Value::Object(hostile)).as_bytes());

    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    for input in [&first, &whole] {
        let out = ingest(&store, input, &["-q"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    let mut types: std::collections::BTreeMap<(String, String), String> = Default::default();
    for r in query(&store, "SELECT table_name AS t, column_name AS c, data_type AS d FROM information_schema.columns") {
        let s = |k: &str| r[k].as_str().unwrap().to_owned();
        types.insert((s("t"), s("c")), s("d"));
    }
    let source_types: std::collections::BTreeSet<&str> =
        parsed.iter().map(|e| e["source.type"].as_str().unwrap()).collect();
    assert!(source_types.len() >= 30, "{source_types:?}");
    let mut sums = Vec::new();
    for st in &source_types {
        let view = metron::store::source_view_name(st).unwrap();
        let n = parsed.iter().filter(|e| e["source.type"] == *st).count();
        sums.push(format!("SELECT '{view}' AS v, '' AS f, count(*)::DOUBLE AS s, {n}::DOUBLE AS want FROM \"{view}\""));
        for (field, sum) in numeric.get(*st).into_iter().flatten() {
            let ty = types.get(&(view.clone(), field.clone())).unwrap_or_else(|| panic!("{view} has no {field}"));
            assert!(
                ["BIGINT", "DOUBLE", "INTEGER"].contains(&ty.as_str()),
                "{view}.{field} is {ty}, in events {:?}",
                types.get(&("events".into(), field.clone()))
            );
            sums.push(format!("SELECT '{view}', '{field}', sum(\"{field}\")::DOUBLE, {sum:?}::DOUBLE FROM \"{view}\""));
        }
    }
    // Every view has its source's rows, and each numeric field sums as the events do.
    let rows = query(&store, &sums.join(" UNION ALL "));
    assert_eq!(rows.len(), sums.len());
    for r in &rows {
        let (got, want) = (r["s"].as_f64().unwrap(), r["want"].as_f64().unwrap());
        assert!((got - want).abs() <= 1e-6 * want.abs().max(1.0), "{r}");
    }
    // The test has teeth: in the union, most of those names are text (or only in the
    // whole-record JSON), as the text sensor made them.
    let checked = sums.len() - source_types.len();
    let text = numeric
        .values()
        .flat_map(|f| f.keys())
        .filter(|k| types.get(&("events".into(), (*k).clone())).is_none_or(|t| t == "VARCHAR"))
        .count();
    assert!(checked > 100 && text * 2 > checked, "{checked} numeric fields checked, {text} text in events");

    // The union still answers pivots across sources: the address seen in the most
    // source types, found in all of them.
    let mut seen: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> = Default::default();
    for e in &parsed {
        for f in ["ip_src_addr", "ip_dst_addr"] {
            if let Some(ip) = e[f].as_str() {
                seen.entry(ip).or_default().insert(e["source.type"].as_str().unwrap());
            }
        }
    }
    let (ip, sources) = seen.iter().max_by_key(|(_, s)| s.len()).unwrap();
    assert!(sources.len() >= 3, "{ip}: {sources:?}");
    let rows = query(
        &store,
        &format!(
            "SELECT \"source.type\" AS st, count(*) AS n FROM events \
             WHERE ip_src_addr = '{ip}' OR ip_dst_addr = '{ip}' GROUP BY 1 ORDER BY 1"
        ),
    );
    let got: Vec<&str> = rows.iter().map(|r| r["st"].as_str().unwrap()).collect();
    assert_eq!(got, sources.iter().copied().collect::<Vec<_>>());
    let want = parsed.iter().filter(|e| e["ip_src_addr"] == *ip || e["ip_dst_addr"] == *ip).count() as u64;
    assert_eq!(rows.iter().map(|r| r["n"].as_u64().unwrap()).sum::<u64>(), want);
}

/// Shards written by separate ingests read as one store: `--store A --store B` gives
/// the union of their events, per-source views, alerts and triage; the counts equal
/// the sums of each shard's, and writing commands refuse more than one store.
#[test]
fn several_stores_are_queried_as_one() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let events = zeek_events();
    let text = String::from_utf8(events).unwrap();
    let all: Vec<&str> = text.lines().collect();
    // Every other event to each shard, so that each has some of every source.
    let first: Vec<&str> = all.iter().step_by(2).copied().collect();
    let second: Vec<&str> = all.iter().skip(1).step_by(2).copied().collect();
    assert!(ingest(&a, format!("{}\n", first.join("\n")).as_bytes(), &[]).status.success());
    assert!(ingest(&b, format!("{}\n", second.join("\n")).as_bytes(), &[]).status.success());
    assert!(ingest(&b, &alert_records("B1"), &[]).status.success());
    let out =
        metron().args(["store", "triage", "--store"]).arg(&b).args(["B1", "--status", "escalate"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let both = |sql: &str| {
        let out = metron()
            .args(["store", "query", "--format", "ndjson", "--store"])
            .arg(&a)
            .arg("--store")
            .arg(&b)
            .arg(sql)
            .output()
            .unwrap();
        assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
        lines(&out.stdout)
    };
    let n = |rows: Vec<Value>| rows[0].as_object().and_then(|o| o.values().next()).and_then(Value::as_u64).unwrap();
    let total = "SELECT count(*) FROM events";
    assert_eq!(n(both(total)), count(&a, total) + count(&b, total));
    assert_eq!(n(both(total)), all.len() as u64);
    let conn = "SELECT count(*) FROM zeek_conn";
    assert_eq!(n(both(conn)), count(&a, conn) + count(&b, conn));
    let bytes = "SELECT sum(orig_bytes) FROM zeek_conn";
    assert_eq!(n(both(bytes)), count(&a, bytes) + count(&b, bytes), "numbers stay numbers in the joined view");
    assert_eq!(both("SELECT alert_id, status FROM alerts"), vec![json!({"alert_id": "B1", "status": "ESCALATE"})]);
    // One store named twice, by two paths, is read once.
    let out = metron()
        .args(["store", "query", "--format", "ndjson", "--store"])
        .arg(&a)
        .arg("--store")
        .arg(tmp.path().join("b/../a"))
        .arg(total)
        .output()
        .unwrap();
    assert_eq!(n(lines(&out.stdout)), count(&a, total));

    let out = metron()
        .args(["store", "ingest", "--store"])
        .arg(&a)
        .arg("--store")
        .arg(&b)
        .write_stdin("{}\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("one --store"), "{out:?}");
}
