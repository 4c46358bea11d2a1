//! HTTP/1.1 for `http://` and `https://` listeners: `POST /` with newline-delimited
//! messages (gzip or zstd bodies accepted), Splunk HEC's `POST /services/collector/
//! event` (and `/raw`) so Vector, Fluent Bit and OpenTelemetry collectors send without
//! a plugin, and `GET /health`. A 200 is sent only after the messages are written and
//! flushed downstream. Limits: 16 KiB of head within 10 s (slow clients get 408),
//! `--max-body-bytes` of body after decompression (413), `--token` (401).

use super::net::{read_some, Conn, Got, Peer};
use super::{Batch, Item, Shared, Stats, Transport};
use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

const MAX_HEAD: usize = 16 * 1024;
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a request is answered with an error, and whether the connection can go on.
struct Refusal {
    status: u16,
    body: String,
    close: bool,
}

fn refuse(status: u16, text: &str, code: u16, close: bool) -> Refusal {
    Refusal { status, body: format!(r#"{{"text":"{text}","code":{code}}}"#), close }
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        431 => "Request Header Fields Too Large",
        _ => "Service Unavailable",
    }
}

fn respond(conn: &mut dyn Conn, status: u16, body: &str, close: bool) -> bool {
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n",
        reason(status),
        body.len(),
        if close { "close" } else { "keep-alive" }
    );
    conn.write_all(head.as_bytes()).and_then(|()| conn.write_all(body.as_bytes())).and_then(|()| conn.flush()).is_ok()
}

/// A request's head, as far as metron cares.
struct Head {
    method: String,
    path: String,
    content_length: Option<usize>,
    chunked: bool,
    encoding: Option<String>,
    authorization: Option<Vec<u8>>,
    close: bool,
    expect_continue: bool,
}

fn parse_head(bytes: &[u8]) -> Result<Head, Refusal> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(bytes) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(refuse(400, "Malformed request", 6, true)),
    }
    let mut head = Head {
        method: req.method.unwrap_or("").to_owned(),
        path: req.path.unwrap_or("/").split('?').next().unwrap_or("/").to_owned(),
        content_length: None,
        chunked: false,
        encoding: None,
        authorization: None,
        close: req.version == Some(0),
        expect_continue: false,
    };
    for h in req.headers.iter() {
        let value = String::from_utf8_lossy(h.value).trim().to_owned();
        match h.name.to_ascii_lowercase().as_str() {
            "content-length" => {
                head.content_length = Some(value.parse().map_err(|_| refuse(400, "Bad Content-Length", 6, true))?)
            }
            "transfer-encoding" => head.chunked = value.to_ascii_lowercase().contains("chunked"),
            "content-encoding" => head.encoding = Some(value.to_ascii_lowercase()),
            "authorization" => head.authorization = Some(h.value.to_vec()),
            "connection" => head.close = value.eq_ignore_ascii_case("close"),
            "expect" => head.expect_continue = value.eq_ignore_ascii_case("100-continue"),
            _ => {}
        }
    }
    Ok(head)
}

/// Bytes read from the connection, consumed as the request is parsed.
struct Inbox {
    buf: Vec<u8>,
    chunk: Vec<u8>,
    last: Instant,
}

impl Inbox {
    /// Reads more; false when the connection ended.
    fn fill(&mut self, conn: &mut dyn Conn, shared: &Shared) -> bool {
        match read_some(conn, &mut self.chunk, &mut self.last, shared) {
            Got::Data(n) => {
                self.buf.extend_from_slice(&self.chunk[..n]);
                true
            }
            Got::End => false,
        }
    }

    /// Takes `n` bytes (reading as needed); `None` if the connection ended first.
    fn take(&mut self, n: usize, conn: &mut dyn Conn, shared: &Shared) -> Option<Vec<u8>> {
        while self.buf.len() < n {
            if !self.fill(conn, shared) {
                return None;
            }
        }
        let rest = self.buf.split_off(n);
        Some(std::mem::replace(&mut self.buf, rest))
    }

    /// Takes a line ending in CRLF (chunked encoding's size lines).
    fn line(&mut self, conn: &mut dyn Conn, shared: &Shared) -> Option<Vec<u8>> {
        loop {
            if let Some(at) = memchr::memmem::find(&self.buf, b"\r\n") {
                let mut line = self.take(at + 2, conn, shared)?;
                line.truncate(at);
                return Some(line);
            }
            if self.buf.len() > MAX_HEAD || !self.fill(conn, shared) {
                return None;
            }
        }
    }
}

pub fn serve(conn: &mut dyn Conn, who: &Peer<'_>) {
    let shared = who.shared;
    let mut inbox = Inbox { buf: Vec::new(), chunk: vec![0u8; 64 * 1024], last: Instant::now() };
    loop {
        // The head, within its size and time.
        let started = Instant::now();
        let head_end = loop {
            if let Some(at) = memchr::memmem::find(&inbox.buf, b"\r\n\r\n") {
                break at + 4;
            }
            if inbox.buf.len() > MAX_HEAD {
                shared.stats.http_rejected.fetch_add(1, Ordering::Relaxed);
                respond(conn, 431, r#"{"text":"Header too large","code":6}"#, true);
                return;
            }
            if !inbox.buf.is_empty() && started.elapsed() > HEAD_TIMEOUT {
                shared.stats.http_rejected.fetch_add(1, Ordering::Relaxed);
                respond(conn, 408, r#"{"text":"Request timeout","code":6}"#, true);
                return;
            }
            if !inbox.fill(conn, shared) {
                return;
            }
        };
        let head_bytes = inbox.take(head_end, conn, shared).unwrap_or_default();
        let outcome = parse_head(&head_bytes).and_then(|head| {
            let wants_close = head.close;
            handle(conn, &mut inbox, &head, who).map_err(|mut r| {
                r.close |= wants_close;
                r
            })
        });
        let (status, body, close) = match outcome {
            Ok((body, close)) => (200, body, close),
            Err(r) => {
                shared.stats.http_rejected.fetch_add(1, Ordering::Relaxed);
                (r.status, r.body, r.close)
            }
        };
        if !respond(conn, status, &body, close) || close || shared.stopping() {
            return;
        }
    }
}

fn handle(conn: &mut dyn Conn, inbox: &mut Inbox, head: &Head, who: &Peer<'_>) -> Result<(String, bool), Refusal> {
    let shared = who.shared;
    enum Route {
        Health,
        Lines,
        Hec,
    }
    let route = match (head.method.as_str(), head.path.as_str()) {
        ("GET", "/health" | "/services/collector/health" | "/services/collector/health/1.0") => Route::Health,
        ("POST", "/" | "/services/collector/raw" | "/services/collector/raw/1.0") => Route::Lines,
        ("POST", "/services/collector" | "/services/collector/event" | "/services/collector/event/1.0") => Route::Hec,
        (_, "/" | "/health") => return Err(refuse(405, "Method not allowed", 6, false)),
        _ => return Err(refuse(404, "Not found", 404, false)),
    };
    if let Route::Health = route {
        return Ok((r#"{"text":"HEC is healthy","code":17}"#.to_owned(), head.close));
    }
    if let Some(token) = &shared.settings.token {
        let presented = head
            .authorization
            .as_deref()
            .and_then(|a| a.strip_prefix(b"Bearer ").or_else(|| a.strip_prefix(b"Splunk ")).map(|t| t.trim_ascii()));
        match presented {
            None => return Err(refuse(401, "Token is required", 2, true)),
            Some(t) if !super::token_matches(t, token.as_bytes()) => return Err(refuse(401, "Invalid token", 4, true)),
            Some(_) => {}
        }
    }
    let max = shared.settings.max_body_bytes;
    if head.content_length.is_some_and(|n| n > max) {
        return Err(refuse(413, "Content too large", 6, true));
    }
    if head.expect_continue && !respond_continue(conn) {
        return Err(refuse(400, "Connection lost", 6, true));
    }
    let raw = if head.chunked {
        read_chunked(conn, inbox, max, shared)?
    } else {
        let n = head.content_length.ok_or_else(|| refuse(411, "Content-Length required", 6, true))?;
        inbox.take(n, conn, shared).ok_or_else(|| refuse(400, "Body cut short", 6, true))?
    };
    let body = decode(raw, head.encoding.as_deref(), max)?;
    let max_message = shared.settings.max_message_bytes;
    let mut batch = who.batch();
    match route {
        Route::Hec => hec_events(&body, &mut batch, max_message, &shared.stats)?,
        _ => lines(&body, &mut batch, max_message, &shared.stats),
    }
    let count = batch.pieces.iter().filter(|p| matches!(p, super::Piece::Message(_))).count() as u64;
    shared.stats.add_messages(who.transport, count);
    if batch.is_empty() {
        return Ok((ok_body(0), head.close));
    }
    let (ack_tx, ack_rx) = mpsc::sync_channel(1);
    batch.ack = Some(ack_tx);
    who.tx.send(Item::Batch(batch)).map_err(|_| refuse(503, "Shutting down", 9, true))?;
    let written = ack_rx.recv().map_err(|_| refuse(503, "Output failed", 8, true))?;
    Ok((ok_body(written), head.close))
}

fn ok_body(count: u64) -> String {
    format!(r#"{{"text":"Success","code":0,"count":{count}}}"#)
}

fn respond_continue(conn: &mut dyn Conn) -> bool {
    conn.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").and_then(|()| conn.flush()).is_ok()
}

fn read_chunked(conn: &mut dyn Conn, inbox: &mut Inbox, max: usize, shared: &Shared) -> Result<Vec<u8>, Refusal> {
    let bad = || refuse(400, "Bad chunked encoding", 6, true);
    let mut body = Vec::new();
    loop {
        let line = inbox.line(conn, shared).ok_or_else(bad)?;
        let size_text = String::from_utf8_lossy(&line);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16).map_err(|_| bad())?;
        if size == 0 {
            // Trailers, up to the empty line.
            while !inbox.line(conn, shared).ok_or_else(bad)?.is_empty() {}
            return Ok(body);
        }
        if body.len() + size > max {
            return Err(refuse(413, "Content too large", 6, true));
        }
        let chunk = inbox.take(size + 2, conn, shared).ok_or_else(bad)?;
        body.extend_from_slice(&chunk[..size]);
    }
}

/// The body, decompressed (gzip, zstd) within the limit.
fn decode(raw: Vec<u8>, encoding: Option<&str>, max: usize) -> Result<Vec<u8>, Refusal> {
    let reader: Box<dyn Read + '_> = match encoding {
        None | Some("identity") | Some("") => return Ok(raw),
        Some("gzip" | "x-gzip") => Box::new(flate2::read::MultiGzDecoder::new(&raw[..])),
        Some("zstd") => {
            Box::new(zstd::stream::read::Decoder::new(&raw[..]).map_err(|_| refuse(400, "Bad zstd body", 6, true))?)
        }
        Some(_) => return Err(refuse(415, "Content-Encoding not supported (gzip, zstd)", 6, true)),
    };
    let mut out = Vec::new();
    reader.take(max as u64 + 1).read_to_end(&mut out).map_err(|_| refuse(400, "Body does not decompress", 6, true))?;
    if out.len() > max {
        return Err(refuse(413, "Content too large", 6, true));
    }
    Ok(out)
}

/// Newline-delimited messages (NDJSON or raw lines).
fn lines(body: &[u8], batch: &mut Batch, max: usize, stats: &Stats) {
    for line in body.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        push_message(batch, line, max, stats);
    }
}

fn push_message(batch: &mut Batch, msg: &[u8], max: usize, stats: &Stats) {
    if msg.len() > max {
        stats.too_long.fetch_add(1, Ordering::Relaxed);
        let prefix = &msg[..super::framing::PREFIX_KEPT.min(msg.len())];
        batch.push(super::Frame::TooLong { prefix, len: msg.len() });
    } else {
        batch.push(super::Frame::Message(msg));
    }
}

/// Splunk HEC events: JSON objects one after another, each with an `event` (a string,
/// kept as it is, or any JSON, kept as compact JSON). One that is not refuses the
/// whole request (400) before anything is written, so a retry duplicates nothing.
fn hec_events(body: &[u8], batch: &mut Batch, max: usize, stats: &Stats) -> Result<(), Refusal> {
    let mut messages = Vec::new();
    for (i, value) in serde_json::Deserializer::from_slice(body).into_iter::<serde_json::Value>().enumerate() {
        let invalid = || Refusal {
            status: 400,
            body: format!(r#"{{"text":"Invalid data format","code":6,"invalid-event-number":{i}}}"#),
            close: false,
        };
        let value = value.map_err(|_| invalid())?;
        let event = value.get("event").ok_or_else(|| Refusal {
            status: 400,
            body: format!(r#"{{"text":"Event field is required","code":12,"invalid-event-number":{i}}}"#),
            close: false,
        })?;
        messages.push(match event {
            serde_json::Value::String(s) => s.clone().into_bytes(),
            other => other.to_string().into_bytes(),
        });
    }
    if messages.is_empty() {
        return Err(refuse(400, "No data", 5, false));
    }
    for m in &messages {
        push_message(batch, m, max, stats);
    }
    Ok(())
}

/// Fuzzing: a request head, a body in each encoding, as lines and as HEC events.
pub fn fuzz(data: &[u8]) {
    let _ = parse_head(data);
    let stats = Stats::default();
    let peer = SocketAddr::from(([127, 0, 0, 1], 1));
    let source: Arc<str> = "http://fuzz".into();
    for encoding in [None, Some("gzip"), Some("zstd")] {
        if let Ok(body) = decode(data.to_vec(), encoding, 1 << 16) {
            let mut batch = Batch::new(&source, Transport::Http, peer);
            lines(&body, &mut batch, 64, &stats);
            let _ = hec_events(&body, &mut batch, 64, &stats);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse_and_bad_ones_are_refused() {
        let h = parse_head(b"POST /services/collector/event HTTP/1.1\r\nContent-Length: 12\r\nAuthorization: Splunk abc\r\nContent-Encoding: GZIP\r\n\r\n")
            .ok()
            .unwrap();
        assert_eq!(
            (h.method.as_str(), h.path.as_str(), h.content_length),
            ("POST", "/services/collector/event", Some(12))
        );
        assert_eq!(h.encoding.as_deref(), Some("gzip"));
        assert!(parse_head(b"\x00\x01garbage\r\n\r\n").is_err());
        assert!(parse_head(b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n").is_err());
    }

    #[test]
    fn bodies_decompress_within_the_limit() {
        let text = b"a\nb\n".repeat(1000);
        let z = zstd::encode_all(&text[..], 3).unwrap();
        assert_eq!(decode(z.clone(), Some("zstd"), 1 << 20).ok().unwrap(), text);
        assert_eq!(decode(z, Some("zstd"), 100).err().unwrap().status, 413);
        assert_eq!(decode(b"x".to_vec(), Some("br"), 100).err().unwrap().status, 415);
    }
}
