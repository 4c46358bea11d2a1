//! `metron demo`: every stage that exists, over sample data bundled in the binary, and
//! a summary a person can read. The first thing to run on a new machine.

use crate::event::Event;
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
pub fn run(output: Option<&Path>, color: bool) -> io::Result<i32> {
    let bold = |s: &str| if color { format!("\x1b[1m{s}\x1b[0m") } else { s.to_owned() };
    let mut out = output.map(|p| Output::open(Some(p))).transpose()?;
    let mut total = ParseStats::default();
    let mut events: Vec<Event> = Vec::new();
    let mut errors: Vec<Event> = Vec::new();
    println!("{}", bold("metron demo: the pipeline over bundled sample data"));
    println!();
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

    println!();
    println!("{}", bold("events by source.type"));
    let mut by_type: Vec<(String, u64)> = count_by(&events, "source.type").into_iter().collect();
    by_type.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (t, n) in &by_type {
        println!("  {:<22} {:>6}", sanitize(t), thousands(*n));
    }

    println!();
    println!("{}", bold("top talkers (source -> destination, events)"));
    let mut pairs: BTreeMap<String, u64> = BTreeMap::new();
    for e in &events {
        if let (Some(s), Some(d)) =
            (e.get("ip_src_addr").and_then(|v| v.as_str()), e.get("ip_dst_addr").and_then(|v| v.as_str()))
        {
            *pairs.entry(format!("{s} -> {d}")).or_default() += 1;
        }
    }
    let mut pairs: Vec<_> = pairs.into_iter().collect();
    pairs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (pair, n) in pairs.iter().take(5) {
        println!("  {:<40} {:>5}", sanitize(pair), n);
    }

    let with_cid = events.iter().filter(|e| e.contains_key("community_id")).count();
    println!();
    println!("{}", bold("flows"));
    println!(
        "  {} of {} events carry a community_id, the flow hash Zeek, Suricata and Arkime share",
        with_cid,
        events.len()
    );
    if let Some(e) = events.iter().find(|e| e.get("source.type").and_then(|v| v.as_str()) == Some("zeek.conn")) {
        println!();
        println!("{}", bold("one event (zeek.conn)"));
        let mut shown = e.clone();
        shown.shift_remove("original_string");
        println!("  {}", sanitize(&serde_json::to_string(&shown).unwrap_or_default()));
    }
    if let Some(out) = out.as_mut() {
        for e in &events {
            out.write_event(e)?;
        }
    }
    if let Some(out) = out {
        out.finish()?;
    }
    println!();
    println!("Next: `metron parse --help`, or `metron generate zeek-conn -n 1000 | metron parse`.");
    Ok(if total.errors > 0 { 1 } else { 0 })
}

fn count_by(events: &[Event], field: &str) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for e in events {
        if let Some(v) = e.get(field).and_then(|v| v.as_str()) {
            *counts.entry(v.to_owned()).or_default() += 1;
        }
    }
    counts
}
