//! `metron label`: `[label]` of metron.toml with the flags laid over it, the intel
//! loaded and reported, then the stage run over NDJSON.

use super::Global;
use crate::cli::LabelArgs;
use metron::config::Config;
use metron::label::feeds::{FeedReport, SHOWN_PROBLEMS};
use metron::label::{LabelSettings, LabelStage};
use metron::stage::StageConfig;
use std::path::Path;

pub fn run(args: LabelArgs, global: &Global) -> anyhow::Result<u8> {
    let config = Config::discover(global.config.as_deref())?;
    let base = config.path.as_deref().and_then(Path::parent).map(Path::to_owned);
    let mut settings = LabelSettings::from_config(config.label);
    // Files named in the config are relative to it; flags to the working directory.
    if let Some(dir) = base.as_deref() {
        let formats: Vec<String> = settings.feeds.keys().cloned().collect();
        settings.intel = settings.intel.iter().map(|entry| near(dir, entry, &formats)).collect();
        for feed in settings.feeds.values_mut() {
            if let Some(p) = feed.path.take() {
                feed.path = Some(if p.is_relative() { dir.join(p) } else { p });
            }
        }
    }
    if !args.intel.is_empty() {
        settings.intel = args.intel.clone();
    }
    if args.no_reload || args.check {
        settings.reload = false;
    }
    if let Some(n) = args.io.max_line_bytes {
        anyhow::ensure!(n > 0, "--max-line-bytes must be at least 1");
        settings.max_line_bytes = n;
    }
    let config_max_line = Some(settings.max_line_bytes);
    let mut stage = settings.build()?;
    let problems = report(&stage, global.quiet);
    if args.check {
        return Ok(u8::from(problems > 0));
    }
    let (opts, max_line) = global.run_options(args.files, args.io, config_max_line)?;
    let (_, outcome) = metron::run::events(&mut stage, &opts, max_line)?;
    Ok(outcome.exit_code() as u8)
}

/// `FORMAT:PATH` or `PATH`, with a relative path made relative to `dir`.
fn near(dir: &Path, entry: &str, feeds: &[String]) -> String {
    let (prefix, path) = match entry.split_once(':') {
        Some((f, p)) if metron::label::feeds::preset(f).is_some() || feeds.iter().any(|n| n == f) => (Some(f), p),
        _ => (None, entry),
    };
    let path = Path::new(path);
    let path = if path.is_relative() { dir.join(path) } else { path.to_owned() };
    match prefix {
        Some(f) => format!("{f}:{}", path.display()),
        None => path.display().to_string(),
    }
}

/// What each intel file gave: counts unless quiet; every row or pattern that could
/// not be used, always. Returns how many of those there were.
fn report(stage: &LabelStage, quiet: bool) -> u64 {
    let say = |s: &str| eprintln!("metron: label: {}", metron::text::sanitize(s));
    let mut problems = 0;
    for r in stage.reports() {
        if !quiet {
            say(&r.to_string());
        }
        problems += r.malformed + r.not_evaluated;
        for p in &r.problems {
            say(&format!("{}: {p}", r.file));
        }
        let unshown = (r.malformed + r.not_evaluated).saturating_sub(r.problems.len() as u64);
        if unshown > 0 && r.problems.len() >= SHOWN_PROBLEMS {
            say(&format!("{}: ... and {} more", r.file, metron::io::thousands(unshown)));
        }
        if !quiet {
            notes(r, &say);
        }
    }
    if !quiet {
        say(stage.load_summary());
    }
    problems
}

fn notes(r: &FeedReport, say: &impl Fn(&str)) {
    for (i, n) in r.notes.iter().enumerate() {
        if i == SHOWN_PROBLEMS {
            say(&format!("{}: note: ... and {} more like this", r.file, r.notes.len() - i));
            break;
        }
        say(&format!("{}: note: {n}", r.file));
    }
}
