//! `metron extract`.

use crate::cli::ExtractArgs;
use anyhow::{bail, Context};
use metron::capture::extract::{extract, read_flows, Filter};

pub fn run(args: ExtractArgs, global: &super::Global) -> anyhow::Result<u8> {
    let net = |flag: &str, v: &Option<String>| -> anyhow::Result<Option<ipnet::IpNet>> {
        v.as_deref()
            .map(|t| {
                t.parse::<ipnet::IpNet>()
                    .or_else(|_| t.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .with_context(|| format!("--{flag} {t:?} is not an address or CIDR"))
            })
            .transpose()
    };
    let time = |flag: &str, v: &Option<String>| -> anyhow::Result<Option<i64>> {
        v.as_deref()
            .map(|t| {
                t.trim()
                    .parse::<i64>()
                    .ok()
                    .or_else(|| metron::event::parse_rfc3339_ms(t))
                    .map(|ms| ms.saturating_mul(1_000_000))
                    .with_context(|| format!("--{flag} {t:?} is not a time (RFC 3339 or epoch ms)"))
            })
            .transpose()
    };
    let protocol = match &args.protocol {
        Some(p) => Some(metron::event::protocol_number(p).with_context(|| format!("--protocol {p:?} is unknown"))?),
        None => None,
    };
    let flows = match &args.flow_from {
        Some(p) => read_flows(p)?,
        None => Vec::new(),
    };
    if args.flow_from.is_some() && flows.is_empty() {
        bail!("--flow-from holds no flow records");
    }
    let filter = Filter {
        ip_src: net("ip-src", &args.ip_src)?,
        ip_dst: net("ip-dst", &args.ip_dst)?,
        port_src: args.port_src,
        port_dst: args.port_dst,
        protocol,
        start_ns: time("start", &args.start)?,
        end_ns: time("end", &args.end)?,
        include_reverse: args.include_reverse,
        community_id: args.community_id.clone(),
        flows,
    };
    let mut out = metron::io::Output::open(args.output.as_deref())?;
    let stats = extract(&args.from, &filter, out.raw_writer())?;
    out.finish()?;
    if !global.quiet {
        eprintln!(
            "extract: {} packets written; {} read at flow positions, {} scanned in {} file(s)",
            metron::io::thousands(stats.written),
            metron::io::thousands(stats.read_by_offset),
            metron::io::thousands(stats.packets_scanned),
            metron::io::thousands(stats.files_scanned)
        );
    }
    Ok(0)
}
