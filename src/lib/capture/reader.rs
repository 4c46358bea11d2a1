//! Reading pcap and pcapng files with pcap-parser (pure Rust, no libpcap): every
//! packet with its link type, time, lengths, number and byte offset in the file, and
//! damage reported as the packet number and offset where reading had to stop.

use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapNGPacketBlock;
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
    let mut inner = match pcap_parser::create_reader(BUFFER, reader) {
        Ok(r) => r,
        Err(PcapError::Eof) => return Err(header_error("empty file: not a pcap or pcapng capture")),
        Err(PcapError::HeaderNotRecognized) => {
            return Err(header_error("not a pcap or pcapng capture (unknown file header)"))
        }
        Err(PcapError::Incomplete(_)) | Err(PcapError::UnexpectedEof) => {
            return Err(header_error("file ends inside the capture's file header"))
        }
        Err(e) => return Err(header_error(&format!("cannot read the capture's file header: {e:?}"))),
    };
    let mut pos: u64 = 0;
    let mut number: u64 = 0;
    let mut legacy: Option<(i32, bool)> = None;
    let mut big_endian = false;
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut stopped = false;
    loop {
        let step = match inner.next() {
            Ok((len, block)) => match block {
                PcapBlockOwned::LegacyHeader(h) => {
                    legacy = Some((h.network.0, h.is_nanosecond_precision()));
                    big_endian = h.is_bigendian();
                    Step::Consume(len)
                }
                PcapBlockOwned::Legacy(b) => {
                    number += 1;
                    let (linktype, nanos) = legacy.unwrap_or((1, false));
                    if b.caplen > MAX_RECORD {
                        Step::Fail(format!(
                            "record length {} is over the {MAX_RECORD}-byte maximum: the file is damaged",
                            b.caplen
                        ))
                    } else {
                        let frac = if nanos { i64::from(b.ts_usec) } else { i64::from(b.ts_usec) * 1000 };
                        let pkt = RawPacket {
                            ts_ns: i64::from(b.ts_sec) * 1_000_000_000 + frac,
                            orig_len: b.origlen,
                            linktype,
                            data: b.data,
                            number,
                            offset: pos,
                        };
                        stopped = on_packet(&pkt) == Next::Stop;
                        Step::Consume(len)
                    }
                }
                PcapBlockOwned::NG(Block::SectionHeader(_)) => {
                    // A new section starts over with its own interfaces.
                    interfaces.clear();
                    Step::Consume(len)
                }
                PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                    interfaces.push(Interface {
                        linktype: idb.linktype.0,
                        resolution: idb.ts_resolution().unwrap_or(1_000_000).max(1),
                        offset_secs: idb.ts_offset(),
                    });
                    Step::Consume(len)
                }
                PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                    number += 1;
                    match interfaces.get(epb.if_id as usize) {
                        None => Step::Fail(format!("packet names interface {} that was never described", epb.if_id)),
                        Some(_) if epb.caplen > MAX_RECORD => Step::Fail(format!(
                            "record length {} is over the {MAX_RECORD}-byte maximum: the file is damaged",
                            epb.caplen
                        )),
                        Some(ifc) => {
                            let units = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                            let pkt = RawPacket {
                                ts_ns: ng_time(units, ifc),
                                orig_len: epb.orig_len(),
                                linktype: ifc.linktype,
                                data: epb.packet_data(),
                                number,
                                offset: pos,
                            };
                            stopped = on_packet(&pkt) == Next::Stop;
                            Step::Consume(len)
                        }
                    }
                }
                PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                    number += 1;
                    match interfaces.first() {
                        None => Step::Fail("simple packet block before any interface description".into()),
                        Some(ifc) => {
                            let pkt = RawPacket {
                                ts_ns: 0,
                                orig_len: spb.origlen,
                                linktype: ifc.linktype,
                                data: spb.packet_data(),
                                number,
                                offset: pos,
                            };
                            stopped = on_packet(&pkt) == Next::Stop;
                            Step::Consume(len)
                        }
                    }
                }
                PcapBlockOwned::NG(_) => Step::Consume(len),
            },
            Err(PcapError::Eof) => Step::Done,
            Err(PcapError::Incomplete(_)) => Step::Refill,
            Err(PcapError::UnexpectedEof) => {
                number += 1;
                Step::Fail("the file ends inside this packet's record: truncated capture".into())
            }
            Err(PcapError::BufferTooSmall) => {
                number += 1;
                Step::Fail(match claimed_length(inner.data(), legacy.map(|_| big_endian)) {
                    Some(n) => {
                        format!("record claims {n} bytes, over the {MAX_RECORD}-byte maximum: the file is damaged")
                    }
                    None => "record is larger than any packet can be: the file is damaged".into(),
                })
            }
            Err(PcapError::ReadError) => {
                number += 1;
                Step::Fail("read error (damaged or truncated compressed file?)".into())
            }
            Err(e) => {
                number += 1;
                Step::Fail(format!("record cannot be parsed ({e:?}): the file is damaged"))
            }
        };
        match step {
            Step::Consume(len) => {
                // The buffer is shifted only when it is refilled (then what is left is
                // less than one record), not every time half of it has been read.
                inner.consume_noshift(len);
                pos += len as u64;
                if stopped {
                    return Ok(number);
                }
            }
            Step::Refill => {
                if let Err(e) = inner.refill() {
                    return Err(ReadError { packet: number + 1, offset: pos, message: format!("read error: {e:?}") });
                }
            }
            Step::Done => return Ok(number),
            Step::Fail(message) => return Err(ReadError { packet: number, offset: pos, message }),
        }
    }
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
