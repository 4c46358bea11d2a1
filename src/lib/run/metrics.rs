//! `metron run`'s numbers, in Prometheus' text format at `/metrics`, and `/health`.

use crate::listen::Stats as ListenStats;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Counts {
    records_in: AtomicU64,
    records_out: AtomicU64,
    errors: AtomicU64,
}

/// Counters shared by the sources, the chain and the metrics endpoint.
pub struct Metrics {
    source_names: Vec<String>,
    sources: Vec<Counts>,
    stage_names: Vec<String>,
    stages: Vec<Counts>,
    queued: AtomicI64,
    lag_ms: AtomicU64,
    commits: AtomicU64,
    commit_ms: AtomicU64,
    heartbeat_ms: AtomicI64,
    failed: AtomicBool,
    listeners: Mutex<Vec<Arc<ListenStats>>>,
    notes: Mutex<Vec<String>>,
}

impl Metrics {
    pub fn new(source_names: Vec<String>, stage_names: Vec<String>) -> Metrics {
        Metrics {
            sources: source_names.iter().map(|_| Counts::default()).collect(),
            source_names,
            stages: stage_names.iter().map(|_| Counts::default()).collect(),
            stage_names,
            queued: AtomicI64::new(0),
            lag_ms: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            commit_ms: AtomicU64::new(0),
            heartbeat_ms: AtomicI64::new(crate::event::now_ms()),
            failed: AtomicBool::new(false),
            listeners: Mutex::new(Vec::new()),
            notes: Mutex::new(Vec::new()),
        }
    }

    pub(super) fn source_in(&self, i: usize, records: u64, events: u64) {
        if let Some(c) = self.sources.get(i) {
            c.records_in.fetch_add(records, Ordering::Relaxed);
            c.records_out.fetch_add(events, Ordering::Relaxed);
        }
    }

    pub(super) fn stage(&self, i: usize, records_in: u64, records_out: u64, errors: u64) {
        if let Some(c) = self.stages.get(i) {
            c.records_in.fetch_add(records_in, Ordering::Relaxed);
            c.records_out.fetch_add(records_out, Ordering::Relaxed);
            c.errors.fetch_add(errors, Ordering::Relaxed);
        }
    }

    pub(super) fn queued(&self, delta: i64) {
        self.queued.fetch_add(delta, Ordering::Relaxed);
    }

    pub(super) fn lag(&self, age: Duration) {
        self.lag_ms.store(u64::try_from(age.as_millis()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    pub(super) fn committed(&self, took: Duration) {
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.commit_ms.store(u64::try_from(took.as_millis()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    pub(super) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    pub(super) fn beat(&self) {
        self.heartbeat_ms.store(crate::event::now_ms(), Ordering::Relaxed);
    }

    pub(super) fn add_listener(&self, stats: Arc<ListenStats>) {
        self.listeners.lock().unwrap_or_else(|p| p.into_inner()).push(stats);
    }

    /// A message from a source thread (a parser's warning), kept for stderr.
    pub(super) fn note(&self, message: &str) {
        let mut notes = self.notes.lock().unwrap_or_else(|p| p.into_inner());
        if notes.len() < 100 {
            notes.push(message.to_owned());
        }
    }

    pub(super) fn take_notes(&self) -> Vec<String> {
        std::mem::take(&mut *self.notes.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub(super) fn fail(&self) {
        self.failed.store(true, Ordering::Relaxed);
    }

    /// Whether the chain is alive: it beats at least every 200 ms while it runs.
    pub fn healthy(&self) -> bool {
        !self.failed.load(Ordering::Relaxed)
            && crate::event::now_ms() - self.heartbeat_ms.load(Ordering::Relaxed) < 10_000
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let label = |v: &str| v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
        let family = |s: &mut String, name: &str, kind: &str, help: &str, rows: Vec<(String, u64)>| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, v) in rows {
                let _ = writeln!(s, "{name}{labels} {v}");
            }
        };
        let part = |kind: &str, names: &[String], counts: &[Counts], pick: fn(&Counts) -> &AtomicU64| {
            names
                .iter()
                .zip(counts)
                .map(|(n, c)| (format!("{{{kind}=\"{}\"}}", label(n)), pick(c).load(Ordering::Relaxed)))
                .collect::<Vec<_>>()
        };
        let mut rows = part("source", &self.source_names, &self.sources, |c| &c.records_in);
        rows.extend(part("stage", &self.stage_names, &self.stages, |c| &c.records_in));
        family(&mut s, "metron_records_in_total", "counter", "Records read by a source or taken by a stage.", rows);
        let mut rows = part("source", &self.source_names, &self.sources, |c| &c.records_out);
        rows.extend(part("stage", &self.stage_names, &self.stages, |c| &c.records_out));
        family(&mut s, "metron_records_out_total", "counter", "Events a source or a stage handed on.", rows);
        let rows = part("stage", &self.stage_names, &self.stages, |c| &c.errors);
        family(&mut s, "metron_errors_total", "counter", "Events a stage could not process (error records).", rows);
        let queued = u64::try_from(self.queued.load(Ordering::Relaxed)).unwrap_or(0);
        family(
            &mut s,
            "metron_queue_batches",
            "gauge",
            "Batches waiting for the stage chain.",
            vec![(String::new(), queued)],
        );
        let lag = self.lag_ms.load(Ordering::Relaxed);
        family(
            &mut s,
            "metron_lag_milliseconds",
            "gauge",
            "Age of the last batch when the chain took it.",
            vec![(String::new(), lag)],
        );
        let commits = self.commits.load(Ordering::Relaxed);
        family(
            &mut s,
            "metron_commits_total",
            "counter",
            "Sink commits followed by a checkpoint.",
            vec![(String::new(), commits)],
        );
        let commit_ms = self.commit_ms.load(Ordering::Relaxed);
        family(
            &mut s,
            "metron_commit_milliseconds",
            "gauge",
            "How long the last commit took.",
            vec![(String::new(), commit_ms)],
        );
        let listeners = self.listeners.lock().unwrap_or_else(|p| p.into_inner());
        let dropped: u64 = listeners.iter().map(|l| l.udp_dropped.load(Ordering::Relaxed)).sum();
        family(
            &mut s,
            "metron_udp_dropped_total",
            "counter",
            "UDP messages the kernel dropped before metron read them.",
            vec![(String::new(), dropped)],
        );
        s
    }
}

/// Answers `/metrics` and `/health` on its own thread, one short request at a time.
pub(super) fn serve(listener: TcpListener, metrics: Arc<Metrics>) {
    let _ = std::thread::Builder::new().name("metrics".into()).spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = conn.set_write_timeout(Some(Duration::from_secs(2)));
            let mut head = [0u8; 2048];
            let mut got = 0;
            while got < head.len() {
                match conn.read(&mut head[got..]) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got += n,
                }
                if head[..got].windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            let request = String::from_utf8_lossy(&head[..got]);
            let path = request.split_whitespace().nth(1).unwrap_or("");
            let (status, body) = match path {
                "/metrics" => ("200 OK", metrics.render()),
                "/health" if metrics.healthy() => ("200 OK", "ok\n".to_owned()),
                "/health" => ("503 Service Unavailable", "stalled\n".to_owned()),
                _ => ("404 Not Found", "try /metrics or /health\n".to_owned()),
            };
            let _ = write!(
                conn,
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
}
