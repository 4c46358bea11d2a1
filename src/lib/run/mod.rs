//! `metron run`: the pipeline a config describes, as one always-on process.
//!
//! Sources (followed files, network listeners) each run on their own thread with a
//! parser of their own and hand batches of events, as NDJSON, over a bounded channel
//! (so a slow sink holds the sources back); the main thread runs the stage chain in
//! process through each stage's line fast path (an event is built only for a stage
//! without one), into the sink; the store's writer commits on a third thread.
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
use crate::event::{Event, StableGuid};
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
    /// Where the followed files' positions are kept when the sink is not the store:
    /// needed for a Kafka sink; a file sink keeps them beside the file by default.
    pub state: Option<PathBuf>,
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
    /// A file (appended to) or a Kafka topic (`kafka://`): what was written is
    /// flushed, or acknowledged by the broker, before positions are checkpointed.
    File {
        output: Box<Output>,
        path: PathBuf,
        /// Where the positions are kept.
        checkpoint: PathBuf,
    },
    /// Not opened (`--check`): what it would be.
    Unopened(String),
}

impl Sink {
    fn describe(&self) -> String {
        match self {
            Sink::Unopened(what) => what.clone(),
            Sink::Store(s) => format!("store {}", s.store().dir().display()),
            Sink::File { path, .. } if io::is_kafka(path) => format!("kafka topic {}", path.display()),
            Sink::File { path, .. } => format!("file {}", path.display()),
        }
    }

    /// NDJSON lines (each with its newline), `count` of them.
    fn take_lines(&mut self, lines: &[u8], count: u64) -> std::io::Result<()> {
        match self {
            Sink::Store(s) => {
                let mut none = Vec::new();
                for line in lines.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                    // The store takes every JSON object and emits nothing; what is not
                    // one (no stage makes such a line) is left out.
                    let _ = s.process_line(line, &mut none);
                }
                Ok(())
            }
            Sink::File { output, .. } => output.write_lines(lines, count),
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

    fn checkpoint_path(&self) -> Option<PathBuf> {
        Some(match self {
            Sink::Store(s) => s.store().dir().join("run").join("checkpoint.json"),
            Sink::File { checkpoint, .. } => checkpoint.clone(),
            Sink::Unopened(_) => return None,
        })
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
    /// SIGHUP: the stages built again from the config as it is now (every problem
    /// in one message if it cannot be); sources and sink stay as started.
    pub reload: Option<Reload>,
}

/// Builds the stages again from the config file.
pub type Reload = Box<dyn FnMut() -> Result<Vec<Box<dyn Stage>>, String> + Send>;

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

/// A batch of a source's events as NDJSON (the parsers' direct output, or events
/// serialized on the source's thread), with where in its files the source got to.
/// The stages take lines through their fast paths (`Stage::process_line`), which read
/// only the fields they need; events are built only where a stage has none.
struct Msg {
    /// Events not yet serialized (written into `lines` when the batch is sent).
    events: Vec<Event>,
    lines: Vec<u8>,
    count: usize,
    /// Error records among them.
    errors: u64,
    /// (inode, name, last line) of the followed files the events came from.
    positions: Vec<(u64, String, u64)>,
    made: Instant,
}

impl Msg {
    fn new() -> Msg {
        Msg {
            events: Vec::new(),
            lines: Vec::with_capacity(BATCH * 512),
            count: 0,
            errors: 0,
            positions: Vec::new(),
            made: Instant::now(),
        }
    }

    fn is_empty(&self) -> bool {
        self.count == 0 && self.events.is_empty() && self.positions.is_empty()
    }

    fn len(&self) -> usize {
        self.count + self.events.len()
    }

    /// Serializes the events held as events.
    fn seal(&mut self) {
        self.count += self.events.len();
        for e in self.events.drain(..) {
            write_line(&mut self.lines, &e);
        }
    }

    /// Takes the parser's direct NDJSON, if it wrote any.
    fn take_direct(&mut self, parse: &mut ParseStage) {
        let Some((bytes, n)) = parse.direct_output() else { return };
        if bytes.is_empty() {
            return;
        }
        let mut index = 0;
        for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            index += 1;
            self.lines.extend_from_slice(line);
            self.lines.push(b'\n');
        }
        self.count += index as usize;
        bytes.clear();
        *n = 0;
    }

    fn at(&mut self, ino: u64, name: &str, line: u64) {
        match self.positions.iter_mut().find(|(i, _, _)| *i == ino) {
            Some(p) => p.2 = line,
            None => self.positions.push((ino, name.to_owned(), line)),
        }
    }
}

fn write_line(out: &mut Vec<u8>, event: &Event) {
    if serde_json::to_writer(&mut *out, event).is_ok() {
        out.push(b'\n');
    }
}

/// What identifies a line of a followed file across restarts: its file's inode, its
/// number and its bytes (an over-long line: its first bytes and its length).
fn line_key(ino: u64, line: u64, data: &LineData<'_>) -> StableGuid {
    match data {
        LineData::Line(l) => StableGuid::new(&[&ino.to_le_bytes(), &line.to_le_bytes(), l]),
        LineData::TooLong { prefix, len } => {
            StableGuid::new(&[&ino.to_le_bytes(), &line.to_le_bytes(), prefix, &len.to_le_bytes()])
        }
    }
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
        if self.batch.is_empty() {
            return Flow::Continue;
        }
        self.batch.seal();
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
        let key = line_key(ino, line, &data);
        let (first, before) = (self.batch.events.len(), self.batch.len());
        self.errors.clear();
        let _ = self.parse.record(name, line, data, &mut self.batch.events, &mut self.errors);
        self.batch.errors += self.errors.len() as u64;
        self.batch.events.append(&mut self.errors);
        let mut none = Vec::new();
        let direct = self.parse.direct_output().map_or(&mut none, |(bytes, _)| bytes);
        key.stamp(direct, &mut self.batch.events[first..]);
        self.batch.take_direct(&mut self.parse);
        self.batch.at(ino, name, line);
        self.metrics.source_in(self.index, 1, (self.batch.len() - before) as u64);
        if self.batch.len() >= BATCH {
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
    errors: Vec<Event>,
    metrics: Arc<Metrics>,
}

impl NetFeed {
    fn send(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        self.batch.seal();
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
        let before = self.batch.len();
        self.errors.clear();
        self.parse.record(source, at, record, &mut self.batch.events, &mut self.errors)?;
        self.batch.take_direct(&mut self.parse);
        self.batch.errors += self.errors.len() as u64;
        self.batch.events.append(&mut self.errors);
        self.metrics.source_in(self.index, 1, (self.batch.len() - before) as u64);
        if self.batch.len() >= BATCH {
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
    /// Runs events made by a stage's tick or flush through the stages after it.
    fn push(&mut self, from: usize, events: Vec<Event>) -> std::io::Result<()> {
        let mut lines = Vec::new();
        for e in &events {
            write_line(&mut lines, e);
        }
        self.push_lines(from, lines)
    }

    /// Runs NDJSON `lines` through the stages from `from` on, into the sink: each
    /// stage's line fast path where it has one, else the line as an event.
    fn push_lines(&mut self, from: usize, lines: Vec<u8>) -> std::io::Result<()> {
        let mut current = lines;
        let mut next = Vec::with_capacity(current.len() + current.len() / 2);
        let mut made = Vec::new();
        for k in from..self.stages.len() {
            next.clear();
            let stage = &mut self.stages[k];
            for line in current.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                if let Some(n) = stage.process_line(line, &mut next) {
                    self.metrics.stage(k, 1, n, 0);
                    continue;
                }
                let event = match crate::event::event_from_json(line) {
                    Ok(e) => e,
                    Err(e) => {
                        let message = format!("not an event: {e}");
                        let raw = String::from_utf8_lossy(line);
                        write_line(
                            &mut next,
                            &error_record(stage.error_type(), stage.name(), &message, &raw, "run", None),
                        );
                        self.metrics.stage(k, 1, 0, 1);
                        self.report.errors += 1;
                        continue;
                    }
                };
                made.clear();
                match stage.process(event, &mut made) {
                    Ok(()) => self.metrics.stage(k, 1, made.len() as u64, 0),
                    Err(err) => {
                        let raw = err.event.as_ref().and_then(|e| serde_json::to_string(e).ok()).unwrap_or_default();
                        made.push(error_record(err.kind, stage.name(), &err.message, &raw, "run", None));
                        self.metrics.stage(k, 1, 0, 1);
                        self.report.errors += 1;
                    }
                }
                for e in &made {
                    write_line(&mut next, e);
                }
            }
            std::mem::swap(&mut current, &mut next);
        }
        let count = current.iter().filter(|b| **b == b'\n').count() as u64;
        self.report.records_out += count;
        self.sink.take_lines(&current, count)
    }

    fn take(&mut self, msg: Msg) -> std::io::Result<()> {
        let n = msg.count as u64;
        self.report.events_in += n;
        self.report.errors += msg.errors;
        self.metrics.lag(msg.made.elapsed());
        self.push_lines(0, msg.lines)?;
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
    let Plan { sources, stages, sink, metrics: metrics_listener, checkpoint_interval, once, quiet, mut reload } = plan;
    let stop = Arc::new(AtomicBool::new(false));
    let hup = Arc::new(AtomicBool::new(false));
    crate::listen::register_signals(&stop, &hup)?;
    let names: Vec<String> = sources.iter().map(PlannedSource::describe).collect();
    let stage_names: Vec<String> = stages.iter().map(|s| s.name().to_owned()).collect();
    let metrics = Arc::new(Metrics::new(names, stage_names));
    if let Some(l) = metrics_listener {
        metrics::serve(l, metrics.clone());
    }
    let Some(checkpoint_path) = sink.checkpoint_path() else {
        return Err(driver::RunError::Source(format!("{}: a plan made by --check cannot run", sink.describe())));
    };
    let mut checkpoint = Checkpoint::load(&checkpoint_path).map_err(driver::RunError::Source)?;
    let (tx, rx) = mpsc::sync_channel::<Msg>(QUEUE * sources.len().max(1));
    // Followed files and listeners apart: `--once` ends when the files are read.
    let (mut file_threads, mut net_threads) = (Vec::new(), Vec::new());
    let mut net = Vec::new();
    let skip = checkpoint.skips();
    for (index, source) in sources.into_iter().enumerate() {
        match source {
            PlannedSource::Follow { paths, mut parse, max_line } => {
                // Parsers with a direct path (Zeek TSV) write NDJSON without events.
                parse.write_direct();
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
                file_threads.push(spawn_follow(paths, max_line, skip.clone(), feed)?);
            }
            PlannedSource::Listen { listeners, mut parse } => {
                parse.write_direct();
                net.push(listeners.stop_flag());
                metrics.add_listener(listeners.stats());
                let feed = NetFeed {
                    index,
                    parse,
                    tx: tx.clone(),
                    batch: Msg::new(),
                    errors: Vec::new(),
                    metrics: metrics.clone(),
                };
                net_threads.push(spawn_listen(listeners, feed, quiet)?);
            }
        }
    }
    drop(tx);
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
        if once && !file_threads.is_empty() && file_threads.iter().all(|t| t.is_finished()) {
            for flag in &net {
                flag.store(true, Ordering::Relaxed);
            }
        }
        if hup.swap(false, Ordering::Relaxed) {
            reload_stages(&mut chain, reload.as_mut())?;
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
    for t in file_threads.into_iter().chain(net_threads) {
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

/// SIGHUP: the new stages replace the old ones after those flushed what they held; a
/// config that cannot be built is reported and the old stages go on.
fn reload_stages(chain: &mut Chain, reload: Option<&mut Reload>) -> std::io::Result<()> {
    let Some(reload) = reload else {
        chain.say("SIGHUP: no config file to reload; the pipeline goes on as started");
        return Ok(());
    };
    match reload() {
        Ok(stages) => {
            chain.finish()?;
            let names: Vec<&str> = stages.iter().map(|s| s.name()).collect();
            chain.say(&format!(
                "SIGHUP: stages reloaded from the config ({}); sources and sink stay as started",
                if names.is_empty() { "none".to_owned() } else { names.join(" -> ") }
            ));
            chain.stages = stages;
        }
        Err(problems) => {
            chain.say(&format!("SIGHUP: the config was not reloaded, the pipeline goes on as it was: {problems}"))
        }
    }
    Ok(())
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
        let outputs = driver::Outputs { output: Some(PathBuf::from("/dev/null")), errors: None, quiet, append: false };
        let result = driver::run(&mut feed, listeners, &outputs).map(|_| ());
        feed.send();
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{line_ms, restamp};

    fn line_guid(ts_ms: i64, ino: u64, line: u64, bytes: &[u8], index: u32) -> String {
        line_key(ino, line, &LineData::Line(bytes)).guid(ts_ms, index)
    }

    #[test]
    fn a_line_guid_is_stable_sorts_by_event_time_and_differs_by_line() {
        let a = line_guid(1_700_000_000_000, 7, 3, b"line", 0);
        assert_eq!(a, line_guid(1_700_000_000_000, 7, 3, b"line", 0));
        let parsed = uuid::Uuid::parse_str(&a).unwrap();
        assert_eq!(parsed.get_version_num(), 7);
        assert_ne!(a, line_guid(1_700_000_000_000, 7, 4, b"line", 0));
        assert_ne!(a, line_guid(1_700_000_000_000, 8, 3, b"line", 0));
        assert_ne!(a, line_guid(1_700_000_000_000, 7, 3, b"line", 1));
        assert!(line_guid(1_600_000_000_000, 9, 9, b"x", 0) < a, "earlier events sort first");
        // Times out of range are clamped, not a panic.
        let _ = line_guid(-5, 0, 0, b"", 0);
        let _ = line_guid(i64::MAX, 0, 0, b"", 0);
        // An over-long line's key has its length: two prefixes alike, lengths not.
        let long = |len| line_key(7, 3, &LineData::TooLong { prefix: b"line", len }).guid(0, 0);
        assert_ne!(long(10), long(11));
    }

    #[test]
    fn restamp_replaces_only_a_whole_guid_and_line_ms_reads_the_time() {
        let old = crate::event::new_guid();
        let new = line_guid(5, 1, 1, b"l", 0);
        let mut line = format!(r#"{{"timestamp":1700000000123,"guid":"{old}","x":1}}"#).into_bytes();
        assert_eq!(line_ms(&line), 1_700_000_000_123);
        restamp(&mut line, &new);
        assert_eq!(String::from_utf8(line).unwrap(), format!(r#"{{"timestamp":1700000000123,"guid":"{new}","x":1}}"#));
        let mut short = br#"{"guid":"abc"}"#.to_vec();
        restamp(&mut short, &new);
        assert_eq!(short, br#"{"guid":"abc"}"#);
        assert_eq!(line_ms(br#"{"timestamp":"text"}"#), 0);
        assert_eq!(line_ms(b""), 0);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_lines_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let mut line = bytes.clone();
            let _ = line_ms(&line);
            restamp(&mut line, &line_guid(0, 0, 0, &bytes, 0));
            proptest::prop_assert_eq!(line.len(), bytes.len());
        }
    }
}
