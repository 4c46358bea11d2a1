//! `metron listen`, and the listeners of `metron parse --listen`.

use super::Global;
use crate::cli::{ListenArgs, ListenOpts};
use metron::driver::{self, Outputs};
use metron::listen::{ListenSettings, Listeners, Writer};

/// The listeners' settings from the flags; every problem at once.
pub fn settings(urls: Vec<String>, net: ListenOpts) -> anyhow::Result<ListenSettings> {
    let mut s = ListenSettings { urls, ..ListenSettings::default() };
    let mut problems = Vec::new();
    if let Some(n) = net.max_message_bytes {
        s.max_message_bytes = n;
    }
    if let Some(b) = net.max_body_bytes {
        match metron::io::parse_size(&b) {
            Ok(n) => s.max_body_bytes = usize::try_from(n).unwrap_or(usize::MAX),
            Err(e) => problems.push(format!("--max-body-bytes: {e}")),
        }
    }
    if let Some(n) = net.max_connections {
        s.max_connections = n;
    }
    if let Some(t) = net.idle_timeout {
        match metron::event::parse_duration(&t) {
            Ok(d) => s.idle_timeout = d,
            Err(e) => problems.push(format!("--idle-timeout: {e}")),
        }
    }
    s.allow = net.allow;
    s.token = net.token.filter(|t| !t.is_empty());
    s.cert = net.cert;
    s.key = net.key;
    s.client_ca = net.client_ca;
    if !problems.is_empty() {
        anyhow::bail!(problems.join("\n"));
    }
    Ok(s)
}

/// Binds, or fails with every problem.
pub fn bind(settings: ListenSettings) -> anyhow::Result<Listeners> {
    Listeners::bind(settings).map_err(|problems| anyhow::anyhow!(problems.join("\n")))
}

pub fn run(args: ListenArgs, global: &Global) -> anyhow::Result<u8> {
    let settings = settings(args.urls, args.net)?;
    let mut writer = Writer::new(args.envelope, settings.max_message_bytes);
    let listeners = bind(settings)?;
    let outputs = Outputs { output: args.output, errors: args.errors, quiet: global.quiet, append: false };
    let outcome = driver::run(&mut writer, listeners, &outputs)?;
    Ok(outcome.exit_code() as u8)
}
