//! `store ingest`: NDJSON records in, Parquet segments out.
//!
//! The reading thread routes each line by `source.type` into one of three batches
//! (events, alerts, errors), drops repeats of a `guid` within the batch, and hands
//! full batches (or, when following, batches older than the flush interval) to one
//! writer thread. The writer has DuckDB read the batch (`read_json`, every row
//! sampled so that no field is left out), leaves out rows whose `guid` a live
//! segment already holds (only segments whose guid range meets the batch's are
//! consulted), writes a zstd Parquet segment beside the store, renames it in and
//! commits it to the manifest. A batch is in the store whole or not at all.

use super::manifest::{Manifest, Segment};
use super::shape::{self, Fields, Head, Kinds, Shape};
use super::{connect, sql_ident, sql_str, sync_dir, Store, StoreError, Table, PARQUET};
use crate::error::ErrorType;
use crate::event::{fields, now_ms, Event};
use crate::stage::{Stage, StageError};
use indexmap::IndexMap;
use serde_json::Value;
use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Rows per segment when reading files; following flushes sooner.
pub const DEFAULT_BATCH_ROWS: usize = 100_000;
/// A batch is also closed at this size, whatever its row count.
const MAX_BATCH_BYTES: usize = 64 << 20;
/// Source types whose fields a batch tells apart (the manifest keeps fewer).
const MAX_BATCH_SOURCES: usize = 1024;
/// Small segments are merged when a table has at least this many.
const COMPACT_AT: usize = 16;
/// Segments merged by compaction grow to about this many rows.
pub const COMPACT_TARGET_ROWS: u64 = 2_000_000;

/// How an ingest runs.
#[derive(Debug, Clone)]
pub struct IngestSettings {
    pub store: PathBuf,
    /// Rows per batch (and so per segment, before compaction).
    pub batch_rows: usize,
    /// When following, a batch waits at most this long before it is written.
    pub flush_interval: Duration,
    /// The longest line DuckDB is asked to read.
    pub max_line_bytes: usize,
}

/// What an ingest did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct IngestStats {
    /// Rows committed, per table: events, alerts, errors.
    pub stored: [u64; 3],
    /// Records left out because the store (or the same batch) already had their guid.
    pub duplicates: u64,
    pub segments: u64,
    /// Rows of batches that could not be written; kept in `failed/` for a rerun.
    pub failed: u64,
    /// Segments merged away by compaction at the end.
    pub compacted: u64,
}

struct Batch {
    table: Table,
    bytes: Vec<u8>,
    rows: u64,
    guids: HashSet<Box<str>>,
    min_guid: Option<String>,
    max_guid: Option<String>,
    min_ts: Option<i64>,
    max_ts: Option<i64>,
    /// Every field of its records, with the kinds of their values, per source type
    /// (the manifest keeps them for the per-source views); records without a source
    /// type, or past `MAX_BATCH_SOURCES`, in `untyped`.
    shapes: IndexMap<Box<str>, Shape>,
    untyped: Shape,
    /// The index in `shapes` of the last record's source type (runs of one source
    /// are the common case).
    last_source: usize,
    /// A batch with no rows that asks the writer to say when it got here
    /// ([`IngestStage::sync`]).
    sync: Option<std::sync::mpsc::Sender<()>>,
}

impl Batch {
    fn new(table: Table) -> Batch {
        Batch {
            table,
            bytes: Vec::new(),
            rows: 0,
            guids: HashSet::new(),
            min_guid: None,
            max_guid: None,
            min_ts: None,
            max_ts: None,
            shapes: IndexMap::new(),
            untyped: Shape::default(),
            last_source: 0,
            sync: None,
        }
    }

    fn take(&mut self) -> Batch {
        std::mem::replace(self, Batch::new(self.table))
    }

    /// Notes the fields of a record of `source`.
    fn note(&mut self, source: Option<&str>, fields: &Fields<'_>) {
        let Some(source) = source else { return self.untyped.add(fields) };
        let i = match self.shapes.get_index(self.last_source) {
            Some((k, _)) if &**k == source => self.last_source,
            _ => match self.shapes.get_index_of(source) {
                Some(i) => i,
                None if self.shapes.len() < MAX_BATCH_SOURCES => {
                    self.shapes.insert_full(source.into(), Shape::default()).0
                }
                None => return self.untyped.add(fields),
            },
        };
        self.last_source = i;
        if let Some((_, shape)) = self.shapes.get_index_mut(i) {
            shape.add(fields);
        }
    }

    /// Every field of the batch.
    fn shape(&self) -> Shape {
        let mut all = Shape::default();
        for s in self.shapes.values() {
            all.merge(s);
        }
        all.merge(&self.untyped);
        all
    }
}

#[derive(Default)]
struct Shared {
    stats: IngestStats,
    messages: Vec<String>,
    fatal: Option<String>,
}

/// The ingest as a stage: it takes every line and emits nothing.
pub struct IngestStage {
    store: Store,
    batches: [Batch; 3],
    batch_rows: usize,
    flush_interval: Duration,
    oldest: Option<Instant>,
    tx: Option<SyncSender<Batch>>,
    writer: Option<JoinHandle<()>>,
    shared: Arc<Mutex<Shared>>,
    /// Taken when the store was opened, released when the writer is done.
    duplicates_in_batch: u64,
}

impl IngestSettings {
    /// Opens (creating if need be) the store, takes the writer lock and starts the
    /// writer thread.
    pub fn build(self) -> Result<IngestStage, StoreError> {
        let (store, lock) = Store::create(&self.store)?;
        let mut manifest = Manifest::load(&store)?;
        manifest.collect_garbage(&store, now_ms())?;
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (tx, rx) = sync_channel::<Batch>(1);
        let writer = {
            let store = store.clone();
            let shared = Arc::clone(&shared);
            let max_object = self.max_line_bytes.max(1 << 20) * 2;
            std::thread::Builder::new()
                .name("store-writer".into())
                .spawn(move || {
                    let _lock = lock;
                    write_batches(store, manifest, rx, &shared, max_object);
                })
                .map_err(|e| StoreError::io(&self.store, e))?
        };
        Ok(IngestStage {
            store,
            batches: [Batch::new(Table::Events), Batch::new(Table::Alerts), Batch::new(Table::Errors)],
            batch_rows: self.batch_rows.max(1),
            flush_interval: self.flush_interval,
            oldest: None,
            tx: Some(tx),
            writer: Some(writer),
            shared,
            duplicates_in_batch: 0,
        })
    }
}

impl IngestStage {
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Adds one record (a JSON object, `line` without its newline) to its batch.
    fn add(&mut self, line: &[u8], head: Head, mut fields: Fields<'_>) {
        let table = Table::for_source_type(head.source_type.as_deref());
        match head.guid {
            Some(Value::String(g)) if !g.is_empty() => {
                self.push(table, line, g, head.timestamp, head.source_type.as_deref(), &fields)
            }
            // A record without a guid gets one made from its bytes, so that ingesting
            // it again finds it again.
            _ => {
                let (line, guid) = with_content_guid(line);
                if !fields.iter().any(|(k, _)| k == fields::GUID) {
                    fields.push((fields::GUID.into(), Kinds { string: true, ..Kinds::default() }));
                }
                self.push(table, &line, guid, head.timestamp, head.source_type.as_deref(), &fields)
            }
        }
    }

    fn push(
        &mut self,
        table: Table,
        line: &[u8],
        guid: String,
        ts: Option<i64>,
        source: Option<&str>,
        fields: &Fields<'_>,
    ) {
        let idx = table as usize;
        let batch = &mut self.batches[idx];
        if !batch.guids.insert(guid.as_str().into()) {
            self.duplicates_in_batch += 1;
            return;
        }
        batch.note(source, fields);
        batch.bytes.extend_from_slice(line);
        batch.bytes.push(b'\n');
        batch.rows += 1;
        if batch.min_guid.as_deref().is_none_or(|m| guid.as_str() < m) {
            batch.min_guid = Some(guid.clone());
        }
        if batch.max_guid.as_deref().is_none_or(|m| guid.as_str() > m) {
            batch.max_guid = Some(guid);
        }
        if let Some(ts) = ts {
            batch.min_ts = Some(batch.min_ts.map_or(ts, |m| m.min(ts)));
            batch.max_ts = Some(batch.max_ts.map_or(ts, |m| m.max(ts)));
        }
        self.oldest.get_or_insert_with(Instant::now);
        if batch.rows as usize >= self.batch_rows || batch.bytes.len() >= MAX_BATCH_BYTES {
            let full = batch.take();
            self.send(full);
        }
    }

    fn send(&mut self, batch: Batch) {
        if batch.rows == 0 {
            return;
        }
        let batch = match &self.tx {
            Some(tx) => match tx.send(batch) {
                Ok(()) => return,
                Err(e) => e.0,
            },
            None => batch,
        };
        // The writer is gone (its error is in `fatal`): keep the batch for a rerun.
        let rows = batch.rows;
        let kept = keep_failed(&self.store, &batch);
        let mut shared = lock(&self.shared);
        shared.stats.failed += rows;
        if let Err(e) = kept {
            shared.messages.push(format!("could not keep a failed batch: {e}"));
        }
    }

    fn send_all(&mut self) {
        for i in 0..self.batches.len() {
            let b = self.batches[i].take();
            self.send(b);
        }
        self.oldest = None;
    }

    /// Sends every open batch and waits until the writer has committed them all (or
    /// kept them in `failed/`): what was handed over before is in the store after.
    /// `metron run` checkpoints its inputs' positions after this.
    pub fn sync(&mut self) -> Result<(), StoreError> {
        if self.tx.is_none() && self.writer.is_none() {
            // Finished: everything was committed then, or the failure is known.
            return match &lock(&self.shared).fatal {
                Some(message) => Err(StoreError::Invalid(message.clone())),
                None => Ok(()),
            };
        }
        self.send_all();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let mut marker = Batch::new(Table::Events);
        marker.sync = Some(done_tx);
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(marker).is_ok());
        if !sent || done_rx.recv().is_err() {
            let fatal = lock(&self.shared).fatal.clone();
            return Err(StoreError::Invalid(fatal.unwrap_or_else(|| "the store writer stopped".into())));
        }
        Ok(())
    }

    /// Messages from the writer since the last call (a batch kept in `failed/`).
    pub fn take_messages(&mut self) -> Vec<String> {
        std::mem::take(&mut lock(&self.shared).messages)
    }

    /// What was stored so far.
    pub fn stats(&self) -> IngestStats {
        let mut stats = lock(&self.shared).stats;
        stats.duplicates += self.duplicates_in_batch;
        stats
    }

    /// Waits for the writer to commit everything and merge small segments (the end of
    /// input does this too). An error means the store could not be written at all.
    pub fn finish(&mut self) -> Result<IngestStats, StoreError> {
        self.send_all();
        self.tx = None;
        if let Some(w) = self.writer.take() {
            if w.join().is_err() {
                lock(&self.shared).fatal = Some("the store writer stopped unexpectedly".into());
            }
        }
        let shared = lock(&self.shared);
        let mut stats = shared.stats;
        stats.duplicates += self.duplicates_in_batch;
        match &shared.fatal {
            Some(message) => Err(StoreError::Invalid(message.clone())),
            None => Ok(stats),
        }
    }
}

fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Stage for IngestStage {
    fn name(&self) -> &str {
        "store"
    }

    fn error_type(&self) -> ErrorType {
        ErrorType::StoreError
    }

    fn process(&mut self, event: Event, _out: &mut Vec<Event>) -> Result<(), StageError> {
        let line = serde_json::to_vec(&event)
            .map_err(|e| StageError::new(ErrorType::StoreError, e.to_string(), Some(event.clone())))?;
        match shape::read(&line) {
            Some((head, fields)) => {
                self.add(&line, head, fields);
                Ok(())
            }
            None => Err(StageError::new(ErrorType::StoreError, "not a JSON object", Some(event))),
        }
    }

    fn process_line(&mut self, line: &[u8], _out: &mut Vec<u8>) -> Option<u64> {
        match shape::read(line) {
            Some((head, fields)) => {
                self.add(line, head, fields);
                Some(1)
            }
            // Not a JSON object: the driver makes it an error record.
            None => None,
        }
    }

    fn tick(&mut self, _out: &mut Vec<Event>) -> Vec<String> {
        if self.oldest.is_some_and(|t| t.elapsed() >= self.flush_interval) {
            self.send_all();
        }
        std::mem::take(&mut lock(&self.shared).messages)
    }

    fn checkpoint(&mut self) -> std::io::Result<()> {
        self.sync().map_err(|e| std::io::Error::other(e.to_string()))
    }

    /// A checkpoint waits for segments to be written: every 5 s (full batches are
    /// written meanwhile, beside the reading).
    fn checkpoint_every(&self) -> std::time::Duration {
        Duration::from_secs(5)
    }

    fn flush(&mut self, _out: &mut Vec<Event>) {
        // Wait for the writer, so that the summary counts what is stored; `finish`
        // reports a failure.
        let _ = self.finish();
    }

    fn summary(&self) -> Option<String> {
        let shared = lock(&self.shared);
        let s = shared.stats;
        let t = crate::io::thousands;
        let mut line = format!(
            "stored {} events, {} alert records, {} error records in {} segments; {} duplicates left out",
            t(s.stored[0]),
            t(s.stored[1]),
            t(s.stored[2]),
            t(s.segments),
            t(s.duplicates + self.duplicates_in_batch)
        );
        if s.failed > 0 {
            line.push_str(&format!(
                "; {} records NOT stored (kept in {}/failed)",
                t(s.failed),
                self.store.dir().display()
            ));
        }
        Some(line)
    }
}

/// The line with a `guid` made from its content (a UUID v8 of its SHA-1), and that guid.
fn with_content_guid(line: &[u8]) -> (Vec<u8>, String) {
    use sha1::{Digest, Sha1};
    let digest = Sha1::digest(line);
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let guid = uuid::Uuid::from_bytes(b).hyphenated().to_string();
    let mut event = crate::event::event_from_json(line).unwrap_or_default();
    event.insert(fields::GUID.into(), guid.clone().into());
    (serde_json::to_vec(&event).unwrap_or_default(), guid)
}

/// Writes a batch that could not be stored to `failed/`, so that nothing is lost.
fn keep_failed(store: &Store, batch: &Batch) -> Result<PathBuf, StoreError> {
    let dir = store.dir().join("failed");
    fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
    let path = dir.join(format!("{}-{}.ndjson", batch.table.dir(), crate::event::new_guid()));
    fs::write(&path, &batch.bytes).map_err(|e| StoreError::io(&path, e))?;
    Ok(path)
}

/// The writer thread: one batch at a time, each committed before the next.
fn write_batches(store: Store, mut manifest: Manifest, rx: Receiver<Batch>, shared: &Mutex<Shared>, max_object: usize) {
    // The writer's DuckDB keeps no more than this (it held on to what each batch
    // needed, and grew with the input: 1.6 GB after 1,000,000 events without it).
    let conn = match connect().and_then(|c| {
        c.execute_batch("SET memory_limit = '1GB'")?;
        Ok(c)
    }) {
        Ok(c) => c,
        Err(e) => {
            lock(shared).fatal = Some(format!("cannot start DuckDB: {e}"));
            return;
        }
    };
    let mut writer = SegmentWriter { conn: &conn, store: &store, max_object };
    for batch in rx {
        if let Some(done) = &batch.sync {
            // Records were lost (neither stored nor kept in failed/): the sync fails,
            // so that no input position is committed past them.
            if lock(shared).fatal.is_none() {
                let _ = done.send(());
            }
            continue;
        }
        match writer.write(&mut manifest, &batch) {
            Ok(rows) => {
                let mut s = lock(shared);
                s.stats.stored[batch.table as usize] += rows;
                s.stats.duplicates += batch.rows - rows;
                s.stats.segments += u64::from(rows > 0);
            }
            Err(e) => {
                let kept = keep_failed(&store, &batch);
                let mut s = lock(shared);
                s.stats.failed += batch.rows;
                let where_ = match kept {
                    Ok(p) => format!("kept in {}", p.display()),
                    Err(k) => format!("and could not be kept: {k}"),
                };
                let message = format!("a batch of {} records was not stored ({e}); {where_}", batch.rows);
                if where_.starts_with("and could not") {
                    s.fatal.get_or_insert_with(|| message.clone());
                }
                s.messages.push(message);
            }
        }
    }
    match compact_tables(&conn, &store, &mut manifest) {
        Ok(n) => lock(shared).stats.compacted += n,
        Err(e) => lock(shared).messages.push(format!("compaction did not run: {e}")),
    }
    // The segments compaction replaced go now if no reader can have them open.
    if let Err(e) = manifest.collect_garbage(&store, now_ms()) {
        lock(shared).messages.push(format!("replaced segments were not deleted: {e}"));
    }
}

/// Writes one segment with a connection of its own.
pub(crate) struct SegmentWriter<'a> {
    pub conn: &'a duckdb::Connection,
    pub store: &'a Store,
    pub max_object: usize,
}

impl SegmentWriter<'_> {
    /// Writes `batch` as a segment and commits it; the rows stored (0 when all were
    /// already there, and then no segment is made).
    fn write(&mut self, manifest: &mut Manifest, batch: &Batch) -> Result<u64, StoreError> {
        let tmp = self.store.tmp_dir();
        let input = tmp.join(format!("batch-{}.ndjson", manifest.next_segment + 1));
        fs::write(&input, &batch.bytes).map_err(|e| StoreError::io(&input, e))?;
        let result = self.write_from(manifest, batch, &input);
        let _ = fs::remove_file(&input);
        result
    }

    fn write_from(&mut self, manifest: &mut Manifest, batch: &Batch, input: &Path) -> Result<u64, StoreError> {
        let file = manifest.new_file(batch.table);
        let staged = self.store.tmp_dir().join(format!("seg-{}.parquet", manifest.next_segment));
        let shape = batch.shape();
        let columns: Vec<(String, String)> =
            shape.fields.iter().map(|(n, k)| (n.clone(), k.sql_type().to_owned())).collect();
        // DuckDB is told the columns; when it cannot take them (names that differ only
        // in case, a value its type refuses), each record is kept whole as JSON
        // beside the standard fields.
        let direct = match shape.case_clash() {
            None => {
                let spec: Vec<String> = columns.iter().map(|(n, t)| format!("{}: '{t}'", sql_str(n))).collect();
                let from = format!(
                    "read_json({}, format = 'newline_delimited', columns = {{{}}}, maximum_object_size = {}) b",
                    sql_str(&input.to_string_lossy()),
                    spec.join(", "),
                    self.max_object
                );
                self.copy(batch, manifest, &select_list(batch.table, &columns), &from, &staged)
            }
            Some(_) => Err(StoreError::Invalid("field names differ only in case".into())),
        };
        let rows = match direct {
            Ok(rows) => rows,
            Err(_) => {
                let columns = self.load_as_json(input, batch.table)?;
                let rows = self.copy(batch, manifest, &select_list(batch.table, &columns), "b", &staged);
                self.conn.execute_batch("DROP TABLE IF EXISTS b")?;
                rows?
            }
        };
        if rows == 0 {
            let _ = fs::remove_file(&staged);
            return Ok(0);
        }
        let (lo, hi) = (batch.min_guid.as_deref().unwrap_or(""), batch.max_guid.as_deref().unwrap_or(""));
        let mut segment = Segment {
            file,
            rows,
            bytes: 0,
            min_ts: batch.min_ts,
            max_ts: batch.max_ts,
            min_guid: lo.to_owned(),
            max_guid: hi.to_owned(),
        };
        if rows != batch.rows {
            // Some rows were left out: take the ranges from what was written.
            self.measure(&staged, &mut segment)?;
        }
        if batch.table == Table::Events {
            for (source, shape) in &batch.shapes {
                manifest.note_source(source, shape);
            }
        }
        self.commit(manifest, batch.table, &staged, segment)?;
        Ok(rows)
    }

    /// Writes `SELECT select FROM from` to `staged`, leaving out guids that live
    /// segments already hold; the rows written.
    fn copy(
        &self,
        batch: &Batch,
        manifest: &Manifest,
        select: &str,
        from: &str,
        staged: &Path,
    ) -> Result<u64, StoreError> {
        let (lo, hi) = (batch.min_guid.as_deref().unwrap_or(""), batch.max_guid.as_deref().unwrap_or(""));
        let overlapping: Vec<String> = manifest
            .segments(batch.table)
            .iter()
            .filter(|s| s.min_guid.as_str() <= hi && s.max_guid.as_str() >= lo)
            .map(|s| self.store.dir().join(&s.file).to_string_lossy().into_owned())
            .collect();
        let anti = if overlapping.is_empty() {
            String::new()
        } else {
            let files: Vec<String> = overlapping.iter().map(|f| sql_str(f)).collect();
            format!(
                " WHERE CAST(b.guid AS VARCHAR) NOT IN (SELECT guid FROM read_parquet([{}]) \
                 WHERE guid BETWEEN {} AND {} AND guid IS NOT NULL)",
                files.join(", "),
                sql_str(lo),
                sql_str(hi)
            )
        };
        let rows = self.conn.execute(
            &format!(
                "COPY (SELECT {select} FROM {from}{anti}) TO {} \
                 ({PARQUET})",
                sql_str(&staged.to_string_lossy())
            ),
            [],
        )? as u64;
        Ok(rows)
    }

    fn load_as_json(&self, input: &Path, table: Table) -> Result<Vec<(String, String)>, StoreError> {
        let mut select = Vec::new();
        for (name, ty) in table.standard_columns() {
            let path = sql_str(&format!("$.{}", sql_ident(name)));
            let value = if ty.ends_with("[]") {
                format!("TRY_CAST(json_extract(json, {path}) AS {ty})")
            } else {
                format!("TRY_CAST(json_extract_string(json, {path}) AS {ty})")
            };
            select.push(format!("{value} AS {}", sql_ident(name)));
        }
        self.conn.execute_batch(&format!(
            "CREATE OR REPLACE TEMP TABLE b AS SELECT {}, json AS event FROM read_json_objects({}, \
             format = 'newline_delimited', maximum_object_size = {})",
            select.join(", "),
            sql_str(&input.to_string_lossy()),
            self.max_object
        ))?;
        self.columns("b")
    }

    fn columns(&self, table: &str) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self.conn.prepare(&format!("SELECT column_name, column_type FROM (DESCRIBE {table})"))?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Rows, guid and time ranges of a written file.
    fn measure(&self, file: &Path, segment: &mut Segment) -> Result<(), StoreError> {
        let (min_guid, max_guid, min_ts, max_ts) = self.conn.query_row(
            &format!(
                "SELECT min(guid), max(guid), min(timestamp), max(timestamp) FROM read_parquet({})",
                sql_str(&file.to_string_lossy())
            ),
            [],
            |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            },
        )?;
        segment.min_guid = min_guid.unwrap_or_default();
        segment.max_guid = max_guid.unwrap_or_default();
        segment.min_ts = min_ts;
        segment.max_ts = max_ts;
        Ok(())
    }

    /// Makes `staged` durable, renames it into place and names it in the manifest.
    pub(crate) fn commit(
        &self,
        manifest: &mut Manifest,
        table: Table,
        staged: &Path,
        mut segment: Segment,
    ) -> Result<(), StoreError> {
        let f = fs::File::open(staged).map_err(|e| StoreError::io(staged, e))?;
        f.sync_all().map_err(|e| StoreError::io(staged, e))?;
        segment.bytes = f.metadata().map_err(|e| StoreError::io(staged, e))?.len();
        drop(f);
        let dest = self.store.dir().join(&segment.file);
        fs::rename(staged, &dest).map_err(|e| StoreError::io(&dest, e))?;
        sync_dir(&dest)?;
        manifest.segments_mut(table).push(segment);
        manifest.save(self.store)
    }
}

/// The columns written for a table: its standard fields with their types first (a
/// value that does not fit the type becomes NULL there), then every other field as
/// DuckDB read it.
fn select_list(table: Table, columns: &[(String, String)]) -> String {
    let standard = table.standard_columns();
    let mut out = Vec::with_capacity(columns.len() + standard.len());
    for (name, ty) in standard {
        let found = columns.iter().find(|(c, _)| c.eq_ignore_ascii_case(name));
        out.push(match found {
            Some((c, have)) if have == ty => format!("b.{} AS {}", sql_ident(c), sql_ident(name)),
            Some((c, _)) => format!("TRY_CAST(b.{} AS {ty}) AS {}", sql_ident(c), sql_ident(name)),
            None => format!("CAST(NULL AS {ty}) AS {}", sql_ident(name)),
        });
    }
    for (c, _) in columns {
        if !standard.iter().any(|(s, _)| s.eq_ignore_ascii_case(c)) {
            out.push(format!("b.{}", sql_ident(c)));
        }
    }
    out.join(", ")
}

/// Merges small segments of each table; the number of segments merged away.
pub(crate) fn compact_tables(
    conn: &duckdb::Connection,
    store: &Store,
    manifest: &mut Manifest,
) -> Result<u64, StoreError> {
    let mut merged = 0;
    for table in Table::ALL {
        let small: Vec<Segment> =
            manifest.segments(table).iter().filter(|s| s.rows < COMPACT_TARGET_ROWS / 2).cloned().collect();
        if small.len() < COMPACT_AT {
            continue;
        }
        let mut groups: Vec<Vec<Segment>> = vec![Vec::new()];
        let mut rows: u64 = 0;
        for s in small {
            if rows.saturating_add(s.rows) > COMPACT_TARGET_ROWS && !groups.last().is_none_or(Vec::is_empty) {
                groups.push(Vec::new());
                rows = 0;
            }
            rows = rows.saturating_add(s.rows);
            if let Some(g) = groups.last_mut() {
                g.push(s);
            }
        }
        for group in groups.into_iter().filter(|g| g.len() > 1) {
            merged += merge(conn, store, manifest, table, &group)?;
        }
    }
    Ok(merged)
}

/// Writes `group` as one segment, commits it and retires the old ones.
fn merge(
    conn: &duckdb::Connection,
    store: &Store,
    manifest: &mut Manifest,
    table: Table,
    group: &[Segment],
) -> Result<u64, StoreError> {
    let files: Vec<String> = group.iter().map(|s| sql_str(&store.dir().join(&s.file).to_string_lossy())).collect();
    let file = manifest.new_file(table);
    let staged = store.tmp_dir().join(format!("seg-{}.parquet", manifest.next_segment));
    let rows = conn.execute(
        &format!(
            "COPY (SELECT * FROM read_parquet([{}], union_by_name = true)) TO {} \
             ({PARQUET})",
            files.join(", "),
            sql_str(&staged.to_string_lossy())
        ),
        [],
    )? as u64;
    let expected: u64 = group.iter().map(|s| s.rows).sum();
    if rows != expected {
        let _ = fs::remove_file(&staged);
        return Err(StoreError::Invalid(format!("compaction wrote {rows} rows of {expected}; nothing changed")));
    }
    let segment = Segment {
        file,
        rows,
        bytes: 0,
        min_ts: group.iter().filter_map(|s| s.min_ts).min(),
        max_ts: group.iter().filter_map(|s| s.max_ts).max(),
        min_guid: group.iter().map(|s| s.min_guid.clone()).min().unwrap_or_default(),
        max_guid: group.iter().map(|s| s.max_guid.clone()).max().unwrap_or_default(),
    };
    let now = now_ms();
    let old: HashSet<&str> = group.iter().map(|s| s.file.as_str()).collect();
    manifest.segments_mut(table).retain(|s| !old.contains(s.file.as_str()));
    for s in group {
        manifest.retire(s.file.clone(), now);
    }
    let writer = SegmentWriter { conn, store, max_object: 0 };
    writer.commit(manifest, table, &staged, segment)?;
    Ok(group.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_columns_come_first_and_are_cast() {
        let cols = vec![
            ("ip_src_port".to_owned(), "BIGINT".to_owned()),
            ("uid".to_owned(), "VARCHAR".to_owned()),
            ("guid".to_owned(), "VARCHAR".to_owned()),
        ];
        let s = select_list(Table::Events, &cols);
        assert!(s.starts_with("b.\"guid\" AS \"guid\", CAST(NULL AS BIGINT) AS \"timestamp\""), "{s}");
        assert!(s.contains("TRY_CAST(b.\"ip_src_port\" AS INTEGER) AS \"ip_src_port\""), "{s}");
        assert!(s.ends_with("b.\"uid\""), "{s}");
    }

    #[test]
    fn content_guids_are_stable_uuids() {
        let (line, g) = with_content_guid(br#"{"a":1}"#);
        let (_, again) = with_content_guid(br#"{"a":1}"#);
        assert_eq!(g, again);
        assert_eq!(uuid::Uuid::parse_str(&g).unwrap().get_version_num(), 8);
        let e = crate::event::event_from_json(&line).unwrap();
        assert_eq!(e["guid"], g.as_str());
        assert_ne!(with_content_guid(br#"{"a":2}"#).1, g);
    }
}
