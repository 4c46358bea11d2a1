//! Capture throughput, in packets per second (`Throughput::Elements`): a generated
//! capture of interleaved TCP and UDP flows, read, decoded and turned into flow
//! records (serialized to NDJSON), as `metron capture -r` does.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use metron::capture::{run_bytes, CaptureSettings, Emit};
use metron::io::Output;

/// The binary's allocator, so that the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PACKETS: u64 = 200_000;

fn capture_benches(c: &mut Criterion) {
    let mut pcap = Vec::new();
    metron::capture::synth::generate_pcap(PACKETS, 1, &mut pcap).unwrap();
    let mut group = c.benchmark_group("capture");
    group.throughput(Throughput::Elements(PACKETS));
    for (name, emit) in [("pcap_to_flows", Emit::FLOWS), ("pcap_to_packets", Emit::PACKETS)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let settings = CaptureSettings { emit, ..CaptureSettings::default() };
                let mut out = Output::from_writer(Box::new(std::io::sink()));
                let stats = run_bytes(&settings, &pcap, &mut out).unwrap();
                assert_eq!(stats.ip, PACKETS);
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = capture_benches
}
criterion_main!(benches);
