//! `metron listen` and `metron parse --listen`: telemetry over the network, as
//! Apache Metron took it through NiFi's ListenSyslog/ListenHTTP. Listeners are a
//! [`driver::Source`]: whatever runs behind the driver (the raw [`Writer`] of `metron
//! listen`, the parse stage) gets each message as a record, with its [`Envelope`].
//!
//! ```text
//! tcp/tls/http/https: acceptor --> one thread per connection --+
//! udp: one receiver thread ------------------------------------+--> bounded channel --> Feed
//!                                  HTTP waits for its ack <------ written and flushed --/
//! ```
//!
//! Backpressure: the channel is bounded, so when the output is slow the connection
//! threads block, stop reading, and the kernel's TCP window slows the senders; memory
//! stays bounded (channel slots x batch size, plus one message per connection). UDP
//! cannot push back: the kernel drops what overflows the socket buffer, and metron
//! reads that count (`/proc/net/udp`) and reports it.

mod framing;
mod http;
mod net;
mod tls;

pub use framing::{Frame, Framer};

use crate::driver::{Feed, Processor, RunError, Source};
use crate::error::{error_record, ErrorType};
use crate::event::Event;
use crate::io::{self, Envelope, Flow, LineData};
use crate::net::NetSet;
use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Default cap on one message: 1 MiB, as `--max-line-bytes`.
pub const DEFAULT_MAX_MESSAGE: usize = 1024 * 1024;
/// Default cap on one HTTP body (after decompression).
pub const DEFAULT_MAX_BODY: usize = 64 * 1024 * 1024;
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// Batches in flight between the network threads and the writer.
const CHANNEL_SLOTS: usize = 64;
/// How often blocked threads look at the stop flag.
const POLL: Duration = Duration::from_millis(200);

/// The transports, by URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Tcp,
    Udp,
    Tls,
    Http,
    Https,
}

impl Transport {
    pub const ALL: [Transport; 5] = [Transport::Tcp, Transport::Udp, Transport::Tls, Transport::Http, Transport::Https];

    pub fn scheme(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
            Transport::Tls => "tls",
            Transport::Http => "http",
            Transport::Https => "https",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    fn encrypted(self) -> bool {
        matches!(self, Transport::Tls | Transport::Https)
    }
}

/// One listening address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub transport: Transport,
    pub addr: SocketAddr,
    /// As the user wrote it (records name their source by it).
    pub url: String,
}

/// Parses `tcp://HOST:PORT` (also udp, tls, http, https; `[::1]:514`; a name that
/// resolves, `localhost:514`).
pub fn parse_endpoint(url: &str) -> Result<Endpoint, String> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| format!("{url:?}: not a URL (tcp://HOST:PORT)"))?;
    let transport = Transport::ALL
        .into_iter()
        .find(|t| t.scheme() == scheme.to_ascii_lowercase())
        .ok_or_else(|| format!("{url:?}: unknown scheme {scheme:?} (tcp, udp, tls, http, https)"))?;
    let hostport = rest.trim_end_matches('/');
    let addr = hostport
        .to_socket_addrs()
        .map_err(|e| format!("{url:?}: {e} (write HOST:PORT, e.g. 127.0.0.1:6514)"))?
        .next()
        .ok_or_else(|| format!("{url:?}: {hostport:?} names no address"))?;
    Ok(Endpoint { transport, addr, url: format!("{}://{addr}", transport.scheme()) })
}

/// What `metron listen` (and `parse --listen`) is told.
#[derive(Debug, Clone)]
pub struct ListenSettings {
    pub urls: Vec<String>,
    pub max_message_bytes: usize,
    pub max_body_bytes: usize,
    pub max_connections: usize,
    pub idle_timeout: Duration,
    /// Peers allowed (CIDRs); everyone when empty.
    pub allow: Vec<String>,
    /// Bearer (or Splunk HEC) token HTTP senders must present.
    pub token: Option<String>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub client_ca: Option<PathBuf>,
}

impl Default for ListenSettings {
    fn default() -> ListenSettings {
        ListenSettings {
            urls: Vec::new(),
            max_message_bytes: DEFAULT_MAX_MESSAGE,
            max_body_bytes: DEFAULT_MAX_BODY,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            allow: Vec::new(),
            token: None,
            cert: None,
            key: None,
            client_ca: None,
        }
    }
}

/// Counts the listeners keep, read by the summary and by tests.
#[derive(Debug, Default)]
pub struct Stats {
    messages: [AtomicU64; 5],
    pub connections: AtomicU64,
    pub too_long: AtomicU64,
    pub bad_counts: AtomicU64,
    pub refused_allow: AtomicU64,
    pub refused_full: AtomicU64,
    pub idle_closed: AtomicU64,
    pub tls_failed: AtomicU64,
    pub http_rejected: AtomicU64,
    pub udp_dropped: AtomicU64,
}

impl Stats {
    pub fn messages(&self, t: Transport) -> u64 {
        self.messages[t.index()].load(Ordering::Relaxed)
    }

    fn add_messages(&self, t: Transport, n: u64) {
        self.messages[t.index()].fetch_add(n, Ordering::Relaxed);
    }

    /// `listened: 1,204 messages (tcp 1,000, udp 204) on 3 connections; ...`.
    pub fn summary(&self) -> String {
        let by: Vec<String> = Transport::ALL
            .into_iter()
            .filter(|t| self.messages(*t) > 0)
            .map(|t| format!("{} {}", t.scheme(), io::thousands(self.messages(t))))
            .collect();
        let total: u64 = Transport::ALL.into_iter().map(|t| self.messages(t)).sum();
        let mut s = format!("listened: {} messages", io::thousands(total));
        if !by.is_empty() {
            s.push_str(&format!(" ({})", by.join(", ")));
        }
        s.push_str(&format!(" on {} connections", io::thousands(self.connections.load(Ordering::Relaxed))));
        let extra = [
            (&self.too_long, "over the size limit"),
            (&self.bad_counts, "bad octet counts"),
            (&self.refused_allow, "peers refused by --allow"),
            (&self.refused_full, "connections refused at --max-connections"),
            (&self.idle_closed, "idle connections closed"),
            (&self.tls_failed, "TLS handshakes failed"),
            (&self.http_rejected, "HTTP requests refused"),
            (&self.udp_dropped, "UDP datagrams dropped by the kernel"),
        ];
        for (n, what) in extra {
            let n = n.load(Ordering::Relaxed);
            if n > 0 {
                s.push_str(&format!("; {} {what}", io::thousands(n)));
            }
        }
        s
    }
}

/// What the threads share.
struct Shared {
    settings: ListenSettings,
    allow: Option<NetSet>,
    tls: Option<Arc<rustls::ServerConfig>>,
    stop: Arc<AtomicBool>,
    open_connections: AtomicUsize,
    stats: Arc<Stats>,
    /// Our UDP sockets' inodes, to read the kernel's drop counts.
    udp_inodes: std::sync::Mutex<Vec<u64>>,
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn allowed(&self, peer: &SocketAddr) -> bool {
        self.allow.as_ref().is_none_or(|a| a.contains(crate::net::unmap(peer.ip())))
    }
}

/// One message or an over-long one, in a batch's buffer.
#[derive(Debug)]
enum Piece {
    Message(std::ops::Range<usize>),
    TooLong { prefix: std::ops::Range<usize>, len: usize },
}

/// Messages from one peer, handed to the writer in one go.
struct Batch {
    source: Arc<str>,
    envelope: Envelope,
    data: Vec<u8>,
    pieces: Vec<Piece>,
    /// HTTP: told the count once the messages are written and flushed.
    ack: Option<SyncSender<u64>>,
}

impl Batch {
    fn new(source: &Arc<str>, transport: Transport, peer: SocketAddr) -> Batch {
        Batch {
            source: source.clone(),
            envelope: Envelope {
                received_from: peer.to_string(),
                received_at: crate::event::now_ms(),
                transport: transport.scheme().to_owned(),
            },
            data: Vec::new(),
            pieces: Vec::new(),
            ack: None,
        }
    }

    fn push(&mut self, frame: Frame<'_>) {
        match frame {
            Frame::Message(m) => {
                let at = self.data.len();
                self.data.extend_from_slice(m);
                self.pieces.push(Piece::Message(at..self.data.len()));
            }
            Frame::TooLong { prefix, len } => {
                let at = self.data.len();
                self.data.extend_from_slice(prefix);
                self.pieces.push(Piece::TooLong { prefix: at..self.data.len(), len });
            }
            Frame::BadCount => {}
        }
    }

    fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }
}

enum Item {
    Batch(Batch),
    /// Something for stderr (a refused peer, a failed handshake).
    Note(String),
}

/// Bound listeners, ready to run behind the driver.
pub struct Listeners {
    shared: Arc<Shared>,
    bound: Vec<net::Bound>,
}

impl Listeners {
    /// Checks everything and binds every address; every problem at once.
    pub fn bind(settings: ListenSettings) -> Result<Listeners, Vec<String>> {
        let mut problems = Vec::new();
        let endpoints: Vec<Endpoint> =
            settings.urls.iter().filter_map(|u| parse_endpoint(u).map_err(|p| problems.push(p)).ok()).collect();
        if settings.urls.is_empty() {
            problems.push("nothing to listen on: give a URL such as tcp://127.0.0.1:6514".to_owned());
        }
        let allow = if settings.allow.is_empty() {
            None
        } else {
            NetSet::parse(&settings.allow)
                .map_err(|p| problems.extend(p.into_iter().map(|p| format!("--allow: {p}"))))
                .ok()
        };
        if settings.max_message_bytes == 0 {
            problems.push("--max-message-bytes must be at least 1".to_owned());
        }
        if settings.max_connections == 0 {
            problems.push("--max-connections must be at least 1".to_owned());
        }
        let tls = if endpoints.iter().any(|e| e.transport.encrypted()) {
            tls::server_config(&settings).map(Arc::new).map_err(|p| problems.extend(p)).ok()
        } else {
            if settings.cert.is_some() || settings.client_ca.is_some() {
                problems
                    .push("--cert and --client-ca are for tls:// and https:// listeners; none was given".to_owned());
            }
            None
        };
        if settings.token.is_some()
            && !endpoints.iter().any(|e| matches!(e.transport, Transport::Http | Transport::Https))
        {
            problems.push("--token is for http:// and https:// listeners; none was given".to_owned());
        }
        let mut bound = Vec::new();
        for e in endpoints {
            match net::Bound::bind(e) {
                Ok(b) => bound.push(b),
                Err(p) => problems.push(p),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let shared = Arc::new(Shared {
            settings,
            allow,
            tls,
            stop: Arc::new(AtomicBool::new(false)),
            open_connections: AtomicUsize::new(0),
            stats: Arc::new(Stats::default()),
            udp_inodes: std::sync::Mutex::new(Vec::new()),
        });
        Ok(Listeners { shared, bound })
    }

    /// The addresses actually bound (port 0 becomes the port the system chose).
    pub fn local_addrs(&self) -> Vec<(Transport, SocketAddr)> {
        self.bound.iter().map(|b| (b.endpoint.transport, b.local_addr())).collect()
    }

    pub fn stats(&self) -> Arc<Stats> {
        self.shared.stats.clone()
    }

    /// Setting this stops the listeners as SIGTERM does (tests, `metron run`).
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.shared.stop.clone()
    }
}

impl<P: for<'r> Processor<Record<'r> = LineData<'r>>> Source<P> for Listeners {
    fn unit(&self) -> &'static str {
        "messages"
    }

    fn feed(self, feed: &mut Feed<'_, P>) -> Result<(), RunError> {
        let hup = Arc::new(AtomicBool::new(false));
        register_signals(&self.shared.stop, &hup)?;
        let (tx, rx) = mpsc::sync_channel(CHANNEL_SLOTS);
        let mut threads = Vec::new();
        for b in self.bound {
            if !feed.quiet() {
                eprintln!("metron: listening on {}://{}", b.endpoint.transport.scheme(), b.local_addr());
            }
            threads.push(b.spawn(self.shared.clone(), tx.clone()));
        }
        drop(tx);
        let result = pump(feed, &rx, &self.shared, &hup);
        // Stop the threads even when the output failed, and let them end.
        self.shared.stop.store(true, Ordering::Relaxed);
        drop(rx);
        for t in threads {
            let _ = t.join();
        }
        if !feed.quiet() {
            eprintln!("{}", self.shared.stats.summary());
        }
        result
    }
}

/// SIGTERM and SIGINT set `stop` (a second SIGINT ends at once); SIGHUP sets `hup`
/// (the listeners reopen their output; `metron run` notes it).
pub fn register_signals(stop: &Arc<AtomicBool>, hup: &Arc<AtomicBool>) -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    signal_hook::flag::register_conditional_shutdown(SIGINT, 130, stop.clone())?;
    signal_hook::flag::register(SIGINT, stop.clone())?;
    signal_hook::flag::register(SIGTERM, stop.clone())?;
    signal_hook::flag::register(SIGHUP, hup.clone())?;
    Ok(())
}

/// The writer's loop: batches to the feed until every network thread has ended.
fn pump<P: for<'r> Processor<Record<'r> = LineData<'r>>>(
    feed: &mut Feed<'_, P>,
    rx: &Receiver<Item>,
    shared: &Shared,
    hup: &AtomicBool,
) -> Result<(), RunError> {
    let mut numbers: HashMap<Arc<str>, u64> = HashMap::new();
    let mut udp_seen = Instant::now();
    loop {
        let mut next = match rx.recv_timeout(POLL) {
            Ok(item) => Some(item),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        // Everything queued, then a flush: under load the output's buffer fills and
        // goes out by itself; when the senders pause, what came goes out at once.
        while let Some(item) = next {
            match item {
                Item::Batch(batch) => {
                    let n = write_batch(feed, &batch, &mut numbers)?;
                    if let Some(ack) = &batch.ack {
                        // Written and flushed before the sender hears it.
                        feed.idle()?;
                        let _ = ack.send(n);
                    }
                }
                Item::Note(note) => feed.say(&note),
            }
            next = rx.try_recv().ok();
        }
        feed.idle()?;
        if hup.swap(false, Ordering::Relaxed) {
            feed.reopen_output()?;
            feed.say("SIGHUP: output reopened");
        }
        if udp_seen.elapsed() >= Duration::from_secs(10) {
            udp_seen = Instant::now();
            if let Some(note) = net::udp_drops_note(shared) {
                feed.say(&note);
            }
        }
    }
    Ok(())
}

fn write_batch<P: for<'r> Processor<Record<'r> = LineData<'r>>>(
    feed: &mut Feed<'_, P>,
    batch: &Batch,
    numbers: &mut HashMap<Arc<str>, u64>,
) -> Result<u64, RunError> {
    let counter = numbers.entry(batch.source.clone()).or_default();
    let mut written = 0;
    for piece in &batch.pieces {
        *counter += 1;
        let record = match piece {
            Piece::Message(r) => {
                written += 1;
                LineData::Line(&batch.data[r.clone()])
            }
            Piece::TooLong { prefix, len } => LineData::TooLong { prefix: &batch.data[prefix.clone()], len: *len },
        };
        if feed.record_with(&batch.source, *counter, &batch.envelope, record) == Flow::Stop {
            feed.take_write_error()?;
        }
    }
    Ok(written)
}

/// `metron listen`'s processor: each message as one line, or its envelope.
pub struct Writer {
    envelope: bool,
    max_message: usize,
    current: Option<Envelope>,
    raw: Vec<u8>,
    lines: u64,
    pub written: u64,
    pub errors: u64,
}

impl Writer {
    pub fn new(envelope: bool, max_message: usize) -> Writer {
        Writer {
            envelope,
            max_message,
            current: None,
            raw: Vec::with_capacity(1 << 16),
            lines: 0,
            written: 0,
            errors: 0,
        }
    }
}

/// A message on one line: LF inside it is written as `#012` and CR as `#015`, as
/// rsyslog escapes control characters (use --envelope to keep them).
fn write_escaped(msg: &[u8], out: &mut Vec<u8>) {
    let mut rest = msg;
    while let Some(at) = memchr::memchr2(b'\n', b'\r', rest) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(if rest[at] == b'\n' { b"#012" } else { b"#015" });
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'\n');
}

impl Processor for Writer {
    type Record<'a> = LineData<'a>;

    fn record(
        &mut self,
        source: &str,
        at: u64,
        record: LineData<'_>,
        _out: &mut Vec<Event>,
        errors: &mut Vec<Event>,
    ) -> std::io::Result<()> {
        match record {
            LineData::Line(msg) => {
                match (&self.current, self.envelope) {
                    (Some(env), true) => env.write_line(msg, &mut self.raw),
                    _ => write_escaped(msg, &mut self.raw),
                }
                self.lines += 1;
                self.written += 1;
            }
            LineData::TooLong { prefix, len } => {
                self.errors += 1;
                let message =
                    format!("message is {len} bytes, over the limit of {} (--max-message-bytes)", self.max_message);
                let mut e = error_record(
                    ErrorType::ParserError,
                    "listen",
                    &message,
                    &String::from_utf8_lossy(prefix),
                    source,
                    Some(at),
                );
                if let Some(env) = &self.current {
                    for (k, v) in env.fields() {
                        e.insert(k.into(), v);
                    }
                }
                errors.push(e);
            }
        }
        Ok(())
    }

    fn raw_output(&mut self) -> Option<(&mut Vec<u8>, &mut u64)> {
        Some((&mut self.raw, &mut self.lines))
    }

    fn set_envelope(&mut self, envelope: Option<&Envelope>) {
        self.current = envelope.cloned();
    }

    fn had_errors(&self) -> bool {
        self.errors > 0
    }

    fn summary(&self) -> String {
        format!("wrote {} messages, {} errors", io::thousands(self.written), io::thousands(self.errors))
    }
}

/// Fuzzing: the framer on arbitrary bytes fed in pieces of `pick`'s size gives the
/// frames it gives on them whole; the HTTP head, body decoding and HEC splitting.
#[doc(hidden)]
pub fn fuzz(data: &[u8]) {
    let Some((&pick, input)) = data.split_first() else { return };
    let max = 16 + usize::from(pick);
    let frames = |step: usize| {
        let mut framer = Framer::new(max);
        let mut got: Vec<(u8, Vec<u8>, usize)> = Vec::new();
        let mut f = |fr: Frame<'_>| match fr {
            Frame::Message(m) => got.push((0, m.to_vec(), m.len())),
            // (How much of an over-long message is kept depends on the reads.)
            Frame::TooLong { len, .. } => got.push((1, Vec::new(), len)),
            Frame::BadCount => got.push((2, Vec::new(), 0)),
        };
        for chunk in input.chunks(step.max(1)) {
            framer.push(chunk, &mut f);
        }
        framer.finish(&mut f);
        got
    };
    let whole = frames(input.len());
    assert!(whole.iter().all(|(kind, m, _)| *kind != 0 || m.len() <= max), "a message over the limit");
    assert_eq!(frames(usize::from(pick % 7) + 1), whole, "the frames depend on how the bytes arrived");
    http::fuzz(input);
}

/// Constant-time comparison of a presented token with the expected one.
fn token_matches(presented: &[u8], expected: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    presented.len() == expected.len() && bool::from(presented.ct_eq(expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_and_bad_ones_say_why() {
        let e = parse_endpoint("tcp://127.0.0.1:6514").unwrap();
        assert_eq!((e.transport, e.addr.port()), (Transport::Tcp, 6514));
        assert_eq!(parse_endpoint("udp://[::1]:514").unwrap().addr.to_string(), "[::1]:514");
        assert!(parse_endpoint("ftp://1.2.3.4:1").unwrap_err().contains("unknown scheme"));
        assert!(parse_endpoint("127.0.0.1:514").unwrap_err().contains("not a URL"));
        assert!(parse_endpoint("tcp://127.0.0.1").is_err());
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let s = ListenSettings {
            urls: vec!["bogus".into(), "tls://127.0.0.1:0".into()],
            allow: vec!["10.0.0.0/33".into()],
            token: Some("t".into()),
            max_connections: 0,
            ..ListenSettings::default()
        };
        let problems = Listeners::bind(s).err().unwrap().join("\n");
        for p in ["bogus", "--allow", "--cert", "--token", "--max-connections"] {
            assert!(problems.contains(p), "{p} missing in {problems}");
        }
    }

    #[test]
    fn newlines_are_escaped_without_an_envelope() {
        let mut out = Vec::new();
        write_escaped(b"a\nb\r\nc", &mut out);
        assert_eq!(out, b"a#012b#015#012c\n");
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(token_matches(b"secret", b"secret"));
        assert!(!token_matches(b"secre", b"secret"));
        assert!(!token_matches(b"secreT", b"secret"));
    }
}
