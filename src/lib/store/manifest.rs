//! MANIFEST.json: which segments are live. Replaced whole by rename, so a reader
//! sees the old list or the new one, never a mixture; a segment file that is not
//! named here does not exist as far as queries go.

use super::shape::{widen, Shape};
use super::{write_atomic, Store, StoreError, Table};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;

/// How long a segment replaced by compaction or prune stays on disk, so that a
/// query that listed it just before still finds it.
pub const TRASH_GRACE_MS: i64 = 10 * 60 * 1000;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub version: u32,
    /// The number the next segment file gets.
    pub next_segment: u64,
    #[serde(default)]
    pub events: Vec<Segment>,
    #[serde(default)]
    pub alerts: Vec<Segment>,
    #[serde(default)]
    pub errors: Vec<Segment>,
    /// Files no longer live, deleted once `TRASH_GRACE_MS` has passed.
    #[serde(default)]
    pub trash: Vec<Trash>,
    /// Each source type of the events, with every field its events have had and the
    /// type that holds all of that source's values of it (see `shape::widen`): the
    /// per-source views cast back to these, whatever other sources wrote under the
    /// same names. Keeps the first `MAX_SOURCES` source types and `MAX_SOURCE_FIELDS`
    /// fields of each.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sources: BTreeMap<String, IndexMap<String, String>>,
}

/// Source types whose fields the manifest records (each gets a view).
pub const MAX_SOURCES: usize = 256;
/// Fields recorded per source type.
pub const MAX_SOURCE_FIELDS: usize = 2048;

/// One Parquet file of one table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Segment {
    /// Relative to the store directory (`events/seg-00000001.parquet`).
    pub file: String,
    pub rows: u64,
    pub bytes: u64,
    pub min_ts: Option<i64>,
    pub max_ts: Option<i64>,
    /// The range of `guid`s in it: an ingest checks for duplicates only in segments
    /// whose range meets its batch's.
    pub min_guid: String,
    pub max_guid: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Trash {
    pub file: String,
    pub since_ms: i64,
}

/// `events/seg-00000012.parquet`: a table's folder (that table's when given), `seg-`,
/// digits, `.parquet`; nothing else (no `..`, no absolute path, no other folder).
pub(crate) fn is_segment_name(file: &str, table: Option<Table>) -> bool {
    let Some((dir, name)) = file.split_once('/') else { return false };
    let dir_ok = match table {
        Some(t) => dir == t.dir(),
        None => Table::ALL.iter().any(|t| t.dir() == dir),
    };
    let digits = name.strip_prefix("seg-").and_then(|n| n.strip_suffix(".parquet"));
    dir_ok && digits.is_some_and(|d| !d.is_empty() && d.len() <= 20 && d.bytes().all(|b| b.is_ascii_digit()))
}

impl Manifest {
    pub fn load(store: &Store) -> Result<Manifest, StoreError> {
        let path = store.manifest_path();
        let text = fs::read(&path).map_err(|e| StoreError::io(&path, e))?;
        let manifest: Manifest = serde_json::from_slice(&text)
            .map_err(|e| StoreError::Invalid(format!("{}: not a metron store manifest: {e}", path.display())))?;
        manifest.check().map_err(|entry| {
            StoreError::Invalid(format!(
                "{}: names {entry:?}, which is not a segment this store writes (TABLE/seg-NUMBER.parquet); \
                 refusing to read or delete it",
                path.display()
            ))
        })?;
        Ok(manifest)
    }

    /// Every file the manifest names is a segment of the shape the store writes, in
    /// its table's folder: a manifest from a hostile store cannot point readers at
    /// other files nor make the writer delete them. The first entry that is not.
    fn check(&self) -> Result<(), String> {
        for t in Table::ALL {
            if let Some(bad) = self.segments(t).iter().find(|s| !is_segment_name(&s.file, Some(t))) {
                return Err(bad.file.clone());
            }
        }
        match self.trash.iter().find(|t| !is_segment_name(&t.file, None)) {
            Some(bad) => Err(bad.file.clone()),
            None => Ok(()),
        }
    }

    pub fn save(&self, store: &Store) -> Result<(), StoreError> {
        let mut m = self.clone();
        m.version = 1;
        let bytes = serde_json::to_vec_pretty(&m).map_err(|e| StoreError::Invalid(e.to_string()))?;
        write_atomic(&store.manifest_path(), &bytes)
    }

    pub fn segments(&self, table: Table) -> &Vec<Segment> {
        match table {
            Table::Events => &self.events,
            Table::Alerts => &self.alerts,
            Table::Errors => &self.errors,
        }
    }

    pub fn segments_mut(&mut self, table: Table) -> &mut Vec<Segment> {
        match table {
            Table::Events => &mut self.events,
            Table::Alerts => &mut self.alerts,
            Table::Errors => &mut self.errors,
        }
    }

    /// Records the fields of `source`'s events in a batch being committed.
    pub fn note_source(&mut self, source: &str, shape: &Shape) {
        if !self.sources.contains_key(source) && self.sources.len() >= MAX_SOURCES {
            return;
        }
        let fields = self.sources.entry(source.to_owned()).or_default();
        for (name, kinds) in &shape.fields {
            let ty = kinds.source_type();
            let room = fields.len() < MAX_SOURCE_FIELDS;
            match fields.get_mut(name.as_str()) {
                Some(have) => {
                    let wider = widen(have, ty);
                    if have != wider {
                        *have = wider.to_owned();
                    }
                }
                None if room => {
                    fields.insert(name.clone(), ty.to_owned());
                }
                None => {}
            }
        }
    }

    /// A new segment file name for `table`.
    pub fn new_file(&mut self, table: Table) -> String {
        self.next_segment += 1;
        format!("{}/seg-{:08}.parquet", table.dir(), self.next_segment)
    }

    /// Moves `file` to the trash.
    pub fn retire(&mut self, file: String, now_ms: i64) {
        self.trash.push(Trash { file, since_ms: now_ms });
    }

    /// Deletes trashed files whose grace has passed (all of them when no reader is
    /// open), and segment files that no manifest names (left by a writer that died
    /// between writing and committing). Called by the writer, holding the writer
    /// lock, before it writes and when it is done.
    pub fn collect_garbage(&mut self, store: &Store, now_ms: i64) -> Result<(), StoreError> {
        let before = self.trash.len();
        // Loaded manifests are checked; this one may have been built in memory.
        if let Err(entry) = self.check() {
            return Err(StoreError::Invalid(format!("refusing to delete {entry:?}: not a segment of this store")));
        }
        let no_readers = if self.trash.is_empty() { None } else { store.lock_no_readers() };
        self.trash.retain(|t| {
            if no_readers.is_some() || now_ms.saturating_sub(t.since_ms) >= TRASH_GRACE_MS {
                // Already gone is as good as deleted.
                let _ = fs::remove_file(store.dir().join(&t.file));
                false
            } else {
                true
            }
        });
        let known: std::collections::HashSet<&str> = Table::ALL
            .iter()
            .flat_map(|t| self.segments(*t).iter().map(|s| s.file.as_str()))
            .chain(self.trash.iter().map(|t| t.file.as_str()))
            .collect();
        for t in Table::ALL {
            let dir = store.dir().join(t.dir());
            let Ok(entries) = fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                let name = format!("{}/{}", t.dir(), entry.file_name().to_string_lossy());
                // Only files the store writes, and never what a link points to.
                let plain = entry.file_type().is_ok_and(|f| f.is_file());
                if plain && is_segment_name(&name, Some(t)) && !known.contains(name.as_str()) {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        if let Ok(entries) = fs::read_dir(store.tmp_dir()) {
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|f| f.is_file()) {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        if self.trash.len() != before {
            self.save(store)?;
        }
        Ok(())
    }
}
