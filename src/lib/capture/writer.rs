//! `--write DIR`: the raw packets as pcap files (nanosecond timestamps), rotated by
//! size and age, optionally zstd-compressed, named by the time of their first packet.
//! Each write returns the file and byte offset of the record, which flow records
//! carry (as Arkime's `packetPos`) so that `metron extract` reads a flow's packets
//! straight from where they are.

use super::flow::Pos;
use super::reader::RawPacket;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Magic of a pcap file with nanosecond timestamps, little-endian.
pub const NANO_MAGIC: u32 = 0xa1b2_3c4d;
/// The snap length written in the header.
const SNAPLEN: u32 = super::reader::MAX_RECORD;

#[derive(Debug, Clone)]
pub struct WriteSettings {
    pub dir: PathBuf,
    /// Start a new file when the current one would pass this many (uncompressed) bytes.
    pub rotate_bytes: u64,
    /// Start a new file when the current one's first packet is this old (packet time); 0: never.
    pub rotate_ns: i64,
    pub zstd: bool,
}

enum Sink {
    Plain(BufWriter<File>),
    Zstd(zstd::Encoder<'static, BufWriter<File>>),
}

impl Sink {
    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Sink::Plain(w) => w,
            Sink::Zstd(w) => w,
        }
    }
    fn finish(self) -> io::Result<()> {
        match self {
            Sink::Plain(mut w) => w.flush(),
            Sink::Zstd(w) => w.finish()?.flush(),
        }
    }
}

struct Current {
    index: u32,
    sink: Sink,
    bytes: u64,
    start_ns: i64,
    linktype: i32,
}

pub struct PcapWriter {
    settings: WriteSettings,
    current: Option<Current>,
    names: Vec<String>,
    pub packets: u64,
}

/// The 24-byte header of a nanosecond pcap file.
pub fn file_header(linktype: i32) -> [u8; 24] {
    let mut h = [0u8; 24];
    h[0..4].copy_from_slice(&NANO_MAGIC.to_le_bytes());
    h[4..6].copy_from_slice(&2u16.to_le_bytes());
    h[6..8].copy_from_slice(&4u16.to_le_bytes());
    h[16..20].copy_from_slice(&SNAPLEN.to_le_bytes());
    h[20..24].copy_from_slice(&(linktype as u32).to_le_bytes());
    h
}

/// Writes one record (16-byte header and data) of a nanosecond pcap file.
pub fn write_record(w: &mut dyn Write, ts_ns: i64, orig_len: u32, data: &[u8]) -> io::Result<u64> {
    let ts = ts_ns.max(0);
    let secs = u32::try_from(ts / 1_000_000_000).unwrap_or(u32::MAX);
    let mut h = [0u8; 16];
    h[0..4].copy_from_slice(&secs.to_le_bytes());
    h[4..8].copy_from_slice(&((ts % 1_000_000_000) as u32).to_le_bytes());
    h[8..12].copy_from_slice(&(data.len() as u32).to_le_bytes());
    h[12..16].copy_from_slice(&orig_len.to_le_bytes());
    w.write_all(&h)?;
    w.write_all(data)?;
    Ok(16 + data.len() as u64)
}

impl PcapWriter {
    /// Packets are private (payloads, credentials): the folder is made readable by its
    /// owner only (0700), and each file is new (0600), never an existing file or
    /// whatever a link at its name points to.
    pub fn new(settings: WriteSettings) -> io::Result<PcapWriter> {
        let mut dir = std::fs::DirBuilder::new();
        dir.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            dir.mode(0o700);
        }
        dir.create(&settings.dir).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", settings.dir.display())))?;
        Ok(PcapWriter { settings, current: None, names: Vec::new(), packets: 0 })
    }

    /// Writes one packet; returns where its record starts.
    pub fn write(&mut self, pkt: &RawPacket<'_>) -> io::Result<Pos> {
        let record = 16 + pkt.data.len() as u64;
        let rotate = match &self.current {
            None => true,
            Some(c) => {
                c.linktype != pkt.linktype
                    || (c.bytes > 24 && c.bytes + record > self.settings.rotate_bytes)
                    || (self.settings.rotate_ns > 0 && pkt.ts_ns.saturating_sub(c.start_ns) >= self.settings.rotate_ns)
            }
        };
        if rotate {
            self.open(pkt.ts_ns, pkt.linktype)?;
        }
        let Some(c) = self.current.as_mut() else { return Err(io::Error::other("no pcap file open")) };
        let offset = c.bytes;
        c.bytes += write_record(c.sink.writer(), pkt.ts_ns, pkt.orig_len, pkt.data)?;
        self.packets += 1;
        Ok(Pos { file: c.index, offset })
    }

    fn open(&mut self, ts_ns: i64, linktype: i32) -> io::Result<()> {
        if let Some(c) = self.current.take() {
            c.sink.finish()?;
        }
        let stem = file_stem(ts_ns);
        let ext = if self.settings.zstd { "pcap.zst" } else { "pcap" };
        let mut name = format!("{stem}.{ext}");
        let mut n = 1;
        let file = loop {
            let path = self.settings.dir.join(&name);
            match new_private_file(&path) {
                Ok(file) => break file,
                // Taken (a file, or a link, dangling or not): the next name.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 10_000 => {
                    name = format!("{stem}-{n}.{ext}");
                    n += 1;
                }
                Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
            }
        };
        let file = BufWriter::with_capacity(256 * 1024, file);
        let mut sink = if self.settings.zstd { Sink::Zstd(zstd::Encoder::new(file, 3)?) } else { Sink::Plain(file) };
        sink.writer().write_all(&file_header(linktype))?;
        let index = self.names.len() as u32;
        self.names.push(name);
        self.current = Some(Current { index, sink, bytes: 24, start_ns: ts_ns, linktype });
        Ok(())
    }

    /// The file name (in the directory) of file `index`.
    pub fn name(&self, index: u32) -> &str {
        self.names.get(index as usize).map(String::as_str).unwrap_or("")
    }

    pub fn files(&self) -> usize {
        self.names.len()
    }

    pub fn dir(&self) -> &Path {
        &self.settings.dir
    }

    /// Pushes what is buffered to the file (live capture, now and then).
    pub fn flush(&mut self) -> io::Result<()> {
        match &mut self.current {
            Some(c) => c.sink.writer().flush(),
            None => Ok(()),
        }
    }

    pub fn finish(mut self) -> io::Result<()> {
        match self.current.take() {
            Some(c) => c.sink.finish(),
            None => Ok(()),
        }
    }
}

/// A file that did not exist (`O_CREAT|O_EXCL`: a link at the name is not followed),
/// readable and writable by its owner only.
fn new_private_file(path: &std::path::Path) -> io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

/// `metron-20260101T000000.123456Z`: the UTC time of the first packet, to the microsecond.
fn file_stem(ts_ns: i64) -> String {
    let secs = ts_ns.div_euclid(1_000_000_000);
    let nanos = ts_ns.rem_euclid(1_000_000_000) as u32;
    match chrono::DateTime::from_timestamp(secs, nanos) {
        Some(t) => format!("metron-{}{:06}Z", t.format("%Y%m%dT%H%M%S."), nanos / 1000),
        None => format!("metron-{ts_ns}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_named_by_first_packet_and_rotate_by_size() {
        let dir = tempfile::tempdir().unwrap();
        let settings =
            WriteSettings { dir: dir.path().into(), rotate_bytes: 24 + 2 * (16 + 100), rotate_ns: 0, zstd: false };
        let mut w = PcapWriter::new(settings).unwrap();
        let data = [7u8; 100];
        let mut positions = Vec::new();
        for i in 0..5 {
            let pkt = RawPacket {
                ts_ns: 1_767_225_600_000_000_000 + i * 1000,
                orig_len: 100,
                linktype: 1,
                data: &data,
                number: i as u64 + 1,
                offset: 0,
            };
            positions.push(w.write(&pkt).unwrap());
        }
        assert_eq!(w.name(0), "metron-20260101T000000.000000Z.pcap");
        assert_eq!(w.name(1), "metron-20260101T000000.000002Z.pcap");
        assert_eq!(
            positions.iter().map(|p| (p.file, p.offset)).collect::<Vec<_>>(),
            [(0, 24), (0, 140), (1, 24), (1, 140), (2, 24)]
        );
        w.finish().unwrap();
        let first = std::fs::read(dir.path().join("metron-20260101T000000.000000Z.pcap")).unwrap();
        assert_eq!(first.len(), 24 + 2 * 116);
    }
}
