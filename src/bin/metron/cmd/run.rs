//! `metron run`: `[run]` of metron.toml made into a plan (every problem at once), then
//! run until SIGTERM, or once.

use super::Global;
use crate::cli::{Cli, Command, RunArgs};
use clap::Parser;
use metron::config::Config;
use metron::parse::{ParseSettings, ParseStage};
use metron::run::{Plan, PlannedSource, Sink};
use metron::stage::{Stage, StageConfig};
use std::path::PathBuf;
use std::time::Duration;

pub fn run(args: RunArgs, global: &Global) -> anyhow::Result<u8> {
    let config = Config::discover(global.config.as_deref())?;
    let plan = match plan(&config, &args, global) {
        Ok(p) => p,
        Err(problems) => {
            let from = config.path.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "the config".into());
            anyhow::bail!("{from}: {} problem(s) in [run]:\n  - {}", problems.len(), problems.join("\n  - "));
        }
    };
    if args.check {
        print!("{}", plan.describe());
        return Ok(0);
    }
    if !global.quiet {
        for line in plan.describe().lines() {
            eprintln!("metron: {line}");
        }
    }
    let once = plan.once;
    let mut plan = plan;
    let explicit = global.config.clone();
    plan.reload = Some(Box::new(move || {
        let config = Config::discover(explicit.as_deref()).map_err(|e| e.to_string())?;
        let mut problems = Vec::new();
        let mut stages = Vec::new();
        for name in &config.run.stages {
            match stage(&config, name) {
                Ok(s) => stages.push(s),
                Err(e) => problems.push(e),
            }
        }
        if problems.is_empty() {
            Ok(stages)
        } else {
            Err(format!("{} problem(s):\n  - {}", problems.len(), problems.join("\n  - ")))
        }
    }));
    let report = metron::run::run(plan)?;
    Ok(u8::from(once && report.errors > 0))
}

/// The stage's flags as if none were given: the config alone decides.
fn no_flags<T>(name: &str, pick: impl Fn(Command) -> Option<T>) -> Result<T, String> {
    let cli = Cli::try_parse_from(["metron", name]).map_err(|e| e.to_string())?;
    pick(cli.command).ok_or_else(|| format!("{name}: not a stage"))
}

fn stage(config: &Config, name: &str) -> Result<Box<dyn Stage>, String> {
    let fail = |e: &dyn std::fmt::Display| format!("[{name}]: {e}");
    match name {
        "enrich" => {
            let args = no_flags("enrich", |c| if let Command::Enrich(a) = c { Some(a) } else { None })?;
            let settings = super::enrich::merge(config, &args).map_err(|e| fail(&e))?;
            Ok(Box::new(settings.build().map_err(|e| fail(&e))?))
        }
        "label" => {
            let args = no_flags("label", |c| if let Command::Label(a) = c { Some(a) } else { None })?;
            let settings = super::label::settings(config, &args).map_err(|e| fail(&e))?;
            let stage = settings.build().map_err(|e| fail(&e))?;
            super::label::report(&stage, false);
            Ok(Box::new(stage))
        }
        "alert" => {
            let args = no_flags("alert", |c| if let Command::Alert(a) = c { Some(a) } else { None })?;
            let rules: Vec<PathBuf> = config.alert.rules.iter().map(|r| config.near(r)).collect();
            let settings = super::alert::settings(config, &args, rules).map_err(|e| fail(&e))?;
            let stage = settings.build().map_err(|e| fail(&e))?;
            let errors: Vec<String> = stage.load_errors().iter().map(|e| fail(&e)).collect();
            if !errors.is_empty() {
                return Err(errors.join("\n  - "));
            }
            Ok(Box::new(stage))
        }
        "profile" => {
            let args = no_flags("profile", |c| if let Command::Profile(a) = c { Some(a) } else { None })?;
            let settings = super::profile::settings(config, &args).map_err(|e| fail(&e))?;
            Ok(Box::new(settings.build().map_err(|e| fail(&e))?))
        }
        other => Err(format!("stages: `{other}` is not a stage (enrich, label, alert, profile)")),
    }
}

fn parser(config: &Config, format: Option<&str>) -> Result<ParseStage, String> {
    let format = format.map(str::to_owned).or(config.parse.format.clone()).unwrap_or_else(|| "auto".into());
    let max_line_bytes = config.parse.max_line_bytes.unwrap_or(metron::io::DEFAULT_MAX_LINE);
    ParseSettings { format, max_line_bytes, parsers: config.parsers.clone() }.build().map_err(|e| e.to_string())
}

/// Everything `[run]` asks for, built; every problem at once.
fn plan(config: &Config, args: &RunArgs, global: &Global) -> Result<Plan, Vec<String>> {
    let run = &config.run;
    let mut problems = Vec::new();
    if run.source.is_empty() {
        problems.push("no [[run.source]]: give at least one (follow = \"DIR\" or listen = \"tcp://…\")".to_owned());
    }
    let mut sources = Vec::new();
    for (i, s) in run.source.iter().enumerate() {
        let at = format!("[[run.source]] {}", i + 1);
        let kinds = [s.follow.is_some(), s.listen.is_some(), s.capture.is_some(), s.pcap.is_some(), s.kafka.is_some()];
        if kinds.iter().filter(|k| **k).count() != 1 {
            problems.push(format!("{at}: give exactly one of follow, listen (capture, pcap and kafka are not yet)"));
            continue;
        }
        if s.capture.is_some() || s.pcap.is_some() || s.kafka.is_some() {
            problems.push(format!("{at}: capture, pcap and kafka sources are not supported by metron run yet"));
            continue;
        }
        let parse = match parser(config, s.format.as_deref()) {
            Ok(p) => p,
            Err(e) => {
                problems.push(format!("{at}: {e}"));
                continue;
            }
        };
        if let Some(path) = &s.follow {
            let path = config.near(path.clone());
            if let Err(e) = std::fs::metadata(&path) {
                problems.push(format!("{at}: {}: {e}", path.display()));
                continue;
            }
            let max_line = parse.max_line();
            sources.push(PlannedSource::Follow { paths: vec![path], parse, max_line });
        } else if let Some(url) = &s.listen {
            let settings = metron::listen::ListenSettings {
                urls: vec![url.clone()],
                max_message_bytes: parse.max_line(),
                ..Default::default()
            };
            match metron::listen::Listeners::bind(settings) {
                Ok(listeners) => sources.push(PlannedSource::Listen { listeners, parse }),
                Err(p) => problems.extend(p.into_iter().map(|p| format!("{at}: {p}"))),
            }
        }
    }
    let mut stages = Vec::new();
    for name in &run.stages {
        match stage(config, name) {
            Ok(s) => stages.push(s),
            Err(e) => problems.push(e),
        }
    }
    let checkpoint_interval = match run.checkpoint_interval.as_deref().map(metron::event::parse_duration) {
        None => Some(Duration::from_secs(5)),
        Some(Ok(d)) if !d.is_zero() => Some(d),
        Some(Ok(_)) => {
            problems.push("checkpoint_interval must be more than 0".into());
            None
        }
        Some(Err(e)) => {
            problems.push(format!("checkpoint_interval: {e}"));
            None
        }
    };
    let metrics = match &run.metrics {
        None => None,
        Some(addr) => match std::net::TcpListener::bind(addr.as_str()) {
            Ok(l) => Some(l),
            Err(e) => {
                problems.push(format!("metrics: cannot listen on {addr}: {e}"));
                None
            }
        },
    };
    // Where the positions are kept when the sink is not the store (a Kafka sink must
    // name `state`, checked below).
    let sink_name = run.sink.as_deref().unwrap_or("store");
    let to_kafka = metron::io::is_kafka(std::path::Path::new(sink_name));
    let checkpoint = match &run.state {
        Some(dir) => dir.join("checkpoint.json"),
        None => PathBuf::from(format!("{sink_name}.checkpoint.json")),
    };
    if to_kafka {
        if let Err(e) = metron::io::kafka_url(std::path::Path::new(sink_name)) {
            problems.push(format!("sink: {e}"));
        } else if run.state.is_none() {
            problems.push(
                "sink: a Kafka sink needs `state = \"DIR\"` in [run], where the followed files' positions are kept"
                    .into(),
            );
        }
    }
    // The sink last: opening the store takes its writer lock.
    let sink = if !problems.is_empty() {
        None
    } else if args.check {
        Some(match sink_name {
            "store" => Sink::Unopened(format!("store {}", super::store::store_dir(None, config).display())),
            topic if to_kafka => Sink::Unopened(format!("kafka topic {topic}")),
            file => Sink::Unopened(format!("file {file} (appended to)")),
        })
    } else {
        match sink_name {
            "store" => {
                let dir = super::store::store_dir(None, config);
                let settings = metron::store::IngestSettings {
                    store: dir.clone(),
                    batch_rows: config.store.batch_rows.unwrap_or(metron::store::DEFAULT_BATCH_ROWS),
                    flush_interval: Duration::from_secs(1),
                    max_line_bytes: config.parse.max_line_bytes.unwrap_or(metron::io::DEFAULT_MAX_LINE),
                };
                match settings.build() {
                    Ok(s) => Some(Sink::Store(Box::new(s))),
                    Err(e) => {
                        problems.push(format!("sink: {}: {e}", dir.display()));
                        None
                    }
                }
            }
            file => {
                let path = PathBuf::from(file);
                // A file is appended to; a topic is produced to.
                match metron::io::Output::open_appending(Some(&path)) {
                    Ok(output) => Some(Sink::File { output: Box::new(output), path, checkpoint }),
                    Err(e) => {
                        problems.push(format!("sink: {file}: {e}"));
                        None
                    }
                }
            }
        }
    };
    match (sink, checkpoint_interval) {
        (Some(sink), Some(checkpoint_interval)) if problems.is_empty() => Ok(Plan {
            sources,
            stages,
            sink,
            metrics,
            checkpoint_interval,
            once: args.once,
            quiet: global.quiet,
            reload: None,
        }),
        _ => Err(problems),
    }
}
