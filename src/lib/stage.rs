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

    /// A fast path behind a pipe: given one NDJSON line, append what `process` would
    /// give for it to `out` as NDJSON lines (with their newlines), without building an
    /// [`Event`], and return how many lines that was (the line itself with the stage's
    /// fields, records the stage made). `None` (the default) means "use `process`",
    /// which must give the same; a line that is not an event, or that the stage would
    /// rather see whole, goes there.
    fn process_line(&mut self, _line: &[u8], _out: &mut Vec<u8>) -> Option<u64> {
        None
    }

    /// Called now and then (every few thousand events, while waiting for input, and
    /// once before `flush`):
    /// close time windows, reload changed files. Messages returned are shown on stderr
    /// (a reload, a broken replacement kept out).
    fn tick(&mut self, _out: &mut Vec<Event>) -> Vec<String> {
        Vec::new()
    }

    /// Makes everything handed to the stage so far durable (the store commits its
    /// open batches): a Kafka input stores its offsets after this.
    fn checkpoint(&mut self) -> std::io::Result<()> {
        Ok(())
    }

    /// How often a busy Kafka input asks for a checkpoint: often enough that a crash
    /// hands little out again, seldom enough that a costly one (the store writing
    /// segments) does not hold the input back.
    fn checkpoint_every(&self) -> std::time::Duration {
        std::time::Duration::from_secs(1)
    }

    /// End of input: emit what is held back.
    fn flush(&mut self, _out: &mut Vec<Event>) {}

    /// What the stage counted besides events and errors (addresses it could not
    /// read, files reloaded), appended to the summary line; `None` when nothing.
    fn summary(&self) -> Option<String> {
        None
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::get_str;
    use crate::parse::ParseSettings;

    /// Marks every event it sees, to show order and that nothing is re-serialized.
    struct Mark(&'static str);

    impl Stage for Mark {
        fn name(&self) -> &str {
            self.0
        }
        fn error_type(&self) -> ErrorType {
            ErrorType::EnrichmentError
        }
        fn process(&mut self, mut event: Event, out: &mut Vec<Event>) -> Result<(), StageError> {
            if event.contains_key("refuse") {
                return Err(StageError::new(ErrorType::EnrichmentError, "refused", Some(event)));
            }
            let seen = get_str(&event, "seen").unwrap_or("").to_owned();
            event.insert("seen".into(), format!("{seen}{}", self.0).into());
            out.push(event);
            Ok(())
        }
    }

    #[test]
    fn stages_chain_in_process() {
        let parse = ParseSettings { format: "squid".into(), max_line_bytes: 4096, parsers: Default::default() }
            .build()
            .unwrap();
        let mut chain: Vec<Box<dyn Stage>> = vec![Box::new(parse), Box::new(Mark("a")), Box::new(Mark("b"))];
        let mut raw = Event::default();
        raw.insert(
            "original_string".into(),
            "1461576382.642    161 127.0.0.1 TCP_MISS/200 103701 GET http://www.cnn.com/ - DIRECT/199.27.79.73 text/html".into(),
        );
        let (out, errors) = run_chain(&mut chain, raw);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0]["source.type"], "squid");
        assert_eq!(out[0]["seen"], "ab");

        let mut refused = Event::default();
        refused.insert("refuse".into(), true.into());
        let (out, errors) = run_chain(&mut chain[1..], refused);
        assert!(out.is_empty());
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, "a");
        assert!(errors[0].1.event.is_some(), "the refused event comes back for the error record");
    }
}
