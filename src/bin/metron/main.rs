//! The `metron` binary: flags -> config -> one library call -> exit code.

mod cli;
mod cmd;

/// mimalloc: every event is a map of small strings, so allocation is a large share of
/// a stage's time; mimalloc makes it about twice as cheap as glibc's malloc here. With
/// the crate's `override` feature it also serves C and C++ `malloc` (DuckDB, libpcap):
/// `store ingest` is about a fifth faster with it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use cli::{Cli, ColorChoice, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                if metron::io::is_broken_pipe(io) {
                    return ExitCode::SUCCESS;
                }
            }
            ExitCode::from(cmd::fail(&format!("{err:#}")))
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    let global = cmd::Global {
        config: cli.config,
        quiet: cli.quiet,
        color_choice: match cli.color {
            ColorChoice::Always => Some(true),
            ColorChoice::Never => Some(false),
            ColorChoice::Auto => None,
        },
        color: match cli.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => metron::text::color_on_stderr(),
        },
    };
    match cli.command {
        Command::Capture(args) => cmd::capture::run(args, &global),
        Command::Extract(args) => cmd::extract::run(args, &global),
        Command::Parse(args) => cmd::parse::run(args, &global),
        Command::Listen(args) => cmd::listen::run(args, &global),
        Command::Enrich(args) => cmd::enrich::run(args, &global),
        Command::Alert(args) => cmd::alert::run(args, &global),
        Command::Label(args) => cmd::label::run(args, &global),
        Command::Profile(args) => cmd::profile::run(args, &global),
        Command::Generate(args) => cmd::generate::run(args),
        Command::Store(args) => cmd::store::run(args, &global),
        Command::Hunt(args) => cmd::hunt::run(args, &global),
        Command::Run(args) => cmd::run::run(args, &global),
        Command::Demo(args) => cmd::demo::run(args, &global),
    }
}
