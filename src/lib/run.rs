//! Running a stage behind the I/O layer: inputs -> records -> stage -> NDJSON, error
//! records to the error sink, a summary line, and the exit status. One driver serves
//! `metron parse` (raw lines in) and every event stage (NDJSON in); the binary, the
//! tests and the demo call it.

use crate::error::{error_record, ErrorType};
use crate::event::Event;
use crate::io::{self, ErrorSink, Flow, FollowHandler, Follower, InputSpec, LineData, Output, Progress};
use crate::parse::{ParseStage, ParseStats};
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

/// Where a stage's output and errors go, and how it reads.
pub struct RunOptions {
    pub inputs: Vec<PathBuf>,
    pub output: Option<PathBuf>,
    pub errors: Option<PathBuf>,
    pub follow: bool,
    pub quiet: bool,
}

/// A fatal problem: the run could not start or its output failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What the driver feeds lines to.
trait LineSink {
    /// One line of `source`: events to `out`, error records to `errors`.
    fn line(&mut self, source: &str, line_no: u64, data: LineData<'_>, out: &mut Vec<Event>, errors: &mut Vec<Event>);
    /// `source` was read to its end (or could not be read: `error` says why).
    fn end_source(&mut self, source: &str, error: Option<(u64, String)>, errors: &mut Vec<Event>);
    /// Now and then, and when waiting for input; messages go to stderr.
    fn tick(&mut self, _out: &mut Vec<Event>) -> Vec<String> {
        Vec::new()
    }
    /// End of all input.
    fn finish(&mut self, _out: &mut Vec<Event>) {}
    /// NDJSON lines a stage wrote itself (its fast path), and how many, to go out
    /// before the events of the same record; taken and cleared by the driver.
    fn raw_output(&mut self) -> Option<(&mut Vec<u8>, &mut u64)> {
        None
    }
    fn max_line(&self) -> usize;
    fn had_errors(&self) -> bool;
    fn summary(&self) -> String;
}

/// Runs `metron parse`: every input through `stage`, events to the output.
pub fn parse(mut stage: ParseStage, opts: &RunOptions) -> Result<(ParseStats, Outcome), RunError> {
    stage.write_direct();
    let outcome = drive(&mut stage, opts)?;
    Ok((stage.stats, outcome))
}

/// Runs an event stage (`enrich`, `label`, `alert`, ...) over NDJSON inputs.
pub fn events(stage: &mut dyn Stage, opts: &RunOptions, max_line: usize) -> Result<(EventStats, Outcome), RunError> {
    let mut sink = EventLines { stage, stats: EventStats::default(), max_line, raw: Vec::new(), raw_lines: 0 };
    let outcome = drive(&mut sink, opts)?;
    Ok((sink.stats, outcome))
}

/// Runs an event stage over NDJSON bytes in memory exactly as [`events`] feeds it
/// (the stage's line fast path first, `process` for the lines it leaves), writing to
/// `out`: for benchmarks and tests that should measure the driver's path without
/// files.
pub fn events_in_memory(stage: &mut dyn Stage, input: &[u8], out: &mut Output) -> std::io::Result<EventStats> {
    let max_line = io::DEFAULT_MAX_LINE;
    let mut sink = EventLines { stage, stats: EventStats::default(), max_line, raw: Vec::new(), raw_lines: 0 };
    let (mut events, mut errors) = (Vec::new(), Vec::new());
    let mut write_err = None;
    let write = |sink: &mut EventLines<'_>, events: &mut Vec<Event>, out: &mut Output| -> std::io::Result<()> {
        if !sink.raw.is_empty() {
            out.write_lines(&sink.raw, sink.raw_lines)?;
            sink.raw.clear();
            sink.raw_lines = 0;
        }
        for e in events.drain(..) {
            out.write_event(&e)?;
        }
        Ok(())
    };
    io::read_lines(&mut &input[..], max_line, |n, data| {
        sink.line("memory", n, data, &mut events, &mut errors);
        errors.clear();
        match write(&mut sink, &mut events, out) {
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
    sink.finish(&mut events);
    write(&mut sink, &mut events, out)?;
    Ok(sink.stats)
}

/// Counts for an event stage's summary: `in` = `out` - `added` + `errors` + `filtered`
/// is the stage's business; the driver counts what crosses it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EventStats {
    /// Lines read (blank lines are skipped and not counted).
    pub records: u64,
    /// Events written.
    pub events: u64,
    /// Error records.
    pub errors: u64,
}

/// `parsed 1,204,311 records: 1,204,300 events, 8 skipped, 3 errors`.
pub fn parse_summary(s: &ParseStats) -> String {
    format!(
        "parsed {} records: {} events, {} skipped (headers, comments, blank), {} errors",
        io::thousands(s.records),
        io::thousands(s.events),
        io::thousands(s.skipped),
        io::thousands(s.errors)
    )
}

impl LineSink for ParseStage {
    fn line(&mut self, source: &str, line_no: u64, data: LineData<'_>, out: &mut Vec<Event>, errors: &mut Vec<Event>) {
        self.parse_record(source, line_no, data, out, errors);
    }
    fn end_source(&mut self, source: &str, error: Option<(u64, String)>, errors: &mut Vec<Event>) {
        if let Some((line, message)) = error {
            self.stats.errors += 1;
            errors.push(error_record(ErrorType::ParserError, "-", &message, "", source, (line > 0).then_some(line)));
        }
        ParseStage::end_source(self, source);
    }
    fn raw_output(&mut self) -> Option<(&mut Vec<u8>, &mut u64)> {
        self.direct_output()
    }
    fn max_line(&self) -> usize {
        ParseStage::max_line(self)
    }
    fn had_errors(&self) -> bool {
        self.stats.errors > 0
    }
    fn summary(&self) -> String {
        parse_summary(&self.stats)
    }
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

impl EventLines<'_> {
    fn error(&mut self, message: &str, raw: &str, source: &str, line: Option<u64>, errors: &mut Vec<Event>) {
        self.stats.errors += 1;
        errors.push(error_record(self.stage.error_type(), self.stage.name(), message, raw, source, line));
    }
}

impl LineSink for EventLines<'_> {
    fn line(&mut self, source: &str, line_no: u64, data: LineData<'_>, out: &mut Vec<Event>, errors: &mut Vec<Event>) {
        let bytes = match data {
            LineData::Line(b) => b,
            LineData::TooLong { prefix, len } => {
                self.stats.records += 1;
                let message = format!("line is {len} bytes, over the limit of {}", self.max_line);
                self.error(&message, &String::from_utf8_lossy(prefix), source, Some(line_no), errors);
                return;
            }
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        self.stats.records += 1;
        if self.stage.process_line(bytes, &mut self.raw) {
            self.raw_lines += 1;
            self.stats.events += 1;
            return;
        }
        let event = match crate::event::event_from_json(bytes) {
            Ok(e) => e,
            Err(e) => {
                let message = format!("not an event (one JSON object per line): {e}");
                self.error(&message, &String::from_utf8_lossy(bytes), source, Some(line_no), errors);
                return;
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
    fn finish(&mut self, out: &mut Vec<Event>) {
        let before = out.len();
        self.stage.flush(out);
        self.stats.events += (out.len() - before) as u64;
    }
    fn raw_output(&mut self) -> Option<(&mut Vec<u8>, &mut u64)> {
        Some((&mut self.raw, &mut self.raw_lines))
    }
    fn max_line(&self) -> usize {
        self.max_line
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

/// How often (in records) a stage gets its `tick`.
const TICK_EVERY: u64 = 4096;

fn drive(sink: &mut dyn LineSink, opts: &RunOptions) -> Result<Outcome, RunError> {
    let mut out = Output::open(opts.output.as_deref())?;
    let mode = match &opts.errors {
        Some(p) => io::ErrorSinkMode::File(p),
        None => io::ErrorSinkMode::Stderr { quiet: opts.quiet },
    };
    let mut errors = ErrorSink::open(mode)?;
    let progress = Progress::new("records", opts.quiet);
    let mut state = Driver {
        sink,
        out: &mut out,
        errors: &mut errors,
        progress: &progress,
        events: Vec::new(),
        error_records: Vec::new(),
        write_err: None,
        count: 0,
        quiet: opts.quiet,
    };
    let result = if opts.follow { state.follow(&opts.inputs) } else { state.read_all(&opts.inputs) };
    let result = result.and_then(|()| state.finish());
    progress.finish();
    let had_errors = state.sink.had_errors();
    let summary = state.sink.summary();
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
    if !opts.quiet {
        eprintln!("{summary}");
    }
    Ok(if had_errors { Outcome::HadErrors } else { Outcome::Clean })
}

struct Driver<'a> {
    sink: &'a mut dyn LineSink,
    out: &'a mut Output,
    errors: &'a mut ErrorSink,
    progress: &'a Progress,
    events: Vec<Event>,
    error_records: Vec<Event>,
    write_err: Option<std::io::Error>,
    count: u64,
    quiet: bool,
}

impl Driver<'_> {
    /// Writes what came out of the last record(s).
    fn drain(&mut self) -> std::io::Result<()> {
        if let Some((raw, lines)) = self.sink.raw_output() {
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
        for message in self.sink.tick(&mut self.events) {
            if !self.quiet {
                eprintln!("metron: {}", crate::text::sanitize(&message));
            }
        }
        self.drain()
    }

    fn one_line(&mut self, source: &str, line_no: u64, data: LineData<'_>) -> Flow {
        self.sink.line(source, line_no, data, &mut self.events, &mut self.error_records);
        self.count += 1;
        let mut result = self.drain();
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

    fn read_all(&mut self, inputs: &[PathBuf]) -> Result<(), RunError> {
        let max = self.sink.max_line();
        for input in InputSpec::from_args(inputs) {
            let name = input.name();
            self.progress.set_input(&name);
            let mut reader = match input.open() {
                Ok(r) => r,
                Err(e) => {
                    // An unreadable input is reported and counted; the others still run.
                    self.sink.end_source(&name, Some((0, e.to_string())), &mut self.error_records);
                    self.drain()?;
                    continue;
                }
            };
            let mut last_line = 0;
            let read = io::read_lines(&mut reader, max, |n, data| {
                last_line = n;
                self.one_line(&name, n, data)
            });
            if let Some(e) = self.write_err.take() {
                return Err(e.into());
            }
            // A damaged input (truncated .gz, I/O error): what came before stays, the
            // damage is one error record, and the run goes on with the next input.
            let damage = read.err().map(|e| (last_line + 1, format!("read error after line {last_line}: {e}")));
            self.sink.end_source(&name, damage, &mut self.error_records);
            self.drain()?;
        }
        Ok(())
    }

    fn follow(&mut self, inputs: &[PathBuf]) -> Result<(), RunError> {
        let mut follower = Follower::new(inputs, self.sink.max_line())?;
        follower.run(self)?;
        match self.write_err.take() {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    fn finish(&mut self) -> Result<(), RunError> {
        // A last tick, so that what a stage noticed since the previous one (a warning,
        // a reload) is shown even when the input was shorter than one tick.
        self.tick()?;
        self.sink.finish(&mut self.events);
        self.drain()?;
        Ok(())
    }
}

impl FollowHandler for Driver<'_> {
    fn line(&mut self, name: &str, line_no: u64, data: LineData<'_>) -> Flow {
        self.one_line(name, line_no, data)
    }

    fn idle(&mut self) -> std::io::Result<Flow> {
        // Caught up: let the stage close windows, then push everything out now.
        self.tick()?;
        self.out.flush()?;
        self.errors.flush()?;
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
