//! Every flag of `metron`, in one place, with no logic: the same definitions make
//! `--help`, the man pages in `man/` and the completions in `completions/`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const ABOUT: &str = "Security telemetry pipeline: parse, enrich, label, alert, store and hunt, in a shell pipeline.";

const AFTER_HELP: &str = "\
Every stage reads NDJSON or raw logs from files or stdin and writes one JSON event per
line to stdout, so stages compose with pipes:

  metron parse conn.log dns.log | jq 'select(.ip_dst_port == 53)'

Start with `metron demo`. Exit codes: 0 success, 1 finished but some records were
errors, 2 usage or fatal error.";

#[derive(Debug, Parser)]
#[command(name = "metron", version, about = ABOUT, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    /// Config file (default: $METRON_CONFIG, then $XDG_CONFIG_HOME/metron/metron.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// When to use colour on stderr (NO_COLOR is honoured).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// No summary line or progress on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse raw sensor output into normalized events (NDJSON).
    #[command(after_help = PARSE_EXAMPLES)]
    Parse(ParseArgs),
    /// Generate synthetic telemetry (Zeek conn TSV, Suricata EVE) for benchmarks and demos.
    #[command(after_help = GENERATE_EXAMPLES)]
    Generate(GenerateArgs),
    /// Run every stage over bundled sample data and print a summary.
    Demo(DemoArgs),
}

const PARSE_EXAMPLES: &str = "\
Formats: auto (default), zeek (alias bro; TSV, JSON and Metron's {\"http\":{...}} form),
suricata (EVE JSON), snort (alert CSV and alert_fast), yaf, squid, asa, syslog (RFC 3164
and 5424), cef, leef, or NAME for a [parsers.NAME] section of metron.toml (kinds: csv,
regex, grok, json).

Examples:
  metron parse conn.log http.log                 # format sniffed per file
  metron parse --format suricata eve.json.zst -o events.ndjson.zst
  tail -F /var/log/asa.log | metron parse --format asa
  metron parse --follow /opt/zeek/logs/current   # new lines and new files, as Zeek rotates
  metron parse --errors bad.ndjson big.log       # every error record kept

Every input line gives one event, or is skipped (headers, comments, blank), or becomes an
error record (source.type \"error\", with file and line) written to --errors or summarized
on stderr; the exit code is then 1.";

const GENERATE_EXAMPLES: &str = "\
Examples:
  metron generate zeek-conn -n 1000000 > conn.log
  metron generate suricata-eve -n 1000000 --seed 7 -o eve.json.zst";

#[derive(Debug, Args)]
pub struct ParseArgs {
    /// Input format: auto, zeek, bro, suricata, snort, yaf, squid, asa, syslog, cef, leef, or a [parsers.NAME].
    #[arg(short, long, value_name = "FORMAT")]
    pub format: Option<String>,

    /// Files to read (.gz and .zst are decompressed); none or `-` reads stdin.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Write events here instead of stdout (.zst and .gz compress).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Write every error record here (NDJSON) instead of summarizing them on stderr.
    #[arg(long, value_name = "FILE")]
    pub errors: Option<PathBuf>,

    /// Keep reading: growing files, and new files in named directories (survives rotation).
    #[arg(short = 'F', long)]
    pub follow: bool,

    /// Longest line accepted; longer lines become error records [default: 1048576].
    #[arg(long, value_name = "BYTES")]
    pub max_line_bytes: Option<usize>,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// What to generate.
    #[arg(value_parser = ["zeek-conn", "suricata-eve"])]
    pub kind: String,

    /// How many records.
    #[arg(short = 'n', long, default_value_t = 1000)]
    pub count: u64,

    /// Random seed: the same seed gives the same output.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Write here instead of stdout (.zst and .gz compress).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Also write the demo's events here (NDJSON).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}
