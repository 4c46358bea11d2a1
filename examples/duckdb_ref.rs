//! DuckDB on its own, for `scripts/bench-store.sh` to set metron's store beside:
//!
//!   duckdb_ref import EVENTS.ndjson DB          CREATE TABLE t AS SELECT * FROM read_json(...)
//!   duckdb_ref parquet EVENTS.ndjson OUT.parquet  the same events as one zstd Parquet file
//!   duckdb_ref query 'GLOB' 'SQL'               SQL over a view `events` of Parquet files
//!
//! Prints the rows (or the row count) so the work cannot be skipped.

use duckdb::Connection;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let conn = |path: Option<&str>| -> duckdb::Result<Connection> {
        let config = duckdb::Config::default()
            .enable_autoload_extension(false)?
            .with("autoinstall_known_extensions", "false")?;
        match path {
            Some(p) => Connection::open_with_flags(p, config),
            None => Connection::open_in_memory_with_flags(config),
        }
    };
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["import", input, db] => {
            let c = conn(Some(db))?;
            // Every row sampled: with DuckDB's default sample a field first seen late in a
            // mixed file (Zeek then Suricata) stops the import.
            let n = c.execute(
                "CREATE TABLE t AS SELECT * FROM read_json(?, format = 'newline_delimited', sample_size = -1)",
                [input],
            )?;
            println!("{n} rows");
        }
        ["parquet", input, out] => {
            let c = conn(None)?;
            let n = c.execute(
                &format!(
                    "COPY (SELECT * FROM read_json(?, format = 'newline_delimited', sample_size = -1)) TO '{}' \
                     (FORMAT parquet, COMPRESSION zstd)",
                    out.replace('\'', "''")
                ),
                [input],
            )?;
            println!("{n} rows");
        }
        ["query", glob, sql] => {
            let c = conn(None)?;
            c.execute_batch(&format!(
                "CREATE VIEW events AS SELECT * FROM read_parquet('{}', union_by_name = true)",
                glob.replace('\'', "''")
            ))?;
            let mut stmt = c.prepare(sql)?;
            let mut rows = stmt.query([])?;
            let mut n = 0u64;
            while rows.next()?.is_some() {
                n += 1;
            }
            println!("{n} rows");
        }
        _ => {
            eprintln!("usage: duckdb_ref import NDJSON DB | parquet NDJSON OUT | query GLOB SQL");
            std::process::exit(2);
        }
    }
    Ok(())
}
