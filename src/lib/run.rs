//! Running a stage behind the I/O layer: inputs -> records -> stage -> NDJSON, error
//! records to the error sink, a summary line, and the exit status. The binary calls
//! these; tests and the demo call them too.

use crate::event::Event;
use crate::io::{self, ErrorSink, Flow, FollowHandler, Follower, InputSpec, LineData, Output, Progress};
use crate::parse::{ParseStage, ParseStats};
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

/// Runs `metron parse`: every input through `stage`, events to the output.
pub fn parse(mut stage: ParseStage, opts: &RunOptions) -> Result<(ParseStats, Outcome), RunError> {
    let mut out = Output::open(opts.output.as_deref())?;
    let mode = match &opts.errors {
        Some(p) => io::ErrorSinkMode::File(p),
        None => io::ErrorSinkMode::Stderr { quiet: opts.quiet },
    };
    let mut sink = ErrorSink::open(mode)?;
    let progress = Progress::new("records", opts.quiet);
    let result = if opts.follow {
        parse_following(&mut stage, opts, &mut out, &mut sink, &progress)
    } else {
        parse_inputs(&mut stage, opts, &mut out, &mut sink, &progress)
    };
    progress.finish();
    match result {
        Ok(()) => {}
        // The reader went away (`| head`): stop quietly, that is success.
        Err(RunError::Io(e)) if io::is_broken_pipe(&e) => return Ok((stage.stats, Outcome::Clean)),
        Err(e) => return Err(e),
    }
    match out.finish() {
        Err(e) if io::is_broken_pipe(&e) => return Ok((stage.stats, Outcome::Clean)),
        other => other?,
    }
    sink.finish()?;
    let stats = stage.stats;
    if !opts.quiet {
        eprintln!("{}", parse_summary(&stats));
    }
    Ok((stats, if stats.errors > 0 { Outcome::HadErrors } else { Outcome::Clean }))
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

/// Writes what one record gave: events to `out`, error records to the sink.
fn drain(
    events: &mut Vec<Event>,
    errors: &mut Vec<Event>,
    out: &mut Output,
    sink: &mut ErrorSink,
) -> std::io::Result<()> {
    for e in events.drain(..) {
        out.write_event(&e)?;
    }
    for e in errors.drain(..) {
        sink.emit(&e)?;
    }
    Ok(())
}

fn parse_inputs(
    stage: &mut ParseStage,
    opts: &RunOptions,
    out: &mut Output,
    sink: &mut ErrorSink,
    progress: &Progress,
) -> Result<(), RunError> {
    let mut events = Vec::new();
    let mut errors = Vec::new();
    let max = stage.max_line();
    for input in InputSpec::from_args(&opts.inputs) {
        let name = input.name();
        progress.set_input(&name);
        let mut reader = match input.open() {
            Ok(r) => r,
            Err(e) => {
                // An unreadable input is reported and counted; the others still run.
                stage.stats.errors += 1;
                let rec = crate::error::error_record(
                    crate::error::ErrorType::ParserError,
                    "-",
                    &e.to_string(),
                    "",
                    &name,
                    None,
                );
                sink.emit(&rec)?;
                continue;
            }
        };
        let mut write_err = None;
        let mut last_line = 0;
        let read = io::read_lines(&mut reader, max, |n, data| {
            last_line = n;
            stage.parse_record(&name, n, data, &mut events, &mut errors);
            if let Err(e) = drain(&mut events, &mut errors, out, sink) {
                write_err = Some(e);
                return Flow::Stop;
            }
            if n % 4096 == 0 {
                progress.inc(4096);
            }
            Flow::Continue
        });
        if let Some(e) = write_err {
            return Err(e.into());
        }
        if let Err(e) = read {
            // A damaged input (truncated .gz, I/O error): what came before stays, the
            // damage is one error record, and the run goes on with the next input.
            stage.stats.errors += 1;
            let message = format!("read error after line {last_line}: {e}");
            let rec = crate::error::error_record(
                crate::error::ErrorType::ParserError,
                "-",
                &message,
                "",
                &name,
                Some(last_line + 1),
            );
            sink.emit(&rec)?;
        }
        stage.end_source(&name);
    }
    Ok(())
}

fn parse_following(
    stage: &mut ParseStage,
    opts: &RunOptions,
    out: &mut Output,
    sink: &mut ErrorSink,
    progress: &Progress,
) -> Result<(), RunError> {
    let mut follower = Follower::new(&opts.inputs, stage.max_line())?;
    let mut handler =
        ParseFollow { stage, out, sink, progress, events: Vec::new(), errors: Vec::new(), write_err: None };
    follower.run(&mut handler)?;
    match handler.write_err {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

struct ParseFollow<'a> {
    stage: &'a mut ParseStage,
    out: &'a mut Output,
    sink: &'a mut ErrorSink,
    progress: &'a Progress,
    events: Vec<Event>,
    errors: Vec<Event>,
    write_err: Option<std::io::Error>,
}

impl FollowHandler for ParseFollow<'_> {
    fn line(&mut self, name: &str, line_no: u64, data: LineData<'_>) -> Flow {
        self.stage.parse_record(name, line_no, data, &mut self.events, &mut self.errors);
        self.progress.inc(1);
        match drain(&mut self.events, &mut self.errors, self.out, self.sink) {
            Ok(()) => Flow::Continue,
            Err(e) => {
                self.write_err = Some(e);
                Flow::Stop
            }
        }
    }

    fn idle(&mut self) -> std::io::Result<Flow> {
        // Caught up: push what was written so a pipeline sees it now.
        self.out.flush()?;
        self.sink.flush()?;
        Ok(Flow::Continue)
    }
}
