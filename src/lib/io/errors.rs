//! The error sink: every record that could not be processed ends here as an error
//! record, written to `--errors FILE` or summarized on stderr. Never dropped.

use super::Output;
use crate::event::get_str;
use crate::event::Event;
use std::io;
use std::path::Path;

/// How many error records are shown on stderr when there is no `--errors` file.
const SHOWN_ON_STDERR: u64 = 10;

/// Where error records go.
pub enum ErrorSinkMode<'a> {
    /// `--errors FILE`: every record as NDJSON.
    File(&'a Path),
    /// The same, appended to (a run that goes on where a previous one stopped).
    AppendFile(&'a Path),
    /// The first few on stderr as one line each, the rest counted.
    Stderr { quiet: bool },
}

pub struct ErrorSink {
    file: Option<Output>,
    quiet: bool,
    count: u64,
}

impl ErrorSink {
    pub fn open(mode: ErrorSinkMode<'_>) -> io::Result<ErrorSink> {
        Ok(match mode {
            ErrorSinkMode::File(p) => ErrorSink { file: Some(Output::open(Some(p))?), quiet: false, count: 0 },
            ErrorSinkMode::AppendFile(p) => {
                ErrorSink { file: Some(Output::open_appending(Some(p))?), quiet: false, count: 0 }
            }
            ErrorSinkMode::Stderr { quiet } => ErrorSink { file: None, quiet, count: 0 },
        })
    }

    /// Takes one error record.
    pub fn emit(&mut self, record: &Event) -> io::Result<()> {
        self.count += 1;
        match &mut self.file {
            Some(out) => out.write_event(record),
            None => {
                if !self.quiet && self.count <= SHOWN_ON_STDERR {
                    eprintln!("metron: {}", describe(record));
                }
                Ok(())
            }
        }
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(out) => out.flush(),
            None => Ok(()),
        }
    }

    /// Closes the file; on stderr, says how many errors were not shown.
    pub fn finish(self) -> io::Result<()> {
        if self.file.is_none() && !self.quiet && self.count > SHOWN_ON_STDERR {
            eprintln!(
                "metron: ... and {} more error records (write them all with --errors FILE)",
                super::thousands(self.count - SHOWN_ON_STDERR)
            );
        }
        match self.file {
            Some(out) => out.finish(),
            None => Ok(()),
        }
    }
}

/// `file:line: error_type: message`, with control characters neutralized.
fn describe(record: &Event) -> String {
    use crate::event::fields;
    let s = |k: &str| get_str(record, k).unwrap_or("");
    let mut place = s(fields::FILE).to_owned();
    if let Some(line) = record.get(fields::LINE).and_then(|v| v.as_u64()) {
        place = format!("{place}:{line}");
    }
    crate::text::sanitize(&format!("{place}: {}: {}", s(fields::ERROR_TYPE), s(fields::MESSAGE)))
}
