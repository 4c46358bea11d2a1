//! Keeping a store: compaction, retention, export to a Parquet lake, and numbers.

use super::ingest::{compact_tables, SegmentWriter};
use super::manifest::{Manifest, Segment};
use super::{connect, sql_str, Reader, Store, StoreError, Table, PARQUET};
use crate::event::now_ms;
use serde_json::Value;
use std::path::Path;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CompactStats {
    pub merged: u64,
    pub segments_after: u64,
}

/// Merges small segments (as an ingest does at its end).
pub fn compact(store: &Store) -> Result<CompactStats, StoreError> {
    let _lock = store.lock_writer()?;
    let mut manifest = Manifest::load(store)?;
    manifest.collect_garbage(store, now_ms())?;
    let conn = connect()?;
    let merged = compact_tables(&conn, store, &mut manifest)?;
    manifest.collect_garbage(store, now_ms())?;
    let segments_after = Table::ALL.iter().map(|t| manifest.segments(*t).len() as u64).sum();
    Ok(CompactStats { merged, segments_after })
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PruneStats {
    /// Rows removed, over all tables.
    pub rows: u64,
    pub segments_dropped: u64,
    pub segments_rewritten: u64,
}

/// Removes records whose `timestamp` is before `cutoff_ms` (records without one are
/// kept). Segments wholly before go; segments across the cutoff are rewritten.
pub fn prune(store: &Store, cutoff_ms: i64) -> Result<PruneStats, StoreError> {
    let _lock = store.lock_writer()?;
    let mut manifest = Manifest::load(store)?;
    manifest.collect_garbage(store, now_ms())?;
    let conn = connect()?;
    let mut stats = PruneStats::default();
    let now = now_ms();
    for table in Table::ALL {
        let segments = manifest.segments(table).clone();
        for s in segments {
            // The file's own times, not the manifest's: a manifest's range leaves out
            // times that arrived as text (and a copied store's manifest may be wrong).
            let (Some(min), Some(max), nulls) = time_range(&conn, store, &s)? else { continue };
            if min >= cutoff_ms {
                continue;
            }
            if max < cutoff_ms && nulls == 0 {
                stats.rows += s.rows;
                stats.segments_dropped += 1;
                manifest.segments_mut(table).retain(|x| x.file != s.file);
                manifest.retire(s.file.clone(), now);
                manifest.save(store)?;
                continue;
            }
            let file = manifest.new_file(table);
            let staged = store.tmp_dir().join(format!("seg-{}.parquet", manifest.next_segment));
            let kept = conn.execute(
                &format!(
                    "COPY (SELECT * FROM read_parquet({}) WHERE \"timestamp\" >= ? OR \"timestamp\" IS NULL) TO {} \
                     ({PARQUET})",
                    sql_str(&store.dir().join(&s.file).to_string_lossy()),
                    sql_str(&staged.to_string_lossy())
                ),
                [cutoff_ms],
            )? as u64;
            stats.rows += s.rows.saturating_sub(kept);
            stats.segments_rewritten += 1;
            manifest.segments_mut(table).retain(|x| x.file != s.file);
            manifest.retire(s.file.clone(), now);
            if kept == 0 {
                let _ = std::fs::remove_file(&staged);
                manifest.save(store)?;
                continue;
            }
            let segment = Segment { file, rows: kept, bytes: 0, min_ts: Some(cutoff_ms.max(min)), ..s.clone() };
            SegmentWriter { conn: &conn, store, max_object: 0 }.commit(&mut manifest, table, &staged, segment)?;
        }
    }
    manifest.collect_garbage(store, now_ms())?;
    Ok(stats)
}

/// The earliest and latest `timestamp` in a segment, and how many rows have none,
/// read from the file (DuckDB answers min and max from its row-group statistics).
fn time_range(
    conn: &duckdb::Connection,
    store: &Store,
    s: &Segment,
) -> Result<(Option<i64>, Option<i64>, i64), StoreError> {
    Ok(conn.query_row(
        &format!(
            "SELECT min(TRY_CAST(\"timestamp\" AS BIGINT)), max(TRY_CAST(\"timestamp\" AS BIGINT)), \
             count(*) FILTER (WHERE TRY_CAST(\"timestamp\" AS BIGINT) IS NULL) FROM read_parquet({})",
            sql_str(&store.dir().join(&s.file).to_string_lossy())
        ),
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?)
}

/// Which records an export takes.
#[derive(Debug, Clone, Default)]
pub struct ExportFilter {
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub source_types: Vec<String>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExportStats {
    /// Rows written: events, alert records, error records.
    pub rows: [u64; 3],
}

/// Writes zstd Parquet under `dir`, partitioned Hive-style by day (UTC, of
/// `timestamp`) and `source_type` (`dir/day=2026-11-23/source_type=zeek.conn/...`).
/// Each run adds files; nothing in `dir` is overwritten.
pub fn export(store: &Store, dir: &Path, filter: &ExportFilter) -> Result<ExportStats, StoreError> {
    std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    let reader = Reader::open_for_export(store, dir)?;
    let conn = reader.connection();
    let mut stats = ExportStats::default();
    for (i, (table, view)) in
        [(Table::Events, "events"), (Table::Alerts, "alert_records"), (Table::Errors, "errors")].into_iter().enumerate()
    {
        if reader.manifest().segments(table).is_empty() {
            continue;
        }
        let mut wheres = Vec::new();
        let mut params: Vec<duckdb::types::Value> = Vec::new();
        if let Some(s) = filter.since_ms {
            wheres.push("\"timestamp\" >= ?".to_owned());
            params.push(s.into());
        }
        if let Some(u) = filter.until_ms {
            wheres.push("\"timestamp\" < ?".to_owned());
            params.push(u.into());
        }
        if !filter.source_types.is_empty() {
            wheres.push(format!("\"source.type\" IN ({})", vec!["?"; filter.source_types.len()].join(", ")));
            params.extend(filter.source_types.iter().map(|s| duckdb::types::Value::from(s.clone())));
        }
        let where_ = if wheres.is_empty() { String::new() } else { format!(" WHERE {}", wheres.join(" AND ")) };
        let sql = format!(
            "COPY (SELECT *, coalesce(strftime(epoch_ms(\"timestamp\"), '%Y-%m-%d'), 'unknown') AS day, \
             coalesce(\"source.type\", 'unknown') AS source_type FROM {view}{where_}) TO {} \
             (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day, source_type), APPEND, \
             FILENAME_PATTERN '{}_{{uuid}}')",
            sql_str(&dir.to_string_lossy()),
            table.dir()
        );
        stats.rows[i] = conn.execute(&sql, duckdb::params_from_iter(params.iter()))? as u64;
    }
    Ok(stats)
}

/// Numbers about a store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreStats {
    /// `source.type`, events, first and last `timestamp`.
    pub source_types: Vec<(String, u64, Option<i64>, Option<i64>)>,
    pub events: u64,
    pub alert_records: u64,
    pub alerts: u64,
    pub errors: u64,
    pub triage_actions: u64,
    pub segments: u64,
    /// Bytes of the live segments (the ones the manifest names).
    pub segment_bytes: u64,
    /// Segments replaced by compaction or prune that are still on disk, and their
    /// bytes: they are deleted once no reader can be using them (`TRASH_GRACE_MS`).
    pub replaced: u64,
    pub replaced_bytes: u64,
    /// Every file of the store.
    pub bytes_on_disk: u64,
    /// Bytes of event segments per event.
    pub bytes_per_event: f64,
    pub first: Option<i64>,
    pub last: Option<i64>,
    /// Alerts per priority, and per status.
    pub priorities: Vec<(String, u64)>,
    pub statuses: Vec<(String, u64)>,
    /// Segments DuckDB cannot read (file, why), left out of the numbers above.
    pub damaged: Vec<(String, String)>,
}

pub fn stats(store: &Store) -> Result<StoreStats, StoreError> {
    let reader = Reader::open(store)?;
    let m = reader.manifest();
    let q = |sql: &str| reader.query(sql, &[]).map_err(|e| StoreError::Invalid(e.to_string()));
    let mut s = StoreStats {
        damaged: reader.damaged().map(|(f, w)| (f.to_owned(), w.to_owned())).collect(),
        ..Default::default()
    };
    let by_type = q("SELECT coalesce(\"source.type\", '(none)'), count(*), min(\"timestamp\"), max(\"timestamp\") \
                     FROM events GROUP BY 1 ORDER BY 2 DESC, 1")?;
    for r in &by_type.rows {
        let n = r.get(1).and_then(Value::as_u64).unwrap_or(0);
        s.source_types.push((
            r.first().and_then(Value::as_str).unwrap_or("").to_owned(),
            n,
            r.get(2).and_then(Value::as_i64),
            r.get(3).and_then(Value::as_i64),
        ));
        s.events += n;
    }
    s.first = s.source_types.iter().filter_map(|t| t.2).min();
    s.last = s.source_types.iter().filter_map(|t| t.3).max();
    s.alert_records = m.alerts.iter().map(|x| x.rows).sum();
    s.errors = m.errors.iter().map(|x| x.rows).sum();
    let count = |sql: &str| -> Result<u64, StoreError> {
        Ok(q(sql)?.rows.first().and_then(|r| r.first()).and_then(Value::as_u64).unwrap_or(0))
    };
    s.alerts = count("SELECT count(*) FROM alerts")?;
    s.triage_actions = count("SELECT count(*) FROM triage")?;
    let pairs = |sql: &str| -> Result<Vec<(String, u64)>, StoreError> {
        Ok(q(sql)?
            .rows
            .iter()
            .map(|r| {
                (
                    r.first().map(super::read::cell_text).unwrap_or_default(),
                    r.get(1).and_then(Value::as_u64).unwrap_or(0),
                )
            })
            .collect())
    };
    s.priorities = pairs("SELECT coalesce(priority, '-'), count(*) FROM alerts GROUP BY 1 ORDER BY 2 DESC")?;
    s.statuses = pairs("SELECT status, count(*) FROM alerts GROUP BY 1 ORDER BY 2 DESC")?;
    s.segments = Table::ALL.iter().map(|t| m.segments(*t).len() as u64).sum();
    s.segment_bytes = Table::ALL.iter().flat_map(|t| m.segments(*t)).map(|x| x.bytes).sum();
    for t in &m.trash {
        if let Ok(meta) = std::fs::metadata(store.dir().join(&t.file)) {
            s.replaced += 1;
            s.replaced_bytes += meta.len();
        }
    }
    s.bytes_on_disk = dir_size(store.dir());
    let event_bytes: u64 = m.events.iter().map(|x| x.bytes).sum();
    s.bytes_per_event = if s.events > 0 { event_bytes as f64 / s.events as f64 } else { 0.0 };
    Ok(s)
}

fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}
