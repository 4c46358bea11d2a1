//! Hostile data, hostile stores and hostile rule files (docs/security.md): each test
//! is a reproduction that hurt the analyst's machine before, run through the binary.

mod common;

use common::{metron, testdata};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

fn zeek_events(n: usize) -> Vec<u8> {
    let raw = metron().args(["generate", "zeek-conn", "-n", &n.to_string()]).output().unwrap().stdout;
    metron().args(["parse", "-q"]).write_stdin(raw).output().unwrap().stdout
}

fn new_store(dir: &Path) {
    let out =
        metron().args(["store", "ingest", "-q", "--store"]).arg(dir).write_stdin(zeek_events(50)).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn store_query(store: &Path, sql: &str) -> std::process::Output {
    metron().args(["store", "query", "--format", "ndjson", "--store"]).arg(store).arg(sql).output().unwrap()
}

#[test]
fn store_query_runs_one_statement_that_only_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s");
    new_store(&store);
    let victim = tmp.path().join("x.csv");
    let v = victim.display();
    let hostile = [
        format!("SELECT 1) q; COPY (SELECT 42) TO '{v}'; SELECT * FROM (SELECT 1"),
        format!("COPY (SELECT 42) TO '{v}'"),
        format!("SELECT 1; COPY (SELECT 42) TO '{v}'"),
        format!("ATTACH '{}' AS other", tmp.path().join("other.db").display()),
        "SET enable_external_access = true".to_owned(),
        "INSTALL httpfs".to_owned(),
        "LOAD httpfs".to_owned(),
        "CREATE TABLE t AS SELECT 1".to_owned(),
        "SELECT 1; SELECT 2".to_owned(),
    ];
    for sql in &hostile {
        let out = store_query(&store, sql);
        assert_eq!(out.status.code(), Some(2), "{sql}: {}", String::from_utf8_lossy(&out.stdout));
        assert!(String::from_utf8_lossy(&out.stderr).starts_with("metron: error:"), "{sql}");
    }
    assert!(!victim.exists(), "a query wrote a file");
    assert!(!tmp.path().join("other.db").exists(), "a query attached a database");
    // What reads still runs: SELECT, WITH, FROM-first, DESCRIBE, SUMMARIZE.
    for sql in ["SELECT count(*) AS n FROM events", "WITH a AS (SELECT 1 AS n) SELECT * FROM a", "FROM events LIMIT 1"]
    {
        let out = store_query(&store, sql);
        assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
    }
    assert!(store_query(&store, "DESCRIBE events").status.success());
}

#[test]
fn store_query_reads_no_file_outside_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s");
    new_store(&store);
    let secret = tmp.path().join("secret.csv");
    std::fs::write(&secret, "a,b\n1,2\n").unwrap();
    let s = secret.display();
    for sql in [
        format!("SELECT * FROM read_text('{s}')"),
        format!("SELECT * FROM read_csv('{s}')"),
        format!("SELECT * FROM '{s}'"),
        "SELECT * FROM read_text('/etc/hostname')".to_owned(),
    ] {
        let out = store_query(&store, &sql);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{sql} read a file: {}", String::from_utf8_lossy(&out.stdout));
        assert!(stderr.contains("not other files"), "{sql}: the message says why: {stderr}");
    }
}

/// A store copied off a compromised host names files outside it in its manifest.
#[test]
fn a_hostile_manifest_makes_metron_delete_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let victim = tmp.path().join("victim.txt");
    for entry in [victim.display().to_string(), "../victim.txt".to_owned(), "events/../../victim.txt".to_owned()] {
        std::fs::write(&victim, "keep me").unwrap();
        let store = tmp.path().join("s");
        let _ = std::fs::remove_dir_all(&store);
        new_store(&store);
        let manifest = store.join("MANIFEST.json");
        let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
        m["trash"] = serde_json::json!([{"file": entry, "since_ms": 0}]);
        std::fs::write(&manifest, serde_json::to_vec(&m).unwrap()).unwrap();
        for args in [&["store", "ingest", "-q"][..], &["store", "compact"], &["store", "prune", "--older-than", "1d"]] {
            let out = metron().args(args).arg("--store").arg(&store).write_stdin(zeek_events(5)).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?} with trash {entry}: {stderr}");
            assert!(stderr.contains("MANIFEST.json") && stderr.contains(&entry), "names file and entry: {stderr}");
            assert!(victim.exists(), "{args:?} deleted {entry}");
        }
        // Readers refuse it too: a segment entry would point queries at that file.
        assert_eq!(store_query(&store, "SELECT 1").status.code(), Some(2));
    }
}

#[cfg(unix)]
#[test]
fn a_linked_tmp_folder_makes_metron_delete_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s");
    new_store(&store);
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("precious"), "keep me").unwrap();
    std::fs::remove_dir_all(store.join("tmp")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, store.join("tmp")).unwrap();
    let out =
        metron().args(["store", "ingest", "-q", "--store"]).arg(&store).write_stdin(zeek_events(5)).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert!(elsewhere.join("precious").exists(), "deleted through the link");
}

/// Nine anchors of nine aliases each: 600 bytes that the YAML loader would expand to
/// 9^9 nodes.
#[test]
fn a_yaml_billion_laughs_rule_is_refused_unread() {
    let tmp = tempfile::tempdir().unwrap();
    let mut y = String::from("a0: &a0 [\"lol\"]\n");
    for i in 1..=9 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        y.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    y.push_str("title: laughs\ndetection:\n  sel:\n    x: *a9\n  condition: sel\n");
    let file = tmp.path().join("laughs.yml");
    std::fs::write(&file, &y).unwrap();
    let started = Instant::now();
    let out = metron().args(["alert", "--check"]).arg(&file).timeout(Duration::from_secs(60)).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("laughs.yml") && stdout.contains("aliases expand"), "{stdout}");
    // Not a benchmark: a guard that the file is refused before it is expanded.
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
}

#[test]
fn long_dotted_names_do_not_stall_label() {
    let tmp = tempfile::tempdir().unwrap();
    let list = tmp.path().join("domains.txt");
    std::fs::write(&list, "evil.example\nbad.example.org\n").unwrap();
    let long = "a.".repeat(200_000) + "evil.example";
    let mut input = Vec::new();
    for _ in 0..30 {
        writeln!(input, "{}", serde_json::json!({"query": long, "source.type": "zeek.dns"})).unwrap();
    }
    writeln!(input, "{}", serde_json::json!({"query": "www.evil.example", "source.type": "zeek.dns"})).unwrap();
    let started = Instant::now();
    let out = metron()
        .args(["label", "-q", "--max-line-bytes", "2000000", "--intel"])
        .arg(&list)
        .write_stdin(input)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let events = common::lines(&out.stdout);
    assert_eq!(events.len(), 31);
    // A name longer than DNS allows is no domain; the real subdomain still hits.
    assert!(events[..30].iter().all(|e| e.get("is_alert").is_none()));
    assert_eq!(events[30]["is_alert"], true);
    // Not a benchmark: the suffix walk took 1.6 s per such line (48 s here).
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
}

#[test]
fn prune_keeps_rows_whose_time_came_as_text() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("s");
    let now = chrono::Utc::now().timestamp_millis();
    let old = now - 10 * 86_400_000;
    let mut input = Vec::new();
    for i in 0..10 {
        writeln!(input, "{}", serde_json::json!({"guid": format!("old-{i}"), "timestamp": old, "source.type": "t"}))
            .unwrap();
    }
    // Newer, but its time arrived as text: one segment with the old rows.
    writeln!(input, "{}", serde_json::json!({"guid": "new", "timestamp": now.to_string(), "source.type": "t"}))
        .unwrap();
    let out = metron().args(["store", "ingest", "-q", "--store"]).arg(&store).write_stdin(input).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = metron().args(["store", "prune", "-q", "--older-than", "1d", "--store"]).arg(&store).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = common::lines(&store_query(&store, "SELECT guid FROM events").stdout);
    assert_eq!(rows, [serde_json::json!({"guid": "new"})]);
}

/// A database rewritten in place (not renamed over) while a long run uses it: a
/// mapped database was killed by SIGBUS on the next lookup.
#[cfg(unix)]
#[test]
fn a_geoip_database_rewritten_in_place_does_not_crash_enrich() {
    use std::os::unix::process::ExitStatusExt;
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("City.mmdb");
    std::fs::copy(testdata("mmdb/GeoIP2-City-Test.mmdb"), &db).unwrap();
    let input = tmp.path().join("in.ndjson");
    let line = |i: u32| format!("{{\"ip_src_addr\":\"81.2.69.{}\",\"n\":{i}}}\n", 140 + i % 20);
    std::fs::write(&input, (0..10).map(line).collect::<String>()).unwrap();
    let output = tmp.path().join("out.ndjson");
    let bin = std::env::var_os("METRON_BIN").map_or_else(|| assert_cmd::cargo::cargo_bin("metron"), Into::into);
    let mut child = std::process::Command::new(bin)
        .args(["enrich", "-q", "--follow", "--geoip"])
        .arg(&db)
        .arg("-o")
        .arg(&output)
        .arg(&input)
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lines_out = || std::fs::read_to_string(&output).map(|t| t.lines().count()).unwrap_or(0);
    let wait_for = |n: usize| {
        let until = Instant::now() + Duration::from_secs(30);
        while lines_out() < n && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50));
        }
        lines_out()
    };
    assert_eq!(wait_for(10), 10);
    // The same inode truncated, as a copy over it (`cp new.mmdb City.mmdb`) leaves
    // it before the new bytes arrive: a mapping of it has no pages left.
    drop(std::fs::OpenOptions::new().write(true).truncate(true).open(&db).unwrap());
    let mut more = std::fs::OpenOptions::new().append(true).open(&input).unwrap();
    more.write_all((10..40).map(line).collect::<String>().as_bytes()).unwrap();
    drop(more);
    assert_eq!(wait_for(40), 40, "lines after the rewrite were lost");
    assert!(child.try_wait().unwrap().is_none(), "enrich died: {:?}", child.try_wait());
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(9), "ended by our kill, not SIGBUS: {status:?}");
}

#[cfg(unix)]
#[test]
fn capture_write_makes_private_files_and_follows_no_link() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let pcap = testdata("pcaps/zeek-http-get.pcap");
    let dir = tmp.path().join("pcaps");
    let run = || metron().args(["capture", "-q", "-o", "/dev/null", "-r"]).arg(&pcap).arg("--write").arg(&dir).output();
    assert!(run().unwrap().status.success());
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(names.len(), 1);
    assert_eq!(mode(&names[0]), 0o600);
    // A dangling link where the next file goes: not followed, the name is skipped.
    let target = tmp.path().join("planted");
    std::fs::remove_file(&names[0]).unwrap();
    std::os::unix::fs::symlink(&target, &names[0]).unwrap();
    assert!(run().unwrap().status.success());
    assert!(!target.exists(), "the link was followed");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
}

#[test]
fn a_small_compressed_stix_file_cannot_expand_without_bound() {
    let tmp = tempfile::tempdir().unwrap();
    let big =
        format!("{{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":[],\"padding\":\"{}\"}}", " ".repeat(8 << 20));
    let file = tmp.path().join("bundle.json.zst");
    std::fs::write(&file, zstd::encode_all(big.as_bytes(), 19).unwrap()).unwrap();
    assert!(std::fs::metadata(&file).unwrap().len() < 64 * 1024);
    let out = metron()
        .args(["label", "--check", "--max-stix-bytes", "1M", "--intel"])
        .arg(format!("stix:{}", file.display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bundle.json.zst") && stderr.contains("--max-stix-bytes"), "{stderr}");
}

#[test]
fn escape_sequences_never_reach_the_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    // A rule file whose id and title carry escape sequences.
    let rules = tmp.path().join("r.yml");
    std::fs::write(&rules, "id: \"x\\e]2;pwned\\a\"\nkind: keyword\nkeywords: [\"\\e[2J\"]\nname: t\n").unwrap();
    let out = metron().args(["alert", "--check"]).arg(&rules).output().unwrap();
    let all = [out.stdout, out.stderr].concat();
    assert!(!all.contains(&0x1b), "{}", String::from_utf8_lossy(&all));
    assert!(String::from_utf8_lossy(&all).contains("x\u{FFFD}]2;pwned"));
    // The top-level error message: a format name is echoed back.
    let out = metron().args(["parse", "--format", "\u{1b}]2;pwned\u{7}"]).write_stdin("x\n").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!out.stderr.contains(&0x1b), "{}", String::from_utf8_lossy(&out.stderr));
}
