//! Black-box tests of the real binary: conventions every stage shares (inputs,
//! compression, outputs, error sink, exit codes, closed pipes, config, follow).

mod common;

use common::{lines, metron, testdata};
use predicates::prelude::*;
use std::io::{BufRead, BufReader, Write};

use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn parse_writes_only_events_on_stdout_and_a_summary_on_stderr() {
    let out = metron().args(["parse"]).arg(testdata("zeek/wrccdc2018-tsv/conn.log")).assert().success();
    let out = out.get_output();
    assert_eq!(lines(&out.stdout).len(), 92);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("parsed 100 records: 92 events, 8 skipped"), "{stderr}");
}

#[test]
fn quiet_prints_nothing_on_stderr() {
    metron().args(["parse", "-q"]).arg(testdata("metron/yaf/YafExampleOutput")).assert().success().stderr("");
}

#[test]
fn stdin_and_dash_read_stdin() {
    let input = std::fs::read(testdata("metron/squid/SquidExampleOutput")).unwrap();
    let a = metron().args(["parse", "-q"]).write_stdin(input.clone()).assert().success().get_output().stdout.clone();
    let b = metron().args(["parse", "-q", "-"]).write_stdin(input).assert().success().get_output().stdout.clone();
    assert_eq!(lines(&a).len(), 2);
    assert_eq!(lines(&b).len(), 2);
}

#[test]
fn compressed_inputs_and_zst_output_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let raw = std::fs::read(testdata("zeek/wrccdc2018-tsv/dns.log")).unwrap();
    let zst = dir.path().join("dns.log.zst");
    std::fs::write(&zst, zstd::encode_all(&raw[..], 3).unwrap()).unwrap();
    let gz = dir.path().join("dns.log.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&raw).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let out = dir.path().join("events.ndjson.zst");
    metron().args(["parse", "-q", "-o"]).arg(&out).arg(&zst).arg(&gz).assert().success();
    let events = lines(&zstd::decode_all(&std::fs::read(&out).unwrap()[..]).unwrap());
    assert_eq!(events.len(), 400);
    assert!(events.iter().all(|e| e["source.type"] == "zeek.dns"));
}

#[test]
fn errors_go_to_the_errors_file_and_the_exit_code_is_1() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("eve.json");
    std::fs::write(&input, "{\"timestamp\":\"2016-01-28T15:29:48Z\",\"event_type\":\"dns\"}\nnot json\n{\"timestamp\":\"2016-01-28T15:29:48Z\",\"event_type\":\"flow\"}\n").unwrap();
    let errors = dir.path().join("errors.ndjson");
    let assert = metron().args(["parse", "--format", "suricata", "--errors"]).arg(&errors).arg(&input).assert().code(1);
    assert_eq!(lines(&assert.get_output().stdout).len(), 2);
    let errs = lines(&std::fs::read(&errors).unwrap());
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0]["line"], 2);
    assert_eq!(errs[0]["raw_message"], "not json");
    assert_eq!(errs[0]["file"], input.display().to_string());
}

#[test]
fn errors_without_a_file_are_named_on_stderr() {
    metron()
        .args(["parse", "--format", "suricata"])
        .write_stdin("oops\n")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("-:1: parser_error"));
}

#[test]
fn a_missing_input_is_reported_and_the_others_still_run() {
    metron()
        .args(["parse", "/nonexistent/conn.log"])
        .arg(testdata("metron/yaf/YafExampleOutput"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\"source.type\":\"yaf\""))
        .stderr(predicate::str::contains("/nonexistent/conn.log"));
}

#[test]
fn a_truncated_gzip_keeps_what_came_before_and_reports_the_damage() {
    let dir = tempfile::tempdir().unwrap();
    let raw = std::fs::read(testdata("zeek/wrccdc2018-tsv/x509.log")).unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&raw).unwrap();
    let gz = enc.finish().unwrap();
    let cut = dir.path().join("x509.log.gz");
    std::fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
    let assert = metron().args(["parse"]).arg(&cut).assert().code(1);
    let out = assert.get_output();
    let n = lines(&out.stdout).len();
    assert!(n > 10 && n < 200, "{n} events before the damage");
    assert!(String::from_utf8_lossy(&out.stderr).contains("read error"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_closed_stdout_ends_quietly_with_0() {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("metron"))
        .args(["generate", "zeek-conn", "-n", "200000"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let gen_out = child.stdout.take().unwrap();
    let mut parse = std::process::Command::new(assert_cmd::cargo::cargo_bin("metron"))
        .args(["parse"])
        .stdin(gen_out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(parse.stdout.take().unwrap()).read_line(&mut first).unwrap();
    // Dropping the reader closes the pipe, as `| head -1` does.
    let output = parse.wait_with_output().unwrap();
    let _ = child.wait();
    assert!(first.contains("zeek.conn"));
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(!String::from_utf8_lossy(&output.stderr).contains("error"), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn unknown_format_is_a_usage_error_with_exit_2() {
    metron()
        .args(["parse", "--format", "nosuch"])
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown format"));
}

#[test]
fn config_is_found_by_flag_env_and_xdg_and_user_parsers_work() {
    let dir = tempfile::tempdir().unwrap();
    let config = "[parsers.fw]\nkind = \"csv\"\ncolumns = [\"time\", \"ip_src_addr\", \"ip_dst_addr\", \"action\"]\ntimestamp_field = \"time\"\ntimestamp_format = \"epoch_s\"\n\n[parse]\nformat = \"fw\"\n";
    let xdg = dir.path().join("xdg");
    std::fs::create_dir_all(xdg.join("metron")).unwrap();
    std::fs::write(xdg.join("metron/metron.toml"), config).unwrap();
    let explicit = dir.path().join("my.toml");
    std::fs::write(&explicit, config).unwrap();
    let input = "1700000000,10.0.0.1,8.8.8.8,deny\n";
    let check = |out: &[u8]| {
        let e = &lines(out)[0];
        assert_eq!(e["source.type"], "fw");
        assert_eq!(e["action"], "deny");
        assert_eq!(e["timestamp"], 1_700_000_000_000i64);
    };
    check(
        &metron()
            .args(["parse", "-q", "--config"])
            .arg(&explicit)
            .write_stdin(input)
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    check(
        &metron()
            .args(["parse", "-q"])
            .env("METRON_CONFIG", &explicit)
            .write_stdin(input)
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    check(
        &metron()
            .args(["parse", "-q"])
            .env("XDG_CONFIG_HOME", &xdg)
            .write_stdin(input)
            .assert()
            .success()
            .get_output()
            .stdout,
    );
}

#[test]
fn a_bad_config_reports_every_problem_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[parsers.a]\nkind = \"regex\"\npattern = \"(\"\n\n[parsers.b]\nkind = \"nosuchkind\"\n")
        .unwrap();
    metron().args(["parse", "--config"]).arg(&bad).write_stdin("").assert().code(2).stderr(
        predicate::str::contains("[parsers.a]")
            .and(predicate::str::contains("[parsers.b]"))
            .and(predicate::str::contains("bad.toml")),
    );
}

#[test]
fn follow_picks_up_new_lines_and_rotated_files() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("eve.json");
    let line = |t: &str| format!("{{\"timestamp\":\"2016-01-28T15:29:48Z\",\"event_type\":\"{t}\"}}\n");
    std::fs::write(&log, line("dns")).unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("metron"))
        .args(["parse", "-q", "--follow", "--format", "suricata"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut read_type = || {
        let mut l = String::new();
        reader.read_line(&mut l).unwrap();
        serde_json::from_str::<serde_json::Value>(&l).map(|v| v["source.type"].clone()).unwrap_or_default()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    assert_eq!(read_type(), "suricata.dns");
    std::fs::OpenOptions::new().append(true).open(&log).unwrap().write_all(line("http").as_bytes()).unwrap();
    assert_eq!(read_type(), "suricata.http");
    std::fs::rename(&log, dir.path().join("eve.json.1")).unwrap();
    std::fs::write(&log, line("tls")).unwrap();
    assert_eq!(read_type(), "suricata.tls");
    std::fs::write(dir.path().join("other.json"), line("flow")).unwrap();
    assert_eq!(read_type(), "suricata.flow");
    assert!(Instant::now() < deadline);
    child.kill().unwrap();
    let _ = child.wait();
}

#[test]
fn generate_makes_parseable_telemetry_of_the_asked_size() {
    for (kind, n) in [("zeek-conn", 500), ("suricata-eve", 500)] {
        let gen =
            metron().args(["generate", kind, "-n", &n.to_string()]).assert().success().get_output().stdout.clone();
        let out = metron().args(["parse"]).write_stdin(gen).assert().success();
        assert_eq!(lines(&out.get_output().stdout).len(), n, "{kind}");
    }
}

#[test]
fn demo_runs_the_pipeline_and_prints_a_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("demo-store");
    let run = || metron().arg("demo").arg("--store").arg(&store).assert().success();
    run().stdout(
        predicate::str::contains("events by source.type")
            .and(predicate::str::contains("zeek.conn"))
            .and(predicate::str::contains("top talkers"))
            .and(predicate::str::contains("enrich -> label -> alert"))
            .and(predicate::str::contains("HIGH Threat intel hit"))
            .and(predicate::str::contains("0 stage errors"))
            .and(predicate::str::contains("top alerts"))
            .and(predicate::str::contains("bytes per event")),
    );
    // The demo's store is there to explore, and the next demo replaces it.
    let count = || {
        let out = metron()
            .args(["store", "query", "--format", "csv", "--store"])
            .arg(&store)
            .arg("SELECT count(*) AS n FROM alerts")
            .assert()
            .success();
        String::from_utf8_lossy(&out.get_output().stdout).into_owned()
    };
    let first = count();
    assert!(first.starts_with("n\n") && first != "n\n0\n", "{first}");
    run();
    assert_eq!(count(), first);
}

#[test]
fn help_shows_examples() {
    metron().args(["parse", "--help"]).assert().success().stdout(predicate::str::contains("Examples:"));
    metron().arg("--help").assert().success().stdout(predicate::str::contains("metron demo"));
}

/// A Kafka URL is read by every build: its problems are reported at once, before
/// anything connects, and a build without the `kafka` feature says how to get one.
#[test]
fn kafka_urls_are_checked_whole_and_a_build_without_kafka_says_so() {
    let out = metron()
        .args(["enrich", "--internal", "10.0.0.0/8", "kafka://nohost/bad topic?offset=middle"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    for part in ["\"nohost\" is not HOST:PORT", "\"bad topic\"", "offset=middle"] {
        assert!(err.contains(part), "{part} missing: {err}");
    }
    let out = metron().args(["enrich", "--internal", "10.0.0.0/8", "kafka://h:1/t", "kafka://h:1/u"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("read alone"), "{out:?}");
    if cfg!(not(feature = "kafka")) {
        let out = metron().args(["enrich", "--internal", "10.0.0.0/8", "kafka://127.0.0.1:9/raw"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--features kafka"), "{out:?}");
        let out =
            metron().args(["generate", "zeek-conn", "-n", "1", "-o", "kafka://127.0.0.1:9/raw"]).output().unwrap();
        assert!(String::from_utf8_lossy(&out.stderr).contains("--features kafka"), "{out:?}");
    }
}
