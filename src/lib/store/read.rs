//! Reading the store: an in-memory DuckDB whose views name the live segments, and
//! read-only SQL over them with table, NDJSON or CSV output.
//!
//! Views (the documented tables):
//! - `events`: every event; standard fields typed, every other field a column (a
//!   field whose type differs between sources is text here).
//! - one view per source type (`zeek_conn` for `zeek.conn`, see
//!   [`source_view_name`]): its events, the standard fields and then that source's
//!   own fields, each in the type that source writes.
//! - `alert_records`: alert records as written (first records and de-dup updates).
//! - `alerts`: one row per `alert_id` (its latest record, so the highest `count`),
//!   with `status` (NEW when never triaged), `assignee`, `meta_alert`, `comments`,
//!   `triaged_at`.
//! - `errors`: error records.
//! - `triage`: every triage action (`timestamp` is when, epoch ms).
//! - `searches`: saved and recent hunt searches.

use super::manifest::Manifest;
use super::{connect, sql_ident, sql_str, Store, StoreError, Table};
use duckdb::types::ValueRef;
use serde_json::Value;
use std::io::{self, Write};

/// Columns of the triage log.
pub(crate) const TRIAGE_COLUMNS: &str = "{action_id: 'VARCHAR', alert_id: 'VARCHAR', status: 'VARCHAR', \
     comment: 'VARCHAR', assignee: 'VARCHAR', meta_alert: 'VARCHAR', who: 'VARCHAR', \"timestamp\": 'BIGINT'}";
const SEARCH_COLUMNS: &str =
    "{name: 'VARCHAR', query: 'VARCHAR', kind: 'VARCHAR', who: 'VARCHAR', \"timestamp\": 'BIGINT'}";

/// A read connection over one store.
pub struct Reader {
    conn: duckdb::Connection,
    store: Store,
    manifest: Manifest,
    /// More stores read as one with the first (shards written by several ingests):
    /// their segments and triage join the views; triage actions and saved searches
    /// stay with the first.
    also: Vec<(Store, Manifest)>,
    /// Held while this reader lives: writers keep the segments they replace.
    _readers_locks: Vec<std::fs::File>,
    /// Segments DuckDB cannot read (path -> why), left out of the views so that the
    /// rest of the store stays readable. Segments never change, so this is kept.
    damaged: std::collections::BTreeMap<String, String>,
    /// The manifest files as they were when the views were made (length, modified,
    /// inode: a writer replaces them by rename).
    seen: Vec<Option<(u64, std::time::SystemTime, u64)>>,
}

impl Reader {
    /// A reader over `store`: views over its live segments, on a DuckDB that can read
    /// nothing but the store's own files (see [`Reader::lock_down`]).
    pub fn open(store: &Store) -> Result<Reader, StoreError> {
        Reader::open_allowing(store, None)
    }

    /// A reader that may also write under `dir` (`store export`).
    pub fn open_for_export(store: &Store, dir: &std::path::Path) -> Result<Reader, StoreError> {
        Reader::open_allowing(store, Some(dir))
    }

    /// A reader over several stores as one (`store query --store A --store B`): each
    /// view is the union of the stores' views.
    pub fn open_many(stores: &[Store]) -> Result<Reader, StoreError> {
        let (first, rest) = stores.split_first().ok_or_else(|| StoreError::Invalid("no store to read".into()))?;
        Reader::open_with(first, rest, None)
    }

    fn open_allowing(store: &Store, also: Option<&std::path::Path>) -> Result<Reader, StoreError> {
        Reader::open_with(store, &[], also)
    }

    fn open_with(store: &Store, more: &[Store], writable: Option<&std::path::Path>) -> Result<Reader, StoreError> {
        let locks = std::iter::once(store).chain(more).filter_map(Store::lock_reader).collect();
        // Views name segments by absolute path, as the allowed directories are.
        let store = Store { dir: absolute(store.dir())? };
        // A store named twice (two paths to one folder) is read once.
        let mut seen = vec![std::fs::canonicalize(store.dir()).unwrap_or_else(|_| store.dir().to_owned())];
        let mut also = Vec::with_capacity(more.len());
        for m in more {
            let real = std::fs::canonicalize(m.dir()).unwrap_or_else(|_| m.dir().to_owned());
            if seen.contains(&real) {
                continue;
            }
            seen.push(real);
            also.push((Store { dir: absolute(m.dir())? }, Manifest::default()));
        }
        let mut r = Reader {
            conn: connect()?,
            store,
            manifest: Manifest::default(),
            also,
            _readers_locks: locks,
            damaged: Default::default(),
            seen: Vec::new(),
        };
        r.lock_down(writable)?;
        r.refresh()?;
        Ok(r)
    }

    /// Every store read, the first first, with its manifest.
    fn parts(&self) -> impl Iterator<Item = (&Store, &Manifest)> {
        std::iter::once((&self.store, &self.manifest)).chain(self.also.iter().map(|(s, m)| (s, m)))
    }

    /// Queries come from the user (`store query`, `hunt --query`) and stores from
    /// anywhere, so the connection is held to the store: files outside the store's
    /// folder (and `also`) cannot be read or written, no extension can be installed
    /// or loaded, and the configuration is locked so that no query can undo this.
    fn lock_down(&self, also: Option<&std::path::Path>) -> Result<(), StoreError> {
        let mut dirs: Vec<std::path::PathBuf> = self.parts().map(|(s, _)| s.dir().to_owned()).collect();
        if let Some(d) = also {
            dirs.push(absolute(d)?);
        }
        let list: Vec<String> = dirs.iter().map(|d| sql_str(&format!("{}/", d.to_string_lossy()))).collect();
        // The folders themselves too (an export checks and makes its folder).
        let paths: Vec<String> = dirs.iter().map(|d| sql_str(&d.to_string_lossy())).collect();
        self.conn.execute_batch(&format!(
            "SET allowed_directories = [{}];\n\
             SET allowed_paths = [{}];\n\
             SET enable_external_access = false;\n\
             SET autoinstall_known_extensions = false;\n\
             SET autoload_known_extensions = false;\n\
             SET lock_configuration = true;",
            list.join(", "),
            paths.join(", ")
        ))?;
        Ok(())
    }

    /// Re-reads the manifest and points the views at the segments live now. A segment
    /// DuckDB cannot open is left out and named by [`Reader::damaged`].
    pub fn refresh(&mut self) -> Result<(), StoreError> {
        self.seen = self.manifest_stamps();
        self.manifest = Manifest::load(&self.store)?;
        for (store, manifest) in &mut self.also {
            *manifest = Manifest::load(store)?;
        }
        if self.create_views().is_ok() {
            return Ok(());
        }
        // Find the segments that cannot be read, one by one, and try without them.
        let mut found = Vec::new();
        for (store, manifest) in self.parts() {
            for table in Table::ALL {
                for seg in manifest.segments(table) {
                    let path = segment_path(store, seg);
                    if self.damaged.contains_key(&path) {
                        continue;
                    }
                    let sql = format!("DESCRIBE SELECT * FROM read_parquet({})", sql_str(&path));
                    if let Err(e) = self.conn.execute_batch(&sql) {
                        found.push((path, e.to_string().lines().next().unwrap_or("").to_owned()));
                    }
                }
            }
        }
        self.damaged.extend(found);
        self.create_views()
    }

    /// [`Reader::refresh`] when the manifest changed since the views were made (a
    /// writer committed, compacted or pruned); a cheap `stat` otherwise. A long-lived
    /// reader calls it before each query, so that it sees new data and never lists
    /// segments that compaction replaced.
    pub fn refresh_if_changed(&mut self) -> Result<bool, StoreError> {
        if !self.seen.is_empty() && self.manifest_stamps() == self.seen {
            return Ok(false);
        }
        self.refresh()?;
        Ok(true)
    }

    fn manifest_stamps(&self) -> Vec<Option<(u64, std::time::SystemTime, u64)>> {
        self.parts().map(|(s, _)| manifest_stamp(s)).collect()
    }

    /// Segments left out of the views because DuckDB cannot read them: file (in the
    /// first store, relative to it; in others, the whole path), and why.
    pub fn damaged(&self) -> impl Iterator<Item = (&str, &str)> {
        let live: std::collections::HashSet<String> = self
            .parts()
            .flat_map(|(store, m)| {
                Table::ALL.iter().flat_map(move |t| m.segments(*t)).map(move |s| segment_path(store, s))
            })
            .collect();
        let home = format!("{}/", self.store.dir().to_string_lossy());
        self.damaged
            .iter()
            .filter(move |(f, _)| live.contains(f.as_str()))
            .map(move |(f, w)| (f.strip_prefix(home.as_str()).unwrap_or(f), w.as_str()))
    }

    fn create_views(&self) -> Result<(), StoreError> {
        let mut sql = String::new();
        for (table, view) in [(Table::Events, "events"), (Table::Alerts, "alert_records"), (Table::Errors, "errors")] {
            sql.push_str(&format!("CREATE OR REPLACE VIEW {view} AS {};\n", self.segments_select(table)));
        }
        let triage: Vec<String> =
            self.parts().map(|(s, _)| format!("({})", log_select(&s.triage_path(), TRIAGE_COLUMNS))).collect();
        sql.push_str(&format!("CREATE OR REPLACE VIEW triage AS {};\n", triage.join(" UNION ALL ")));
        sql.push_str(&format!(
            "CREATE OR REPLACE VIEW searches AS {};\n",
            log_select(&self.store.searches_path(), SEARCH_COLUMNS)
        ));
        sql.push_str(ALERTS_VIEW);
        self.conn.execute_batch(&sql)?;
        self.create_source_views()
    }

    /// One view per source type of the events (see [`source_views`]), each with that
    /// source's fields in its own types: a field another source writes as text stays
    /// a number in the view of a source that writes numbers. A view DuckDB refuses is
    /// left out (its events are still in `events`).
    fn create_source_views(&self) -> Result<(), StoreError> {
        let sources = self.sources();
        if sources.sources.is_empty() {
            return Ok(());
        }
        let mut stmt = self.conn.prepare("SELECT column_name, column_type FROM (DESCRIBE events)")?;
        let have: Vec<(String, String)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        // Batches whose field names differ only in case are stored whole as JSON in
        // `event` (see ingest): their fields are read from there.
        let whole = have.iter().any(|(n, t)| n == "event" && t == "JSON");
        for view in source_views(&sources) {
            let sql = source_view_sql(&view, &have, whole);
            let _ = self.conn.execute_batch(&sql);
        }
        Ok(())
    }

    /// The source types of every store read, each field in the type that holds its
    /// values in all of them.
    fn sources(&self) -> Manifest {
        if self.also.is_empty() {
            return self.manifest.clone();
        }
        let mut all = Manifest::default();
        for (_, m) in self.parts() {
            for (source, fields) in &m.sources {
                let have = all.sources.entry(source.clone()).or_default();
                for (field, ty) in fields {
                    match have.get_mut(field) {
                        Some(t) => *t = super::shape::widen(t, ty).to_owned(),
                        None => {
                            have.insert(field.clone(), ty.clone());
                        }
                    }
                }
            }
        }
        all
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The connection, for callers that prepare their own statements.
    pub fn connection(&self) -> &duckdb::Connection {
        &self.conn
    }

    fn segments_select(&self, table: Table) -> String {
        let files: Vec<String> = self
            .parts()
            .flat_map(|(store, m)| m.segments(table).iter().map(move |s| segment_path(store, s)))
            .filter(|p| !self.damaged.contains_key(p))
            .map(|p| sql_str(&p))
            .collect();
        if files.is_empty() {
            let cols: Vec<String> = table
                .standard_columns()
                .iter()
                .map(|(n, t)| format!("CAST(NULL AS {t}) AS {}", sql_ident(n)))
                .collect();
            return format!("SELECT {} WHERE false", cols.join(", "));
        }
        format!("SELECT * FROM read_parquet([{}], union_by_name = true)", files.join(", "))
    }

    /// Runs one read-only query (a SELECT, WITH, FROM, DESCRIBE, ...) with `params`
    /// bound to its `?`s, calling `row` for each result row in order. Values come as
    /// JSON: numbers, strings, booleans, null; nested values as JSON; times and
    /// other types as their text.
    pub fn run(
        &self,
        sql: &str,
        params: &[duckdb::types::Value],
        mut row: impl FnMut(&[String], Vec<Value>) -> io::Result<()>,
    ) -> Result<Vec<String>, QueryError> {
        let inner = sql.trim().trim_end_matches(';').trim();
        if inner.is_empty() {
            return Err(QueryError::Sql("empty query".into()));
        }
        // Exactly one query that only reads. Checked on the text that will be
        // prepared: DuckDB runs every statement but the last when it prepares several.
        let probe_sql = format!("SELECT * FROM ({inner}\n) q LIMIT 0");
        self.one_select(inner)?;
        self.one_select(&probe_sql)?;
        let mut probe = self.conn.prepare(&probe_sql).map_err(sql_err)?;
        probe.execute(duckdb::params_from_iter(params)).map_err(sql_err)?;
        let names = probe.column_names();
        let schema = probe.schema();
        let json: Vec<bool> =
            (0..names.len()).map(|i| probe.column_logical_type(i).get_alias().as_deref() == Some("JSON")).collect();
        drop(probe);
        let mut kinds = Vec::with_capacity(names.len());
        let mut exprs = Vec::with_capacity(names.len());
        for (i, field) in schema.fields().iter().enumerate() {
            let c = format!("c{i}");
            let kind = if json[i] { Kind::Json } else { Kind::of(field.data_type()) };
            exprs.push(match kind {
                Kind::Plain => c,
                Kind::Json => format!("CAST(to_json({c}) AS VARCHAR)"),
                Kind::Text | Kind::Number => format!("CAST({c} AS VARCHAR)"),
            });
            kinds.push(kind);
        }
        let aliases: Vec<String> = (0..names.len()).map(|i| format!("c{i}")).collect();
        let wrapped = if names.is_empty() {
            format!("SELECT * FROM ({inner}\n) q")
        } else {
            format!("SELECT {} FROM ({inner}\n) q({})", exprs.join(", "), aliases.join(", "))
        };
        self.one_select(&wrapped)?;
        let mut stmt = self.conn.prepare(&wrapped).map_err(sql_err)?;
        let mut rows = stmt.query(duckdb::params_from_iter(params)).map_err(sql_err)?;
        while let Some(r) = rows.next().map_err(sql_err)? {
            let mut values = Vec::with_capacity(names.len());
            for (i, kind) in kinds.iter().enumerate() {
                let v = r.get_ref(i).map_err(sql_err)?;
                values.push(to_json(v, *kind));
            }
            row(&names, values).map_err(QueryError::Io)?;
        }
        Ok(names)
    }

    fn one_select(&self, sql: &str) -> Result<(), QueryError> {
        check_statement(&self.conn, sql)
    }

    /// Runs a query and keeps every row.
    pub fn query(&self, sql: &str, params: &[duckdb::types::Value]) -> Result<QueryResult, QueryError> {
        let mut rows = Vec::new();
        let columns = self.run(sql, params, |_, r| {
            rows.push(r);
            Ok(())
        })?;
        Ok(QueryResult { columns, rows })
    }

    /// A handle that cancels the query running on this reader (from another thread).
    pub fn interrupt_handle(&self) -> std::sync::Arc<duckdb::InterruptHandle> {
        self.conn.interrupt_handle()
    }
}

/// Views every store has; a source type's view never takes one of these names.
pub const VIEWS: [&str; 6] = ["events", "alerts", "alert_records", "errors", "triage", "searches"];

/// The view of one or more source types' events.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceView {
    /// `zeek_conn` for `zeek.conn` (see [`source_view_name`]).
    pub name: String,
    /// The source types it shows (more than one when their names make one view name).
    pub source_types: Vec<String>,
    /// Their fields in first-seen order, each with the type that holds its values.
    pub fields: Vec<(String, &'static str)>,
}

/// The per-source views of a store, by name.
pub fn source_views(manifest: &Manifest) -> Vec<SourceView> {
    let mut views: Vec<SourceView> = Vec::new();
    for (source, fields) in &manifest.sources {
        let Some(name) = source_view_name(source) else { continue };
        let i = match views.iter().position(|v| v.name == name) {
            Some(i) => i,
            None => {
                views.push(SourceView { name, source_types: Vec::new(), fields: Vec::new() });
                views.len() - 1
            }
        };
        let view = &mut views[i];
        view.source_types.push(source.clone());
        for (field, ty) in fields {
            let ty = super::shape::known_type(ty).unwrap_or("JSON");
            match view.fields.iter_mut().find(|(f, _)| f == field) {
                Some((_, have)) => *have = super::shape::widen(have, ty),
                None => view.fields.push((field.clone(), ty)),
            }
        }
    }
    views.sort_by(|a, b| a.name.cmp(&b.name));
    views
}

/// `CREATE VIEW` for one source view over `events`, whose columns are `have`;
/// `whole` when `events` has the `event` JSON column of whole records.
fn source_view_sql(view: &SourceView, have: &[(String, String)], whole: bool) -> String {
    let standard = Table::Events.standard_columns();
    let mut names: Vec<String> = standard.iter().map(|(n, _)| n.to_lowercase()).collect();
    let mut cols: Vec<String> = standard.iter().map(|(n, _)| sql_ident(n)).collect();
    for (field, ty) in &view.fields {
        // DuckDB's names ignore case: the first of a clash wins.
        let lower = field.to_lowercase();
        if names.contains(&lower) {
            continue;
        }
        let stored = have.iter().find(|(n, _)| n.eq_ignore_ascii_case(field));
        let want = match (*ty, stored) {
            ("NULL", Some((_, t))) => t.as_str(),
            ("NULL", None) => "VARCHAR",
            ("NULL[]", Some((_, t))) if t.ends_with("[]") => t.as_str(),
            ("NULL[]", _) => "VARCHAR[]",
            (t, _) => t,
        };
        let column =
            stored.map(
                |(name, t)| {
                    if t == want {
                        sql_ident(name)
                    } else {
                        format!("TRY_CAST({} AS {want})", sql_ident(name))
                    }
                },
            );
        let from_json = whole.then(|| {
            let path = sql_str(&format!("$.\"{}\"", field.replace('\\', "\\\\").replace('"', "\\\"")));
            if want.ends_with("[]") || want == "JSON" {
                format!("TRY_CAST(json_extract(event, {path}) AS {want})")
            } else {
                format!("TRY_CAST(json_extract_string(event, {path}) AS {want})")
            }
        });
        let value = match (column, from_json) {
            (Some(c), Some(j)) => format!("coalesce({c}, {j})"),
            (Some(c), None) => c,
            (None, Some(j)) => j,
            (None, None) => continue,
        };
        names.push(lower);
        cols.push(format!("{value} AS {}", sql_ident(field)));
    }
    let types: Vec<String> = view.source_types.iter().map(|t| sql_str(t)).collect();
    format!(
        "CREATE OR REPLACE VIEW {} AS SELECT {} FROM events WHERE \"source.type\" IN ({});",
        sql_ident(&view.name),
        cols.join(", "),
        types.join(", ")
    )
}

/// The name of a source type's view: lower case, each run of characters other than
/// ASCII letters and digits made one `_` (`zeek.conn` -> `zeek_conn`,
/// `Suricata.DNS` -> `suricata_dns`), at most 63 characters, `s_` before a leading
/// digit, and `_events` after a name that a store's own views have. `None` when
/// nothing is left (the events are still in `events`).
pub fn source_view_name(source_type: &str) -> Option<String> {
    let mut name = String::new();
    for c in source_type.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.is_empty() && !name.ends_with('_') {
            name.push('_');
        }
        if name.len() >= 63 {
            break;
        }
    }
    let name = name.trim_end_matches('_');
    if name.is_empty() {
        return None;
    }
    let name = if name.starts_with(|c: char| c.is_ascii_digit()) { format!("s_{name}") } else { name.to_owned() };
    Some(if VIEWS.contains(&name.as_str()) { format!("{name}_events") } else { name })
}

/// A problem with a query: the SQL itself, or writing its rows.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("{0}")]
    Sql(String),
    #[error("{0}")]
    Io(io::Error),
}

/// Refuses anything but exactly one SELECT (WITH, FROM-first, DESCRIBE included),
/// as DuckDB's own parser reads `sql`: `json_serialize_sql` serializes SELECT
/// statements only, one entry per statement, and gets `sql` as a value, so that
/// nothing in it runs.
pub fn check_statement(conn: &duckdb::Connection, sql: &str) -> Result<(), QueryError> {
    let json: String = conn.query_row("SELECT json_serialize_sql(?::VARCHAR)", [sql], |r| r.get(0)).map_err(sql_err)?;
    let parsed: Value = serde_json::from_str(&json).map_err(|e| QueryError::Sql(e.to_string()))?;
    if parsed.get("error").and_then(Value::as_bool) == Some(true) {
        let why = parsed.get("error_message").and_then(Value::as_str).unwrap_or("not a query");
        return Err(QueryError::Sql(if why.contains("Only SELECT") {
            "only a query that reads can run here (SELECT, WITH, FROM, DESCRIBE): not COPY, ATTACH, SET, \
             INSTALL, LOAD or anything that writes"
                .to_owned()
        } else {
            why.to_owned()
        }));
    }
    let n = parsed.get("statements").and_then(Value::as_array).map_or(0, Vec::len);
    if n != 1 {
        return Err(QueryError::Sql(format!("one query at a time: this text holds {n} statements")));
    }
    Ok(())
}

/// `dir` as an absolute path, which DuckDB's allowed directories are compared with.
fn absolute(dir: &std::path::Path) -> Result<std::path::PathBuf, StoreError> {
    std::fs::canonicalize(dir).map_err(|e| StoreError::io(dir, e))
}

fn sql_err(e: duckdb::Error) -> QueryError {
    let message = e.to_string();
    if message.contains("disabled by configuration") {
        return QueryError::Sql(format!(
            "a query reads the store's views (events, one per source type such as zeek_conn, alerts, \
             alert_records, errors, triage, searches), not other files: {message}"
        ));
    }
    QueryError::Sql(message)
}

/// All rows of a query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl QueryResult {
    /// The value in `column` of row `i`.
    pub fn get(&self, i: usize, column: &str) -> Option<&Value> {
        let c = self.columns.iter().position(|n| n == column)?;
        self.rows.get(i)?.get(c)
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Booleans, numbers, text: read as they are.
    Plain,
    /// Lists, structs, maps: as JSON.
    Json,
    /// HUGEINT and DECIMAL (sums are HUGEINT): their text, read back as a number.
    Number,
    /// Everything else (times, UUIDs, blobs): as DuckDB writes it.
    Text,
}

impl Kind {
    fn of(t: &duckdb::arrow::datatypes::DataType) -> Kind {
        use duckdb::arrow::datatypes::DataType as D;
        match t {
            D::Boolean
            | D::Int8
            | D::Int16
            | D::Int32
            | D::Int64
            | D::UInt8
            | D::UInt16
            | D::UInt32
            | D::UInt64
            | D::Float32
            | D::Float64
            | D::Utf8
            | D::LargeUtf8
            | D::Utf8View => Kind::Plain,
            D::List(_) | D::LargeList(_) | D::FixedSizeList(..) | D::Struct(_) | D::Map(..) => Kind::Json,
            D::Decimal128(..) | D::Decimal256(..) => Kind::Number,
            _ => Kind::Text,
        }
    }
}

fn to_json(v: ValueRef<'_>, kind: Kind) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Boolean(b) => b.into(),
        ValueRef::TinyInt(n) => n.into(),
        ValueRef::SmallInt(n) => n.into(),
        ValueRef::Int(n) => n.into(),
        ValueRef::BigInt(n) => n.into(),
        ValueRef::UTinyInt(n) => n.into(),
        ValueRef::USmallInt(n) => n.into(),
        ValueRef::UInt(n) => n.into(),
        ValueRef::UBigInt(n) => n.into(),
        ValueRef::Float(f) => serde_json::Number::from_f64(f64::from(f)).map_or(Value::Null, Value::Number),
        ValueRef::Double(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        ValueRef::Text(bytes) => {
            let text = String::from_utf8_lossy(bytes);
            match kind {
                Kind::Json | Kind::Number => {
                    serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.into_owned()))
                }
                _ => Value::String(text.into_owned()),
            }
        }
        other => Value::String(format!("{other:?}")),
    }
}

/// A store's manifest file as it is now (length, modified, inode).
fn manifest_stamp(store: &Store) -> Option<(u64, std::time::SystemTime, u64)> {
    let m = std::fs::metadata(store.manifest_path()).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let inode = 0;
    Some((m.len(), m.modified().ok()?, inode))
}

/// The path DuckDB reads a segment at.
fn segment_path(store: &Store, seg: &super::manifest::Segment) -> String {
    store.dir().join(&seg.file).to_string_lossy().into_owned()
}

/// A read of an append-only log with fixed columns; a torn last line (a writer
/// killed mid-line) is skipped.
fn log_select(path: &std::path::Path, columns: &str) -> String {
    let empty = std::fs::metadata(path).map(|m| m.len() == 0).unwrap_or(true);
    if empty {
        // read_json needs something to read.
        let cols: Vec<String> = columns
            .trim_matches(|c| c == '{' || c == '}')
            .split(',')
            .filter_map(|c| {
                let (name, ty) = c.split_once(':')?;
                Some(format!("CAST(NULL AS {}) AS {}", ty.trim().trim_matches('\''), name.trim()))
            })
            .collect();
        return format!("SELECT {} WHERE false", cols.join(", "));
    }
    format!(
        "SELECT * FROM read_json({}, format = 'newline_delimited', columns = {columns}, ignore_errors = true)",
        sql_str(&path.to_string_lossy())
    )
}

/// One row per alert: its latest record, with the current triage state.
const ALERTS_VIEW: &str = "
CREATE OR REPLACE VIEW alerts AS
WITH latest AS (
    SELECT * FROM alert_records
    QUALIFY row_number() OVER (PARTITION BY alert_id ORDER BY \"count\" DESC NULLS LAST, \"timestamp\" DESC) = 1
), state AS (
    SELECT alert_id,
           arg_max(status, \"timestamp\") FILTER (WHERE status IS NOT NULL) AS status,
           arg_max(assignee, \"timestamp\") FILTER (WHERE assignee IS NOT NULL) AS assignee,
           arg_max(meta_alert, \"timestamp\") FILTER (WHERE meta_alert IS NOT NULL) AS meta_alert,
           count(comment) AS comments,
           max(\"timestamp\") AS triaged_at
    FROM triage GROUP BY alert_id
)
SELECT latest.*,
       coalesce(state.status, 'NEW') AS status,
       state.assignee AS assignee,
       nullif(state.meta_alert, '') AS meta_alert,
       coalesce(state.comments, 0) AS comments,
       state.triaged_at AS triaged_at
FROM latest LEFT JOIN state ON latest.alert_id = state.alert_id;
";

/// How query results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Ndjson,
    Csv,
}

impl OutputFormat {
    pub fn parse(name: &str) -> Option<OutputFormat> {
        match name {
            "table" => Some(OutputFormat::Table),
            "ndjson" | "json" => Some(OutputFormat::Ndjson),
            "csv" => Some(OutputFormat::Csv),
            _ => None,
        }
    }
}

/// The text of a value in a table or CSV cell: strings bare, null empty.
pub fn cell_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Streams rows as NDJSON or CSV (a CSV header first, even with no rows).
pub struct RowWriter {
    format: OutputFormat,
    header_done: bool,
    /// CSV going to a terminal: cells are cleaned of control characters, as a table's
    /// are (to a file or a pipe they stay exact). NDJSON escapes them anyway.
    terminal: bool,
    /// NDJSON: each key once (`"name":`, serialized), with the column whose value it
    /// takes (a name given twice keeps its first place and its last value, as a JSON
    /// object built column by column would). Made from the first row's columns.
    keys: Vec<(Vec<u8>, usize)>,
}

impl RowWriter {
    pub fn new(format: OutputFormat) -> RowWriter {
        RowWriter { format, header_done: false, terminal: false, keys: Vec::new() }
    }

    /// Rows for a terminal (see `terminal`).
    pub fn to_terminal(mut self, terminal: bool) -> RowWriter {
        self.terminal = terminal;
        self
    }

    fn csv_cell(&self, text: String) -> String {
        if self.terminal {
            crate::text::sanitize(&text)
        } else {
            text
        }
    }

    pub fn row(&mut self, out: &mut dyn Write, columns: &[String], row: &[Value]) -> io::Result<()> {
        match self.format {
            OutputFormat::Csv => {
                let mut w = csv::WriterBuilder::new().from_writer(&mut *out);
                if !self.header_done {
                    w.write_record(columns.iter().map(|c| self.csv_cell(c.clone()))).map_err(io::Error::other)?;
                    self.header_done = true;
                }
                w.write_record(row.iter().map(|v| self.csv_cell(cell_text(v)))).map_err(io::Error::other)?;
                w.flush()
            }
            _ => {
                if !self.header_done {
                    for (i, c) in columns.iter().enumerate() {
                        let mut key = serde_json::to_vec(c)?;
                        key.push(b':');
                        match self.keys.iter_mut().find(|(k, _)| *k == key) {
                            Some(k) => k.1 = i,
                            None => self.keys.push((key, i)),
                        }
                    }
                    self.header_done = true;
                }
                // Written as they are, without building an object per row.
                let mut line = Vec::with_capacity(64 * self.keys.len());
                line.push(b'{');
                for (n, (key, i)) in self.keys.iter().enumerate() {
                    if n > 0 {
                        line.push(b',');
                    }
                    line.extend_from_slice(key);
                    serde_json::to_writer(&mut line, row.get(*i).unwrap_or(&Value::Null))?;
                }
                line.extend_from_slice(b"}\n");
                out.write_all(&line)
            }
        }
    }

    pub fn finish(&mut self, out: &mut dyn Write, columns: &[String]) -> io::Result<()> {
        if self.format == OutputFormat::Csv && !self.header_done {
            let mut w = csv::WriterBuilder::new().from_writer(&mut *out);
            w.write_record(columns.iter().map(|c| self.csv_cell(c.clone()))).map_err(io::Error::other)?;
            w.flush()?;
        }
        Ok(())
    }
}

/// Writes rows in `format`. Table cells are cleaned of control characters (log data
/// is hostile) and cut to `max_width` characters; CSV cells are cleaned too when
/// `terminal` (the rows go to one).
pub fn format_rows(
    out: &mut dyn Write,
    format: OutputFormat,
    terminal: bool,
    columns: &[String],
    rows: &[Vec<Value>],
    max_width: usize,
) -> io::Result<()> {
    if format != OutputFormat::Table {
        let mut w = RowWriter::new(format).to_terminal(terminal);
        for r in rows {
            w.row(out, columns, r)?;
        }
        return w.finish(out, columns);
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|v| clip(&crate::text::sanitize(&cell_text(v)).replace('\t', " "), max_width)).collect())
        .collect();
    let header: Vec<String> = columns.iter().map(|c| clip(&crate::text::sanitize(c), max_width)).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for r in &cells {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(width(c));
        }
    }
    let line = |out: &mut dyn Write, r: &[String]| -> io::Result<()> {
        let mut s = String::new();
        for (i, (c, w)) in r.iter().zip(&widths).enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            s.push_str(c);
            if i + 1 < r.len() {
                s.push_str(&" ".repeat(w.saturating_sub(width(c))));
            }
        }
        writeln!(out, "{s}")
    };
    line(out, &header)?;
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(out, &rule)?;
    for r in &cells {
        line(out, r)?;
    }
    writeln!(out, "({} row{})", rows.len(), if rows.len() == 1 { "" } else { "s" })
}

fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// `s` cut to at most `max` columns, with an ellipsis when cut.
pub fn clip(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if w + cw + 1 > max {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_view_names_are_plain_identifiers_that_never_take_a_store_views_name() {
        let name = |s: &str| source_view_name(s);
        assert_eq!(name("zeek.conn").as_deref(), Some("zeek_conn"));
        assert_eq!(name("Suricata.DNS").as_deref(), Some("suricata_dns"));
        assert_eq!(name("metron.finding").as_deref(), Some("metron_finding"));
        assert_eq!(name("..a--b..").as_deref(), Some("a_b"));
        assert_eq!(name("123 weird;DROP").as_deref(), Some("s_123_weird_drop"));
        assert_eq!(name("events").as_deref(), Some("events_events"));
        assert_eq!(name("Alerts").as_deref(), Some("alerts_events"));
        assert_eq!(name("\u{1b}]2;x\u{7}"), Some("s_2_x".into()));
        assert_eq!(name("\u{1f980}."), None);
        assert_eq!(name(""), None);
        assert!(name(&"a".repeat(500)).is_some_and(|n| n.len() <= 63));
        proptest::proptest!(|(s in ".{0,80}")| {
            if let Some(n) = source_view_name(&s) {
                proptest::prop_assert!(!n.is_empty() && n.len() <= 70);
                proptest::prop_assert!(n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
                proptest::prop_assert!(!VIEWS.contains(&n.as_str()));
                proptest::prop_assert!(!n.starts_with(|c: char| c.is_ascii_digit()));
            }
        });
    }

    #[test]
    fn source_types_with_one_view_name_share_it_with_their_types_widened() {
        let mut m = Manifest::default();
        let field = |pairs: &[(&str, &str)]| pairs.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
        m.sources.insert("zeek.conn".into(), field(&[("duration", "BIGINT"), ("uid", "VARCHAR")]));
        m.sources.insert("zeek_conn".into(), field(&[("duration", "DOUBLE"), ("extra", "NULL")]));
        m.sources.insert("other".into(), field(&[("x", "'; DROP TABLE t; --")]));
        let views = source_views(&m);
        assert_eq!(views.len(), 2);
        let other = &views[0];
        // A type the manifest cannot hold never reaches SQL.
        assert_eq!(other.fields, vec![("x".to_owned(), "JSON")]);
        let conn = &views[1];
        assert_eq!(conn.name, "zeek_conn");
        assert_eq!(conn.source_types, vec!["zeek.conn".to_owned(), "zeek_conn".to_owned()]);
        assert_eq!(
            conn.fields,
            vec![("duration".into(), "DOUBLE"), ("uid".into(), "VARCHAR"), ("extra".into(), "NULL")]
        );
    }

    #[test]
    fn table_cells_are_cleaned_and_clipped() {
        let cols = vec!["a".to_owned(), "b".to_owned()];
        let rows = vec![vec![Value::from("x\x1b]2;pwned\x07y"), Value::from(12)]];
        let mut out = Vec::new();
        format_rows(&mut out, OutputFormat::Table, false, &cols, &rows, 40).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
        assert!(text.contains("(1 row)"));
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }

    #[test]
    fn csv_to_a_terminal_is_cleaned_and_to_a_file_kept_exact() {
        let cols = vec!["a\x1b[2J".to_owned()];
        let rows = vec![vec![Value::from("x\x1b]2;pwned\x07")]];
        let mut tty = Vec::new();
        format_rows(&mut tty, OutputFormat::Csv, true, &cols, &rows, 40).unwrap();
        assert!(!tty.contains(&0x1b), "{}", String::from_utf8_lossy(&tty));
        let mut file = Vec::new();
        format_rows(&mut file, OutputFormat::Csv, false, &cols, &rows, 40).unwrap();
        assert!(String::from_utf8_lossy(&file).contains("x\x1b]2;pwned\x07"));
    }

    #[test]
    fn csv_and_ndjson_keep_values() {
        let cols = vec!["a".to_owned(), "n".to_owned()];
        let rows = vec![vec![Value::from("x,y"), Value::Null]];
        let mut out = Vec::new();
        format_rows(&mut out, OutputFormat::Csv, false, &cols, &rows, 40).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a,n\n\"x,y\",\n");
        let mut out = Vec::new();
        format_rows(&mut out, OutputFormat::Ndjson, false, &cols, &rows, 40).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "{\"a\":\"x,y\",\"n\":null}\n");
        // A name given twice: its first place, its last value (as a JSON object built
        // column by column); names and values escaped.
        let cols = vec!["a".to_owned(), "q\"\n".to_owned(), "a".to_owned()];
        let rows = vec![vec![Value::from(1), Value::from("x\u{1b}"), Value::from(3)], vec![Value::Null; 3]];
        let mut out = Vec::new();
        format_rows(&mut out, OutputFormat::Ndjson, false, &cols, &rows, 40).unwrap();
        let mut want = String::new();
        for r in &rows {
            let mut obj = serde_json::Map::new();
            for (c, v) in cols.iter().zip(r) {
                obj.insert(c.clone(), v.clone());
            }
            want.push_str(&format!("{}\n", Value::Object(obj)));
        }
        assert_eq!(String::from_utf8(out).unwrap(), want);
    }
}
