//! Label throughput in events per second (`Throughput::Elements`): generated Zeek conn
//! events, parsed in process, against 100,000 generated indicators of mixed types of
//! which ~1% of the events hit, from NDJSON bytes to NDJSON bytes as `metron label`
//! runs (the line fast path, `process` for the hits), and through `process` on built
//! events. Loading the indicators is measured too, in indicators per second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use metron::event::Event;
use metron::gen::{generate, GenKind};
use metron::io::{read_lines, Flow, LineData, Output, DEFAULT_MAX_LINE};
use metron::label::LabelSettings;
use metron::stage::{Stage, StageConfig};
use std::path::Path;

const EVENTS: u64 = 20_000;
const INDICATORS: u64 = 100_000;

/// Generated conn events as NDJSON, the input of `metron label`.
fn events_ndjson() -> Vec<u8> {
    metron::gen::to_ndjson(&metron::gen::generate_events(GenKind::ZeekConn, EVENTS, 1).unwrap()).unwrap()
}

fn settings(intel: &Path) -> LabelSettings {
    LabelSettings {
        intel: vec![intel.display().to_string()],
        reload: false,
        max_line_bytes: DEFAULT_MAX_LINE,
        ..LabelSettings::default()
    }
}

/// As the binary runs the stage behind a pipe: the driver's own path, in memory.
fn run_lines(input: &[u8], stage: &mut dyn Stage) {
    let mut out = Output::from_writer(Box::new(std::io::sink()));
    metron::driver::events_in_memory(stage, input, &mut out).unwrap();
}

/// Every event built, processed and written: the stage chained in process.
fn run_events(input: &[u8], stage: &mut dyn Stage) {
    let mut out = Output::from_writer(Box::new(std::io::sink()));
    let mut batch: Vec<Event> = Vec::with_capacity(1);
    let mut reader = input;
    read_lines(&mut reader, DEFAULT_MAX_LINE, |_, data| {
        let LineData::Line(bytes) = data else { panic!("long line") };
        stage.process(serde_json::from_slice(bytes).unwrap(), &mut batch).unwrap();
        for e in batch.drain(..) {
            out.write_event(&e).unwrap();
        }
        Flow::Continue
    })
    .unwrap();
}

fn label_benches(c: &mut Criterion) {
    let input = events_ndjson();
    let dir = tempfile::tempdir().unwrap();
    let intel = dir.path().join("intel.txt");
    let mut feed = Vec::new();
    generate(GenKind::Intel, INDICATORS, 1, &mut feed).unwrap();
    std::fs::write(&intel, feed).unwrap();
    let mut stage = settings(&intel).build().unwrap();
    let mut group = c.benchmark_group("label");
    group.throughput(Throughput::Elements(EVENTS));
    group.bench_function("zeek_conn_100k_indicators", |b| b.iter(|| run_lines(&input, &mut stage)));
    group.bench_function("zeek_conn_100k_indicators_events", |b| b.iter(|| run_events(&input, &mut stage)));
    assert!(stage.stats.labeled > 0, "the generated intel should hit some events");
    group.finish();
    let mut load = c.benchmark_group("label_load");
    load.throughput(Throughput::Elements(INDICATORS));
    load.bench_function("generated_100k_indicators", |b| b.iter(|| settings(&intel).build().unwrap()));
    load.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = label_benches
}
criterion_main!(benches);
