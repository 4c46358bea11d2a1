//! `metron parse`.

use super::Global;
use crate::cli::ParseArgs;
use metron::config::Config;
use metron::parse::ParseSettings;
use metron::stage::StageConfig;

pub fn run(args: ParseArgs, global: &Global) -> anyhow::Result<u8> {
    let config = Config::discover(global.config.as_deref())?;
    let format = args.format.or(config.parse.format).unwrap_or_else(|| "auto".into());
    let (opts, max_line_bytes) = global.run_options(args.files, args.io, config.parse.max_line_bytes)?;
    let stage = ParseSettings { format, max_line_bytes, parsers: config.parsers }.build()?;
    let (_, outcome) = metron::parse::run(stage, &opts)?;
    Ok(outcome.exit_code() as u8)
}
