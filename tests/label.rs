//! Black-box tests of `metron label`: STIX matching checked against the stix2-matcher
//! oracle on OASIS's own bundles, real abuse.ch / Emerging Threats feeds loaded with
//! counts taken independently, malformed rows reported by line, triage aggregators and
//! reasons, and events without hits passing byte for byte.

mod common;

use common::{lines, metron, testdata};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn arg(p: &Path) -> String {
    p.display().to_string()
}

fn ndjson(events: &[Value]) -> String {
    events.iter().map(|e| format!("{e}\n")).collect()
}

/// Runs `metron label ARGS` over `events`; (events out, stderr, exit code).
fn label(args: &[String], events: &[Value]) -> (Vec<Value>, String, i32) {
    let out = metron().arg("label").args(args).write_stdin(ndjson(events)).output().unwrap();
    (lines(&out.stdout), String::from_utf8_lossy(&out.stderr).into_owned(), out.status.code().unwrap_or(-1))
}

fn stix_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(testdata("stix"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && !p.ends_with("metron-validity-bundle.json"))
        .collect();
    files.sort();
    files
}

/// The event field and our indicator type for an oracle comparison, if we evaluate it.
fn field_for(object_type: &str, path: &str) -> Option<(&'static str, &'static str)> {
    match (object_type, path) {
        ("ipv4-addr", "value") => Some(("ip_dst_addr", "ip")),
        ("domain-name", "value") => Some(("query", "domain")),
        ("url", "value") => Some(("url", "url")),
        ("file", "hashes.md5") => Some(("md5", "md5")),
        ("file", "hashes.SHA-256") => Some(("sha256", "sha256")),
        _ => None,
    }
}

/// For every indicator in testdata/stix, the oracle (stix2-matcher 3.0.0 on synthetic
/// observed-data, see SOURCE.md) says which observables match; metron must agree on
/// every pattern it evaluates, and name every pattern it does not.
#[test]
fn stix_matches_agree_with_the_stix2_matcher_oracle() {
    let oracle = std::fs::read_to_string(testdata("stix/ORACLE-indicator-patterns.tsv")).unwrap();
    let rows: Vec<Vec<&str>> = oracle
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("file\t"))
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(rows.len(), 49, "SOURCE.md: one row per indicator object (49 rows)");
    // STIX versioning: of the objects sharing an id, the latest `modified` (here the
    // last in the file) is the indicator; the oracle matched each object alone.
    let mut live: HashMap<(&str, &str), &str> = HashMap::new();
    for r in &rows {
        live.insert((r[0], r[1]), r[9]);
    }
    let mut events = Vec::new();
    // (row number, source, field, type, value, expected)
    let mut probes: Vec<(usize, String, &str, &str, String, bool)> = Vec::new();
    let mut not_evaluated = Vec::new();
    for (n, r) in rows.iter().enumerate() {
        let source = r[0].trim_end_matches(".json").to_owned();
        let comparisons: Vec<Vec<String>> = serde_json::from_str(r[4]).unwrap();
        let supported = comparisons.iter().all(|c| field_for(&c[0], &c[1]).is_some() && c[2] == "=")
            && (comparisons.len() == 1 || r[9].contains(" OR ") && !r[9].contains(" AND "));
        if !supported {
            not_evaluated.push(r[1]);
            continue;
        }
        let superseded = live[&(r[0], r[1])] != r[9];
        let literal_field = |value: &str| {
            let c = comparisons.iter().find(|c| c[3] == format!("'{value}'")).unwrap();
            field_for(&c[0], &c[1]).unwrap()
        };
        if r[5] == "each literal (OR)" {
            for pair in r[6].split(';') {
                let (value, result) = pair.rsplit_once('=').unwrap();
                let (field, kind) = literal_field(value);
                probes.push((n, source.clone(), field, kind, value.to_owned(), result == "True" && !superseded));
            }
        } else {
            let (field, kind) = field_for(&comparisons[0][0], &comparisons[0][1]).unwrap();
            probes.push((n, source.clone(), field, kind, r[5].to_owned(), r[6] == "True" && !superseded));
        }
        let (field, kind) = field_for(&comparisons[0][0], &comparisons[0][1]).unwrap();
        probes.push((n, source, field, kind, r[7].to_owned(), r[8] == "True"));
    }
    for (n, _, field, _, value, _) in &probes {
        events.push(json!({ "probe": n, *field: value }));
    }
    let mut args = Vec::new();
    for f in stix_files() {
        args.push("--intel".to_owned());
        args.push(arg(&f));
    }
    let (out, stderr, code) = label(&args, &events);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(out.len(), events.len());
    let mut positives = 0;
    for ((n, source, field, kind, value, expected), e) in probes.iter().zip(&out) {
        let key = format!("threatintels.{source}.{field}.{kind}");
        let hit = e.get(&key).is_some();
        assert_eq!(hit, *expected, "row {n} ({}): {value} -> {e}", rows[*n][9]);
        if *expected {
            positives += 1;
            assert_eq!(e["is_alert"], true);
            assert!(e[format!("{key}.id")].as_str().unwrap().starts_with("indicator--"), "{e}");
        }
    }
    assert!(positives > 60, "{positives}");
    // Patterns we do not evaluate (AND, MATCHES, file:name) are each named on stderr.
    assert_eq!(not_evaluated.len(), 6, "{not_evaluated:?}");
    for id in not_evaluated {
        assert!(stderr.lines().any(|l| l.contains(id) && l.contains("not evaluated")), "{id} not listed:\n{stderr}");
    }
}

#[test]
fn stix_cidr_equality_is_text_unless_configured_as_subset() {
    let apt1 = arg(&testdata("stix/doc-apt1.json"));
    let events = [json!({"ip_dst_addr": "223.166.0.1"}), json!({"ip_dst_addr": "223.166.0.0/15"})];
    // The STIX semantics (and the oracle): `=` compares text.
    let (out, stderr, _) = label(&["--intel".into(), apt1.clone()], &events);
    assert!(out[0].get("is_alert").is_none(), "{}", out[0]);
    assert_eq!(out[1]["threatintels.doc-apt1.ip_dst_addr.ip"], "alert");
    assert!(stderr.contains("compares text, so no address inside 223.166.0.0/15 matches"), "{stderr}");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("metron.toml");
    std::fs::write(&config, "[label]\nstix_cidr_equality = \"subset\"\n").unwrap();
    let (out, _, _) = label(&["--config".into(), arg(&config), "--intel".into(), apt1], &events);
    assert_eq!(out[0]["threatintels.doc-apt1.ip_dst_addr.ip.indicator"], "223.166.0.0/15");
    assert_eq!(out[0]["threatintels.doc-apt1.ip_dst_addr.ip.name"], "HTRAN Hop Point Accessor");
}

/// testdata/stix/metron-validity-bundle.json (written for these tests): validity
/// windows, revocation, ISSUBSET, IPv6, email case, a broken and a non-STIX pattern.
#[test]
fn stix_validity_revocation_and_what_cannot_be_used() {
    let bundle = arg(&testdata("stix/metron-validity-bundle.json"));
    let ms = |y: i32| chrono_ms(y);
    let events = [
        json!({"timestamp": ms(2025), "ip_dst_addr": "198.51.100.10"}),
        json!({"timestamp": ms(2027), "ip_dst_addr": "198.51.100.10"}),
        json!({"timestamp": ms(2025), "ip_dst_addr": "198.51.100.11"}),
        json!({"timestamp": ms(2025), "ip_src_addr": "198.51.100.200", "ip_dst_addr": "2001:db8:0:0::1"}),
        json!({"timestamp": ms(2025), "mailfrom": "<PHISHER@example.COM>", "fileinfo.sha1": "3395856CE81F2B7382DEE72602F798B642F14140"}),
    ];
    let (out, stderr, code) = label(&["--intel".into(), bundle], &events);
    assert_eq!(code, 0);
    let s = "threatintels.metron-validity-bundle";
    assert_eq!(out[0][format!("{s}.ip_dst_addr.ip")], "alert");
    assert_eq!(out[0][format!("{s}.ip_dst_addr.ip.name")], "Valid in 2025 only");
    assert_eq!(out[0][format!("{s}.ip_dst_addr.ip.confidence")], 80);
    assert_eq!(out[0][format!("{s}.ip_dst_addr.ip.labels")], json!(["test", "malicious-activity"]));
    assert!(out[1].get("is_alert").is_none(), "valid_until is past: {}", out[1]);
    assert!(out[2].get("is_alert").is_none(), "revoked: {}", out[2]);
    assert_eq!(out[3][format!("{s}.ip_src_addr.ip.indicator")], "198.51.100.128/25");
    assert_eq!(out[3][format!("{s}.ip_dst_addr.ip.indicator")], "2001:db8::1");
    assert_eq!(out[4][format!("{s}.mailfrom.email")], "alert");
    assert_eq!(out[4][format!("{s}.fileinfo.sha1.sha1")], "alert");
    assert!(stderr
        .contains("objects[5] indicator--6a1b2c3d-0000-4000-8000-000000000014: pattern does not parse: column 35"));
    assert!(stderr.contains("objects[6]: not evaluated:") && stderr.contains("pattern_type \"sigma\""), "{stderr}");
    assert!(stderr.contains("(1 malformed, 1 pattern not evaluated, 1 revoked)"), "{stderr}");
    assert!(stderr.contains("1 hits outside the indicator's validity"), "{stderr}");
}

/// Milliseconds at 2025-06-01 (or the same day of year `y`).
fn chrono_ms(y: i32) -> i64 {
    let days_from_1970 =
        (1970..y).map(|yr| if yr % 4 == 0 && (yr % 100 != 0 || yr % 400 == 0) { 366 } else { 365 }).sum::<i64>();
    (days_from_1970 + 151) * 86_400_000
}

/// What `--check` says one file gave: (indicators, whole report line).
fn loaded(intel: &str) -> (u64, String) {
    let out = metron().args(["label", "--check", "--intel", intel]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let line = stderr.lines().find(|l| l.contains(" indicator")).unwrap_or_else(|| panic!("{stderr}")).to_owned();
    let n = line.split("): ").nth(1).unwrap().split(' ').next().unwrap().replace(',', "");
    (n.parse().unwrap(), stderr)
}

#[test]
fn each_real_feed_loads_with_its_independently_counted_indicators() {
    let cases: [(&str, u64, &str); 6] = [
        // `wc -l` and `grep -c .` both say 2789 (no comments, no blank lines);
        // `sort -u | wc -l` 2789: no duplicates.
        ("feeds/et-compromised-ips.txt", 2789, "2,789 ip"),
        // `grep -c '^"[0-9]'`: 28 rows (the trailer says "# END 28 entries").
        ("feeds/feodotracker-ipblocklist.csv", 28, "28 ip"),
        // `grep -vc '^#'`: 200 rows; `cut -d, -f2 | sort -u | wc -l`: 200 distinct.
        ("feeds/sslbl-sslblacklist-head200.csv", 200, "200 sha1"),
        // `grep -c '^"'`: 200 rows (the header is not quoted); 200 distinct URLs.
        ("feeds/urlhaus-csv-head200-noheadercomments.csv", 200, "200 url"),
        // `grep -c '^"'`: 7 rows under the commented header.
        ("feeds/urlhaus-csv-online-excerpt-with-header.csv", 7, "7 url"),
        // Our own MISP export, by hand: 17 rows; 4 ip (ip-dst, ip-src, the ip of
        // domain|ip, ip-dst|port), 3 domain (domain, hostname, domain|ip), 1 each of
        // url, email, md5, sha1, sha256 = 12; filename|md5 repeats the md5; regkey,
        // filename and to_ids=0 are set aside; 3 rows are malformed.
        ("feeds/metron-misp-export.csv", 12, "4 ip, 3 domain, 1 url, 1 email, 1 md5, 1 sha1, 1 sha256"),
    ];
    for (file, want, by_type) in cases {
        let (n, stderr) = loaded(&arg(&testdata(file)));
        assert_eq!(n, want, "{file}:\n{stderr}");
        assert!(stderr.contains(by_type), "{file}:\n{stderr}");
    }
    let (_, misp) = loaded(&arg(&testdata("feeds/metron-misp-export.csv")));
    for reported in
        ["1 duplicate,", "3 malformed", "1 not for detection (to_ids = 0)", "type \"regkey\"", "type \"filename\""]
    {
        assert!(misp.contains(reported), "{reported}:\n{misp}");
    }
    for line in ["line 17: not an IP address", "line 18: not an md5 hash", "line 19: text after the closing quote"] {
        assert!(misp.contains(line), "{line}:\n{misp}");
    }
}

#[test]
fn a_directory_loads_every_feed_and_skips_docs_and_licences() {
    let out = metron().args(["label", "--check", "--intel"]).arg(testdata("feeds")).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "the MISP export has malformed rows: {stderr}");
    // 2789 + 28 + 200 + 200 + 7 + 12
    assert!(stderr.contains("intel: 3,236 indicators from 6 files"), "{stderr}");
    assert!(!stderr.contains("SOURCE.md") && !stderr.contains("BSD-License"), "{stderr}");
}

#[test]
fn malformed_rows_are_reported_by_line_and_the_rest_loads() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feodo.csv");
    let mut text = std::fs::read_to_string(testdata("feeds/feodotracker-ipblocklist.csv")).unwrap();
    // The real file ends without a newline after its "# END 28 entries" trailer, line
    // 38 (`wc -l` counts 37 newlines): what is added is lines 39 to 42.
    text.push('\n');
    text.push_str("\"2024-04-05 01:00:00\",\"300.1.2.3\",\"443\",\"online\",\"2024-04-05\",\"Pikabot\"\n");
    text.push_str("\"2024-04-05 01:00:00\",\"192.0.2.7\n");
    text.push_str("\"2024-04-05 01:00:00\"\n");
    text.push_str("\"2024-04-05 01:00:00\",\"192.0.2.8\",\"443\",\"online\",\"2024-04-05\",\"Pikabot\"\n");
    std::fs::write(&feed, text).unwrap();
    let (n, stderr) = loaded(&arg(&feed));
    assert_eq!(n, 29, "28 rows and the good row after the bad ones:\n{stderr}");
    assert!(stderr.contains("feodo.csv: line 39: not an IP address or CIDR: \"300.1.2.3\""), "{stderr}");
    assert!(stderr.contains("feodo.csv: line 40: unclosed quote"), "{stderr}");
    assert!(stderr.contains("feodo.csv: line 41: 1 fields, no indicator column 1 (dst_ip)"), "{stderr}");
    assert!(stderr.contains("3 malformed"), "{stderr}");
}

#[test]
fn a_file_that_is_no_intel_at_all_stops_the_start() {
    let doc = arg(&testdata("feeds/SOURCE.md"));
    let out = metron().args(["label", "--intel", &doc]).write_stdin("").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("SOURCE.md: not one usable indicator") && stderr.contains("line 3: not an IP"), "{stderr}");
}

#[test]
fn hits_from_real_feeds_carry_their_details() {
    let f = |p: &str| ["--intel".to_owned(), arg(&testdata(p))];
    let mut args = Vec::new();
    for p in [
        "feeds/feodotracker-ipblocklist.csv",
        "feeds/urlhaus-csv-online-excerpt-with-header.csv",
        "feeds/sslbl-sslblacklist-head200.csv",
        "feeds/et-compromised-ips.txt",
        "feeds/metron-misp-export.csv",
    ] {
        args.extend(f(p));
    }
    args.push("-q".into());
    let events = [
        json!({"ip_src_addr": "10.0.0.5", "ip_dst_addr": "192.9.135.73", "ip_dst_port": 1194}),
        // URLhaus lists http://176.65.139.212/eclipse.sh4; Zeek's http.log has host + uri.
        json!({"host": "176.65.139.212", "uri": "/eclipse.sh4", "ip_dst_port": 80}),
        json!({"url": "HTTP://120.84.215.27:44835/i"}),
        // SSLBL's first SHA-1, as Suricata writes certificate fingerprints.
        json!({"tls.fingerprint": "2e:35:19:b7:cb:61:a3:cd:61:67:f7:27:df:99:3f:68:31:10:85:ea"}),
        json!({"ip_src_addr": "100.35.27.92"}),
        json!({"query": "a.b.c2.example.net", "dns.rrname": "update.example.org."}),
        json!({"fileinfo.md5": "44D88612FEA8A8F36DE82E1278ABB02F"}),
    ];
    let (out, stderr, code) = label(&args, &events);
    assert_eq!((code, out.len()), (0, 7), "{stderr}");
    let feodo = "threatintels.feodotracker-ipblocklist.ip_dst_addr.ip";
    assert_eq!(out[0][feodo], "alert");
    assert_eq!(out[0][format!("{feodo}.name")], "Pikabot");
    assert_eq!(out[0][format!("{feodo}.labels")], json!(["online"]));
    let uh = "threatintels.urlhaus-csv-online-excerpt-with-header";
    assert_eq!(out[1][format!("{uh}.uri.url.indicator")], "http://176.65.139.212/eclipse.sh4");
    assert_eq!(out[1][format!("{uh}.uri.url.labels")], json!(["176-65-139-212", "elf", "mirai", "ua-wget"]));
    assert_eq!(out[1][format!("{uh}.uri.url.name")], "malware_download");
    assert_eq!(out[2][format!("{uh}.url.url")], "alert");
    assert!(out[2].get(format!("{uh}.url.url.labels")).is_none(), "tags \"None\" are no labels");
    let ssl = "threatintels.sslbl-sslblacklist-head200.tls.fingerprint.sha1";
    assert_eq!(out[3][format!("{ssl}.indicator")], "2e3519b7cb61a3cd6167f727df993f68311085ea");
    assert_eq!(out[3][format!("{ssl}.name")], "DCRat C&C");
    assert_eq!(out[4]["threatintels.et-compromised-ips.ip_src_addr.ip"], "alert");
    assert_eq!(out[5]["threatintels.metron-misp-export.query.domain.indicator"], "c2.example.net");
    assert_eq!(out[5]["threatintels.metron-misp-export.query.domain.name"], "C2 domain");
    assert_eq!(out[5]["threatintels.metron-misp-export.query.domain.labels"], json!(["Network activity"]));
    assert_eq!(out[5]["threatintels.metron-misp-export.dns.rrname.domain.name"], "Update server, fake");
    assert_eq!(out[6]["threatintels.metron-misp-export.fileinfo.md5.md5.name"], "EICAR test file");
    assert!(out.iter().all(|e| e["is_alert"] == true));
}

#[test]
fn events_without_hits_pass_byte_for_byte() {
    let input = "{\"ip_src_addr\":\"10.0.0.1\",\"b\":1.50,\"u\":\"\\u00e9\"}\n{ \"query\" : \"example.org\" }\n";
    let out = metron()
        .args(["label", "-q", "--intel"])
        .arg(testdata("feeds/feodotracker-ipblocklist.csv"))
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), input);
}

#[test]
fn lines_that_are_not_events_are_error_records() {
    let dir = tempfile::tempdir().unwrap();
    let errors = dir.path().join("errors.ndjson");
    let out = metron()
        .args(["label", "-q", "--errors"])
        .arg(&errors)
        .arg("--intel")
        .arg(testdata("feeds/feodotracker-ipblocklist.csv"))
        .write_stdin("{\"ip_dst_addr\":\"192.9.135.73\"}\nnot json\n[1]\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(lines(&out.stdout).len(), 1);
    let errs = lines(&std::fs::read(&errors).unwrap());
    assert_eq!(errs.len(), 2);
    assert!(errs.iter().all(|e| e["error_type"] == "threatintel_error" && e["failed_sensor_type"] == "label"));
}

/// A config with the Feodo feed under its own name and three triage rules scoring
/// 10, 5 and -2 on an event to a listed C2 on port 1194.
fn triage_config(dir: &Path, aggregator: &str) -> PathBuf {
    let config = dir.join("metron.toml");
    let feodo = testdata("feeds/feodotracker-ipblocklist.csv");
    std::fs::write(
        &config,
        format!(
            r#"[label.feeds.feodo]
path = "{}"
format = "feodo"

[label.triage]
aggregator = "{aggregator}"

[[label.triage.rules]]
name = "Feodo C2"
comment = "abuse.ch lists it as a botnet C2"
rule = '"threatintels.feodo.ip_dst_addr.ip" in e'
score = 10
reason = '"connection from " + e.ip_src_addr + " to " + e["threatintels.feodo.ip_dst_addr.ip.name"] + " C2 " + e.ip_dst_addr'

[[label.triage.rules]]
name = "OpenVPN port"
rule = "e.ip_dst_port == 1194"
score = 5

[[label.triage.rules]]
name = "internal source"
rule = 'e.ip_src_addr.startsWith("10.")'
score = -2

[[label.triage.rules]]
name = "never"
rule = "false"
score = 100
"#,
            feodo.display()
        ),
    )
    .unwrap();
    config
}

fn triage(aggregator: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let config = triage_config(dir.path(), aggregator);
    let events = [json!({"ip_src_addr": "10.1.2.3", "ip_dst_addr": "192.9.135.73", "ip_dst_port": 1194})];
    let (mut out, stderr, code) = label(&["--config".into(), arg(&config)], &events);
    assert_eq!(code, 0, "{stderr}");
    let e = out.remove(0);
    assert_eq!(e["threat.triage.rules.2.name"], "internal source", "{e}");
    assert!(e.get("threat.triage.rules.3.name").is_none(), "{e}");
    e["threat.triage.score"].clone()
}

#[test]
fn triage_max() {
    assert_eq!(triage("MAX"), 10);
}

#[test]
fn triage_min() {
    assert_eq!(triage("MIN"), -2);
}

#[test]
fn triage_sum() {
    assert_eq!(triage("SUM"), 13);
}

#[test]
fn triage_mean() {
    assert!((triage("MEAN").as_f64().unwrap() - 13.0 / 3.0).abs() < 1e-9);
}

#[test]
fn triage_positive_mean() {
    assert_eq!(triage("POSITIVE_MEAN"), 7.5);
}

#[test]
fn triage_rules_explain_the_score_and_only_alerts_are_scored() {
    let dir = tempfile::tempdir().unwrap();
    let config = triage_config(dir.path(), "MAX");
    let events = [
        json!({"ip_src_addr": "10.1.2.3", "ip_dst_addr": "192.9.135.73", "ip_dst_port": 1194}),
        json!({"ip_src_addr": "10.1.2.3", "ip_dst_addr": "192.0.2.1", "ip_dst_port": 1194}),
        json!({"ip_src_addr": "10.1.2.3", "ip_dst_port": 53, "is_alert": true}),
    ];
    let (out, stderr, _) = label(&["--config".into(), arg(&config)], &events);
    let e = &out[0];
    assert_eq!(e["threat.triage.rules.0.name"], "Feodo C2");
    assert_eq!(e["threat.triage.rules.0.comment"], "abuse.ch lists it as a botnet C2");
    assert_eq!(e["threat.triage.rules.0.score"], 10);
    assert_eq!(e["threat.triage.rules.0.reason"], "connection from 10.1.2.3 to Pikabot C2 192.9.135.73");
    assert_eq!(e["threat.triage.rules.1.reason"], Value::Null);
    assert!(out[1].get("threat.triage.score").is_none(), "no hit, no alert, no score: {}", out[1]);
    // An alert from upstream (is_alert already true) is scored too.
    assert_eq!(out[2]["threat.triage.score"], -2);
    assert!(stderr.contains("2 alerts scored"), "{stderr}");
}

#[test]
fn a_triage_expression_that_does_not_compile_is_refused_with_rule_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("metron.toml");
    std::fs::write(
        &config,
        "[[label.triage.rules]]\nname = \"broken\"\nrule = 'e.ip_dst_port == '\nscore = 1\n\
         [[label.triage.rules]]\nname = \"bare field\"\nrule = 'ip_dst_port == 1'\nscore = 1\n",
    )
    .unwrap();
    let out = metron().args(["label", "--config"]).arg(&config).write_stdin("").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("triage rule \"broken\" (rules[0]) rule: line 1, column 18"), "{stderr}");
    assert!(stderr.contains("triage rule \"bare field\" (rules[1]) rule: unknown variable `ip_dst_port`"), "{stderr}");
}

#[test]
fn a_csv_feed_described_like_metrons_extractor_config() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("domains.psv");
    std::fs::write(
        &feed,
        "# domain|source|first seen\nevil.example|partner-a|2025-01-01\nbad.example|partner-b|2025-01-02\n",
    )
    .unwrap();
    let config = dir.path().join("metron.toml");
    std::fs::write(
        &config,
        "[label.feeds.partner]\npath = \"domains.psv\"\nformat = \"csv\"\nseparator = \"|\"\n\
         columns = { domain = 0, source = 1 }\nindicator_column = \"domain\"\ntype = \"domain\"\nname_column = \"source\"\n",
    )
    .unwrap();
    let events = [json!({"server_name": "www.bad.example"}), json!({"server_name": "bad.example.org"})];
    let (out, stderr, code) = label(&["--config".into(), arg(&config)], &events);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(out[0]["threatintels.partner.server_name.domain.indicator"], "bad.example");
    assert_eq!(out[0]["threatintels.partner.server_name.domain.name"], "partner-b");
    assert!(out[1].get("is_alert").is_none());
    assert!(stderr.contains("source partner): 2 indicators: 2 domain"), "{stderr}");
}

#[test]
fn generated_intel_hits_about_one_percent_of_generated_conns() {
    let dir = tempfile::tempdir().unwrap();
    let intel = dir.path().join("intel.txt");
    metron().args(["generate", "intel", "-n", "20000", "--seed", "5", "-o"]).arg(&intel).assert().success();
    let conn = metron().args(["generate", "zeek-conn", "-n", "20000", "--seed", "5"]).output().unwrap().stdout;
    let events = metron().args(["parse", "-q"]).write_stdin(conn).output().unwrap().stdout;
    let out = metron().args(["label", "-q", "--intel"]).arg(&intel).write_stdin(events).output().unwrap();
    let labeled = lines(&out.stdout).iter().filter(|e| e.get("is_alert").is_some()).count();
    assert!((100..400).contains(&labeled), "{labeled} of 20000");
}

/// The binary as a child with piped stdin and stdout.
fn spawn(args: &[String]) -> Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("metron"))
        .args(args)
        .env_remove("METRON_CONFIG")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_feed_replaced_while_following_takes_over_and_a_broken_one_is_kept_out() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("ips.txt");
    std::fs::write(&feed, "192.0.2.1\n").unwrap();
    let events = dir.path().join("events.ndjson");
    std::fs::write(&events, "").unwrap();
    let mut child = spawn(&["label".into(), "-F".into(), arg(&events), "--intel".into(), arg(&feed)]);
    // A stuck child fails the test instead of hanging it.
    let pid = child.id();
    let watchdog = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
            if std::fs::metadata(format!("/proc/{pid}")).is_err() {
                return;
            }
        }
        let _ = std::process::Command::new("kill").arg(pid.to_string()).status();
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut ask = |ip: &str| -> bool {
        let mut f = std::fs::OpenOptions::new().append(true).open(&events).unwrap();
        writeln!(f, "{}", json!({ "ip_dst_addr": ip })).unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        serde_json::from_str::<Value>(&line).unwrap().get("is_alert").is_some()
    };
    let replace = |text: &str| {
        let tmp = dir.path().join(".ips.txt.new");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &feed).unwrap();
    };
    assert!(ask("192.0.2.1"));
    replace("192.0.2.2\n");
    std::thread::sleep(Duration::from_millis(2000));
    assert!(ask("192.0.2.2"), "the new feed is in use");
    assert!(!ask("192.0.2.1"));
    replace("<html>502 Bad Gateway</html>\n");
    std::thread::sleep(Duration::from_millis(2000));
    assert!(ask("192.0.2.2"), "the loaded intel stays");
    child.kill().unwrap();
    let _ = child.wait();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("reloaded intel: 1 indicator from 1 file"), "{stderr}");
    assert!(stderr.contains("could not be reloaded; the previous intel stays in use"), "{stderr}");
    assert!(stderr.contains("ips.txt: not one usable indicator") && stderr.contains("502 Bad Gateway"), "{stderr}");
    let _ = watchdog.join();
}
