//! Reading pcap and pcapng files with pcap-parser (pure Rust, no libpcap): every
//! packet with its link type, time, lengths, number and byte offset in the file, and
//! damage reported as the packet number and offset where reading had to stop.

use pcap_parser::pcapng::Block;
use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
use pcap_parser::{PcapBlockOwned, PcapError};
use std::io::Read;

/// The largest record read: tshark's limit (WTAP_MAX_PACKET_SIZE_STANDARD). A record
/// header claiming more means the file is damaged (or not a capture).
pub const MAX_RECORD: u32 = 262_144;

/// The reader's buffer: room for the largest pcapng block and then some.
const BUFFER: usize = 2 * 1024 * 1024;

/// One packet as it was captured.
#[derive(Debug, Clone, Copy)]
pub struct RawPacket<'a> {
    /// Nanoseconds since the Unix epoch.
    pub ts_ns: i64,
    /// Length on the wire (the captured `data` may be shorter: snap length).
    pub orig_len: u32,
    /// LINKTYPE_* of the interface it came from.
    pub linktype: i32,
    pub data: &'a [u8],
    /// 1-based, within its file.
    pub number: u64,
    /// Byte offset of the packet's record in the (decompressed) file.
    pub offset: u64,
}

/// What stopped a file: where and why. Everything before it was delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// The packet that could not be read (1-based); 0 when the file header itself is bad.
    pub packet: u64,
    pub offset: u64,
    pub message: String,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.packet == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "packet {} (byte offset {}): {}", self.packet, self.offset, self.message)
        }
    }
}

/// What the packet callback says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Continue,
    Stop,
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: i32,
    /// Units per second of the interface's timestamps.
    resolution: u64,
    offset_secs: i64,
}

enum Step {
    Consume(usize),
    Refill,
    Done,
    Fail(String),
}

/// Reads every packet of one capture (pcap or pcapng, already decompressed) and hands
/// each to `on_packet`. Returns the number of packets read, or the damage that stopped
/// the file (after every packet before it was handed over).
pub fn read_packets(
    reader: Box<dyn Read + Send>,
    mut on_packet: impl FnMut(&RawPacket<'_>) -> Next,
) -> Result<u64, ReadError> {
    let mut inner = open(reader)?;
    let mut file = FileState::default();
    loop {
        let step = match inner.next() {
            Ok((len, block)) => file.block(len, block, &mut on_packet),
            Err(e) => {
                let trouble = Trouble::of(e);
                file.damage(trouble, inner.data())
            }
        };
        match step {
            Step::Consume(len) => {
                // The buffer is shifted only when it is refilled (then what is left is
                // less than one record), not every time half of it has been read.
                inner.consume_noshift(len);
                file.pos += len as u64;
                if file.stopped {
                    return Ok(file.number);
                }
            }
            Step::Refill => {
                if let Err(e) = inner.refill() {
                    let message = format!("read error: {e:?}");
                    return Err(ReadError { packet: file.number + 1, offset: file.pos, message });
                }
            }
            Step::Done => return Ok(file.number),
            Step::Fail(message) => return Err(ReadError { packet: file.number, offset: file.pos, message }),
        }
    }
}

/// pcap-parser's reader for a file, or why its file header cannot be read.
fn open(reader: Box<dyn Read + Send>) -> Result<Box<dyn PcapReaderIterator + Send>, ReadError> {
    match pcap_parser::create_reader(BUFFER, reader) {
        Ok(r) => Ok(r),
        Err(PcapError::Eof) => Err(header_error("empty file: not a pcap or pcapng capture")),
        Err(PcapError::HeaderNotRecognized) => Err(header_error("not a pcap or pcapng capture (unknown file header)")),
        Err(PcapError::Incomplete(_)) | Err(PcapError::UnexpectedEof) => {
            Err(header_error("file ends inside the capture's file header"))
        }
        Err(e) => Err(header_error(&format!("cannot read the capture's file header: {e:?}"))),
    }
}

/// What reading one file has learned so far: where it is, how many packets it has
/// read, the legacy header's link type and precision, pcapng's interfaces.
#[derive(Default)]
struct FileState {
    pos: u64,
    number: u64,
    legacy: Option<(i32, bool)>,
    big_endian: bool,
    interfaces: Vec<Interface>,
    stopped: bool,
}

impl FileState {
    /// One block of `len` bytes.
    fn block(
        &mut self,
        len: usize,
        block: PcapBlockOwned<'_>,
        on_packet: &mut impl FnMut(&RawPacket<'_>) -> Next,
    ) -> Step {
        match block {
            PcapBlockOwned::LegacyHeader(h) => {
                self.legacy = Some((h.network.0, h.is_nanosecond_precision()));
                self.big_endian = h.is_bigendian();
            }
            PcapBlockOwned::Legacy(b) => {
                self.number += 1;
                if let Some(fail) = too_long(b.caplen) {
                    return fail;
                }
                let (linktype, nanos) = self.legacy.unwrap_or((1, false));
                let frac = if nanos { i64::from(b.ts_usec) } else { i64::from(b.ts_usec) * 1000 };
                let ts_ns = i64::from(b.ts_sec) * 1_000_000_000 + frac;
                self.hand_over(ts_ns, b.origlen, linktype, b.data, on_packet);
            }
            // A new section starts over with its own interfaces.
            PcapBlockOwned::NG(Block::SectionHeader(_)) => self.interfaces.clear(),
            PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => self.interfaces.push(Interface {
                linktype: idb.linktype.0,
                resolution: idb.ts_resolution().unwrap_or(1_000_000).max(1),
                offset_secs: idb.ts_offset(),
            }),
            PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                self.number += 1;
                let Some(&ifc) = self.interfaces.get(epb.if_id as usize) else {
                    return Step::Fail(format!("packet names interface {} that was never described", epb.if_id));
                };
                if let Some(fail) = too_long(epb.caplen) {
                    return fail;
                }
                let units = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                self.hand_over(ng_time(units, &ifc), epb.orig_len(), ifc.linktype, epb.packet_data(), on_packet);
            }
            PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                self.number += 1;
                let Some(&ifc) = self.interfaces.first() else {
                    return Step::Fail("simple packet block before any interface description".into());
                };
                self.hand_over(0, spb.origlen, ifc.linktype, spb.packet_data(), on_packet);
            }
            PcapBlockOwned::NG(_) => {}
        }
        Step::Consume(len)
    }

    fn hand_over(
        &mut self,
        ts_ns: i64,
        orig_len: u32,
        linktype: i32,
        data: &[u8],
        on_packet: &mut impl FnMut(&RawPacket<'_>) -> Next,
    ) {
        let pkt = RawPacket { ts_ns, orig_len, linktype, data, number: self.number, offset: self.pos };
        self.stopped = on_packet(&pkt) == Next::Stop;
    }

    /// What a reader error means here: the end, more bytes to read, or damage (said
    /// with what the damaged record's header claims, where it can be read).
    fn damage(&mut self, trouble: Trouble, buffered: &[u8]) -> Step {
        let fail = match trouble {
            Trouble::End => return Step::Done,
            Trouble::Incomplete => return Step::Refill,
            Trouble::Truncated => "the file ends inside this packet's record: truncated capture".into(),
            Trouble::TooLarge => match claimed_length(buffered, self.legacy.map(|_| self.big_endian)) {
                Some(n) => format!("record claims {n} bytes, over the {MAX_RECORD}-byte maximum: the file is damaged"),
                None => "record is larger than any packet can be: the file is damaged".into(),
            },
            Trouble::Read => "read error (damaged or truncated compressed file?)".into(),
            Trouble::Other(e) => format!("record cannot be parsed ({e}): the file is damaged"),
        };
        self.number += 1;
        Step::Fail(fail)
    }
}

/// pcap-parser's error, without its borrow of the reader's buffer.
enum Trouble {
    End,
    Incomplete,
    Truncated,
    TooLarge,
    Read,
    Other(String),
}

impl Trouble {
    fn of(e: PcapError<&[u8]>) -> Trouble {
        match e {
            PcapError::Eof => Trouble::End,
            PcapError::Incomplete(_) => Trouble::Incomplete,
            PcapError::UnexpectedEof => Trouble::Truncated,
            PcapError::BufferTooSmall => Trouble::TooLarge,
            PcapError::ReadError => Trouble::Read,
            e => Trouble::Other(format!("{e:?}")),
        }
    }
}

/// A record longer than any packet can be: damage.
fn too_long(caplen: u32) -> Option<Step> {
    (caplen > MAX_RECORD).then(|| {
        Step::Fail(format!("record length {caplen} is over the {MAX_RECORD}-byte maximum: the file is damaged"))
    })
}

fn header_error(message: &str) -> ReadError {
    ReadError { packet: 0, offset: 0, message: message.to_owned() }
}

/// A pcapng timestamp in nanoseconds.
fn ng_time(units: u64, ifc: &Interface) -> i64 {
    let ns = u128::from(units) * 1_000_000_000 / u128::from(ifc.resolution);
    i64::try_from(ns).unwrap_or(i64::MAX).saturating_add(ifc.offset_secs.saturating_mul(1_000_000_000))
}

/// The length a damaged record's header claims (legacy pcap only: incl_len, in the
/// file's byte order).
fn claimed_length(data: &[u8], big_endian: Option<bool>) -> Option<u32> {
    let bytes: [u8; 4] = data.get(8..12)?.try_into().ok()?;
    Some(if big_endian? { u32::from_be_bytes(bytes) } else { u32::from_le_bytes(bytes) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcap(records: &[(&[u8], u32)]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&65535u32.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        for (i, (data, orig)) in records.iter().enumerate() {
            out.extend_from_slice(&(1000 + i as u32).to_le_bytes());
            out.extend_from_slice(&5u32.to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&orig.to_le_bytes());
            out.extend_from_slice(data);
        }
        out
    }

    /// (number, offset, time, length) of each packet read, and how reading ended.
    type Read = (Vec<(u64, u64, i64, usize)>, Result<u64, ReadError>);

    fn read(bytes: Vec<u8>) -> Read {
        let mut seen = Vec::new();
        let result = read_packets(Box::new(std::io::Cursor::new(bytes)), |p| {
            seen.push((p.number, p.offset, p.ts_ns, p.data.len()));
            Next::Continue
        });
        (seen, result)
    }

    #[test]
    fn reads_records_with_offsets_and_times() {
        let (seen, result) = read(pcap(&[(&[1, 2, 3], 3), (&[4; 10], 60)]));
        assert_eq!(result, Ok(2));
        assert_eq!(seen, vec![(1, 24, 1_000_000_005_000, 3), (2, 24 + 16 + 3, 1_001_000_005_000, 10)]);
    }

    #[test]
    fn truncated_last_record_is_an_error_after_the_good_ones() {
        let mut bytes = pcap(&[(&[1, 2, 3], 3), (&[4; 10], 10)]);
        bytes.truncate(bytes.len() - 4);
        let (seen, result) = read(bytes);
        assert_eq!(seen.len(), 1);
        let err = result.unwrap_err();
        assert_eq!((err.packet, err.offset), (2, 43));
        assert!(err.message.contains("truncated"), "{err}");
    }

    #[test]
    fn empty_and_foreign_files_are_errors() {
        assert!(read(Vec::new()).1.unwrap_err().message.contains("empty"));
        assert!(read(b"hello world, this is not a capture file".to_vec())
            .1
            .unwrap_err()
            .message
            .contains("not a pcap"));
    }
}
