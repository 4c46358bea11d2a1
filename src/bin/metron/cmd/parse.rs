//! `metron parse`, from files or (`--listen`) from the network.

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
    if !args.listen.is_empty() {
        let max_message = args.net.max_message_bytes.unwrap_or(max_line_bytes);
        let mut settings = super::listen::settings(args.listen, args.net)?;
        settings.max_message_bytes = max_message;
        let listeners = super::listen::bind(settings)?;
        let (_, outcome) = metron::parse::run_on(stage, listeners, &opts.outputs())?;
        return Ok(outcome.exit_code() as u8);
    }
    let (_, outcome) = metron::parse::run(stage, &opts)?;
    Ok(outcome.exit_code() as u8)
}
