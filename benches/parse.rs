//! Parse throughput per format, in events per second (`Throughput::Elements`), on
//! generated Zeek conn TSV and Suricata EVE and on Apache Metron's ASA sample.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use metron::gen::{generate, GenKind};
use metron::io::{read_lines, Flow, Output, DEFAULT_MAX_LINE};
use metron::parse::ParseSettings;
use metron::stage::StageConfig;

/// The binary's allocator, so that the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const LINES: u64 = 20_000;

fn bench_format(c: &mut Criterion, name: &str, format: &str, input: &[u8], events: u64) {
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(events));
    group.bench_function(name, |b| {
        b.iter(|| {
            let mut stage =
                ParseSettings { format: format.into(), max_line_bytes: DEFAULT_MAX_LINE, parsers: Default::default() }
                    .build()
                    .unwrap();
            // Serializing is part of the job: measure through to NDJSON bytes.
            let mut out = Output::from_writer(Box::new(std::io::sink()));
            let (mut ev, mut er) = (Vec::new(), Vec::new());
            let mut reader = input;
            read_lines(&mut reader, DEFAULT_MAX_LINE, |n, d| {
                stage.parse_record("bench", n, d, &mut ev, &mut er);
                for e in ev.drain(..) {
                    out.write_event(&e).unwrap();
                }
                er.clear();
                Flow::Continue
            })
            .unwrap();
            assert_eq!(stage.stats.errors, 0);
        })
    });
    group.finish();
}

fn parse_benches(c: &mut Criterion) {
    let mut conn = Vec::new();
    generate(GenKind::ZeekConn, LINES, 1, &mut conn).unwrap();
    bench_format(c, "zeek_conn_tsv", "zeek", &conn, LINES);
    let mut eve = Vec::new();
    generate(GenKind::SuricataEve, LINES, 1, &mut eve).unwrap();
    bench_format(c, "suricata_eve", "suricata", &eve, LINES);
    let asa = include_bytes!("../testdata/metron/asa/asa_raw");
    bench_format(c, "asa_metron_sample", "asa", asa, 128);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = parse_benches
}
criterion_main!(benches);
