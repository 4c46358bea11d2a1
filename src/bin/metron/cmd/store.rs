//! `metron store ...`: the store directory from --store, $METRON_STORE, [store] dir
//! or ./metron-store, then one library call per subcommand.

use super::Global;
use crate::cli::{QueryFormat, StoreArgs, StoreCommand, StoreIngestArgs, StoreQueryArgs, StoreTriageArgs};
use metron::config::Config;
use metron::store::{self, OutputFormat, Store};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The store directory: the flag, then $METRON_STORE, then the config, then the default.
pub fn store_dir(flag: Option<&Path>, config: &Config) -> PathBuf {
    if let Some(p) = flag {
        return p.to_owned();
    }
    if let Some(p) = std::env::var_os("METRON_STORE").filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    match &config.store.dir {
        Some(dir) => config.near(dir),
        None => PathBuf::from(store::DEFAULT_DIR),
    }
}

pub fn run(args: StoreArgs, global: &Global) -> anyhow::Result<u8> {
    let config = Config::discover(global.config.as_deref())?;
    if args.store.len() > 1 && !matches!(args.command, StoreCommand::Query(_)) {
        anyhow::bail!("only `store query` reads several stores; give this command one --store");
    }
    let dir = store_dir(args.store.first().map(PathBuf::as_path), &config);
    match args.command {
        StoreCommand::Ingest(a) => ingest(a, &dir, &config, global),
        StoreCommand::Query(a) => {
            let more: Vec<PathBuf> = args.store.iter().skip(1).cloned().collect();
            query(a, &dir, &more)
        }
        StoreCommand::Triage(a) => triage(a, &dir, global),
        StoreCommand::Export(a) => {
            let store = Store::open(&dir)?;
            let now = metron::event::now_ms();
            let time = |t: &Option<String>, flag: &str| -> anyhow::Result<Option<i64>> {
                t.as_deref()
                    .map(|t| metron::event::parse_time(t, now).map_err(|e| anyhow::anyhow!("{flag}: {e}")))
                    .transpose()
            };
            let filter = store::ExportFilter {
                since_ms: time(&a.since, "--since")?,
                until_ms: time(&a.until, "--until")?,
                source_types: a.source_types,
            };
            let s = store::export(&store, &a.parquet, &filter)?;
            if !global.quiet {
                let t = metron::io::thousands;
                eprintln!(
                    "exported {} events, {} alert records, {} error records to {}",
                    t(s.rows[0]),
                    t(s.rows[1]),
                    t(s.rows[2]),
                    a.parquet.display()
                );
            }
            Ok(0)
        }
        StoreCommand::Prune(a) => {
            let store = Store::open(&dir)?;
            let age = metron::event::parse_duration(&a.older_than).map_err(|e| anyhow::anyhow!("--older-than: {e}"))?;
            let cutoff = metron::event::now_ms().saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX));
            let s = store::prune(&store, cutoff)?;
            if !global.quiet {
                eprintln!(
                    "pruned {} records older than {}: {} segments dropped, {} rewritten",
                    metron::io::thousands(s.rows),
                    a.older_than,
                    s.segments_dropped,
                    s.segments_rewritten
                );
            }
            Ok(0)
        }
        StoreCommand::Stats => {
            let store = Store::open(&dir)?;
            let s = store::stats(&store)?;
            print_stats(&mut std::io::stdout().lock(), &store, &s)?;
            Ok(0)
        }
        StoreCommand::Compact => {
            let store = Store::open(&dir)?;
            let s = store::compact(&store)?;
            if !global.quiet {
                eprintln!("merged {} segments; {} segments now", s.merged, s.segments_after);
            }
            Ok(0)
        }
    }
}

fn ingest(a: StoreIngestArgs, dir: &Path, config: &Config, global: &Global) -> anyhow::Result<u8> {
    if a.follow && a.files.is_empty() {
        anyhow::bail!("--follow needs files or directories to follow (stdin is followed already)");
    }
    let max_line = a.max_line_bytes.unwrap_or(metron::io::DEFAULT_MAX_LINE);
    if max_line == 0 {
        anyhow::bail!("--max-line-bytes must be at least 1");
    }
    let interval = a.flush_interval.as_deref().or(config.store.flush_interval.as_deref());
    let flush_interval = match interval {
        Some(i) => metron::event::parse_duration(i).map_err(|e| anyhow::anyhow!("--flush-interval: {e}"))?,
        None => Duration::from_secs(1),
    };
    let batch_rows = a.batch_rows.or(config.store.batch_rows).unwrap_or(store::DEFAULT_BATCH_ROWS);
    if batch_rows == 0 {
        anyhow::bail!("--batch-rows must be at least 1");
    }
    let settings =
        store::IngestSettings { store: dir.to_owned(), batch_rows, flush_interval, max_line_bytes: max_line };
    let mut stage = settings.build()?;
    let opts = metron::driver::RunOptions {
        inputs: a.files,
        output: None,
        errors: a.errors,
        follow: a.follow,
        quiet: global.quiet,
    };
    let (_, outcome) = metron::driver::events(&mut stage, &opts, max_line)?;
    let stats = stage.finish()?;
    Ok(if stats.failed > 0 { 1 } else { outcome.exit_code() as u8 })
}

fn query(a: StoreQueryArgs, dir: &Path, more: &[PathBuf]) -> anyhow::Result<u8> {
    let store = Store::open(dir)?;
    let mut stores = vec![store.clone()];
    for d in more {
        stores.push(Store::open(d)?);
    }
    let reader = store::Reader::open_many(&stores)?;
    let damaged = reader.damaged().count();
    warn_damaged(&store, reader.damaged());
    let format = output_format(a.format);
    let params: Vec<store::SqlValue> = a.params.iter().map(|p| param(p)).collect();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = match format {
        // A table needs its rows to size its columns: at most TABLE_ROWS of them.
        OutputFormat::Table => {
            let (mut rows, mut names, mut more) = (Vec::new(), Vec::new(), false);
            let run = reader.run(&a.sql, &params, |cols, row| {
                if rows.len() == TABLE_ROWS {
                    more = true;
                    return Err(std::io::Error::other(Stop));
                }
                if names.is_empty() {
                    names = cols.to_vec();
                }
                rows.push(row);
                Ok(())
            });
            let run = match run {
                Err(store::QueryError::Io(e)) if e.get_ref().is_some_and(|e| e.is::<Stop>()) => Ok(names),
                Ok(all) => Ok(all),
                Err(e) => Err(e),
            };
            run.map(|names| {
                store::format_rows(&mut out, format, true, &names, &rows, a.max_width.unwrap_or(48).max(4))?;
                if more {
                    writeln!(out, "(the first {TABLE_ROWS} rows; --format ndjson or csv gives them all)")?;
                }
                Ok(())
            })
        }
        _ => {
            let mut w = store::RowWriter::new(format).to_terminal(std::io::stdout().is_terminal());
            let mut cols = Vec::new();
            reader
                .run(&a.sql, &params, |c, row| {
                    if cols.is_empty() {
                        cols = c.to_vec();
                    }
                    w.row(&mut out, c, &row)
                })
                .map(|names| w.finish(&mut out, if cols.is_empty() { &names } else { &cols }))
        }
    };
    match result {
        Ok(written) => {
            written?;
            out.flush()?;
            // Some of the store could not be read: the results may be partial.
            Ok(u8::from(damaged > 0))
        }
        Err(store::QueryError::Io(e)) => Err(e.into()),
        Err(store::QueryError::Sql(e)) => Ok(super::fail(&e)),
    }
}

/// Rows a table shows at most.
const TABLE_ROWS: usize = 10_000;

/// Stops a query that has given the table all the rows it shows.
#[derive(Debug)]
struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("enough rows")
    }
}

impl std::error::Error for Stop {}

/// The output format from `--format`: a table on a terminal, NDJSON otherwise.
pub fn output_format(flag: Option<QueryFormat>) -> OutputFormat {
    match flag {
        Some(QueryFormat::Table) => OutputFormat::Table,
        Some(QueryFormat::Csv) => OutputFormat::Csv,
        Some(QueryFormat::Ndjson) => OutputFormat::Ndjson,
        None if std::io::stdout().is_terminal() => OutputFormat::Table,
        None => OutputFormat::Ndjson,
    }
}

/// A `--param`: an integer or a float stays a number, anything else is text.
fn param(text: &str) -> store::SqlValue {
    if let Ok(n) = text.parse::<i64>() {
        return n.into();
    }
    if let Ok(f) = text.parse::<f64>() {
        if f.is_finite() {
            return f.into();
        }
    }
    text.to_owned().into()
}

fn triage(a: StoreTriageArgs, dir: &Path, global: &Global) -> anyhow::Result<u8> {
    let store = Store::open(dir)?;
    let status = match a.status.as_deref() {
        Some(s) => Some(
            store::Status::parse(s)
                .ok_or_else(|| anyhow::anyhow!("--status {s:?}: not one of {}", store::STATUSES.join(", ")))?,
        ),
        None => None,
    };
    let action = store::TriageAction {
        alert_ids: a.alert_ids,
        status,
        comment: a.comment,
        assignee: a.assign,
        meta_alert: if a.ungroup { Some(String::new()) } else { a.group },
        who: a.who.unwrap_or_else(store::current_user),
    };
    let ids = store::record(&store, &action)?;
    if !global.quiet {
        let what = action.status.map(|s| s.as_str().to_owned()).unwrap_or_else(|| "action".into());
        eprintln!("recorded {what} on {} alert(s) by {}", ids.len(), action.who);
    }
    Ok(0)
}

/// Segments left out of a reader's views because DuckDB cannot read them.
fn warn_damaged<'a>(store: &Store, damaged: impl Iterator<Item = (&'a str, &'a str)>) {
    for (file, why) in damaged {
        let path = store.dir().join(file);
        eprintln!(
            "metron: warning: {}: cannot be read ({}); left out, the rest of the store is read",
            path.display(),
            metron::text::sanitize(why)
        );
    }
}

fn print_stats(out: &mut dyn Write, store: &Store, s: &store::StoreStats) -> std::io::Result<()> {
    let t = metron::io::thousands;
    let time = |ms: Option<i64>| {
        ms.and_then(chrono::DateTime::from_timestamp_millis)
            .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_else(|| "-".into())
    };
    writeln!(out, "store        {}", store.dir().display())?;
    writeln!(out, "events       {}  ({} .. {})", t(s.events), time(s.first), time(s.last))?;
    writeln!(out, "alerts       {}  ({} alert records)", t(s.alerts), t(s.alert_records))?;
    writeln!(out, "errors       {}", t(s.errors))?;
    writeln!(out, "triage       {} actions", t(s.triage_actions))?;
    writeln!(
        out,
        "segments     {} bytes in {}; {:.1} bytes per event",
        t(s.segment_bytes),
        s.segments,
        s.bytes_per_event
    )?;
    if s.replaced > 0 {
        writeln!(
            out,
            "replaced     {} bytes in {} segments compaction or prune replaced, deleted by the next writer \
             {} minutes after (readers may still use them)",
            t(s.replaced_bytes),
            s.replaced,
            store::TRASH_GRACE_MS / 60_000
        )?;
    }
    writeln!(out, "on disk      {} bytes", t(s.bytes_on_disk))?;
    for (file, why) in &s.damaged {
        writeln!(
            out,
            "damaged      {}: cannot be read ({}); left out of these numbers",
            store.dir().join(file).display(),
            metron::text::sanitize(why)
        )?;
    }
    if !s.priorities.is_empty() {
        let p: Vec<String> = s.priorities.iter().map(|(k, n)| format!("{k} {}", t(*n))).collect();
        writeln!(out, "by priority  {}", p.join(", "))?;
        let st: Vec<String> = s.statuses.iter().map(|(k, n)| format!("{k} {}", t(*n))).collect();
        writeln!(out, "by status    {}", st.join(", "))?;
    }
    if !s.source_types.is_empty() {
        writeln!(out, "\n{:<28} {:<24} {:>12}  {:<23}  {:<23}", "source.type", "view", "events", "first", "last")?;
        for (name, n, first, last) in &s.source_types {
            let view = store::source_view_name(name).unwrap_or_else(|| "-".into());
            let name = metron::text::sanitize(name);
            writeln!(out, "{:<28} {:<24} {:>12}  {:<23}  {:<23}", name, view, t(*n), time(*first), time(*last))?;
        }
    }
    Ok(())
}
