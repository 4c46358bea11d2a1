//! `metron profile` as a user runs it: a generated day of traffic with labelled
//! injections through `generate | parse | profile`, every injection found and ranked
//! above ordinary traffic (precision and recall printed, and in docs/analytics.md),
//! user-defined profile values against a recomputation of the same data, a run
//! split in two with --state against one run, findings into alerts, the WRCCDC
//! sample, and every config problem at once.

mod common;

use common::{lines, metron, testdata};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// A generated day, parsed: (events as NDJSON, the truth).
fn day() -> &'static (Vec<u8>, Vec<Value>) {
    static DAY: OnceLock<(Vec<u8>, Vec<Value>)> = OnceLock::new();
    DAY.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let truth = tmp.path().join("truth.ndjson");
        let raw = metron()
            .args(["generate", "traffic", "-n", "60000", "--seed", "3", "--truth"])
            .arg(&truth)
            .output()
            .unwrap();
        assert!(raw.status.success());
        let parsed = metron().args(["parse", "-q"]).write_stdin(raw.stdout).output().unwrap();
        assert!(parsed.status.success(), "{}", String::from_utf8_lossy(&parsed.stderr));
        (parsed.stdout, lines(&std::fs::read(truth).unwrap()))
    })
}

fn profile(args: &[&str], input: &[u8]) -> Vec<Value> {
    let out = metron().arg("profile").args(args).write_stdin(input.to_vec()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    lines(&out.stdout)
}

fn findings(records: &[Value]) -> Vec<&Value> {
    records.iter().filter(|r| r["source.type"] == "metron.finding").collect()
}

/// Whether a finding is about what `t` injected.
fn about(f: &Value, t: &Value) -> bool {
    let same = |k: &str| t.get(k).is_none_or(|v| v.is_null() || f.get(k) == Some(v));
    if f["finding.kind"] == "anomaly" {
        if t["kind"] == "anomaly" {
            return f["entity"] == t["entity"] && f["finding.period_start"] == t["period_start"];
        }
        // Another injection changes its source host's profile too.
        return f["entity"] == t["ip_src_addr"];
    }
    match t["kind"].as_str() {
        Some("dns_tunnel") => f["domain"] == t["domain"],
        Some("scan") => f["ip_src_addr"] == t["ip_src_addr"],
        _ => same("ip_src_addr") && same("ip_dst_addr"),
    }
}

#[test]
fn every_injection_is_found_and_ranks_above_ordinary_traffic() {
    let (events, truth) = day();
    let out = profile(&["--only-findings"], events);
    let found = findings(&out);
    let injections: Vec<&Value> = truth.iter().filter(|t| t["kind"] != "decoy").collect();
    let mut report = Vec::new();
    for kind in ["beacon", "long_conn", "dns_tunnel", "scan", "anomaly"] {
        let of_kind: Vec<&&Value> = found.iter().filter(|f| f["finding.kind"] == kind).collect();
        let wanted: Vec<&&Value> = injections.iter().filter(|t| t["kind"] == kind).collect();
        // Recall: every injection of this kind has a finding of this kind.
        for t in &wanted {
            assert!(of_kind.iter().any(|f| about(f, t)), "{kind} injection not found: {t}");
        }
        // Findings about an injection of this kind must rank above those from ordinary
        // traffic. Findings about another injection (a periodic long connection is
        // also a beacon; a beacon changes its host's profile) are true too, but need
        // not rank.
        let (true_f, ordinary): (Vec<&&&Value>, Vec<&&&Value>) =
            of_kind.iter().partition(|f| injections.iter().any(|t| about(f, t)));
        let lowest_true = true_f
            .iter()
            .filter(|f| wanted.iter().any(|t| about(f, t)))
            .filter_map(|f| f["score"].as_f64())
            .fold(f64::INFINITY, f64::min);
        let highest_ordinary = ordinary.iter().filter_map(|f| f["score"].as_f64()).fold(0.0, f64::max);
        assert!(
            lowest_true > highest_ordinary,
            "{kind}: an ordinary finding ({highest_ordinary}) ranks with the injections (lowest {lowest_true})"
        );
        let precision = true_f.len() as f64 / of_kind.len().max(1) as f64;
        report.push(format!(
            "{kind}: {} injected, recall 1.00, {} findings, precision {precision:.2}",
            wanted.len(),
            of_kind.len()
        ));
    }
    // The busy pairs with random gaps are not beacons.
    for decoy in truth.iter().filter(|t| t["kind"] == "decoy") {
        assert!(
            !found.iter().any(|f| f["finding.kind"] == "beacon" && about(f, decoy)),
            "a busy pair with random gaps was called a beacon: {decoy}"
        );
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn findings_carry_what_the_contract_says() {
    let (events, _) = day();
    let out = profile(&["--detect", "beacon,scan"], events);
    let n_events = lines(events).len();
    assert_eq!(out.iter().filter(|r| r["source.type"] != "metron.finding").count(), n_events, "events pass through");
    let f = findings(&out);
    assert!(!f.is_empty());
    for f in f {
        for field in ["finding.kind", "score", "reason", "timestamp", "first_seen", "last_seen", "guid", "ip_src_addr"]
        {
            assert!(!f[field].is_null(), "{field} missing: {f}");
        }
        let s = f["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&s));
        assert!(["beacon", "scan"].contains(&f["finding.kind"].as_str().unwrap()));
    }
    // The same data gives the same findings, guids included (the store keeps them once).
    let again = profile(&["--detect", "beacon,scan", "--only-findings"], events);
    let guids = |r: &[Value]| r.iter().map(|x| x["guid"].clone()).collect::<Vec<_>>();
    assert_eq!(guids(&findings(&out).into_iter().cloned().collect::<Vec<_>>()), guids(&again));
}

/// Profile values recomputed from the same events: counts and sums exactly, distinct
/// counts within 2%, quantiles within the sketch's 1% of value.
#[test]
fn user_profile_values_equal_a_recomputation() {
    let (events, _) = day();
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("metron.toml");
    std::fs::write(
        &config,
        r#"
[profile]
detect = []
[profile.dst]
onlyif = 'e["source.type"] == "zeek.conn"'
foreach = 'ip_dst_port'
period = '6h'
[profile.dst.values]
conns = 'count()'
bytes = 'sum(orig_bytes)'
sources = 'distinct(ip_src_addr)'
p90 = 'quantile(duration, 0.9)'
"#,
    )
    .unwrap();
    let out = metron()
        .arg("--config")
        .arg(&config)
        .args(["profile", "--only-findings"])
        .write_stdin(events.clone())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let records = lines(&out.stdout);
    // The reference: the same grouping, done exactly.
    #[derive(Default)]
    struct Exact {
        conns: u64,
        bytes: f64,
        sources: std::collections::HashSet<String>,
        durations: Vec<f64>,
    }
    let mut exact: HashMap<(i64, String), Exact> = HashMap::new();
    for e in lines(events).iter().filter(|e| e["source.type"] == "zeek.conn") {
        let period = e["timestamp"].as_i64().unwrap().div_euclid(6 * 3_600_000) * 6 * 3_600_000;
        let g = exact.entry((period, e["ip_dst_port"].to_string())).or_default();
        g.conns += 1;
        g.bytes += e["orig_bytes"].as_f64().unwrap_or(0.0);
        g.sources.insert(e["ip_src_addr"].as_str().unwrap().to_owned());
        if let Some(d) = e["duration"].as_f64() {
            g.durations.push(d);
        }
    }
    let profile_records: Vec<&Value> = records.iter().filter(|r| r["profile"] == "dst").collect();
    assert_eq!(profile_records.len(), exact.len());
    let mut checked_quantiles = 0;
    for r in profile_records {
        let key = (r["period_start"].as_i64().unwrap(), r["entity"].as_str().unwrap().to_owned());
        let g = exact.get_mut(&key).unwrap_or_else(|| panic!("no such group: {key:?}"));
        assert_eq!(r["conns"].as_u64(), Some(g.conns), "{key:?}");
        assert!((r["bytes"].as_f64().unwrap() - g.bytes).abs() < 0.01, "{key:?}");
        let d = r["sources"].as_f64().unwrap();
        let n = g.sources.len() as f64;
        assert!((d - n).abs() <= (0.02 * n).max(0.5), "{key:?}: distinct {d} of {n}");
        if g.durations.len() >= 100 {
            g.durations.sort_by(f64::total_cmp);
            let q = r["p90"].as_f64().unwrap();
            // DDSketch: within 1% of the value at that rank (plus the rounding of the
            // value to 3 decimals).
            let exact = g.durations[((g.durations.len() - 1) as f64 * 0.9).floor() as usize];
            assert!((q - exact).abs() <= 0.01 * exact.abs() + 0.0006, "{key:?}: p90 {q}, exactly {exact}");
            checked_quantiles += 1;
        }
    }
    assert!(checked_quantiles > 3, "{checked_quantiles}");
}

/// A run split in two, the state between, gives what one run gives.
#[test]
fn a_run_split_in_two_with_state_gives_the_same_findings_as_one() {
    let (events, _) = day();
    let all = lines(events);
    let half = all.len() / 2;
    let text = |vs: &[Value]| vs.iter().map(|v| format!("{v}\n")).collect::<String>().into_bytes();
    let one = profile(&["--only-findings"], events);
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let s = state.to_str().unwrap();
    let first = profile(&["--only-findings", "--state", s], &text(&all[..half]));
    assert!(state.join("profile-state.cbor.zst").exists());
    let second = profile(&["--only-findings", "--state", s, "--flush"], &text(&all[half..]));
    let key = |v: &Value| (v["guid"].as_str().unwrap_or("").to_owned(), v["score"].to_string());
    let mut split: Vec<_> = first.iter().chain(&second).map(key).collect();
    let mut whole: Vec<_> = one.iter().map(key).collect();
    split.sort();
    whole.sort();
    assert_eq!(split.len(), whole.len());
    assert_eq!(split, whole);
}

#[test]
fn findings_become_alerts_with_a_rule_on_their_kind_and_score() {
    let (events, _) = day();
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("findings.yml");
    std::fs::write(
        &rules,
        "id: strong-beacon\nkind: expression\npriority: HIGH\nsource_types: [metron.finding]\n\
         dedup_key: [ip_src_addr, ip_dst_addr]\n\
         expression: 'e[\"finding.kind\"] == \"beacon\" && e.score >= 0.9'\n",
    )
    .unwrap();
    let found = profile(&["--only-findings", "--detect", "beacon"], events);
    let input: String = found.iter().map(|v| format!("{v}\n")).collect();
    let out =
        metron().args(["alert", "-q", "--only-alerts", "--rules"]).arg(&rules).write_stdin(input).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let alerts = lines(&out.stdout);
    let strong = found.iter().filter(|f| f["score"].as_f64().unwrap() >= 0.9).count();
    assert!(strong >= 6, "{strong}");
    assert_eq!(alerts.iter().filter(|a| a["rule"] == "strong-beacon").count(), strong);
    assert!(alerts.iter().all(|a| a["priority"] == "HIGH"));
}

/// The WRCCDC sample (real Zeek logs, 5 seconds of a competition network): at the
/// default thresholds, no finding; with Zeek's thresholds lowered to what 5 seconds
/// can show, the two sweeps in it are reported.
#[test]
fn the_wrccdc_sample_shows_its_sweeps_with_thresholds_for_five_seconds() {
    let raw = metron()
        .args(["parse", "-q"])
        .arg(testdata("zeek/wrccdc2018-tsv/conn.log"))
        .arg(testdata("zeek/wrccdc2018-tsv/dns.log"))
        .output()
        .unwrap();
    assert!(findings(&profile(&["--only-findings"], &raw.stdout)).is_empty());
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("metron.toml");
    std::fs::write(&config, "[profile.scan]\nhorizontal = 8\nvertical = 4\n").unwrap();
    let out = metron()
        .arg("--config")
        .arg(&config)
        .args(["profile", "--only-findings", "--detect", "scan"])
        .write_stdin(raw.stdout)
        .output()
        .unwrap();
    let found = lines(&out.stdout);
    let scanners: BTreeMap<String, Vec<String>> = found.iter().fold(BTreeMap::new(), |mut m, f| {
        m.entry(f["ip_src_addr"].as_str().unwrap().to_owned())
            .or_default()
            .push(f["finding.direction"].as_str().unwrap().to_owned());
        m
    });
    assert_eq!(scanners.keys().collect::<Vec<_>>(), ["10.128.0.207", "10.174.251.215"], "{found:#?}");
    assert!(scanners["10.128.0.207"].contains(&"horizontal".to_owned()));
    assert!(scanners["10.174.251.215"].contains(&"vertical".to_owned()));
}

#[test]
fn every_config_problem_is_reported_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("metron.toml");
    std::fs::write(
        &config,
        "[profile]\ndetect = ['beacon', 'sonar']\nwindow = 'a day'\nbogus = 1\n[profile.scan]\nhorizontal = 1\n\
         [profile.x]\nforeach = 'e.a +'\n[profile.x.values]\nv = 'median(a)'\n[profile.beacon]\nmin_score = 2\n",
    )
    .unwrap();
    let out = metron().arg("--config").arg(&config).args(["profile"]).write_stdin("").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for p in ["sonar", "window", "bogus", "horizontal", "[profile.x]: foreach", "median", "min_score"] {
        assert!(stderr.contains(p), "{p} not reported: {stderr}");
    }
}
