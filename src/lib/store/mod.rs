//! The store: a directory of immutable zstd Parquet segments, a manifest naming the
//! live ones, and an append-only triage log, queried through DuckDB views.
//!
//! Why this shape (docs/store-design.md has the measurements): DuckDB lets one
//! process write a database file and nobody else open it meanwhile, but any number
//! of processes can read Parquet files. So `store ingest` writes each batch as a new
//! segment (written beside, fsynced, renamed into place, then named in a new
//! manifest that replaces the old one by rename), triage actions are appended as
//! lines under a file lock, and every reader (`store query`, `hunt`) builds views
//! over the segments the manifest names when it starts a query. A reader never
//! waits for the writer and never sees half a batch.
//!
//! ```text
//! metron-store/            (0700)
//!   MANIFEST.json          the live segments, replaced atomically
//!   events/ alerts/ errors/  seg-00000001.parquet ...
//!   triage.ndjson          append-only triage history
//!   searches.ndjson        saved and recent hunt searches
//!   writer.lock            held by the one process writing segments
//!   tmp/                   batches being written
//! ```

mod ingest;
mod maintain;
mod manifest;
mod read;
pub(crate) mod shape;
mod triage;

pub use duckdb::types::Value as SqlValue;
pub use ingest::DEFAULT_BATCH_ROWS;
pub use ingest::{IngestSettings, IngestStage, IngestStats};
pub use maintain::{compact, export, prune, stats, CompactStats, ExportFilter, ExportStats, PruneStats, StoreStats};
pub use manifest::{Manifest, Segment, TRASH_GRACE_MS};
pub use read::{
    cell_text, check_statement, clip, format_rows, source_view_name, source_views, OutputFormat, QueryError,
    QueryResult, Reader, RowWriter, SourceView, VIEWS,
};
pub use triage::{append_search, current_user, record, Status, TriageAction, STATUSES};

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Where a store is when nobody says: `./metron-store`.
pub const DEFAULT_DIR: &str = "metron-store";

/// The three kinds of records, each in its own set of segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    Events,
    Alerts,
    Errors,
}

impl Table {
    pub const ALL: [Table; 3] = [Table::Events, Table::Alerts, Table::Errors];

    /// The folder of its segments, and the name of its raw view.
    pub fn dir(self) -> &'static str {
        match self {
            Table::Events => "events",
            Table::Alerts => "alerts",
            Table::Errors => "errors",
        }
    }

    /// Which table a record goes to, by its `source.type`.
    pub fn for_source_type(source_type: Option<&str>) -> Table {
        match source_type {
            Some("alert") => Table::Alerts,
            Some("error") => Table::Errors,
            _ => Table::Events,
        }
    }

    /// The standard fields every segment of this table has, with their SQL types, so
    /// that queries on them never fail and types agree across segments.
    pub fn standard_columns(self) -> &'static [(&'static str, &'static str)] {
        const COMMON: [(&str, &str); 3] = [("guid", "VARCHAR"), ("timestamp", "BIGINT"), ("source.type", "VARCHAR")];
        const EVENTS: &[(&str, &str)] = &[
            COMMON[0],
            COMMON[1],
            COMMON[2],
            ("ip_src_addr", "VARCHAR"),
            ("ip_src_port", "INTEGER"),
            ("ip_dst_addr", "VARCHAR"),
            ("ip_dst_port", "INTEGER"),
            ("protocol", "VARCHAR"),
            ("community_id", "VARCHAR"),
            ("is_alert", "BOOLEAN"),
            ("threat.triage.score", "DOUBLE"),
            ("alerts", "VARCHAR[]"),
        ];
        const ALERTS: &[(&str, &str)] = &[
            COMMON[0],
            COMMON[1],
            COMMON[2],
            ("alert_id", "VARCHAR"),
            ("count", "BIGINT"),
            ("description", "VARCHAR"),
            ("priority", "VARCHAR"),
            ("designated_host", "VARCHAR"),
            ("rule", "VARCHAR"),
            ("rule.name", "VARCHAR"),
            ("event_guid", "VARCHAR"),
            ("ip_src_addr", "VARCHAR"),
            ("ip_dst_addr", "VARCHAR"),
            ("threat.triage.score", "DOUBLE"),
            ("first_timestamp", "BIGINT"),
            ("last_timestamp", "BIGINT"),
        ];
        const ERRORS: &[(&str, &str)] = &[
            COMMON[0],
            COMMON[1],
            COMMON[2],
            ("error_type", "VARCHAR"),
            ("failed_sensor_type", "VARCHAR"),
            ("message", "VARCHAR"),
            ("raw_message", "VARCHAR"),
            ("error_hash", "VARCHAR"),
        ];
        match self {
            Table::Events => EVENTS,
            Table::Alerts => ALERTS,
            Table::Errors => ERRORS,
        }
    }
}

/// A problem with the store itself (not with one record).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    /// DuckDB's message already says everything its error chain would repeat.
    #[error("{0}")]
    Db(duckdb::Error),
    #[error("{0}")]
    Invalid(String),
    #[error(
        "{0}: another metron process is writing to this store (store ingest, compact or prune); \
         one writer at a time"
    )]
    Busy(PathBuf),
}

impl From<duckdb::Error> for StoreError {
    fn from(e: duckdb::Error) -> StoreError {
        StoreError::Db(e)
    }
}

impl StoreError {
    pub(crate) fn io(path: &Path, source: io::Error) -> StoreError {
        StoreError::Io { path: path.to_owned(), source }
    }
}

/// A store directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store at `dir` for writing, created (readable by its owner only) if it does
    /// not exist, with the writer lock taken (held until the returned file is
    /// dropped). A new store's empty manifest is written under the lock, so that two
    /// writers starting at once cannot have one's empty manifest replace the other's.
    pub fn create(dir: &Path) -> Result<(Store, fs::File), StoreError> {
        if !dir.exists() {
            let mut b = fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                b.mode(0o700);
            }
            b.create(dir).map_err(|e| StoreError::io(dir, e))?;
        }
        let store = Store { dir: dir.to_owned() };
        for t in Table::ALL {
            let d = store.dir.join(t.dir());
            fs::create_dir_all(&d).map_err(|e| StoreError::io(&d, e))?;
        }
        let tmp = store.tmp_dir();
        fs::create_dir_all(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
        store.check_layout()?;
        let lock = store.lock_writer()?;
        for log in [store.triage_path(), store.searches_path()] {
            if !log.exists() {
                fs::File::create(&log).map_err(|e| StoreError::io(&log, e))?;
            }
        }
        if !store.manifest_path().exists() {
            Manifest::default().save(&store)?;
        }
        Ok((store, lock))
    }

    /// A store copied off another machine is not trusted: the folders metron writes
    /// and deletes in must be folders of this store, not links to somewhere else.
    fn check_layout(&self) -> Result<(), StoreError> {
        let dirs = Table::ALL.iter().map(|t| self.dir.join(t.dir())).chain([self.tmp_dir()]);
        for d in dirs {
            match fs::symlink_metadata(&d) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(StoreError::Invalid(format!(
                    "{}: is a symbolic link; a store's folders must be its own (refusing to read or delete through it)",
                    d.display()
                )))
                }
                Ok(m) if !m.is_dir() => {
                    return Err(StoreError::Invalid(format!(
                        "{}: not a folder, so this is not a metron store",
                        d.display()
                    )))
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// An existing store; a clear error when `dir` is not one.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let store = Store { dir: dir.to_owned() };
        if !store.manifest_path().is_file() {
            return Err(StoreError::Invalid(format!(
                "{}: no store here (no MANIFEST.json); `metron store ingest --store {}` makes one",
                dir.display(),
                dir.display()
            )));
        }
        store.check_layout()?;
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn manifest_path(&self) -> PathBuf {
        self.dir.join("MANIFEST.json")
    }

    pub fn triage_path(&self) -> PathBuf {
        self.dir.join("triage.ndjson")
    }

    pub fn searches_path(&self) -> PathBuf {
        self.dir.join("searches.ndjson")
    }

    pub(crate) fn tmp_dir(&self) -> PathBuf {
        self.dir.join("tmp")
    }

    /// Takes the writer lock (without waiting): segments are written by one process
    /// at a time. Held until the returned file is dropped.
    pub(crate) fn lock_writer(&self) -> Result<fs::File, StoreError> {
        let path = self.dir.join("writer.lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| StoreError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(fs::TryLockError::WouldBlock) => Err(StoreError::Busy(self.dir.clone())),
            Err(fs::TryLockError::Error(e)) => Err(StoreError::io(&path, e)),
        }
    }
}

impl Store {
    /// Marks this process as a reader (a shared lock on `readers.lock`, held until
    /// the file is dropped), so that a writer knows whether segments it replaced
    /// may still be open. `None` when the lock cannot be had (a read-only store):
    /// the writer's grace period then covers the reader.
    pub(crate) fn lock_reader(&self) -> Option<fs::File> {
        let file =
            fs::OpenOptions::new().create(true).truncate(false).write(true).open(self.dir.join("readers.lock")).ok()?;
        // Blocks only while a writer deletes replaced segments.
        file.lock_shared().ok()?;
        Some(file)
    }

    /// An exclusive lock on `readers.lock` when no reader holds it: replaced segments
    /// can go at once. Readers opening meanwhile wait for it to be dropped, and then
    /// read a manifest that no longer names those segments.
    pub(crate) fn lock_no_readers(&self) -> Option<fs::File> {
        let file =
            fs::OpenOptions::new().create(true).truncate(false).write(true).open(self.dir.join("readers.lock")).ok()?;
        file.try_lock().ok()?;
        Some(file)
    }
}

/// A DuckDB connection that never reaches the network: extensions are neither
/// installed nor loaded on demand (JSON and Parquet are built in).
pub fn connect() -> Result<duckdb::Connection, StoreError> {
    let config =
        duckdb::Config::default().enable_autoload_extension(false)?.with("autoinstall_known_extensions", "false")?;
    let conn = duckdb::Connection::open_in_memory_with_flags(config)?;
    // DuckDB keeps what it read from files in memory for later reads; an ingest reads
    // each batch once, and the cache grew with the input.
    conn.execute_batch("SET enable_external_file_cache = false")?;
    Ok(conn)
}

/// How every segment is written: zstd (level 1 compressed these events smaller than
/// the default level, and faster), row groups of DuckDB's vector-aligned size.
pub(crate) const PARQUET: &str = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE 122880";

/// `text` as an SQL string literal.
pub(crate) fn sql_str(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `name` as an SQL identifier (field names have dots: `"source.type"`).
pub(crate) fn sql_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Writes `bytes` to `path` so that it is either wholly there or not at all: a file
/// beside it, fsynced, renamed over, and the directory fsynced.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut f = fs::File::create(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| StoreError::io(&tmp, e))?;
    f.sync_all().map_err(|e| StoreError::io(&tmp, e))?;
    drop(f);
    fs::rename(&tmp, path).map_err(|e| StoreError::io(path, e))?;
    sync_dir(path)
}

/// Makes a rename in `path`'s directory durable.
pub(crate) fn sync_dir(path: &Path) -> Result<(), StoreError> {
    if let Some(parent) = path.parent() {
        let dir = fs::File::open(parent).map_err(|e| StoreError::io(parent, e))?;
        dir.sync_all().map_err(|e| StoreError::io(parent, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_routed_by_source_type() {
        assert_eq!(Table::for_source_type(Some("alert")), Table::Alerts);
        assert_eq!(Table::for_source_type(Some("error")), Table::Errors);
        assert_eq!(Table::for_source_type(Some("zeek.conn")), Table::Events);
        assert_eq!(Table::for_source_type(None), Table::Events);
    }

    #[test]
    fn sql_quoting_doubles_quotes() {
        assert_eq!(sql_str("it's"), "'it''s'");
        assert_eq!(sql_ident("a\"b.c"), "\"a\"\"b.c\"");
    }

    #[cfg(unix)]
    #[test]
    fn a_new_store_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("s");
        drop(Store::create(&dir).unwrap());
        let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        assert!(Store::open(&dir).is_ok());
        assert!(Store::open(tmp.path()).is_err());
    }

    #[test]
    fn a_new_store_gets_its_manifest_under_the_writer_lock() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("s");
        let (store, lock) = Store::create(&dir).unwrap();
        // Another writer starting now is refused before it writes anything.
        std::fs::remove_file(store.manifest_path()).unwrap();
        assert!(matches!(Store::create(&dir), Err(StoreError::Busy(_))));
        assert!(!store.manifest_path().exists(), "a refused writer wrote a manifest");
        drop(lock);
        assert!(Store::create(&dir).is_ok());
        assert!(store.manifest_path().exists());
    }

    #[test]
    fn only_one_writer_at_a_time() {
        let tmp = tempfile::tempdir().unwrap();
        let (store, held) = Store::create(tmp.path()).unwrap();
        assert!(matches!(store.lock_writer(), Err(StoreError::Busy(_))));
        drop(held);
        assert!(store.lock_writer().is_ok());
    }
}
