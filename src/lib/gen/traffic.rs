//! A day of a network's traffic, for `metron profile`: ordinary Zeek conn and dns
//! records from hundreds of hosts (Poisson arrivals, busier in working hours, a few
//! very busy pairs with random gaps), with labelled injections — beacons at several
//! intervals and jitters, long connections, a DNS tunnel, a vertical and a
//! horizontal scan, and a host whose upload jumps in one hour. Written as Zeek JSON
//! (`metron parse` reads it), with the truth (`--truth FILE`) as NDJSON, so that a
//! test can count what the detections found and what they missed.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::io::{self, Write};

/// The day: 2026-01-01 UTC.
pub const DAY_START_MS: i64 = 1_767_225_600_000;
const HOUR: i64 = 3_600_000;

/// One record to write: its time and its Zeek JSON.
struct Rec {
    ts: i64,
    json: Value,
}

/// Ordinary records per host and day, on average.
const PER_HOST: u64 = 1500;

struct Net {
    hosts: Vec<String>,
    servers: Vec<(String, u16, &'static str)>,
    domains: Vec<String>,
    resolver: String,
}

fn ext(rng: &mut StdRng) -> String {
    loop {
        let a: u8 = rng.random_range(1..224);
        if ![10, 127, 172, 192, 198, 203].contains(&a) {
            return format!(
                "{a}.{}.{}.{}",
                rng.random_range(0..256),
                rng.random_range(0..256),
                rng.random_range(1..255)
            );
        }
    }
}

const ZONES: [&str; 24] = [
    "google.com",
    "microsoft.com",
    "apple.com",
    "amazonaws.com",
    "cloudflare.com",
    "github.com",
    "slack.com",
    "zoom.us",
    "office.com",
    "windowsupdate.com",
    "akamaiedge.net",
    "example.org",
    "wikipedia.org",
    "mozilla.org",
    "ubuntu.com",
    "debian.org",
    "okta.com",
    "salesforce.com",
    "dropbox.com",
    "linkedin.com",
    "youtube.com",
    "gstatic.com",
    "digicert.com",
    "letsencrypt.org",
];
const LABELS: [&str; 12] =
    ["www", "api", "mail", "login", "cdn", "static", "update", "ocsp", "auth", "img", "files", "portal"];

impl Net {
    fn new(rng: &mut StdRng, hosts: usize) -> Net {
        let hosts = (0..hosts).map(|i| format!("10.1.{}.{}", i / 250, 1 + i % 250)).collect();
        let services: [(u16, &str); 4] = [(443, "ssl"), (443, "ssl"), (80, "http"), (22, "ssh")];
        let servers = (0..1500)
            .map(|_| {
                let (port, svc) = services[rng.random_range(0..services.len())];
                (ext(rng), port, svc)
            })
            .collect();
        let mut domains = Vec::new();
        for zone in ZONES {
            for label in LABELS.iter().take(rng.random_range(2..LABELS.len())) {
                domains.push(format!("{label}.{zone}"));
            }
        }
        Net { hosts, servers, domains, resolver: "10.1.255.53".into() }
    }
}

fn uid(rng: &mut StdRng) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut s = String::from("C");
    for _ in 0..17 {
        s.push(CHARS[rng.random_range(0..CHARS.len())] as char);
    }
    s
}

/// A log-normal draw around `median`.
fn lognormal(rng: &mut StdRng, median: f64, sigma: f64) -> f64 {
    // Box-Muller.
    let (u1, u2) = (rng.random::<f64>().max(1e-12), rng.random::<f64>());
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    median * (sigma * z).exp()
}

#[allow(clippy::too_many_arguments)]
fn conn(
    rng: &mut StdRng,
    ts: i64,
    src: &str,
    dst: &str,
    port: u16,
    service: &str,
    duration: f64,
    orig_bytes: u64,
    state: &str,
) -> Rec {
    let (history, resp_bytes) = match state {
        "S0" => ("S", 0),
        "REJ" => ("Sr", 0),
        _ => ("ShADadFf", (orig_bytes as f64 * rng.random_range(0.5..8.0)) as u64),
    };
    let orig_pkts = 1 + orig_bytes / 1000;
    let resp_pkts = if state == "SF" {
        1 + resp_bytes / 1400
    } else if state == "REJ" {
        1
    } else {
        0
    };
    Rec {
        ts,
        json: json!({
            "_path": "conn", "ts": ts as f64 / 1000.0, "uid": uid(rng),
            "id.orig_h": src, "id.orig_p": rng.random_range(1024..65535), "id.resp_h": dst, "id.resp_p": port,
            "proto": if port == 53 || port == 123 { "udp" } else { "tcp" }, "service": service,
            "duration": (duration * 1e6).round() / 1e6, "orig_bytes": orig_bytes, "resp_bytes": resp_bytes,
            "conn_state": state, "local_orig": src.starts_with("10."), "local_resp": dst.starts_with("10."),
            "missed_bytes": 0, "history": history, "orig_pkts": orig_pkts, "orig_ip_bytes": orig_bytes + 40 * orig_pkts,
            "resp_pkts": resp_pkts, "resp_ip_bytes": resp_bytes + 40 * resp_pkts
        }),
    }
}

fn dns(rng: &mut StdRng, ts: i64, src: &str, resolver: &str, query: &str, qtype: &str, rcode: &str) -> Rec {
    Rec {
        ts,
        json: json!({
            "_path": "dns", "ts": ts as f64 / 1000.0, "uid": uid(rng),
            "id.orig_h": src, "id.orig_p": rng.random_range(1024..65535), "id.resp_h": resolver, "id.resp_p": 53,
            "proto": "udp", "trans_id": rng.random_range(0..65535), "query": query, "qclass": 1,
            "qclass_name": "C_INTERNET", "qtype_name": qtype, "rcode_name": rcode, "AA": false, "TC": false,
            "RD": true, "RA": true, "Z": 0, "rejected": false
        }),
    }
}

/// How busy an hour of the day is (working hours are busier).
fn diurnal(hour: i64) -> f64 {
    if (8..18).contains(&hour) {
        1.6
    } else if (6..8).contains(&hour) || (18..22).contains(&hour) {
        0.8
    } else {
        0.25
    }
}

/// What was injected, for the truth file.
pub struct Truth(pub Vec<Value>);

/// Writes a day of traffic (about `events` ordinary records plus the injections) as
/// Zeek JSON to `w`, in time order, and returns what was injected.
pub fn generate(events: u64, seed: u64, w: &mut dyn Write) -> io::Result<Truth> {
    let mut rng = StdRng::seed_from_u64(seed);
    let n_hosts = usize::try_from((events / PER_HOST).clamp(64, 100_000)).unwrap_or(64);
    let net = Net::new(&mut rng, n_hosts);
    let rates: Vec<f64> = (0..n_hosts).map(|_| lognormal(&mut rng, 1.0, 0.6)).collect();
    let norm: f64 = rates.iter().sum::<f64>() / n_hosts as f64;
    let mut truth = Vec::new();
    let mut injected = Vec::new();
    inject(&mut rng, &net, &mut injected, &mut truth);
    // Busy pairs with random gaps: decoys that are not beacons.
    let decoys: Vec<(String, usize, f64)> = (0..12)
        .map(|i| {
            let src = net.hosts[(i * 7 + 3) % n_hosts].clone();
            (src, rng.random_range(0..net.servers.len()), rng.random_range(20.0..240.0))
        })
        .collect();
    for (src, s, mean_gap) in &decoys {
        let (dst, port, svc) = &net.servers[*s];
        truth.push(json!({"kind": "decoy", "ip_src_addr": src, "ip_dst_addr": dst}));
        let mut t = DAY_START_MS + rng.random_range(0..60_000);
        while t < DAY_START_MS + 24 * HOUR {
            let bytes = lognormal(&mut rng, 3000.0, 1.2) as u64;
            let duration = lognormal(&mut rng, 0.5, 1.0);
            injected.push(conn(&mut rng, t, src, dst, *port, svc, duration, bytes, "SF"));
            t += (-(1.0 - rng.random::<f64>()).ln() * mean_gap * 1000.0) as i64 + 1;
        }
    }
    injected.sort_by_key(|r| r.ts);
    let mut injected = injected.into_iter().peekable();
    let per_hour = events as f64 / 24.0 / (0..24).map(diurnal).sum::<f64>() * 24.0;
    for hour in 0..24i64 {
        let mut recs: Vec<Rec> = Vec::new();
        let hour_start = DAY_START_MS + hour * HOUR;
        let expected = per_hour * diurnal(hour);
        for (h, src) in net.hosts.iter().enumerate() {
            let mean = expected * rates[h] / norm / n_hosts as f64;
            let n = poisson(&mut rng, mean);
            for _ in 0..n {
                let ts = hour_start + rng.random_range(0..HOUR);
                recs.push(ordinary(&mut rng, &net, src, ts));
            }
        }
        while let Some(r) = injected.next_if(|r| r.ts < hour_start + HOUR) {
            recs.push(r);
        }
        recs.sort_by_key(|r| r.ts);
        for r in recs {
            serde_json::to_writer(&mut *w, &r.json)?;
            w.write_all(b"\n")?;
        }
    }
    Ok(Truth(truth))
}

fn poisson(rng: &mut StdRng, mean: f64) -> u64 {
    if mean > 30.0 {
        return lognormal(rng, mean, 1.0 / mean.sqrt()).round().max(0.0) as u64;
    }
    // Knuth's method for small means.
    let l = (-mean).exp();
    let (mut k, mut p) = (0u64, 1.0);
    loop {
        p *= rng.random::<f64>();
        if p <= l {
            return k;
        }
        k += 1;
    }
}

/// One ordinary record of `src`: mostly a connection to a popular server, sometimes
/// a DNS lookup, now and then a failed attempt.
fn ordinary(rng: &mut StdRng, net: &Net, src: &str, ts: i64) -> Rec {
    if rng.random_ratio(15, 100) {
        let q = &net.domains[(rng.random::<f64>().powi(2) * net.domains.len() as f64) as usize % net.domains.len()];
        let qtype = if rng.random_ratio(1, 5) { "AAAA" } else { "A" };
        return dns(rng, ts, src, &net.resolver, q, qtype, "NOERROR");
    }
    let i = (rng.random::<f64>().powi(3) * net.servers.len() as f64) as usize % net.servers.len();
    let (dst, port, svc) = &net.servers[i];
    let state = if rng.random_ratio(2, 100) { "S0" } else { "SF" };
    let bytes = if state == "SF" { lognormal(rng, 1200.0, 1.3) as u64 } else { 0 };
    let duration = lognormal(rng, 0.8, 1.4);
    conn(rng, ts, src, dst, *port, svc, duration, bytes, state)
}

/// The labelled injections, into `recs`, with their truth.
fn inject(rng: &mut StdRng, net: &Net, recs: &mut Vec<Rec>, truth: &mut Vec<Value>) {
    let day = DAY_START_MS;
    // Every injection from a host of its own (there are at least 64).
    let mut order: Vec<usize> = (0..net.hosts.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    let host = |i: usize| net.hosts[order[i % order.len()]].clone();
    // Beacons: (interval s, jitter as a fraction, bytes, active hours).
    let beacons: [(f64, f64, u64, std::ops::Range<i64>); 6] = [
        (60.0, 0.0, 310, 0..24),
        (300.0, 0.2, 1200, 0..24),
        (900.0, 0.4, 620, 0..24),
        (3600.0, 0.05, 2048, 0..24),
        (30.0, 0.1, 180, 9..17),
        (120.0, 0.5, 800, 0..24),
    ];
    for (i, (interval, jitter, bytes, hours)) in beacons.into_iter().enumerate() {
        let (src, dst) = (host(i), ext(rng));
        truth.push(
            json!({"kind": "beacon", "ip_src_addr": src, "ip_dst_addr": dst, "interval": interval, "jitter": jitter}),
        );
        let mut t = day + hours.start * HOUR + rng.random_range(0..(interval * 1000.0) as i64);
        while t < day + hours.end * HOUR {
            let b = bytes + rng.random_range(0..bytes / 50 + 1);
            let duration = rng.random_range(0.05..0.4);
            recs.push(conn(rng, t, &src, &dst, 443, "ssl", duration, b, "SF"));
            let gap = interval * (1.0 + jitter * rng.random_range(-1.0..1.0));
            t += (gap * 1000.0) as i64;
        }
    }
    // Long connections: one of 6 h, one of 2.5 h, and a pair of 40 ten-minute ones.
    for (i, (hours, start_hour)) in [(6.0, 2), (2.5, 13)].into_iter().enumerate() {
        let (src, dst) = (host(10 + i), ext(rng));
        truth.push(json!({"kind": "long_conn", "ip_src_addr": src, "ip_dst_addr": dst}));
        let ts = day + start_hour * HOUR + rng.random_range(0..HOUR);
        // Zeek writes the record when the connection ends; its ts is the start.
        recs.push(conn(rng, ts, &src, &dst, 22, "ssh", hours * 3600.0, 5_000_000, "SF"));
    }
    let (src, dst) = (host(12), ext(rng));
    truth.push(json!({"kind": "long_conn", "ip_src_addr": src, "ip_dst_addr": dst}));
    for k in 0..40 {
        recs.push(conn(rng, day + 8 * HOUR + k * 660_000, &src, &dst, 3389, "rdp", 600.0, 90_000, "SF"));
    }
    // A DNS tunnel: 3,000 TXT lookups of base32 names under one domain, in 6 hours.
    let src = host(20);
    let zone = "updates-cdn-sync.com";
    truth.push(json!({"kind": "dns_tunnel", "domain": zone, "ip_src_addr": src}));
    for k in 0..3000i64 {
        let label: String = (0..rng.random_range(40..60))
            .map(|_| b"abcdefghijklmnopqrstuvwxyz234567"[rng.random_range(0..32)] as char)
            .collect();
        recs.push(dns(
            rng,
            day + 14 * HOUR + k * 7200,
            &src,
            &net.resolver,
            &format!("{label}.s1.{zone}"),
            "TXT",
            "NOERROR",
        ));
    }
    // A vertical scan from outside (1,000 ports of one host in 90 s), and a
    // horizontal one from inside (port 445 on 300 hosts in 2 min).
    let scanner = "198.51.100.77";
    let victim = host(30);
    truth.push(json!({"kind": "scan", "ip_src_addr": scanner, "direction": "vertical"}));
    for p in 1..=1000u16 {
        let ts = day + 3 * HOUR + i64::from(p) * 90;
        recs.push(conn(rng, ts, scanner, &victim, p, "-", 0.0001, 0, "REJ"));
    }
    let worm = host(31);
    truth.push(json!({"kind": "scan", "ip_src_addr": worm, "direction": "horizontal"}));
    for k in 0..300i64 {
        let dst = format!("10.1.{}.{}", 40 + k / 250, 1 + k % 250);
        recs.push(conn(rng, day + 16 * HOUR + k * 400, &worm, &dst, 445, "-", 3.0, 0, "S0"));
    }
    // A host whose upload jumps in one evening hour: 12 uploads of 80 MB.
    let leaker = host(40);
    let drop = ext(rng);
    truth.push(json!({"kind": "anomaly", "entity": leaker, "period_start": day + 20 * HOUR}));
    for k in 0..12 {
        recs.push(conn(rng, day + 20 * HOUR + k * 240_000, &leaker, &drop, 443, "ssl", 200.0, 80_000_000, "SF"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_in_time_order_with_its_truth() {
        let mut out = Vec::new();
        let truth = generate(30_000, 1, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let ts: Vec<f64> =
            text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["ts"].as_f64().unwrap()).collect();
        assert!(ts.windows(2).all(|w| w[0] <= w[1]), "in time order");
        assert!(ts.len() > 30_000, "{}", ts.len());
        let kinds: Vec<&str> = truth.0.iter().filter_map(|t| t["kind"].as_str()).collect();
        for k in ["beacon", "decoy", "long_conn", "dns_tunnel", "scan", "anomaly"] {
            assert!(kinds.contains(&k), "{k}");
        }
    }
}
