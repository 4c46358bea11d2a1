//! Cutting a TCP/TLS byte stream into syslog messages, with both framings of RFC 6587:
//! octet counting (`LEN SP MSG`, the message may hold newlines) and LF-terminated
//! (non-transparent framing). The framing is told from the connection's first byte (a
//! digit: octet counting), as RFC 6587 has one framing per connection. Memory is
//! bounded: a message over the limit is reported with its length and first bytes, and
//! skipped to the next frame.

/// Bytes of an over-long message kept for its report.
pub const PREFIX_KEPT: usize = 256;

/// Digits an octet count may have (a count of 10^9 is already far over any limit).
const MAX_COUNT_DIGITS: usize = 10;

/// What the framer finds.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    Message(&'a [u8]),
    /// A message over the limit: its first bytes and its length (counted to its end).
    TooLong {
        prefix: &'a [u8],
        len: usize,
    },
    /// An octet count that is not one (`12x`, a count with no space after it): the
    /// frame is read as LF-terminated instead.
    BadCount,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Unknown,
    Octet,
    Lf,
}

#[derive(Debug)]
enum State {
    /// Between frames.
    Start,
    /// Reading a counted message of this many bytes (`partial` holds what came).
    Counted(usize),
    /// Reading an LF-terminated message into `partial`.
    Line,
    /// Discarding the rest of an over-long message: counted bytes left, or to the LF.
    SkipCounted {
        left: usize,
        len: usize,
    },
    SkipLine {
        len: usize,
    },
}

/// A per-connection framer: feed it what `read` returned, it calls back per frame.
#[derive(Debug)]
pub struct Framer {
    max: usize,
    mode: Mode,
    state: State,
    partial: Vec<u8>,
    prefix: Vec<u8>,
}

impl Framer {
    pub fn new(max_message: usize) -> Framer {
        Framer {
            max: max_message.max(1),
            mode: Mode::Unknown,
            state: State::Start,
            partial: Vec::new(),
            prefix: Vec::new(),
        }
    }

    /// Whether this connection uses octet counting (known after its first byte).
    pub fn octet_counting(&self) -> Option<bool> {
        match self.mode {
            Mode::Unknown => None,
            Mode::Octet => Some(true),
            Mode::Lf => Some(false),
        }
    }

    /// Feeds bytes; `f` gets every frame they complete.
    pub fn push(&mut self, mut data: &[u8], f: &mut dyn FnMut(Frame<'_>)) {
        while !data.is_empty() {
            data = match self.state {
                State::Start => self.start(data, f),
                State::Counted(len) => self.counted(data, len, f),
                State::Line => self.line(data, f),
                State::SkipCounted { left, len } => {
                    let take = left.min(data.len());
                    if take == left {
                        self.report_too_long(len, f);
                        self.state = State::Start;
                    } else {
                        self.state = State::SkipCounted { left: left - take, len };
                    }
                    &data[take..]
                }
                State::SkipLine { len } => match memchr::memchr(b'\n', data) {
                    Some(at) => {
                        self.report_too_long(len + at, f);
                        self.state = State::Start;
                        &data[at + 1..]
                    }
                    None => {
                        self.state = State::SkipLine { len: len + data.len() };
                        &[]
                    }
                },
            };
        }
    }

    /// The connection ended: a last LF-terminated message without its LF is still a
    /// message; a counted message cut short is reported as such (`TooLong` is not
    /// right for it, so it is a message of what came, as rsyslog keeps it).
    pub fn finish(&mut self, f: &mut dyn FnMut(Frame<'_>)) {
        match std::mem::replace(&mut self.state, State::Start) {
            State::Line | State::Counted(_) if !self.partial.is_empty() => {
                let msg = std::mem::take(&mut self.partial);
                let msg = trim_cr(&msg);
                if !msg.is_empty() {
                    f(Frame::Message(msg));
                }
            }
            State::Start if !self.partial.is_empty() => {
                // An octet count that never got its space.
                let msg = std::mem::take(&mut self.partial);
                f(Frame::Message(&msg));
            }
            State::SkipLine { len } => self.report_too_long(len, f),
            State::SkipCounted { len, .. } => self.report_too_long(len, f),
            _ => {}
        }
        self.partial.clear();
    }

    fn start<'d>(&mut self, data: &'d [u8], f: &mut dyn FnMut(Frame<'_>)) -> &'d [u8] {
        // Blank lines and stray separators between frames say nothing.
        let skip = if self.partial.is_empty() {
            data.iter().take_while(|b| matches!(b, b'\n' | b'\r' | 0)).count()
        } else {
            0
        };
        let data = &data[skip..];
        let Some(&first) = data.first() else { return data };
        if self.mode == Mode::Unknown {
            self.mode = if first.is_ascii_digit() && self.partial.is_empty() { Mode::Octet } else { Mode::Lf };
        }
        if self.mode == Mode::Lf {
            self.state = State::Line;
            return data;
        }
        // Octet counting: `LEN SP`, possibly split across reads (kept in `partial`).
        let mut i = 0;
        while i < data.len() {
            let b = data[i];
            if b.is_ascii_digit() && self.partial.len() < MAX_COUNT_DIGITS {
                self.partial.push(b);
                i += 1;
                continue;
            }
            if b == b' ' && !self.partial.is_empty() {
                let len = std::str::from_utf8(&self.partial).ok().and_then(|s| s.parse::<usize>().ok()).unwrap_or(0);
                self.partial.clear();
                if len == 0 {
                    f(Frame::BadCount);
                    self.state = State::Line;
                    return &data[i + 1..];
                }
                self.state = if len > self.max {
                    self.prefix.clear();
                    State::SkipCounted { left: len, len }
                } else {
                    State::Counted(len)
                };
                return &data[i + 1..];
            }
            // Not a count: read this frame as a line, from its first byte.
            f(Frame::BadCount);
            self.state = State::Line;
            return &data[i..];
        }
        &[]
    }

    fn counted<'d>(&mut self, data: &'d [u8], len: usize, f: &mut dyn FnMut(Frame<'_>)) -> &'d [u8] {
        let want = len - self.partial.len();
        if self.partial.is_empty() && data.len() >= len {
            f(Frame::Message(&data[..len]));
            self.state = State::Start;
            return &data[len..];
        }
        let take = want.min(data.len());
        self.partial.extend_from_slice(&data[..take]);
        if self.partial.len() == len {
            f(Frame::Message(&self.partial));
            self.partial.clear();
            self.state = State::Start;
        }
        &data[take..]
    }

    fn line<'d>(&mut self, data: &'d [u8], f: &mut dyn FnMut(Frame<'_>)) -> &'d [u8] {
        match memchr::memchr(b'\n', data) {
            Some(at) => {
                let total = self.partial.len() + at;
                if total > self.max {
                    self.keep_prefix(&data[..at]);
                    self.partial.clear();
                    self.report_too_long(total, f);
                } else if self.partial.is_empty() {
                    let msg = trim_cr(&data[..at]);
                    if !msg.is_empty() {
                        f(Frame::Message(msg));
                    }
                } else {
                    self.partial.extend_from_slice(&data[..at]);
                    let msg = std::mem::take(&mut self.partial);
                    let trimmed = trim_cr(&msg);
                    if !trimmed.is_empty() {
                        f(Frame::Message(trimmed));
                    }
                    self.partial = msg;
                    self.partial.clear();
                }
                self.state = State::Start;
                &data[at + 1..]
            }
            None => {
                if self.partial.len() + data.len() > self.max {
                    let len = self.partial.len() + data.len();
                    self.keep_prefix(data);
                    self.partial.clear();
                    self.state = State::SkipLine { len };
                } else {
                    self.partial.extend_from_slice(data);
                }
                &[]
            }
        }
    }

    /// Keeps the first bytes of an over-long line for its report.
    fn keep_prefix(&mut self, more: &[u8]) {
        self.prefix.clear();
        let from_partial = self.partial.len().min(PREFIX_KEPT);
        self.prefix.extend_from_slice(&self.partial[..from_partial]);
        let room = PREFIX_KEPT - self.prefix.len();
        self.prefix.extend_from_slice(&more[..room.min(more.len())]);
    }

    fn report_too_long(&mut self, len: usize, f: &mut dyn FnMut(Frame<'_>)) {
        f(Frame::TooLong { prefix: &self.prefix, len });
        self.prefix.clear();
    }
}

fn trim_cr(msg: &[u8]) -> &[u8] {
    msg.strip_suffix(b"\r").unwrap_or(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    enum Got {
        M(String),
        Long(usize),
        Bad,
    }

    fn frames(chunks: &[&[u8]], max: usize) -> Vec<Got> {
        let mut framer = Framer::new(max);
        let mut got = Vec::new();
        let mut f = |fr: Frame<'_>| {
            got.push(match fr {
                Frame::Message(m) => Got::M(String::from_utf8_lossy(m).into_owned()),
                Frame::TooLong { len, .. } => Got::Long(len),
                Frame::BadCount => Got::Bad,
            })
        };
        for c in chunks {
            framer.push(c, &mut f);
        }
        framer.finish(&mut f);
        got
    }

    fn m(s: &str) -> Got {
        Got::M(s.to_owned())
    }

    #[test]
    fn lf_framing_splits_lines_and_trims_cr() {
        assert_eq!(frames(&[b"<13>a\n<13>b\r\n\n<13>c"], 100), [m("<13>a"), m("<13>b"), m("<13>c")]);
    }

    #[test]
    fn octet_counting_keeps_newlines_inside_messages() {
        assert_eq!(frames(&[b"11 <13>a\nline2", b"5 hello"], 100), [m("<13>a\nline2"), m("hello")]);
    }

    #[test]
    fn any_split_of_the_stream_gives_the_same_frames() {
        let stream = b"11 <13>a\nline2\n5 hello3 abc";
        let whole = frames(&[stream], 100);
        assert_eq!(whole, [m("<13>a\nline2"), m("hello"), m("abc")]);
        for cut in 1..stream.len() {
            assert_eq!(frames(&[&stream[..cut], &stream[cut..]], 100), whole, "cut at {cut}");
        }
        let lf = b"<1>one\n<2>two\r\n<3>three\n";
        for cut in 1..lf.len() {
            assert_eq!(frames(&[&lf[..cut], &lf[cut..]], 100), frames(&[lf], 100), "cut at {cut}");
        }
    }

    #[test]
    fn over_long_messages_are_reported_and_skipped_to_the_next_frame() {
        let long = format!("{}\n<13>next\n", "x".repeat(50));
        assert_eq!(frames(&[long.as_bytes()], 10), [Got::Long(50), m("<13>next")]);
        let counted = format!("50 {}4 next", "y".repeat(50));
        assert_eq!(frames(&[counted.as_bytes()], 10), [Got::Long(50), m("next")]);
        // Split across reads, the length is still counted to the end.
        let mut got = frames(&[&long.as_bytes()[..20], &long.as_bytes()[20..]], 10);
        assert_eq!(got.remove(0), Got::Long(50));
    }

    #[test]
    fn a_bad_count_is_read_as_a_line() {
        assert_eq!(frames(&[b"12x hello\n3 abc"], 100), [Got::Bad, m("12x hello"), m("abc")]);
        assert_eq!(frames(&[b"0 \n3 abc"], 100), [Got::Bad, m("abc")]);
    }

    #[test]
    fn the_first_byte_decides_the_framing() {
        // A connection that starts with '<' is LF-framed: a digit later is text.
        assert_eq!(frames(&[b"<13>a\n5 hello\n"], 100), [m("<13>a"), m("5 hello")]);
    }
}
