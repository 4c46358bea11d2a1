//! The Suricata, syslog, CEF, LEEF and fast.log samples in testdata/ parse with no
//! errors, with the format sniffed, and carry the fields their sources say they hold.

mod common;

use common::{parse_file, testdata};

fn parse_clean(rel: &str) -> Vec<metron::event::Event> {
    let (events, errors) = parse_file("auto", &testdata(rel));
    assert!(errors.is_empty(), "{rel}: {errors:#?}");
    assert!(!events.is_empty(), "{rel}");
    events
}

#[test]
fn every_syslog_cef_leef_sample_parses_without_errors() {
    let mut checked = 0;
    for entry in std::fs::read_dir(testdata("syslog")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.ends_with(".log") || name.ends_with(".cef") {
            let events = parse_clean(&format!("syslog/{name}"));
            for e in &events {
                assert!(e["timestamp"].is_i64(), "{name}: {e:?}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 9, "{checked}");
}

#[test]
fn every_suricata_sample_parses_without_errors() {
    let events = parse_clean("suricata/tenzir-eve-first6lines.json");
    let types: Vec<&str> = events.iter().map(|e| e["source.type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["suricata.alert", "suricata.dns", "suricata.fileinfo", "suricata.flow", "suricata.http", "suricata.netflow"]
    );
    // The alert line decodes (SOURCE.md) to 147.32.84.165:1181 -> 78.40.125.4:6667.
    assert_eq!(events[0]["ip_src_addr"], "147.32.84.165");
    assert_eq!(events[0]["ip_src_port"], 1181);
    assert_eq!(events[0]["ip_dst_addr"], "78.40.125.4");
    assert_eq!(events[0]["ip_dst_port"], 6667);
    assert_eq!(events[0]["protocol"], "tcp");
    assert!(events[0]["alert.signature"].is_string());
    assert!(events.iter().all(|e| e["community_id"].is_string()));
}

#[test]
fn suricata_verify_fileinfo_event_keeps_its_hashes() {
    let events = parse_clean("suricata/suricata-verify-output-eve-fileinfo.expected.eve.json");
    let raw: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(testdata("suricata/suricata-verify-output-eve-fileinfo.expected.eve.json"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    let e = &events[0];
    assert_eq!(e["source.type"], "suricata.fileinfo");
    for (nested, flat) in [("md5", "fileinfo.md5"), ("sha256", "fileinfo.sha256"), ("size", "fileinfo.size")] {
        if let Some(v) = raw["fileinfo"].get(nested) {
            assert_eq!(&e[flat], v, "{flat}");
        }
    }
}

#[test]
fn fast_log_samples_parse_without_errors() {
    for rel in ["snort/suricata-fast.log-http2-files-ipv6.txt", "snort/suricata-lua-fastlog-testmyids.txt"] {
        let events = parse_clean(rel);
        for e in &events {
            assert_eq!(e["source.type"], "snort");
            assert_eq!(e["is_alert"], true);
            assert!(e["ip_src_addr"].is_string(), "{rel}: {e:?}");
        }
    }
}
