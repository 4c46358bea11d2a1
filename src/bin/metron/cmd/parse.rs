//! `metron parse`.

use super::Global;
use crate::cli::ParseArgs;
use metron::config::Config;
use metron::parse::ParseSettings;
use metron::stage::StageConfig;

pub fn run(args: ParseArgs, global: &Global) -> anyhow::Result<u8> {
    let config = Config::discover(global.config.as_deref())?;
    let settings = ParseSettings {
        format: args.format.or(config.parse.format).unwrap_or_else(|| "auto".into()),
        max_line_bytes: args.max_line_bytes.or(config.parse.max_line_bytes).unwrap_or(metron::io::DEFAULT_MAX_LINE),
        parsers: config.parsers,
    };
    let stage = settings.build()?;
    let opts = metron::run::RunOptions {
        inputs: args.files,
        output: args.output,
        errors: args.errors,
        follow: args.follow,
        quiet: global.quiet,
    };
    if opts.follow && opts.inputs.is_empty() {
        anyhow::bail!("--follow needs files or directories to follow (stdin is followed already)");
    }
    let (_, outcome) = metron::run::parse(stage, &opts)?;
    Ok(outcome.exit_code() as u8)
}
