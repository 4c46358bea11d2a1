//! From link-layer bytes to what a flow needs: addresses, protocol, ports (ICMP type
//! and code), TCP flags, lengths and VLAN ids. etherparse slices the link layer, VLAN
//! tags and IP headers (extension headers included) without copying; the few layer 4
//! fields are read here so that a reassembled datagram goes the same way as a whole one.

use etherparse::{EtherType, Ipv6ExtensionSlice, LaxNetSlice, LaxSlicedPacket};
use std::net::IpAddr;

/// Link types read (tcpdump.org/linktypes.html).
pub mod linktype {
    pub const NULL: i32 = 0;
    pub const ETHERNET: i32 = 1;
    pub const RAW_OPENBSD: i32 = 12;
    pub const RAW_BSD: i32 = 14;
    pub const RAW: i32 = 101;
    pub const LOOP: i32 = 108;
    pub const LINUX_SLL: i32 = 113;
    pub const IPV4: i32 = 228;
    pub const IPV6: i32 = 229;
    pub const LINUX_SLL2: i32 = 276;
}

/// One IP packet, decoded as far as flows need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IP protocol number of the layer 4 header (after IPv6 extension headers).
    pub proto: u8,
    /// Ports; for ICMP and ICMPv6 the type and code.
    pub sport: u16,
    pub dport: u16,
    /// Whether `sport`/`dport` were read (false for protocols without ports and for
    /// layer 4 headers cut short).
    pub has_ports: bool,
    /// ICMP(v6) echo identifier.
    pub icmp_id: u16,
    /// TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80).
    pub tcp_flags: u8,
    /// IP bytes as the IP header says (Zeek's ip_bytes), header included.
    pub ip_len: u32,
    /// Layer 4 payload bytes as the headers say.
    pub payload_len: u32,
    pub vlan: Option<u16>,
    pub inner_vlan: Option<u16>,
    /// Where the layer 4 header starts in the bytes it was read from (the frame, or a
    /// reassembled datagram's payload), and its length: see [`app_payload`].
    pub l4_off: u32,
    pub l4_hdr: u16,
    /// TCP sequence number.
    pub tcp_seq: u32,
}

/// The application bytes of a decoded packet (UDP and TCP payload) within `bytes`,
/// the buffer it was decoded from: as many as were captured, never past the length
/// the headers give.
pub fn app_payload<'a>(d: &Decoded, bytes: &'a [u8]) -> &'a [u8] {
    let start = (d.l4_off as usize).saturating_add(usize::from(d.l4_hdr));
    let end = start.saturating_add(d.payload_len as usize).min(bytes.len());
    bytes.get(start..end).unwrap_or_default()
}

/// Where `part` (a slice of `whole`) starts in `whole`.
fn offset_in(whole: &[u8], part: &[u8]) -> u32 {
    let at = (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
    at.min(whole.len()) as u32
}

/// A piece of a fragmented IP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment<'a> {
    pub id: u32,
    /// Byte offset of `data` in the datagram's payload.
    pub offset: u32,
    pub more: bool,
    pub data: &'a [u8],
}

/// What a packet is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet<'a> {
    Ip(Decoded),
    /// A fragment: its `Decoded` has addresses, protocol and lengths, no ports yet.
    Fragment(Decoded, Fragment<'a>),
    /// A frame that carries no IP (ARP, LLDP, STP, ...).
    NotIp,
    /// A link type this decoder does not know.
    UnknownLinkType(i32),
    /// Headers that cannot be read.
    Malformed(String),
}

/// Decodes one frame of link type `linktype`.
pub fn decode(linktype: i32, data: &[u8]) -> Packet<'_> {
    if linktype == linktype::ETHERNET {
        if let Some(d) = ethernet_ipv4(data) {
            return Packet::Ip(d);
        }
    }
    decode_sliced(linktype, data)
}

/// The common case read directly: Ethernet, up to two VLAN tags, an unfragmented
/// IPv4 header that is consistent. Anything else (`None`) goes through etherparse;
/// `fast_path_agrees_with_etherparse` checks that both read a frame the same. Moving
/// etherparse's full slice of every packet was a fifth of `capture -r`'s time.
fn ethernet_ipv4(data: &[u8]) -> Option<Decoded> {
    let be16 = |i: usize| data.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let mut off = 12;
    let mut ether_type = be16(off)?;
    let mut vlans = [None, None];
    for slot in &mut vlans {
        if !matches!(ether_type, 0x8100 | 0x88a8 | 0x9100) {
            break;
        }
        *slot = Some(be16(off + 2)? & 0x0fff);
        ether_type = be16(off + 4)?;
        off += 4;
    }
    if ether_type != 0x0800 {
        return None;
    }
    let ip = data.get(off + 2..)?;
    let (&vihl, total, frag) = (ip.first()?, u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]), ip.get(6..8)?);
    let ihl = usize::from(vihl & 0x0f) * 4;
    if vihl >> 4 != 4 || ihl < 20 || ip.len() < ihl || usize::from(total) < ihl || (frag[0] & 0x3f) | frag[1] != 0 {
        return None;
    }
    let src: [u8; 4] = ip[12..16].try_into().ok()?;
    let dst: [u8; 4] = ip[16..20].try_into().ok()?;
    let mut d = Decoded {
        src: IpAddr::from(src),
        dst: IpAddr::from(dst),
        proto: ip[9],
        sport: 0,
        dport: 0,
        has_ports: false,
        icmp_id: 0,
        tcp_flags: 0,
        ip_len: u32::from(total),
        payload_len: 0,
        vlan: vlans[0],
        inner_vlan: vlans[1],
        l4_off: (off + 2 + ihl) as u32,
        l4_hdr: 0,
        tcp_seq: 0,
    };
    let l4 = &ip[ihl..ip.len().min(usize::from(total))];
    layer4(&mut d, l4, u32::from(total) - ihl as u32);
    Some(d)
}

/// Decodes through etherparse's slicer (every link type and header).
pub fn decode_sliced(linktype: i32, data: &[u8]) -> Packet<'_> {
    let sliced = match slice_link(linktype, data) {
        Ok(s) => s,
        Err(packet) => return packet,
    };
    let vlans = sliced.vlan_ids();
    let vlans = (vlans.first().map(|v| v.value()), vlans.get(1).map(|v| v.value()));
    match &sliced.net {
        Some(LaxNetSlice::Ipv4(v4)) => ipv4(v4, data, vlans),
        Some(LaxNetSlice::Ipv6(v6)) => ipv6(v6, data, vlans),
        Some(LaxNetSlice::Arp(_)) => Packet::NotIp,
        None => match &sliced.stop_err {
            Some((err, _)) if is_ip_ether_type(&sliced) => Packet::Malformed(err.to_string()),
            _ => Packet::NotIp,
        },
    }
}

/// The frame sliced past its link layer; `Err` is what the packet is when that
/// cannot be done (not IP, an unknown link type, a header cut short).
fn slice_link(linktype: i32, data: &[u8]) -> Result<LaxSlicedPacket<'_>, Packet<'_>> {
    use linktype::*;
    let ether_type = |at: usize| data.get(at..at + 2).map(|p| EtherType(u16::from_be_bytes([p[0], p[1]])));
    let sliced = match linktype {
        ETHERNET => LaxSlicedPacket::from_ethernet(data).map_err(|e| e.to_string()),
        LINUX_SLL => match (ether_type(14), data.get(16..)) {
            (Some(t), Some(rest)) => Ok(LaxSlicedPacket::from_ether_type(t, rest)),
            _ => Err("Linux cooked header cut short".into()),
        },
        LINUX_SLL2 => match (ether_type(0), data.get(20..)) {
            (Some(t), Some(rest)) => Ok(LaxSlicedPacket::from_ether_type(t, rest)),
            _ => Err("Linux cooked v2 header cut short".into()),
        },
        RAW | RAW_OPENBSD | RAW_BSD | IPV4 | IPV6 => LaxSlicedPacket::from_ip(data).map_err(|e| e.to_string()),
        NULL | LOOP => match data.get(0..4) {
            // AF_INET; AF_INET6 on BSDs, macOS and Linux.
            Some(f) => match loopback_family(linktype, [f[0], f[1], f[2], f[3]]) {
                2 | 24 | 28 | 30 | 10 => LaxSlicedPacket::from_ip(&data[4..]).map_err(|e| e.to_string()),
                _ => return Err(Packet::NotIp),
            },
            None => Err("loopback header cut short".into()),
        },
        other => return Err(Packet::UnknownLinkType(other)),
    };
    sliced.map_err(Packet::Malformed)
}

/// The address family of a BSD loopback header: big-endian for LOOP, the capturing
/// host's byte order for NULL (both are tried).
fn loopback_family(linktype: i32, f: [u8; 4]) -> u32 {
    if linktype == linktype::LOOP {
        return u32::from_be_bytes(f);
    }
    let le = u32::from_le_bytes(f);
    if le < 256 {
        le
    } else {
        u32::from_be_bytes(f)
    }
}

impl Decoded {
    fn new(src: IpAddr, dst: IpAddr, ip_len: u32, (vlan, inner_vlan): (Option<u16>, Option<u16>)) -> Decoded {
        Decoded {
            src,
            dst,
            proto: 0,
            sport: 0,
            dport: 0,
            has_ports: false,
            icmp_id: 0,
            tcp_flags: 0,
            ip_len,
            payload_len: 0,
            vlan,
            inner_vlan,
            l4_off: 0,
            l4_hdr: 0,
            tcp_seq: 0,
        }
    }
}

#[cfg(test)]
impl Decoded {
    /// A TCP (6) or UDP (17) packet between two addresses and ports, for tests: payload
    /// length, flags and sequence number are theirs to set.
    pub(super) fn between(src: &str, sport: u16, dst: &str, dport: u16, proto: u8) -> Decoded {
        let addr = |a: &str| a.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let mut d = Decoded::new(addr(src), addr(dst), 0, (None, None));
        (d.proto, d.sport, d.dport, d.has_ports) = (proto, sport, dport, true);
        d.l4_hdr = if proto == 6 { 20 } else { 8 };
        d
    }
}

fn ipv4<'a>(v4: &etherparse::LaxIpv4Slice<'a>, frame: &[u8], vlans: (Option<u16>, Option<u16>)) -> Packet<'a> {
    let frame_len = frame.len();
    let h = v4.header();
    let header_len = h.slice().len() as u32;
    let total = u32::from(h.total_len());
    // A total length of 0 is TCP segmentation offload on the capturing host.
    let ip_len = if total == 0 { frame_len as u32 } else { total };
    let mut d = Decoded::new(IpAddr::V4(h.source_addr()), IpAddr::V4(h.destination_addr()), ip_len, vlans);
    let payload = v4.payload();
    d.proto = payload.ip_number.0;
    let declared = ip_len.saturating_sub(header_len);
    if payload.fragmented {
        d.payload_len = declared;
        let frag = Fragment {
            id: u32::from(h.identification()),
            offset: u32::from(h.fragments_offset().value()) * 8,
            more: h.more_fragments(),
            data: payload.payload,
        };
        return Packet::Fragment(d, frag);
    }
    d.l4_off = offset_in(frame, payload.payload);
    layer4(&mut d, payload.payload, declared);
    Packet::Ip(d)
}

fn ipv6<'a>(v6: &etherparse::LaxIpv6Slice<'a>, frame: &[u8], vlans: (Option<u16>, Option<u16>)) -> Packet<'a> {
    let frame_len = frame.len();
    let h = v6.header();
    let declared_payload = u32::from(h.payload_length());
    let ip_len = if declared_payload == 0 { (frame_len as u32).max(40) } else { 40 + declared_payload };
    let mut d = Decoded::new(IpAddr::V6(h.source_addr()), IpAddr::V6(h.destination_addr()), ip_len, vlans);
    let payload = v6.payload();
    d.proto = payload.ip_number.0;
    let declared = (ip_len - 40).saturating_sub(v6.extensions().slice().len() as u32);
    if !payload.fragmented {
        d.l4_off = offset_in(frame, payload.payload);
        layer4(&mut d, payload.payload, declared);
        return Packet::Ip(d);
    }
    d.payload_len = declared;
    for ext in v6.extensions().clone() {
        if let Ipv6ExtensionSlice::Fragment(f) = ext {
            let f = f.to_header();
            let frag = Fragment {
                id: f.identification,
                offset: u32::from(f.fragment_offset.value()) * 8,
                more: f.more_fragments,
                data: payload.payload,
            };
            return Packet::Fragment(d, frag);
        }
    }
    Packet::Malformed("IPv6 fragment without a fragment header".into())
}

/// Whether the frame said it carries IP (so a missing IP layer is damage, not another protocol).
fn is_ip_ether_type(sliced: &LaxSlicedPacket<'_>) -> bool {
    match sliced.ether_payload() {
        Some(p) => matches!(p.ether_type, EtherType::IPV4 | EtherType::IPV6),
        // Raw IP and loopback frames have no ether type: they are IP.
        None => sliced.link.is_none(),
    }
}

/// Reads ports (type and code for ICMP), TCP flags and payload length from the
/// layer 4 header at the start of `l4`; `declared` is the layer 4 length the IP
/// header gives (the captured bytes may be fewer).
pub fn layer4(d: &mut Decoded, l4: &[u8], declared: u32) {
    let be16 = |i: usize| l4.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let ports = |d: &mut Decoded| {
        if let (Some(s), Some(p)) = (be16(0), be16(2)) {
            d.sport = s;
            d.dport = p;
            d.has_ports = true;
        }
    };
    match d.proto {
        6 => {
            ports(d);
            match (l4.get(12), l4.get(13)) {
                (Some(off), Some(flags)) => {
                    d.tcp_flags = *flags;
                    d.tcp_seq = l4.get(4..8).map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
                    d.l4_hdr = u16::from(off >> 4) * 4;
                    d.payload_len = declared.saturating_sub(u32::from(d.l4_hdr));
                }
                _ => {
                    d.has_ports = false;
                    d.payload_len = 0;
                }
            }
        }
        17 | 136 => {
            ports(d);
            d.l4_hdr = 8;
            d.payload_len = declared.saturating_sub(8);
        }
        132 => {
            ports(d);
            d.payload_len = declared.saturating_sub(12);
        }
        1 | 58 => {
            if let (Some(t), Some(c)) = (l4.first(), l4.get(1)) {
                d.sport = u16::from(*t);
                d.dport = u16::from(*c);
                d.has_ports = true;
                d.icmp_id = be16(4).unwrap_or(0);
            }
            d.payload_len = declared.saturating_sub(8);
        }
        _ => d.payload_len = declared,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::PacketBuilder;

    fn tcp_frame(flags_syn: bool, payload: &[u8]) -> Vec<u8> {
        let builder = PacketBuilder::ethernet2([1; 6], [2; 6])
            .single_vlan(etherparse::VlanId::try_new(42).unwrap())
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp(1234, 80, 1, 1024);
        let builder = if flags_syn { builder.syn() } else { builder.ack(5) };
        let mut out = Vec::new();
        builder.write(&mut out, payload).unwrap();
        out
    }

    #[test]
    fn ethernet_vlan_ipv4_tcp() {
        let frame = tcp_frame(true, b"hello");
        let Packet::Ip(d) = decode(linktype::ETHERNET, &frame) else { panic!("not decoded") };
        assert_eq!(d.src, "10.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!((d.proto, d.sport, d.dport, d.has_ports), (6, 1234, 80, true));
        assert_eq!(d.tcp_flags & 0x02, 0x02);
        assert_eq!((d.ip_len, d.payload_len, d.vlan, d.inner_vlan), (20 + 20 + 5, 5, Some(42), None));
    }

    #[test]
    fn snap_length_does_not_change_declared_lengths() {
        let frame = tcp_frame(false, &[7; 1000]);
        let Packet::Ip(d) = decode(linktype::ETHERNET, &frame[..80]) else { panic!("not decoded") };
        assert_eq!((d.ip_len, d.payload_len), (1040, 1000));
    }

    #[test]
    fn raw_ip_udp_and_null_loopback() {
        let mut raw = Vec::new();
        PacketBuilder::ipv6([1; 16], [2; 16], 5).udp(53, 5353).write(&mut raw, b"abc").unwrap();
        let Packet::Ip(d) = decode(linktype::RAW, &raw) else { panic!("raw") };
        assert_eq!((d.proto, d.sport, d.dport, d.payload_len, d.ip_len), (17, 53, 5353, 3, 40 + 8 + 3));
        let mut null = 30u32.to_le_bytes().to_vec();
        null.extend_from_slice(&raw);
        assert_eq!(decode(linktype::NULL, &null), Packet::Ip(Decoded { l4_off: d.l4_off + 4, ..d }));
    }

    #[test]
    fn linux_cooked_v1_and_v2() {
        let mut ip = Vec::new();
        PacketBuilder::ipv4([10, 1, 1, 1], [10, 2, 2, 2], 64).udp(1111, 53).write(&mut ip, b"q").unwrap();
        let Packet::Ip(want) = decode(linktype::RAW, &ip) else { panic!("raw") };
        // SLL: packet type, ARPHRD, address length, 8 address bytes, protocol.
        let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
        sll.extend_from_slice(&ip);
        // The same, but for where the layer 4 header is in the frame.
        let at = |off: u32| Packet::Ip(Decoded { l4_off: want.l4_off + off, ..want });
        assert_eq!(decode(linktype::LINUX_SLL, &sll), at(16));
        // SLL2: protocol, reserved, interface index, ARPHRD, packet type, address length, 8 address bytes.
        let mut sll2 = vec![0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0];
        sll2.extend_from_slice(&ip);
        assert_eq!(decode(linktype::LINUX_SLL2, &sll2), at(20));
        // BSD loopback in network byte order (LINKTYPE_LOOP), and an unknown family.
        let mut lo = 2u32.to_be_bytes().to_vec();
        lo.extend_from_slice(&ip);
        assert_eq!(decode(linktype::LOOP, &lo), at(4));
        assert_eq!(decode(linktype::NULL, &[7, 0, 0, 0, 1, 2]), Packet::NotIp);
    }

    #[test]
    fn sctp_ports_gre_by_number_and_icmpv6() {
        let mut sctp = vec![0x45, 0, 0, 32, 0, 0, 0, 0, 64, 132, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2];
        sctp.extend_from_slice(&[0x13, 0x88, 0x17, 0x70, 0, 0, 0, 0, 0, 0, 0, 0]);
        let Packet::Ip(d) = decode(linktype::RAW, &sctp) else { panic!("sctp") };
        assert_eq!((d.proto, d.sport, d.dport, d.has_ports), (132, 5000, 6000, true));
        let mut gre = vec![0x45, 0, 0, 28, 0, 0, 0, 0, 64, 47, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2];
        gre.extend_from_slice(&[0, 0, 0x08, 0, 0, 0, 0, 0]);
        let Packet::Ip(d) = decode(linktype::RAW, &gre) else { panic!("gre") };
        assert_eq!((d.proto, d.has_ports, d.payload_len), (47, false, 8));
        let mut v6 = Vec::new();
        PacketBuilder::ipv6([1; 16], [2; 16], 5).icmpv6_echo_request(9, 1).write(&mut v6, &[0; 4]).unwrap();
        let Packet::Ip(d) = decode(linktype::IPV6, &v6) else { panic!("icmpv6") };
        assert_eq!((d.proto, d.sport, d.dport, d.icmp_id), (58, 128, 0, 9));
    }

    #[test]
    fn unknown_link_type_and_garbage() {
        assert_eq!(decode(147, &[0; 40]), Packet::UnknownLinkType(147));
        assert!(matches!(decode(linktype::RAW, &[0x45, 0, 0]), Packet::Malformed(_)));
        assert!(matches!(decode(linktype::ETHERNET, &[0xff; 10]), Packet::Malformed(_)));
        assert!(!decode_err_short().is_empty());
    }

    fn decode_err_short() -> String {
        match decode(linktype::ETHERNET, &[0xff; 10]) {
            Packet::Malformed(m) => m,
            _ => String::new(),
        }
    }

    /// The direct IPv4 reading and etherparse's agree on every frame the direct one
    /// takes: real frames, and real frames with bytes changed.
    #[test]
    fn fast_path_agrees_with_etherparse() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut frames = vec![tcp_frame(true, b"x"), tcp_frame(false, &[1; 300])];
        let mut udp = Vec::new();
        PacketBuilder::ethernet2([1; 6], [2; 6])
            .double_vlan(etherparse::VlanId::try_new(5).unwrap(), etherparse::VlanId::try_new(7).unwrap())
            .ipv4([1, 2, 3, 4], [5, 6, 7, 8], 9)
            .udp(1, 2)
            .write(&mut udp, &[3; 40])
            .unwrap();
        frames.push(udp);
        let mut icmp = Vec::new();
        PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4([1, 2, 3, 4], [5, 6, 7, 8], 9)
            .icmpv4_echo_request(3, 4)
            .write(&mut icmp, &[0; 8])
            .unwrap();
        frames.push(icmp);
        let mut taken = 0;
        for _ in 0..20_000 {
            let mut f = frames[rng.random_range(0..frames.len())].clone();
            for _ in 0..rng.random_range(0..4) {
                let i = rng.random_range(0..f.len());
                f[i] = rng.random();
            }
            f.truncate(rng.random_range(0..f.len() + 1).max(f.len() - rng.random_range(0..8).min(f.len())));
            if let Some(fast) = ethernet_ipv4(&f) {
                taken += 1;
                assert_eq!(Packet::Ip(fast), decode_sliced(linktype::ETHERNET, &f), "{f:02x?}");
            }
        }
        assert!(taken > 5_000, "{taken}");
    }
}
