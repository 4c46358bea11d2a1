//! HTTP/1.x transactions from a reassembled TCP connection (`capture --emit http`):
//! one `metron.http` record per request and its response, with the fields of Zeek's
//! http.log. Pipelined requests each get their own record, in order; responses are
//! matched to requests first in, first out.
//!
//! Heads are read with httparse (hyper's parser) once a blank line ends them, and at
//! most 64 KB of head is held: a longer one is not HTTP to us, and that direction is
//! given up. Bodies are never held: their lengths are counted as they pass, by
//! Content-Length, chunked transfer coding, or the connection's end.
//!
//! Departures from Zeek: `response_body_len` and `request_body_len` count the body as
//! sent (after the chunked coding is removed, before any gzip content coding is
//! undone, which Zeek does); `resp_mime_types` comes from Content-Type, where Zeek
//! looks at the body's first bytes.

use super::tcp::{Records, StreamParser};
use crate::event::{event_with_capacity, fields, Event};
use serde_json::Value;
use std::collections::VecDeque;

/// Longest request or response head held while it is incomplete.
const MAX_HEAD: usize = 64 * 1024;
/// Requests waiting for their responses; past it the oldest is written without one.
const MAX_PENDING: usize = 100;
/// Headers read per head.
const MAX_HEADERS: usize = 128;

/// How a request line starts.
pub(super) const METHODS: [&[u8]; 9] =
    [b"GET ", b"POST ", b"HEAD ", b"PUT ", b"DELETE ", b"OPTIONS ", b"CONNECT ", b"TRACE ", b"PATCH "];

/// Whether a client's first bytes are an HTTP request line.
pub fn looks_like_request(b: &[u8]) -> bool {
    METHODS.iter().any(|m| b.starts_with(m))
}

/// One request and its response as they are read.
#[derive(Debug, Default)]
struct Txn {
    ts_ns: i64,
    depth: u64,
    method: Option<String>,
    uri: Option<String>,
    version: Option<String>,
    host: Option<String>,
    user_agent: Option<String>,
    referrer: Option<String>,
    origin: Option<String>,
    request_body_len: u64,
    response_body_len: u64,
    status_code: Option<u16>,
    status_msg: Option<String>,
    info_code: Option<u16>,
    info_msg: Option<String>,
    resp_mime_type: Option<String>,
}

/// How the rest of a body is delimited.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
enum Body {
    /// No body being read: the next bytes are a head.
    #[default]
    Head,
    Length(u64),
    Chunked(Chunk),
    /// Until the connection closes (a response without a length).
    UntilClose,
}

/// Where in a chunked body.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Chunk {
    /// The size line, as read so far.
    Size(Vec<u8>),
    Data(u64),
    /// The line end after a chunk's data.
    DataEnd,
    /// Trailer lines, up to the empty one; `bool` when the current line has text.
    Trailer(bool),
}

#[derive(Debug, Default)]
struct Dir {
    head: Vec<u8>,
    body: Body,
    /// Not HTTP, or lost in a gap: nothing more is read this way.
    broken: bool,
}

/// The parser of one connection.
#[derive(Debug, Default)]
pub struct Http {
    req: Dir,
    resp: Dir,
    /// Requests sent whose responses have not begun, oldest first.
    pending: VecDeque<Txn>,
    /// The transaction whose response is being read.
    answering: Option<Txn>,
    /// The request whose body is being read: its depth.
    uploading: u64,
    depth: u64,
    /// The connection switched protocols (101) or tunnels (CONNECT): no more HTTP.
    upgraded: bool,
}

impl StreamParser for Http {
    /// In-order bytes from the client (`client`) or the server; `false` when that
    /// direction turned out not to be HTTP.
    fn data(&mut self, client: bool, mut bytes: &[u8], ts_ns: i64, out: &mut Records) -> bool {
        if self.upgraded {
            return true;
        }
        while !bytes.is_empty() {
            let dir = if client { &self.req } else { &self.resp };
            if dir.broken || self.upgraded {
                return !dir.broken;
            }
            let used = if dir.body == Body::Head {
                match self.head(client, bytes, ts_ns, out) {
                    Some(used) => used,
                    None => {
                        if client {
                            self.req.broken = true;
                        } else {
                            self.resp.broken = true;
                        }
                        return false;
                    }
                }
            } else {
                self.body(client, bytes, out)
            };
            bytes = bytes.get(used..).unwrap_or_default();
        }
        true
    }

    /// A hole of `len` bytes in one direction: inside a body of known length it is
    /// counted and reading goes on; anywhere else the direction is lost.
    fn gap(&mut self, client: bool, len: u64) -> bool {
        let dir = if client { &mut self.req } else { &mut self.resp };
        let ended = match &mut dir.body {
            Body::Length(left) if *left >= len => {
                *left -= len;
                *left == 0
            }
            Body::UntilClose => false,
            _ => {
                dir.broken = true;
                return false;
            }
        };
        if ended {
            dir.body = Body::Head;
        }
        let txn = if client { self.uploading_txn() } else { self.answering.as_mut() };
        if let Some(t) = txn {
            if client {
                t.request_body_len += len;
            } else {
                t.response_body_len += len;
            }
        }
        true
    }

    /// The connection ended: what is still open is written as it is.
    fn end(&mut self, out: &mut Records) {
        if let Some(t) = self.answering.take() {
            out.push(record(t));
        }
        while let Some(t) = self.pending.pop_front() {
            out.push(record(t));
        }
    }
}

impl Http {
    fn uploading_txn(&mut self) -> Option<&mut Txn> {
        let depth = self.uploading;
        if let Some(t) = self.pending.iter_mut().find(|t| t.depth == depth) {
            return Some(t);
        }
        self.answering.as_mut().filter(|t| t.depth == depth)
    }

    /// Reads a head when all of it is there: the bytes used (all of them while it is
    /// incomplete), or `None` when it is not HTTP.
    fn head(&mut self, client: bool, bytes: &[u8], ts_ns: i64, out: &mut Records) -> Option<usize> {
        let dir = if client { &mut self.req } else { &mut self.resp };
        // Line ends between messages are skipped.
        if dir.head.is_empty() {
            let blank = bytes.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
            if blank > 0 {
                return Some(blank);
            }
        }
        let before = dir.head.len();
        let search_from = before.saturating_sub(3);
        let take = bytes.len().min(MAX_HEAD + 1 - before.min(MAX_HEAD));
        dir.head.extend_from_slice(&bytes[..take]);
        let Some(end) = head_end(&dir.head, search_from) else {
            return (dir.head.len() <= MAX_HEAD).then_some(take);
        };
        let head = std::mem::take(&mut dir.head);
        let used = end - before;
        if client {
            self.request(&head[..end], ts_ns, out)?;
        } else {
            self.response(&head[..end], ts_ns, out)?;
        }
        Some(used)
    }

    fn request(&mut self, head: &[u8], ts_ns: i64, out: &mut Records) -> Option<()> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(head) {
            Ok(httparse::Status::Complete(_)) => {}
            _ => return None,
        }
        self.depth += 1;
        let mut t = Txn {
            ts_ns,
            depth: self.depth,
            method: req.method.map(str::to_owned),
            uri: req.path.map(unescape),
            version: req.version.map(|v| format!("1.{v}")),
            ..Txn::default()
        };
        let mut body = Body::Head;
        for h in req.headers.iter() {
            let value = || header_text(h.value);
            match h.name.to_ascii_lowercase().as_str() {
                "host" => t.host = Some(value()),
                "user-agent" => t.user_agent = Some(value()),
                "referer" => t.referrer = Some(value()),
                "origin" => t.origin = Some(value()),
                _ => {}
            }
            body = body_of(h, body);
        }
        if t.method.as_deref() == Some("CONNECT") {
            // What follows a CONNECT is a tunnel, once the server agrees.
            body = Body::Head;
        }
        if body == Body::UntilClose {
            body = Body::Head; // a request without a length has no body
        }
        self.uploading = t.depth;
        if self.pending.len() >= MAX_PENDING {
            if let Some(old) = self.pending.pop_front() {
                out.push(record(old));
            }
        }
        self.pending.push_back(t);
        self.req.body = body;
        Some(())
    }

    fn response(&mut self, head: &[u8], ts_ns: i64, out: &mut Records) -> Option<()> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut headers);
        match resp.parse(head) {
            Ok(httparse::Status::Complete(_)) => {}
            _ => return None,
        }
        let code = resp.code.unwrap_or(0);
        let reason = resp.reason.map(str::to_owned);
        if (100..200).contains(&code) && code != 101 {
            // An interim response: noted on the request it answers, whose final one follows.
            if let Some(t) = self.pending.front_mut() {
                t.info_code = Some(code);
                t.info_msg = reason;
            }
            return Some(());
        }
        if let Some(done) = self.answering.take() {
            // Its body ended in a gap.
            out.push(record(done));
        }
        let mut t = self.pending.pop_front().unwrap_or_else(|| {
            self.depth += 1;
            Txn { ts_ns, depth: self.depth, ..Txn::default() }
        });
        t.status_code = Some(code);
        t.status_msg = reason;
        t.version = resp.version.map(|v| format!("1.{v}"));
        let mut body = Body::UntilClose;
        for h in resp.headers.iter() {
            if h.name.eq_ignore_ascii_case("content-type") {
                let v = header_text(h.value);
                let media = v.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
                if !media.is_empty() {
                    t.resp_mime_type = Some(media);
                }
            }
            body = body_of(h, body);
        }
        let no_body = t.method.as_deref() == Some("HEAD") || code == 204 || code == 304;
        let tunnel = code == 101 || (t.method.as_deref() == Some("CONNECT") && (200..300).contains(&code));
        if no_body || tunnel {
            body = Body::Head;
        }
        if tunnel {
            self.upgraded = true;
        }
        if body == Body::Head || body == Body::Length(0) {
            out.push(record(t));
            self.resp.body = Body::Head;
        } else {
            self.answering = Some(t);
            self.resp.body = body;
        }
        Some(())
    }

    /// Body bytes: counted on their transaction. Returns the bytes used.
    fn body(&mut self, client: bool, bytes: &[u8], out: &mut Records) -> usize {
        let dir = if client { &mut self.req } else { &mut self.resp };
        let (used, counted, done) = consume(&mut dir.body, bytes);
        let txn = if client { self.uploading_txn() } else { self.answering.as_mut() };
        if let Some(t) = txn {
            if client {
                t.request_body_len += counted;
            } else {
                t.response_body_len += counted;
            }
        }
        if done {
            let dir = if client { &mut self.req } else { &mut self.resp };
            dir.body = Body::Head;
            if !client {
                if let Some(t) = self.answering.take() {
                    out.push(record(t));
                }
            }
        }
        used
    }
}

/// Where the blank line that ends a head is (the offset just past it), searching
/// from `from`.
fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    let tail = buf.get(from..)?;
    let crlf = memchr::memmem::find(tail, b"\r\n\r\n").map(|i| from + i + 4);
    let lf = memchr::memmem::find(tail, b"\n\n").map(|i| from + i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The body framing a header sets, over what was set before.
fn body_of(h: &httparse::Header<'_>, body: Body) -> Body {
    if h.name.eq_ignore_ascii_case("transfer-encoding") {
        let v = header_text(h.value).to_ascii_lowercase();
        if v.split(',').any(|c| c.trim() == "chunked") {
            return Body::Chunked(Chunk::Size(Vec::new()));
        }
    }
    if h.name.eq_ignore_ascii_case("content-length") && !matches!(body, Body::Chunked(_)) {
        if let Ok(n) = header_text(h.value).trim().parse::<u64>() {
            return if n == 0 { Body::Head } else { Body::Length(n) };
        }
    }
    body
}

/// Reads body bytes: (bytes used, body bytes among them, whether the body ended).
fn consume(body: &mut Body, bytes: &[u8]) -> (usize, u64, bool) {
    match body {
        Body::Head => (0, 0, true),
        Body::UntilClose => (bytes.len(), bytes.len() as u64, false),
        Body::Length(left) => {
            let n = (*left).min(bytes.len() as u64);
            *left -= n;
            (n as usize, n, *left == 0)
        }
        Body::Chunked(chunk) => {
            let mut at = 0;
            let mut counted = 0;
            while at < bytes.len() {
                match chunk {
                    Chunk::Size(line) => {
                        let Some(nl) = memchr::memchr(b'\n', &bytes[at..]) else {
                            line.extend_from_slice(&bytes[at..]);
                            if line.len() > 1024 {
                                // Not a chunk size line: the rest is read to the close.
                                *body = Body::UntilClose;
                            }
                            return (bytes.len(), counted, false);
                        };
                        line.extend_from_slice(&bytes[at..at + nl]);
                        at += nl + 1;
                        // Err(true): a blank line, as some senders put after a chunk.
                        let size = {
                            let text = String::from_utf8_lossy(line);
                            let hex = text.split(';').next().unwrap_or("").trim();
                            u64::from_str_radix(hex, 16).map_err(|_| hex.is_empty())
                        };
                        match size {
                            Ok(0) => *chunk = Chunk::Trailer(false),
                            Ok(n) => *chunk = Chunk::Data(n),
                            Err(true) => line.clear(),
                            Err(false) => {
                                *body = Body::UntilClose;
                                return (at, counted, false);
                            }
                        }
                    }
                    Chunk::Data(left) => {
                        let n = (*left).min((bytes.len() - at) as u64);
                        *left -= n;
                        at += n as usize;
                        counted += n;
                        if *left == 0 {
                            *chunk = Chunk::DataEnd;
                        }
                    }
                    Chunk::DataEnd => {
                        let b = bytes[at];
                        at += 1;
                        if b == b'\n' {
                            *chunk = Chunk::Size(Vec::new());
                        }
                    }
                    Chunk::Trailer(text) => {
                        let b = bytes[at];
                        at += 1;
                        match b {
                            b'\n' if !*text => return (at, counted, true),
                            b'\n' => *text = false,
                            b'\r' => {}
                            _ => *text = true,
                        }
                    }
                }
            }
            (at, counted, false)
        }
    }
}

/// A header value as text: bytes outside printable ASCII (and the backslash) as `\xNN`.
fn header_text(v: &[u8]) -> String {
    match std::str::from_utf8(v) {
        Ok(s) if !s.chars().any(char::is_control) => s.trim().to_owned(),
        _ => escape(v).trim().to_owned(),
    }
}

fn escape(v: &[u8]) -> String {
    let mut s = String::with_capacity(v.len());
    crate::text::push_escaped(&mut s, v);
    s
}

/// The URI with %XX escapes decoded, as Zeek logs it.
fn unescape(uri: &str) -> String {
    let b = uri.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| char::from(c).to_digit(16);
        if b[i] == b'%' {
            if let (Some(h), Some(l)) = (b.get(i + 1).and_then(|&c| hex(c)), b.get(i + 2).and_then(|&c| hex(c))) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) if !s.chars().any(char::is_control) => s,
        Ok(s) => escape(s.as_bytes()),
        Err(e) => escape(e.as_bytes()),
    }
}

fn record(t: Txn) -> Event {
    let mut e = event_with_capacity(32);
    let mut put = |k: &str, v: Value| {
        e.insert(k.to_owned(), v);
    };
    super::flow::put_time(&mut put, t.ts_ns);
    put("trans_depth", Value::from(t.depth));
    let text = [
        ("method", t.method),
        ("host", t.host),
        ("uri", t.uri),
        ("referrer", t.referrer),
        ("version", t.version),
        ("user_agent", t.user_agent),
        ("origin", t.origin),
    ];
    for (k, v) in text {
        if let Some(v) = v {
            put(k, Value::from(v));
        }
    }
    put("request_body_len", Value::from(t.request_body_len));
    put("response_body_len", Value::from(t.response_body_len));
    if let Some(c) = t.status_code {
        put("status_code", Value::from(c));
    }
    if let Some(m) = t.status_msg {
        put("status_msg", Value::from(m));
    }
    if let Some(c) = t.info_code {
        put("info_code", Value::from(c));
    }
    if let Some(m) = t.info_msg {
        put("info_msg", Value::from(m));
    }
    if let Some(m) = t.resp_mime_type {
        put("resp_mime_types", Value::from(vec![m]));
    }
    put(fields::SOURCE_TYPE, Value::from("metron.http"));
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(parts: &[(bool, &[u8])]) -> Vec<Event> {
        let mut h = Http::default();
        let mut out = Vec::new();
        for (i, (client, bytes)) in parts.iter().enumerate() {
            h.data(*client, bytes, i as i64 * 1_000_000, &mut out);
        }
        h.end(&mut out);
        out
    }

    #[test]
    fn pipelined_requests_split_anywhere_each_get_their_response() {
        let req = b"GET /a HTTP/1.1\r\nHost: x.test\r\nUser-Agent: t/1\r\n\r\nPOST /b%20c HTTP/1.1\r\nHost: x.test\r\nContent-Length: 5\r\n\r\nhello";
        let resp = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwxyz\r\n2;x=y\r\nab\r\n0\r\nX-T: 1\r\n\r\n";
        for split in [1, 7, 40, req.len()] {
            let mut parts: Vec<(bool, &[u8])> = req.chunks(split).map(|c| (true, c)).collect();
            parts.extend(resp.chunks(split).map(|c| (false, c)));
            let out = run(&parts);
            assert_eq!(out.len(), 2, "split {split}: {out:?}");
            assert_eq!(out[0]["method"], "GET");
            assert_eq!(out[0]["uri"], "/a");
            assert_eq!(out[0]["host"], "x.test");
            assert_eq!(out[0]["user_agent"], "t/1");
            assert_eq!(out[0]["status_code"], 200);
            assert_eq!(out[0]["response_body_len"], 3);
            assert_eq!(out[0]["resp_mime_types"], serde_json::json!(["text/html"]));
            assert_eq!(out[1]["method"], "POST");
            assert_eq!(out[1]["uri"], "/b c");
            assert_eq!(out[1]["trans_depth"], 2);
            assert_eq!(out[1]["request_body_len"], 5);
            assert_eq!(out[1]["status_code"], 404);
            assert_eq!(out[1]["status_msg"], "Not Found");
            assert_eq!(out[1]["response_body_len"], 6);
        }
    }

    #[test]
    fn requests_without_responses_and_bodies_to_the_close() {
        let out = run(&[
            (true, b"HEAD / HTTP/1.0\r\n\r\n"),
            (false, b"HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\n"),
            (true, b"GET /next HTTP/1.0\r\n\r\n"),
            (false, b"HTTP/1.0 200 OK\r\n\r\nall of this until the close"),
            (true, b"GET /unanswered HTTP/1.0\r\n\r\n"),
        ]);
        assert_eq!(out.len(), 3, "{out:?}");
        assert_eq!(out[0]["response_body_len"], 0, "a HEAD response has no body");
        assert_eq!(out[1]["uri"], "/next");
        assert_eq!(out[1]["response_body_len"], 27);
        assert_eq!(out[2]["uri"], "/unanswered");
        assert!(out[2].get("status_code").is_none());
    }

    #[test]
    fn an_endless_head_is_given_up() {
        let mut h = Http::default();
        let mut out = Vec::new();
        assert!(h.data(true, b"GET / HTTP/1.1\r\n", 0, &mut out));
        let filler = vec![b'a'; 4096];
        let mut gave_up = false;
        for _ in 0..20 {
            gave_up |= !h.data(true, &filler, 0, &mut out);
        }
        assert!(gave_up);
        assert!(h.req.head.len() <= MAX_HEAD + 1);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(parts in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..300)), 0..12)) {
            let mut h = Http::default();
            let mut out = Vec::new();
            let mut first = true;
            for (client, bytes) in &parts {
                if first {
                    h.data(true, b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 0, &mut out);
                    first = false;
                }
                h.data(*client, bytes, 0, &mut out);
                h.gap(!*client, bytes.len() as u64);
            }
            h.end(&mut out);
        }
    }
}
