//! `metron run`: the pipeline a config describes, as one always-on process.
//!
//! Sources (followed files, network listeners) each run on their own thread with a
//! parser of their own and hand batches of events over a bounded channel (so a slow
//! sink holds the sources back); the main thread runs the stage chain in process, on
//! events in memory, into the sink; the store's writer commits on a third thread.
//!
//! Nothing lost, nothing twice (with the store as sink): every few seconds the sink
//! is synced (everything handed to it is committed) and then the followed files'
//! positions (inode and line) are written to `run/checkpoint.json` in the store.
//! After a crash the files are read again from there; the lines read after the
//! checkpoint and already stored before the crash are found again by their guid,
//! which for a line of a followed file is made from the file's inode, the line's
//! number and its bytes (and the event's own time, so guids still sort by time), and
//! are left out by the store.

mod checkpoint;
mod metrics;

pub use checkpoint::Checkpoint;
pub use metrics::Metrics;

use crate::driver::{self, Processor};
use crate::error::error_record;
use crate::event::{fields, Event};
use crate::io::{self, Flow, FollowHandler, LineData, Output};
use crate::listen::Listeners;
use crate::parse::ParseStage;
use crate::stage::Stage;
use crate::store::IngestStage;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Events per batch handed from a source to the chain.
const BATCH: usize = 1024;
/// Batches waiting for the chain, per source thread at most; then sources wait.
const QUEUE: usize = 16;
/// How often the stages get their tick, in events.
const TICK_EVERY: u64 = 4096;

/// `[run]` of metron.toml.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Where events come from; any number.
    #[serde(default)]
    pub source: Vec<SourceConfig>,
    /// Stages in order, each configured by its own section: enrich, label, alert,
    /// profile.
    #[serde(default)]
    pub stages: Vec<String>,
    /// `store` (the default: `[store] dir`) or a file (`.zst` compresses).
    pub sink: Option<String>,
    /// `HOST:PORT` for Prometheus text at `/metrics` and `/health`.
    pub metrics: Option<String>,
    /// How often positions are checkpointed (default 5s).
    pub checkpoint_interval: Option<String>,
}

/// `[[run.source]]`: one of `follow` or `listen`, with the parser to use.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// A file or directory, followed as `parse --follow` does.
    pub follow: Option<PathBuf>,
    /// A listener URL, as `metron listen` takes.
    pub listen: Option<String>,
    /// The parser (`auto` by default).
    pub format: Option<String>,
    /// Not yet: live capture, pcap directories and Kafka are refused by `--check`.
    pub capture: Option<String>,
    pub pcap: Option<PathBuf>,
    pub kafka: Option<String>,
}

/// One source, ready to start.
pub enum PlannedSource {
    Follow { paths: Vec<PathBuf>, parse: ParseStage, max_line: usize },
    Listen { listeners: Listeners, parse: ParseStage },
}

impl PlannedSource {
    pub fn describe(&self) -> String {
        match self {
            PlannedSource::Follow { paths, parse, .. } => {
                let p: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                format!("follow {} (format {})", p.join(", "), parse.format())
            }
            PlannedSource::Listen { listeners, parse } => {
                let a: Vec<String> =
                    listeners.local_addrs().iter().map(|(t, a)| format!("{}://{a}", t.scheme())).collect();
                format!("listen {} (format {})", a.join(", "), parse.format())
            }
        }
    }
}

/// Where the chain's events end.
pub enum Sink {
    Store(Box<IngestStage>),
    File {
        output: Box<Output>,
        path: PathBuf,
    },
    /// Not opened (`--check`): what it would be.
    Unopened(String),
}

impl Sink {
    fn describe(&self) -> String {
        match self {
            Sink::Unopened(what) => what.clone(),
            Sink::Store(s) => format!("store {}", s.store().dir().display()),
            Sink::File { path, .. } => format!("file {}", path.display()),
        }
    }

    fn take(&mut self, event: Event) -> std::io::Result<()> {
        match self {
            Sink::Store(s) => {
                let mut none = Vec::new();
                // The store stage takes every record and emits nothing; it has no
                // per-record errors (a batch that cannot be written is kept aside).
                let _ = s.process(event, &mut none);
                Ok(())
            }
            Sink::File { output, .. } => output.write_event(&event),
            Sink::Unopened(_) => Ok(()),
        }
    }

    /// Everything taken so far is committed (store) or written (file).
    fn sync(&mut self) -> Result<(), String> {
        match self {
            Sink::Store(s) => s.sync().map_err(|e| e.to_string()),
            Sink::File { output, .. } => output.flush().map_err(|e| e.to_string()),
            Sink::Unopened(what) => Err(format!("{what} was not opened")),
        }
    }

    fn checkpoint_path(&self) -> PathBuf {
        match self {
            Sink::Store(s) => s.store().dir().join("run").join("checkpoint.json"),
            Sink::File { path, .. } => {
                let mut p = path.clone().into_os_string();
                p.push(".checkpoint.json");
                PathBuf::from(p)
            }
            Sink::Unopened(_) => PathBuf::from("/nonexistent/checkpoint.json"),
        }
    }
}

/// Everything `metron run` was asked to do, validated.
pub struct Plan {
    pub sources: Vec<PlannedSource>,
    pub stages: Vec<Box<dyn Stage>>,
    pub sink: Sink,
    pub metrics: Option<std::net::TcpListener>,
    pub checkpoint_interval: Duration,
    /// Read what the files hold now, then finish.
    pub once: bool,
    pub quiet: bool,
}

impl Plan {
    /// The plan in words (`--check`).
    pub fn describe(&self) -> String {
        let mut s = String::new();
        for (i, source) in self.sources.iter().enumerate() {
            s.push_str(&format!("source {}: {}\n", i + 1, source.describe()));
        }
        let stages: Vec<&str> = self.stages.iter().map(|s| s.name()).collect();
        s.push_str(&format!("stages: {}\n", if stages.is_empty() { "none".into() } else { stages.join(" -> ") }));
        s.push_str(&format!("sink: {}\n", self.sink.describe()));
        if let Some(m) = &self.metrics {
            if let Ok(a) = m.local_addr() {
                s.push_str(&format!("metrics: http://{a}/metrics\n"));
            }
        }
        s
    }
}

/// A batch of a source's events, with where in its files the source got to.
struct Msg {
    events: Vec<Event>,
    /// (inode, name, last line) of the followed files the events came from.
    positions: Vec<(u64, String, u64)>,
    made: Instant,
}

impl Msg {
    fn new() -> Msg {
        Msg { events: Vec::with_capacity(BATCH), positions: Vec::new(), made: Instant::now() }
    }

    fn at(&mut self, ino: u64, name: &str, line: u64) {
        match self.positions.iter_mut().find(|(i, _, _)| *i == ino) {
            Some(p) => p.2 = line,
            None => self.positions.push((ino, name.to_owned(), line)),
        }
    }
}

/// A guid for the `index`th record made of a line, the same every time that line is
/// read again: a UUID v7 whose time is the event's own (so guids sort by time) and
/// whose other bits come from the SHA-1 of the file's inode, the line's number, its
/// bytes and the index.
pub fn line_guid(ts_ms: i64, ino: u64, line: u64, bytes: &[u8], index: u32) -> String {
    use sha1::{Digest, Sha1};
    let mut h = Sha1::new();
    h.update(ino.to_le_bytes());
    h.update(line.to_le_bytes());
    h.update(index.to_le_bytes());
    h.update(bytes);
    let digest = h.finalize();
    let mut b = [0u8; 16];
    b[6..].copy_from_slice(&digest[..10]);
    let ms = u64::try_from(ts_ms).unwrap_or(0).min((1 << 48) - 1);
    b[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(b).hyphenated().to_string()
}

fn event_ms(e: &Event) -> i64 {
    e.get(fields::TIMESTAMP).and_then(|v| v.as_i64()).unwrap_or(0)
}

/// A followed source's thread: lines parsed, guids made stable, batches sent.
struct FileFeed {
    index: usize,
    parse: ParseStage,
    tx: SyncSender<Msg>,
    inodes: HashMap<String, u64>,
    batch: Msg,
    errors: Vec<Event>,
    stop: Arc<AtomicBool>,
    once: bool,
    metrics: Arc<Metrics>,
    closed: bool,
}

impl FileFeed {
    fn send(&mut self) -> Flow {
        if self.batch.events.is_empty() && self.batch.positions.is_empty() {
            return Flow::Continue;
        }
        let msg = std::mem::replace(&mut self.batch, Msg::new());
        self.metrics.queued(1);
        if self.tx.send(msg).is_err() {
            self.closed = true;
            return Flow::Stop;
        }
        Flow::Continue
    }
}

impl FollowHandler for FileFeed {
    fn opened(&mut self, name: &str, ino: u64) {
        self.inodes.insert(name.to_owned(), ino);
    }

    fn line(&mut self, name: &str, line: u64, data: LineData<'_>) -> Flow {
        if self.stop.load(Ordering::Relaxed) {
            return Flow::Stop;
        }
        let ino = self.inodes.get(name).copied().unwrap_or(0);
        let bytes: Vec<u8> = match &data {
            LineData::Line(l) => l.to_vec(),
            LineData::TooLong { prefix, len } => [prefix, &len.to_le_bytes()[..]].concat(),
        };
        let first = self.batch.events.len();
        self.errors.clear();
        let _ = self.parse.record(name, line, data, &mut self.batch.events, &mut self.errors);
        self.batch.events.append(&mut self.errors);
        for (i, e) in self.batch.events[first..].iter_mut().enumerate() {
            let guid = line_guid(event_ms(e), ino, line, &bytes, i as u32);
            e.insert(fields::GUID.into(), guid.into());
        }
        self.batch.at(ino, name, line);
        self.metrics.source_in(self.index, 1, (self.batch.events.len() - first) as u64);
        if self.batch.events.len() >= BATCH {
            return self.send();
        }
        Flow::Continue
    }

    fn idle(&mut self) -> std::io::Result<Flow> {
        let mut out = Vec::new();
        for m in Processor::tick(&mut self.parse, &mut out) {
            self.metrics.note(&m);
        }
        self.batch.events.append(&mut out);
        if self.send() == Flow::Stop || self.once || self.stop.load(Ordering::Relaxed) {
            return Ok(Flow::Stop);
        }
        Ok(Flow::Continue)
    }
}

/// A listener source's processor: messages parsed, batches sent to the chain (on the
/// driver's tick, which comes at least when the listeners are idle).
struct NetFeed {
    index: usize,
    parse: ParseStage,
    tx: SyncSender<Msg>,
    batch: Msg,
    metrics: Arc<Metrics>,
}

impl NetFeed {
    fn send(&mut self) {
        if self.batch.events.is_empty() {
            return;
        }
        let msg = std::mem::replace(&mut self.batch, Msg::new());
        self.metrics.queued(1);
        let _ = self.tx.send(msg);
    }
}

impl Processor for NetFeed {
    type Record<'a> = LineData<'a>;

    fn record(
        &mut self,
        source: &str,
        at: u64,
        record: LineData<'_>,
        _out: &mut Vec<Event>,
        _errors: &mut Vec<Event>,
    ) -> std::io::Result<()> {
        let before = self.batch.events.len();
        let mut errors = Vec::new();
        self.parse.record(source, at, record, &mut self.batch.events, &mut errors)?;
        self.batch.events.append(&mut errors);
        self.metrics.source_in(self.index, 1, (self.batch.events.len() - before) as u64);
        if self.batch.events.len() >= BATCH {
            self.send();
        }
        Ok(())
    }

    fn tick(&mut self, _out: &mut Vec<Event>) -> Vec<String> {
        let mut out = Vec::new();
        let messages = Processor::tick(&mut self.parse, &mut out);
        self.batch.events.append(&mut out);
        self.send();
        messages
    }

    fn set_envelope(&mut self, envelope: Option<&io::Envelope>) {
        Processor::set_envelope(&mut self.parse, envelope);
    }

    fn had_errors(&self) -> bool {
        false
    }

    fn summary(&self) -> String {
        format!("source {}: listeners stopped", self.index + 1)
    }
}

/// What a run did.
#[derive(Debug, Default)]
pub struct RunReport {
    pub events_in: u64,
    pub records_out: u64,
    pub errors: u64,
    pub checkpoints: u64,
}

/// The main thread's part: the stages and the sink.
struct Chain {
    stages: Vec<Box<dyn Stage>>,
    sink: Sink,
    metrics: Arc<Metrics>,
    quiet: bool,
    since_tick: u64,
    report: RunReport,
}

impl Chain {
    /// Runs `events` through the stages from `from` on, into the sink.
    fn push(&mut self, from: usize, events: Vec<Event>) -> std::io::Result<()> {
        let mut current = events;
        for k in from..self.stages.len() {
            let mut next = Vec::with_capacity(current.len());
            let stage = &mut self.stages[k];
            for e in current {
                let before = next.len();
                if let Err(err) = stage.process(e, &mut next) {
                    let raw =
                        err.event.as_ref().map(|e| serde_json::to_string(e).unwrap_or_default()).unwrap_or_default();
                    self.metrics.stage(k, 1, 0, 1);
                    next.push(error_record(err.kind, stage.name(), &err.message, &raw, "run", None));
                } else {
                    self.metrics.stage(k, 1, (next.len() - before) as u64, 0);
                }
            }
            current = next;
        }
        for e in current {
            if e.get(fields::SOURCE_TYPE).and_then(|v| v.as_str()) == Some("error") {
                self.report.errors += 1;
            }
            self.report.records_out += 1;
            self.sink.take(e)?;
        }
        Ok(())
    }

    fn take(&mut self, msg: Msg) -> std::io::Result<()> {
        let n = msg.events.len() as u64;
        self.report.events_in += n;
        self.metrics.lag(msg.made.elapsed());
        self.push(0, msg.events)?;
        self.since_tick += n;
        if self.since_tick >= TICK_EVERY {
            self.tick()?;
        }
        Ok(())
    }

    fn tick(&mut self) -> std::io::Result<()> {
        self.since_tick = 0;
        for k in 0..self.stages.len() {
            let mut out = Vec::new();
            for m in self.stages[k].tick(&mut out) {
                self.say(&m);
            }
            if !out.is_empty() {
                self.push(k + 1, out)?;
            }
        }
        if let Sink::Store(s) = &mut self.sink {
            for m in s.take_messages() {
                self.say(&m);
            }
        }
        for m in self.metrics.take_notes() {
            self.say(&m);
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.tick()?;
        for k in 0..self.stages.len() {
            let mut out = Vec::new();
            self.stages[k].flush(&mut out);
            if !out.is_empty() {
                self.push(k + 1, out)?;
            }
        }
        Ok(())
    }

    fn say(&self, message: &str) {
        if !self.quiet {
            eprintln!("metron: {}", crate::text::sanitize(message));
        }
    }
}

/// Runs the plan until SIGTERM/SIGINT (or, with `once`, until the files are read).
pub fn run(plan: Plan) -> Result<RunReport, driver::RunError> {
    let Plan { sources, stages, sink, metrics: metrics_listener, checkpoint_interval, once, quiet } = plan;
    let stop = Arc::new(AtomicBool::new(false));
    let hup = Arc::new(AtomicBool::new(false));
    crate::listen::register_signals(&stop, &hup)?;
    let names: Vec<String> = sources.iter().map(PlannedSource::describe).collect();
    let stage_names: Vec<String> = stages.iter().map(|s| s.name().to_owned()).collect();
    let metrics = Arc::new(Metrics::new(names, stage_names));
    if let Some(l) = metrics_listener {
        metrics::serve(l, metrics.clone());
    }
    let checkpoint_path = sink.checkpoint_path();
    let mut checkpoint = Checkpoint::load(&checkpoint_path).map_err(driver::RunError::Source)?;
    let (tx, rx) = mpsc::sync_channel::<Msg>(QUEUE * sources.len().max(1));
    let mut file_threads = Vec::new();
    let mut net = Vec::new();
    for (index, source) in sources.into_iter().enumerate() {
        match source {
            PlannedSource::Follow { paths, parse, max_line } => {
                let skip = checkpoint.skips();
                let feed = FileFeed {
                    index,
                    parse,
                    tx: tx.clone(),
                    inodes: HashMap::new(),
                    batch: Msg::new(),
                    errors: Vec::new(),
                    stop: stop.clone(),
                    once,
                    metrics: metrics.clone(),
                    closed: false,
                };
                file_threads.push(spawn_follow(paths, max_line, skip, feed)?);
            }
            PlannedSource::Listen { listeners, parse } => {
                net.push(listeners.stop_flag());
                metrics.add_listener(listeners.stats());
                let feed = NetFeed { index, parse, tx: tx.clone(), batch: Msg::new(), metrics: metrics.clone() };
                file_threads.push(spawn_listen(listeners, feed, quiet)?);
            }
        }
    }
    drop(tx);
    let file_count = file_threads.len() - net.len();
    let mut chain =
        Chain { stages, sink, metrics: metrics.clone(), quiet, since_tick: 0, report: RunReport::default() };
    let mut last_checkpoint = Instant::now();
    let mut result: std::io::Result<()> = Ok(());
    loop {
        metrics.beat();
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(msg) => {
                metrics.queued(-1);
                for (ino, name, line) in &msg.positions {
                    checkpoint.advance(*ino, name, *line);
                }
                if let Err(e) = chain.take(msg) {
                    result = Err(e);
                    break;
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if let Err(e) = chain.tick() {
                    result = Err(e);
                    break;
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if stop.load(Ordering::Relaxed) {
            for flag in &net {
                flag.store(true, Ordering::Relaxed);
            }
        }
        if once && file_count > 0 && file_threads.iter().take(file_count).all(|t| t.is_finished()) {
            for flag in &net {
                flag.store(true, Ordering::Relaxed);
            }
        }
        if hup.swap(false, Ordering::Relaxed) {
            chain.say("SIGHUP: reloading the config is not supported yet; the pipeline goes on as started");
        }
        if last_checkpoint.elapsed() >= checkpoint_interval {
            last_checkpoint = Instant::now();
            commit(&mut chain, &mut checkpoint, &checkpoint_path, &metrics)?;
        }
    }
    // Stop whatever still runs (an output error), and let it end.
    stop.store(true, Ordering::Relaxed);
    for flag in &net {
        flag.store(true, Ordering::Relaxed);
    }
    drop(rx);
    for t in file_threads {
        if let Ok(Err(e)) = t.join() {
            chain.say(&e.to_string());
        }
    }
    result?;
    chain.finish()?;
    commit(&mut chain, &mut checkpoint, &checkpoint_path, &metrics)?;
    let Chain { sink, mut report, .. } = chain;
    report.checkpoints = metrics.commits();
    match sink {
        Sink::Store(mut s) => {
            s.finish().map_err(|e| driver::RunError::Source(e.to_string()))?;
            if !quiet {
                eprintln!("{}", s.summary().unwrap_or_default());
            }
        }
        Sink::File { output, .. } => (*output).finish()?,
        Sink::Unopened(_) => {}
    }
    Ok(report)
}

/// Syncs the sink, then writes the positions it now holds.
fn commit(
    chain: &mut Chain,
    checkpoint: &mut Checkpoint,
    path: &std::path::Path,
    metrics: &Metrics,
) -> Result<(), driver::RunError> {
    let started = Instant::now();
    chain.sink.sync().map_err(|e| {
        metrics.fail();
        driver::RunError::Source(e)
    })?;
    checkpoint.save(path).map_err(driver::RunError::Source)?;
    metrics.committed(started.elapsed());
    Ok(())
}

type Handle = std::thread::JoinHandle<Result<(), driver::RunError>>;

fn spawn_follow(
    paths: Vec<PathBuf>,
    max_line: usize,
    skip: HashMap<u64, u64>,
    mut feed: FileFeed,
) -> std::io::Result<Handle> {
    std::thread::Builder::new().name(format!("source-{}", feed.index + 1)).spawn(move || {
        let result = io::Follower::resuming(&paths, max_line, skip).and_then(|mut f| f.run(&mut feed));
        if !feed.closed {
            let mut out = Vec::new();
            let _ = Processor::finish(&mut feed.parse, &mut |events| {
                out.append(events);
                Ok(())
            });
            feed.batch.events.append(&mut out);
            feed.send();
        }
        result.map_err(driver::RunError::from)
    })
}

fn spawn_listen(listeners: Listeners, mut feed: NetFeed, quiet: bool) -> std::io::Result<Handle> {
    std::thread::Builder::new().name(format!("source-{}", feed.index + 1)).spawn(move || {
        // The driver's own output gets nothing: the feed hands everything to the chain.
        let outputs = driver::Outputs { output: Some(PathBuf::from("/dev/null")), errors: None, quiet };
        let result = driver::run(&mut feed, listeners, &outputs).map(|_| ());
        feed.send();
        result
    })
}
