//! The flow table: packets into bidirectional flow records (the initiator as source),
//! closed on TCP FIN/RST, idle timeout, active timeout or end of input, with Zeek's
//! `conn_state`. The table is bounded: when it is full the flow due soonest is
//! written out early, marked `evicted`, and counted, never dropped.

use super::decode::Decoded;
use crate::event::{community_id, event_with_capacity, fields, new_guid, protocol_name, Event};
use serde_json::Value;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::IpAddr;

/// Where a packet was written by `--write`: file index and byte offset of its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub file: u32,
    pub offset: u64,
}

/// One captured packet as a flow counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub ts_ns: i64,
    /// IP bytes as the IP header says.
    pub ip_len: u32,
    /// Frame length on the wire (tshark's conversation bytes).
    pub frame_len: u32,
    pub pos: Option<Pos>,
    /// The packet's number in its file (1-based), or in a live capture.
    pub number: u64,
}

const SEC: i64 = 1_000_000_000;

/// When flows end. Idle timeouts are Zeek's defaults (tcp_inactivity_timeout 5 min,
/// udp and icmp 1 min); the active timeout is NetFlow's and YAF's 30 minutes; a
/// closed TCP flow waits Zeek's tcp_close_delay (5 s) for its last packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub tcp_idle_ns: i64,
    pub udp_idle_ns: i64,
    pub other_idle_ns: i64,
    pub active_ns: i64,
    pub close_delay_ns: i64,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            tcp_idle_ns: 300 * SEC,
            udp_idle_ns: 60 * SEC,
            other_idle_ns: 60 * SEC,
            active_ns: 1800 * SEC,
            close_delay_ns: 5 * SEC,
        }
    }
}

/// Why a flow record was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    Fin,
    Rst,
    Idle,
    /// Written because it ran longer than the active timeout; the flow goes on in a
    /// next record.
    Active,
    /// Written because it reached the packet limit of one record; goes on likewise.
    PacketLimit,
    /// Written early to make room in a full table.
    Evicted,
    EndOfInput,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Fin => "fin",
            EndReason::Rst => "rst",
            EndReason::Idle => "idle",
            EndReason::Active => "active_timeout",
            EndReason::PacketLimit => "packet_limit",
            EndReason::Evicted => "evicted",
            EndReason::EndOfInput => "end_of_input",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct Key {
    lo: IpAddr,
    hi: IpAddr,
    lo_port: u16,
    hi_port: u16,
    proto: u8,
    vlan: Option<u16>,
    inner_vlan: Option<u16>,
}

/// Zeek's TCP endpoint states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum TcpState {
    #[default]
    Inactive,
    SynSent,
    SynAckSent,
    Partial,
    Established,
    Closed,
    Reset,
}

#[derive(Debug, Clone, Copy, Default)]
struct Endpoint {
    pkts: u64,
    ip_bytes: u64,
    payload_bytes: u64,
    frame_bytes: u64,
    flags: u8,
    state: TcpState,
}

struct Flow {
    serial: u64,
    /// Whether the originator is the key's `lo` side (how a packet's direction is told).
    orig_is_lo: bool,
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    has_ports: bool,
    proto: u8,
    vlan: Option<u16>,
    inner_vlan: Option<u16>,
    first_ns: i64,
    last_ns: i64,
    orig: Endpoint,
    resp: Endpoint,
    /// TCP: both sides closed or one reset; written after the close delay.
    closing_since: Option<i64>,
    positions: Vec<Pos>,
}

/// Counts for the summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FlowStats {
    pub flows: u64,
    pub evicted: u64,
    pub split: u64,
}

/// Settings of the table.
#[derive(Debug, Clone, Copy)]
pub struct TableSettings {
    pub timeouts: Timeouts,
    pub max_flows: usize,
    /// Packet positions one record holds before it is written and the flow goes on
    /// in a next record (Arkime's maxPackets).
    pub max_positions: usize,
}

impl Default for TableSettings {
    fn default() -> TableSettings {
        TableSettings { timeouts: Timeouts::default(), max_flows: 1_000_000, max_positions: 10_000 }
    }
}

pub struct FlowTable {
    flows: HashMap<Key, Flow, foldhash::fast::RandomState>,
    due: BinaryHeap<Reverse<(i64, u64, Key)>>,
    serial: u64,
    settings: TableSettings,
    /// The latest packet time seen: the table's clock.
    now_ns: i64,
    pub stats: FlowStats,
}

/// A finished flow on its way out (names of `--write` files are added by the caller).
pub type Finished = (Event, Vec<Pos>);

fn counterpart(proto: u8, t: u16) -> Option<u16> {
    let pairs: &[(u16, u16)] = if proto == 1 {
        &[(8, 0), (13, 14), (15, 16), (10, 9), (17, 18)]
    } else {
        &[(128, 129), (133, 134), (135, 136), (130, 131), (139, 140), (144, 145)]
    };
    pairs.iter().find_map(|&(a, b)| {
        if a == t {
            Some(b)
        } else if b == t {
            Some(a)
        } else {
            None
        }
    })
}

/// The flow a packet belongs to (both directions alike), and whether its source is
/// the key's `lo` side.
pub(super) fn key_of(d: &Decoded) -> (Key, bool) {
    let (sport, dport) = if d.has_ports { (d.sport, d.dport) } else { (0, 0) };
    let k = |lo: IpAddr, hi: IpAddr, lo_port, hi_port| Key {
        lo,
        hi,
        lo_port,
        hi_port,
        proto: d.proto,
        vlan: d.vlan,
        inner_vlan: d.inner_vlan,
    };
    if matches!(d.proto, 1 | 58) {
        // ICMP: a request and its reply are one flow (echo: by identifier); other
        // messages are keyed by type and code.
        let (a, b) = match counterpart(d.proto, sport) {
            Some(c) => (sport.min(c), if matches!(sport, 0 | 8 | 128 | 129) { d.icmp_id } else { 0 }),
            None => (sport, dport),
        };
        return if d.src <= d.dst { (k(d.src, d.dst, a, b), true) } else { (k(d.dst, d.src, a, b), false) };
    }
    if (d.src, sport) <= (d.dst, dport) {
        (k(d.src, d.dst, sport, dport), true)
    } else {
        (k(d.dst, d.src, dport, sport), false)
    }
}

impl FlowTable {
    pub fn new(settings: TableSettings) -> FlowTable {
        FlowTable {
            flows: HashMap::default(),
            due: BinaryHeap::new(),
            serial: 0,
            settings: TableSettings { max_flows: settings.max_flows.max(1), ..settings },
            now_ns: i64::MIN,
            stats: FlowStats::default(),
        }
    }

    /// Flows open now.
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// Adds the packets of one datagram (one packet, or the fragments of one) to its
    /// flow; flows that end are pushed to `out`.
    pub fn add(&mut self, d: &Decoded, packets: &[Seen], out: &mut Vec<Finished>) {
        let Some(first) = packets.first() else { return };
        self.advance(first.ts_ns, out);
        let (key, src_is_lo) = key_of(d);
        // One lookup for a packet of a known flow (the common case).
        let (closing, split) = match self.flows.get_mut(&key) {
            Some(flow) => update(flow, d, packets, src_is_lo, self.settings.max_positions),
            None => {
                while self.flows.len() >= self.settings.max_flows {
                    if !self.evict_one(out) {
                        break;
                    }
                }
                self.serial += 1;
                // Zeek's rule: a first packet that is a SYN-ACK comes from the responder.
                let flip = d.proto == 6 && d.tcp_flags & 0x12 == 0x12;
                let (src, dst, sport, dport) =
                    if flip { (d.dst, d.src, d.dport, d.sport) } else { (d.src, d.dst, d.sport, d.dport) };
                let mut flow = Flow {
                    serial: self.serial,
                    orig_is_lo: src_is_lo != flip,
                    src,
                    dst,
                    sport,
                    dport,
                    has_ports: d.has_ports,
                    proto: d.proto,
                    vlan: d.vlan,
                    inner_vlan: d.inner_vlan,
                    first_ns: first.ts_ns,
                    last_ns: first.ts_ns,
                    orig: Endpoint::default(),
                    resp: Endpoint::default(),
                    closing_since: None,
                    positions: Vec::new(),
                };
                let deadline = first.ts_ns.saturating_add(self.idle(d.proto));
                self.due.push(Reverse((deadline, self.serial, key)));
                let result = update(&mut flow, d, packets, src_is_lo, self.settings.max_positions);
                self.flows.insert(key, flow);
                result
            }
        };
        if let Some((at, serial)) = closing {
            let deadline = at.saturating_add(self.settings.timeouts.close_delay_ns);
            self.due.push(Reverse((deadline, serial, key)));
        }
        if split {
            self.stats.split += 1;
            let record = self.split(&key, EndReason::PacketLimit);
            out.extend(record);
        }
    }

    fn idle(&self, proto: u8) -> i64 {
        let t = &self.settings.timeouts;
        match proto {
            6 => t.tcp_idle_ns,
            17 => t.udp_idle_ns,
            _ => t.other_idle_ns,
        }
    }

    /// Moves the clock to `ts_ns` (packet time; never backwards) and writes out the
    /// flows that ended by then.
    pub fn advance(&mut self, ts_ns: i64, out: &mut Vec<Finished>) {
        if ts_ns <= self.now_ns {
            return;
        }
        self.now_ns = ts_ns;
        while let Some(&Reverse((deadline, serial, key))) = self.due.peek() {
            if deadline > ts_ns {
                break;
            }
            self.due.pop();
            let Some(flow) = self.flows.get(&key) else { continue };
            if flow.serial != serial {
                continue;
            }
            let t = self.settings.timeouts;
            let idle_end = flow.last_ns.saturating_add(self.idle(flow.proto));
            let active_end = flow.first_ns.saturating_add(t.active_ns);
            let close_end = flow.closing_since.map(|c| c.saturating_add(t.close_delay_ns));
            let (end, reason) = match close_end {
                Some(c) if c <= idle_end && c <= active_end => {
                    let rst = flow.orig.state == TcpState::Reset || flow.resp.state == TcpState::Reset;
                    (c, if rst { EndReason::Rst } else { EndReason::Fin })
                }
                _ if active_end < idle_end => (active_end, EndReason::Active),
                _ => (idle_end, EndReason::Idle),
            };
            if end > ts_ns {
                // Not yet: it saw packets since; look again when it is due.
                self.due.push(Reverse((end, serial, key)));
                continue;
            }
            if reason == EndReason::Active {
                self.stats.split += 1;
                out.extend(self.split(&key, reason));
            } else if let Some(flow) = self.flows.remove(&key) {
                out.push(self.finish(flow, reason));
            }
        }
    }

    /// Writes out every open flow (end of input), oldest first, `chunk` records at a
    /// time to `write`, so that the records of a large table are never all in memory.
    pub fn flush_with(
        &mut self,
        chunk: usize,
        mut write: impl FnMut(&mut Vec<Finished>) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let mut flows: Vec<Flow> = self.flows.drain().map(|(_, f)| f).collect();
        flows.sort_by_key(|f| (f.first_ns, f.serial));
        self.due.clear();
        let mut out = Vec::with_capacity(chunk.clamp(1, 1024));
        for f in flows {
            out.push(self.finish(f, EndReason::EndOfInput));
            if out.len() >= chunk.max(1) {
                write(&mut out)?;
                out.clear();
            }
        }
        write(&mut out)
    }

    /// Writes out every open flow (end of input).
    pub fn flush(&mut self, out: &mut Vec<Finished>) {
        let _ = self.flush_with(usize::MAX, |chunk| {
            out.append(chunk);
            Ok(())
        });
    }

    fn evict_one(&mut self, out: &mut Vec<Finished>) -> bool {
        while let Some(Reverse((_, serial, key))) = self.due.pop() {
            if self.flows.get(&key).is_some_and(|f| f.serial == serial) {
                if let Some(flow) = self.flows.remove(&key) {
                    self.stats.evicted += 1;
                    out.push(self.finish(flow, EndReason::Evicted));
                    return true;
                }
            }
        }
        false
    }

    /// Writes the flow's record so far and starts its counters again (the flow and
    /// its TCP state go on).
    fn split(&mut self, key: &Key, reason: EndReason) -> Option<Finished> {
        let flow = self.flows.get_mut(key)?;
        let next = Flow {
            serial: flow.serial,
            orig_is_lo: flow.orig_is_lo,
            src: flow.src,
            dst: flow.dst,
            sport: flow.sport,
            dport: flow.dport,
            has_ports: flow.has_ports,
            proto: flow.proto,
            vlan: flow.vlan,
            inner_vlan: flow.inner_vlan,
            first_ns: flow.last_ns,
            last_ns: flow.last_ns,
            orig: Endpoint { state: flow.orig.state, ..Endpoint::default() },
            resp: Endpoint { state: flow.resp.state, ..Endpoint::default() },
            closing_since: flow.closing_since,
            positions: Vec::new(),
        };
        let done = std::mem::replace(flow, next);
        Some(self.finish(done, reason))
    }

    fn finish(&mut self, f: Flow, reason: EndReason) -> Finished {
        self.stats.flows += 1;
        (record(&f, reason), f.positions)
    }
}

/// Counts a datagram's packets into its flow. Returns when the flow started closing
/// (time and serial) if this packet closed it, and whether the record is full.
fn update(
    flow: &mut Flow,
    d: &Decoded,
    packets: &[Seen],
    src_is_lo: bool,
    max_positions: usize,
) -> (Option<(i64, u64)>, bool) {
    let from_orig = src_is_lo == flow.orig_is_lo;
    let (me, peer) = if from_orig { (&mut flow.orig, &mut flow.resp) } else { (&mut flow.resp, &mut flow.orig) };
    for p in packets {
        me.pkts += 1;
        me.ip_bytes += u64::from(p.ip_len);
        me.frame_bytes += u64::from(p.frame_len);
        flow.first_ns = flow.first_ns.min(p.ts_ns);
        flow.last_ns = flow.last_ns.max(p.ts_ns);
        if let Some(pos) = p.pos {
            flow.positions.push(pos);
        }
    }
    me.payload_bytes += u64::from(d.payload_len);
    let mut closing = None;
    if d.proto == 6 && d.has_ports {
        me.flags |= d.tcp_flags;
        tcp_update(me, peer, d.tcp_flags);
        let closed = |s: TcpState| s == TcpState::Closed || s == TcpState::Reset;
        if flow.closing_since.is_none()
            && (flow.orig.state == TcpState::Reset
                || flow.resp.state == TcpState::Reset
                || (closed(flow.orig.state) && closed(flow.resp.state)))
        {
            flow.closing_since = Some(flow.last_ns);
            closing = Some((flow.last_ns, flow.serial));
        }
    }
    (closing, flow.positions.len() >= max_positions)
}

/// Zeek's endpoint state machine, as far as `conn_state` needs it.
fn tcp_update(me: &mut Endpoint, peer: &mut Endpoint, flags: u8) {
    use TcpState::*;
    let (fin, syn, rst, ack) = (flags & 0x01 != 0, flags & 0x02 != 0, flags & 0x04 != 0, flags & 0x10 != 0);
    if syn {
        if me.state == Inactive {
            me.state = if ack { SynAckSent } else { SynSent };
        }
    } else {
        match me.state {
            Inactive => me.state = Partial,
            SynSent | SynAckSent if matches!(peer.state, SynSent | SynAckSent | Established) => {
                me.state = Established;
                if matches!(peer.state, SynSent | SynAckSent) {
                    peer.state = Established;
                }
            }
            _ => {}
        }
    }
    if fin && me.state != Reset {
        me.state = Closed;
    }
    if rst {
        me.state = Reset;
    }
}

/// Zeek's `conn_state` (base/protocols/conn/main.zeek).
fn conn_state(f: &Flow) -> &'static str {
    use TcpState::*;
    let (os, rs) = (f.orig.state, f.resp.state);
    match f.proto {
        6 => {
            let o_inactive = matches!(os, Inactive | Partial);
            let r_inactive = matches!(rs, Inactive | Partial);
            if rs == Reset {
                if matches!(os, SynSent | SynAckSent)
                    || (os == Reset && f.orig.payload_bytes == 0 && f.resp.payload_bytes == 0)
                {
                    "REJ"
                } else if o_inactive {
                    "RSTRH"
                } else {
                    "RSTR"
                }
            } else if os == Reset {
                if r_inactive {
                    if f.orig.flags & 0x02 != 0 && f.resp.pkts == 0 {
                        "RSTOS0"
                    } else {
                        "OTH"
                    }
                } else {
                    "RSTO"
                }
            } else if rs == Closed && os == Closed {
                "SF"
            } else if os == Closed {
                if r_inactive {
                    "SH"
                } else {
                    "S2"
                }
            } else if rs == Closed {
                if o_inactive {
                    "SHR"
                } else {
                    "S3"
                }
            } else if os == SynSent && rs == Inactive {
                "S0"
            } else if os == Established && rs == Established {
                "S1"
            } else {
                "OTH"
            }
        }
        17 | 136 => match (f.orig.pkts > 0, f.resp.pkts > 0) {
            (true, true) => "SF",
            (true, false) => "S0",
            (false, true) => "SHR",
            (false, false) => "OTH",
        },
        _ => "OTH",
    }
}

/// TCP flags as letters, lowest bit first: F S R P A U E C.
pub fn flag_letters(flags: u8) -> String {
    b"FSRPAUEC".iter().enumerate().filter(|(i, _)| flags & (1 << i) != 0).map(|(_, &c)| c as char).collect()
}

/// A record's time: `timestamp` (epoch ms, the field every stage reads) and
/// `timestamp_us` (what a packet's time is given in).
pub(super) fn put_time(put: &mut impl FnMut(&str, Value), ts_ns: i64) {
    put(fields::TIMESTAMP, Value::from(ts_ns.div_euclid(1_000_000)));
    put("timestamp_us", Value::from(ts_ns.div_euclid(1000)));
}

/// What flow and packet records share: addresses, ports (type and code for ICMP),
/// protocol, VLAN ids, and the Community ID.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tuple {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    pub ports: Option<(u16, u16)>,
    pub vlan: Option<u16>,
    pub inner_vlan: Option<u16>,
}

impl Tuple {
    /// A packet's own addresses and ports, its source as source.
    pub fn of(d: &Decoded) -> Tuple {
        Tuple {
            src: d.src,
            dst: d.dst,
            proto: d.proto,
            ports: d.has_ports.then_some((d.sport, d.dport)),
            vlan: d.vlan,
            inner_vlan: d.inner_vlan,
        }
    }

    pub fn put(&self, put: &mut impl FnMut(&str, Value)) {
        put(fields::IP_SRC_ADDR, Value::from(self.src.to_string()));
        put(fields::IP_DST_ADDR, Value::from(self.dst.to_string()));
        match self.ports {
            Some((t, c)) if matches!(self.proto, 1 | 58) => {
                put("icmp_type", Value::from(t));
                put("icmp_code", Value::from(c));
            }
            Some((s, d)) => {
                put(fields::IP_SRC_PORT, Value::from(s));
                put(fields::IP_DST_PORT, Value::from(d));
            }
            None => {}
        }
        let name = protocol_name(self.proto).map(str::to_owned).unwrap_or_else(|| self.proto.to_string());
        put(fields::PROTOCOL, Value::from(name));
        put("ip_proto", Value::from(self.proto));
        if let Some(v) = self.vlan {
            put("vlan", Value::from(v));
        }
        if let Some(v) = self.inner_vlan {
            put("inner_vlan", Value::from(v));
        }
    }

    /// The Community ID, unless the protocol has ports and they were not read.
    pub fn put_community_id(&self, put: &mut impl FnMut(&str, Value)) {
        if self.ports.is_some() || !matches!(self.proto, 6 | 17 | 132 | 1 | 58) {
            put(fields::COMMUNITY_ID, Value::from(community_id(0, self.src, self.dst, self.proto, self.ports)));
        }
    }
}

fn record(f: &Flow, reason: EndReason) -> Event {
    let mut e = event_with_capacity(40);
    let mut put = |k: &str, v: Value| {
        e.insert(k.to_owned(), v);
    };
    put(fields::TIMESTAMP, Value::from(f.first_ns.div_euclid(1_000_000)));
    put("end_time", Value::from(f.last_ns.div_euclid(1_000_000)));
    put("timestamp_us", Value::from(f.first_ns.div_euclid(1000)));
    put("end_time_us", Value::from(f.last_ns.div_euclid(1000)));
    let micros = f.last_ns.saturating_sub(f.first_ns) / 1000;
    put("duration", Value::from(micros as f64 / 1e6));
    let tuple = Tuple {
        src: f.src,
        dst: f.dst,
        proto: f.proto,
        ports: f.has_ports.then_some((f.sport, f.dport)),
        vlan: f.vlan,
        inner_vlan: f.inner_vlan,
    };
    tuple.put(&mut put);
    for (side, ep) in [("orig", &f.orig), ("resp", &f.resp)] {
        put(&format!("{side}_pkts"), Value::from(ep.pkts));
        put(&format!("{side}_ip_bytes"), Value::from(ep.ip_bytes));
        put(&format!("{side}_bytes"), Value::from(ep.payload_bytes));
        put(&format!("{side}_frame_bytes"), Value::from(ep.frame_bytes));
        if f.proto == 6 {
            put(&format!("{side}_tcp_flags"), Value::from(flag_letters(ep.flags)));
        }
    }
    put("conn_state", Value::from(conn_state(f)));
    put("end_reason", Value::from(reason.as_str()));
    tuple.put_community_id(&mut put);
    put(fields::SOURCE_TYPE, Value::from("metron.flow"));
    put(fields::GUID, Value::from(new_guid()));
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(src: &str, sport: u16, dst: &str, dport: u16, flags: u8, payload: u32) -> Decoded {
        Decoded {
            tcp_flags: flags,
            ip_len: 40 + payload,
            payload_len: payload,
            ..Decoded::between(src, sport, dst, dport, 6)
        }
    }

    fn run(packets: &[(Decoded, i64)], settings: TableSettings) -> Vec<Event> {
        let mut t = FlowTable::new(settings);
        let mut out = Vec::new();
        for (d, ts) in packets {
            t.add(
                d,
                &[Seen { ts_ns: *ts, ip_len: d.ip_len, frame_len: d.ip_len + 14, pos: None, number: 0 }],
                &mut out,
            );
        }
        t.flush(&mut out);
        out.into_iter().map(|(e, _)| e).collect()
    }

    const C: &str = "10.0.0.1";
    const S: &str = "10.0.0.2";

    #[test]
    fn handshake_and_close_is_sf_with_the_initiator_as_source() {
        let flows = run(
            &[
                (pkt(C, 5000, S, 80, 0x02, 0), 0),
                (pkt(S, 80, C, 5000, 0x12, 0), 1),
                (pkt(C, 5000, S, 80, 0x10, 0), 2),
                (pkt(C, 5000, S, 80, 0x18, 100), 3),
                (pkt(S, 80, C, 5000, 0x11, 0), 4),
                (pkt(C, 5000, S, 80, 0x11, 0), 5),
            ],
            TableSettings::default(),
        );
        assert_eq!(flows.len(), 1);
        let f = &flows[0];
        assert_eq!((f["ip_src_addr"].as_str(), f["ip_dst_port"].as_u64()), (Some(C), Some(80)));
        assert_eq!(
            (f["orig_pkts"].as_u64(), f["resp_pkts"].as_u64(), f["orig_bytes"].as_u64()),
            (Some(4), Some(2), Some(100))
        );
        assert_eq!(f["conn_state"], "SF");
        assert_eq!(f["orig_tcp_flags"], "FSPA");
        assert_eq!(f["community_id"], community_id(0, C.parse().unwrap(), S.parse().unwrap(), 6, Some((5000, 80))));
    }

    #[test]
    fn zeek_states_for_short_tcp_exchanges() {
        let s = |packets: &[(Decoded, i64)]| run(packets, TableSettings::default())[0]["conn_state"].clone();
        assert_eq!(s(&[(pkt(C, 1, S, 2, 0x02, 0), 0)]), "S0");
        assert_eq!(s(&[(pkt(C, 1, S, 2, 0x02, 0), 0), (pkt(S, 2, C, 1, 0x14, 0), 1)]), "REJ");
        assert_eq!(s(&[(pkt(C, 1, S, 2, 0x18, 10), 0)]), "OTH");
        // A first SYN-ACK: the flow is turned round (Zeek's `^`).
        let flows = run(&[(pkt(S, 80, C, 6705, 0x12, 0), 0)], TableSettings::default());
        assert_eq!((flows[0]["ip_src_addr"].as_str(), flows[0]["resp_pkts"].as_u64()), (Some(C), Some(1)));
    }

    #[test]
    fn idle_timeout_and_a_full_table_write_flows_out_counted() {
        let settings = TableSettings { max_flows: 2, ..TableSettings::default() };
        let mut t = FlowTable::new(settings);
        let mut out = Vec::new();
        for (i, ts) in [(1u16, 0i64), (2, 1), (3, 2)] {
            let d = pkt(C, i, S, 53, 0x10, 1);
            t.add(&d, &[Seen { ts_ns: ts, ip_len: 41, frame_len: 55, pos: None, number: 0 }], &mut out);
        }
        assert_eq!((out.len(), t.stats.evicted), (1, 1));
        assert_eq!(out[0].0["end_reason"], "evicted");
        t.advance(10_000 * SEC, &mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(out[2].0["end_reason"], "idle");
        assert!(t.is_empty());
    }
}
