//! Shared test helpers: parse a file in process through the real stage and I/O layer.
#![allow(dead_code)]

use assert_cmd::Command;
use metron::event::Event;
use metron::io::{open_input, read_lines, DEFAULT_MAX_LINE};
use metron::parse::{ParseSettings, ParseStage};
use metron::stage::StageConfig;
use std::path::{Path, PathBuf};

pub fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(rel)
}

/// The binary in a clean environment: no user config, no NO_COLOR. `METRON_BIN`
/// names another build to run the black-box tests against (an older one, to see a
/// reproduction fail there).
pub fn metron() -> Command {
    let mut cmd = match std::env::var_os("METRON_BIN") {
        Some(bin) => Command::new(bin),
        None => Command::cargo_bin("metron").expect("the metron binary"),
    };
    cmd.env_remove("NO_COLOR")
        .env_remove("METRON_CONFIG")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env("HOME", "/nonexistent");
    cmd
}

/// NDJSON output as JSON values, one per line.
pub fn lines(bytes: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(bytes).lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
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

/// A capture's packets: time (ns), original length and bytes, as metron reads them.
pub fn packets_of(path: &Path) -> Vec<(i64, u32, Vec<u8>)> {
    let mut v = Vec::new();
    let reader = open_input(path).expect("a capture file");
    metron::capture::reader::read_packets(Box::new(reader), |p| {
        v.push((p.ts_ns, p.orig_len, p.data.to_vec()));
        metron::capture::reader::Next::Continue
    })
    .expect("a readable capture");
    v
}

/// The lines a child writes to stderr (piped), as they come: read on a thread.
pub fn stderr_lines(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    let err = child.stderr.take().expect("stderr is piped");
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}
