//! Community ID v1 (https://github.com/corelight/community-id-spec): a flow hash
//! that Zeek, Suricata and Arkime agree on, so one flow can be found in all of them.
//! Written here because the only crate for it is GPL-3.0.

use base64::Engine;
use sha1::{Digest, Sha1};
use std::net::IpAddr;

/// ICMP types that have a counterpart (request <-> reply), per the spec.
fn icmp_counterpart(proto: u8, icmp_type: u16) -> Option<u16> {
    let pairs: &[(u16, u16)] = if proto == 1 {
        &[(8, 0), (0, 8), (13, 14), (14, 13), (15, 16), (16, 15), (10, 9), (9, 10), (17, 18), (18, 17)]
    } else {
        &[
            (128, 129),
            (129, 128),
            (133, 134),
            (134, 133),
            (135, 136),
            (136, 135),
            (130, 131),
            (131, 130),
            (139, 140),
            (140, 139),
            (144, 145),
            (145, 144),
        ]
    };
    pairs.iter().find(|(t, _)| *t == icmp_type).map(|(_, c)| *c)
}

fn addr_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

/// The Community ID of a flow. `ports` are the layer 4 ports, or for ICMP/ICMPv6 the
/// type and code; `None` for protocols without ports.
pub fn community_id(seed: u16, src: IpAddr, dst: IpAddr, proto: u8, ports: Option<(u16, u16)>) -> String {
    let (mut s, mut d) = (addr_bytes(src), addr_bytes(dst));
    let mut ports = ports;
    let mut one_way = false;
    if matches!(proto, 1 | 58) {
        if let Some((icmp_type, code)) = ports {
            ports = Some(match icmp_counterpart(proto, icmp_type) {
                Some(counter) => (icmp_type, counter),
                None => {
                    one_way = true;
                    (icmp_type, code)
                }
            });
        }
    }
    let ordered = match ports {
        Some((sp, dp)) => s < d || (s == d && sp <= dp),
        None => s <= d,
    };
    if !one_way && !ordered {
        std::mem::swap(&mut s, &mut d);
        ports = ports.map(|(a, b)| (b, a));
    }
    let mut hasher = Sha1::new();
    hasher.update(seed.to_be_bytes());
    hasher.update(&s);
    hasher.update(&d);
    hasher.update([proto, 0]);
    if let Some((sp, dp)) = ports {
        hasher.update(sp.to_be_bytes());
        hasher.update(dp.to_be_bytes());
    }
    format!("1:{}", base64::engine::general_purpose::STANDARD.encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn spec_published_vectors() {
        let (a, b) = (ip("1.2.3.4"), ip("5.6.7.8"));
        assert_eq!(community_id(0, a, b, 6, Some((1122, 3344))), "1:wCb3OG7yAFWelaUydu0D+125CLM=");
        assert_eq!(community_id(0, a, b, 17, Some((1122, 3344))), "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=");
        assert_eq!(community_id(0, a, b, 1, Some((8, 0))), "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=");
        // Both directions of a flow hash the same.
        assert_eq!(community_id(0, b, a, 6, Some((3344, 1122))), "1:wCb3OG7yAFWelaUydu0D+125CLM=");
        assert_eq!(community_id(0, b, a, 1, Some((0, 0))), "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=");
    }

    /// Every row of the vectors made by the reference Python implementation.
    #[test]
    fn agrees_with_python_reference_implementation() {
        let text = include_str!("../../../testdata/communityid/ORACLE-vectors.tsv");
        let mut checked = 0;
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let f: Vec<&str> = line.split('\t').collect();
            let seed: u16 = f[0].parse().unwrap();
            let proto = super::super::protocol_number(f[1]).unwrap();
            let ports = if f[4] == "-" { None } else { Some((f[4].parse().unwrap(), f[5].parse().unwrap())) };
            assert_eq!(community_id(seed, ip(f[2]), ip(f[3]), proto, ports), f[6], "row {line}");
            checked += 1;
        }
        assert!(checked > 50, "only {checked} vectors");
    }
}
