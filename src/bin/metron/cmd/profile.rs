//! `metron profile`: `[profile]` of metron.toml with the flags laid over it, built
//! into the stage and run over NDJSON.

use super::Global;
use crate::cli::ProfileArgs;
use metron::config::Config;
use metron::profile::ProfileSettings;
use metron::stage::StageConfig;

pub fn run(args: ProfileArgs, global: &Global) -> anyhow::Result<u8> {
    let config = Config::discover(global.config.as_deref())?;
    let mut stage = settings(&config, &args)?.build()?;
    let (opts, max_line) = global.run_options(args.files, args.io, None)?;
    let (_, outcome) = metron::driver::events(&mut stage, &opts, max_line)?;
    Ok(outcome.exit_code() as u8)
}

/// `[profile]` with the flags laid over it (`metron run` lays none).
pub fn settings(config: &Config, args: &ProfileArgs) -> anyhow::Result<ProfileSettings> {
    let mut s = ProfileSettings::from_config(&config.profile).map_err(|p| anyhow::anyhow!("{}", p.join("\n  ")))?;
    s.state = s.state.take().map(|p| config.near(p));
    if !args.detect.is_empty() {
        s.detect = args.detect.clone();
    }
    s.only_findings |= args.only_findings;
    let ms = |flag: &str, text: &str| -> anyhow::Result<i64> {
        let d = metron::event::parse_duration(text).map_err(|e| anyhow::anyhow!("--{flag}: {e}"))?;
        Ok(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    };
    if let Some(w) = &args.window {
        s.window_ms = ms("window", w)?;
    }
    if let Some(p) = &args.period {
        s.period_ms = ms("period", p)?;
    }
    if let Some(n) = args.min_history {
        s.min_history = n;
    }
    if let Some(n) = args.max_entities {
        s.max_entities = n;
    }
    if args.state.is_some() {
        s.state = args.state.clone();
    }
    s.flush = args.flush;
    Ok(s)
}
