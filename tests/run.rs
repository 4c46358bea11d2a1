//! `metron run` through the binary: real files followed as they grow and rotate, a
//! real listener, a real store, kill -9 and restarts, metrics over HTTP.

mod common;

use common::metron;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn bin() -> PathBuf {
    std::env::var_os("METRON_BIN").map(PathBuf::from).unwrap_or_else(|| assert_cmd::cargo::cargo_bin("metron"))
}

fn query(store: &Path, sql: &str) -> Vec<Value> {
    let out = metron().args(["store", "query", "--format", "ndjson", "--store"]).arg(store).arg(sql).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    common::lines(&out.stdout)
}

fn count(store: &Path, sql: &str) -> i64 {
    let rows = query(store, sql);
    rows[0].as_object().unwrap().values().next().unwrap().as_i64().unwrap()
}

/// A syslog line that says which file and which line it is.
fn syslog_line(file: usize, n: usize) -> String {
    format!("<134>Dec  3 10:{:02}:{:02} sensor{file} app[{n}]: file={file} line={n} user=u{}", n % 60, n % 59, n % 7)
}

struct Service {
    child: Child,
    stderr: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Service {
    fn start(config: &Path, extra: &[&str]) -> Service {
        let mut child = Command::new(bin())
            .arg("--config")
            .arg(config)
            .arg("run")
            .args(extra)
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .env_remove("METRON_CONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let rx = common::stderr_lines(&mut child);
        Service { child, stderr: rx, seen: Vec::new() }
    }

    /// Waits for a stderr line starting with `prefix`; the rest of it.
    fn wait_line(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let line = self
                .stderr
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("no `{prefix}` from metron run: {:?}", self.seen));
            self.seen.push(line.clone());
            if let Some(rest) = line.strip_prefix(prefix) {
                return rest.to_owned();
            }
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill").args([sig, &self.child.id().to_string()]).status().unwrap().success();
        assert!(ok, "kill {sig}");
    }

    fn wait(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                while let Ok(line) = self.stderr.recv_timeout(Duration::from_millis(200)) {
                    self.seen.push(line);
                }
                return (status, std::mem::take(&mut self.seen));
            }
            assert!(Instant::now() < deadline, "metron run did not end: {:?}", self.seen);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, text.split_once("\r\n\r\n").unwrap().1.to_owned())
}

fn metric(text: &str, name_and_labels: &str) -> u64 {
    text.lines()
        .find_map(|l| l.starts_with(name_and_labels).then(|| l.rsplit(' ').next().unwrap().parse().unwrap()))
        .unwrap_or_else(|| panic!("{name_and_labels} not in\n{text}"))
}

#[test]
fn check_reports_every_problem_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("metron.toml");
    std::fs::write(
        &config,
        r#"
[[run.source]]
follow = "no-such-dir"
[[run.source]]
listen = "ftp://127.0.0.1:1"
[[run.source]]
kafka = "kafka://b:9092/raw"
[[run.source]]
follow = "."
format = "no-such-format"
[run]
stages = ["enrich", "shout"]
checkpoint_interval = "soon"
sink = "kafka://b:9092/out"
"#,
    )
    .unwrap();
    let out = metron().arg("--config").arg(&config).args(["run", "--check"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for want in [
        "no-such-dir",
        "ftp://",
        "kafka",
        "no-such-format",
        "[enrich]: nothing to enrich with",
        "`shout` is not a stage",
        "checkpoint_interval",
        // A Kafka sink: without the `kafka` feature, how to build one that has it; with
        // it, that the sink needs `state`.
        "sink: ",
    ] {
        assert!(err.contains(want), "{want} missing from:\n{err}");
    }
    assert!(err.contains("8 problem(s)"), "{err}");
    // Nothing was created: --check opens no store.
    assert!(!dir.path().join("metron-store").exists());

    std::fs::write(
        &config,
        "[enrich]\ninternal = [\"10.0.0.0/8\"]\n[[run.source]]\nfollow = \".\"\nformat = \"zeek\"\n[run]\nstages = [\"enrich\"]\n",
    )
    .unwrap();
    let out = metron().arg("--config").arg(&config).args(["run", "--check"]).output().unwrap();
    let plan = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(plan.contains("source 1: follow") && plan.contains("format zeek"), "{plan}");
    assert!(plan.contains("stages: enrich") && plan.contains("sink: store"), "{plan}");
}

/// The same Zeek conn log through `metron run --once` with enrich, and through the
/// piped stages: the same events with the same fields; a second `--once` adds nothing.
#[test]
fn once_gives_what_the_pipes_give_and_a_rerun_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let conn = common::testdata("zeek/wrccdc2018-tsv/conn.log");
    std::fs::copy(&conn, logs.join("conn.log")).unwrap();
    let store = dir.path().join("store");
    let config = dir.path().join("metron.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\ndir = {store:?}\n[enrich]\ninternal = [\"192.168.0.0/16\", \"10.0.0.0/8\"]\n\
             [[run.source]]\nfollow = {logs:?}\nformat = \"zeek\"\n[run]\nstages = [\"enrich\"]\n"
        ),
    )
    .unwrap();
    let out = metron().arg("--config").arg(&config).args(["run", "--once"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let parsed = metron().args(["parse", "-q", "--format", "zeek"]).arg(&conn).output().unwrap();
    let piped = metron()
        .args(["enrich", "-q", "--internal", "192.168.0.0/16,10.0.0.0/8"])
        .write_stdin(parsed.stdout)
        .output()
        .unwrap();
    let piped = common::lines(&piped.stdout);
    assert!(piped.len() > 10);
    let stored = query(
        &store,
        "SELECT original_string, ip_src_addr, \"enrichments.network.ip_src_addr.internal\" AS internal FROM events ORDER BY original_string",
    );
    assert_eq!(stored.len(), piped.len());
    let mut want: Vec<(String, String, bool)> = piped
        .iter()
        .map(|e| {
            (
                e["original_string"].as_str().unwrap().to_owned(),
                e["ip_src_addr"].as_str().unwrap().to_owned(),
                e["enrichments.network.ip_src_addr.internal"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    want.sort();
    let got: Vec<(String, String, bool)> = stored
        .iter()
        .map(|e| {
            (
                e["original_string"].as_str().unwrap().to_owned(),
                e["ip_src_addr"].as_str().unwrap().to_owned(),
                e["internal"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(got, want);
    let checkpoint: Value = serde_json::from_slice(&std::fs::read(store.join("run/checkpoint.json")).unwrap()).unwrap();
    assert_eq!(checkpoint["files"][0]["name"], logs.join("conn.log").display().to_string());

    // Read again: the checkpoint passes over what was stored; nothing is added.
    let out = metron().arg("--config").arg(&config).args(["run", "--once"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(count(&store, "SELECT count(*) FROM events"), piped.len() as i64);
    // Without the checkpoint every line is read again, and the store still holds each
    // once: a line's guid is the same every time it is read.
    std::fs::remove_file(store.join("run/checkpoint.json")).unwrap();
    let out = metron().arg("--config").arg(&config).args(["run", "--once"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(count(&store, "SELECT count(*) FROM events"), piped.len() as i64);
}

/// Passive DNS in `metron run`, set in `[enrich]` as for `metron enrich`: Zeek's dns.log
/// and conn.log of zeek-wikipedia.pcap, in one followed file, into the store; the
/// connections to the address its DNS answers gave are stored with that name (the
/// Host header Zeek's http.log has for them).
#[test]
fn passive_dns_in_run_names_the_connections() {
    let dir = tempfile::tempdir().unwrap();
    let logs = ["pcaps/zeek-wikipedia.pcap.dns.log", "pcaps/zeek-wikipedia.pcap.conn.log"]
        .map(|f| std::fs::read_to_string(common::testdata(f)).unwrap());
    // (Zeek's test baselines hide each line's ts: the capture's first second stands in.)
    let file = dir.path().join("zeek.log");
    std::fs::write(&file, logs.join("").replace("XXXXXXXXXX.XXXXXX", "1300475167.096535")).unwrap();
    let store = dir.path().join("store");
    let config = dir.path().join("metron.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\ndir = {store:?}\n[enrich]\npassive_dns = true\n\
             [[run.source]]\nfollow = {file:?}\nformat = \"zeek\"\n[run]\nstages = [\"enrich\"]\n"
        ),
    )
    .unwrap();
    let out = metron().arg("--config").arg(&config).args(["run", "--once"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = query(
        &store,
        "SELECT CAST(\"enrichments.dns.ip_dst_addr.names\" AS VARCHAR) AS names FROM zeek_conn \
         WHERE ip_dst_addr = '208.80.152.3'",
    );
    assert!(!rows.is_empty());
    for r in &rows {
        assert!(r["names"].as_str().is_some_and(|n| n.contains("upload.wikimedia.org")), "{r}");
    }
}

/// Growing and rotating files plus a TCP listener; metron run killed with -9 at
/// several moments and restarted; in the end every line is in the store exactly once.
#[test]
fn kill_nine_and_restart_keep_every_line_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let store = dir.path().join("store");
    let config = dir.path().join("metron.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\ndir = {store:?}\n[[run.source]]\nfollow = {logs:?}\nformat = \"syslog\"\n\
             [[run.source]]\nlisten = \"tcp://127.0.0.1:0\"\nformat = \"syslog\"\n\
             [run]\ncheckpoint_interval = \"300ms\"\nmetrics = \"127.0.0.1:0\"\n"
        ),
    )
    .unwrap();
    // A writer appends to two files and rotates one of them (rename, new file) now and
    // then, while the service is killed and restarted.
    let (done_tx, done_rx) = mpsc::channel();
    let writer_logs = logs.clone();
    let writer = std::thread::spawn(move || {
        let mut written = 0usize;
        let mut generation = 0;
        for round in 0..40 {
            for file in 0..2 {
                let path = writer_logs.join(format!("app{file}.log"));
                let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path).unwrap();
                for _ in 0..250 {
                    written += 1;
                    writeln!(f, "{}", syslog_line(file, written)).unwrap();
                }
            }
            if round % 10 == 9 {
                generation += 1;
                let from = writer_logs.join("app0.log");
                std::fs::rename(&from, writer_logs.join(format!("app0.log.{generation}"))).unwrap();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        done_tx.send(written).unwrap();
    });
    // Killed at different points of its work.
    for pause in [300u64, 900, 150, 1200, 500] {
        let mut service = Service::start(&config, &[]);
        service.wait_line("metron: listening on ");
        std::thread::sleep(Duration::from_millis(pause));
        service.signal("-KILL");
        let (status, _) = service.wait();
        assert!(!status.success());
    }
    let written = done_rx.recv_timeout(Duration::from_secs(60)).unwrap();
    writer.join().unwrap();

    // The last start runs until everything is in, takes network messages too, shows
    // its metrics and stops on SIGTERM with 0.
    let mut service = Service::start(&config, &[]);
    let metrics = service.wait_line("metron: metrics: http://").trim_end_matches("/metrics").to_owned();
    let listen: SocketAddr = service.wait_line("metron: listening on tcp://").parse().unwrap();
    let mut s = TcpStream::connect(listen).unwrap();
    for n in 0..500 {
        writeln!(s, "{}", syslog_line(9, n + 1)).unwrap();
    }
    drop(s);
    let deadline = Instant::now() + Duration::from_secs(60);
    let source_lines = loop {
        let (status, text) = http_get(&metrics, "/metrics");
        assert_eq!(status, 200);
        let net = metric(&text, "metron_records_in_total{source=\"listen ");
        if net == 500 {
            break text;
        }
        assert!(Instant::now() < deadline, "the listener got {net} of 500:\n{text}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(http_get(&metrics, "/health").0, 200);
    assert!(source_lines.contains("metron_commits_total"), "{source_lines}");
    // Let the follower catch up and a checkpoint pass.
    std::thread::sleep(Duration::from_secs(2));
    service.signal("-TERM");
    let (status, seen) = service.wait();
    assert!(status.success(), "{seen:?}");

    let total = count(&store, "SELECT count(*) FROM events");
    let distinct = count(&store, "SELECT count(DISTINCT original_string) FROM events");
    let files = count(&store, "SELECT count(*) FROM events WHERE original_string NOT LIKE '%sensor9%'");
    let net = count(&store, "SELECT count(*) FROM events WHERE original_string LIKE '%sensor9%'");
    assert_eq!(distinct, total, "a line was stored twice");
    assert_eq!(files, written as i64, "lines from the files: {files} of {written}");
    assert_eq!(net, 500);
}

/// SIGHUP builds the stages again from the edited config; a broken config is reported
/// and the running stages go on.
#[test]
fn sighup_rebuilds_the_stages_and_a_broken_config_keeps_the_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let store = dir.path().join("store");
    let config = dir.path().join("metron.toml");
    let write_config = |internal: &str, stages: &str| {
        std::fs::write(
            &config,
            format!(
                "[store]\ndir = {store:?}\n[enrich]\ninternal = [\"{internal}\"]\n[[run.source]]\nfollow = {logs:?}\n\
                 format = \"suricata\"\n[run]\nstages = [{stages}]\ncheckpoint_interval = \"200ms\"\n"
            ),
        )
        .unwrap();
    };
    write_config("10.0.0.0/8", "\"enrich\"");
    let log = logs.join("eve.json");
    let append = |port: u16| {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap();
        writeln!(
            f,
            r#"{{"timestamp":"2026-12-03T10:00:00.000000+0000","event_type":"flow","src_ip":"10.1.1.1","src_port":{port},"dest_ip":"192.168.1.1","dest_port":80,"proto":"TCP"}}"#
        )
        .unwrap();
    };
    let wait_stored = |n: i64| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !store.join("MANIFEST.json").exists() || count(&store, "SELECT count(*) FROM events") < n {
            assert!(Instant::now() < deadline, "{n} events not stored in time");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    append(1);
    let mut service = Service::start(&config, &[]);
    wait_stored(1);
    write_config("192.168.0.0/16", "\"enrich\"");
    service.signal("-HUP");
    service.wait_line("metron: SIGHUP: stages reloaded");
    append(2);
    wait_stored(2);
    write_config("192.168.0.0/16", "\"enrich\", \"nope\"");
    service.signal("-HUP");
    let said = service.wait_line("metron: SIGHUP: the config was not reloaded");
    assert!(said.contains("nope"), "{said}");
    append(3);
    wait_stored(3);
    service.signal("-TERM");
    let (status, seen) = service.wait();
    assert!(status.success(), "{seen:?}");
    let rows = query(
        &store,
        "SELECT ip_src_port AS port, \"enrichments.network.ip_src_addr.internal\" AS src, \
         \"enrichments.network.ip_dst_addr.internal\" AS dst FROM events ORDER BY ip_src_port",
    );
    let got: Vec<(i64, bool, bool)> = rows
        .iter()
        .map(|r| {
            (r["port"].as_i64().unwrap(), r["src"].as_bool().unwrap_or(false), r["dst"].as_bool().unwrap_or(false))
        })
        .collect();
    assert_eq!(got, [(1, true, false), (2, false, true), (3, false, true)]);
}

/// `--once` ends when the followed files are read, wherever the listeners stand in the
/// config (a listener listed first once kept it running).
#[test]
fn once_ends_when_the_files_are_read_even_with_a_listener_listed_first() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join("app.log"), (1..=50).map(|n| syslog_line(0, n) + "\n").collect::<String>()).unwrap();
    let store = dir.path().join("store");
    let config = dir.path().join("metron.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\ndir = {store:?}\n[[run.source]]\nlisten = \"tcp://127.0.0.1:0\"\nformat = \"syslog\"\n\
             [[run.source]]\nfollow = {logs:?}\nformat = \"syslog\"\n"
        ),
    )
    .unwrap();
    let (status, seen) = Service::start(&config, &["--once"]).wait();
    assert!(status.success(), "{seen:?}");
    assert_eq!(count(&store, "SELECT count(*) FROM events"), 50);
}
