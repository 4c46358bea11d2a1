//! A synthetic telemetry generator, like Apache Metron's load generator: realistic
//! Zeek conn TSV and Suricata EVE at any size, for benchmarks and demos, and a day of
//! a network's traffic with labelled injections for the analytics (`traffic`).
//! Seeded, so the same arguments give the same bytes.

pub mod traffic;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::io::{self, Write};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenKind {
    ZeekConn,
    SuricataEve,
    /// A plain intel feed (one indicator per line) of mixed types, ~1% of whose
    /// addresses are servers that `ZeekConn` of the same seed connects to.
    Intel,
    /// A pcap capture of interleaved TCP and UDP flows (`capture::synth`).
    Pcap,
    /// A day of Zeek conn and dns JSON with labelled injections (`traffic.rs`).
    Traffic,
}

impl GenKind {
    pub fn from_name(name: &str) -> Option<GenKind> {
        match name {
            "zeek-conn" => Some(GenKind::ZeekConn),
            "suricata-eve" | "eve" => Some(GenKind::SuricataEve),
            "intel" => Some(GenKind::Intel),
            "pcap" => Some(GenKind::Pcap),
            "traffic" => Some(GenKind::Traffic),
            _ => None,
        }
    }
}

/// Names accepted by `metron generate`.
pub const GEN_KINDS: [&str; 5] = ["zeek-conn", "suricata-eve", "intel", "pcap", "traffic"];

/// Start of generated time: 2026-01-01T00:00:00Z.
const START_MS: i64 = 1_767_225_600_000;

/// A population of hosts: a few busy internal clients and servers, a long tail of
/// external addresses, some of them seen once. Repeats are what caches see in life.
struct Hosts {
    internal: Vec<String>,
    servers: Vec<String>,
}

impl Hosts {
    fn new(rng: &mut StdRng) -> Hosts {
        let internal = (0..500)
            .map(|_| format!("10.{}.{}.{}", rng.random_range(0..4), rng.random_range(0..255), rng.random_range(1..255)))
            .collect();
        let servers = (0..2000).map(|_| external(rng)).collect();
        Hosts { internal, servers }
    }

    fn client(&self, rng: &mut StdRng) -> &str {
        // Zipf-like: a few clients make most connections.
        let i = (rng.random::<f64>().powi(3) * self.internal.len() as f64) as usize;
        &self.internal[i.min(self.internal.len() - 1)]
    }

    fn server(&self, rng: &mut StdRng) -> String {
        if rng.random_ratio(1, 20) {
            return external(rng); // seen once
        }
        let i = (rng.random::<f64>().powi(2) * self.servers.len() as f64) as usize;
        self.servers[i.min(self.servers.len() - 1)].clone()
    }
}

fn external(rng: &mut StdRng) -> String {
    loop {
        let a: u8 = rng.random_range(1..224);
        if a != 10 && a != 127 && a != 172 && a != 192 {
            return format!(
                "{a}.{}.{}.{}",
                rng.random_range(0..256),
                rng.random_range(0..256),
                rng.random_range(1..255)
            );
        }
    }
}

const SERVICES: [(&str, u16, &str); 8] = [
    ("tcp", 443, "ssl"),
    ("tcp", 80, "http"),
    ("udp", 53, "dns"),
    ("tcp", 22, "ssh"),
    ("tcp", 25, "smtp"),
    ("udp", 123, "ntp"),
    ("tcp", 3389, "-"),
    ("tcp", 8080, "http"),
];
const STATES: [(&str, &str); 6] =
    [("SF", "ShADadFf"), ("SF", "ShADadfF"), ("S0", "S"), ("REJ", "Sr"), ("RSTO", "ShADaR"), ("OTH", "D")];

fn uid(rng: &mut StdRng) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut s = String::with_capacity(18);
    s.push('C');
    for _ in 0..17 {
        s.push(CHARS[rng.random_range(0..CHARS.len())] as char);
    }
    s
}

/// Writes `count` records of `kind` to `w`.
pub fn generate(kind: GenKind, count: u64, seed: u64, w: &mut dyn Write) -> io::Result<()> {
    if kind == GenKind::Pcap {
        return crate::capture::synth::generate_pcap(count, seed, w);
    }
    if kind == GenKind::Traffic {
        return traffic::generate(count, seed, w).map(|_| ());
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let hosts = Hosts::new(&mut rng);
    if kind == GenKind::Intel {
        return write_intel(&mut rng, &hosts, count, w);
    }
    if kind == GenKind::ZeekConn {
        write_conn_header(w)?;
    }
    let mut ts_ms = START_MS;
    for _ in 0..count {
        ts_ms += rng.random_range(0..20);
        match kind {
            GenKind::ZeekConn => write_conn(&mut rng, &hosts, ts_ms, w)?,
            GenKind::SuricataEve => write_eve(&mut rng, &hosts, ts_ms, w)?,
            GenKind::Intel | GenKind::Pcap | GenKind::Traffic => {}
        }
    }
    if kind == GenKind::ZeekConn {
        writeln!(w, "#close\t2026-01-01-23-59-59")?;
    }
    Ok(())
}

/// Generated telemetry already parsed into events (what the event stages read), for
/// benchmarks and tests of the later stages. Not for `intel`, which is no telemetry.
pub fn generate_events(kind: GenKind, count: u64, seed: u64) -> io::Result<Vec<crate::event::Event>> {
    use crate::io::{read_lines, Flow, DEFAULT_MAX_LINE};
    use crate::stage::StageConfig;
    let format = match kind {
        GenKind::ZeekConn => "zeek",
        GenKind::SuricataEve => "suricata",
        GenKind::Intel => return Err(io::Error::other("intel is a feed, not events")),
        GenKind::Pcap => return Err(io::Error::other("pcap is packets: capture them into flows")),
        GenKind::Traffic => "zeek",
    };
    let mut raw = Vec::new();
    generate(kind, count, seed, &mut raw)?;
    let settings = crate::parse::ParseSettings {
        format: format.into(),
        max_line_bytes: DEFAULT_MAX_LINE,
        parsers: Default::default(),
    };
    let mut stage = settings.build().map_err(|e| io::Error::other(e.to_string()))?;
    let (mut events, mut errors) = (Vec::new(), Vec::new());
    read_lines(&mut &raw[..], DEFAULT_MAX_LINE, |n, d| {
        stage.parse_record("generated", n, d, &mut events, &mut errors);
        Flow::Continue
    })?;
    match errors.first() {
        Some(e) => Err(io::Error::other(format!("generated data did not parse: {e:?}"))),
        None => Ok(events),
    }
}

/// Events as NDJSON bytes.
pub fn to_ndjson(events: &[crate::event::Event]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    for e in events {
        serde_json::to_writer(&mut out, e)?;
        out.push(b'\n');
    }
    Ok(out)
}

fn write_conn_header(w: &mut dyn Write) -> io::Result<()> {
    w.write_all(
        b"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open\t2026-01-01-00-00-00\n\
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n\
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n",
    )
}

fn write_conn(rng: &mut StdRng, hosts: &Hosts, ts_ms: i64, w: &mut dyn Write) -> io::Result<()> {
    let (proto, port, service) = SERVICES[rng.random_range(0..SERVICES.len())];
    let (state, history) = STATES[rng.random_range(0..STATES.len())];
    let orig_pkts: u32 = rng.random_range(1..40);
    let resp_pkts: u32 = if state == "S0" { 0 } else { rng.random_range(1..60) };
    let orig_bytes: u32 = orig_pkts * rng.random_range(0..900);
    let resp_bytes: u32 = resp_pkts * rng.random_range(0..1400);
    let micros = rng.random_range(0..1000);
    writeln!(
        w,
        "{}.{:03}{:03}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{:.6}\t{}\t{}\t{}\tT\tF\t0\t{}\t{}\t{}\t{}\t{}\t(empty)",
        ts_ms / 1000,
        ts_ms % 1000,
        micros,
        uid(rng),
        hosts.client(rng),
        rng.random_range(1024..65535),
        hosts.server(rng),
        port,
        proto,
        service,
        rng.random::<f64>() * 30.0,
        orig_bytes,
        resp_bytes,
        state,
        history,
        orig_pkts,
        orig_bytes + orig_pkts * 40,
        resp_pkts,
        resp_bytes + resp_pkts * 40
    )
}

const SIGNATURES: [(&str, u32, u8); 4] = [
    ("ET POLICY curl User-Agent Outbound", 2013028, 2),
    ("ET SCAN Nmap Scripting Engine User-Agent Detected", 2009358, 1),
    ("ET INFO Observed DNS Query to .cloud TLD", 2027865, 3),
    ("GPL ATTACK_RESPONSE id check returned root", 2100498, 2),
];
const DOMAINS: [&str; 6] =
    ["www.example.com", "updates.vendor.net", "cdn.assets.io", "mail.corp.local", "evil-c2.cloud", "api.service.org"];

fn write_eve(rng: &mut StdRng, hosts: &Hosts, ts_ms: i64, w: &mut dyn Write) -> io::Result<()> {
    let secs = ts_ms / 1000;
    let time = chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_default();
    let ts = format!("{time}.{:03}{:03}+0000", ts_ms % 1000, rng.random_range(0..1000));
    let flow_id: u64 = rng.random_range(1..(1 << 50));
    let src = hosts.client(rng).to_owned();
    let dst = hosts.server(rng);
    let sport: u16 = rng.random_range(1024..65535);
    let common = format!(
        r#""timestamp":"{ts}","flow_id":{flow_id},"in_iface":"eth0","src_ip":"{src}","src_port":{sport},"dest_ip":"{dst}""#
    );
    let domain = DOMAINS[rng.random_range(0..DOMAINS.len())];
    match rng.random_range(0..10) {
        0 => {
            let (sig, sid, sev) = SIGNATURES[rng.random_range(0..SIGNATURES.len())];
            writeln!(
                w,
                r#"{{{common},"dest_port":80,"event_type":"alert","proto":"TCP","alert":{{"action":"allowed","gid":1,"signature_id":{sid},"rev":3,"signature":"{sig}","category":"Potentially Bad Traffic","severity":{sev}}},"app_proto":"http"}}"#
            )
        }
        1..=3 => writeln!(
            w,
            r#"{{{common},"dest_port":53,"event_type":"dns","proto":"UDP","dns":{{"type":"query","id":{},"rrname":"{domain}","rrtype":"A","tx_id":0}}}}"#,
            rng.random_range(0..65535)
        ),
        4..=5 => writeln!(
            w,
            r#"{{{common},"dest_port":80,"event_type":"http","proto":"TCP","tx_id":0,"http":{{"hostname":"{domain}","url":"/index.html?id={}","http_user_agent":"Mozilla/5.0","http_content_type":"text/html","http_method":"GET","protocol":"HTTP/1.1","status":200,"length":{}}}}}"#,
            rng.random_range(0..100000),
            rng.random_range(100..90000)
        ),
        6 => writeln!(
            w,
            r#"{{{common},"dest_port":443,"event_type":"tls","proto":"TCP","tls":{{"subject":"CN={domain}","issuerdn":"CN=R3, O=Let's Encrypt, C=US","sni":"{domain}","version":"TLS 1.3"}}}}"#
        ),
        _ => writeln!(
            w,
            r#"{{{common},"dest_port":443,"event_type":"flow","proto":"TCP","app_proto":"tls","flow":{{"pkts_toserver":{},"pkts_toclient":{},"bytes_toserver":{},"bytes_toclient":{},"start":"{ts}","end":"{ts}","age":{},"state":"closed","reason":"timeout","alerted":false}},"tcp":{{"tcp_flags":"1b","syn":true,"fin":true,"psh":true,"ack":true,"state":"closed"}}}}"#,
            rng.random_range(1..50),
            rng.random_range(1..80),
            rng.random_range(60..50000),
            rng.random_range(60..500000),
            rng.random_range(0..120)
        ),
    }
}

/// Servers at the tail of the popularity curve, listed in generated intel: `server()`
/// picks index `u^2 * 2000`, so the last 42 of 2000 take 1 - sqrt(1958/2000) = 1.06%
/// of the 95% of connections that go to known servers, about 1% of all.
const INTEL_SERVERS: usize = 42;

const TLDS: [&str; 8] = ["com", "net", "org", "ru", "cn", "info", "xyz", "top"];

fn word(rng: &mut StdRng, min: usize, max: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let len = rng.random_range(min..=max);
    (0..len).map(|_| CHARS[rng.random_range(0..CHARS.len())] as char).collect()
}

fn hex_digits(rng: &mut StdRng, n: usize) -> String {
    const HEX: &[u8] = b"0123456789abcdef";
    (0..n).map(|_| HEX[rng.random_range(0..16)] as char).collect()
}

/// A plain feed: IPs (some networks), domains, URLs, hashes and email addresses.
fn write_intel(rng: &mut StdRng, hosts: &Hosts, count: u64, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "# metron generate intel: {count} indicators, one per line (IP, CIDR, domain, URL, hash, email)")?;
    let tail = &hosts.servers[hosts.servers.len() - INTEL_SERVERS.min(hosts.servers.len())..];
    // Spread the known servers through the feed rather than bunching them at the top.
    let every = (count / tail.len().max(1) as u64).max(1);
    let mut listed = 0;
    for i in 0..count {
        if i % every == 0 && listed < tail.len() {
            writeln!(w, "{}", tail[listed])?;
            listed += 1;
            continue;
        }
        let tld = TLDS[rng.random_range(0..TLDS.len())];
        match rng.random_range(0..1000) {
            0..=398 => writeln!(w, "{}", external(rng))?,
            399 => writeln!(
                w,
                "{}.{}.{}.0/24",
                rng.random_range(1..224),
                rng.random_range(0..256),
                rng.random_range(0..256)
            )?,
            400..=649 => writeln!(w, "{}.{}", word(rng, 6, 14), tld)?,
            650..=799 => {
                writeln!(w, "http://{}.{}/{}/{}.exe", word(rng, 5, 12), tld, word(rng, 3, 8), word(rng, 4, 10))?
            }
            800..=849 => writeln!(w, "{}", hex_digits(rng, 32))?,
            850..=899 => writeln!(w, "{}", hex_digits(rng, 40))?,
            900..=949 => writeln!(w, "{}", hex_digits(rng, 64))?,
            _ => writeln!(w, "{}@{}.{}", word(rng, 4, 10), word(rng, 5, 10), tld)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        generate(GenKind::SuricataEve, 50, 7, &mut a).unwrap();
        generate(GenKind::SuricataEve, 50, 7, &mut b).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.iter().filter(|&&c| c == b'\n').count(), 50);
    }

    #[test]
    fn generated_intel_lists_some_servers_of_generated_conns() {
        let mut intel = Vec::new();
        generate(GenKind::Intel, 20_000, 3, &mut intel).unwrap();
        let intel = String::from_utf8(intel).unwrap();
        let listed: std::collections::HashSet<&str> = intel.lines().filter(|l| !l.starts_with('#')).collect();
        assert!(listed.len() > 19_900, "{}", listed.len());
        let mut conn = Vec::new();
        generate(GenKind::ZeekConn, 20_000, 3, &mut conn).unwrap();
        let conn = String::from_utf8(conn).unwrap();
        let rows: Vec<&str> = conn.lines().filter(|l| !l.starts_with('#')).collect();
        let hits = rows.iter().filter(|r| r.split('\t').nth(4).is_some_and(|ip| listed.contains(ip))).count();
        let rate = hits as f64 / rows.len() as f64;
        assert!((0.005..0.02).contains(&rate), "{hits} of {} conns hit", rows.len());
    }

    #[test]
    fn generated_eve_lines_are_json_objects() {
        let mut buf = Vec::new();
        generate(GenKind::SuricataEve, 200, 1, &mut buf).unwrap();
        for line in String::from_utf8(buf).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(v["event_type"].is_string(), "{line}");
        }
    }
}
