//! The one driver every stage runs behind: a [`Source`] hands records (lines of
//! files or stdin, followed files, packets) to a [`Processor`] (the parse stage, an
//! event stage, the capture engine), and the driver writes what comes out: events to
//! the output, error records (with file and line) to the error sink, progress on a
//! terminal, the stage's ticks, a summary line, and the exit status. A closed stdout
//! (`| head`) ends a run quietly and cleanly.
//!
//! ```text
//! Source --record--> Feed --> Processor --events--> Output (NDJSON, .zst)
//!                                       \--errors--> ErrorSink (--errors or stderr)
//! ```

use crate::error::error_record;
use crate::event::Event;
use crate::io::{self, ErrorSink, Flow, FollowHandler, Follower, InputSpec, LineData, Output, Progress};
use crate::stage::Stage;
use std::path::PathBuf;

/// How a run ended, for the exit code: 0 clean, 1 some records were errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Clean,
    HadErrors,
}

impl Outcome {
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Clean => 0,
            Outcome::HadErrors => 1,
        }
    }
}

/// Where a line stage's input comes from and where its output and errors go.
pub struct RunOptions {
    pub inputs: Vec<PathBuf>,
    pub output: Option<PathBuf>,
    pub errors: Option<PathBuf>,
    pub follow: bool,
    pub quiet: bool,
}

impl RunOptions {
    pub fn outputs(&self) -> Outputs {
        Outputs { output: self.output.clone(), errors: self.errors.clone(), quiet: self.quiet, append: false }
    }
}

/// Where a run's records and error records go.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    /// NDJSON output (`.zst` compresses); stdout when `None`.
    pub output: Option<PathBuf>,
    /// Error records; summarized on stderr when `None`.
    pub errors: Option<PathBuf>,
    /// No summary line or progress.
    pub quiet: bool,
    /// Files are appended to, not emptied (a Kafka input: what an earlier run wrote
    /// and committed stays).
    pub append: bool,
}

/// A fatal problem: the run could not start, its source failed, or its output failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A source that cannot go on (an interface that went away, say).
    #[error("{0}")]
    Source(String),
}

/// What the driver feeds records to.
pub trait Processor {
    /// One record as its sources hand it over: a line, a packet.
    type Record<'a>;

    /// One record of `source` (`at`: its line or packet number): events to `out`,
    /// error records to `errors`. An error is fatal (a `--write` file that cannot be
    /// written); bad records are error records instead.
    fn record(
        &mut self,
        source: &str,
        at: u64,
        record: Self::Record<'_>,
        out: &mut Vec<Event>,
        errors: &mut Vec<Event>,
    ) -> std::io::Result<()>;

    /// `source` was read to its end, or could not be read: `error` says where
    /// (line, 0 for the whole input) and why.
    fn end_source(&mut self, _source: &str, _error: Option<(u64, String)>, _errors: &mut Vec<Event>) {}

    /// Now and then, and when waiting for input: close windows, reload files.
    /// Messages go to stderr.
    fn tick(&mut self, _out: &mut Vec<Event>) -> Vec<String> {
        Vec::new()
    }

    /// End of all input: what is held back goes to `emit`, in chunks if there is a
    /// lot of it (a large flow table), so that it is never all in memory at once.
    fn finish(&mut self, emit: &mut dyn FnMut(&mut Vec<Event>) -> std::io::Result<()>) -> std::io::Result<()> {
        emit(&mut Vec::new())
    }

    /// NDJSON lines the processor wrote itself (a fast path), and how many, to go out
    /// before the events of the same record; taken and cleared by the driver.
    fn raw_output(&mut self) -> Option<(&mut Vec<u8>, &mut u64)> {
        None
    }

    /// The next records came over the network with this envelope (`metron listen`;
    /// `None` after them): a processor keeps its fields on what it makes of them.
    fn set_envelope(&mut self, _envelope: Option<&io::Envelope>) {}

    /// Makes what was handed over so far durable (the store commits its open
    /// batches) before a Kafka input stores its offsets.
    fn checkpoint(&mut self) -> std::io::Result<()> {
        Ok(())
    }

    /// How often a busy Kafka input checkpoints ([`Stage::checkpoint_every`]).
    fn checkpoint_every(&self) -> std::time::Duration {
        std::time::Duration::from_secs(1)
    }

    /// Whether it makes new records with new guids (parse), which a replayable
    /// source asks to make from the record's position instead
    /// ([`Feed::record_keyed`]).
    fn mints_guids(&self) -> bool {
        false
    }

    /// The stage's name: a Kafka input's default consumer group is `metron-NAME`.
    fn name(&self) -> &str {
        "metron"
    }

    fn had_errors(&self) -> bool;

    /// The summary line for stderr.
    fn summary(&self) -> String;
}

/// Something that hands records to a processor through a [`Feed`].
pub trait Source<P: Processor> {
    /// What the progress bar counts (`records`, `packets`).
    fn unit(&self) -> &'static str {
        "records"
    }
    /// Reads everything (or until the feed says stop).
    fn feed(self, feed: &mut Feed<'_, P>) -> Result<(), RunError>;
}

/// Runs `processor` over everything `source` has, writing to `outputs`.
pub fn run<P: Processor, S: Source<P>>(processor: &mut P, source: S, outputs: &Outputs) -> Result<Outcome, RunError> {
    let mut out = match outputs.append {
        true => Output::open_appending(outputs.output.as_deref())?,
        false => Output::open(outputs.output.as_deref())?,
    };
    let mode = match &outputs.errors {
        Some(p) if outputs.append => io::ErrorSinkMode::AppendFile(p),
        Some(p) => io::ErrorSinkMode::File(p),
        None => io::ErrorSinkMode::Stderr { quiet: outputs.quiet },
    };
    let mut errors = ErrorSink::open(mode)?;
    let progress = Progress::new(source.unit(), outputs.quiet);
    let mut feed = Feed {
        processor,
        out: &mut out,
        errors: &mut errors,
        progress: &progress,
        events: Vec::new(),
        error_records: Vec::new(),
        write_err: None,
        count: 0,
        quiet: outputs.quiet,
        finished: false,
    };
    let result = source.feed(&mut feed);
    let result = result.and_then(|()| feed.take_write_error()).and_then(|()| feed.finish());
    progress.finish();
    let had_errors = feed.processor.had_errors();
    let summary = feed.processor.summary();
    match result {
        Ok(()) => {}
        // The reader went away (`| head`): stop quietly, that is success.
        Err(RunError::Io(e)) if io::is_broken_pipe(&e) => return Ok(Outcome::Clean),
        Err(e) => return Err(e),
    }
    match out.finish() {
        Err(e) if io::is_broken_pipe(&e) => return Ok(Outcome::Clean),
        other => other?,
    }
    errors.finish()?;
    if !outputs.quiet {
        eprintln!("{summary}");
    }
    Ok(if had_errors { Outcome::HadErrors } else { Outcome::Clean })
}

/// How often (in records) a processor gets its `tick`.
const TICK_EVERY: u64 = 4096;

/// The driver as a source sees it: hand over records, say when an input ends or
/// when it is idle; what comes out is written at once.
pub struct Feed<'a, P: Processor> {
    processor: &'a mut P,
    out: &'a mut Output,
    errors: &'a mut ErrorSink,
    progress: &'a Progress,
    events: Vec<Event>,
    error_records: Vec<Event>,
    write_err: Option<std::io::Error>,
    count: u64,
    quiet: bool,
    finished: bool,
}

impl<P: Processor> Feed<'_, P> {
    /// The progress bar names the input being read.
    pub fn input(&mut self, name: &str) {
        self.progress.set_input(name);
    }

    /// One record. `Flow::Stop` when the output failed (the error is returned by the
    /// run), so that the source stops reading.
    pub fn record(&mut self, source: &str, at: u64, record: P::Record<'_>) -> Flow {
        self.record_keyed(source, at, None, record)
    }

    /// One record from a source that may hand it over again after a crash (a Kafka
    /// topic): a processor that mints guids (parse) gives what it makes of it guids
    /// from `key` (where the record was read), so that a replay repeats them and the
    /// store keeps one copy.
    pub fn record_keyed(
        &mut self,
        source: &str,
        at: u64,
        key: Option<&crate::event::StableGuid>,
        record: P::Record<'_>,
    ) -> Flow {
        let mut result = self.processor.record(source, at, record, &mut self.events, &mut self.error_records);
        if let Some(key) = key.filter(|_| self.processor.mints_guids()) {
            match self.processor.raw_output() {
                Some((raw, _)) => key.stamp(raw, &mut self.events),
                None => key.stamp(&mut [], &mut self.events),
            }
        }
        result = result.and_then(|()| self.drain());
        self.count += 1;
        if self.count.is_multiple_of(TICK_EVERY) {
            self.progress.inc(TICK_EVERY);
            result = result.and_then(|()| self.tick());
        }
        match result {
            Ok(()) => Flow::Continue,
            Err(e) => {
                self.write_err = Some(e);
                Flow::Stop
            }
        }
    }

    /// One record received over the network, with its envelope.
    pub fn record_with(&mut self, source: &str, at: u64, envelope: &io::Envelope, record: P::Record<'_>) -> Flow {
        self.processor.set_envelope(Some(envelope));
        let flow = self.record(source, at, record);
        self.processor.set_envelope(None);
        flow
    }

    /// Opens the output file again (SIGHUP after log rotation); stdout stays stdout.
    pub fn reopen_output(&mut self) -> std::io::Result<()> {
        self.drain()?;
        self.out.reopen()
    }

    /// Writes a message on stderr unless quiet (sanitized: it may name what a peer sent).
    pub fn say(&self, message: &str) {
        if !self.quiet {
            eprintln!("metron: {}", crate::text::sanitize(message));
        }
    }

    /// `source` ended, or could not be read (`error`: line or 0, and why).
    pub fn end_source(&mut self, source: &str, error: Option<(u64, String)>) -> std::io::Result<()> {
        self.processor.end_source(source, error, &mut self.error_records);
        self.drain()
    }

    /// Lets a source work on its processor directly (a live capture moves the flow
    /// clock on a timer); what it pushes is written at once.
    pub fn with(
        &mut self,
        f: impl FnOnce(&mut P, &mut Vec<Event>, &mut Vec<Event>) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        f(self.processor, &mut self.events, &mut self.error_records)?;
        self.drain()
    }

    /// Caught up with the input: the processor gets a tick and everything written so
    /// far goes out now (a follower waiting, a quiet interface).
    pub fn idle(&mut self) -> std::io::Result<()> {
        self.tick()?;
        self.out.flush()?;
        self.errors.flush()
    }

    /// Everything handed over so far is written, acknowledged (a Kafka output) or
    /// committed (the store): after this a Kafka input may store its offsets.
    pub fn checkpoint(&mut self) -> std::io::Result<()> {
        self.drain()?;
        self.processor.checkpoint()?;
        self.drain()?;
        self.out.flush()?;
        self.errors.flush()
    }

    /// Whether stderr is for summaries and messages (not `--quiet`).
    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// The output error that stopped the last `record`, if any.
    pub fn take_write_error(&mut self) -> Result<(), RunError> {
        match self.write_err.take() {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Writes what came out of the last record(s).
    fn drain(&mut self) -> std::io::Result<()> {
        if let Some((raw, lines)) = self.processor.raw_output() {
            if !raw.is_empty() {
                let result = self.out.write_lines(raw, *lines);
                raw.clear();
                *lines = 0;
                result?;
            }
        }
        for e in self.events.drain(..) {
            self.out.write_event(&e)?;
        }
        for e in self.error_records.drain(..) {
            self.errors.emit(&e)?;
        }
        Ok(())
    }

    fn tick(&mut self) -> std::io::Result<()> {
        for message in self.processor.tick(&mut self.events) {
            if !self.quiet {
                eprintln!("metron: {}", crate::text::sanitize(&message));
            }
        }
        self.drain()
    }

    /// The end of input: the processor's last tick and what it held back. Once only
    /// (a Kafka source finishes before its last commit; the driver's call is then a
    /// no-op).
    fn finish(&mut self) -> Result<(), RunError> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        // A last tick, so that what a processor noticed since the previous one (a
        // warning, a reload) is shown even when the input was shorter than one tick.
        self.tick()?;
        let (out, errors, processor) = (&mut *self.out, &mut *self.errors, &mut *self.processor);
        let error_records = &mut self.error_records;
        processor.finish(&mut |events| {
            for e in events.drain(..) {
                out.write_event(&e)?;
            }
            for e in error_records.drain(..) {
                errors.emit(&e)?;
            }
            Ok(())
        })?;
        self.drain()?;
        Ok(())
    }
}

/// Every line of files (or stdin), one input after another.
pub struct Lines<'a> {
    pub inputs: &'a [PathBuf],
    pub max_line: usize,
}

impl<P: for<'r> Processor<Record<'r> = LineData<'r>>> Source<P> for Lines<'_> {
    fn feed(self, feed: &mut Feed<'_, P>) -> Result<(), RunError> {
        for input in InputSpec::from_args(self.inputs) {
            let name = input.name();
            feed.input(&name);
            let mut reader = match input.open() {
                Ok(r) => r,
                Err(e) => {
                    // An unreadable input is reported and counted; the others still run.
                    feed.end_source(&name, Some((0, e.to_string())))?;
                    continue;
                }
            };
            let mut last_line = 0;
            let read = io::read_lines(&mut reader, self.max_line, |n, data| {
                last_line = n;
                feed.record(&name, n, data)
            });
            feed.take_write_error()?;
            // A damaged input (truncated .gz, I/O error): what came before stays, the
            // damage is one error record, and the run goes on with the next input.
            let damage = read.err().map(|e| (last_line + 1, format!("read error after line {last_line}: {e}")));
            feed.end_source(&name, damage)?;
        }
        Ok(())
    }
}

/// Files and directories followed as they grow and rotate (`--follow`), until
/// interrupted.
pub struct FollowLines<'a> {
    pub inputs: &'a [PathBuf],
    pub max_line: usize,
}

impl<P: for<'r> Processor<Record<'r> = LineData<'r>>> Source<P> for FollowLines<'_> {
    fn feed(self, feed: &mut Feed<'_, P>) -> Result<(), RunError> {
        struct Handler<'f, 'a, P: Processor>(&'f mut Feed<'a, P>);
        impl<P: for<'r> Processor<Record<'r> = LineData<'r>>> FollowHandler for Handler<'_, '_, P> {
            fn line(&mut self, name: &str, line_no: u64, data: LineData<'_>) -> Flow {
                self.0.record(name, line_no, data)
            }
            fn idle(&mut self) -> std::io::Result<Flow> {
                self.0.idle()?;
                Ok(Flow::Continue)
            }
        }
        let mut follower = Follower::new(self.inputs, self.max_line)?;
        follower.run(&mut Handler(feed))?;
        feed.take_write_error()
    }
}

/// The messages of a Kafka topic, one record per line of each (a message is usually
/// one line), until the input's end (`eof=true`) or SIGINT/SIGTERM. Offsets are
/// stored only after a checkpoint: what the stage made of the messages is written,
/// acknowledged or committed first.
#[cfg(feature = "kafka")]
pub struct KafkaLines {
    pub url: io::KafkaUrl,
    pub max_line: usize,
}

#[cfg(feature = "kafka")]
impl<P: for<'r> Processor<Record<'r> = LineData<'r>>> Source<P> for KafkaLines {
    fn unit(&self) -> &'static str {
        "messages"
    }

    fn feed(self, feed: &mut Feed<'_, P>) -> Result<(), RunError> {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::time::{Duration, Instant};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // A second signal ends the process at once (a broker gone for good keeps
            // the first one waiting in a flush); its offsets stay uncommitted.
            signal_hook::flag::register_conditional_shutdown(signal, 130, stop.clone())?;
            signal_hook::flag::register(signal, stop.clone())?;
        }
        let group = format!("metron-{}", feed.processor.name());
        let mut input = io::KafkaInput::open(&self.url, &group, feed.quiet()).map_err(RunError::Source)?;
        feed.input(&self.url.display());
        // The name error records give as the file: `TOPIC[PARTITION]`; the line is
        // the message's offset.
        let mut names: std::collections::BTreeMap<i32, String> = std::collections::BTreeMap::new();
        let topic = self.url.topic.clone();
        let keyed = feed.processor.mints_guids();
        let every = feed.processor.checkpoint_every();
        let mut last_store = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            let polled = input.poll(Duration::from_millis(100), |partition, offset, payload| {
                let name = names.entry(partition).or_insert_with(|| format!("{topic}[{partition}]"));
                let at = u64::try_from(offset).unwrap_or(0);
                let _ = io::read_lines(&mut &payload[..], self.max_line, |n, data| {
                    let key = keyed.then(|| {
                        crate::event::StableGuid::new(&[
                            topic.as_bytes(),
                            &partition.to_le_bytes(),
                            &offset.to_le_bytes(),
                            &n.to_le_bytes(),
                        ])
                    });
                    feed.record_keyed(name, at, key.as_ref(), data)
                });
            });
            feed.take_write_error()?;
            match polled {
                io::Polled::End => break,
                io::Polled::Idle => feed.idle()?,
                io::Polled::Message => {}
            }
            // Every `every`, busy or idle: an idle checkpoint each poll would make the
            // store commit a segment per trickling message.
            if input.pending() > 0 && last_store.elapsed() >= every {
                feed.checkpoint()?;
                input.store();
                last_store = Instant::now();
            }
        }
        // What the stage holds back (alert's de-duplication, profile's windows) goes
        // out before the last offsets are committed.
        feed.finish()?;
        feed.checkpoint()?;
        input.close().map_err(RunError::Source)
    }
}

/// The Kafka topic among `inputs`, if one is named: it is read alone.
fn kafka_input(inputs: &[PathBuf], follow: bool) -> Result<Option<io::KafkaUrl>, RunError> {
    let Some(arg) = inputs.iter().find(|p| io::is_kafka(p)) else { return Ok(None) };
    if inputs.len() > 1 {
        return Err(RunError::Source("a Kafka topic is read alone: one kafka:// input, no files beside it".into()));
    }
    if follow {
        return Err(RunError::Source("--follow is for files: a Kafka topic is read until interrupted already".into()));
    }
    io::kafka_url(arg).map(Some).map_err(RunError::Source)
}

/// Runs a line processor over `opts.inputs`, followed or read once, or over a Kafka
/// topic.
pub fn run_lines<P: for<'r> Processor<Record<'r> = LineData<'r>>>(
    processor: &mut P,
    opts: &RunOptions,
    max_line: usize,
) -> Result<Outcome, RunError> {
    let mut outputs = opts.outputs();
    if let Some(url) = kafka_input(&opts.inputs, opts.follow)? {
        outputs.append = true;
        #[cfg(feature = "kafka")]
        return run(processor, KafkaLines { url, max_line }, &outputs);
        #[cfg(not(feature = "kafka"))]
        return Err(RunError::Source(format!("{}: this build has no Kafka", url.display())));
    }
    if opts.follow {
        run(processor, FollowLines { inputs: &opts.inputs, max_line }, &outputs)
    } else {
        run(processor, Lines { inputs: &opts.inputs, max_line }, &outputs)
    }
}

/// Runs an event stage (`enrich`, `label`, `alert`, ...) over NDJSON inputs.
pub fn events(stage: &mut dyn Stage, opts: &RunOptions, max_line: usize) -> Result<(EventStats, Outcome), RunError> {
    let mut lines = EventLines::new(stage, max_line);
    let outcome = run_lines(&mut lines, opts, max_line)?;
    Ok((lines.stats, outcome))
}

/// Runs an event stage over NDJSON bytes in memory exactly as [`events`] feeds it
/// (the stage's line fast path first, `process` for the lines it leaves), writing to
/// `out`: for benchmarks and tests that should measure the driver's path without
/// files. Error records are counted, not kept.
pub fn events_in_memory(stage: &mut dyn Stage, input: &[u8], out: &mut Output) -> std::io::Result<EventStats> {
    let max_line = io::DEFAULT_MAX_LINE;
    let mut lines = EventLines::new(stage, max_line);
    let (mut events, mut errors) = (Vec::new(), Vec::new());
    let mut write_err = None;
    let write = |lines: &mut EventLines<'_>, events: &mut Vec<Event>, out: &mut Output| -> std::io::Result<()> {
        if let Some((raw, n)) = lines.raw_output() {
            if !raw.is_empty() {
                out.write_lines(raw, *n)?;
                raw.clear();
                *n = 0;
            }
        }
        for e in events.drain(..) {
            out.write_event(&e)?;
        }
        Ok(())
    };
    io::read_lines(&mut &input[..], max_line, |n, data| {
        let _ = lines.record("memory", n, data, &mut events, &mut errors);
        errors.clear();
        match write(&mut lines, &mut events, out) {
            Ok(()) => Flow::Continue,
            Err(e) => {
                write_err = Some(e);
                Flow::Stop
            }
        }
    })?;
    if let Some(e) = write_err {
        return Err(e);
    }
    let mut tail = Vec::new();
    lines.finish(&mut |events| {
        tail.append(events);
        Ok(())
    })?;
    write(&mut lines, &mut tail, out)?;
    Ok(lines.stats)
}

/// Counts for an event stage's summary: the driver counts what crosses the stage.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EventStats {
    /// Lines read (blank lines are skipped and not counted).
    pub records: u64,
    /// Events written.
    pub events: u64,
    /// Error records.
    pub errors: u64,
}

/// An event stage fed NDJSON lines.
struct EventLines<'a> {
    stage: &'a mut dyn Stage,
    stats: EventStats,
    max_line: usize,
    /// Lines from the stage's fast path, waiting for the driver.
    raw: Vec<u8>,
    raw_lines: u64,
}

impl<'a> EventLines<'a> {
    fn new(stage: &'a mut dyn Stage, max_line: usize) -> EventLines<'a> {
        EventLines { stage, stats: EventStats::default(), max_line, raw: Vec::new(), raw_lines: 0 }
    }

    fn error(&mut self, message: &str, raw: &str, source: &str, line: Option<u64>, errors: &mut Vec<Event>) {
        self.stats.errors += 1;
        errors.push(error_record(self.stage.error_type(), self.stage.name(), message, raw, source, line));
    }
}

impl Processor for EventLines<'_> {
    type Record<'a> = LineData<'a>;

    fn record(
        &mut self,
        source: &str,
        line_no: u64,
        data: LineData<'_>,
        out: &mut Vec<Event>,
        errors: &mut Vec<Event>,
    ) -> std::io::Result<()> {
        let bytes = match data {
            LineData::Line(b) => b,
            LineData::TooLong { prefix, len } => {
                self.stats.records += 1;
                let message = format!("line is {len} bytes, over the limit of {}", self.max_line);
                self.error(&message, &String::from_utf8_lossy(prefix), source, Some(line_no), errors);
                return Ok(());
            }
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        self.stats.records += 1;
        if let Some(lines) = self.stage.process_line(bytes, &mut self.raw) {
            self.raw_lines += lines;
            self.stats.events += lines;
            return Ok(());
        }
        let event = match crate::event::event_from_json(bytes) {
            Ok(e) => e,
            Err(e) => {
                let message = format!("not an event (one JSON object per line): {e}");
                self.error(&message, &String::from_utf8_lossy(bytes), source, Some(line_no), errors);
                return Ok(());
            }
        };
        let before = out.len();
        if let Err(err) = self.stage.process(event, out) {
            let raw = match &err.event {
                Some(e) => serde_json::to_string(e).unwrap_or_default(),
                None => String::from_utf8_lossy(bytes).into_owned(),
            };
            self.stats.errors += 1;
            errors.push(error_record(err.kind, self.stage.name(), &err.message, &raw, source, Some(line_no)));
        }
        self.stats.events += (out.len() - before) as u64;
        Ok(())
    }
    fn end_source(&mut self, source: &str, error: Option<(u64, String)>, errors: &mut Vec<Event>) {
        if let Some((line, message)) = error {
            self.error(&message, "", source, (line > 0).then_some(line), errors);
        }
    }
    fn tick(&mut self, out: &mut Vec<Event>) -> Vec<String> {
        let before = out.len();
        let messages = self.stage.tick(out);
        self.stats.events += (out.len() - before) as u64;
        messages
    }
    fn finish(&mut self, emit: &mut dyn FnMut(&mut Vec<Event>) -> std::io::Result<()>) -> std::io::Result<()> {
        let mut out = Vec::new();
        self.stage.flush(&mut out);
        self.stats.events += out.len() as u64;
        emit(&mut out)
    }
    fn raw_output(&mut self) -> Option<(&mut Vec<u8>, &mut u64)> {
        Some((&mut self.raw, &mut self.raw_lines))
    }
    fn checkpoint(&mut self) -> std::io::Result<()> {
        self.stage.checkpoint()
    }
    fn checkpoint_every(&self) -> std::time::Duration {
        self.stage.checkpoint_every()
    }
    fn name(&self) -> &str {
        self.stage.name()
    }
    fn had_errors(&self) -> bool {
        self.stats.errors > 0
    }
    fn summary(&self) -> String {
        let mut line = format!(
            "{}: {} events in, {} out, {} errors",
            self.stage.name(),
            io::thousands(self.stats.records),
            io::thousands(self.stats.events),
            io::thousands(self.stats.errors)
        );
        if let Some(more) = self.stage.summary() {
            line.push_str("; ");
            line.push_str(&more);
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorType;
    use crate::stage::StageError;

    /// Passes events on, refuses those with `bad`, and adds one event at the end.
    struct Probe;

    impl Stage for Probe {
        fn name(&self) -> &str {
            "probe"
        }
        fn error_type(&self) -> ErrorType {
            ErrorType::EnrichmentError
        }
        fn process(&mut self, event: Event, out: &mut Vec<Event>) -> Result<(), StageError> {
            if event.contains_key("bad") {
                return Err(StageError::new(ErrorType::EnrichmentError, "bad event", Some(event)));
            }
            out.push(event);
            Ok(())
        }
        fn flush(&mut self, out: &mut Vec<Event>) {
            out.push(Event::default());
        }
    }

    #[test]
    fn in_memory_driver_counts_and_writes_as_the_file_driver_does() {
        let input = b"{\"a\":1}\n\nnot json\n{\"bad\":true}\n[1]\n{\"b\":2}\n";
        let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Shared {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut out = Output::from_writer(Box::new(Shared(buf.clone())));
        let stats = events_in_memory(&mut Probe, input, &mut out).unwrap();
        out.finish().unwrap();
        assert_eq!(stats, EventStats { records: 5, events: 3, errors: 3 });
        let text = String::from_utf8(buf.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().collect::<Vec<_>>(), ["{\"a\":1}", "{\"b\":2}", "{}"]);
    }

    #[test]
    fn event_stage_driver_accounts_for_every_line() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.ndjson");
        std::fs::write(&input, "{\"a\":1}\n\nnot json\n{\"bad\":true}\n[1]\n{\"b\":2}\n").unwrap();
        let output = dir.path().join("out.ndjson");
        let errors = dir.path().join("errors.ndjson");
        let opts = RunOptions {
            inputs: vec![input],
            output: Some(output.clone()),
            errors: Some(errors.clone()),
            follow: false,
            quiet: true,
        };
        let (stats, outcome) = events(&mut Probe, &opts, 1024).unwrap();
        assert_eq!(stats, EventStats { records: 5, events: 3, errors: 3 });
        assert_eq!(outcome, Outcome::HadErrors);
        let out = std::fs::read_to_string(output).unwrap();
        assert_eq!(out.lines().collect::<Vec<_>>(), ["{\"a\":1}", "{\"b\":2}", "{}"]);
        let errs: Vec<serde_json::Value> =
            std::fs::read_to_string(errors).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(errs.len(), 3);
        assert!(errs.iter().all(|e| e["error_type"] == "enrichment_error" && e["failed_sensor_type"] == "probe"));
        assert_eq!(errs[1]["raw_message"], "{\"bad\":true}");
        assert_eq!(errs.iter().map(|e| e["line"].as_u64().unwrap()).collect::<Vec<_>>(), [3, 4, 5]);
    }
}
