//! `metron alert`: `[alert]` of metron.toml with the flags laid over it, built into
//! the stage and run over NDJSON; or, with `--check`, the rules linted.

use super::Global;
use crate::cli::AlertArgs;
use metron::alert::{AlertOutput, AlertSettings};
use metron::config::Config;
use metron::stage::StageConfig;
use std::path::PathBuf;

pub fn run(args: AlertArgs, global: &Global) -> anyhow::Result<u8> {
    let config = Config::discover(global.config.as_deref())?;
    let mut rules: Vec<PathBuf> = config.alert.rules.iter().map(|r| config.near(r)).collect();
    rules.extend(args.rules.iter().cloned());
    if args.check {
        rules.extend(args.files.iter().cloned());
        return Ok(check(&rules));
    }
    let settings = settings(&config, &args, rules)?;
    let mut stage = settings.build()?;
    // Rules that cannot be loaded are always shown, even with -q: they change what the
    // run can find.
    for e in stage.load_errors() {
        eprintln!("metron: warning: rule not loaded: {}", metron::text::sanitize(&e.to_string()));
    }
    let (opts, max_line) = global.run_options(args.files, args.io, None)?;
    let (_, outcome) = metron::driver::events(&mut stage, &opts, max_line)?;
    stage.finish()?;
    let load_failed = !stage.load_errors().is_empty();
    Ok(if load_failed { 1 } else { outcome.exit_code() as u8 })
}

/// `[alert]` with the flags laid over it (`metron run` lays none).
pub fn settings(config: &Config, args: &AlertArgs, rules: Vec<PathBuf>) -> anyhow::Result<AlertSettings> {
    let window = args.dedup_window.as_deref().or(config.alert.dedup_window.as_deref());
    Ok(AlertSettings {
        rules,
        dedup_window: match window {
            Some(w) => metron::event::parse_duration(w).map_err(|e| anyhow::anyhow!("--dedup-window: {e}"))?,
            None => metron::alert::DEFAULT_WINDOW,
        },
        max_cache: args.max_cache.or(config.alert.max_cache).unwrap_or(metron::alert::DEFAULT_MAX_CACHE),
        designated_host: args
            .designated_host
            .clone()
            .or(config.alert.designated_host.clone())
            .unwrap_or_else(|| metron::event::fields::IP_SRC_ADDR.into()),
        output: match (&args.alerts, args.only_alerts) {
            (Some(p), _) => AlertOutput::File(p.clone()),
            (None, true) => AlertOutput::Only,
            (None, false) => AlertOutput::WithEvents,
        },
    })
}

/// Lists every rule loaded and every one that could not be; 1 if any could not.
fn check(paths: &[PathBuf]) -> u8 {
    if paths.is_empty() {
        return super::fail("--check needs rule files or directories (--rules PATH or arguments)");
    }
    let report = metron::alert::check(paths);
    // Rule files are shared between teams: ids, names and notes are not trusted.
    let clean = |s: &str| metron::text::sanitize(s);
    for rule in &report.rules {
        let applies =
            if rule.source_types.is_empty() { "every event".to_owned() } else { rule.source_types.join(", ") };
        let file = rule.file.display().to_string();
        println!(
            "ok\t{}\t{}\t{}\t{}\t{}",
            clean(&file),
            rule.kind,
            clean(&rule.id),
            rule.priority.as_str(),
            clean(&applies)
        );
        for note in &rule.notes {
            println!("note\t{}\t{}\t{}", clean(&file), clean(&rule.id), clean(note));
        }
    }
    for e in &report.errors {
        let status = if e.unsupported { "unsupported" } else { "error" };
        println!(
            "{status}\t{}\t{}\t{}",
            clean(&e.file.display().to_string()),
            clean(e.rule.as_deref().unwrap_or("-")),
            clean(&e.message)
        );
    }
    eprintln!("{} rules loaded, {} cannot be loaded", report.rules.len(), report.errors.len());
    u8::from(!report.errors.is_empty())
}
