//! `metron demo`.

use super::Global;
use crate::cli::DemoArgs;

pub fn run(args: DemoArgs, global: &Global) -> anyhow::Result<u8> {
    let code = metron::demo::run(args.output.as_deref(), &args.store, global.color)?;
    Ok(code as u8)
}
