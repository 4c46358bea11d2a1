//! `metron generate pcap`: a synthetic capture for benchmarks, with flows that look
//! like a network's — web sessions with handshakes, data and closes, rejected and
//! unanswered connection attempts, resets, DNS and NTP exchanges and one-way UDP
//! streams, interleaved, over IPv4 and some IPv6. Seeded: the same arguments give the
//! same bytes.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::io::{self, Write};
use std::net::IpAddr;

/// Start of generated time: 2026-01-01T00:00:00Z, in microseconds.
const START_US: i64 = 1_767_225_600_000_000;
/// Flows in progress at once.
const CONCURRENT: usize = 2048;

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

struct Step {
    from_client: bool,
    flags: u8,
    payload: u16,
}

struct SynthFlow {
    client: IpAddr,
    server: IpAddr,
    cport: u16,
    sport: u16,
    proto: u8,
    steps: Vec<Step>,
    next: usize,
}

fn addr(rng: &mut StdRng, v6: bool, internal: bool) -> IpAddr {
    if v6 {
        let mut o = [0u8; 16];
        o[0] = 0x20;
        o[1] = if internal { 0x01 } else { 0x02 };
        o[15] = rng.random();
        o[14] = rng.random();
        o[13] = rng.random_range(0..8);
        IpAddr::from(o)
    } else if internal {
        IpAddr::from([10, rng.random_range(0..4), rng.random_range(0..255), rng.random_range(1..255)])
    } else {
        IpAddr::from([rng.random_range(11..224), rng.random(), rng.random(), rng.random_range(1..255)])
    }
}

fn new_flow(rng: &mut StdRng) -> SynthFlow {
    let v6 = rng.random_ratio(1, 20);
    let client = addr(rng, v6, true);
    let server = addr(rng, v6, false);
    let cport = rng.random_range(32768..61000);
    let s = |from_client, flags, payload| Step { from_client, flags, payload };
    let kind = rng.random_range(0..100);
    let (proto, sport, steps) = if kind < 62 {
        // A web session: handshake, request, response in full-size segments, close.
        let mut v = vec![s(true, SYN, 0), s(false, SYN | ACK, 0), s(true, ACK, 0)];
        for _ in 0..rng.random_range(1..4) {
            v.push(s(true, PSH | ACK, rng.random_range(200..700)));
            let segments = rng.random_range(1..24);
            for i in 0..segments {
                let last = i + 1 == segments;
                let len = if last { rng.random_range(100..1460) } else { 1460 };
                v.push(s(false, if last { PSH | ACK } else { ACK }, len));
                if i % 2 == 1 || last {
                    v.push(s(true, ACK, 0));
                }
            }
        }
        v.extend([s(true, FIN | ACK, 0), s(false, FIN | ACK, 0), s(true, ACK, 0)]);
        (6, if rng.random_ratio(3, 4) { 443 } else { 80 }, v)
    } else if kind < 66 {
        (6, 22, vec![s(true, SYN, 0), s(false, RST | ACK, 0)])
    } else if kind < 70 {
        (6, 3389, vec![s(true, SYN, 0), s(true, SYN, 0), s(true, SYN, 0)])
    } else if kind < 74 {
        let mut v = vec![s(true, SYN, 0), s(false, SYN | ACK, 0), s(true, ACK, 0), s(true, PSH | ACK, 300)];
        v.push(s(false, PSH | ACK, rng.random_range(50..1400)));
        v.push(s(true, RST | ACK, 0));
        (6, 8080, v)
    } else if kind < 92 {
        (17, 53, vec![s(true, 0, rng.random_range(30..80)), s(false, 0, rng.random_range(60..400))])
    } else if kind < 95 {
        (17, 123, vec![s(true, 0, 48), s(false, 0, 48)])
    } else {
        let n = rng.random_range(20..120);
        (17, 5004, (0..n).map(|_| s(false, 0, rng.random_range(200..1200))).collect())
    };
    SynthFlow { client, server, cport, sport, proto, steps, next: 0 }
}

/// Writes a microsecond pcap (Ethernet) of `count` packets.
pub fn generate_pcap(count: u64, seed: u64, w: &mut dyn Write) -> io::Result<()> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut header = [0u8; 24];
    header[0..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    header[4..6].copy_from_slice(&2u16.to_le_bytes());
    header[6..8].copy_from_slice(&4u16.to_le_bytes());
    header[16..20].copy_from_slice(&65535u32.to_le_bytes());
    header[20..24].copy_from_slice(&1u32.to_le_bytes());
    w.write_all(&header)?;
    let mut flows: Vec<SynthFlow> = (0..CONCURRENT).map(|_| new_flow(&mut rng)).collect();
    let mut ts = START_US;
    let mut frame = Vec::with_capacity(1600);
    let payload = [0x5au8; 1500];
    let mut dns = Vec::with_capacity(128);
    for _ in 0..count {
        ts += rng.random_range(1..40);
        let i = rng.random_range(0..flows.len());
        let f = &mut flows[i];
        let step = &f.steps[f.next];
        let (src, dst, sp, dp) = if step.from_client {
            (f.client, f.server, f.cport, f.sport)
        } else {
            (f.server, f.client, f.sport, f.cport)
        };
        frame.clear();
        let body = if f.proto == 17 && f.sport == 53 {
            dns.clear();
            dns_message(&mut dns, f.cport, !step.from_client);
            &dns[..]
        } else {
            &payload[..usize::from(step.payload)]
        };
        build(&mut frame, src, dst, f.proto, sp, dp, step.flags, body);
        let mut rec = [0u8; 16];
        rec[0..4].copy_from_slice(&((ts / 1_000_000) as u32).to_le_bytes());
        rec[4..8].copy_from_slice(&((ts % 1_000_000) as u32).to_le_bytes());
        rec[8..12].copy_from_slice(&(frame.len() as u32).to_le_bytes());
        rec[12..16].copy_from_slice(&(frame.len() as u32).to_le_bytes());
        w.write_all(&rec)?;
        w.write_all(&frame)?;
        f.next += 1;
        if f.next == f.steps.len() {
            flows[i] = new_flow(&mut rng);
        }
    }
    Ok(())
}

/// A DNS query for an A record, or its reply with a CNAME and two addresses; the
/// name and the transaction id follow from the client's port.
fn dns_message(out: &mut Vec<u8>, cport: u16, reply: bool) {
    out.extend(cport.to_be_bytes());
    out.extend(if reply { [0x81, 0x80] } else { [0x01, 0x00] });
    out.extend([0, 1, 0, if reply { 3 } else { 0 }, 0, 0, 0, 0]);
    let host = format!("h{}", cport % 997);
    let domain = format!("site{}", cport % 89);
    for label in [host.as_str(), domain.as_str(), "example"] {
        out.push(label.len() as u8);
        out.extend(label.as_bytes());
    }
    out.extend([0, 0, 1, 0, 1]);
    if reply {
        // CNAME to cdn.example, then two A records of that name (compressed names).
        out.extend([0xc0, 12, 0, 5, 0, 1, 0, 0, 0x0e, 0x10, 0, 6, 3, b'c', b'd', b'n']);
        let cdn = (out.len() - 4) as u8;
        out.extend([0xc0, 12 + 2 + host.len() as u8 + domain.len() as u8]);
        for last in [1u8, 2] {
            out.extend([0xc0, cdn, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, last]);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn build(out: &mut Vec<u8>, src: IpAddr, dst: IpAddr, proto: u8, sp: u16, dp: u16, flags: u8, payload: &[u8]) {
    let l4_len = if proto == 6 { 20 } else { 8 } + payload.len();
    out.extend_from_slice(&[0x00, 0x16, 0x3e, 0x11, 0x22, 0x33, 0x00, 0x16, 0x3e, 0x44, 0x55, 0x66]);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            out.extend_from_slice(&[0x08, 0x00]);
            let start = out.len();
            out.extend_from_slice(&[0x45, 0]);
            out.extend_from_slice(&((20 + l4_len) as u16).to_be_bytes());
            out.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0]);
            out.extend_from_slice(&s.octets());
            out.extend_from_slice(&d.octets());
            let sum = checksum(&out[start..start + 20]);
            out[start + 10..start + 12].copy_from_slice(&sum.to_be_bytes());
        }
        (s, d) => {
            let (s, d) = (v6(s), v6(d));
            out.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0]);
            out.extend_from_slice(&(l4_len as u16).to_be_bytes());
            out.extend_from_slice(&[proto, 64]);
            out.extend_from_slice(&s);
            out.extend_from_slice(&d);
        }
    }
    out.extend_from_slice(&sp.to_be_bytes());
    out.extend_from_slice(&dp.to_be_bytes());
    if proto == 6 {
        out.extend_from_slice(&[0, 0, 0x10, 0, 0, 0, 0x20, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    } else {
        out.extend_from_slice(&(l4_len as u16).to_be_bytes());
        out.extend_from_slice(&[0, 0]);
    }
    out.extend_from_slice(payload);
}

fn v6(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V6(a) => a.octets(),
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
    }
}

fn checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    #[test]
    fn same_seed_same_bytes_and_every_packet_decodes() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        super::generate_pcap(500, 3, &mut a).unwrap();
        super::generate_pcap(500, 3, &mut b).unwrap();
        assert_eq!(a, b);
        let mut n = 0;
        super::super::reader::read_packets(Box::new(std::io::Cursor::new(a)), |p| {
            assert!(matches!(super::super::decode::decode(p.linktype, p.data), super::super::decode::Packet::Ip(_)));
            n += 1;
            super::super::reader::Next::Continue
        })
        .unwrap();
        assert_eq!(n, 500);
    }
}
