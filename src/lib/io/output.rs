//! Where events go: stdout or `-o FILE`, zstd-compressed when the name ends in `.zst`
//! (gzip for `.gz`), one JSON object per line.

use crate::event::Event;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

const BUF_SIZE: usize = 256 * 1024;

enum Sink {
    Plain(BufWriter<Box<dyn Write + Send>>),
    Zstd(zstd::Encoder<'static, BufWriter<File>>),
    Gzip(flate2::write::GzEncoder<BufWriter<File>>),
}

/// A file's sink, compressed as its name says.
fn file_sink(path: &Path, file: File) -> io::Result<Sink> {
    let file = BufWriter::with_capacity(BUF_SIZE, file);
    Ok(match path.extension().and_then(|e| e.to_str()) {
        Some("zst") => Sink::Zstd(zstd::Encoder::new(file, 3)?),
        Some("gz") => Sink::Gzip(flate2::write::GzEncoder::new(file, flate2::Compression::default())),
        _ => Sink::Plain(BufWriter::with_capacity(BUF_SIZE, Box::new(file))),
    })
}

#[cfg(feature = "kafka")]
fn kafka_sink(p: &Path) -> io::Result<Box<dyn Write + Send>> {
    let url = super::kafka_url(p).map_err(io::Error::other)?;
    Ok(Box::new(super::KafkaSink::open(&url, false).map_err(io::Error::other)?))
}

#[cfg(not(feature = "kafka"))]
fn kafka_sink(p: &Path) -> io::Result<Box<dyn Write + Send>> {
    Err(io::Error::other(super::kafka_url(p).err().unwrap_or_default()))
}

/// An NDJSON writer.
pub struct Output {
    sink: Sink,
    /// The file, for `reopen` (SIGHUP); `None` for stdout and writers.
    path: Option<std::path::PathBuf>,
    written: u64,
    line: Vec<u8>,
}

impl Output {
    /// stdout when `path` is `None` or `-`.
    /// A `kafka://HOST:PORT/TOPIC` produces each line as a message; `flush` waits
    /// until the broker acknowledged them.
    pub fn open(path: Option<&Path>) -> io::Result<Output> {
        let sink = Output::sink(path)?;
        let path = path.filter(|p| p.as_os_str() != "-" && !super::is_kafka(p)).map(Path::to_path_buf);
        Ok(Output { sink, path, written: 0, line: Vec::with_capacity(4096) })
    }

    /// As [`Output::open`], but a file is appended to, not emptied: a consumer of a
    /// Kafka topic started again goes on after what it wrote and committed before.
    pub fn open_appending(path: Option<&Path>) -> io::Result<Output> {
        match path {
            Some(p) if p.as_os_str() != "-" && !super::is_kafka(p) => Output::append(p),
            other => Output::open(other),
        }
    }

    /// The file at `path`, appended to (created if missing): `metron run`'s file sink,
    /// which goes on after a restart.
    pub fn append(path: &Path) -> io::Result<Output> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        Ok(Output {
            sink: file_sink(path, file)?,
            path: Some(path.to_path_buf()),
            written: 0,
            line: Vec::with_capacity(4096),
        })
    }

    fn sink(path: Option<&Path>) -> io::Result<Sink> {
        Ok(match path {
            None => Sink::Plain(BufWriter::with_capacity(BUF_SIZE, Box::new(io::stdout()))),
            Some(p) if p.as_os_str() == "-" => Sink::Plain(BufWriter::with_capacity(BUF_SIZE, Box::new(io::stdout()))),
            Some(p) if super::is_kafka(p) => Sink::Plain(BufWriter::with_capacity(BUF_SIZE, kafka_sink(p)?)),
            Some(p) => {
                let file = File::create(p).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))?;
                file_sink(p, file)?
            }
        })
    }

    /// Finishes the file and opens its name again, appending (a log rotator renamed
    /// it and sent SIGHUP). stdout is left as it is.
    pub fn reopen(&mut self) -> io::Result<()> {
        let Some(path) = self.path.clone() else { return self.flush() };
        let old = std::mem::replace(&mut self.sink, Sink::Plain(BufWriter::new(Box::new(io::sink()))));
        match old {
            Sink::Plain(mut w) => w.flush()?,
            Sink::Zstd(w) => w.finish()?.flush()?,
            Sink::Gzip(w) => w.finish()?.flush()?,
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        self.sink = file_sink(&path, file)?;
        Ok(())
    }

    /// An output into any writer (tests, in-process pipelines).
    pub fn from_writer(w: Box<dyn Write + Send>) -> Output {
        Output {
            sink: Sink::Plain(BufWriter::with_capacity(BUF_SIZE, w)),
            path: None,
            written: 0,
            line: Vec::with_capacity(4096),
        }
    }

    /// The underlying byte writer (for output that is not events, e.g. generated logs).
    pub fn raw_writer(&mut self) -> &mut dyn Write {
        match &mut self.sink {
            Sink::Plain(w) => w,
            Sink::Zstd(w) => w,
            Sink::Gzip(w) => w,
        }
    }

    /// Writes one event as one line. The event is serialized into a reused buffer
    /// first: serde_json writes many small pieces, which are cheap into a `Vec` and
    /// costly through a `dyn Write`.
    pub fn write_event(&mut self, event: &Event) -> io::Result<()> {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        serde_json::to_writer(&mut line, event).map_err(io::Error::from)?;
        line.push(b'\n');
        let result = self.raw_writer().write_all(&line);
        self.line = line;
        result?;
        self.written += 1;
        Ok(())
    }

    /// Writes lines that are already NDJSON (each ending in a newline), `lines` of
    /// them: a stage's fast path that never built the events.
    pub fn write_lines(&mut self, bytes: &[u8], lines: u64) -> io::Result<()> {
        self.raw_writer().write_all(bytes)?;
        self.written += lines;
        Ok(())
    }

    /// Events written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Pushes buffered lines out (used while following, so events appear promptly).
    pub fn flush(&mut self) -> io::Result<()> {
        self.raw_writer().flush()
    }

    /// Flushes and, for compressed output, writes the end of the stream.
    pub fn finish(self) -> io::Result<()> {
        match self.sink {
            Sink::Plain(mut w) => w.flush(),
            Sink::Zstd(w) => w.finish()?.flush(),
            Sink::Gzip(w) => w.finish()?.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::event_from_value;
    use serde_json::json;

    #[test]
    fn zst_output_is_compressed_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.ndjson.zst");
        let mut out = Output::open(Some(&path)).unwrap();
        let event = event_from_value(json!({"a": 1})).unwrap();
        out.write_event(&event).unwrap();
        out.write_event(&event).unwrap();
        out.finish().unwrap();
        let raw = std::fs::read(&path).unwrap();
        assert_eq!(&raw[..4], &[0x28, 0xB5, 0x2F, 0xFD]);
        let text = String::from_utf8(zstd::decode_all(&raw[..]).unwrap()).unwrap();
        assert_eq!(text, "{\"a\":1}\n{\"a\":1}\n");
    }
}
