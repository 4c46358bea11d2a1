//! IPv4 and IPv6 fragment reassembly, bounded in datagrams held and in time, so that
//! the fragments of a datagram land in the flow of its ports. etherparse's
//! `IpDefragBuf` puts the pieces together; this keeps the table of datagrams, ages
//! them out and remembers which captured packets each one was made of. A datagram
//! that never completes is not lost: its fragments still go to a flow (with the
//! first fragment's ports when it came, without ports otherwise).

use super::decode::{layer4, Decoded, Fragment};
use super::flow::Seen;
use etherparse::defrag::IpDefragBuf;
use etherparse::{IpFragOffset, IpNumber};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    id: u32,
    vlan: Option<u16>,
    inner_vlan: Option<u16>,
}

struct Pending {
    serial: u64,
    buf: Option<IpDefragBuf>,
    /// The start of the first fragment (its layer 4 header), once it came.
    first: Option<Vec<u8>>,
    decoded: Decoded,
    members: Vec<Seen>,
}

/// A datagram, whole or given up on, and the captured packets it was made of.
pub struct Datagram {
    pub decoded: Decoded,
    pub members: Vec<Seen>,
    /// A whole datagram's layer 4 bytes (what `decoded.l4_off` points into); empty
    /// for one given up on.
    pub l4: Vec<u8>,
}

/// Counts for the summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DefragStats {
    pub fragments: u64,
    pub reassembled: u64,
    /// Datagrams given up on: timed out, pushed out by a full table, or inconsistent.
    pub incomplete: u64,
}

pub struct Defrag {
    pending: HashMap<Key, Pending, foldhash::fast::RandomState>,
    order: VecDeque<(i64, Key, u64)>,
    serial: u64,
    max_pending: usize,
    timeout_ns: i64,
    pub stats: DefragStats,
}

/// How much of a first fragment is kept to read ports from.
const FIRST_KEEP: usize = 64;

impl Defrag {
    pub fn new(max_pending: usize, timeout_ns: i64) -> Defrag {
        Defrag {
            pending: HashMap::default(),
            order: VecDeque::new(),
            serial: 0,
            max_pending: max_pending.max(1),
            timeout_ns,
            stats: DefragStats::default(),
        }
    }

    /// Takes one fragment; returns the datagrams that are done: this one when it is
    /// now complete, and any that timed out or were pushed out to make room.
    pub fn add(&mut self, decoded: Decoded, frag: Fragment<'_>, seen: Seen, done: &mut Vec<Datagram>) {
        self.stats.fragments += 1;
        self.expire(seen.ts_ns, done);
        let key = Key {
            src: decoded.src,
            dst: decoded.dst,
            proto: decoded.proto,
            id: frag.id,
            vlan: decoded.vlan,
            inner_vlan: decoded.inner_vlan,
        };
        if !self.pending.contains_key(&key) {
            while self.pending.len() >= self.max_pending {
                if !self.give_up_oldest(done) {
                    break;
                }
            }
            self.serial += 1;
            let buf = IpDefragBuf::new(IpNumber(decoded.proto), Vec::new(), Vec::new());
            let mut d = decoded;
            d.ip_len = 0;
            d.payload_len = 0;
            self.pending.insert(
                key,
                Pending { serial: self.serial, buf: Some(buf), first: None, decoded: d, members: Vec::new() },
            );
            self.order.push_back((seen.ts_ns.saturating_add(self.timeout_ns), key, self.serial));
        }
        let Some(p) = self.pending.get_mut(&key) else { return };
        p.members.push(seen);
        if frag.offset == 0 {
            p.first = Some(frag.data[..frag.data.len().min(FIRST_KEEP)].to_vec());
        }
        let added = match (&mut p.buf, u16::try_from(frag.offset / 8).ok().and_then(|o| IpFragOffset::try_new(o).ok()))
        {
            (Some(buf), Some(offset)) => buf.add(offset, frag.more, frag.data).is_ok(),
            _ => false,
        };
        if !added {
            // Inconsistent: keep collecting its packets, give it up when it times out.
            p.buf = None;
            return;
        }
        if p.buf.as_ref().is_some_and(IpDefragBuf::is_complete) {
            if let Some(p) = self.pending.remove(&key) {
                self.stats.reassembled += 1;
                done.push(finish(p, true));
            }
        }
    }

    /// Gives up on datagrams older than the timeout at packet time `now_ns`.
    pub fn expire(&mut self, now_ns: i64, done: &mut Vec<Datagram>) {
        while let Some(&(deadline, _, _)) = self.order.front() {
            if deadline > now_ns {
                break;
            }
            self.give_up_oldest(done);
        }
    }

    /// Gives up on everything still pending (end of input).
    pub fn flush(&mut self, done: &mut Vec<Datagram>) {
        while self.give_up_oldest(done) {}
    }

    fn give_up_oldest(&mut self, done: &mut Vec<Datagram>) -> bool {
        while let Some((_, key, serial)) = self.order.pop_front() {
            if self.pending.get(&key).is_some_and(|p| p.serial == serial) {
                if let Some(p) = self.pending.remove(&key) {
                    self.stats.incomplete += 1;
                    done.push(finish(p, false));
                    return true;
                }
            }
        }
        false
    }
}

fn finish(p: Pending, complete: bool) -> Datagram {
    let mut decoded = p.decoded;
    decoded.ip_len = p.members.iter().fold(0u32, |total, m| total.saturating_add(m.ip_len));
    decoded.l4_off = 0;
    let mut l4 = Vec::new();
    if complete {
        if let Some(buf) = p.buf {
            let (data, _) = buf.take_bufs();
            let len = data.len() as u32;
            layer4(&mut decoded, &data, len);
            l4 = data;
        }
    } else if let Some(first) = &p.first {
        // Ports from the first fragment; the payload length is not known.
        layer4(&mut decoded, first, first.len() as u32);
        decoded.payload_len = 0;
    }
    Datagram { decoded, members: p.members, l4 }
}
