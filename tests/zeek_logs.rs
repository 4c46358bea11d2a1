//! Real Zeek logs (testdata/zeek, testdata/zeek-pcap-logs) parse without errors, and
//! the same log as TSV and as JSON gives the same events.

mod common;

use common::{parse_file, parse_text, testdata};
use serde_json::Value;

#[test]
fn every_real_zeek_log_parses_without_errors() {
    let mut files = Vec::new();
    for dir in ["zeek/wrccdc2018-tsv", "zeek/wrccdc2018-json", "zeek/misc"] {
        for entry in std::fs::read_dir(testdata(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "log" || e == "json") {
                files.push(path);
            }
        }
    }
    assert!(files.len() >= 13, "{files:?}");
    for path in files {
        let (events, errors) = parse_file("auto", &path);
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        assert!(!events.is_empty(), "{}", path.display());
        for e in &events {
            assert!(e["source.type"].as_str().unwrap().starts_with("zeek."), "{}", path.display());
            assert!(e["timestamp"].is_i64(), "{}", path.display());
            assert_eq!(e["guid"].as_str().map(str::len), Some(36));
        }
    }
}

/// Zeek's btest baselines mask the first epoch time on each line; with a real time
/// put back, every conn, http and dns log of the shared pcaps parses cleanly.
#[test]
fn zeek_logs_of_the_shared_pcaps_parse_without_errors() {
    let mut checked = 0;
    for entry in std::fs::read_dir(testdata("zeek-pcap-logs")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if !(name.ends_with(".conn.log") || name.ends_with(".http.log") || name.ends_with(".dns.log")) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap().replace("XXXXXXXXXX.XXXXXX", "1300475167.096535");
        let (events, errors) = parse_text("auto", &name, &text);
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        assert!(!events.is_empty(), "{name}");
        checked += 1;
    }
    assert_eq!(checked, 9);
}

#[test]
fn a_masked_ts_is_one_invalid_record_not_a_crash() {
    let path = testdata("zeek-pcap-logs/zeek-http-get.pcap.conn.log");
    let (events, errors) = parse_file("zeek", &path);
    assert!(events.is_empty());
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["error_type"], "parser_invalid");
    assert!(errors[0]["message"].as_str().unwrap().contains("ts"), "{:?}", errors[0]["message"]);
    assert!(errors[0]["line"].as_u64().unwrap() > 8);
}

#[test]
fn the_http_get_flow_has_zeeks_values() {
    let text = std::fs::read_to_string(testdata("zeek-pcap-logs/zeek-http-get.pcap.conn.log"))
        .unwrap()
        .replace("XXXXXXXXXX.XXXXXX", "1300475167.096535");
    let (events, _) = parse_text("zeek", "zeek-http-get.pcap.conn.log", &text);
    let e = &events[0];
    assert_eq!(e["ip_src_addr"], "141.142.228.5");
    assert_eq!(e["ip_src_port"], 59856);
    assert_eq!(e["ip_dst_addr"], "192.150.187.43");
    assert_eq!(e["ip_dst_port"], 80);
    assert_eq!(e["protocol"], "tcp");
    assert_eq!(e["source.type"], "zeek.conn");
    assert_eq!(e["timestamp"], 1_300_475_167_096i64);
}

/// Differences allowed between a TSV and a JSON-streaming record of the same log:
/// `_write_ts` exists only in JSON; intervals are rounded to microseconds in TSV.
fn same_event(tsv: &metron::event::Event, json: &metron::event::Event) -> Result<(), String> {
    let skip = ["original_string", "guid", "_write_ts"];
    let keys = |m: &metron::event::Event| {
        let mut k: Vec<String> = m.keys().filter(|k| !skip.contains(&k.as_str())).cloned().collect();
        k.sort();
        k
    };
    if keys(tsv) != keys(json) {
        return Err(format!("keys differ:\n tsv  {:?}\n json {:?}", keys(tsv), keys(json)));
    }
    for (k, a) in tsv {
        if skip.contains(&k.as_str()) {
            continue;
        }
        let b = &json[k];
        let close = match (a, b) {
            (Value::Number(x), Value::Number(y)) => (x.as_f64().unwrap() - y.as_f64().unwrap()).abs() <= 1e-6,
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len()
                    && x.iter().zip(y).all(|(p, q)| match (p, q) {
                        (Value::Number(p), Value::Number(q)) => {
                            (p.as_f64().unwrap() - q.as_f64().unwrap()).abs() <= 1e-6
                        }
                        _ => p == q,
                    })
            }
            _ => a == b,
        };
        if !close {
            return Err(format!("{k}: tsv {a} json {b}"));
        }
    }
    Ok(())
}

#[test]
fn the_same_log_in_tsv_and_json_gives_the_same_events() {
    for log in ["dns", "ssl", "x509", "notice", "weird"] {
        let (tsv, e1) = parse_file("zeek", &testdata(&format!("zeek/wrccdc2018-tsv/{log}.log")));
        let (json, e2) = parse_file("zeek", &testdata(&format!("zeek/wrccdc2018-json/{log}.json")));
        assert!(e1.is_empty() && e2.is_empty(), "{log}: {e1:?} {e2:?}");
        assert_eq!(tsv.len(), 200, "{log}");
        assert_eq!(tsv.len(), json.len(), "{log}");
        for (i, (a, b)) in tsv.iter().zip(&json).enumerate() {
            if let Err(why) = same_event(a, b) {
                panic!("{log} row {}: {why}", i + 1);
            }
        }
    }
}

#[test]
fn metron_wrapped_bro_json_takes_the_log_name_from_the_wrapper() {
    let (events, errors) = parse_file("bro", &testdata("metron/bro/BroExampleOutput"));
    assert!(errors.is_empty());
    let types: std::collections::BTreeSet<&str> = events.iter().map(|e| e["source.type"].as_str().unwrap()).collect();
    for t in ["zeek.http", "zeek.dns", "zeek.conn", "zeek.ssl", "zeek.smtp"] {
        assert!(types.contains(t), "{t} missing from {types:?}");
    }
}

#[test]
fn http_events_share_the_community_id_of_their_connection() {
    let conn = std::fs::read_to_string(testdata("zeek/misc/brimdata-zqd-testdata-conn.log")).unwrap();
    let http = std::fs::read_to_string(testdata("zeek/misc/brimdata-zqd-testdata-http.log")).unwrap();
    let (c, _) = parse_text("zeek", "conn.log", &conn);
    let (h, _) = parse_text("zeek", "http.log", &http);
    assert_eq!(c[0]["uid"], h[0]["uid"]);
    assert!(c[0]["community_id"].is_string());
    assert_eq!(c[0]["community_id"], h[0]["community_id"]);
}
