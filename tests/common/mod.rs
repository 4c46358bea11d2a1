//! Shared test helpers: parse a file in process through the real stage and I/O layer.
#![allow(dead_code)]

use metron::event::Event;
use metron::io::{open_input, read_lines, DEFAULT_MAX_LINE};
use metron::parse::{ParseSettings, ParseStage};
use metron::stage::StageConfig;
use std::path::{Path, PathBuf};

pub fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(rel)
}

pub fn stage(format: &str) -> ParseStage {
    ParseSettings { format: format.into(), max_line_bytes: DEFAULT_MAX_LINE, parsers: Default::default() }
        .build()
        .expect("settings build")
}

/// Parses `path` with `format`; returns (events, error records).
pub fn parse_file(format: &str, path: &Path) -> (Vec<Event>, Vec<Event>) {
    let mut stage = stage(format);
    let name = path.display().to_string();
    let mut events = Vec::new();
    let mut errors = Vec::new();
    let mut reader = open_input(path).expect("open");
    read_lines(&mut reader, DEFAULT_MAX_LINE, |n, d| {
        stage.parse_record(&name, n, d, &mut events, &mut errors);
        metron::io::Flow::Continue
    })
    .expect("read");
    (events, errors)
}

/// Parses text as if it were a file called `name`.
pub fn parse_text(format: &str, name: &str, text: &str) -> (Vec<Event>, Vec<Event>) {
    let mut stage = stage(format);
    let mut events = Vec::new();
    let mut errors = Vec::new();
    let mut reader = text.as_bytes();
    read_lines(&mut reader, DEFAULT_MAX_LINE, |n, d| {
        stage.parse_record(name, n, d, &mut events, &mut errors);
        metron::io::Flow::Continue
    })
    .expect("read");
    (events, errors)
}
