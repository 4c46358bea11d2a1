//! The stage contract (vector's shape): a config struct, deserialized from
//! `metron.toml` and overridden by flags, whose `build()` makes a runtime object that
//! turns one event into zero or more events. The same runtime runs behind a pipe
//! (`metron enrich`) or chained in one process.

use crate::error::ErrorType;
use crate::event::Event;

/// Why one event could not be processed: it becomes an error record. The event is
/// handed back so that the error record can carry it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct StageError {
    pub kind: ErrorType,
    pub message: String,
    pub event: Option<Event>,
}

impl StageError {
    pub fn new(kind: ErrorType, message: impl Into<String>, event: Option<Event>) -> StageError {
        StageError { kind, message: message.into(), event }
    }
}

/// A running stage.
pub trait Stage: Send {
    /// The name used in summaries and error records (`parse`, `enrich`, ...).
    fn name(&self) -> &str;

    /// The `error_type` of records this stage cannot process (input that is not an
    /// event at all included).
    fn error_type(&self) -> ErrorType;

    /// Turns one event into zero or more events pushed on `out`.
    fn process(&mut self, event: Event, out: &mut Vec<Event>) -> Result<(), StageError>;

    /// Called now and then (every few thousand events, and while waiting for input):
    /// close time windows, reload changed files. Messages returned are shown on stderr
    /// (a reload, a broken replacement kept out).
    fn tick(&mut self, _out: &mut Vec<Event>) -> Vec<String> {
        Vec::new()
    }

    /// End of input: emit what is held back.
    fn flush(&mut self, _out: &mut Vec<Event>) {}
}

/// A stage's configuration.
pub trait StageConfig {
    type Runtime: Stage;
    type Error: std::error::Error;

    /// Validates the whole configuration (every problem at once) and builds the stage.
    fn build(self) -> Result<Self::Runtime, Self::Error>;
}

/// Runs `event` through `stages` in order, in process, without re-serializing.
/// Errors from any stage are returned, with the stage's name, beside the surviving
/// events.
pub fn run_chain(stages: &mut [Box<dyn Stage>], event: Event) -> (Vec<Event>, Vec<(String, StageError)>) {
    let mut current = vec![event];
    let mut errors = Vec::new();
    for stage in stages.iter_mut() {
        let mut next = Vec::with_capacity(current.len());
        for e in current {
            if let Err(err) = stage.process(e, &mut next) {
                errors.push((stage.name().to_owned(), err));
            }
        }
        current = next;
    }
    (current, errors)
}
