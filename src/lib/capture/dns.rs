//! DNS transactions read from packets (`metron capture --emit dns`): one record per
//! query and its reply, with the fields and the rules of Zeek's dns.log, so that
//! hunts, Sigma rules and `label`/`alert` settings written for Zeek's DNS logs work on
//! a capture alone.
//!
//! What follows Zeek (scripts/base/protocols/dns/main.zeek and the DNS analyzer):
//! - a query and a reply are one transaction when they share the 5-tuple and the
//!   transaction id; queries wait in arrival order (a retransmitted query that is not
//!   answered gets its own record), and so do replies seen before their query;
//! - `ts` is the first message's time; `query` is the question's name in lower case
//!   (for a reply without its query, the first answer's owner name); `qclass`,
//!   `qtype`, `RD`, `TC` and `Z` come from the query, `rcode` from the reply, and `AA`,
//!   `RA` and `rtt` only from a reply that has answers;
//! - `answers` and `TTLs` come from the answer section only, written as Zeek writes
//!   each type (an address, a name, `TXT <len> <text>`, `<unknown type=N>`, ...);
//! - `rejected` is a reply that has no records at all, or an error without a question;
//! - a transaction still waiting when its 5-tuple has been idle for the UDP timeout,
//!   or at the end of the input, is written as it is (a query without its reply, or
//!   a reply without its query).
//!
//! Departures: only UDP (DNS over TCP needs stream reassembly, not done yet); NetBIOS
//! name service (port 137) is not read; the originator is the first message's sender
//! (as in metron's flow records) where Zeek turns round a UDP "connection" whose first
//! packet comes from a well-known port.
//!
//! The wire format is read with hickory-proto (names, compression pointers and record
//! data), one record at a time, so that a damaged record keeps what came before it.

use super::decode::Decoded;
use super::flow::{self, Tuple};
use super::idle::IdleTable;
use super::tcp::StreamParser;
use crate::event::{event_with_capacity, fields, new_guid, Event};
use crate::text::push_escaped;
use hickory_proto::op::Query;
use hickory_proto::rr::{Name, RData, Record};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};
use serde_json::Value;
use std::collections::VecDeque;

/// UDP ports read as DNS: DNS, multicast DNS and LLMNR.
const PORTS: [u16; 3] = [53, 5353, 5355];

/// Bounds and timeouts of the transaction table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsSettings {
    /// 5-tuples followed at once; when full, the one idle longest is written out.
    pub max_conns: usize,
    /// Queries (and replies) waiting per 5-tuple; past it the oldest is written out
    /// unanswered (Zeek's `max_pending_msgs` is 50).
    pub max_pending: usize,
    /// How long a 5-tuple stays after its last message (Zeek's UDP timeout, 1 min).
    pub idle_ns: i64,
}

impl Default for DnsSettings {
    fn default() -> DnsSettings {
        DnsSettings { max_conns: 100_000, max_pending: 50, idle_ns: 60_000_000_000 }
    }
}

/// Counts for the summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DnsStats {
    /// Messages read (a header at least).
    pub messages: u64,
    /// Payloads on DNS ports too short for a DNS header.
    pub unreadable: u64,
    /// Messages whose question or answers could not be read to the end: what was
    /// read before the damage is kept.
    pub damaged: u64,
    /// Transaction records written.
    pub records: u64,
    /// 5-tuples written out early because the table was full.
    pub evicted: u64,
}

/// Whether a decoded packet is a DNS message this module reads.
pub fn is_dns(d: &Decoded) -> bool {
    d.proto == 17 && d.has_ports && (PORTS.contains(&d.sport) || PORTS.contains(&d.dport))
}

/// The 12-byte DNS header.
#[derive(Debug, Clone, Copy)]
struct Header {
    id: u16,
    response: bool,
    opcode: u8,
    aa: bool,
    tc: bool,
    rd: bool,
    ra: bool,
    /// Zeek's Z: the three bits after RA (the reserved bit, AD and CD).
    z: u8,
    rcode: u8,
    questions: u16,
    answers: u16,
    authority: u16,
    additional: u16,
}

impl Header {
    fn read(b: &[u8]) -> Option<Header> {
        let h = b.get(..12)?;
        let be16 = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
        let (f1, f2) = (h[2], h[3]);
        Some(Header {
            id: be16(0),
            response: f1 & 0x80 != 0,
            opcode: (f1 >> 3) & 0x0f,
            aa: f1 & 0x04 != 0,
            tc: f1 & 0x02 != 0,
            rd: f1 & 0x01 != 0,
            ra: f2 & 0x80 != 0,
            z: (f2 >> 4) & 0x07,
            rcode: f2 & 0x0f,
            questions: be16(4),
            answers: be16(6),
            authority: be16(8),
            additional: be16(10),
        })
    }
}

/// One transaction as it is being put together.
#[derive(Debug, Default)]
struct Txn {
    ts_ns: i64,
    trans_id: u16,
    opcode: u8,
    saw_query: bool,
    saw_reply: bool,
    query: Option<String>,
    qclass: Option<u16>,
    qtype: Option<u16>,
    rcode: Option<u8>,
    aa: bool,
    tc: bool,
    rd: bool,
    ra: bool,
    z: u8,
    rtt_ns: Option<i64>,
    answers: Vec<String>,
    ttls: Vec<u32>,
    rejected: bool,
}

struct Conn {
    /// The first message's sender as source.
    tuple: Tuple,
    waiting: Waiting,
}

/// Queries waiting for a reply, and replies waiting for their query, in arrival order:
/// the transactions of one 5-tuple (UDP) or one connection (TCP).
#[derive(Debug, Default)]
struct Waiting {
    queries: VecDeque<Txn>,
    replies: VecDeque<Txn>,
}

impl Waiting {
    /// A message (its header read) to its transaction: the transactions it completes,
    /// or pushes out.
    fn message(
        &mut self,
        h: &Header,
        payload: &[u8],
        ts_ns: i64,
        max_pending: usize,
        stats: &mut DnsStats,
    ) -> Vec<Txn> {
        stats.messages += 1;
        let (message, damaged) = Message::read(h, payload);
        if damaged {
            stats.damaged += 1;
        }
        if h.response {
            let mut t = take(&mut self.queries, h.id, ts_ns, h);
            reply(&mut t, h, &message, ts_ns);
            park(t, &mut self.replies, max_pending)
        } else {
            let mut t = take(&mut self.replies, h.id, ts_ns, h);
            query(&mut t, h, &message);
            park(t, &mut self.queries, max_pending)
        }
    }

    /// Everything still waiting, queries first.
    fn drain(&mut self) -> Vec<Txn> {
        self.queries.drain(..).chain(self.replies.drain(..)).collect()
    }
}

/// DNS messages in, transaction records out.
pub struct DnsTracker {
    settings: DnsSettings,
    conns: IdleTable<Conn>,
    pub stats: DnsStats,
}

impl DnsTracker {
    pub fn new(settings: DnsSettings) -> DnsTracker {
        DnsTracker {
            settings: DnsSettings {
                max_conns: settings.max_conns.max(1),
                max_pending: settings.max_pending.max(1),
                ..settings
            },
            conns: IdleTable::new(settings.idle_ns),
            stats: DnsStats::default(),
        }
    }

    /// One UDP payload on a DNS port, sent at `ts_ns`: records of the transactions it
    /// completes (and of any it pushes out) go to `out`.
    pub fn add(&mut self, d: &Decoded, ts_ns: i64, payload: &[u8], out: &mut Vec<Event>) {
        self.expire(ts_ns, out);
        let Some(h) = Header::read(payload) else {
            self.stats.unreadable += 1;
            return;
        };
        let (key, _) = flow::key_of(d);
        if !self.conns.contains(&key) {
            while self.conns.len() >= self.settings.max_conns {
                let Some((conn, _)) = self.conns.pop_oldest() else { break };
                self.close(conn, out);
                self.stats.evicted += 1;
            }
            let conn = Conn { tuple: Tuple::of(d), waiting: Waiting::default() };
            self.conns.insert(key, ts_ns, conn);
        }
        let Some(conn) = self.conns.touch(&key, ts_ns) else { return };
        let done = conn.waiting.message(&h, payload, ts_ns, self.settings.max_pending, &mut self.stats);
        let tuple = conn.tuple;
        for t in done {
            out.push(self.record(&tuple, t));
        }
    }

    /// Writes out the 5-tuples idle for the timeout at packet time `now_ns`.
    pub fn expire(&mut self, now_ns: i64, out: &mut Vec<Event>) {
        let mut idle = Vec::new();
        self.conns.expire(now_ns, |conn, _| idle.push(conn));
        for conn in idle {
            self.close(conn, out);
        }
    }

    /// End of input: every transaction still waiting is written, 5-tuples in the
    /// order they were first seen.
    pub fn flush(&mut self, out: &mut Vec<Event>) {
        for (conn, _) in self.conns.drain() {
            self.close(conn, out);
        }
    }

    fn close(&mut self, mut conn: Conn, out: &mut Vec<Event>) {
        for t in conn.waiting.drain() {
            out.push(self.record(&conn.tuple, t));
        }
    }

    fn record(&mut self, tuple: &Tuple, t: Txn) -> Event {
        self.stats.records += 1;
        record(tuple, t)
    }
}

/// The first transaction of the other kind (`other`: the queries for a reply, the
/// replies for a query) waiting with this id, or a new one. A query whose id is
/// already waiting is a retransmission: it starts a transaction of its own.
fn take(other: &mut VecDeque<Txn>, id: u16, ts_ns: i64, h: &Header) -> Txn {
    match other.iter().position(|t| t.trans_id == id) {
        Some(i) => other.remove(i).unwrap_or_default(),
        None => Txn { ts_ns, trans_id: id, opcode: h.opcode, ..Txn::default() },
    }
}

/// A transaction with both halves is done; one still missing its other half waits
/// (and pushes the oldest waiting one out when `queue` is full).
fn park(t: Txn, queue: &mut VecDeque<Txn>, max_pending: usize) -> Vec<Txn> {
    if t.saw_query && t.saw_reply {
        return vec![t];
    }
    let mut done = Vec::new();
    while queue.len() >= max_pending {
        done.extend(queue.pop_front());
    }
    queue.push_back(t);
    done
}

/// What a message holds past its header: its first question, and its answer
/// section's records.
struct Message {
    question: Option<Query>,
    answers: Vec<Record>,
}

impl Message {
    /// Reads as much as can be read; `true` when something could not be.
    fn read(h: &Header, payload: &[u8]) -> (Message, bool) {
        let mut m = Message { question: None, answers: Vec::new() };
        let mut dec = BinDecoder::new(payload);
        if dec.read_slice(12).is_err() {
            return (m, true);
        }
        for i in 0..h.questions {
            match Query::read(&mut dec) {
                Ok(q) if i == 0 => m.question = Some(q),
                Ok(_) => {}
                Err(_) => return (m, true),
            }
        }
        if !h.response {
            return (m, false);
        }
        for _ in 0..h.answers {
            match Record::read(&mut dec) {
                Ok(r) => m.answers.push(r),
                Err(_) => return (m, true),
            }
        }
        (m, false)
    }
}

/// What Zeek's `dns_request` sets.
fn query(t: &mut Txn, h: &Header, m: &Message) {
    t.saw_query = true;
    t.rd = h.rd;
    t.tc = h.tc;
    t.z = h.z;
    if let Some(q) = &m.question {
        t.qclass = Some(u16::from(q.query_class()));
        t.qtype = Some(u16::from(q.query_type()));
        t.query = Some(name_text(q.name()).to_ascii_lowercase());
    }
}

/// What Zeek sets from a reply: the rcode, `rejected`, and per answer record the
/// query name (when not known), AA, RA, the round trip and the answer.
fn reply(t: &mut Txn, h: &Header, m: &Message, ts_ns: i64) {
    t.saw_reply = true;
    t.rcode = Some(h.rcode);
    if h.rcode != 0 && h.questions == 0 {
        t.rejected = true;
    }
    if h.questions > 0 && h.answers == 0 && h.authority == 0 && h.additional == 0 {
        t.rejected = true;
    }
    for r in &m.answers {
        let Some(text) = answer_text(r) else { continue };
        if t.query.is_none() {
            t.query = Some(name_text(&r.name).to_ascii_lowercase());
        }
        t.aa = h.aa;
        t.ra = h.ra;
        if t.rtt_ns.is_none() {
            // A round trip of nothing means only the reply was seen.
            t.rtt_ns = Some(ts_ns.saturating_sub(t.ts_ns)).filter(|&r| r != 0);
        }
        if !text.is_empty() {
            t.answers.push(text);
            t.ttls.push(r.ttl);
        }
    }
}

/// A name as Zeek writes it: labels joined by dots, no final dot, bytes outside
/// printable ASCII as `\xNN`.
fn name_text(name: &Name) -> String {
    let mut s = String::new();
    for (i, label) in name.iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        push_escaped(&mut s, label);
    }
    s
}

/// An answer as Zeek's dns.log writes it; `None` for the types Zeek reads but does
/// not log (HINFO, CAA, SVCB, HTTPS, OPT, TSIG), which then set nothing either.
fn answer_text(r: &Record) -> Option<String> {
    let strings = |kind: &str, parts: &[&[u8]]| {
        let mut s = String::new();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(&format!("{kind} {} ", p.len()));
            push_escaped(&mut s, p);
        }
        s
    };
    Some(match &r.data {
        RData::A(a) => a.0.to_string(),
        RData::AAAA(a) => a.0.to_string(),
        RData::NS(n) => name_text(&n.0),
        RData::CNAME(n) => name_text(&n.0),
        RData::PTR(n) => name_text(&n.0),
        RData::MX(mx) => name_text(&mx.exchange),
        RData::SOA(soa) => name_text(&soa.mname),
        RData::SRV(srv) => name_text(&srv.target),
        RData::TXT(txt) => strings("TXT", &txt.txt_data.iter().map(|p| &p[..]).collect::<Vec<_>>()),
        RData::SSHFP(f) => {
            format!("SSHFP: {}", f.fingerprint.iter().map(|b| format!("{b:02x}")).collect::<String>())
        }
        RData::HINFO(_) | RData::CAA(_) | RData::SVCB(_) | RData::HTTPS(_) | RData::OPT(_) | RData::TSIG(_) => {
            return None
        }
        RData::Unknown { code, rdata } => {
            let code = u16::from(*code);
            let b = &rdata.anything[..];
            let byte = |i: usize| b.get(i).copied().unwrap_or(0);
            match code {
                11 => String::new(), // WKS: logged with no text
                13 | 257 | 64 | 65 => return None,
                99 => strings("SPF", &character_strings(b)),
                43 => format!("DS {} {}", byte(2), byte(3)),
                48 => format!("DNSKEY {}", byte(3)),
                46 => {
                    let covered = b.get(..2).map_or(0, |c| u16::from_be_bytes([c[0], c[1]]));
                    let signer = b.get(18..).and_then(plain_name).unwrap_or_default();
                    format!("RRSIG {covered} {}", if signer.is_empty() { "<Root>" } else { &signer })
                }
                47 => format!("NSEC {} {}", name_text(&r.name), plain_name(b).unwrap_or_default()),
                50 => "NSEC3".into(),
                51 => "NSEC3PARAM".into(),
                29 => format!("LOC:  {} {} {}", byte(1), byte(2), byte(3)),
                65534 => "BIND9 signing signal".into(),
                _ => format!("<unknown type={code}>"),
            }
        }
        _ => format!("<unknown type={}>", u16::from(r.record_type())),
    })
}

/// `<character-string>`s (a length byte, then that many bytes) up to the end.
fn character_strings(mut b: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    while let Some((&len, rest)) = b.split_first() {
        let n = usize::from(len).min(rest.len());
        parts.push(&rest[..n]);
        b = &rest[n..];
    }
    parts
}

/// An uncompressed name (as RRSIG's signer and NSEC's next name are) at the start of
/// `b`; `None` when it runs past the end or uses a pointer.
fn plain_name(b: &[u8]) -> Option<String> {
    let mut s = String::new();
    let mut at = 0;
    loop {
        let len = usize::from(*b.get(at)?);
        if len == 0 {
            return Some(s);
        }
        if len > 63 {
            return None;
        }
        let label = b.get(at + 1..at + 1 + len)?;
        if !s.is_empty() {
            s.push('.');
        }
        push_escaped(&mut s, label);
        at += 1 + len;
    }
}

fn qtype_name(t: u16) -> String {
    const NAMES: &[(u16, &str)] = &[
        (1, "A"),
        (2, "NS"),
        (5, "CNAME"),
        (6, "SOA"),
        (10, "NULL"),
        (11, "WKS"),
        (12, "PTR"),
        (13, "HINFO"),
        (15, "MX"),
        (16, "TXT"),
        (17, "RP"),
        (18, "AFSDB"),
        (24, "SIG"),
        (25, "KEY"),
        (28, "AAAA"),
        (29, "LOC"),
        (33, "SRV"),
        (35, "NAPTR"),
        (36, "KX"),
        (37, "CERT"),
        (38, "A6"),
        (39, "DNAME"),
        (41, "OPT"),
        (42, "APL"),
        (43, "DS"),
        (44, "SSHFP"),
        (45, "IPSECKEY"),
        (46, "RRSIG"),
        (47, "NSEC"),
        (48, "DNSKEY"),
        (49, "DHCID"),
        (50, "NSEC3"),
        (51, "NSEC3PARAM"),
        (52, "TLSA"),
        (53, "SMIMEA"),
        (55, "HIP"),
        (59, "CDS"),
        (60, "CDNSKEY"),
        (61, "OPENPGPKEY"),
        (62, "CSYNC"),
        (63, "ZONEMD"),
        (64, "SVCB"),
        (65, "HTTPS"),
        (99, "SPF"),
        (249, "TKEY"),
        (250, "TSIG"),
        (251, "IXFR"),
        (252, "AXFR"),
        (253, "MAILB"),
        (254, "MAILA"),
        (255, "*"),
        (256, "URI"),
        (257, "CAA"),
        (32768, "TA"),
        (32769, "DLV"),
    ];
    match NAMES.binary_search_by_key(&t, |&(n, _)| n) {
        Ok(i) => NAMES[i].1.to_owned(),
        Err(_) => format!("query-{t}"),
    }
}

fn qclass_name(c: u16) -> String {
    match c {
        1 => "C_INTERNET".into(),
        2 => "C_CSNET".into(),
        3 => "C_CHAOS".into(),
        4 => "C_HESIOD".into(),
        254 => "C_NONE".into(),
        255 => "C_ANY".into(),
        _ => format!("qclass-{c}"),
    }
}

fn rcode_name(r: u8) -> String {
    const NAMES: [&str; 11] = [
        "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSet", "NOTAUTH",
        "NOTZONE",
    ];
    match NAMES.get(usize::from(r)) {
        Some(n) => (*n).to_owned(),
        None => format!("unassigned-{r}"),
    }
}

fn opcode_name(o: u8) -> String {
    match o {
        0 => "query".into(),
        1 => "iquery".into(),
        2 => "server-status".into(),
        4 => "notify".into(),
        5 => "dynamic-update".into(),
        6 => "dso".into(),
        _ => format!("opcode-{o}"),
    }
}

fn record(tuple: &Tuple, t: Txn) -> Event {
    let mut e = event_with_capacity(32);
    let mut put = |k: &str, v: Value| {
        e.insert(k.to_owned(), v);
    };
    super::flow::put_time(&mut put, t.ts_ns);
    tuple.put(&mut put);
    put_transaction(&mut put, t, "udp");
    tuple.put_community_id(&mut put);
    put(fields::GUID, Value::from(new_guid()));
    e
}

/// A record of DNS over TCP without its connection's fields (the stream adds them).
fn tcp_record(t: Txn) -> Event {
    let mut e = event_with_capacity(32);
    let mut put = |k: &str, v: Value| {
        e.insert(k.to_owned(), v);
    };
    super::flow::put_time(&mut put, t.ts_ns);
    put_transaction(&mut put, t, "tcp");
    e
}

/// Zeek's dns.log fields of a transaction, and the source type.
fn put_transaction(put: &mut impl FnMut(&str, Value), t: Txn, proto: &str) {
    put("proto", Value::from(proto));
    put("trans_id", Value::from(t.trans_id));
    if let Some(rtt) = t.rtt_ns {
        // Zeek's times are microseconds.
        put("rtt", Value::from(rtt.div_euclid(1000) as f64 / 1e6));
    }
    if let Some(q) = t.query {
        put("query", Value::from(q));
    }
    if let Some(c) = t.qclass {
        put("qclass", Value::from(c));
        put("qclass_name", Value::from(qclass_name(c)));
    }
    if let Some(q) = t.qtype {
        put("qtype", Value::from(q));
        put("qtype_name", Value::from(qtype_name(q)));
    }
    if let Some(r) = t.rcode {
        put("rcode", Value::from(r));
        put("rcode_name", Value::from(rcode_name(r)));
    }
    put("AA", Value::from(t.aa));
    put("TC", Value::from(t.tc));
    put("RD", Value::from(t.rd));
    put("RA", Value::from(t.ra));
    put("Z", Value::from(t.z));
    if !t.answers.is_empty() {
        put("answers", Value::from(t.answers));
        put("TTLs", Value::Array(t.ttls.into_iter().map(|ttl| Value::from(f64::from(ttl))).collect()));
    }
    put("rejected", Value::from(t.rejected));
    put("opcode", Value::from(t.opcode));
    put("opcode_name", Value::from(opcode_name(t.opcode)));
    put(fields::SOURCE_TYPE, Value::from("metron.dns"));
}

/// DNS over TCP in one connection (RFC 1035 4.2.2: each message after a two-byte
/// length): transactions paired by id, as over UDP. At most one message (64 KB) is
/// held per direction.
#[derive(Debug, Default)]
pub(super) struct DnsStream {
    bufs: [Vec<u8>; 2],
    broken: [bool; 2],
    waiting: Waiting,
    pub stats: DnsStats,
}

impl StreamParser for DnsStream {
    /// In-order bytes from the client or the server.
    fn data(&mut self, client: bool, bytes: &[u8], ts_ns: i64, out: &mut Vec<Event>) -> bool {
        let side = usize::from(!client);
        if self.broken[side] {
            return false;
        }
        self.bufs[side].extend_from_slice(bytes);
        let mut at = 0;
        loop {
            let buf = &self.bufs[side];
            let Some(len) = buf.get(at..at + 2).map(|b| usize::from(u16::from_be_bytes([b[0], b[1]]))) else { break };
            let Some(msg) = buf.get(at + 2..at + 2 + len) else { break };
            let msg = msg.to_vec();
            at += 2 + len;
            self.message(&msg, ts_ns, out);
        }
        self.bufs[side].drain(..at);
        true
    }

    /// A hole: the framing is lost in that direction.
    fn gap(&mut self, client: bool, _len: u64) -> bool {
        let side = usize::from(!client);
        self.broken[side] = true;
        self.bufs[side] = Vec::new();
        false
    }

    /// The connection ended: transactions still waiting are written as they are.
    fn end(&mut self, out: &mut Vec<Event>) {
        for t in self.waiting.drain() {
            self.stats.records += 1;
            out.push(tcp_record(t));
        }
    }
}

impl DnsStream {
    fn message(&mut self, payload: &[u8], ts_ns: i64, out: &mut Vec<Event>) {
        let Some(h) = Header::read(payload) else {
            self.stats.unreadable += 1;
            return;
        };
        let max_pending = DnsSettings::default().max_pending;
        for t in self.waiting.message(&h, payload, ts_ns, max_pending, &mut self.stats) {
            self.stats.records += 1;
            out.push(tcp_record(t));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn udp(src: &str, sport: u16, dst: &str, dport: u16) -> Decoded {
        Decoded::between(src, sport, dst, dport, 17)
    }

    /// A message built by hand: header, one question, answers of (type, rdata).
    fn message(id: u16, flags: u16, qname: &[&str], answers: &[(u16, u32, Vec<u8>)]) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend(id.to_be_bytes());
        m.extend(flags.to_be_bytes());
        m.extend(1u16.to_be_bytes());
        m.extend((answers.len() as u16).to_be_bytes());
        m.extend([0, 0, 0, 0]);
        for l in qname {
            m.push(l.len() as u8);
            m.extend(l.as_bytes());
        }
        m.push(0);
        m.extend([0, 1, 0, 1]);
        for (rtype, ttl, rdata) in answers {
            m.extend([0xc0, 12]); // the question's name
            m.extend(rtype.to_be_bytes());
            m.extend(1u16.to_be_bytes());
            m.extend(ttl.to_be_bytes());
            m.extend((rdata.len() as u16).to_be_bytes());
            m.extend(rdata);
        }
        m
    }

    #[test]
    fn a_query_and_its_reply_are_one_record_with_the_round_trip() {
        let mut t = DnsTracker::new(DnsSettings::default());
        let mut out = Vec::new();
        let q = message(7, 0x0100, &["Example", "COM"], &[]);
        let r = message(7, 0x8180, &["example", "com"], &[(1, 300, vec![192, 0, 2, 1]), (16, 60, b"\x02hi".to_vec())]);
        t.add(&udp("10.0.0.1", 40000, "10.0.0.53", 53), 1_000_000_000, &q, &mut out);
        assert!(out.is_empty());
        t.add(&udp("10.0.0.53", 53, "10.0.0.1", 40000), 1_000_250_000, &r, &mut out);
        assert_eq!(out.len(), 1);
        let e = &out[0];
        assert_eq!(e["ip_src_addr"], "10.0.0.1");
        assert_eq!(e["ip_dst_port"], 53);
        assert_eq!(e["query"], "example.com");
        assert_eq!(e["qtype_name"], "A");
        assert_eq!(e["rcode_name"], "NOERROR");
        assert_eq!(e["rtt"], 0.00025);
        assert_eq!(e["answers"], serde_json::json!(["192.0.2.1", "TXT 2 hi"]));
        assert_eq!(e["TTLs"], serde_json::json!([300.0, 60.0]));
        assert_eq!(
            (e["RD"].as_bool(), e["RA"].as_bool(), e["rejected"].as_bool()),
            (Some(true), Some(true), Some(false))
        );
    }

    #[test]
    fn a_retransmitted_query_answered_once_leaves_one_unanswered_record() {
        let mut t = DnsTracker::new(DnsSettings::default());
        let mut out = Vec::new();
        let q = message(9, 0x0100, &["a", "b"], &[]);
        let c = udp("10.0.0.1", 40000, "10.0.0.53", 53);
        let s = udp("10.0.0.53", 53, "10.0.0.1", 40000);
        t.add(&c, 0, &q, &mut out);
        t.add(&c, 5_000_000_000, &q, &mut out);
        t.add(&s, 5_080_000_000, &message(9, 0x8180, &["a", "b"], &[(1, 1, vec![1, 2, 3, 4])]), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0]["rtt"], 5.08, "the reply goes with the first query");
        t.flush(&mut out);
        assert_eq!(out.len(), 2);
        assert!(out[1].get("rcode").is_none());
        assert_eq!(t.stats.records, 2);
    }

    #[test]
    fn compression_loops_and_lengths_past_the_end_are_damage_not_hangs() {
        let mut t = DnsTracker::new(DnsSettings::default());
        let mut out = Vec::new();
        let c = udp("10.0.0.1", 40000, "10.0.0.53", 53);
        let s = udp("10.0.0.53", 53, "10.0.0.1", 40000);
        t.add(&c, 0, &message(7, 0x0100, &["a", "b"], &[]), &mut out);
        // A reply whose answer's name points at itself, then one whose record data
        // claims more bytes than the message has.
        let mut looped = message(7, 0x8180, &["a", "b"], &[]);
        looped[7] = 1;
        let at = looped.len() as u8;
        looped.extend([0xc0, at, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4]);
        t.add(&s, 1_000_000, &looped, &mut out);
        let mut long = message(8, 0x8180, &["a", "b"], &[(1, 60, vec![1, 2, 3, 4])]);
        let n = long.len();
        long[n - 6..n - 4].copy_from_slice(&0xfff0u16.to_be_bytes());
        t.add(&s, 2_000_000, &long, &mut out);
        assert_eq!(t.stats.damaged, 2);
        t.flush(&mut out);
        assert_eq!(out.len(), 2, "the first reply answers its query; the second waits alone");
        assert_eq!(out[0]["query"], "a.b");
        assert!(out[0].get("answers").is_none(), "nothing of the looping record is kept");
    }

    #[test]
    fn the_table_is_bounded() {
        let settings = DnsSettings { max_conns: 10, max_pending: 3, idle_ns: 60_000_000_000 };
        let mut t = DnsTracker::new(settings);
        let mut out = Vec::new();
        for i in 0..100u16 {
            let q = message(i, 0x0100, &["x"], &[]);
            t.add(&udp("10.0.0.1", 1000 + i, "10.0.0.53", 53), i64::from(i), &q, &mut out);
            t.add(&udp("10.0.0.2", 2000, "10.0.0.53", 53), i64::from(i), &q, &mut out);
        }
        assert!(t.conns.len() <= 10);
        assert!(t.conns.values().all(|c| c.waiting.queries.len() <= 3));
        t.flush(&mut out);
        assert_eq!(out.len(), 200, "every query is written, none lost");
    }

    #[test]
    fn idle_tuples_are_written_at_the_timeout() {
        let mut t = DnsTracker::new(DnsSettings::default());
        let mut out = Vec::new();
        t.add(&udp("10.0.0.1", 5353, "224.0.0.251", 5353), 0, &message(0, 0x0000, &["x", "local"], &[]), &mut out);
        t.expire(59_000_000_000, &mut out);
        assert!(out.is_empty());
        t.expire(61_000_000_000, &mut out);
        assert_eq!(out.len(), 1);
        assert!(t.conns.is_empty());
    }

    proptest! {
        #[test]
        fn arbitrary_payloads_never_panic(payload in proptest::collection::vec(any::<u8>(), 0..600), response in any::<bool>()) {
            let mut t = DnsTracker::new(DnsSettings::default());
            let mut out = Vec::new();
            let mut p = payload;
            if p.len() > 2 && response {
                p[2] |= 0x80;
            }
            t.add(&udp("10.0.0.1", 40000, "10.0.0.53", 53), 0, &p, &mut out);
            t.add(&udp("10.0.0.53", 53, "10.0.0.1", 40000), 1, &p, &mut out);
            t.flush(&mut out);
        }
    }
}
