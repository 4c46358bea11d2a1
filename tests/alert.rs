//! `metron alert` from the outside: SigmaHQ's rules parsed as pySigma parses them,
//! matched against their regression events and against Zeek and Suricata events, our
//! own rule kinds, de-duplication, broken rules, and the binary's outputs.

mod common;

use common::{lines, metron, testdata};
use metron::alert::sigma::{Detection, Item, Modifier, SigmaRule};
use metron::alert::{AlertOutput, AlertSettings};
use metron::event::{event_from_value, Event};
use metron::stage::{Stage, StageConfig};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn sigma(rel: &str) -> SigmaRule {
    let text = std::fs::read_to_string(testdata(&format!("sigma/{rel}"))).unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
    SigmaRule::from_yaml(&docs[0]).unwrap()
}

// ---- the parser against pySigma's parse ----

fn item_json(item: &Item) -> Value {
    json!({
        "field": item.field,
        "modifiers": item.modifiers.iter().map(|m| m.pysigma_name()).collect::<Vec<_>>(),
        "values": item.values.iter().map(|v| v.render()).collect::<Vec<_>>(),
        "value_linking": if item.modifiers.contains(&Modifier::All) { "ConditionAND" } else { "ConditionOR" },
    })
}

fn detection_json(d: &Detection) -> Value {
    match d {
        Detection::All(items) => {
            json!({"item_linking": "ConditionAND", "items": items.iter().map(item_json).collect::<Vec<_>>()})
        }
        Detection::Any(ds) => {
            json!({"item_linking": "ConditionOR", "items": ds.iter().map(detection_json).collect::<Vec<_>>()})
        }
        Detection::Keywords(item) => json!({"item_linking": "ConditionAND", "items": [item_json(item)]}),
    }
}

#[test]
fn all_20_sigmahq_rules_parse_as_pysigma_parses_them() {
    let oracle: Value =
        serde_json::from_str(&std::fs::read_to_string(testdata("sigma/ORACLE-pysigma-parsed.json")).unwrap()).unwrap();
    let rules = oracle["rules"].as_object().unwrap();
    assert_eq!(rules.len(), 20);
    for (path, want) in rules {
        let rule = sigma(path);
        let got = json!({
            "title": rule.title,
            "id": rule.id,
            "status": rule.status,
            "level": rule.level,
            "logsource": {"category": rule.logsource.category, "product": rule.logsource.product, "service": rule.logsource.service},
            "condition": rule.conditions,
            "detections": rule.detections.iter().map(|(n, d)| (n.clone(), detection_json(d))).collect::<serde_json::Map<_, _>>(),
        });
        for key in ["title", "id", "status", "level", "logsource", "condition", "detections"] {
            assert_eq!(got[key], want[key], "{path}: {key}");
        }
        rule.compile().unwrap_or_else(|e| panic!("{path}: {e}"));
    }
}

// ---- matching ----

fn stage_for(rule_files: &[PathBuf]) -> metron::alert::AlertStage {
    // No de-duplication window: every match is an alert record of its own.
    let window = std::time::Duration::ZERO;
    AlertSettings {
        rules: rule_files.to_vec(),
        output: AlertOutput::Only,
        dedup_window: window,
        ..AlertSettings::default()
    }
    .build()
    .unwrap()
}

/// The ids of the rules that fire on `event`.
fn fired(stage: &mut metron::alert::AlertStage, event: Value) -> Vec<String> {
    let mut out = Vec::new();
    stage.process(event_from_value(event).unwrap(), &mut out).unwrap();
    out.iter().map(|a| a["rule"].as_str().unwrap().to_owned()).collect()
}

fn ev(v: Value) -> Value {
    v
}

/// Sysmon's JSON rendering with Event.EventData lifted to top-level names.
fn windows_event(path: &Path) -> Value {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut flat = serde_json::Map::new();
    for (k, v) in v["Event"]["EventData"].as_object().unwrap() {
        flat.insert(k.clone(), v.clone());
    }
    flat.insert("source.type".into(), "windows.process_creation".into());
    Value::Object(flat)
}

#[test]
fn the_windows_rules_match_their_own_regression_event_and_not_the_others() {
    let names = [
        ("proc_creation_win_curl_custom_user_agent", "85de1f22-d189-44e4-8239-dc276b45379b"),
        ("proc_creation_win_renamed_adfind", "df55196f-f105-44d3-a675-e9dfb6cc2f2b"),
        ("proc_creation_win_wmic_service_startup_change", "c0514f28-fdae-42df-b886-06e2b2bc5b37"),
    ];
    let files: Vec<PathBuf> = names.iter().map(|(n, _)| testdata(&format!("sigma/windows/{n}.yml"))).collect();
    let mut stage = stage_for(&files);
    for (name, id) in names {
        let event = windows_event(&testdata(&format!("sigma/windows/regression_data/{name}.{id}.json")));
        assert_eq!(fired(&mut stage, event), [id], "{name}");
    }
}

#[test]
fn zeek_dns_rules_fire_on_their_events_and_not_on_near_misses() {
    let mut stage = stage_for(&[
        testdata("sigma/network/zeek_dns_torproxy.yml"),
        testdata("sigma/network/net_dns_mal_cobaltstrike.yml"),
        testdata("sigma/network/zeek_dns_mining_pools.yml"),
        testdata("sigma/network/zeek_dns_susp_zbit_flag.yml"),
    ]);
    let dns = |query: &str, extra: Value| {
        let mut e = json!({"source.type": "zeek.dns", "ip_src_addr": "10.0.0.5", "ip_dst_addr": "10.0.0.53",
            "ip_dst_port": 53, "query": query, "qtype_name": "A", "Z": 0, "rejected": false, "answers": ["1.2.3.4"]});
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        ev(e)
    };
    let tor = "a8322756-015c-42e7-afb1-436e85ed3ff5";
    let cobalt = "2975af79-28c4-4d2f-a951-9095f229df29";
    let mining = "bf74135c-18e8-4a72-a926-0e4f47888c19";
    let zbit = "ede05abc-2c9e-4624-9944-9ff17fdc0bf5";
    assert_eq!(fired(&mut stage, dns("abcdefgh.ONION.LINK", json!({}))), [tor]);
    assert!(fired(&mut stage, dns("onion.link.example.com", json!({}))).is_empty());
    assert_eq!(fired(&mut stage, dns("aaa.stage.12345.evil.com", json!({}))), [cobalt]);
    assert_eq!(fired(&mut stage, dns("x.stage.123456.evil.com", json!({}))), [cobalt]);
    assert!(fired(&mut stage, dns("aaa.stagex.evil.com", json!({}))).is_empty());
    // The same rule on Suricata's DNS events (category dns), through its field names.
    let suricata =
        json!({"source.type": "suricata.dns", "ip_src_addr": "10.0.0.5", "dns.rrname": "post.1234.evil.com"});
    assert_eq!(fired(&mut stage, suricata), [cobalt]);
    // Mining pools: `rejected: 'true'` is an exclusion; our parser logs a boolean.
    assert_eq!(fired(&mut stage, dns("xmr.nanopool.org", json!({}))), [mining]);
    assert!(fired(&mut stage, dns("xmr.nanopool.org", json!({"rejected": true}))).is_empty());
    assert!(fired(&mut stage, dns("xmr.nanopool.org", json!({"answers": ["1.1.1.1", "127.0.0.1"]}))).is_empty());
    assert!(fired(&mut stage, dns("nanopool.org.example", json!({}))).is_empty());
    // Z bit set on a plausible domain, and each exclusion.
    assert_eq!(fired(&mut stage, dns("www.example.com", json!({"Z": 1}))), [zbit]);
    assert!(fired(&mut stage, dns("www.example.com", json!({"Z": 0}))).is_empty());
    assert!(fired(&mut stage, dns("host.local", json!({"Z": 1}))).is_empty());
    assert!(fired(&mut stage, dns("example.com", json!({"Z": 1, "qtype_name": "mx"}))).is_empty());
    assert!(fired(&mut stage, dns("example.com", json!({"Z": 1, "ip_dst_port": 137}))).is_empty());
    assert!(fired(&mut stage, dns("example.com", json!({"Z": 1, "answers": ["x\\x00"]}))).is_empty());
    assert!(fired(&mut stage, dns("nodot", json!({"Z": 1}))).is_empty());
    // Other source types never meet zeek rules.
    let conn = json!({"source.type": "zeek.conn", "query": "x.onion.link"});
    assert!(fired(&mut stage, conn).is_empty());
}

#[test]
fn zeek_http_and_proxy_rules_fire_on_their_events_and_not_on_near_misses() {
    let mut stage = stage_for(&[
        testdata("sigma/network/zeek_http_webdav_put_request.yml"),
        testdata("sigma/network/proxy_ua_empty.yml"),
        testdata("sigma/network/proxy_download_susp_tlds_blacklist.yml"),
        testdata("sigma/network/proxy_telegram_api.yml"),
        testdata("sigma/network/zeek_rdp_public_listener.yml"),
        testdata("sigma/network/net_firewall_cleartext_protocols.yml"),
    ]);
    let http = |extra: Value| {
        let mut e = json!({"source.type": "zeek.http", "ip_src_addr": "10.0.0.5", "ip_dst_addr": "93.184.216.34",
            "ip_dst_port": 80, "method": "GET", "host": "example.com", "uri": "/index.html", "user_agent": "Mozilla/5.0"});
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    };
    let webdav = "705072a5-bb6f-4ced-95b6-ecfa6602090b";
    let empty_ua = "21e44d78-95e7-421b-a464-ffd8395659c4";
    let tld = "00d0b5ab-1f55-4120-8e83-487c0a7baf19";
    let telegram = "b494b165-6634-483d-8c47-2026a6c52372";
    assert_eq!(
        fired(&mut stage, http(json!({"method": "PUT", "user_agent": "Microsoft-WebDAV-MiniRedir/10.0"}))),
        [webdav]
    );
    assert!(fired(
        &mut stage,
        http(json!({"method": "PUT", "user_agent": "Microsoft-WebDAV-MiniRedir/10.0", "ip_dst_addr": "192.168.1.10"}))
    )
    .is_empty());
    assert!(
        fired(&mut stage, http(json!({"method": "GET", "user_agent": "Microsoft-WebDAV-MiniRedir/10.0"}))).is_empty()
    );
    assert!(fired(&mut stage, http(json!({}))).is_empty());
    assert_eq!(fired(&mut stage, http(json!({"user_agent": ""}))), [empty_ua]);
    // c-uri-extension is derived from the URI; cs-host|endswith from the host.
    assert_eq!(fired(&mut stage, http(json!({"host": "files.evil.xyz", "uri": "/a/payload.exe?x=1"}))), [tld]);
    assert!(fired(&mut stage, http(json!({"host": "files.evil.xyz", "uri": "/a/page.html"}))).is_empty());
    assert!(fired(&mut stage, http(json!({"host": "files.evil.com", "uri": "/a/payload.exe"}))).is_empty());
    assert_eq!(fired(&mut stage, http(json!({"host": "api.telegram.org", "user_agent": "curl/8"}))), [telegram]);
    // Squid through its own field names.
    let squid = json!({"source.type": "squid", "ip_src_addr": "10.0.0.5", "method": "GET", "url": "http://dl.evil.xyz/x.exe", "full_hostname": "dl.evil.xyz"});
    assert_eq!(fired(&mut stage, squid), [tld]);
    // RDP: a public address talking RDP (`not` of a cidr list with IPv4 and IPv6 networks).
    let rdp = "1fc0809e-06bf-4de3-ad52-25e5263b7623";
    assert_eq!(fired(&mut stage, json!({"source.type": "zeek.rdp", "ip_src_addr": "8.8.8.8"})), [rdp]);
    assert!(fired(&mut stage, json!({"source.type": "zeek.rdp", "ip_src_addr": "10.1.2.3"})).is_empty());
    assert!(fired(&mut stage, json!({"source.type": "zeek.rdp", "ip_src_addr": "fe80::1"})).is_empty());
    // Firewall: integer port list and `1 of selection_allow*`, on zeek.conn and asa.
    let fw = "d7fb8f0e-bd5f-45c2-b467-19571c490d7e";
    assert_eq!(fired(&mut stage, json!({"source.type": "asa", "ip_dst_port": 23, "action": "accept"})), [fw]);
    assert_eq!(fired(&mut stage, json!({"source.type": "zeek.conn", "ip_dst_port": 21, "blocked": "false"})), [fw]);
    assert!(fired(&mut stage, json!({"source.type": "asa", "ip_dst_port": 22, "action": "accept"})).is_empty());
    assert!(fired(&mut stage, json!({"source.type": "asa", "ip_dst_port": 23, "action": "deny"})).is_empty());
}

#[test]
fn sigma_rules_run_on_real_parsed_zeek_and_suricata_files() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yml");
    std::fs::write(
        &rules,
        "title: wrccdc lookups\nid: wrccdc\nlogsource: {category: dns}\nlevel: high\ndetection:\n  sel:\n    query|endswith: '.wrccdc.org'\n  condition: sel\n\
---\ntitle: freenode\nid: freenode\nlogsource: {category: dns}\ndetection:\n  sel:\n    query|contains: freenode\n  condition: sel\n",
    )
    .unwrap();
    let mut events = Vec::new();
    for f in ["zeek/wrccdc2018-json/dns.json", "suricata/tenzir-eve-first6lines.json"] {
        let out = metron().args(["parse", "-q"]).arg(testdata(f)).assert().success();
        events.extend_from_slice(&out.get_output().stdout);
    }
    let out =
        metron().args(["alert", "-q", "--only-alerts", "--rules"]).arg(&rules).write_stdin(events).assert().success();
    let alerts = lines(&out.get_output().stdout);
    assert!(alerts
        .iter()
        .any(|a| a["rule"] == "wrccdc" && a["event_source_type"] == "zeek.dns" && a["priority"] == "HIGH"));
    assert!(alerts.iter().any(|a| a["rule"] == "freenode" && a["event_source_type"] == "suricata.dns"));
}

// ---- the binary ----

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_thousand_events_from_one_host_give_one_alert_with_count_1000() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write(
        dir.path(),
        "r.yml",
        "id: c2\nkind: expression\npriority: HIGH\nexpression: 'e[\"ip_dst_port\"] == 4444'\n",
    );
    let input: String = (0..1000)
        .map(|i| {
            format!(
                "{{\"timestamp\":{},\"ip_src_addr\":\"10.0.0.9\",\"ip_dst_port\":4444,\"guid\":\"g{i}\"}}\n",
                1_700_000_000_000i64 + i * 1000
            )
        })
        .collect();
    let alerts = dir.path().join("alerts.ndjson");
    let out = metron()
        .args(["alert", "--rules"])
        .arg(&rules)
        .arg("--alerts")
        .arg(&alerts)
        .write_stdin(input)
        .assert()
        .success();
    let events = lines(&out.get_output().stdout);
    assert_eq!(events.len(), 1000);
    let alerts = lines(&std::fs::read(&alerts).unwrap());
    assert_eq!(alerts.len(), 2, "{alerts:#?}");
    let id = alerts[0]["alert_id"].clone();
    assert!(events.iter().all(|e| e["alerts"] == json!([id.clone()])));
    assert_eq!(alerts[1]["alert_id"], id);
    assert_eq!(alerts[1]["count"], 1000);
    assert_eq!(alerts[0]["priority"], "HIGH");
    let stderr = String::from_utf8_lossy(&out.get_output().stderr);
    assert!(stderr.contains("1,000 of 1,000 events raised alerts: 1 alerts, 999 de-duplicated"), "{stderr}");
}

#[test]
fn events_that_raise_nothing_are_unchanged_and_alerts_follow_their_event() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write(dir.path(), "r.yml", "id: k\nkind: keyword\nkeywords: [evil]\nfields: [query]\n");
    let input = "{\"query\":\"good.com\",\"b\":1}\n{\"query\":\"evil.com\",\"ip_src_addr\":\"10.0.0.1\"}\n";
    let out = metron().args(["alert", "-q", "--rules"]).arg(&rules).write_stdin(input).assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let got: Vec<&str> = stdout.lines().collect();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0], "{\"query\":\"good.com\",\"b\":1}");
    let tagged: Value = serde_json::from_str(got[1]).unwrap();
    let alert: Value = serde_json::from_str(got[2]).unwrap();
    assert_eq!(alert["source.type"], "alert");
    assert_eq!(tagged["alerts"], json!([alert["alert_id"].clone()]));
    assert_eq!(alert["designated_host"], "10.0.0.1");
    for field in [
        "alert_id",
        "guid",
        "timestamp",
        "description",
        "priority",
        "rule",
        "rule.name",
        "count",
        "first_timestamp",
        "last_timestamp",
    ] {
        assert!(alert.get(field).is_some(), "{field}");
    }
}

#[test]
fn a_broken_rule_file_is_named_with_the_rule_and_the_problem_and_the_others_load() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    write(&rules, "good.yml", "id: k\nkind: keyword\nkeywords: [evil]\n");
    write(&rules, "broken.yml", "id: bad\nkind: expression\nexpression: 'e[\"a\"] =='\n");
    write(&rules, "agg.yml", "title: Many DNS\nlogsource: {category: dns}\ndetection:\n  sel:\n    query: x\n  condition: sel | count() > 10\n");
    write(&rules, "notyaml.yml", "a: [\n");
    let out = metron().args(["alert", "--rules"]).arg(&rules).write_stdin("{\"q\":\"evil\"}\n").assert().code(1);
    let stdout = lines(&out.get_output().stdout);
    assert_eq!(stdout.len(), 2, "the good rule still runs");
    let stderr = String::from_utf8_lossy(&out.get_output().stderr);
    assert!(stderr.contains("broken.yml: rule \"bad\": expression: line 1, column"), "{stderr}");
    assert!(stderr.contains("agg.yml: rule \"Many DNS\": unsupported: condition"), "{stderr}");
    assert!(stderr.contains("notyaml.yml: YAML:"), "{stderr}");

    let out = metron().args(["alert", "--check"]).arg(&rules).assert().code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout);
    assert!(
        stdout.contains("unsupported\t")
            && stdout.contains("agg.yml\tMany DNS\tcondition \"sel | count() > 10\": aggregation"),
        "{stdout}"
    );
    assert!(stdout.contains("error\t") && stdout.contains("broken.yml\tbad"), "{stdout}");
    assert!(stdout.contains("ok\t") && stdout.contains("good.yml\tkeyword\tk\tMED"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("1 rules loaded, 3 cannot be loaded"));
}

#[test]
fn check_passes_on_the_shipped_sigma_rules() {
    metron()
        .args(["alert", "--check"])
        .arg(testdata("sigma/network"))
        .arg(testdata("sigma/windows/proc_creation_win_renamed_adfind.yml"))
        .assert()
        .success()
        .stderr(predicates::str::contains("18 rules loaded, 0 cannot be loaded"));
}

#[test]
fn no_loadable_rule_is_a_fatal_error() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write(dir.path(), "r.yml", "id: x\nkind: nope\n");
    metron()
        .args(["alert", "--rules"])
        .arg(&rules)
        .write_stdin("{}\n")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("kind \"nope\""));
    metron().args(["alert"]).write_stdin("{}\n").assert().code(2).stderr(predicates::str::contains("no rules"));
}

#[test]
fn rules_and_settings_come_from_metron_toml_relative_to_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "r.yml", "id: k\nkind: keyword\nkeywords: [evil]\n");
    let config = write(
        dir.path(),
        "metron.toml",
        "[alert]\nrules = [\"r.yml\"]\ndedup_window = \"10m\"\nmax_cache = 5\ndesignated_host = \"host\"\n",
    );
    let out = metron()
        .arg("--config")
        .arg(&config)
        .args(["alert", "-q", "--only-alerts"])
        .write_stdin(
            "{\"q\":\"evil\",\"host\":\"h1\",\"timestamp\":0}\n{\"q\":\"evil\",\"host\":\"h1\",\"timestamp\":700000}\n",
        )
        .assert()
        .success();
    let alerts = lines(&out.get_output().stdout);
    assert_eq!(alerts.len(), 2, "the 10m window closed between the two: {alerts:#?}");
    assert_eq!(alerts[0]["designated_host"], "h1");
}

#[test]
fn bad_input_lines_become_error_records() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write(dir.path(), "r.yml", "id: k\nkind: keyword\nkeywords: [evil]\n");
    let out =
        metron().args(["alert", "-q", "--rules"]).arg(&rules).write_stdin("not json\n{\"q\":1}\n").assert().code(1);
    assert_eq!(lines(&out.get_output().stdout).len(), 1);
}

// ---- never a panic ----

mod properties {
    use metron::alert::condition;
    use metron::alert::sigma::SigmaRule;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn the_condition_parser_never_panics(s in "\\PC{0,80}") {
            let _ = condition::parse(&s);
        }

        #[test]
        fn conditions_of_condition_words_never_panic(words in proptest::collection::vec(
            prop_oneof![Just("and"), Just("or"), Just("not"), Just("("), Just(")"), Just("1 of"), Just("all of"), Just("them"), Just("sel*"), Just("a"), Just("|")], 0..20)) {
            let _ = condition::parse(&words.join(" "));
        }

        #[test]
        fn the_sigma_loader_never_panics_on_arbitrary_text(s in "\\PC{0,200}") {
            if let Ok(docs) = yaml_rust2::YamlLoader::load_from_str(&s) {
                for d in &docs {
                    if let Ok(r) = SigmaRule::from_yaml(d) {
                        let _ = r.compile();
                    }
                }
            }
        }

        #[test]
        fn the_sigma_loader_never_panics_on_rule_shaped_yaml(
            field in "[a-z|.*]{0,12}",
            value in "[ -~]{0,16}",
            cond in "[a-z_ *()|]{0,24}",
            list in proptest::bool::ANY,
        ) {
            let value = format!("{value:?}");
            let body = if list { format!("      - {value}\n      - 2") } else { format!("      {value}") };
            let yaml = format!("title: t\nlogsource: {{category: dns}}\ndetection:\n  sel:\n    {field}:\n{body}\n  condition: {cond}\n");
            if let Ok(docs) = yaml_rust2::YamlLoader::load_from_str(&yaml) {
                if let Ok(r) = SigmaRule::from_yaml(&docs[0]) {
                    if let Ok(node) = r.compile() {
                        let e: metron::event::Event = metron::event::event_from_value(serde_json::json!({"query": "x"})).unwrap();
                        let _ = node.matches(&e);
                    }
                }
            }
        }
    }
}

#[allow(dead_code)]
fn unused(_: Event) {}

/// While following, a de-dup window that passes in wall time closes without more input:
/// the update record with the final count arrives while the run goes on.
#[test]
fn following_closes_windows_on_the_clock() {
    use std::io::{BufRead, BufReader, Write};
    let dir = tempfile::tempdir().unwrap();
    let rules = write(dir.path(), "r.yml", "id: k\nkind: keyword\nkeywords: [evil]\nfields: [query]\n");
    let feed = dir.path().join("events");
    std::fs::create_dir(&feed).unwrap();
    let events = "{\"query\":\"evil.com\",\"ip_src_addr\":\"10.0.0.1\",\"timestamp\":1000}\n".repeat(3);
    std::fs::write(feed.join("a.ndjson"), &events).unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("metron"))
        .args(["alert", "-q", "--follow", "--only-alerts", "--dedup-window", "1s", "--rules"])
        .arg(&rules)
        .arg(&feed)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut read = || {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        serde_json::from_str::<Value>(&line).unwrap()
    };
    let first = read();
    assert_eq!(first["source.type"], "alert");
    assert_eq!(first["count"], 1);
    // No more input: the window closes on the clock and the update follows.
    let update = read();
    assert_eq!(update["alert_id"], first["alert_id"]);
    assert_eq!(update["count"], 3);
    // Later events open a new alert.
    std::fs::OpenOptions::new().append(true).open(feed.join("a.ndjson")).unwrap().write_all(events.as_bytes()).unwrap();
    let second = read();
    assert_ne!(second["alert_id"], first["alert_id"]);
    child.kill().unwrap();
    let _ = child.wait();
}
