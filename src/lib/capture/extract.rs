//! `metron extract`: the packets of a `--write` directory (or any pcap files) that
//! match Apache Metron's pcap query filters, a Community ID, or flow records, written
//! in time order as one pcap file. Flow records that carry `packet_files` and
//! `packet_pos` are read straight from those offsets; everything else is a scan.

use super::decode::{decode, layer4, Decoded, Packet};
use super::reader::{read_packets, Next, MAX_RECORD};
use super::writer::{file_header, write_record};
use crate::event::get_str;
use crate::event::{community_id, event_from_json};
use crate::io::open_input;
use ipnet::IpNet;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, Read, Seek, SeekFrom, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The filters; all given ones must match (flows: any of them).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub ip_src: Option<IpNet>,
    pub ip_dst: Option<IpNet>,
    pub port_src: Option<u16>,
    pub port_dst: Option<u16>,
    pub protocol: Option<u8>,
    /// Inclusive start, exclusive end, nanoseconds.
    pub start_ns: Option<i64>,
    pub end_ns: Option<i64>,
    /// Also match with source and destination swapped.
    pub include_reverse: bool,
    pub community_id: Option<String>,
    /// Flows from `--flow-from`.
    pub flows: Vec<FlowSel>,
}

/// One flow record's way to its packets.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowSel {
    /// (file name, record offsets) when the record has them.
    pub positions: Vec<(String, Vec<u64>)>,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
    pub proto: Option<u8>,
    pub start_ns: i64,
    pub end_ns: i64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExtractStats {
    pub files_scanned: u64,
    pub packets_scanned: u64,
    pub read_by_offset: u64,
    pub written: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("--flow-from {file} line {line}: {message}")]
    Flow { file: String, line: u64, message: String },
    #[error("the matching packets have different link types ({0} and {1}); a pcap file holds one: narrow the filter")]
    MixedLinkTypes(i32, i32),
}

struct Picked {
    ts_ns: i64,
    orig_len: u32,
    linktype: i32,
    data: Vec<u8>,
}

/// Reads flow records (NDJSON) for `--flow-from`.
pub fn read_flows(path: &Path) -> Result<Vec<FlowSel>, ExtractError> {
    let file = path.display().to_string();
    let reader = open_input(path)?;
    let mut flows = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let err =
            |message: &str| ExtractError::Flow { file: file.clone(), line: i as u64 + 1, message: message.into() };
        let e = event_from_json(line.as_bytes()).map_err(|e| err(&e.to_string()))?;
        let addr = |k: &str| get_str(&e, k).and_then(|s| s.parse::<IpAddr>().ok());
        let num = |k: &str| e.get(k).and_then(|v| v.as_i64());
        let (Some(src), Some(dst)) = (addr("ip_src_addr"), addr("ip_dst_addr")) else {
            return Err(err("not a flow record (no ip_src_addr and ip_dst_addr)"));
        };
        // Times from a file: saturating, so that a hostile value widens the window
        // instead of overflowing.
        let start_ns = num("timestamp_us")
            .map(|u| u.saturating_mul(1000))
            .or(num("timestamp").map(|m| m.saturating_mul(1_000_000)))
            .unwrap_or(i64::MIN);
        let end_ns = num("end_time_us")
            .map(|u| u.saturating_mul(1000).saturating_add(999))
            .or(num("end_time").map(|m| m.saturating_mul(1_000_000).saturating_add(999_999)))
            .unwrap_or(i64::MAX);
        let proto = num("ip_proto")
            .and_then(|p| u8::try_from(p).ok())
            .or_else(|| get_str(&e, "protocol").and_then(crate::event::protocol_number));
        let mut positions = Vec::new();
        if let (Some(files), Some(pos)) =
            (e.get("packet_files").and_then(|v| v.as_array()), e.get("packet_pos").and_then(|v| v.as_array()))
        {
            for (f, p) in files.iter().zip(pos) {
                let (Some(name), Some(offs)) = (f.as_str(), p.as_array()) else {
                    return Err(err("bad packet_files/packet_pos"));
                };
                positions.push((name.to_owned(), offs.iter().filter_map(|o| o.as_u64()).collect()));
            }
        }
        let port = |k: &str| num(k).and_then(|p| u16::try_from(p).ok());
        flows.push(FlowSel {
            positions,
            src,
            dst,
            sport: port("ip_src_port"),
            dport: port("ip_dst_port"),
            proto,
            start_ns,
            end_ns,
        });
    }
    Ok(flows)
}

/// The capture files under `from` (directories are listed, sorted by name, which is
/// by start time for `--write` directories).
pub fn capture_files(from: &[PathBuf]) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in from {
        if p.is_dir() {
            let mut listed: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    [".pcap", ".pcapng", ".cap", ".pcap.zst", ".pcap.gz", ".pcapng.zst", ".pcapng.gz"]
                        .iter()
                        .any(|ext| name.ends_with(ext))
                })
                .collect();
            listed.sort();
            files.extend(listed);
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

impl Filter {
    fn matches(&self, d: &Decoded, ts_ns: i64) -> bool {
        if self.start_ns.is_some_and(|s| ts_ns < s) || self.end_ns.is_some_and(|e| ts_ns >= e) {
            return false;
        }
        if self.protocol.is_some_and(|p| p != d.proto) {
            return false;
        }
        let ports = if d.has_ports && !matches!(d.proto, 1 | 58) { Some((d.sport, d.dport)) } else { None };
        let one_way = |src: IpAddr, dst: IpAddr, ports: Option<(u16, u16)>| {
            self.ip_src.is_none_or(|n| n.contains(&src))
                && self.ip_dst.is_none_or(|n| n.contains(&dst))
                && self.port_src.is_none_or(|p| ports.is_some_and(|(s, _)| s == p))
                && self.port_dst.is_none_or(|p| ports.is_some_and(|(_, d)| d == p))
        };
        if !(one_way(d.src, d.dst, ports)
            || (self.include_reverse && one_way(d.dst, d.src, ports.map(|(a, b)| (b, a)))))
        {
            return false;
        }
        if let Some(want) = &self.community_id {
            let cid_ports = d.has_ports.then_some((d.sport, d.dport));
            if matches!(d.proto, 6 | 17 | 132 | 1 | 58) && cid_ports.is_none() {
                return false;
            }
            if &community_id(0, d.src, d.dst, d.proto, cid_ports) != want {
                return false;
            }
        }
        true
    }

    fn has_packet_filters(&self) -> bool {
        self.ip_src.is_some()
            || self.ip_dst.is_some()
            || self.port_src.is_some()
            || self.port_dst.is_some()
            || self.protocol.is_some()
            || self.start_ns.is_some()
            || self.end_ns.is_some()
            || self.community_id.is_some()
    }
}

impl FlowSel {
    fn matches(&self, d: &Decoded, ts_ns: i64) -> bool {
        if ts_ns < self.start_ns || ts_ns > self.end_ns || self.proto.is_some_and(|p| p != d.proto) {
            return false;
        }
        let ports =
            if d.has_ports && !matches!(d.proto, 1 | 58) { (Some(d.sport), Some(d.dport)) } else { (None, None) };
        let fwd = d.src == self.src && d.dst == self.dst && (self.sport, self.dport) == ports;
        let rev = d.src == self.dst && d.dst == self.src && (self.dport, self.sport) == ports;
        fwd || rev
    }
}

/// Decodes for matching; a first fragment's ports are read from its own bytes.
fn decode_for_match(linktype: i32, data: &[u8]) -> Option<Decoded> {
    match decode(linktype, data) {
        Packet::Ip(d) => Some(d),
        Packet::Fragment(mut d, f) => {
            if f.offset == 0 {
                layer4(&mut d, f.data, f.data.len() as u32);
            }
            Some(d)
        }
        _ => None,
    }
}

/// Runs an extraction: matching packets, in time order, to `out` as pcap.
pub fn extract(from: &[PathBuf], filter: &Filter, out: &mut dyn Write) -> Result<ExtractStats, ExtractError> {
    let mut stats = ExtractStats::default();
    let mut picked: Vec<Picked> = Vec::new();
    let by_offset: Vec<&FlowSel> = filter.flows.iter().filter(|f| !f.positions.is_empty()).collect();
    let by_scan: Vec<&FlowSel> = filter.flows.iter().filter(|f| f.positions.is_empty()).collect();
    // Flows with positions: straight to their records.
    if !by_offset.is_empty() {
        let dirs: Vec<&PathBuf> = from.iter().filter(|p| p.is_dir()).collect();
        let mut wanted: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        for f in &by_offset {
            for (name, offs) in &f.positions {
                wanted.entry(name.clone()).or_default().extend(offs);
            }
        }
        for (name, mut offs) in wanted {
            offs.sort_unstable();
            offs.dedup();
            let path = dirs.iter().map(|d| d.join(&name)).find(|p| p.exists()).ok_or_else(|| ExtractError::File {
                file: name.clone(),
                message: format!("named by a flow record but not found in {}", list(&dirs)),
            })?;
            read_at_offsets(&path, &offs, |p| {
                stats.read_by_offset += 1;
                let keep = !filter.has_packet_filters()
                    || decode_for_match(p.linktype, &p.data).is_some_and(|d| filter.matches(&d, p.ts_ns));
                if keep {
                    picked.push(p);
                }
            })?;
        }
    }
    let scan = filter.flows.is_empty() || !by_scan.is_empty();
    if scan {
        for path in capture_files(from)? {
            let name = path.display().to_string();
            let reader = open_input(&path)?;
            stats.files_scanned += 1;
            let result = read_packets(Box::new(reader), |p| {
                stats.packets_scanned += 1;
                if let Some(d) = decode_for_match(p.linktype, p.data) {
                    let flow_ok = by_scan.is_empty() || by_scan.iter().any(|f| f.matches(&d, p.ts_ns));
                    if flow_ok && filter.matches(&d, p.ts_ns) {
                        picked.push(Picked {
                            ts_ns: p.ts_ns,
                            orig_len: p.orig_len,
                            linktype: p.linktype,
                            data: p.data.to_vec(),
                        });
                    }
                }
                Next::Continue
            });
            if let Err(e) = result {
                return Err(ExtractError::File { file: name, message: e.to_string() });
            }
        }
    }
    // Time order; packets of one time keep their order in the files.
    picked.sort_by_key(|p| p.ts_ns);
    let linktype = picked.first().map(|p| p.linktype).unwrap_or(1);
    if let Some(other) = picked.iter().find(|p| p.linktype != linktype) {
        return Err(ExtractError::MixedLinkTypes(linktype, other.linktype));
    }
    out.write_all(&file_header(linktype))?;
    for p in &picked {
        write_record(out, p.ts_ns, p.orig_len, &p.data)?;
        stats.written += 1;
    }
    out.flush()?;
    Ok(stats)
}

fn list(dirs: &[&PathBuf]) -> String {
    if dirs.is_empty() {
        return "(no --from directory)".into();
    }
    dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// Reads the records at `offsets` (sorted) of a pcap file written by `--write`:
/// seeking in a plain file, reading forward through a compressed one.
fn read_at_offsets(path: &Path, offsets: &[u64], mut each: impl FnMut(Picked)) -> Result<(), ExtractError> {
    let name = path.display().to_string();
    let bad = |message: String| ExtractError::File { file: name.clone(), message };
    let mut head = [0u8; 24];
    let mut file = File::open(path).map_err(|e| bad(e.to_string()))?;
    let plain = file.read_exact(&mut head).is_ok() && pcap_magic(&head).is_some();
    let mut reader = if plain {
        file.seek(SeekFrom::Start(0))?;
        Source::Plain(io::BufReader::new(file))
    } else {
        Source::Stream(open_input(path)?)
    };
    reader.read_exact(&mut head).map_err(|_| bad("too short for a pcap file header".into()))?;
    let Some((big_endian, nanos)) = pcap_magic(&head) else {
        return Err(bad("not a pcap file (packet positions need the files --write makes)".into()));
    };
    let u32_at = |b: &[u8], i: usize| {
        let a = [b[i], b[i + 1], b[i + 2], b[i + 3]];
        if big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        }
    };
    let linktype = u32_at(&head, 20) as i32;
    let mut pos = 24u64;
    for &off in offsets {
        if off < pos {
            return Err(bad(format!("packet position {off} is inside the file header or a previous record")));
        }
        reader.skip(off - pos)?;
        let mut rec = [0u8; 16];
        reader.read_exact(&mut rec).map_err(|_| bad(format!("no packet record at offset {off}")))?;
        let caplen = u32_at(&rec, 8);
        if caplen > MAX_RECORD {
            return Err(bad(format!("no packet record at offset {off} (length {caplen})")));
        }
        let mut data = vec![0u8; caplen as usize];
        reader.read_exact(&mut data).map_err(|_| bad(format!("packet at offset {off} is cut short")))?;
        let frac = i64::from(u32_at(&rec, 4));
        let ts_ns = i64::from(u32_at(&rec, 0)) * 1_000_000_000 + if nanos { frac } else { frac * 1000 };
        each(Picked { ts_ns, orig_len: u32_at(&rec, 12), linktype, data });
        pos = off.saturating_add(16 + u64::from(caplen));
    }
    Ok(())
}

/// A file read at offsets: seeked when plain, read forward when compressed.
enum Source {
    Plain(io::BufReader<File>),
    Stream(Box<dyn BufRead + Send>),
}

impl Source {
    fn skip(&mut self, n: u64) -> io::Result<()> {
        match self {
            Source::Plain(r) => r.seek_relative(i64::try_from(n).unwrap_or(i64::MAX)),
            Source::Stream(r) => {
                let copied = io::copy(&mut r.by_ref().take(n), &mut io::sink())?;
                if copied < n {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "packet position past the end of the file",
                    ));
                }
                Ok(())
            }
        }
    }
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Plain(r) => r.read(buf),
            Source::Stream(r) => r.read(buf),
        }
    }
}

/// (big endian, nanosecond) for a pcap magic number.
fn pcap_magic(head: &[u8; 24]) -> Option<(bool, bool)> {
    match [head[0], head[1], head[2], head[3]] {
        [0xd4, 0xc3, 0xb2, 0xa1] => Some((false, false)),
        [0x4d, 0x3c, 0xb2, 0xa1] => Some((false, true)),
        [0xa1, 0xb2, 0xc3, 0xd4] => Some((true, false)),
        [0xa1, 0xb2, 0x3c, 0x4d] => Some((true, true)),
        _ => None,
    }
}
