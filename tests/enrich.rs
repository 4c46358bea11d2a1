//! Black-box tests of `metron enrich`: values checked against an independent MaxMind
//! reader on MaxMind's own test databases, broken databases refused at start, files
//! replaced while a stream runs, and events that have nothing to enrich.

mod common;

use common::{lines, metron};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn mmdb(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/mmdb").join(name)
}

/// The binary as a child with piped stdin, stdout and stderr.
fn spawn(args: &[&str]) -> Child {
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

/// Writes `body` to a new file beside `path` and renames it over `path`: a reader
/// sees the old file or the new one, never half of one.
fn replace_atomically(path: &Path, body: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, body).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

struct OracleRow {
    db: String,
    ip: String,
    country: String,
    city: String,
    geoname_id: String,
    latitude: String,
    longitude: String,
    postal: String,
    asn: String,
    as_org: String,
}

fn oracle() -> Vec<OracleRow> {
    let text = std::fs::read_to_string(mmdb("ORACLE-lookups.tsv")).unwrap();
    let mut rows = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.starts_with("db\t")) {
        let c: Vec<&str> = line.split('\t').collect();
        assert_eq!(c.len(), 19, "{line}");
        rows.push(OracleRow {
            db: c[0].into(),
            ip: c[1].into(),
            country: c[5].into(),
            city: c[8].into(),
            geoname_id: c[9].into(),
            latitude: c[11].into(),
            longitude: c[12].into(),
            postal: c[14].into(),
            asn: c[17].into(),
            as_org: c[18].into(),
        });
    }
    rows
}

/// Enriches one event per address, with the address in field `ip`.
fn enrich_addresses(flag: &str, db: &str, ips: &[&str]) -> Vec<Value> {
    let input: String = ips.iter().map(|ip| format!("{{\"ip\":\"{ip}\"}}\n")).collect();
    let out = metron()
        .args(["enrich", "-q", "--ip-fields", "ip", flag])
        .arg(mmdb(&format!("{db}.mmdb")))
        .write_stdin(input)
        .assert()
        .success();
    let events = lines(&out.get_output().stdout);
    assert_eq!(events.len(), ips.len());
    events
}

/// A field as the oracle writes it: absent is empty.
fn text_of(e: &Value, key: &str) -> String {
    match e.get(key) {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn same_number(ours: &Value, theirs: &str) -> bool {
    match (ours.as_f64(), theirs.parse::<f64>()) {
        (Some(a), Ok(b)) => a == b,
        _ => ours.is_null() && theirs.is_empty(),
    }
}

#[test]
fn values_equal_the_reference_reader_on_every_oracle_row() {
    let rows = oracle();
    assert!(rows.len() > 2600, "{} rows", rows.len());
    let mut checked = 0;
    let mut skipped_private = Vec::new();
    for db in ["GeoIP2-City-Test", "GeoIP2-Country-Test", "GeoLite2-ASN-Test"] {
        let mine: Vec<&OracleRow> = rows.iter().filter(|r| r.db == db).collect();
        let ips: Vec<&str> = mine.iter().map(|r| r.ip.as_str()).collect();
        let flag = if db.contains("ASN") { "--asn" } else { "--geoip" };
        let events = enrich_addresses(flag, db, &ips);
        for (row, e) in mine.iter().zip(&events) {
            let public = metron::net::is_public(row.ip.parse().unwrap());
            if !public {
                // Private and reserved addresses are not looked up, on purpose.
                assert!(e.as_object().unwrap().len() == 1, "{} enriched: {e}", row.ip);
                skipped_private.push(row.ip.clone());
                continue;
            }
            let ctx = format!("{db} {}: {e}", row.ip);
            if db.contains("ASN") {
                assert_eq!(text_of(e, "enrichments.asn.ip.number"), row.asn, "{ctx}");
                assert_eq!(text_of(e, "enrichments.asn.ip.organization"), row.as_org, "{ctx}");
            } else {
                assert_eq!(text_of(e, "enrichments.geo.ip.country"), row.country, "{ctx}");
                assert_eq!(text_of(e, "enrichments.geo.ip.city"), row.city, "{ctx}");
                assert_eq!(text_of(e, "enrichments.geo.ip.locID"), row.geoname_id, "{ctx}");
                assert_eq!(text_of(e, "enrichments.geo.ip.postalCode"), row.postal, "{ctx}");
                let lat = e.get("enrichments.geo.ip.latitude").cloned().unwrap_or(Value::Null);
                let lon = e.get("enrichments.geo.ip.longitude").cloned().unwrap_or(Value::Null);
                assert!(same_number(&lat, &row.latitude), "latitude {ctx}");
                assert!(same_number(&lon, &row.longitude), "longitude {ctx}");
                if !row.latitude.is_empty() {
                    let point = text_of(e, "enrichments.geo.ip.location_point");
                    let (a, b) = point.split_once(',').unwrap();
                    assert_eq!(a.parse::<f64>().unwrap(), row.latitude.parse::<f64>().unwrap(), "{ctx}");
                    assert_eq!(b.parse::<f64>().unwrap(), row.longitude.parse::<f64>().unwrap(), "{ctx}");
                }
            }
            checked += 1;
        }
    }
    // No oracle address is private or reserved: every row is compared.
    assert!(skipped_private.is_empty(), "skipped: {skipped_private:?}");
    assert_eq!(checked, rows.len());
}

#[test]
fn milton_london_and_ipv6_by_name() {
    let events = enrich_addresses("--geoip", "GeoIP2-City-Test", &["216.160.83.56", "81.2.69.142", "2001:218::1"]);
    assert_eq!(events[0]["enrichments.geo.ip.city"], "Milton");
    assert_eq!(events[0]["enrichments.geo.ip.country"], "US");
    assert_eq!(events[0]["enrichments.geo.ip.location_point"], "47.2513,-122.3149");
    assert_eq!(events[1]["enrichments.geo.ip.city"], "London");
    assert_eq!(events[1]["enrichments.geo.ip.locID"], 2643743);
    assert_eq!(events[2]["enrichments.geo.ip.country"], "JP");
    let events = enrich_addresses("--asn", "GeoLite2-ASN-Test", &["1.128.0.0", "2600:6000::1"]);
    assert_eq!(events[0]["enrichments.asn.ip.number"], 1221);
    assert_eq!(events[0]["enrichments.asn.ip.organization"], "Telstra Pty Ltd");
    assert_eq!(events[1]["enrichments.asn.ip.organization"], "Merit Network Inc.");
}

#[test]
fn broken_databases_exit_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(mmdb("GeoIP2-City-Test.mmdb")).unwrap();
    let truncated = dir.path().join("truncated.mmdb");
    std::fs::write(&truncated, &good[..good.len() * 2 / 3]).unwrap();
    let empty = dir.path().join("empty.mmdb");
    std::fs::write(&empty, b"").unwrap();
    for (flag, path) in [
        ("--geoip", mmdb("bad-libmaxminddb-corrupt-search-tree.mmdb")),
        ("--geoip", mmdb("bad-maxminddb-golang-invalid-data-record-offset.mmdb")),
        ("--geoip", mmdb("GeoIP2-City-Test-Invalid-Node-Count.mmdb")),
        ("--geoip", truncated),
        ("--asn", empty),
        ("--asn", dir.path().join("missing.mmdb")),
    ] {
        let out = metron().args(["enrich", flag]).arg(&path).write_stdin("{}\n").assert().code(2);
        let out = out.get_output();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&path.display().to_string()), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn events_without_addresses_or_with_invalid_ones_pass_unchanged_and_are_counted() {
    let input = "{\"a\":1}\n{\"ip_src_addr\":\"999.1.1.1\",\"ip_dst_addr\":\"8.8.8.8\"}\n{\"ip_src_addr\":[1]}\n";
    let out =
        metron().args(["enrich", "--geoip"]).arg(mmdb("GeoIP2-City-Test.mmdb")).write_stdin(input).assert().success();
    let out = out.get_output();
    let expected: Vec<Value> = input.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines(&out.stdout), expected);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("\"999.1.1.1\" is not an IP address"), "{stderr}");
    assert!(stderr.contains("enrich: 3 events in, 3 out, 0 errors; 2 invalid addresses"), "{stderr}");
}

#[test]
fn assets_networks_and_tables_together() {
    let dir = tempfile::tempdir().unwrap();
    let assets = dir.path().join("assets.csv");
    std::fs::write(
        &assets,
        "ip,name,owner,type,asset_value\n10.0.0.0/8,corp,it,network,1\n10.1.1.5,db01,dba,server,9\nnot-an-ip,x,y,z,0\n",
    )
    .unwrap();
    let users = dir.path().join("users.ndjson");
    std::fs::write(&users, "{\"user\":\"alice\",\"department\":\"finance\"}\n").unwrap();
    let input = "{\"ip_src_addr\":\"10.1.1.5\",\"ip_dst_addr\":\"10.9.9.9\",\"user\":\"alice\"}\n";
    let out = metron()
        .args(["enrich", "--internal", "10.0.0.0/8,192.168.0.0/16", "--assets"])
        .arg(&assets)
        .arg("--table")
        .arg(format!("users={}:user", users.display()))
        .write_stdin(input)
        .assert()
        .success();
    let out = out.get_output();
    let e = &lines(&out.stdout)[0];
    assert_eq!(e["enrichments.host.ip_src_addr.name"], "db01");
    assert_eq!(e["enrichments.host.ip_src_addr.asset_value"], "9");
    assert_eq!(e["enrichments.host.ip_dst_addr.name"], "corp");
    assert_eq!(e["enrichments.network.ip_src_addr.internal"], true);
    assert_eq!(e["enrichments.users.user.department"], "finance");
    // The malformed row is named with its file and line; the others loaded.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("{}:4:", assets.display())), "{stderr}");
}

#[test]
fn config_section_with_paths_relative_to_it_and_flags_over_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(mmdb("GeoIP2-City-Test.mmdb"), dir.path().join("City.mmdb")).unwrap();
    std::fs::write(dir.path().join("assets.csv"), "cidr,name\n81.2.69.0/24,london-office\n").unwrap();
    let config = dir.path().join("metron.toml");
    std::fs::write(&config, "[enrich]\ngeoip = \"City.mmdb\"\nassets = \"assets.csv\"\ninternal = [\"81.0.0.0/8\"]\n")
        .unwrap();
    let input = "{\"ip_src_addr\":\"81.2.69.142\"}\n";
    let out = metron().arg("--config").arg(&config).args(["enrich", "-q"]).write_stdin(input).assert().success();
    let e = &lines(&out.get_output().stdout)[0];
    assert_eq!(e["enrichments.geo.ip_src_addr.city"], "London");
    assert_eq!(e["enrichments.host.ip_src_addr.name"], "london-office");
    assert_eq!(e["enrichments.network.ip_src_addr.internal"], true);
    let out = metron()
        .arg("--config")
        .arg(&config)
        .args(["enrich", "-q", "--internal", "10.0.0.0/8"])
        .write_stdin(input)
        .assert()
        .success();
    assert_eq!(lines(&out.get_output().stdout)[0]["enrichments.network.ip_src_addr.internal"], false);
}

#[test]
fn every_problem_is_reported_at_once() {
    let out = metron()
        .args(["enrich", "--geoip", "/nonexistent/City.mmdb", "--assets", "/nonexistent/assets.csv"])
        .args(["--internal", "10.0.0.0/33", "--table", "host=/nonexistent/t.csv:user"])
        .write_stdin("")
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    for needle in
        ["5 problems", "/nonexistent/City.mmdb", "/nonexistent/assets.csv", "10.0.0.0/33", "\"host\"", "t.csv"]
    {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
}

fn event(i: usize) -> String {
    format!("{{\"n\":{i},\"ip_src_addr\":\"10.0.0.{i}\"}}\n")
}

/// Old values before the replacement, new ones after, each event once.
fn check_reload(events: &[Value], before: usize, old: &str, new: &str) {
    assert_eq!(events.len(), before * 2, "no event dropped or doubled");
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["n"], i + 1);
        let owner = &e["enrichments.host.ip_src_addr.owner"];
        if i >= before {
            assert_eq!(owner, new, "event {} after the replacement: {e}", i + 1);
        } else {
            assert!(owner == old || owner == new, "{e}");
        }
    }
}

#[test]
fn assets_replaced_mid_stream_on_stdin_are_used_for_later_events() {
    let dir = tempfile::tempdir().unwrap();
    let assets = dir.path().join("a.csv");
    std::fs::write(&assets, "ip,owner\n10.0.0.0/24,alice\n").unwrap();
    let mut child = spawn(&["enrich", "--assets", assets.to_str().unwrap()]);
    let mut stdin = child.stdin.take().unwrap();
    for i in 1..=3 {
        stdin.write_all(event(i).as_bytes()).unwrap();
    }
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(800));
    replace_atomically(&assets, "ip,owner\n10.0.0.0/24,bob\n");
    std::thread::sleep(Duration::from_millis(800));
    for i in 4..=6 {
        stdin.write_all(event(i).as_bytes()).unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    check_reload(&lines(&out.stdout), 3, "alice", "bob");
    assert!(stderr.contains(&format!("reloaded {}", assets.display())), "{stderr}");
    assert!(stderr.contains("1 file reloaded"), "{stderr}");
}

/// Reads `n` events from a child's stdout (the watchdog ends a stuck child).
fn read_events(reader: &mut BufReader<std::process::ChildStdout>, n: usize) -> Vec<Value> {
    (0..n)
        .map(|_| {
            let mut l = String::new();
            reader.read_line(&mut l).unwrap();
            serde_json::from_str(&l).unwrap()
        })
        .collect()
}

#[test]
fn assets_replaced_while_following_and_a_broken_replacement_is_kept_out() {
    let dir = tempfile::tempdir().unwrap();
    let assets = dir.path().join("assets").join("a.csv");
    std::fs::create_dir(assets.parent().unwrap()).unwrap();
    std::fs::write(&assets, "ip,owner\n10.0.0.0/24,alice\n").unwrap();
    let events = dir.path().join("events.ndjson");
    std::fs::write(&events, event(1)).unwrap();
    let mut child = spawn(&["enrich", "-F", events.to_str().unwrap(), "--assets", assets.to_str().unwrap()]);
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
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let append = |i: usize| {
        std::fs::OpenOptions::new().append(true).open(&events).unwrap().write_all(event(i).as_bytes()).unwrap()
    };
    let mut seen = read_events(&mut out, 1);
    replace_atomically(&assets, "ip,owner\n10.0.0.0/24,bob\n");
    std::thread::sleep(Duration::from_millis(500));
    append(2);
    seen.extend(read_events(&mut out, 1));
    check_reload(&seen, 1, "alice", "bob");
    // A replacement that does not load leaves the loaded table in place.
    replace_atomically(&assets, "owner\n");
    std::thread::sleep(Duration::from_millis(500));
    append(3);
    let third = &read_events(&mut out, 1)[0];
    assert_eq!(third["enrichments.host.ip_src_addr.owner"], "bob");
    child.kill().unwrap();
    let _ = child.wait();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(stderr.contains(&format!("{}: no rows", assets.display())), "{stderr}");
    assert!(stderr.contains("still using the version loaded before"), "{stderr}");
    let _ = watchdog.join();
}

/// Zeek's http.log of the same capture names the host of every HTTP request in its
/// Host header; the names passive DNS adds to those flows (from the capture's own DNS
/// answers, read by `capture --emit dns`) must be that host, and every flow to an
/// address a DNS answer in the capture gave must have it.
#[test]
fn passive_dns_names_flows_as_the_http_host_header_does() {
    let pcap = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/pcaps/zeek-wikipedia.pcap");
    let captured = metron().args(["capture", "-q", "--emit", "flows,dns", "-r"]).arg(&pcap).output().unwrap();
    assert!(captured.status.success());
    let out = metron().args(["enrich", "--passive-dns"]).write_stdin(captured.stdout).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let events = lines(&out.stdout);
    let http = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/pcaps/zeek-wikipedia.pcap.http.log"),
    )
    .unwrap();
    let mut checked = 0;
    for row in http.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = row.split('\t').collect();
        let (orig_p, resp_h, host) = (f[3], f[4], f[8]);
        let flow = events
            .iter()
            .find(|e| {
                e["source.type"] == "metron.flow"
                    && e["ip_src_port"].as_u64() == orig_p.parse().ok()
                    && e["ip_dst_addr"] == resp_h
            })
            .unwrap_or_else(|| panic!("no flow for {row}"));
        let names = &flow["enrichments.dns.ip_dst_addr.names"];
        if resp_h == "208.80.152.118" {
            // bits.wikimedia.org was resolved before the capture began.
            assert!(names.is_null(), "{flow}");
            continue;
        }
        assert_eq!(names, &serde_json::json!([host]), "{flow}");
        checked += 1;
    }
    assert_eq!(checked, 13);
    // The same from Zeek's own logs of the capture, dns.log before conn.log.
    let logs: [String; 2] = ["pcaps/zeek-wikipedia.pcap.dns.log", "pcaps/zeek-wikipedia.pcap.conn.log"]
        .map(|f| std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(f)).unwrap());
    // (Zeek's test baselines hide each line's ts: the capture's first second stands in.)
    let logs = logs.join("").replace("XXXXXXXXXX.XXXXXX", "1300475167.096535");
    let parsed = metron().args(["parse", "-f", "zeek"]).write_stdin(logs).output().unwrap();
    let out = metron().args(["enrich", "--passive-dns"]).write_stdin(parsed.stdout).output().unwrap();
    let named: Vec<Value> = lines(&out.stdout)
        .into_iter()
        .filter(|e| e["source.type"] == "zeek.conn" && e["ip_dst_addr"] == "208.80.152.3")
        .map(|e| e["enrichments.dns.ip_dst_addr.names"].clone())
        .collect();
    assert!(!named.is_empty());
    assert!(named.iter().all(|n| n == &serde_json::json!(["upload.wikimedia.org"])), "{named:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DNS answers learned"), "{stderr}");
}
