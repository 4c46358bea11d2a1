//! `metron enrich`: `[enrich]` of metron.toml with the flags laid over it, built
//! into the stage, run over NDJSON.

use super::Global;
use crate::cli::EnrichArgs;
use metron::config::Config;
use metron::enrich::tables::TableSpec;
use metron::enrich::EnrichConfig;
use metron::stage::StageConfig;

pub fn run(args: EnrichArgs, global: &Global) -> anyhow::Result<u8> {
    let config = Config::discover(global.config.as_deref())?;
    let settings = merge(&config, &args)?;
    let mut stage = settings.build()?;
    if !global.quiet {
        for message in stage.take_messages() {
            eprintln!("metron: {}", metron::text::sanitize(&message));
        }
    }
    let (opts, max_line) = global.run_options(args.files, args.io, None)?;
    let (_, outcome) = metron::driver::events(&mut stage, &opts, max_line)?;
    Ok(outcome.exit_code() as u8)
}

/// Flags override the config; files named in the config are relative to it.
pub fn merge(whole: &Config, args: &EnrichArgs) -> anyhow::Result<EnrichConfig> {
    let mut config = whole.enrich.clone();
    config.geoip = args.geoip.clone().or(config.geoip.map(|p| whole.near(p)));
    config.asn = args.asn.clone().or(config.asn.map(|p| whole.near(p)));
    config.assets = args.assets.clone().or(config.assets.map(|p| whole.near(p)));
    for table in &mut config.tables {
        table.file = whole.near(std::mem::take(&mut table.file));
    }
    if !args.internal.is_empty() {
        config.internal = args.internal.clone();
    }
    if !args.tables.is_empty() {
        let parsed: Vec<Result<TableSpec, String>> = args.tables.iter().map(|t| TableSpec::parse_flag(t)).collect();
        let bad: Vec<String> = parsed.iter().filter_map(|r| r.as_ref().err().cloned()).collect();
        if !bad.is_empty() {
            anyhow::bail!("{}", bad.join("\n"));
        }
        config.tables = parsed.into_iter().flatten().collect();
    }
    if args.ip_fields.is_some() {
        config.ip_fields = args.ip_fields.clone();
    }
    if args.cache_size.is_some() {
        config.cache_size = args.cache_size;
    }
    config.passive_dns |= args.passive_dns;
    if args.passive_dns_size.is_some() {
        config.passive_dns_size = args.passive_dns_size;
    }
    if args.passive_dns_ttl.is_some() {
        config.passive_dns_ttl = args.passive_dns_ttl.clone();
    }
    Ok(config)
}
