//! Sockets: binding, accepting (with `--allow` and `--max-connections`), one thread
//! per connection reading syslog frames (plain or TLS), and the UDP receiver.

use super::{http, Batch, Endpoint, Item, Shared, Transport, POLL};
use crate::listen::framing::Framer;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::Ordering;
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Bytes read from a socket at a time (and the most one batch holds from it).
const READ_SIZE: usize = 64 * 1024;
/// Datagrams gathered into one batch while more are waiting.
const UDP_BATCH: usize = 256;

enum Socket {
    Tcp(TcpListener),
    Udp(UdpSocket),
}

/// A bound address, not yet serving.
pub struct Bound {
    pub endpoint: Endpoint,
    socket: Socket,
}

impl Bound {
    pub fn bind(endpoint: Endpoint) -> Result<Bound, String> {
        let socket = if endpoint.transport == Transport::Udp {
            UdpSocket::bind(endpoint.addr).map(Socket::Udp)
        } else {
            TcpListener::bind(endpoint.addr).map(Socket::Tcp)
        };
        let socket = socket.map_err(|e| format!("{}: cannot listen: {e}", endpoint.url))?;
        Ok(Bound { endpoint, socket })
    }

    pub fn local_addr(&self) -> SocketAddr {
        let addr = match &self.socket {
            Socket::Tcp(l) => l.local_addr(),
            Socket::Udp(s) => s.local_addr(),
        };
        addr.unwrap_or(self.endpoint.addr)
    }

    pub fn spawn(self, shared: Arc<Shared>, tx: SyncSender<Item>) -> JoinHandle<()> {
        let source: Arc<str> = format!("{}://{}", self.endpoint.transport.scheme(), self.local_addr()).into();
        let transport = self.endpoint.transport;
        std::thread::spawn(move || match self.socket {
            Socket::Tcp(l) => accept_loop(l, transport, source, shared, tx),
            Socket::Udp(s) => udp_loop(s, source, shared, tx),
        })
    }
}

/// Counts a connection while it is open.
struct Open(Arc<Shared>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.open_connections.fetch_sub(1, Ordering::Relaxed);
    }
}

fn accept_loop(
    listener: TcpListener,
    transport: Transport,
    source: Arc<str>,
    shared: Arc<Shared>,
    tx: SyncSender<Item>,
) {
    if listener.set_nonblocking(true).is_err() {
        return;
    }
    let mut conns: Vec<JoinHandle<()>> = Vec::new();
    while !shared.stopping() {
        let (stream, peer) = match listener.accept() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10));
                conns.retain(|c| !c.is_finished());
                continue;
            }
            Err(_) => {
                // Out of descriptors and the like: wait, do not spin.
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        if !shared.allowed(&peer) {
            shared.stats.refused_allow.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let open = shared.open_connections.fetch_add(1, Ordering::Relaxed);
        let guard = Open(shared.clone());
        if open >= shared.settings.max_connections {
            let n = shared.stats.refused_full.fetch_add(1, Ordering::Relaxed);
            if n.is_power_of_two() || n == 0 {
                let _ = tx.try_send(Item::Note(format!(
                    "{source}: {peer} refused: {} connections open (--max-connections); {} refused so far",
                    shared.settings.max_connections,
                    n + 1
                )));
            }
            drop(guard);
            continue;
        }
        shared.stats.connections.fetch_add(1, Ordering::Relaxed);
        let (shared, tx, source) = (shared.clone(), tx.clone(), source.clone());
        conns.push(std::thread::spawn(move || {
            let _guard = guard;
            serve(stream, peer, transport, &source, &shared, &tx);
        }));
    }
    drop(tx);
    for c in conns {
        let _ = c.join();
    }
}

/// Who a connection is and where its messages go.
pub struct Peer<'a> {
    pub addr: SocketAddr,
    pub transport: Transport,
    /// The listener's URL, which names the records' source.
    pub source: &'a Arc<str>,
    pub shared: &'a Shared,
    pub tx: &'a SyncSender<Item>,
}

impl Peer<'_> {
    pub fn batch(&self) -> Batch {
        Batch::new(self.source, self.transport, self.addr)
    }
}

/// A connection's byte stream: plain TCP or TLS over it.
pub trait Conn: Read + Write + Send {}
impl<T: Read + Write + Send> Conn for T {}

fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    transport: Transport,
    source: &Arc<str>,
    shared: &Shared,
    tx: &SyncSender<Item>,
) {
    if stream.set_nonblocking(false).is_err() || stream.set_read_timeout(Some(POLL)).is_err() {
        return;
    }
    let _ = stream.set_nodelay(true);
    let mut conn: Box<dyn Conn> = if transport.encrypted() {
        let Some(config) = shared.tls.clone() else { return };
        match super::tls::accept(config, stream, shared) {
            Ok(c) => c,
            Err(e) => {
                let n = shared.stats.tls_failed.fetch_add(1, Ordering::Relaxed);
                if n < 10 {
                    let _ = tx.try_send(Item::Note(format!("{source}: {peer}: TLS handshake failed: {e}")));
                }
                return;
            }
        }
    } else {
        Box::new(stream)
    };
    let who = Peer { addr: peer, transport, source, shared, tx };
    match transport {
        Transport::Http | Transport::Https => http::serve(&mut *conn, &who),
        _ => read_syslog(&mut *conn, &who),
    }
}

/// What a read of a connection gave.
pub enum Got {
    Data(usize),
    /// The peer closed, the idle timeout passed, or the listener is stopping and the
    /// connection has nothing more waiting.
    End,
}

/// Reads with the connection's timeouts: waits through quiet spells (looking at the
/// stop flag), ends at EOF, on errors, after the idle timeout, or when stopping and
/// nothing more is waiting.
pub fn read_some(conn: &mut dyn Conn, buf: &mut [u8], last: &mut Instant, shared: &Shared) -> Got {
    let mut waited_after_stop = false;
    loop {
        match conn.read(buf) {
            Ok(0) => return Got::End,
            Ok(n) => {
                *last = Instant::now();
                return Got::Data(n);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                if shared.stopping() {
                    // Drained: one quiet poll after the stop means nothing is waiting.
                    if waited_after_stop {
                        return Got::End;
                    }
                    waited_after_stop = true;
                    continue;
                }
                if last.elapsed() >= shared.settings.idle_timeout {
                    shared.stats.idle_closed.fetch_add(1, Ordering::Relaxed);
                    return Got::End;
                }
            }
            Err(_) => return Got::End,
        }
    }
}

fn read_syslog(conn: &mut dyn Conn, who: &Peer<'_>) {
    let (transport, shared) = (who.transport, who.shared);
    let mut framer = Framer::new(shared.settings.max_message_bytes);
    let mut buf = vec![0u8; READ_SIZE];
    let mut last = Instant::now();
    loop {
        let mut batch = who.batch();
        let ended = match read_some(conn, &mut buf, &mut last, shared) {
            Got::Data(n) => {
                framer.push(&buf[..n], &mut |f| count_and_push(&mut batch, f, shared));
                false
            }
            Got::End => {
                framer.finish(&mut |f| count_and_push(&mut batch, f, shared));
                true
            }
        };
        if !batch.is_empty() {
            let n = batch.pieces.iter().filter(|p| matches!(p, super::Piece::Message(_))).count();
            shared.stats.add_messages(transport, n as u64);
            // Blocks while the writer is behind: this connection stops reading, and
            // TCP's window slows its sender.
            if who.tx.send(Item::Batch(batch)).is_err() {
                return;
            }
        }
        if ended {
            return;
        }
    }
}

fn count_and_push(batch: &mut Batch, frame: super::Frame<'_>, shared: &Shared) {
    match frame {
        super::Frame::TooLong { .. } => {
            shared.stats.too_long.fetch_add(1, Ordering::Relaxed);
        }
        super::Frame::BadCount => {
            shared.stats.bad_counts.fetch_add(1, Ordering::Relaxed);
        }
        super::Frame::Message(_) => {}
    }
    batch.push(frame);
}

fn udp_loop(socket: UdpSocket, source: Arc<str>, shared: Arc<Shared>, tx: SyncSender<Item>) {
    if socket.set_read_timeout(Some(POLL)).is_err() {
        return;
    }
    shared.udp_inodes.lock().unwrap_or_else(|p| p.into_inner()).extend(socket_inode(&socket));
    let max = shared.settings.max_message_bytes;
    let mut buf = vec![0u8; 65536];
    loop {
        // Once stopping, what is already in the socket buffer is still read (drained).
        let stopping = shared.stopping();
        if stopping {
            let _ = socket.set_nonblocking(true);
        }
        let (n, peer) = match socket.recv_from(&mut buf) {
            Ok(r) => r,
            Err(_) if stopping => break,
            Err(_) => continue,
        };
        let mut batch = Batch::new(&source, Transport::Udp, peer);
        let _ = socket.set_nonblocking(true);
        let mut next = Some((n, peer));
        let mut batch_peer = peer;
        // This datagram, and those already waiting.
        while let Some((n, from)) = next.take() {
            if from != batch_peer {
                batch_peer = from;
                // Another peer: its own batch (its own envelope).
                send_udp(std::mem::replace(&mut batch, Batch::new(&source, Transport::Udp, from)), &shared, &tx);
            }
            if shared.allowed(&from) {
                push_datagram(&mut batch, &buf[..n], max, &shared);
            } else {
                shared.stats.refused_allow.fetch_add(1, Ordering::Relaxed);
            }
            if batch.pieces.len() < UDP_BATCH {
                next = socket.recv_from(&mut buf).ok();
            }
        }
        if !stopping {
            let _ = socket.set_nonblocking(false);
        }
        send_udp(batch, &shared, &tx);
    }
    // The kernel's count goes with the socket: read it before closing.
    if let Some(note) = udp_drops_note(&shared) {
        let _ = tx.send(Item::Note(note));
    }
}

/// One datagram is one message (RFC 5426); a trailing newline is not part of it.
fn push_datagram(batch: &mut Batch, datagram: &[u8], max: usize, shared: &Shared) {
    let msg = datagram.strip_suffix(b"\n").unwrap_or(datagram);
    let msg = msg.strip_suffix(b"\r").unwrap_or(msg);
    if msg.is_empty() {
        return;
    }
    if msg.len() > max {
        let prefix = &msg[..msg.len().min(super::framing::PREFIX_KEPT)];
        count_and_push(batch, super::Frame::TooLong { prefix, len: msg.len() }, shared);
    } else {
        batch.push(super::Frame::Message(msg));
    }
}

fn send_udp(batch: Batch, shared: &Shared, tx: &SyncSender<Item>) {
    if batch.is_empty() {
        return;
    }
    let n = batch.pieces.iter().filter(|p| matches!(p, super::Piece::Message(_))).count();
    shared.stats.add_messages(Transport::Udp, n as u64);
    // Blocking here leaves datagrams in the socket buffer; what overflows it the kernel
    // drops and counts, and `udp_drops_note` reports.
    let _ = tx.send(Item::Batch(batch));
}

/// The socket's inode, to find its line in /proc/net/udp.
fn socket_inode(socket: &UdpSocket) -> Option<u64> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/self/fd/{}", socket.as_raw_fd())).ok().map(|m| m.ino())
}

/// Datagrams the kernel dropped on our UDP sockets (Linux: the `drops` column of
/// /proc/net/udp and udp6), counted into the stats; a note when the count grew.
pub fn udp_drops_note(shared: &Shared) -> Option<String> {
    let inodes = shared.udp_inodes.lock().unwrap_or_else(|p| p.into_inner()).clone();
    if inodes.is_empty() {
        return None;
    }
    let mut drops = 0u64;
    for table in ["/proc/net/udp", "/proc/net/udp6"] {
        let Ok(text) = std::fs::read_to_string(table) else { continue };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let (Some(inode), Some(d)) = (cols.get(9), cols.get(12)) else { continue };
            if inode.parse::<u64>().is_ok_and(|i| inodes.contains(&i)) {
                drops += d.parse::<u64>().unwrap_or(0);
            }
        }
    }
    let before = shared.stats.udp_dropped.fetch_max(drops, Ordering::Relaxed);
    (drops > before).then(|| {
        format!("UDP: the kernel dropped {} datagrams so far (socket buffer full)", crate::io::thousands(drops))
    })
}
