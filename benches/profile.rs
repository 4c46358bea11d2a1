//! Profile throughput in events per second (`Throughput::Elements`), every detection
//! on, through the NDJSON fast path (as behind a pipe): on generated Zeek conn (random
//! pairs: nearly every connection a new pair, the worst case for the per-pair state)
//! and on a generated day of traffic (hosts with habits, beacons, tunnels, scans);
//! and a profile of one's own with a CEL `onlyif`, which reads whole events.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use metron::gen::GenKind;
use metron::profile::{ProfileConfig, ProfileSettings};
use metron::stage::{Stage, StageConfig};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const LINES: u64 = 50_000;

fn lines(kind: GenKind) -> Vec<Vec<u8>> {
    metron::gen::generate_events(kind, LINES, 1).unwrap().iter().map(|e| serde_json::to_vec(e).unwrap()).collect()
}

fn settings(toml_text: &str) -> ProfileSettings {
    let config: ProfileConfig = toml::from_str(toml_text).unwrap();
    ProfileSettings::from_config(&config).unwrap()
}

fn bench(c: &mut Criterion, name: &str, lines: &[Vec<u8>], toml_text: &str) {
    let mut group = c.benchmark_group("profile");
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function(name, |b| {
        b.iter(|| {
            let mut stage = settings(toml_text).build().unwrap();
            let mut out = Vec::with_capacity(1 << 20);
            let mut events = Vec::new();
            for line in lines {
                if stage.process_line(line, &mut out).is_none() {
                    let event = metron::event::event_from_json(line).unwrap();
                    stage.process(event, &mut events).unwrap();
                    events.clear();
                }
                out.clear();
            }
            stage.flush(&mut events);
        })
    });
    group.finish();
}

fn profile_benches(c: &mut Criterion) {
    let conn = lines(GenKind::ZeekConn);
    bench(c, "zeek_conn_all_detections", &conn, "");
    let traffic = lines(GenKind::Traffic);
    bench(c, "traffic_all_detections", &traffic, "");
    bench(
        c,
        "traffic_own_profile_cel",
        &traffic,
        "detect = []\n[dns]\nforeach = 'ip_src_addr'\nonlyif = 'e[\"source.type\"] == \"zeek.dns\"'\n\
         outlier = 'queries'\n[dns.values]\nqueries = 'count()'\nnames = 'distinct(query)'\n",
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = profile_benches
}
criterion_main!(benches);
