//! `metron generate`.

use crate::cli::GenerateArgs;
use anyhow::Context;

pub fn run(args: GenerateArgs) -> anyhow::Result<u8> {
    let kind = metron::gen::GenKind::from_name(&args.kind).context("unknown kind")?;
    let mut out = metron::io::Output::open(args.output.as_deref())?;
    metron::gen::generate(kind, args.count, args.seed, out.raw_writer())?;
    out.finish()?;
    Ok(0)
}
