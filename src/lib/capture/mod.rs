//! `metron capture`: packets from pcap/pcapng files (pure Rust) or, with the `live`
//! feature, from a network interface (libpcap), decoded, reassembled and turned into
//! flow records or packet records; optionally written back out as rotated pcap files
//! whose positions the records carry. `metron extract` reads those files back.
//!
//! The pieces: `reader` (files), `decode` (headers), `defrag` (fragments), `flow`
//! (the flow table), `writer` (`--write`), `extract`, `synth` (`metron generate
//! pcap`) and `live`. [`Engine`] puts them together for one packet at a time, so that
//! files and interfaces go the same way.

pub mod decode;
mod defrag;
pub mod dns;
pub mod extract;
pub mod flow;
mod http;
mod idle;
#[cfg(feature = "live")]
pub mod live;
pub mod reader;
mod ssh;
pub mod synth;
pub mod tcp;
mod tls;
pub mod writer;

use crate::driver::{self, Feed, Outcome, Outputs, Processor, RunError, Source};
use crate::error::{error_record, ErrorType};
use crate::event::{event_with_capacity, fields, new_guid, Event};
use crate::io::{self, InputSpec, Output};
use decode::{app_payload, decode, Decoded, Packet};
use defrag::{Datagram, Defrag};
use flow::{Finished, FlowTable, Seen, TableSettings};
use reader::{read_packets, Next, RawPacket};
use serde_json::Value;
use std::path::PathBuf;
use writer::{PcapWriter, WriteSettings};

/// What `metron capture` writes: any of these, in one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Emit {
    /// Bidirectional flow records (`source.type` = `metron.flow`).
    pub flows: bool,
    /// One record per packet (`source.type` = `metron.packet`).
    pub packets: bool,
    /// Application records: DNS transactions (`metron.dns`, over UDP by the DNS
    /// tracker, over TCP from the streams), and from reassembled TCP streams
    /// `metron.http`, `metron.tls`, `metron.ssh`.
    pub apps: tcp::Apps,
}

impl Emit {
    pub const NONE: Emit = Emit { flows: false, packets: false, apps: tcp::Apps::NONE };
    pub const FLOWS: Emit = Emit { flows: true, ..Emit::NONE };
    pub const PACKETS: Emit = Emit { packets: true, ..Emit::NONE };
    /// The names `--emit` and `[capture] emit` take.
    pub const NAMES: [&'static str; 6] = ["flows", "packets", "dns", "http", "tls", "ssh"];

    /// `flows,dns`: names separated by commas.
    pub fn parse(list: &str) -> Result<Emit, String> {
        let mut emit = Emit::NONE;
        for name in list.split(',').map(str::trim) {
            match name {
                "flows" => emit.flows = true,
                "packets" => emit.packets = true,
                "dns" => emit.apps.dns = true,
                "http" => emit.apps.http = true,
                "tls" => emit.apps.tls = true,
                "ssh" => emit.apps.ssh = true,
                _ => return Err(format!("{name:?} is not a record kind: use {}", Emit::NAMES.join(", "))),
            }
        }
        Ok(emit)
    }
}

impl Default for Emit {
    fn default() -> Emit {
        Emit::FLOWS
    }
}

/// `[capture]` in `metron.toml`; the flags of `metron capture` override it. Durations
/// as `5m`, sizes as `256M`.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureConfig {
    /// `flows` (default), `packets`, `dns`, `http`, `tls`, `ssh`, or several: `flows,dns,tls`.
    pub emit: Option<String>,
    /// Bytes one direction of a TCP connection may hold waiting for a hole to fill,
    /// and all connections together (`256K`, `256M`).
    pub reassembly_flow: Option<String>,
    pub reassembly_total: Option<String>,
    pub max_flows: Option<usize>,
    pub tcp_timeout: Option<String>,
    pub udp_timeout: Option<String>,
    pub other_timeout: Option<String>,
    pub active_timeout: Option<String>,
    /// Directory for `--write` (relative to the config file).
    pub write: Option<PathBuf>,
    pub rotate_size: Option<String>,
    pub rotate_seconds: Option<u64>,
    pub compress: Option<bool>,
    /// Live capture: the interface, a BPF filter, snap length, promiscuous mode, and
    /// how often libpcap's counts are reported.
    pub interface: Option<String>,
    pub filter: Option<String>,
    pub snaplen: Option<i32>,
    pub promisc: Option<bool>,
    pub stats_interval: Option<String>,
}

impl CaptureConfig {
    /// Every problem in the section, each naming its key.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(Err(e)) = self.emit.as_deref().map(Emit::parse) {
            problems.push(format!("emit: {e}"));
        }
        if self.max_flows == Some(0) {
            problems.push("max_flows must be at least 1".into());
        }
        let durations = [
            ("tcp_timeout", &self.tcp_timeout),
            ("udp_timeout", &self.udp_timeout),
            ("other_timeout", &self.other_timeout),
            ("active_timeout", &self.active_timeout),
            ("stats_interval", &self.stats_interval),
        ];
        for (key, value) in durations {
            if let Some(Err(e)) = value.as_deref().map(crate::event::parse_duration) {
                problems.push(format!("{key}: {e}"));
            }
        }
        let sizes = [
            ("rotate_size", &self.rotate_size),
            ("reassembly_flow", &self.reassembly_flow),
            ("reassembly_total", &self.reassembly_total),
        ];
        for (key, value) in sizes {
            if let Some(Err(e)) = value.as_deref().map(crate::io::parse_size) {
                problems.push(format!("{key}: {e}"));
            }
        }
        if self.snaplen.is_some_and(|s| s <= 0) {
            problems.push("snaplen must be at least 1".into());
        }
        problems
    }
}

/// Everything a capture needs besides its inputs.
#[derive(Debug, Clone)]
pub struct CaptureSettings {
    pub emit: Emit,
    pub table: TableSettings,
    pub write: Option<WriteSettings>,
    /// Fragmented datagrams held for reassembly at once.
    pub max_fragmented: usize,
    /// How long a fragmented datagram waits for its pieces (Linux's ipfrag_time: 30 s).
    pub fragment_timeout_ns: i64,
    pub dns: dns::DnsSettings,
    pub tcp: tcp::TcpSettings,
}

impl Default for CaptureSettings {
    fn default() -> CaptureSettings {
        CaptureSettings {
            emit: Emit::FLOWS,
            table: TableSettings::default(),
            write: None,
            max_fragmented: 10_000,
            fragment_timeout_ns: 30_000_000_000,
            dns: dns::DnsSettings::default(),
            tcp: tcp::TcpSettings::default(),
        }
    }
}

/// Counts for the summary: packets = ip + not_ip + unknown_link + malformed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CaptureStats {
    pub files: u64,
    /// Files that could not be read to their end (damage, not a capture).
    pub file_errors: u64,
    pub packets: u64,
    /// Captured bytes.
    pub bytes: u64,
    pub ip: u64,
    /// Frames without IP (ARP, LLDP, ...): filtered on purpose.
    pub not_ip: u64,
    /// Frames of a link type the decoder does not know.
    pub unknown_link: u64,
    /// Frames whose headers could not be read: each an error record.
    pub malformed: u64,
    /// Flow and packet records written.
    pub records: u64,
    pub dns: dns::DnsStats,
    pub tcp: tcp::TcpStats,
    pub flows_evicted: u64,
    pub fragments: u64,
    pub reassembled: u64,
    pub incomplete_datagrams: u64,
    pub written_packets: u64,
    pub written_files: u64,
}

impl CaptureStats {
    pub fn had_errors(&self) -> bool {
        self.file_errors > 0 || self.malformed > 0 || self.unknown_link > 0
    }
}

/// The capture pipeline for one packet at a time.
pub struct Engine {
    emit: Emit,
    table: FlowTable,
    dns: Option<dns::DnsTracker>,
    streams: Option<tcp::Streams>,
    defrag: Defrag,
    writer: Option<PcapWriter>,
    stats: CaptureStats,
    datagrams: Vec<Datagram>,
    finished: Vec<Finished>,
    /// (source, link type) already reported as unknown: one error record each.
    unknown_reported: Vec<(String, i32)>,
}

impl Engine {
    pub fn new(settings: &CaptureSettings) -> std::io::Result<Engine> {
        let writer = match &settings.write {
            Some(w) => Some(PcapWriter::new(w.clone())?),
            None => None,
        };
        Ok(Engine {
            emit: settings.emit,
            table: FlowTable::new(settings.table),
            dns: settings.emit.apps.dns.then(|| dns::DnsTracker::new(settings.dns)),
            streams: settings.emit.apps.any().then(|| tcp::Streams::new(settings.tcp, settings.emit.apps)),
            defrag: Defrag::new(settings.max_fragmented, settings.fragment_timeout_ns),
            writer,
            stats: CaptureStats::default(),
            datagrams: Vec::new(),
            finished: Vec::new(),
            unknown_reported: Vec::new(),
        })
    }

    /// One captured packet of `source`: records to `out`, error records to `errors`.
    pub fn packet(
        &mut self,
        source: &str,
        pkt: &RawPacket<'_>,
        out: &mut Vec<Event>,
        errors: &mut Vec<Event>,
    ) -> std::io::Result<()> {
        self.stats.packets += 1;
        self.stats.bytes += pkt.data.len() as u64;
        let pos = match &mut self.writer {
            Some(w) => Some(w.write(pkt)?),
            None => None,
        };
        let mut seen = Seen { ts_ns: pkt.ts_ns, ip_len: 0, frame_len: pkt.orig_len, pos, number: pkt.number };
        match decode(pkt.linktype, pkt.data) {
            Packet::Ip(d) => {
                self.stats.ip += 1;
                seen.ip_len = d.ip_len;
                self.deliver(&d, &[seen], pkt.data, out);
            }
            Packet::Fragment(d, frag) => {
                self.stats.ip += 1;
                seen.ip_len = d.ip_len;
                let mut done = std::mem::take(&mut self.datagrams);
                self.defrag.add(d, frag, seen, &mut done);
                for dg in done.drain(..) {
                    self.deliver(&dg.decoded, &dg.members, &dg.l4, out);
                }
                self.datagrams = done;
            }
            Packet::NotIp => self.stats.not_ip += 1,
            Packet::UnknownLinkType(lt) => {
                self.stats.unknown_link += 1;
                if !self.unknown_reported.iter().any(|(s, l)| s == source && *l == lt) {
                    self.unknown_reported.push((source.to_owned(), lt));
                    let message = format!(
                        "packet {}: link type {lt} is not one metron decodes (Ethernet, Linux cooked, raw IP, \
                         BSD loopback); its packets are counted, not decoded",
                        pkt.number
                    );
                    errors.push(packet_error(ErrorType::ParserInvalid, &message, source, pkt));
                }
            }
            Packet::Malformed(why) => {
                self.stats.malformed += 1;
                let message = format!("packet {}: headers cannot be read: {why}", pkt.number);
                errors.push(packet_error(ErrorType::ParserInvalid, &message, source, pkt));
            }
        }
        if self.defrag.stats.fragments > 0 {
            let mut done = std::mem::take(&mut self.datagrams);
            self.defrag.expire(pkt.ts_ns, &mut done);
            for dg in done.drain(..) {
                self.deliver(&dg.decoded, &dg.members, &dg.l4, out);
            }
            self.datagrams = done;
        }
        Ok(())
    }

    /// One datagram (one packet, or the fragments of one) to the records asked for;
    /// `bytes` is what `d` was decoded from.
    fn deliver(&mut self, d: &Decoded, seen: &[Seen], bytes: &[u8], out: &mut Vec<Event>) {
        if self.emit.flows {
            self.table.add(d, seen, &mut self.finished);
            self.drain_flows(out);
        }
        if self.emit.packets {
            for (i, s) in seen.iter().enumerate() {
                let e = packet_record(d, s, i == 0, self.writer.as_ref());
                out.push(e);
                self.stats.records += 1;
            }
        }
        // A datagram is there when its last fragment is (Zeek's times, too).
        let Some(ts_ns) = seen.iter().map(|s| s.ts_ns).max() else { return };
        if let Some(tracker) = &mut self.dns {
            // (A datagram given up on has no payload to read.)
            let payload = app_payload(d, bytes);
            if dns::is_dns(d) && !payload.is_empty() {
                tracker.add(d, ts_ns, payload, out);
            } else {
                tracker.expire(ts_ns, out);
            }
        }
        if let Some(streams) = &mut self.streams {
            if d.proto == 6 {
                streams.add(d, ts_ns, app_payload(d, bytes), out);
            } else {
                streams.expire(ts_ns, out);
            }
        }
    }

    fn drain_flows(&mut self, out: &mut Vec<Event>) {
        for (mut e, positions) in self.finished.drain(..) {
            if let Some(w) = &self.writer {
                add_positions(&mut e, &positions, w);
            }
            out.push(e);
            self.stats.records += 1;
        }
    }

    /// Moves the flow clock to `now_ns` without a packet (live capture, on a timer).
    pub fn advance_clock(&mut self, now_ns: i64, out: &mut Vec<Event>) -> std::io::Result<()> {
        self.table.advance(now_ns, &mut self.finished);
        self.drain_flows(out);
        if let Some(tracker) = &mut self.dns {
            tracker.expire(now_ns, out);
        }
        if let Some(streams) = &mut self.streams {
            streams.expire(now_ns, out);
        }
        if let Some(w) = &mut self.writer {
            w.flush()?;
        }
        Ok(())
    }

    pub fn stats(&self) -> CaptureStats {
        let mut s = self.stats;
        s.flows_evicted = self.table.stats.evicted;
        s.fragments = self.defrag.stats.fragments;
        s.reassembled = self.defrag.stats.reassembled;
        s.incomplete_datagrams = self.defrag.stats.incomplete;
        if let Some(tracker) = &self.dns {
            s.dns = tracker.stats;
        }
        if let Some(streams) = &self.streams {
            s.tcp = streams.stats;
        }
        if let Some(w) = &self.writer {
            s.written_packets = w.packets;
            s.written_files = w.files() as u64;
        }
        s
    }

    /// Counts a file that could not be read to its end.
    pub fn file_error(&mut self) {
        self.stats.file_errors += 1;
    }

    pub fn file_done(&mut self) {
        self.stats.files += 1;
    }
}

fn packet_error(kind: ErrorType, message: &str, source: &str, pkt: &RawPacket<'_>) -> Event {
    let raw = crate::text::hex(&pkt.data[..pkt.data.len().min(256)]);
    let mut e = error_record(kind, "pcap", message, &raw, source, None);
    e.insert("packet".into(), Value::from(pkt.number));
    e.insert("offset".into(), Value::from(pkt.offset));
    e
}

/// `packet_files` (names in the `--write` directory) and `packet_pos` (per file, the
/// byte offsets of the flow's records), as Arkime's packetPos.
fn add_positions(e: &mut Event, positions: &[flow::Pos], w: &PcapWriter) {
    let mut files: Vec<(u32, Vec<u64>)> = Vec::new();
    for p in positions {
        match files.iter_mut().find(|(f, _)| *f == p.file) {
            Some((_, offs)) => offs.push(p.offset),
            None => files.push((p.file, vec![p.offset])),
        }
    }
    let names: Vec<Value> = files.iter().map(|(f, _)| Value::from(w.name(*f))).collect();
    let offs: Vec<Value> = files.into_iter().map(|(_, o)| Value::from(o)).collect();
    e.insert("packet_files".into(), Value::Array(names));
    e.insert("packet_pos".into(), Value::Array(offs));
}

fn packet_record(d: &Decoded, s: &Seen, first: bool, w: Option<&PcapWriter>) -> Event {
    let mut e = event_with_capacity(24);
    let mut put = |k: &str, v: Value| {
        e.insert(k.to_owned(), v);
    };
    flow::put_time(&mut put, s.ts_ns);
    put("packet", Value::from(s.number));
    let tuple = flow::Tuple::of(d);
    tuple.put(&mut put);
    put("ip_bytes", Value::from(s.ip_len));
    put("bytes", Value::from(if first { d.payload_len } else { 0 }));
    put("frame_bytes", Value::from(s.frame_len));
    if d.proto == 6 {
        put("tcp_flags", Value::from(flow::flag_letters(d.tcp_flags)));
    }
    tuple.put_community_id(&mut put);
    if let (Some(w), Some(p)) = (w, s.pos) {
        put("packet_file", Value::from(w.name(p.file)));
        put("packet_pos", Value::from(p.offset));
    }
    put(fields::SOURCE_TYPE, Value::from("metron.packet"));
    put(fields::GUID, Value::from(new_guid()));
    e
}

/// `capture: 14 packets (6,087 bytes) from 1 file: 14 IP, 0 not IP, 0 errors; 1 flows`.
pub fn summary(s: &CaptureStats, emit: Emit) -> String {
    let t = io::thousands;
    let mut line = format!(
        "capture: {} packets ({} bytes) from {} file(s): {} IP, {} not IP, {} errors",
        t(s.packets),
        t(s.bytes),
        t(s.files),
        t(s.ip),
        t(s.not_ip + s.unknown_link),
        t(s.malformed + s.file_errors),
    );
    if emit.flows && !emit.packets {
        line.push_str(&format!("; {} flows ({} evicted early)", t(s.records), t(s.flows_evicted)));
    } else if emit.packets && !emit.flows {
        line.push_str(&format!("; {} packet records", t(s.records)));
    } else if emit.flows {
        line.push_str(&format!(
            "; {} flow and packet records ({} flows evicted early)",
            t(s.records),
            t(s.flows_evicted)
        ));
    }
    if emit.apps.dns {
        let d = &s.dns;
        line.push_str(&format!("; {} DNS transactions from {} messages", t(d.records), t(d.messages)));
        if d.unreadable + d.damaged > 0 {
            line.push_str(&format!(
                " ({} payloads on DNS ports too short for DNS, {} read only in part)",
                t(d.unreadable),
                t(d.damaged)
            ));
        }
        if d.evicted > 0 {
            line.push_str(&format!(" ({} 5-tuples written early: table full)", t(d.evicted)));
        }
    }
    if emit.apps.any() {
        let p = &s.tcp;
        let mut kinds = Vec::new();
        let kinds_on = [
            (emit.apps.dns, p.dns, "DNS over TCP"),
            (emit.apps.http, p.http, "HTTP"),
            (emit.apps.tls, p.tls, "TLS"),
            (emit.apps.ssh, p.ssh, "SSH"),
        ];
        for (on, n, name) in kinds_on {
            if on {
                kinds.push(format!("{} {name}", t(n)));
            }
        }
        line.push_str(&format!("; {} records from {} TCP streams", kinds.join(", "), t(p.conns)));
        if p.missed_bytes + p.dropped_bytes + p.evicted + p.unparsed > 0 {
            line.push_str(&format!(
                " ({} bytes missed in holes, {} dropped over the reassembly limit, {} streams closed early: table full, \
                 {} given up as not their protocol)",
                t(p.missed_bytes),
                t(p.dropped_bytes),
                t(p.evicted),
                t(p.unparsed)
            ));
        }
    }
    if s.unknown_link > 0 {
        line.push_str(&format!("; {} packets of unknown link types", t(s.unknown_link)));
    }
    if s.fragments > 0 {
        line.push_str(&format!(
            "; {} fragments: {} datagrams reassembled, {} incomplete",
            t(s.fragments),
            t(s.reassembled),
            t(s.incomplete_datagrams)
        ));
    }
    if s.written_files > 0 {
        line.push_str(&format!("; wrote {} packets to {} pcap file(s)", t(s.written_packets), t(s.written_files)));
    }
    line
}

/// The engine behind the driver: packets in, flow or packet records out.
impl Processor for Engine {
    type Record<'a> = &'a RawPacket<'a>;

    fn record(
        &mut self,
        source: &str,
        _number: u64,
        pkt: &RawPacket<'_>,
        out: &mut Vec<Event>,
        errors: &mut Vec<Event>,
    ) -> std::io::Result<()> {
        self.packet(source, pkt, out, errors)
    }

    /// End of input: every datagram and flow still open is written out, a chunk of
    /// records at a time (a large table's records are never all in memory at once).
    fn finish(&mut self, write: &mut dyn FnMut(&mut Vec<Event>) -> std::io::Result<()>) -> std::io::Result<()> {
        let mut out = Vec::new();
        let mut done = std::mem::take(&mut self.datagrams);
        self.defrag.flush(&mut done);
        for dg in done.drain(..) {
            self.deliver(&dg.decoded, &dg.members, &dg.l4, &mut out);
        }
        self.drain_flows(&mut out);
        if let Some(tracker) = &mut self.dns {
            tracker.flush(&mut out);
        }
        if let Some(streams) = &mut self.streams {
            streams.flush(&mut out);
        }
        write(&mut out)?;
        let (writer, stats) = (&self.writer, &mut self.stats);
        self.table.flush_with(1024, |chunk| {
            for (mut e, positions) in chunk.drain(..) {
                if let Some(w) = writer {
                    add_positions(&mut e, &positions, w);
                }
                out.push(e);
                stats.records += 1;
            }
            write(&mut out)
        })?;
        if let Some(w) = self.writer.take() {
            self.stats.written_packets = w.packets;
            self.stats.written_files = w.files() as u64;
            w.finish()?;
        }
        Ok(())
    }

    fn had_errors(&self) -> bool {
        self.stats().had_errors()
    }

    fn summary(&self) -> String {
        summary(&self.stats(), self.emit)
    }
}

/// Capture files (pcap or pcapng, plain or compressed, `-` for stdin), one after
/// another through one engine: flows may span files, as a rotated capture's do.
pub struct PcapFiles<'a>(pub &'a [PathBuf]);

impl Source<Engine> for PcapFiles<'_> {
    fn unit(&self) -> &'static str {
        "packets"
    }

    fn feed(self, feed: &mut Feed<'_, Engine>) -> Result<(), RunError> {
        for input in InputSpec::from_args(self.0) {
            let name = input.name();
            feed.input(&name);
            let reader = match input.open() {
                Ok(r) => r,
                Err(e) => {
                    feed.with(|engine, _, errors| {
                        engine.file_error();
                        errors.push(error_record(ErrorType::ParserError, "pcap", &e.to_string(), "", &name, None));
                        Ok(())
                    })?;
                    continue;
                }
            };
            let result = read_packets(Box::new(reader), |pkt| match feed.record(&name, pkt.number, pkt) {
                io::Flow::Continue => Next::Continue,
                io::Flow::Stop => Next::Stop,
            });
            feed.take_write_error()?;
            feed.with(|engine, _, errors| {
                engine.file_done();
                if let Err(damage) = result {
                    // What came before the damage was processed; the damage is one error record.
                    engine.file_error();
                    let mut e = error_record(ErrorType::ParserError, "pcap", &damage.to_string(), "", &name, None);
                    if damage.packet > 0 {
                        e.insert("packet".into(), Value::from(damage.packet));
                        e.insert("offset".into(), Value::from(damage.offset));
                    }
                    errors.push(e);
                }
                Ok(())
            })?;
        }
        Ok(())
    }
}

/// `metron capture -r FILE...`.
pub fn run_files(
    settings: &CaptureSettings,
    inputs: &[PathBuf],
    outputs: &Outputs,
) -> Result<(CaptureStats, Outcome), RunError> {
    let mut engine = Engine::new(settings)?;
    let outcome = driver::run(&mut engine, PcapFiles(inputs), outputs)?;
    Ok((engine.stats(), outcome))
}

/// Runs a capture over pcap bytes in memory, records to `out`: for benchmarks and
/// tests that measure the engine without files.
pub fn run_bytes(settings: &CaptureSettings, bytes: &[u8], out: &mut Output) -> std::io::Result<CaptureStats> {
    let mut engine = Engine::new(settings)?;
    let (mut events, mut errors) = (Vec::new(), Vec::new());
    let mut write_err = None;
    let result = read_packets(Box::new(std::io::Cursor::new(bytes.to_vec())), |pkt| {
        let r = engine.packet("memory", pkt, &mut events, &mut errors);
        errors.clear();
        let r = r.and_then(|()| events.drain(..).try_for_each(|e| out.write_event(&e)));
        match r {
            Ok(()) => Next::Continue,
            Err(e) => {
                write_err = Some(e);
                Next::Stop
            }
        }
    });
    if let Some(e) = write_err {
        return Err(e);
    }
    if let Err(e) = result {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()));
    }
    engine.file_done();
    engine.finish(&mut |events| events.drain(..).try_for_each(|e| out.write_event(&e)))?;
    Ok(engine.stats())
}
