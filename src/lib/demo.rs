//! `metron demo`: every stage that exists (parse, enrich, label, alert), over sample
//! data bundled in the binary, and a summary a person can read. The first thing to run
//! on a new machine.

use crate::event::{get_str, Event};
use crate::io::{read_lines, thousands, Flow, Output, DEFAULT_MAX_LINE};
use crate::parse::{ParseSettings, ParseStats};
use crate::stage::StageConfig;
use crate::text::sanitize;
use std::collections::BTreeMap;
use std::io;
use std::path::Path;

/// Real sensor output, bundled (see testdata/*/SOURCE.md for origin and licence).
const SAMPLES: [(&str, &str); 8] = [
    ("zeek conn.log (WRCCDC 2018)", include_str!("../../testdata/zeek/wrccdc2018-tsv/conn.log")),
    ("zeek dns.log (WRCCDC 2018)", include_str!("../../testdata/zeek/wrccdc2018-tsv/dns.log")),
    ("zeek ssl.json (WRCCDC 2018)", include_str!("../../testdata/zeek/wrccdc2018-json/ssl.json")),
    ("suricata eve.json (Tenzir)", include_str!("../../testdata/suricata/tenzir-eve-first6lines.json")),
    ("cisco asa (Apache Metron)", include_str!("../../testdata/metron/asa/asa_raw")),
    ("snort alert csv (Apache Metron)", include_str!("../../testdata/metron/snort/SnortOutput")),
    ("squid access.log (Apache Metron)", include_str!("../../testdata/metron/squid/SquidExampleOutput")),
    ("yaf flows (Apache Metron)", include_str!("../../testdata/metron/yaf/YafExampleOutput")),
];

/// Runs the demo; returns the exit code (1 if any record became an error).
pub fn run(output: Option<&Path>, store: &Path, color: bool) -> io::Result<i32> {
    let bold = |s: &str| crate::text::bold(s, color);
    println!("{}", bold("metron demo: the pipeline over bundled sample data"));
    println!();
    let (events, total) = parse_samples(&bold)?;
    print_overview(&events, &bold);
    let events = match run_stages(events, &bold) {
        Ok(events) => events,
        Err(e) => {
            println!("  the later stages could not run: {}", sanitize(&e.to_string()));
            return Ok(2);
        }
    };
    print_flows(&events, &bold);
    if let Some(p) = output {
        let mut out = Output::open(Some(p))?;
        for e in &events {
            out.write_event(e)?;
        }
        out.finish()?;
    }
    if let Err(e) = store_them(events, store, &bold) {
        println!("  the store could not be written: {}", sanitize(&e.to_string()));
        return Ok(2);
    }
    println!();
    println!(
        "Next: `metron hunt --store {}`, `metron store query --store {} 'SELECT * FROM alerts'`,",
        store.display(),
        store.display()
    );
    println!("or `metron generate zeek-conn -n 1000 | metron parse | metron store ingest`.");
    Ok(if total.errors > 0 { 1 } else { 0 })
}

/// Every sample through `metron parse` (format sniffed), with a line per sample.
fn parse_samples(bold: &dyn Fn(&str) -> String) -> io::Result<(Vec<Event>, ParseStats)> {
    let mut total = ParseStats::default();
    let mut events: Vec<Event> = Vec::new();
    let mut errors: Vec<Event> = Vec::new();
    println!("{}", bold("parse"));
    for (name, text) in SAMPLES {
        let settings =
            ParseSettings { format: "auto".into(), max_line_bytes: DEFAULT_MAX_LINE, parsers: Default::default() };
        let mut stage = settings.build().map_err(|e| io::Error::other(e.to_string()))?;
        let before = events.len();
        let mut reader = text.as_bytes();
        read_lines(&mut reader, DEFAULT_MAX_LINE, |n, d| {
            stage.parse_record(name, n, d, &mut events, &mut errors);
            Flow::Continue
        })?;
        let s = stage.stats;
        let kinds: BTreeMap<String, u64> = count_by(&events[before..], "source.type");
        println!(
            "  {name:<34} {:>5} records -> {:>5} events, {:>2} skipped, {} errors   [{}]",
            s.records,
            s.events,
            s.skipped,
            s.errors,
            kinds.keys().cloned().collect::<Vec<_>>().join(", ")
        );
        total.records += s.records;
        total.events += s.events;
        total.skipped += s.skipped;
        total.errors += s.errors;
    }
    println!(
        "  {:<34} {:>5} records -> {:>5} events, {:>2} skipped, {} errors",
        "total",
        thousands(total.records),
        thousands(total.events),
        total.skipped,
        total.errors
    );
    for e in errors.iter().take(5) {
        println!("  error: {}", sanitize(&e.get("message").map(|v| v.to_string()).unwrap_or_default()));
    }
    Ok((events, total))
}

/// Events by source type and the top talkers.
fn print_overview(events: &[Event], bold: &dyn Fn(&str) -> String) {
    println!();
    println!("{}", bold("events by source.type"));
    let mut by_type: Vec<(String, u64)> = count_by(events, "source.type").into_iter().collect();
    by_type.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (t, n) in &by_type {
        println!("  {:<22} {:>6}", sanitize(t), thousands(*n));
    }
    println!();
    println!("{}", bold("top talkers (source -> destination, events)"));
    let mut pairs: BTreeMap<String, u64> = BTreeMap::new();
    for e in events {
        if let (Some(s), Some(d)) = (get_str(e, "ip_src_addr"), get_str(e, "ip_dst_addr")) {
            *pairs.entry(format!("{s} -> {d}")).or_default() += 1;
        }
    }
    let mut pairs: Vec<_> = pairs.into_iter().collect();
    pairs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (pair, n) in pairs.iter().take(5) {
        println!("  {:<40} {:>5}", sanitize(pair), n);
    }
}

/// How many events carry a flow hash, and one whole event.
fn print_flows(events: &[Event], bold: &dyn Fn(&str) -> String) {
    let with_cid = events.iter().filter(|e| e.contains_key("community_id")).count();
    println!();
    println!("{}", bold("flows"));
    println!(
        "  {} of {} events carry a community_id, the flow hash Zeek, Suricata and Arkime share",
        with_cid,
        events.len()
    );
    if let Some(e) = events.iter().find(|e| get_str(e, "source.type") == Some("zeek.conn")) {
        println!();
        println!("{}", bold("one event (zeek.conn)"));
        let mut shown = e.clone();
        shown.shift_remove("original_string");
        println!("  {}", sanitize(&serde_json::to_string(&shown).unwrap_or_default()));
    }
}

/// Files the later stages load, bundled so that the demo runs anywhere.
const GEOIP_CITY: &[u8] = include_bytes!("../../testdata/mmdb/GeoIP2-City-Test.mmdb");
const GEOIP_ASN: &[u8] = include_bytes!("../../testdata/mmdb/GeoLite2-ASN-Test.mmdb");
const FEODO: &[u8] = include_bytes!("../../testdata/feeds/feodotracker-ipblocklist.csv");
/// A list naming two indicators that occur in the samples above (a botnet's IRC
/// server in the Suricata capture, a name from the WRCCDC DNS log), so that the demo
/// shows what a hit looks like.
const DEMO_INTEL: &str = "# metron demo: indicators seen in the bundled samples\n78.40.125.4\nwrccdc.org\n";
const DEMO_RULES: &str = "\
id: demo-intel
name: Threat intel hit
kind: intel
description: An event matched threat intelligence
---
id: demo-ids
name: Sensor alert
kind: all
source_types: [snort, suricata.alert]
description: An IDS raised an alert
";
const DEMO_TRIAGE: &str = r#"
aggregator = "MAX"
[[rules]]
name = "Known bad address"
comment = "the destination is listed as malicious"
rule = '"threatintels.demo-intel.ip_dst_addr.ip" in e'
score = 80
reason = '"connection from " + string(e.ip_src_addr) + " to listed " + string(e.ip_dst_addr)'
[[rules]]
name = "Known bad name"
comment = "a listed domain was looked up"
rule = 'e.exists(k, k.startsWith("threatintels.demo-intel.query"))'
score = 50
reason = '"lookup of " + string(e.query)'
"#;

/// enrich -> label -> alert, in process (`stage::run_chain`), with a line per stage.
fn run_stages(events: Vec<Event>, bold: &dyn Fn(&str) -> String) -> Result<Vec<Event>, Box<dyn std::error::Error>> {
    use crate::stage::run_chain;
    let dir = std::env::temp_dir().join(format!("metron-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let _cleanup = RemoveOnDrop(dir.clone());
    let mut chain = demo_chain(&dir)?;
    let total = events.len();
    let mut out = Vec::with_capacity(total);
    let mut failed = 0;
    for e in events {
        let (done, errors) = run_chain(&mut chain, e);
        out.extend(done);
        failed += errors.len();
    }
    let mut tail = Vec::new();
    for stage in chain.iter_mut() {
        stage.flush(&mut tail);
    }
    out.extend(tail);
    let (alerts, events): (Vec<Event>, Vec<Event>) =
        out.into_iter().partition(|e| get_str(e, "source.type") == Some("alert"));
    println!();
    println!("{}", bold("enrich -> label -> alert (in process)"));
    print_enrich_and_label(total, &events);
    print_alerts(&alerts, failed);
    let mut all = events;
    all.extend(alerts);
    Ok(all)
}

/// enrich (MaxMind's test databases, RFC 1918 as internal), label (Feodo and a demo
/// list, with triage rules), alert (an intel rule and an IDS rule), their files
/// written under `dir`.
fn demo_chain(dir: &Path) -> Result<Vec<Box<dyn crate::stage::Stage>>, Box<dyn std::error::Error>> {
    use crate::alert::{AlertOutput, AlertSettings};
    use crate::enrich::EnrichConfig;
    use crate::label::LabelSettings;
    let write = |name: &str, bytes: &[u8]| -> io::Result<std::path::PathBuf> {
        let path = dir.join(name);
        std::fs::write(&path, bytes)?;
        Ok(path)
    };
    let enrich = EnrichConfig {
        geoip: Some(write("GeoIP2-City-Test.mmdb", GEOIP_CITY)?),
        asn: Some(write("GeoLite2-ASN-Test.mmdb", GEOIP_ASN)?),
        internal: vec!["10.0.0.0/8".into(), "172.16.0.0/12".into(), "192.168.0.0/16".into()],
        passive_dns: true,
        ..EnrichConfig::default()
    }
    .build()?;
    let feeds = dir.join("intel");
    std::fs::create_dir_all(&feeds)?;
    std::fs::write(feeds.join("feodo.csv"), FEODO)?;
    std::fs::write(feeds.join("demo-intel.txt"), DEMO_INTEL)?;
    let label = LabelSettings {
        intel: vec![feeds.display().to_string()],
        triage: toml::from_str(DEMO_TRIAGE)?,
        reload: false,
        ..LabelSettings::default()
    }
    .build()?;
    let alert = AlertSettings {
        rules: vec![write("rules.yml", DEMO_RULES.as_bytes())?],
        output: AlertOutput::WithEvents,
        ..AlertSettings::default()
    }
    .build()?;
    Ok(vec![Box::new(enrich), Box::new(label), Box::new(alert)])
}

fn print_enrich_and_label(total: usize, events: &[Event]) {
    let has_prefix = |e: &Event, p: &str| e.keys().any(|k| k.starts_with(p));
    let located = events.iter().filter(|e| has_prefix(e, "enrichments.geo.")).count();
    let internal = events
        .iter()
        .filter(|e| e.iter().any(|(k, v)| k.starts_with("enrichments.network.") && v.as_bool() == Some(true)))
        .count();
    let named = events.iter().filter(|e| has_prefix(e, "enrichments.dns.")).count();
    let hits: Vec<&Event> = events.iter().filter(|e| has_prefix(e, "threatintels.")).collect();
    println!(
        "  enrich  {total} events: {internal} with an internal address, {located} with a location (MaxMind's test databases know few addresses), {named} with a name from an earlier DNS answer"
    );
    println!("  label   {} events hit intel (abuse.ch Feodo list + a demo list)", hits.len());
    let score = |e: &Event| e.get("threat.triage.score").and_then(|v| v.as_f64()).unwrap_or(-1.0);
    if let Some(e) = hits.iter().filter(|e| score(e) >= 0.0).max_by(|a, b| score(a).total_cmp(&score(b))) {
        let reason = get_str(e, "threat.triage.rules.0.reason").unwrap_or("");
        let score = e.get("threat.triage.score").map(|v| v.to_string()).unwrap_or_default();
        println!("          e.g. triage score {score}: {}", sanitize(reason));
    }
}

fn print_alerts(alerts: &[Event], failed: usize) {
    let mut firsts: Vec<&Event> = alerts.iter().filter(|a| !a.contains_key("alert_update")).collect();
    let rank = |a: &Event| match get_str(a, "priority") {
        Some("HIGH") => 0,
        Some("MED") => 1,
        _ => 2,
    };
    firsts.sort_by_key(|a| rank(a));
    let mut by_priority: BTreeMap<String, u64> = BTreeMap::new();
    for a in &firsts {
        *by_priority.entry(get_str(a, "priority").unwrap_or("?").to_owned()).or_default() += 1;
    }
    let priorities: Vec<String> = by_priority.iter().map(|(p, n)| format!("{n} {p}")).collect();
    println!("  alert   {} alerts ({}), {} stage errors", firsts.len(), priorities.join(", "), failed);
    for a in firsts.iter().take(5) {
        let s = |k: &str| get_str(a, k).unwrap_or("-").to_owned();
        println!(
            "          {:<4} {:<22} {} -> {}  [{}]",
            s("priority"),
            sanitize(&s("rule.name")),
            sanitize(&s("ip_src_addr")),
            sanitize(&s("ip_dst_addr")),
            sanitize(&s("event_source_type"))
        );
    }
}

/// Marks a store the demo made, so that the next demo may replace it.
const DEMO_MARK: &str = ".metron-demo";

/// store ingest, in process, into a fresh store at `dir`; then its stats and top alerts.
fn store_them(events: Vec<Event>, dir: &Path, bold: &dyn Fn(&str) -> String) -> Result<(), Box<dyn std::error::Error>> {
    use crate::stage::Stage;
    use crate::store::{IngestSettings, Reader, Store};
    if dir.join("MANIFEST.json").exists() {
        if !dir.join(DEMO_MARK).exists() {
            return Err(
                format!("{} is a store the demo did not make; give the demo another --store", dir.display()).into()
            );
        }
        std::fs::remove_dir_all(dir)?;
    }
    let settings = IngestSettings {
        store: dir.to_owned(),
        batch_rows: crate::store::DEFAULT_BATCH_ROWS,
        flush_interval: std::time::Duration::from_secs(1),
        max_line_bytes: DEFAULT_MAX_LINE,
    };
    let mut ingest = settings.build()?;
    std::fs::write(dir.join(DEMO_MARK), "made by `metron demo`; the next demo replaces this store\n")?;
    let mut none = Vec::new();
    for e in events {
        ingest.process(e, &mut none)?;
    }
    ingest.flush(&mut none);
    let stored = ingest.finish()?;
    let store = Store::open(dir)?;
    let s = crate::store::stats(&store)?;
    println!();
    println!("{}", bold(&format!("store ({})", dir.display())));
    println!(
        "  {} events, {} alerts, {} alert records in {} segments of {} bytes, {:.0} bytes per event",
        thousands(stored.stored[0]),
        thousands(s.alerts),
        thousands(stored.stored[1]),
        s.segments,
        thousands(s.segment_bytes),
        s.bytes_per_event
    );
    for (t, n, _, _) in s.source_types.iter().take(4) {
        println!("  {:<22} {:>6}", sanitize(t), thousands(*n));
    }
    let reader = Reader::open(&store)?;
    let top = reader.query(
        "SELECT priority, \"rule.name\", designated_host, \"count\", status FROM alerts \
         ORDER BY CASE priority WHEN 'HIGH' THEN 0 WHEN 'MED' THEN 1 ELSE 2 END, \"threat.triage.score\" DESC NULLS LAST, \
         \"timestamp\" LIMIT 5",
        &[],
    )?;
    println!("  top alerts (SELECT ... FROM alerts):");
    for r in &top.rows {
        let c = |i: usize| sanitize(&r.get(i).map(crate::store::cell_text).unwrap_or_default());
        println!("    {:<4} {:<22} host {:<16} count {:<4} {}", c(0), c(1), c(2), c(3), c(4));
    }
    Ok(())
}

/// Removes the demo's temporary files however the demo ends.
struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn count_by(events: &[Event], field: &str) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for e in events {
        if let Some(v) = get_str(e, field) {
            *counts.entry(v.to_owned()).or_default() += 1;
        }
    }
    counts
}
