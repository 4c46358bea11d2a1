//! Splitting a byte stream into lines without ever holding more than the line cap:
//! a 10 GB input streams through in constant memory, and a 5 GB "line" becomes one
//! error record instead of an out-of-memory kill.

use std::io::{self, BufRead};

/// Default cap on one record: 1 MiB.
pub const DEFAULT_MAX_LINE: usize = 1024 * 1024;

/// What a reader callback asks for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

/// One line as read: its bytes without the newline (and without a trailing `\r`),
/// or, for an over-long line, its first bytes and its full length.
#[derive(Debug, PartialEq, Eq)]
pub enum LineData<'a> {
    Line(&'a [u8]),
    TooLong { prefix: &'a [u8], len: usize },
}

/// Calls `f(line_number, data)` for every line (numbered from 1). A last line without
/// a newline is still a line. Returns the number of lines read.
pub fn read_lines<R: BufRead + ?Sized>(
    reader: &mut R,
    max_len: usize,
    mut f: impl FnMut(u64, LineData<'_>) -> Flow,
) -> io::Result<u64> {
    let mut splitter = LineSplitter::new(max_len);
    loop {
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            splitter.finish(&mut f);
            return Ok(splitter.line_no);
        }
        let (consumed, flow) = splitter.feed(buf, &mut f);
        reader.consume(consumed);
        if flow == Flow::Stop {
            return Ok(splitter.line_no);
        }
    }
}

/// How much of an over-long line is kept to show in the error record.
const PREFIX: usize = 1024;

/// Splits bytes arriving in chunks into lines, keeping an unfinished last line until
/// its newline arrives (a followed file may be mid-write).
#[derive(Debug)]
pub(crate) struct LineSplitter {
    partial: Vec<u8>,
    /// Length so far of an over-long line; its first bytes stay in `partial`.
    overflow: Option<usize>,
    pub(crate) line_no: u64,
    max_len: usize,
}

impl LineSplitter {
    pub(crate) fn new(max_len: usize) -> LineSplitter {
        LineSplitter { partial: Vec::new(), overflow: None, line_no: 0, max_len }
    }

    /// Splits `buf`; returns how many bytes were used (all of them unless `f` stopped).
    pub(crate) fn feed(&mut self, buf: &[u8], f: &mut impl FnMut(u64, LineData<'_>) -> Flow) -> (usize, Flow) {
        let mut start = 0;
        while let Some(pos) = memchr::memchr(b'\n', &buf[start..]) {
            let end = start + pos;
            self.line_no += 1;
            let flow = if self.partial.is_empty() && self.overflow.is_none() {
                let line = &buf[start..end];
                if line.len() > self.max_len {
                    emit(self.line_no, &line[..self.max_len.min(PREFIX)], Some(line.len()), f)
                } else {
                    emit(self.line_no, line, None, f)
                }
            } else {
                self.append(&buf[start..end]);
                let flow = emit(self.line_no, &self.partial, self.overflow, f);
                self.partial.clear();
                self.overflow = None;
                flow
            };
            start = end + 1;
            if flow == Flow::Stop {
                return (start, Flow::Stop);
            }
        }
        self.append(&buf[start..]);
        (buf.len(), Flow::Continue)
    }

    /// True when an unfinished line is held.
    pub(crate) fn has_partial(&self) -> bool {
        !self.partial.is_empty() || self.overflow.is_some()
    }

    /// Emits the unfinished last line, if any.
    pub(crate) fn finish(&mut self, f: &mut impl FnMut(u64, LineData<'_>) -> Flow) -> Flow {
        if !self.has_partial() {
            return Flow::Continue;
        }
        self.line_no += 1;
        let flow = emit(self.line_no, &self.partial, self.overflow, f);
        self.partial.clear();
        self.overflow = None;
        flow
    }

    fn append(&mut self, more: &[u8]) {
        match &mut self.overflow {
            Some(len) => *len += more.len(),
            None if self.partial.len() + more.len() > self.max_len => {
                let len = self.partial.len() + more.len();
                let shown = PREFIX.min(self.max_len);
                self.partial.truncate(shown);
                let need = shown - self.partial.len();
                self.partial.extend_from_slice(&more[..need.min(more.len())]);
                self.overflow = Some(len);
            }
            None => self.partial.extend_from_slice(more),
        }
    }
}

fn emit(line_no: u64, bytes: &[u8], overflow: Option<usize>, f: &mut impl FnMut(u64, LineData<'_>) -> Flow) -> Flow {
    match overflow {
        Some(len) => f(line_no, LineData::TooLong { prefix: bytes, len }),
        None => f(line_no, LineData::Line(bytes.strip_suffix(b"\r").unwrap_or(bytes))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

    fn collect(input: &[u8], max: usize, cap: usize) -> Vec<(u64, String)> {
        let mut reader = BufReader::with_capacity(cap, input);
        let mut out = Vec::new();
        read_lines(&mut reader, max, |n, d| {
            out.push((
                n,
                match d {
                    LineData::Line(l) => String::from_utf8_lossy(l).into_owned(),
                    LineData::TooLong { len, .. } => format!("TOOLONG {len}"),
                },
            ));
            Flow::Continue
        })
        .unwrap();
        out
    }

    #[test]
    fn splits_lines_across_small_buffers() {
        let want = vec![(1, "alpha".into()), (2, "".into()), (3, "gamma".into()), (4, "tail".into())];
        for cap in [1, 2, 3, 7, 1024] {
            assert_eq!(collect(b"alpha\n\r\ngamma\r\ntail", 100, cap), want, "cap {cap}");
        }
    }

    #[test]
    fn over_long_lines_become_one_record_each() {
        let mut input = vec![b'x'; 50];
        input.extend_from_slice(b"\nok\n");
        input.extend(vec![b'y'; 30]);
        for cap in [4, 16, 1024] {
            let got = collect(&input, 20, cap);
            assert_eq!(got, vec![(1, "TOOLONG 50".into()), (2, "ok".into()), (3, "TOOLONG 30".into())], "cap {cap}");
        }
    }

    #[test]
    fn stop_ends_reading() {
        let mut reader = BufReader::new(&b"a\nb\nc\n"[..]);
        let mut seen = 0;
        read_lines(&mut reader, 10, |_, _| {
            seen += 1;
            Flow::Stop
        })
        .unwrap();
        assert_eq!(seen, 1);
    }
}
