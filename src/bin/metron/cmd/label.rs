//! `metron label`: `[label]` of metron.toml with the flags laid over it, the intel
//! loaded and reported, then the stage run over NDJSON.

use super::Global;
use crate::cli::LabelArgs;
use metron::config::Config;
use metron::label::feeds::{FeedReport, SHOWN_PROBLEMS};
use metron::label::{LabelSettings, LabelStage};
use metron::stage::StageConfig;

pub fn run(args: LabelArgs, global: &Global) -> anyhow::Result<u8> {
    let config = Config::discover(global.config.as_deref())?;
    let mut settings = settings(&config, &args)?;
    // The line cap (flag, else config) holds for intel files as for input lines.
    let (opts, max_line) = global.run_options(args.files, args.io, Some(settings.max_line_bytes))?;
    settings.max_line_bytes = max_line;
    let mut stage = settings.build()?;
    let problems = report(&stage, global.quiet);
    if args.check {
        return Ok(u8::from(problems > 0));
    }
    let (_, outcome) = metron::driver::events(&mut stage, &opts, max_line)?;
    Ok(outcome.exit_code() as u8)
}

/// `[label]` with the flags laid over it (`metron run` lays none).
pub fn settings(config: &Config, args: &LabelArgs) -> anyhow::Result<LabelSettings> {
    let mut settings = LabelSettings::from_config(config.label.clone());
    // Files named in the config are relative to it; flags to the working directory.
    let formats: Vec<String> = settings.feeds.keys().cloned().collect();
    settings.intel = settings.intel.iter().map(|entry| near(config, entry, &formats)).collect();
    for feed in settings.feeds.values_mut() {
        feed.path = feed.path.take().map(|p| config.near(p));
    }
    if !args.intel.is_empty() {
        settings.intel = args.intel.clone();
    }
    if let Some(size) = &args.max_stix_bytes {
        settings.max_stix_bytes = metron::io::parse_size(size).map_err(|e| anyhow::anyhow!("--max-stix-bytes: {e}"))?;
    }
    if args.no_reload || args.check {
        settings.reload = false;
    }
    Ok(settings)
}

/// `FORMAT:PATH` or `PATH`, with the path made relative to the config file.
fn near(config: &Config, entry: &str, feeds: &[String]) -> String {
    let (prefix, path) = match entry.split_once(':') {
        Some((f, p)) if metron::label::feeds::preset(f).is_some() || feeds.iter().any(|n| n == f) => (Some(f), p),
        _ => (None, entry),
    };
    let path = config.near(path);
    match prefix {
        Some(f) => format!("{f}:{}", path.display()),
        None => path.display().to_string(),
    }
}

/// What each intel file gave: counts unless quiet; every row or pattern that could
/// not be used, always. Returns how many of those there were.
pub fn report(stage: &LabelStage, quiet: bool) -> u64 {
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
