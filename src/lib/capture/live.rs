//! Live capture through libpcap (the `pcap` crate; the `live` cargo feature): an
//! interface, a BPF filter, snap length and promiscuous mode, into the same engine as
//! files. libpcap's received and dropped counts are reported on a timer and at exit;
//! Ctrl-C (or --count, --duration) ends the capture with every open flow written.

use super::reader::RawPacket;
use super::{CaptureSettings, CaptureStats, Engine};
use crate::driver::{self, Feed, Outcome, Outputs, RunError, Source};
use crate::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct LiveSettings {
    pub interface: String,
    pub filter: Option<String>,
    pub snaplen: i32,
    pub promisc: bool,
    pub count: Option<u64>,
    pub duration: Option<Duration>,
    pub stats_interval: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("{0}")]
    Pcap(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// libpcap's counts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LiveStats {
    pub received: u64,
    pub dropped: u64,
    pub if_dropped: u64,
}

/// A libpcap error, with what to do about missing permissions.
fn pcap_error(what: &str, e: pcap::Error) -> LiveError {
    let text = e.to_string();
    let lower = text.to_ascii_lowercase();
    if lower.contains("permission") || lower.contains("not permitted") {
        return LiveError::Pcap(format!(
            "{what}: {text}\ncapturing needs root, or the capabilities CAP_NET_RAW and CAP_NET_ADMIN:\n  \
             sudo setcap cap_net_raw,cap_net_admin=eip \"$(command -v metron)\""
        ));
    }
    LiveError::Pcap(format!("{what}: {text}"))
}

/// The interfaces libpcap can capture on, with their descriptions.
pub fn list_interfaces() -> Result<Vec<(String, Option<String>)>, LiveError> {
    let devices = pcap::Device::list().map_err(|e| pcap_error("listing interfaces", e))?;
    Ok(devices.into_iter().map(|d| (d.name, d.desc)).collect())
}

fn stats_line(s: &LiveStats) -> String {
    format!(
        "capture: libpcap received {} packets, dropped {} (kernel buffer full), {} (interface)",
        io::thousands(s.received),
        io::thousands(s.dropped),
        io::thousands(s.if_dropped)
    )
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// An interface as a source of packets for the driver.
struct Interface<'a> {
    live: &'a LiveSettings,
    cap: pcap::Capture<pcap::Active>,
    linktype: i32,
    stop: Arc<AtomicBool>,
    /// libpcap's counts, last read.
    stats: &'a mut LiveStats,
}

impl Interface<'_> {
    fn read_stats(&mut self) {
        if let Ok(s) = self.cap.stats() {
            *self.stats = LiveStats {
                received: u64::from(s.received),
                dropped: u64::from(s.dropped),
                if_dropped: u64::from(s.if_dropped),
            };
        }
    }
}

impl Source<Engine> for Interface<'_> {
    fn unit(&self) -> &'static str {
        "packets"
    }

    fn feed(mut self, feed: &mut Feed<'_, Engine>) -> Result<(), RunError> {
        let what = format!("capturing on {}", self.live.interface);
        let source = format!("interface {}", self.live.interface);
        let started = Instant::now();
        let mut last_report = Instant::now();
        let mut last_tick = Instant::now();
        let mut number = 0u64;
        let result = loop {
            if self.stop.load(Ordering::SeqCst)
                || self.live.count.is_some_and(|c| number >= c)
                || self.live.duration.is_some_and(|d| started.elapsed() >= d)
            {
                break Ok(());
            }
            match self.cap.next_packet() {
                Ok(p) => {
                    number += 1;
                    // time_t and suseconds_t are 32 bits on some platforms.
                    #[allow(clippy::useless_conversion)]
                    let ts_ns = i64::from(p.header.ts.tv_sec)
                        .saturating_mul(1_000_000_000)
                        .saturating_add(i64::from(p.header.ts.tv_usec).saturating_mul(1000));
                    let pkt = RawPacket {
                        ts_ns,
                        orig_len: p.header.len,
                        linktype: self.linktype,
                        data: p.data,
                        number,
                        offset: 0,
                    };
                    if feed.record(&source, number, &pkt) == io::Flow::Stop {
                        break feed.take_write_error();
                    }
                }
                Err(pcap::Error::TimeoutExpired) => std::thread::sleep(Duration::from_millis(1)),
                Err(e) => break Err(RunError::Source(pcap_error(&what, e).to_string())),
            }
            if last_tick.elapsed() >= Duration::from_secs(1) {
                last_tick = Instant::now();
                // A quiet interface still moves the flow clock: idle flows end on time.
                feed.with(|engine, out, _| engine.advance_clock(now_ns(), out))?;
                feed.idle()?;
            }
            if last_report.elapsed() >= self.live.stats_interval {
                last_report = Instant::now();
                self.read_stats();
                if !feed.quiet() {
                    eprintln!("metron: {}", stats_line(self.stats));
                }
            }
        };
        self.read_stats();
        feed.with(|engine, _, _| {
            engine.file_done();
            Ok(())
        })?;
        result
    }
}

/// Captures on an interface until Ctrl-C, `count` packets or `duration`.
pub fn run_live(
    settings: &CaptureSettings,
    live: &LiveSettings,
    outputs: &Outputs,
) -> Result<(CaptureStats, Outcome, LiveStats), LiveError> {
    let what = format!("capturing on {}", live.interface);
    let mut cap = pcap::Capture::from_device(live.interface.as_str())
        .map_err(|e| pcap_error(&what, e))?
        .promisc(live.promisc)
        .snaplen(live.snaplen)
        // Not immediate mode: on Linux that gives each packet a ring slot of the full
        // snap length, so a burst fills the ring after a few packets. Packets come in
        // blocks instead, at the latest after the timeout, into a 64 MiB ring.
        .timeout(100)
        .buffer_size(64 << 20)
        .open()
        .map_err(|e| pcap_error(&what, e))?
        // Non-blocking, so that a quiet interface does not keep the loop from its
        // timers, --duration and Ctrl-C.
        .setnonblock()
        .map_err(|e| pcap_error(&what, e))?;
    if let Some(f) = &live.filter {
        cap.filter(f, true).map_err(|e| pcap_error(&format!("BPF filter {f:?}"), e))?;
    }
    let linktype = cap.get_datalink().0;
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // A second Ctrl-C while the first is handled is the same request.
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }
    if !outputs.quiet {
        eprintln!("metron: {what} (link type {linktype}); Ctrl-C stops and writes the open flows");
    }
    let mut engine = Engine::new(settings)?;
    let mut pcap_stats = LiveStats::default();
    let interface = Interface { live, cap, linktype, stop, stats: &mut pcap_stats };
    let outcome = match driver::run(&mut engine, interface, outputs) {
        Ok(o) => o,
        Err(RunError::Io(e)) => return Err(LiveError::Io(e)),
        Err(RunError::Source(e)) => return Err(LiveError::Pcap(e)),
    };
    if !outputs.quiet {
        eprintln!("{}", stats_line(&pcap_stats));
    }
    Ok((engine.stats(), outcome, pcap_stats))
}
