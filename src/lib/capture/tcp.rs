//! TCP streams for application records (`metron capture --emit http,tls,ssh`): each
//! connection's two byte streams put back in order and handed to the parser of the
//! protocol its first bytes show.
//!
//! Reassembly, per direction:
//! - bytes are numbered from the first sequence number seen (the SYN's plus one, or
//!   the first segment's when the start was not captured);
//! - segments that arrive early wait until the bytes before them come; a retransmitted
//!   byte already handed on is dropped (the first copy wins, as in Zeek), and of two
//!   waiting segments that overlap, the one that starts earlier in the stream wins;
//! - a hole that is not filled before the direction holds more than the per-flow
//!   limit waiting, or before the connection ends, is skipped: its size is counted in
//!   `missed_bytes` and the parser is told, so that it resynchronises or stops;
//! - all connections together hold at most the total limit waiting: past it, the
//!   segment that would exceed it is dropped and counted.
//!
//! The protocol is chosen by content, not port (Zeek's dynamic protocol detection does
//! the same): a TLS handshake record, an HTTP request line or status line, an SSH
//! banner. A connection that shows none of the asked-for protocols is followed no
//! further than its flags.

use super::decode::Decoded;
use super::flow::{self, Tuple};
use super::idle::IdleTable;
use super::{dns, http, ssh, tls};
use crate::event::Event;
use std::collections::BTreeMap;

/// Bounds of the reassembly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSettings {
    /// Connections followed at once; when full, the one idle longest is closed.
    pub max_conns: usize,
    /// Bytes one direction may hold waiting for a hole to fill.
    pub flow_buffer: usize,
    /// Bytes all connections together may hold waiting.
    pub total_buffer: usize,
    /// How long a connection stays after its last packet (Zeek: 5 min).
    pub idle_ns: i64,
}

impl Default for TcpSettings {
    fn default() -> TcpSettings {
        TcpSettings {
            max_conns: 100_000,
            flow_buffer: 256 * 1024,
            total_buffer: 256 * 1024 * 1024,
            idle_ns: 300_000_000_000,
        }
    }
}

/// Which application records are asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Apps {
    /// DNS over TCP (port 53); over UDP it is the DNS tracker's.
    pub dns: bool,
    pub http: bool,
    pub tls: bool,
    pub ssh: bool,
}

impl Apps {
    pub const NONE: Apps = Apps { dns: false, http: false, tls: false, ssh: false };

    pub fn any(&self) -> bool {
        self.dns || self.http || self.tls || self.ssh
    }
}

/// Counts for the summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TcpStats {
    /// Connections whose protocol was recognised.
    pub conns: u64,
    /// Bytes skipped over holes that were never filled.
    pub missed_bytes: u64,
    /// Bytes dropped because the total reassembly limit was reached.
    pub dropped_bytes: u64,
    /// Connections closed early because the table was full.
    pub evicted: u64,
    /// Records written, per protocol.
    pub dns: u64,
    pub http: u64,
    pub tls: u64,
    pub ssh: u64,
    /// Streams a parser gave up on (not the protocol after all, or damaged).
    pub unparsed: u64,
}

/// A protocol's parser over one connection's reassembled streams.
pub(super) trait StreamParser {
    /// In-order bytes from the client or the server; `false` when that direction
    /// turned out not to be the protocol, or is given up.
    fn data(&mut self, client: bool, bytes: &[u8], ts_ns: i64, out: &mut Records) -> bool;
    /// A hole of `len` bytes; `false` when that direction cannot be followed past it.
    fn gap(&mut self, client: bool, len: u64) -> bool;
    /// The connection ended: what is still open is written as it is.
    fn end(&mut self, out: &mut Records);
}

/// The protocols read from TCP streams, for the counts.
#[derive(Debug, Clone, Copy)]
enum Proto {
    Dns,
    Http,
    Tls,
    Ssh,
}

/// The parser a connection's bytes go to.
enum App {
    /// No data yet: the protocol is chosen by the first bytes either side sends.
    Undecided,
    /// Not a protocol asked for: nothing more is read.
    Ignored,
    Parsing(Proto, Box<dyn StreamParser>),
}

impl App {
    fn parser(&mut self) -> Option<&mut dyn StreamParser> {
        match self {
            App::Parsing(_, p) => Some(p.as_mut()),
            App::Undecided | App::Ignored => None,
        }
    }
}

/// What a parser gives back: records, each with its own time.
pub(super) type Records = Vec<Event>;

/// One direction of a connection.
#[derive(Default)]
struct Side {
    /// Sequence number of stream byte 0.
    base: Option<u32>,
    /// The next stream byte to hand on.
    next: u64,
    /// Segments that came early, by stream offset.
    waiting: BTreeMap<u64, Vec<u8>>,
    waiting_bytes: usize,
    missed: u64,
    fin: bool,
    /// The first bytes, while they are too few to tell the protocol.
    probe: Vec<u8>,
}

impl Side {
    /// The stream offset of sequence number `seq`: relative to the next byte expected,
    /// so that the numbers may wrap and streams may pass 4 GB. `None` before the start.
    fn offset(&self, seq: u32) -> Option<u64> {
        let base = self.base?;
        let expected = base.wrapping_add(self.next as u32);
        let delta = i64::from(seq.wrapping_sub(expected) as i32);
        i64::try_from(self.next).ok()?.checked_add(delta).and_then(|o| u64::try_from(o).ok())
    }
}

struct Conn {
    /// The client (the originator) as source.
    tuple: Tuple,
    /// Whether the packet's source is the client is decided by comparing with it.
    client_addr: (std::net::IpAddr, u16),
    sides: [Side; 2],
    app: App,
    rst: bool,
}

/// TCP segments in, application records out.
pub struct Streams {
    settings: TcpSettings,
    apps: Apps,
    conns: IdleTable<Conn>,
    waiting_total: usize,
    pub stats: TcpStats,
}

/// What the reassembly of one segment needs besides its connection.
struct Ctx<'a> {
    settings: TcpSettings,
    apps: Apps,
    waiting_total: &'a mut usize,
    stats: &'a mut TcpStats,
    out: &'a mut Vec<Event>,
}

impl Streams {
    pub fn new(settings: TcpSettings, apps: Apps) -> Streams {
        Streams {
            settings: TcpSettings { max_conns: settings.max_conns.max(1), ..settings },
            apps,
            conns: IdleTable::new(settings.idle_ns),
            waiting_total: 0,
            stats: TcpStats::default(),
        }
    }

    /// One TCP segment, sent at `ts_ns`, with `payload` its captured payload.
    pub fn add(&mut self, d: &Decoded, ts_ns: i64, payload: &[u8], out: &mut Vec<Event>) {
        self.expire(ts_ns, out);
        if d.proto != 6 || !d.has_ports {
            return;
        }
        let (key, _) = flow::key_of(d);
        let (syn, ack, fin, rst) =
            (d.tcp_flags & 0x02 != 0, d.tcp_flags & 0x10 != 0, d.tcp_flags & 0x01 != 0, d.tcp_flags & 0x04 != 0);
        if !self.conns.contains(&key) {
            // Nothing to follow in a connection that has not sent anything yet but flags.
            if payload.is_empty() && !syn {
                return;
            }
            while self.conns.len() >= self.settings.max_conns {
                let Some((conn, last_ns)) = self.conns.pop_oldest() else { break };
                self.close(conn, last_ns, out);
                self.stats.evicted += 1;
            }
            // The SYN's sender is the client; a SYN-ACK's receiver; otherwise the first sender.
            let tuple = if syn && ack { reversed(Tuple::of(d)) } else { Tuple::of(d) };
            let client_addr = (tuple.src, tuple.ports.map_or(0, |(sp, _)| sp));
            let conn =
                Conn { tuple, client_addr, sides: [Side::default(), Side::default()], app: App::Undecided, rst: false };
            self.conns.insert(key, ts_ns, conn);
        }
        let (conns, mut ctx) = self.parts(out);
        let Some(conn) = conns.touch(&key, ts_ns) else { return };
        if matches!(conn.app, App::Ignored) && !(fin || rst) {
            return;
        }
        let side = usize::from((d.src, d.sport) != conn.client_addr);
        let s = &mut conn.sides[side];
        if s.base.is_none() {
            if syn {
                s.base = Some(d.tcp_seq.wrapping_add(1));
            } else if !payload.is_empty() {
                s.base = Some(d.tcp_seq);
            }
        }
        if !payload.is_empty() && !matches!(conn.app, App::Ignored) {
            let seq = if syn { d.tcp_seq.wrapping_add(1) } else { d.tcp_seq };
            segment(conn, side, seq, payload, ts_ns, &mut ctx);
            if matches!(conn.app, App::Ignored) {
                // Not a protocol asked for: nothing of it is kept.
                for s in &mut conn.sides {
                    *ctx.waiting_total = ctx.waiting_total.saturating_sub(s.waiting_bytes);
                    s.waiting = BTreeMap::new();
                    s.waiting_bytes = 0;
                }
            }
        }
        conn.sides[side].fin |= fin;
        conn.rst |= rst;
        if conn.rst || (conn.sides[0].fin && conn.sides[1].fin) {
            if let Some(conn) = self.conns.remove(&key) {
                self.close(conn, ts_ns, out);
            }
        }
    }

    /// The connection table, and the rest for the work on one connection.
    fn parts<'a>(&'a mut self, out: &'a mut Vec<Event>) -> (&'a mut IdleTable<Conn>, Ctx<'a>) {
        let ctx = Ctx {
            settings: self.settings,
            apps: self.apps,
            waiting_total: &mut self.waiting_total,
            stats: &mut self.stats,
            out,
        };
        (&mut self.conns, ctx)
    }

    /// Closes the connections idle for the timeout at packet time `now_ns`.
    pub fn expire(&mut self, now_ns: i64, out: &mut Vec<Event>) {
        let mut idle = Vec::new();
        self.conns.expire(now_ns, |conn, last_ns| idle.push((conn, last_ns)));
        for (conn, last_ns) in idle {
            self.close(conn, last_ns, out);
        }
    }

    /// End of input: every connection still open is closed, oldest first.
    pub fn flush(&mut self, out: &mut Vec<Event>) {
        for (conn, last_ns) in self.conns.drain() {
            self.close(conn, last_ns, out);
        }
    }

    /// Hands on what waits behind holes (counting them as missed), then ends the parser.
    fn close(&mut self, mut conn: Conn, ts_ns: i64, out: &mut Vec<Event>) {
        let (_, mut ctx) = self.parts(out);
        for side in 0..2 {
            let waiting = std::mem::take(&mut conn.sides[side].waiting);
            for (offset, bytes) in waiting {
                *ctx.waiting_total = ctx.waiting_total.saturating_sub(bytes.len());
                deliver_at(&mut conn, side, offset, &bytes, ts_ns, &mut ctx);
            }
            conn.sides[side].waiting_bytes = 0;
        }
        let mut records = Vec::new();
        if let Some(p) = conn.app.parser() {
            p.end(&mut records);
        }
        finish_records(&conn, records, &mut ctx);
    }
}

/// The records of a parser, with the connection's fields, to the output.
fn finish_records(conn: &Conn, records: Records, ctx: &mut Ctx<'_>) {
    let missed = conn.sides[0].missed + conn.sides[1].missed;
    for mut e in records {
        let mut put = |k: &str, v: serde_json::Value| {
            e.insert(k.to_owned(), v);
        };
        conn.tuple.put(&mut put);
        put("missed_bytes", serde_json::Value::from(missed));
        conn.tuple.put_community_id(&mut put);
        put(crate::event::fields::GUID, serde_json::Value::from(crate::event::new_guid()));
        if let App::Parsing(proto, _) = conn.app {
            *match proto {
                Proto::Dns => &mut ctx.stats.dns,
                Proto::Http => &mut ctx.stats.http,
                Proto::Tls => &mut ctx.stats.tls,
                Proto::Ssh => &mut ctx.stats.ssh,
            } += 1;
        }
        ctx.out.push(e);
    }
}

fn reversed(t: Tuple) -> Tuple {
    Tuple { src: t.dst, dst: t.src, ports: t.ports.map(|(a, b)| (b, a)), ..t }
}

/// One segment's payload for `side`, starting at sequence number `seq`.
fn segment(conn: &mut Conn, side: usize, seq: u32, payload: &[u8], ts_ns: i64, ctx: &mut Ctx<'_>) {
    let Some(offset) = conn.sides[side].offset(seq) else { return };
    let next = conn.sides[side].next;
    if offset.saturating_add(payload.len() as u64) <= next {
        return; // all of it was handed on already
    }
    if offset > next {
        // Early: it waits, unless the limits say otherwise.
        let s = &mut conn.sides[side];
        if s.waiting.get(&offset).is_some_and(|held| held.len() >= payload.len()) {
            return;
        }
        if ctx.waiting_total.saturating_add(payload.len()) > ctx.settings.total_buffer {
            ctx.stats.dropped_bytes += payload.len() as u64;
            return;
        }
        let old = s.waiting.insert(offset, payload.to_vec()).map_or(0, |v| v.len());
        s.waiting_bytes = s.waiting_bytes + payload.len() - old;
        *ctx.waiting_total = *ctx.waiting_total + payload.len() - old;
        if s.waiting_bytes > ctx.settings.flow_buffer {
            // The hole is not going to be filled in time: skip to what waits.
            let first = s.waiting.first_key_value().map(|(&o, _)| o);
            if let Some(first) = first {
                skip_to(conn, side, first, ctx);
            }
            drain(conn, side, ts_ns, ctx);
        }
        return;
    }
    deliver_at(conn, side, offset, payload, ts_ns, ctx);
    drain(conn, side, ts_ns, ctx);
}

/// Hands on the waiting segments that are now in order.
fn drain(conn: &mut Conn, side: usize, ts_ns: i64, ctx: &mut Ctx<'_>) {
    loop {
        let next = conn.sides[side].next;
        let Some((&offset, _)) = conn.sides[side].waiting.first_key_value() else { return };
        if offset > next {
            return;
        }
        let Some(bytes) = conn.sides[side].waiting.remove(&offset) else { return };
        *ctx.waiting_total = ctx.waiting_total.saturating_sub(bytes.len());
        let s = &mut conn.sides[side];
        s.waiting_bytes = s.waiting_bytes.saturating_sub(bytes.len());
        deliver_at(conn, side, offset, &bytes, ts_ns, ctx);
    }
}

/// Skips a hole: the bytes up to `offset` are counted as missed and the parser told.
fn skip_to(conn: &mut Conn, side: usize, offset: u64, ctx: &mut Ctx<'_>) {
    let s = &mut conn.sides[side];
    if offset <= s.next {
        return;
    }
    let gap = offset - s.next;
    s.missed += gap;
    s.next = offset;
    ctx.stats.missed_bytes += gap;
    let client = side == 0;
    let ok = conn.app.parser().is_none_or(|p| p.gap(client, gap));
    if !ok {
        ctx.stats.unparsed += 1;
    }
}

/// Bytes of `side` that start at stream `offset`, at or before the next byte (a hole
/// before them, at the end of a connection, is skipped first).
fn deliver_at(conn: &mut Conn, side: usize, offset: u64, bytes: &[u8], ts_ns: i64, ctx: &mut Ctx<'_>) {
    skip_to(conn, side, offset, ctx);
    let next = conn.sides[side].next;
    let skip = usize::try_from(next - offset.min(next)).unwrap_or(usize::MAX);
    let Some(fresh) = bytes.get(skip..).filter(|b| !b.is_empty()) else { return };
    conn.sides[side].next = next + fresh.len() as u64;
    let client = side == 0;
    if !matches!(conn.app, App::Undecided) {
        feed(conn, client, fresh, ts_ns, ctx);
        return;
    }
    // The protocol is told by the first bytes, gathered until there are enough.
    conn.sides[side].probe.extend_from_slice(fresh);
    conn.app = if ctx.apps.dns && conn.tuple.ports.is_some_and(|(_, p)| p == 53) {
        App::Parsing(Proto::Dns, Box::<dns::DnsStream>::default())
    } else {
        choose(&conn.sides[side].probe, client, ctx.apps)
    };
    match conn.app {
        App::Undecided => {}
        App::Ignored => conn.sides.iter_mut().for_each(|s| s.probe = Vec::new()),
        _ => {
            ctx.stats.conns += 1;
            // The other side's first bytes came before these.
            for s in [1 - side, side] {
                let probe = std::mem::take(&mut conn.sides[s].probe);
                if !probe.is_empty() {
                    feed(conn, s == 0, &probe, ts_ns, ctx);
                }
            }
        }
    }
}

/// In-order bytes to the connection's parser, and its records out.
fn feed(conn: &mut Conn, client: bool, bytes: &[u8], ts_ns: i64, ctx: &mut Ctx<'_>) {
    let mut records = Vec::new();
    let ok = conn.app.parser().is_none_or(|p| p.data(client, bytes, ts_ns, &mut records));
    if !ok {
        ctx.stats.unparsed += 1;
    }
    finish_records(conn, records, ctx);
}

/// Bytes that tell a protocol besides HTTP's methods (a TLS handshake record's start,
/// a status line, an SSH banner); a connection whose first bytes are a beginning of
/// one of these waits for more before it is decided.
const SIGNS: [&[u8]; 3] = [b"\x16\x03", b"HTTP/", b"SSH-"];

/// The parser for a connection whose first bytes (from the client, or not) are these;
/// `Undecided` while they are too few to tell.
fn choose(first: &[u8], client: bool, apps: Apps) -> App {
    let begins = |s: &&[u8]| first.len() < s.len() && s.starts_with(first);
    if SIGNS.iter().chain(http::METHODS.iter()).any(begins) {
        return App::Undecided;
    }
    if first.len() == 2 && first == b"\x16\x03" {
        return App::Undecided;
    }
    if apps.tls && tls::looks_like(first) {
        return App::Parsing(Proto::Tls, Box::<tls::Tls>::default());
    }
    if apps.http && ((client && http::looks_like_request(first)) || (!client && first.starts_with(b"HTTP/"))) {
        return App::Parsing(Proto::Http, Box::<http::Http>::default());
    }
    if apps.ssh && first.starts_with(b"SSH-") {
        return App::Parsing(Proto::Ssh, Box::<ssh::Ssh>::default());
    }
    App::Ignored
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(from_client: bool, seq: u32, flags: u8, payload: usize) -> Decoded {
        let (c, s) = ("10.0.0.1", "10.0.0.2");
        let (src, dst, sport, dport) = if from_client { (c, s, 40000, 80) } else { (s, c, 80, 40000) };
        Decoded {
            tcp_flags: flags,
            ip_len: 40 + payload as u32,
            payload_len: payload as u32,
            tcp_seq: seq,
            ..Decoded::between(src, sport, dst, dport, 6)
        }
    }

    const ACK: u8 = 0x10;

    /// Sends `data` from the client in pieces (start, end) in the order given, after a
    /// handshake with ISN `isn`, and the server's reply; the HTTP records.
    fn run(settings: TcpSettings, isn: u32, data: &[u8], pieces: &[(usize, usize)]) -> (Vec<Event>, TcpStats) {
        let apps = Apps { dns: true, http: true, tls: true, ssh: true };
        let mut st = Streams::new(settings, apps);
        let mut out = Vec::new();
        st.add(&seg(true, isn, 0x02, 0), 0, &[], &mut out);
        st.add(&seg(false, 7, 0x12, 0), 1, &[], &mut out);
        for (i, &(a, b)) in pieces.iter().enumerate() {
            let d = seg(true, isn.wrapping_add(1).wrapping_add(a as u32), ACK, b - a);
            st.add(&d, 2 + i as i64, &data[a..b], &mut out);
        }
        let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        st.add(&seg(false, 8, ACK, reply.len()), 100, reply, &mut out);
        st.flush(&mut out);
        (out, st.stats)
    }

    const REQ: &[u8] = b"GET /one HTTP/1.1\r\nHost: a.test\r\n\r\n";

    #[test]
    fn out_of_order_retransmitted_and_overlapping_segments_make_the_stream() {
        // In order, out of order, a retransmission, an overlap, across the 2^32 wrap.
        let orders: [&[(usize, usize)]; 4] = [
            &[(0, 10), (10, 20), (20, 35)],
            &[(20, 35), (0, 10), (10, 20)],
            &[(0, 10), (0, 10), (10, 35), (10, 20)],
            &[(0, 12), (5, 25), (20, 35)],
        ];
        for isn in [1000, u32::MAX - 15] {
            for pieces in orders {
                let (out, stats) = run(TcpSettings::default(), isn, REQ, pieces);
                assert_eq!(out.len(), 1, "{pieces:?}: {out:?}");
                assert_eq!(out[0]["uri"], "/one");
                assert_eq!(out[0]["status_code"], 200);
                assert_eq!(out[0]["missed_bytes"], 0);
                assert_eq!(out[0]["ip_src_port"], 40000, "the SYN's sender is the source");
                assert_eq!(stats.missed_bytes, 0);
            }
        }
    }

    #[test]
    fn a_hole_past_the_flow_limit_is_skipped_and_counted() {
        let mut data = REQ.to_vec();
        data.extend_from_slice(b"GET /two HTTP/1.1\r\nHost: a.test\r\n\r\n");
        let settings = TcpSettings { flow_buffer: 16, ..TcpSettings::default() };
        // The first request's bytes 5..10 never come.
        let (out, stats) = run(settings, 1, &data, &[(0, 5), (10, 35), (35, data.len())]);
        assert_eq!(stats.missed_bytes, 5);
        // The first request is lost with its head; what follows is not read as HTTP.
        assert!(out.iter().all(|e| e.get("uri").and_then(serde_json::Value::as_str) != Some("/one")), "{out:?}");
        assert!(stats.unparsed >= 1);
    }

    #[test]
    fn the_total_limit_drops_and_counts() {
        let settings = TcpSettings { total_buffer: 8, ..TcpSettings::default() };
        let (_, stats) = run(settings, 1, REQ, &[(20, 35), (0, 10), (10, 20)]);
        assert_eq!(stats.dropped_bytes, 15);
    }

    #[test]
    fn a_full_table_closes_the_oldest() {
        let settings = TcpSettings { max_conns: 1, ..TcpSettings::default() };
        let mut st = Streams::new(settings, Apps { http: true, ..Apps::NONE });
        let mut out = Vec::new();
        st.add(&seg(true, 1, ACK, REQ.len()), 0, REQ, &mut out);
        let mut other = seg(true, 1, ACK, REQ.len());
        other.sport = 40001;
        st.add(&other, 1, REQ, &mut out);
        assert_eq!(st.stats.evicted, 1);
        assert_eq!(out.len(), 1, "the first connection's request, unanswered");
        st.flush(&mut out);
        assert_eq!(out.len(), 2);
    }
}
