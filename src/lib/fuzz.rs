//! Entry points for the coverage-guided fuzz targets in `fuzz/` (`cargo +nightly fuzz
//! run NAME`) and for `tests/fuzz_corpus.rs`, which replays their committed corpus on
//! the stable toolchain. Each takes arbitrary bytes, as an attacker would hand them
//! to metron, and must never panic, hang or grow without bound.
#![doc(hidden)]

use crate::io::{read_lines, Flow, Output};
use std::io::Cursor;

/// A fuzz entry point.
pub type Target = fn(&[u8]);

/// Every target, by the name its corpus folder has.
pub const TARGETS: &[(&str, Target)] = &[
    ("parse", parse),
    ("pcap", pcap),
    ("packets", packets),
    ("stix_pattern", stix_pattern),
    ("stix_bundle", stix_bundle),
    ("feeds", feeds),
    ("sigma", sigma),
    ("search", search),
    ("shape", shape),
    ("statement", statement),
    ("listen", listen),
];

/// The network listeners: syslog framing (split anywhere), HTTP heads and bodies.
pub fn listen(data: &[u8]) {
    crate::listen::fuzz(data);
}

/// Every built-in parser: the first byte picks the format (`auto` included), the rest
/// is its input, line by line.
pub fn parse(data: &[u8]) {
    use crate::stage::StageConfig;
    let Some((&pick, input)) = data.split_first() else { return };
    let names: Vec<&str> = crate::parse::format_names().collect();
    let format = names[usize::from(pick) % names.len()];
    let settings =
        crate::parse::ParseSettings { format: format.into(), max_line_bytes: 4096, parsers: Default::default() };
    let Ok(mut stage) = settings.build() else { return };
    let (mut events, mut errors) = (Vec::new(), Vec::new());
    let _ = read_lines(&mut &input[..], 4096, |n, line| {
        stage.parse_record("fuzz", n, line, &mut events, &mut errors);
        events.clear();
        errors.clear();
        Flow::Continue
    });
}

/// The pcap and pcapng reader, on a whole file.
pub fn pcap(data: &[u8]) {
    use crate::capture::reader::{read_packets, Next};
    let _ = read_packets(Box::new(Cursor::new(data.to_vec())), |_| Next::Continue);
}

/// The packet decoder, the defragmenter, the flow table, the DNS transactions, and the
/// TCP reassembly with the HTTP, TLS and SSH parsers (`--emit flows,dns,http,tls,ssh`):
/// the first byte picks a link type, the rest is frames (each a 2-byte length and its
/// bytes), wrapped in a pcap with increasing times and captured in small tables.
pub fn packets(data: &[u8]) {
    const LINKTYPES: [u32; 6] = [1, 113, 276, 101, 0, 12];
    let Some((&pick, mut rest)) = data.split_first() else { return };
    let linktype = LINKTYPES[usize::from(pick) % LINKTYPES.len()];
    let mut pcap = Vec::with_capacity(data.len() + 64);
    pcap.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    pcap.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    pcap.extend_from_slice(&65535u32.to_le_bytes());
    pcap.extend_from_slice(&linktype.to_le_bytes());
    let mut sec = 1_700_000_000u32;
    while rest.len() >= 2 {
        let len = usize::from(u16::from_le_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let frame = &rest[2..2 + len];
        rest = &rest[2 + len..];
        // Now and then a long pause, so that idle flows and fragments expire.
        sec = sec.saturating_add(if frame.first().is_some_and(|b| b & 0x0f == 0) { 120 } else { 0 });
        for v in [sec, 0, len as u32, len as u32] {
            pcap.extend_from_slice(&v.to_le_bytes());
        }
        pcap.extend_from_slice(frame);
    }
    let settings = crate::capture::CaptureSettings {
        emit: crate::capture::Emit {
            flows: true,
            packets: false,
            apps: crate::capture::tcp::Apps { dns: true, http: true, tls: true, ssh: true },
        },
        table: crate::capture::flow::TableSettings { max_flows: 64, ..Default::default() },
        max_fragmented: 16,
        dns: crate::capture::dns::DnsSettings { max_conns: 16, max_pending: 4, ..Default::default() },
        tcp: crate::capture::tcp::TcpSettings {
            max_conns: 16,
            flow_buffer: 4096,
            total_buffer: 16 * 1024,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut out = Output::from_writer(Box::new(std::io::sink()));
    let _ = crate::capture::run_bytes(&settings, &pcap, &mut out);
}

/// STIX patterns: parsed, then turned into indicators where they can be.
pub fn stix_pattern(data: &[u8]) {
    use crate::label::stix;
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(expr) = stix::parse_pattern(text) {
        let _ = stix::evaluable(&expr, crate::label::stix::CidrEquality::Subset, &mut Vec::new());
    }
}

/// A STIX bundle (or TAXII envelope): its objects read and each pattern parsed.
pub fn stix_bundle(data: &[u8]) {
    use crate::label::stix;
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let file = stix::read_stix(&json);
    for ind in &file.indicators {
        let _ = stix::parse_pattern(&ind.pattern);
    }
}

/// The intel feed loaders: the first byte picks a preset (or detection from the
/// content), the rest is the file.
pub fn feeds(data: &[u8]) {
    use crate::label::feeds::{self, LoadOptions, DEFAULT_MAX_STIX_BYTES};
    use crate::label::index::IndexBuilder;
    const PRESETS: [&str; 7] = ["stix", "urlhaus", "feodo", "sslbl", "misp", "list", "csv"];
    let Some((&pick, content)) = data.split_first() else { return };
    let Some(path) = scratch_file(content) else { return };
    let format = match PRESETS.get(usize::from(pick) % (PRESETS.len() + 1)) {
        Some(name) => feeds::preset(name),
        None => feeds::detect(&path).ok(),
    };
    if let Some(format) = format {
        let opts =
            LoadOptions { cidr_equality: Default::default(), max_line: 4096, max_stix_bytes: DEFAULT_MAX_STIX_BYTES };
        let _ = feeds::load(&path, "fuzz", &format, &opts, &mut IndexBuilder::new());
    }
    let _ = std::fs::remove_file(path);
}

/// The rule loader (Sigma and metron rules, YAML alias bounds) on a file, and the
/// Sigma condition parser on the same text.
pub fn sigma(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::alert::condition::parse(text);
    }
    let Some(path) = scratch_file(data) else { return };
    let _ = crate::alert::rules::load(std::slice::from_ref(&path));
    let _ = std::fs::remove_file(path);
}

/// The hunt search language.
pub fn search(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::hunt::search::parse(text, 1_700_000_000_000);
    }
}

/// The store's shape reader (what ingest reads of each line).
pub fn shape(data: &[u8]) {
    let _ = crate::store::shape::read(data);
}

/// `store query`'s check that a text is exactly one query that only reads.
pub fn statement(data: &[u8]) {
    thread_local! {
        static CONN: Option<duckdb::Connection> = crate::store::connect().ok();
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    CONN.with(|conn| {
        if let Some(conn) = conn {
            let _ = crate::store::check_statement(conn, text);
        }
    });
}

/// `content` in a file of its own under the temp folder (loaders read files).
fn scratch_file(content: &[u8]) -> Option<std::path::PathBuf> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("metron-fuzz-{}-{n}.yml", std::process::id()));
    std::fs::write(&path, content).ok()?;
    Some(path)
}
