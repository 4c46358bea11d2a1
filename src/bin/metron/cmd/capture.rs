//! `metron capture`.

use super::Global;
use crate::cli::{CaptureArgs, EmitChoice};
use anyhow::{bail, Context};
use metron::capture::flow::{TableSettings, Timeouts};
use metron::capture::tcp::{Apps, TcpSettings};
use metron::capture::writer::WriteSettings;
use metron::capture::{CaptureSettings, Emit};
use metron::config::Config;
use metron::driver::Outputs;
use metron::event::parse_duration;
use metron::io::parse_size;

/// What a build without libpcap says when asked for live capture.
#[cfg(not(feature = "live"))]
const NO_LIVE: &str = "this metron was built without live capture (the `live` feature, which needs libpcap).\n\
    Install libpcap-dev (Debian/Ubuntu; libpcap-devel on Fedora), then rebuild with it:\n  \
    cargo install --path . --features live\n\
    Reading capture files (-r FILE) works without it.";

pub fn run(mut args: CaptureArgs, global: &Global) -> anyhow::Result<u8> {
    let config = Config::discover(global.config.as_deref())?;
    merge(&mut args, &config);
    let ns = |flag: &str, v: &Option<String>, default: i64| -> anyhow::Result<i64> {
        match v {
            Some(t) => {
                let d = parse_duration(t).map_err(anyhow::Error::msg).with_context(|| format!("--{flag}"))?;
                Ok(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
            }
            None => Ok(default),
        }
    };
    let d = Timeouts::default();
    let timeouts = Timeouts {
        tcp_idle_ns: ns("tcp-timeout", &args.tcp_timeout, d.tcp_idle_ns)?,
        udp_idle_ns: ns("udp-timeout", &args.udp_timeout, d.udp_idle_ns)?,
        other_idle_ns: ns("other-timeout", &args.other_timeout, d.other_idle_ns)?,
        active_ns: ns("active-timeout", &args.active_timeout, d.active_ns)?,
        close_delay_ns: d.close_delay_ns,
    };
    let max_flows = args.max_flows.unwrap_or(TableSettings::default().max_flows);
    if max_flows == 0 {
        bail!("--max-flows must be at least 1");
    }
    let write = match &args.write {
        Some(dir) => Some(WriteSettings {
            dir: dir.clone(),
            rotate_bytes: match &args.rotate_size {
                Some(s) => parse_size(s).map_err(anyhow::Error::msg).context("--rotate-size")?,
                None => 1 << 30,
            },
            rotate_ns: args.rotate_seconds.map_or(0, |s| i64::try_from(s).unwrap_or(i64::MAX / 2) * 1_000_000_000),
            zstd: args.compress,
        }),
        None => None,
    };
    let emit = if args.emit.is_empty() {
        match config.capture.emit.as_deref() {
            Some(list) => Emit::parse(list).map_err(anyhow::Error::msg).context("[capture] emit")?,
            None => Emit::default(),
        }
    } else {
        let has = |c: EmitChoice| args.emit.contains(&c);
        Emit {
            flows: has(EmitChoice::Flows),
            packets: has(EmitChoice::Packets),
            apps: Apps {
                dns: has(EmitChoice::Dns),
                http: has(EmitChoice::Http),
                tls: has(EmitChoice::Tls),
                ssh: has(EmitChoice::Ssh),
            },
        }
    };
    let size = |flag: &str, v: &Option<String>, default: usize| -> anyhow::Result<usize> {
        match v {
            Some(s) => {
                let n = parse_size(s).map_err(anyhow::Error::msg).with_context(|| format!("--{flag}"))?;
                Ok(usize::try_from(n).unwrap_or(usize::MAX))
            }
            None => Ok(default),
        }
    };
    let t = TcpSettings::default();
    let tcp = TcpSettings {
        flow_buffer: size("reassembly-flow", &args.reassembly_flow, t.flow_buffer)?,
        total_buffer: size("reassembly-total", &args.reassembly_total, t.total_buffer)?,
        idle_ns: timeouts.tcp_idle_ns,
        ..t
    };
    let settings = CaptureSettings {
        emit,
        table: TableSettings { timeouts, max_flows, ..TableSettings::default() },
        write,
        tcp,
        ..CaptureSettings::default()
    };
    let opts = Outputs { output: args.output.clone(), errors: args.errors.clone(), quiet: global.quiet, append: false };
    if args.list_interfaces || args.interface.is_some() {
        return live(&args, &settings, &opts);
    }
    if args.read.is_empty() {
        bail!("give capture files with -r FILE (`-r -` reads stdin), or an interface with -i IFACE");
    }
    let (_, outcome) = metron::capture::run_files(&settings, &args.read, &opts)?;
    Ok(outcome.exit_code() as u8)
}

/// `[capture]` of metron.toml under the flags: a flag wins, the config fills in.
fn merge(args: &mut CaptureArgs, config: &Config) {
    let c = &config.capture;
    args.max_flows = args.max_flows.or(c.max_flows);
    args.reassembly_flow = args.reassembly_flow.take().or(c.reassembly_flow.clone());
    args.reassembly_total = args.reassembly_total.take().or(c.reassembly_total.clone());
    for (flag, conf) in [
        (&mut args.tcp_timeout, &c.tcp_timeout),
        (&mut args.udp_timeout, &c.udp_timeout),
        (&mut args.other_timeout, &c.other_timeout),
        (&mut args.active_timeout, &c.active_timeout),
        (&mut args.stats_interval, &c.stats_interval),
        (&mut args.rotate_size, &c.rotate_size),
        (&mut args.filter, &c.filter),
    ] {
        if flag.is_none() {
            flag.clone_from(conf);
        }
    }
    // A directory from the config is relative to the config file; one from a flag, to
    // the working directory.
    args.write = args.write.take().or(c.write.as_ref().map(|w| config.near(w)));
    args.rotate_seconds = args.rotate_seconds.or(c.rotate_seconds);
    args.compress |= c.compress.unwrap_or(false);
    args.snaplen = args.snaplen.or(c.snaplen);
    args.no_promisc |= c.promisc == Some(false);
    // The configured interface is used when no files are named.
    if args.read.is_empty() && args.interface.is_none() {
        args.interface.clone_from(&c.interface);
    }
}

#[cfg(feature = "live")]
fn live(args: &CaptureArgs, settings: &CaptureSettings, opts: &Outputs) -> anyhow::Result<u8> {
    use metron::capture::live;
    if args.list_interfaces {
        for (name, description) in live::list_interfaces()? {
            match description {
                Some(d) => println!("{name}\t{d}"),
                None => println!("{name}"),
            }
        }
        return Ok(0);
    }
    let interface = args.interface.clone().context("--interface")?;
    let duration = |flag: &str, v: &Option<String>| -> anyhow::Result<Option<std::time::Duration>> {
        v.as_deref()
            .map(|t| parse_duration(t).map_err(anyhow::Error::msg).with_context(|| format!("--{flag}")))
            .transpose()
    };
    let live_settings = live::LiveSettings {
        interface,
        filter: args.filter.clone(),
        snaplen: args.snaplen.unwrap_or(262_144),
        promisc: !args.no_promisc,
        count: args.count,
        duration: duration("duration", &args.duration)?,
        stats_interval: duration("stats-interval", &args.stats_interval)?.unwrap_or(std::time::Duration::from_secs(60)),
    };
    let (_, outcome, _) = live::run_live(settings, &live_settings, opts)?;
    Ok(outcome.exit_code() as u8)
}

#[cfg(not(feature = "live"))]
fn live(_: &CaptureArgs, _: &CaptureSettings, _: &Outputs) -> anyhow::Result<u8> {
    bail!(NO_LIVE)
}
