//! `metron hunt`: the console, or one search printed with --query.

use super::Global;
use crate::cli::HuntArgs;
use metron::config::Config;
use metron::hunt::{self, ConsoleOptions, HuntError};
use metron::store::{self, Store};
use std::io::{IsTerminal, Write};

pub fn run(args: HuntArgs, global: &Global) -> anyhow::Result<u8> {
    let config = Config::discover(global.config.as_deref())?;
    let dir = super::store::store_dir(args.store.as_deref(), &config);
    let store = Store::open(&dir)?;
    if let Some(search) = &args.bench {
        hunt::bench(&store, search, &mut std::io::stdout().lock())?;
        return Ok(0);
    }
    if let Some(text) = &args.query {
        let format = super::store::output_format(args.format);
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        let max_width = args.max_width.or(config.hunt.max_width).unwrap_or(48).max(4);
        return match hunt::print_search(&store, text, format, &mut out, std::io::stdout().is_terminal(), max_width) {
            Ok((_, damaged)) => {
                out.flush()?;
                // Some of the store could not be read: the results may be partial.
                Ok(u8::from(damaged > 0))
            }
            Err(HuntError::Io(e)) => Err(e.into()),
            Err(e) => Ok(super::fail(&e.to_string())),
        };
    }
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!("the console needs a terminal; use --query SEARCH to print results");
    }
    let refresh = args.refresh.or(config.hunt.refresh.clone()).unwrap_or_else(|| "2s".into());
    let refresh = if refresh.trim() == "0" {
        std::time::Duration::ZERO
    } else {
        metron::event::parse_duration(&refresh).map_err(|e| anyhow::anyhow!("--refresh: {e}"))?
    };
    let color = global.color_for_terminal();
    let opts = ConsoleOptions {
        who: args.who.or(config.hunt.who.clone()).unwrap_or_else(store::current_user),
        refresh,
        pcap_dir: args.pcap_dir.or(config.hunt.pcap_dir.as_ref().map(|p| config.near(p))),
        color,
    };
    hunt::run_console(&store, &opts)?;
    Ok(0)
}
