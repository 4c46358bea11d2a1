//! Alert throughput in events per second (`Throughput::Elements`): 100 Sigma rules
//! (variants of SigmaHQ's network rules in testdata/sigma) plus a few rules of every
//! other kind, on generated Zeek conn and Suricata EVE events parsed in process.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use metron::alert::{AlertOutput, AlertSettings};
use metron::event::Event;
use metron::gen::GenKind;
use metron::io::Output;
use metron::stage::{Stage, StageConfig};
use std::path::{Path, PathBuf};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const LINES: u64 = 20_000;

fn events(kind: GenKind) -> Vec<Event> {
    metron::gen::generate_events(kind, LINES, 1).unwrap()
}

/// 100 Sigma rules: the shipped network rules over and over, each with an id and
/// title of its own, plus our kinds.
fn rules(dir: &Path) -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sigma/network");
    let mut shipped: Vec<PathBuf> = std::fs::read_dir(&src).unwrap().map(|e| e.unwrap().path()).collect();
    shipped.sort();
    let sigma = dir.join("sigma");
    std::fs::create_dir_all(&sigma).unwrap();
    for i in 0..100 {
        let text = std::fs::read_to_string(&shipped[i % shipped.len()]).unwrap();
        let text: String = text
            .lines()
            .map(|l| {
                if l.starts_with("id: ") {
                    format!("id: bench-{i}")
                } else if let Some(t) = l.strip_prefix("title: ") {
                    format!("title: {t} #{i}")
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(sigma.join(format!("r{i:03}.yml")), text).unwrap();
    }
    let block: Vec<String> = (0..200).map(|i| format!("\"203.0.{}.{}/32\"", i / 250, i % 250)).collect();
    let ours = format!(
        r#"rules:
  - id: ids
    kind: all
    source_types: [suricata.alert, snort]
  - id: intel
    kind: intel
  - id: block
    kind: list
    block: [{}]
  - id: outside
    kind: list
    fields: [ip_src_addr]
    allow: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]
  - id: words
    kind: keyword
    keywords: [mimikatz, cobaltstrike, "powershell -enc", ".onion", "xmrig", "ngrok.io"]
    fields: [dns.rrname, http.hostname, query, uri]
  - id: c2-port
    kind: expression
    expression: 'e[?"ip_dst_port"].orValue(0) == 4444'
"#,
        block.join(", ")
    );
    std::fs::write(dir.join("ours.yml"), ours).unwrap();
    vec![sigma, dir.join("ours.yml")]
}

fn bench(c: &mut Criterion, name: &str, events: &[Event], rule_paths: &[PathBuf]) {
    let mut group = c.benchmark_group("alert");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function(name, |b| {
        b.iter(|| {
            let settings = AlertSettings {
                rules: rule_paths.to_vec(),
                output: AlertOutput::WithEvents,
                ..AlertSettings::default()
            };
            let mut stage = settings.build().unwrap();
            assert_eq!(stage.rules().len(), 106);
            // Serializing is part of the job: measure through to NDJSON bytes.
            let mut out_file = Output::from_writer(Box::new(std::io::sink()));
            let mut out = Vec::new();
            for e in events {
                stage.process(e.clone(), &mut out).unwrap();
                for e in out.drain(..) {
                    out_file.write_event(&e).unwrap();
                }
            }
            stage.flush(&mut out);
        })
    });
    group.finish();
}

fn alert_benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let paths = rules(dir.path());
    let eve = events(GenKind::SuricataEve);
    bench(c, "suricata_eve_106_rules", &eve, &paths);
    let conn = events(GenKind::ZeekConn);
    bench(c, "zeek_conn_106_rules", &conn, &paths);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = alert_benches
}
criterion_main!(benches);
