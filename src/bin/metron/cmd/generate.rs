//! `metron generate`.

use crate::cli::GenerateArgs;
use anyhow::Context;

pub fn run(args: GenerateArgs) -> anyhow::Result<u8> {
    let kind = metron::gen::GenKind::from_name(&args.kind).context("unknown kind")?;
    let mut out = metron::io::Output::open(args.output.as_deref())?;
    match (kind, &args.truth) {
        (metron::gen::GenKind::Traffic, Some(path)) => {
            let truth = metron::gen::traffic::generate(args.count, args.seed, out.raw_writer())?;
            let mut t = metron::io::Output::open(Some(path))?;
            for line in truth.0 {
                t.write_event(&metron::event::event_from_value(line).unwrap_or_default())?;
            }
            t.finish()?;
        }
        (_, Some(_)) => anyhow::bail!("--truth is for `metron generate traffic`"),
        _ => metron::gen::generate(kind, args.count, args.seed, out.raw_writer())?,
    }
    out.finish()?;
    Ok(0)
}
