//! Addresses and networks, for every stage that looks addresses up: the one prefix
//! table (assets and internal networks in enrich, intel networks in label, block and
//! allow lists in alert), and which addresses are public. A table is one hash map per
//! prefix length, probed from the longest length down: inventories and feeds use a
//! handful of lengths (/32, /24, /16), so a lookup is a few hash probes whatever the
//! table's size, and ipnet (MIT/Apache-2.0) does the parsing.

use ipnet::IpNet;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Values keyed by network; a lookup finds the most specific network that holds an
/// address.
#[derive(Debug, Clone)]
pub struct PrefixTable<T> {
    /// By prefix length, longest first.
    v4: Vec<(u8, HashMap<u32, T, foldhash::fast::RandomState>)>,
    v6: Vec<(u8, HashMap<u128, T, foldhash::fast::RandomState>)>,
    len: usize,
}

impl<T> Default for PrefixTable<T> {
    fn default() -> Self {
        PrefixTable { v4: Vec::new(), v6: Vec::new(), len: 0 }
    }
}

impl<T> PrefixTable<T> {
    /// Adds `net` (host bits are ignored); returns the value it replaces, if the same
    /// network was there already.
    pub fn insert(&mut self, net: IpNet, value: T) -> Option<T> {
        let old = match unmap_net(net) {
            IpNet::V4(n) => slot(&mut self.v4, n.prefix_len()).insert(u32::from(n.network()), value),
            IpNet::V6(n) => slot(&mut self.v6, n.prefix_len()).insert(u128::from(n.network()), value),
        };
        if old.is_none() {
            self.len += 1;
        }
        old
    }

    /// The value of the most specific network holding `ip`. An IPv4-mapped IPv6
    /// address (`::ffff:10.0.0.1`) is the IPv4 address it carries.
    pub fn lookup(&self, ip: IpAddr) -> Option<&T> {
        match unmap(ip) {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                self.v4.iter().find_map(|(len, map)| map.get(&(a & mask32(*len))))
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                self.v6.iter().find_map(|(len, map)| map.get(&(a & mask128(*len))))
            }
        }
    }

    /// The value stored for exactly `net` (host bits ignored), made by `make` when
    /// there is none; true when it was made now.
    pub fn get_or_insert_with(&mut self, net: IpNet, make: impl FnOnce() -> T) -> (&mut T, bool) {
        use std::collections::hash_map::Entry;
        let (value, new) = match unmap_net(net) {
            IpNet::V4(n) => match slot(&mut self.v4, n.prefix_len()).entry(u32::from(n.network())) {
                Entry::Occupied(o) => (o.into_mut(), false),
                Entry::Vacant(v) => (v.insert(make()), true),
            },
            IpNet::V6(n) => match slot(&mut self.v6, n.prefix_len()).entry(u128::from(n.network())) {
                Entry::Occupied(o) => (o.into_mut(), false),
                Entry::Vacant(v) => (v.insert(make()), true),
            },
        };
        if new {
            self.len += 1;
        }
        (value, new)
    }

    /// Every network holding `ip`, most specific first, with its value.
    pub fn for_each_match(&self, ip: IpAddr, mut f: impl FnMut(IpNet, &T)) {
        match unmap(ip) {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                for (len, map) in &self.v4 {
                    let network = a & mask32(*len);
                    if let Some(v) = map.get(&network) {
                        let net = ipnet::Ipv4Net::new(Ipv4Addr::from(network), *len).map(IpNet::V4);
                        if let Ok(net) = net {
                            f(net, v);
                        }
                    }
                }
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                for (len, map) in &self.v6 {
                    let network = a & mask128(*len);
                    if let Some(v) = map.get(&network) {
                        let net = ipnet::Ipv6Net::new(Ipv6Addr::from(network), *len).map(IpNet::V6);
                        if let Ok(net) = net {
                            f(net, v);
                        }
                    }
                }
            }
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.lookup(ip).is_some()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// An estimate of the heap the table holds, from its maps' capacities.
    pub fn memory_bytes(&self) -> usize {
        // hashbrown: one control byte per bucket, buckets ~ capacity * 8 / 7.
        let v4: usize = self.v4.iter().map(|(_, m)| m.capacity() * 8 / 7 * (std::mem::size_of::<(u32, T)>() + 1)).sum();
        let v6: usize =
            self.v6.iter().map(|(_, m)| m.capacity() * 8 / 7 * (std::mem::size_of::<(u128, T)>() + 1)).sum();
        v4 + v6
    }
}

fn slot<K, T>(
    levels: &mut Vec<(u8, HashMap<K, T, foldhash::fast::RandomState>)>,
    len: u8,
) -> &mut HashMap<K, T, foldhash::fast::RandomState> {
    let at = match levels.iter().position(|(l, _)| *l <= len) {
        Some(i) if levels[i].0 == len => i,
        Some(i) => {
            levels.insert(i, (len, HashMap::default()));
            i
        }
        None => {
            levels.push((len, HashMap::default()));
            levels.len() - 1
        }
    };
    &mut levels[at].1
}

fn mask32(len: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0)
}

fn mask128(len: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)
}

/// An IPv4-mapped IPv6 address stands for its IPv4 address (dual-stack sockets
/// report IPv4 peers that way).
pub fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

/// `net` without host bits, and an IPv4-mapped IPv6 network (`::ffff:10.0.0.0/104`)
/// as the IPv4 network it carries, as lookups see addresses.
fn unmap_net(net: IpNet) -> IpNet {
    match net.trunc() {
        IpNet::V6(n) if n.prefix_len() >= 96 => match n.network().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, n.prefix_len() - 96).map_or(IpNet::V6(n), IpNet::V4),
            None => IpNet::V6(n),
        },
        other => other,
    }
}

/// A network or a single address (`10.0.0.0/8`, `10.0.0.1`, `2001:db8::/32`).
pub fn parse_net(text: &str) -> Option<IpNet> {
    let text = text.trim();
    if text.contains('/') {
        return text.parse::<IpNet>().ok().map(|n| n.trunc());
    }
    text.parse::<IpAddr>().ok().map(IpNet::from)
}

/// Whether a GeoIP or ASN database can say anything about `ip`: private, loopback,
/// link-local, multicast, unspecified, documentation, shared (CGNAT), benchmarking and
/// reserved addresses are nobody's location, so they are not looked up.
pub fn is_public(ip: IpAddr) -> bool {
    match unmap(ip) {
        IpAddr::V4(a) => is_public_v4(a),
        IpAddr::V6(a) => is_public_v6(a),
    }
}

fn is_public_v4(a: Ipv4Addr) -> bool {
    let [b0, b1, b2, _] = a.octets();
    let reserved = b0 == 0
        || b0 >= 240 // 240.0.0.0/4 reserved and 255.255.255.255 broadcast
        || (b0 == 100 && (b1 & 0xC0) == 64) // 100.64.0.0/10 shared address space
        || (b0 == 192 && b1 == 0 && b2 == 0) // 192.0.0.0/24 IETF protocol assignments
        || (b0 == 198 && (b1 & 0xFE) == 18); // 198.18.0.0/15 benchmarking
    !(reserved || a.is_private() || a.is_loopback() || a.is_link_local() || a.is_multicast() || a.is_documentation())
}

fn is_public_v6(a: Ipv6Addr) -> bool {
    let s = a.segments();
    let reserved = a.is_unspecified()
        || a.is_loopback()
        || a.is_multicast()
        || (s[0] & 0xFE00) == 0xFC00 // fc00::/7 unique local
        || (s[0] & 0xFFC0) == 0xFE80 // fe80::/10 link-local
        || (s[0] & 0xFFC0) == 0xFEC0 // fec0::/10 deprecated site-local
        || (s[0] == 0x2001 && s[1] == 0x0DB8) // 2001:db8::/32 documentation
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]); // 100::/64 discard
    !reserved
}

/// A set of networks (internal networks, block and allow lists): an address is in
/// it when one of them holds it.
#[derive(Debug, Clone, Default)]
pub struct NetSet {
    table: PrefixTable<()>,
}

impl NetSet {
    /// Parses every CIDR or address (blank entries are passed over); each one that
    /// does not parse is one problem.
    pub fn parse(cidrs: &[String]) -> Result<NetSet, Vec<String>> {
        let mut table = PrefixTable::default();
        let mut problems = Vec::new();
        for c in cidrs.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
            match parse_net(c) {
                Some(net) => {
                    table.insert(net, ());
                }
                None => problems.push(format!("{c:?} is not a CIDR (like 10.0.0.0/8) or an address")),
            }
        }
        if problems.is_empty() {
            Ok(NetSet { table })
        } else {
            Err(problems)
        }
    }

    pub fn insert(&mut self, net: IpNet) {
        self.table.insert(net, ());
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.table.lookup(ip).is_some()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn longest_prefix_wins() {
        let mut t = PrefixTable::default();
        t.insert(parse_net("10.0.0.0/8").unwrap(), "eight");
        t.insert(parse_net("10.1.0.0/16").unwrap(), "sixteen");
        t.insert(parse_net("10.1.2.3").unwrap(), "host");
        t.insert(parse_net("0.0.0.0/0").unwrap(), "default");
        t.insert(parse_net("2001:db8::/32").unwrap(), "v6");
        assert_eq!(t.lookup(ip("10.1.2.3")), Some(&"host"));
        assert_eq!(t.lookup(ip("10.1.2.4")), Some(&"sixteen"));
        assert_eq!(t.lookup(ip("10.2.0.1")), Some(&"eight"));
        assert_eq!(t.lookup(ip("192.0.2.1")), Some(&"default"));
        assert_eq!(t.lookup(ip("::ffff:10.1.2.3")), Some(&"host"));
        assert_eq!(t.lookup(ip("2001:db8:1::5")), Some(&"v6"));
        assert_eq!(t.lookup(ip("2001:db9::1")), None);
        assert_eq!(t.len(), 5);
    }

    #[test]
    fn host_bits_are_ignored_and_a_repeat_replaces() {
        let mut t = PrefixTable::default();
        assert_eq!(t.insert(parse_net("10.9.9.9/8").unwrap(), 1), None);
        assert_eq!(t.insert(parse_net("10.0.0.0/8").unwrap(), 2), Some(1));
        assert_eq!(t.lookup(ip("10.200.0.1")), Some(&2));
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn every_matching_network_most_specific_first() {
        let mut t = PrefixTable::default();
        for (n, v) in [("10.0.0.0/8", 8), ("10.1.2.3", 32), ("10.1.0.0/16", 16), ("::ffff:0:0/96", 96)] {
            assert!(t.get_or_insert_with(parse_net(n).unwrap(), || v).1);
        }
        assert!(!t.get_or_insert_with(parse_net("10.0.0.0/8").unwrap(), || 0).1);
        let mut seen = Vec::new();
        t.for_each_match(ip("10.1.2.3"), |net, v| seen.push((net.to_string(), *v)));
        // ::ffff:0:0/96 holds every IPv4-mapped address: it is 0.0.0.0/0.
        let want = [
            ("10.1.2.3/32".to_owned(), 32),
            ("10.1.0.0/16".into(), 16),
            ("10.0.0.0/8".into(), 8),
            ("0.0.0.0/0".into(), 96),
        ];
        assert_eq!(seen, want);
        assert!(t.memory_bytes() > 0);
    }

    #[test]
    fn private_and_reserved_addresses_are_not_public() {
        for a in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.1.1",
            "224.0.0.251",
            "255.255.255.255",
            "240.0.0.1",
            "0.1.2.3",
            "100.64.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:192.168.0.1",
        ] {
            assert!(!is_public(ip(a)), "{a}");
        }
        for a in ["8.8.8.8", "216.160.83.56", "2001:218::1", "::ffff:8.8.8.8", "100.128.0.1", "172.32.0.1"] {
            assert!(is_public(ip(a)), "{a}");
        }
    }

    #[test]
    fn net_sets_report_every_bad_cidr() {
        let problems = NetSet::parse(&["10.0.0.0/8".into(), "10.0.0.0/33".into(), "nonsense".into()]).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        let internal = NetSet::parse(&["10.0.0.0/8".into(), " fd00::/8 ".into()]).unwrap();
        assert!(internal.contains(ip("10.3.2.1")));
        assert!(internal.contains(ip("fd12::1")));
        assert!(!internal.contains(ip("11.0.0.1")));
    }
}
