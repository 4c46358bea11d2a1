//! Enrich throughput in events per second (`Throughput::Elements`): generated Zeek conn
//! events, parsed in process, through GeoIP City + ASN + an asset inventory + internal
//! networks, from NDJSON bytes to NDJSON bytes as `metron enrich` runs (the line fast
//! path), and through `process` on built events. A pass-through that builds and writes
//! each event shows what building events costs.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use metron::enrich::EnrichConfig;
use metron::event::Event;
use metron::gen::GenKind;
use metron::io::{read_lines, Flow, LineData, Output, DEFAULT_MAX_LINE};
use metron::stage::{Stage, StageConfig};
use std::path::{Path, PathBuf};

const EVENTS: u64 = 20_000;

/// Generated conn events as NDJSON, the input of `metron enrich`.
fn events_ndjson() -> Vec<u8> {
    metron::gen::to_ndjson(&metron::gen::generate_events(GenKind::ZeekConn, EVENTS, 1).unwrap()).unwrap()
}

/// An inventory of the generator's internal hosts: 10.0.0.0/8, a /24 per subnet,
/// and single servers.
fn assets_csv(dir: &Path) -> PathBuf {
    let mut csv = String::from("ip,name,owner,type,asset_value\n10.0.0.0/8,corp,it,network,1\n");
    for a in 0..4 {
        for b in 0..255 {
            csv.push_str(&format!("10.{a}.{b}.0/24,subnet-{a}-{b},team-{},subnet,2\n", b % 17));
        }
    }
    for i in 1..255 {
        csv.push_str(&format!("10.0.7.{i},srv-{i},ops,server,{}\n", i % 10));
    }
    let path = dir.join("assets.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

/// Reads NDJSON, runs `stage` (if any) and writes NDJSON, as the driver does.
fn run(input: &[u8], mut stage: Option<&mut dyn Stage>) {
    let mut out = Output::from_writer(Box::new(std::io::sink()));
    let mut batch: Vec<Event> = Vec::with_capacity(1);
    let mut reader = input;
    read_lines(&mut reader, DEFAULT_MAX_LINE, |_, data| {
        let LineData::Line(bytes) = data else { panic!("long line") };
        let event: Event = serde_json::from_slice(bytes).unwrap();
        match stage.as_deref_mut() {
            Some(s) => s.process(event, &mut batch).unwrap(),
            None => batch.push(event),
        }
        for e in batch.drain(..) {
            out.write_event(&e).unwrap();
        }
        Flow::Continue
    })
    .unwrap();
}

/// As the binary runs the stage behind a pipe: the driver's own path, in memory.
fn run_lines(input: &[u8], stage: &mut dyn Stage) {
    let mut out = Output::from_writer(Box::new(std::io::sink()));
    metron::driver::events_in_memory(stage, input, &mut out).unwrap();
}

fn enrich_benches(c: &mut Criterion) {
    let input = events_ndjson();
    let dir = tempfile::tempdir().unwrap();
    let mmdb = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/mmdb");
    let config = EnrichConfig {
        geoip: Some(mmdb.join("GeoIP2-City-Test.mmdb")),
        asn: Some(mmdb.join("GeoLite2-ASN-Test.mmdb")),
        assets: Some(assets_csv(dir.path())),
        internal: vec!["10.0.0.0/8".into(), "192.168.0.0/16".into()],
        ..Default::default()
    };
    let mut group = c.benchmark_group("enrich");
    group.throughput(Throughput::Elements(EVENTS));
    group.bench_function("passthrough_ndjson", |b| b.iter(|| run(&input, None)));
    let mut stage = config.clone().build().unwrap();
    group.bench_function("geoip_asn_assets_internal", |b| b.iter(|| run_lines(&input, &mut stage)));
    let mut uncached = EnrichConfig { cache_size: Some(0), ..config }.build().unwrap();
    group.bench_function("geoip_asn_assets_internal_no_cache", |b| b.iter(|| run_lines(&input, &mut uncached)));
    // Chained in process, where each event is built anyway.
    group.bench_function("geoip_asn_assets_internal_events", |b| b.iter(|| run(&input, Some(&mut stage))));
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = enrich_benches
}
criterion_main!(benches);
