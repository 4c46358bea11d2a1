//! `metron label`: threat intelligence on every event, and triage scores on alerts.
//!
//! Intel comes from files (STIX 2.1 JSON, abuse.ch and MISP CSVs, plain lists, any
//! CSV described in `metron.toml`), loaded into one index before the first event and
//! rebuilt in the background when a file changes: the new index replaces the old one
//! only when every file loaded, so a broken download never empties the intel. Each
//! configured event field is looked up as the indicator types it may hold; a hit adds
//! Apache Metron's `threatintels.<source>.<field>.<type>` = `"alert"` with the
//! indicator's details, and `is_alert`. Alerts are then scored by the triage rules.

pub mod feeds;
pub mod index;
mod line;
pub mod stix;
pub mod triage;

use crate::error::ErrorType;
use crate::event::{fields, now_ms, Event};
use crate::io::{self, ChangeWatch};
use crate::stage::{Stage, StageConfig, StageError};
use feeds::{FeedConfig, FeedError, FeedFormat, FeedReport, LoadOptions};
use index::{Hit, Index, IndexBuilder, IndicatorType};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};
pub use stix::CidrEquality;
pub use triage::{Aggregator, TriageConfig};

/// `[label]` in `metron.toml`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelConfig {
    /// Intel files or directories, each `PATH` or `FORMAT:PATH` (FORMAT a preset or a
    /// `[label.feeds.NAME]`). `--intel` replaces this list.
    #[serde(default)]
    pub intel: Vec<String>,
    /// Feeds with their own column mapping; those with a `path` are always loaded.
    #[serde(default)]
    pub feeds: BTreeMap<String, FeedConfig>,
    /// Which event fields are looked up as which indicator type.
    #[serde(default)]
    pub fields: FieldsConfig,
    #[serde(default)]
    pub triage: TriageConfig,
    /// How STIX `ipv4-addr:value = 'CIDR'` is read: `exact` (default, the STIX
    /// semantics) or `subset`.
    #[serde(default)]
    pub stix_cidr_equality: CidrEquality,
    /// Reload intel files when they change (default true).
    pub reload: Option<bool>,
    /// Longest event line accepted (default 1 MiB).
    pub max_line_bytes: Option<usize>,
    /// Largest STIX file read, after decompression (default 128M): a bundle is one
    /// JSON document, held whole while it is read, so a small `.zst` could otherwise
    /// expand to gigabytes.
    pub max_stix_bytes: Option<String>,
}

/// `[label.fields]`: a list given for a type replaces that type's default fields.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldsConfig {
    pub ip: Option<Vec<String>>,
    pub domain: Option<Vec<String>>,
    pub url: Option<Vec<String>>,
    pub email: Option<Vec<String>>,
    pub md5: Option<Vec<String>>,
    pub sha1: Option<Vec<String>>,
    pub sha256: Option<Vec<String>>,
}

/// The fields our parsers produce for each indicator type (Zeek, Suricata's
/// flattened EVE, Squid, Metron's names).
pub fn default_fields(kind: IndicatorType) -> &'static [&'static str] {
    match kind {
        IndicatorType::Ip => &[fields::IP_SRC_ADDR, fields::IP_DST_ADDR],
        IndicatorType::Domain => {
            &["query", "host", "server_name", "domain", "dns.rrname", "http.hostname", "tls.sni", "full_hostname"]
        }
        IndicatorType::Url => &["url", "http.url", "uri"],
        IndicatorType::Email => &["mailfrom", "rcptto", "from", "to"],
        IndicatorType::Md5 => &["md5", "fileinfo.md5"],
        // Certificate fingerprints too: SSLBL lists SHA-1s of certificates.
        IndicatorType::Sha1 => &["sha1", "fileinfo.sha1", "tls.fingerprint", "fingerprint", "cert_chain_fps"],
        IndicatorType::Sha256 => &["sha256", "fileinfo.sha256", "fingerprint", "cert_chain_fps"],
    }
}

/// A URL field holding only a path (Zeek's `uri`, Suricata's `http.url`) is joined
/// with the first of these present, to compare with listed URLs.
const URL_HOST_FIELDS: [&str; 2] = ["host", "http.hostname"];

impl FieldsConfig {
    fn resolve(&self) -> Vec<(IndicatorType, Vec<String>)> {
        IndicatorType::ALL
            .iter()
            .map(|&k| {
                let given = match k {
                    IndicatorType::Ip => &self.ip,
                    IndicatorType::Domain => &self.domain,
                    IndicatorType::Url => &self.url,
                    IndicatorType::Email => &self.email,
                    IndicatorType::Md5 => &self.md5,
                    IndicatorType::Sha1 => &self.sha1,
                    IndicatorType::Sha256 => &self.sha256,
                };
                let list = match given {
                    Some(l) => l.clone(),
                    None => default_fields(k).iter().map(|s| (*s).to_owned()).collect(),
                };
                (k, list)
            })
            .collect()
    }
}

impl LabelConfig {
    /// Every problem in the section, for `metron.toml` validation.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (name, feed) in &self.feeds {
            if name.contains('.') || name.is_empty() {
                problems.push(format!("[label.feeds.{name}]: a feed name may not contain dots"));
            }
            if let Err(errs) = feed.resolve() {
                problems.extend(errs.into_iter().map(|e| format!("[label.feeds.{name}]: {e}")));
            }
        }
        if let Err(errs) = self.triage.compile() {
            problems.extend(errs.into_iter().map(|e| format!("[label.triage]: {e}")));
        }
        if let Some(Err(e)) = self.max_stix_bytes.as_deref().map(crate::io::parse_size) {
            problems.push(format!("[label] max_stix_bytes: {e}"));
        }
        if self.max_line_bytes == Some(0) {
            problems.push("[label] max_line_bytes must be at least 1".into());
        }
        problems
    }
}

/// Everything `build()` needs: `[label]` with the flags applied.
#[derive(Debug, Clone)]
pub struct LabelSettings {
    /// `PATH` or `FORMAT:PATH`.
    pub intel: Vec<String>,
    pub feeds: BTreeMap<String, FeedConfig>,
    pub fields: FieldsConfig,
    pub triage: TriageConfig,
    pub cidr_equality: CidrEquality,
    pub reload: bool,
    pub max_line_bytes: usize,
    pub max_stix_bytes: u64,
}

impl Default for LabelSettings {
    fn default() -> LabelSettings {
        LabelSettings::from_config(LabelConfig::default())
    }
}

impl LabelSettings {
    /// `[label]` as configured, before flags.
    pub fn from_config(c: LabelConfig) -> LabelSettings {
        LabelSettings {
            intel: c.intel,
            feeds: c.feeds,
            fields: c.fields,
            triage: c.triage,
            cidr_equality: c.stix_cidr_equality,
            reload: c.reload.unwrap_or(true),
            max_line_bytes: c.max_line_bytes.unwrap_or(io::DEFAULT_MAX_LINE),
            max_stix_bytes: c
                .max_stix_bytes
                .as_deref()
                .and_then(|s| crate::io::parse_size(s).ok())
                .unwrap_or(feeds::DEFAULT_MAX_STIX_BYTES),
        }
    }
}

/// Why the stage could not start: every problem, each naming its file or rule.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("\n  "))]
pub struct LabelBuildError(pub Vec<String>);

/// One `--intel` entry or feed section, resolved.
#[derive(Debug, Clone)]
struct SourceSpec {
    path: PathBuf,
    /// None: told per file by its content.
    format: Option<FeedFormat>,
    /// None: each file's stem.
    source: Option<String>,
}

/// Reads `FORMAT:PATH` (FORMAT a preset or a feed section) or `PATH`.
fn source_spec(entry: &str, feeds_cfg: &BTreeMap<String, FeedConfig>) -> Result<SourceSpec, String> {
    if let Some((prefix, path)) = entry.split_once(':') {
        if let Some(feed) = feeds_cfg.get(prefix) {
            let format = feed.resolve().map_err(|e| format!("[label.feeds.{prefix}]: {}", e.join("; ")))?;
            return Ok(SourceSpec { path: path.into(), format: Some(format), source: Some(prefix.to_owned()) });
        }
        if let Some(format) = feeds::preset(prefix) {
            return Ok(SourceSpec { path: path.into(), format: Some(format), source: None });
        }
    }
    Ok(SourceSpec { path: entry.into(), format: None, source: None })
}

/// Which files of a directory are intel: not hidden, not documentation or licences
/// (feeds are often shipped with them).
fn is_intel_file(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    !(name.starts_with('.')
        || name.ends_with(".md")
        || name.contains("license")
        || name.contains("licence")
        || name.contains("readme"))
}

/// The files a spec stands for now (a directory's files are listed again at every
/// load, so new files are picked up).
fn expand(spec: &SourceSpec) -> Result<Vec<PathBuf>, FeedError> {
    let fail = |message: String| FeedError { file: spec.path.display().to_string(), message };
    if spec.path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&spec.path)
            .map_err(|e| fail(e.to_string()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && is_intel_file(p))
            .collect();
        files.sort();
        Ok(files)
    } else if spec.path.exists() {
        Ok(vec![spec.path.clone()])
    } else {
        Err(fail("no such file or directory".into()))
    }
}

/// A finished load: the index and what each file gave.
pub struct Loaded {
    pub index: Index,
    pub reports: Vec<FeedReport>,
    pub files: Vec<PathBuf>,
    pub elapsed: Duration,
}

impl Loaded {
    /// `intel: 1,000,000 indicators from 3 files in 0.40 s, index ~51.1 MiB`
    pub fn summary(&self) -> String {
        format!(
            "intel: {} from {} in {:.2} s, index ~{:.1} MiB",
            feeds::plural(self.index.len(), "indicator"),
            feeds::plural(self.files.len() as u64, "file"),
            self.elapsed.as_secs_f64(),
            self.index.memory_bytes() as f64 / (1024.0 * 1024.0)
        )
    }
}

/// Loads every file of every spec into one new index. Any file that cannot be used
/// fails the whole load (the caller keeps what it had).
fn load_all(specs: &[SourceSpec], opts: &LoadOptions) -> Result<Loaded, Vec<FeedError>> {
    let start = Instant::now();
    let mut builder = IndexBuilder::new();
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    let mut all_files = Vec::new();
    for spec in specs {
        let files = match expand(spec) {
            Ok(f) => f,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        for file in files {
            let format = match &spec.format {
                Some(f) => f.clone(),
                None => match feeds::detect(&file) {
                    Ok(f) => f,
                    Err(e) => {
                        errors.push(FeedError { file: file.display().to_string(), message: e.to_string() });
                        continue;
                    }
                },
            };
            let source = spec.source.clone().unwrap_or_else(|| feeds::source_name(&file));
            match feeds::load(&file, &source, &format, opts, &mut builder) {
                Ok(r) => reports.push(r),
                Err(e) => errors.push(e),
            }
            all_files.push(file);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Loaded { index: builder.finish(), reports, files: all_files, elapsed: start.elapsed() })
}

/// Which indicator types one event field is looked up as.
#[derive(Debug, Clone)]
struct Check {
    field: String,
    kinds: Vec<IndicatorType>,
}

/// The fast path's field names, each to its check.
fn wanted(checks: &[Check]) -> line::Wanted {
    line::Wanted::new(checks.iter().enumerate().map(|(i, c)| (c.field.as_str(), i)))
}

/// Only fields of types the index has: an event costs what the intel needs.
fn checks(fields: &[(IndicatorType, Vec<String>)], index: &Index) -> Vec<Check> {
    let mut out: Vec<Check> = Vec::new();
    for (kind, names) in fields {
        if !index.has(*kind) {
            continue;
        }
        for name in names {
            match out.iter_mut().find(|c| &c.field == name) {
                Some(c) => c.kinds.push(*kind),
                None => out.push(Check { field: name.clone(), kinds: vec![*kind] }),
            }
        }
    }
    out
}

/// A change must be this old before the files are read: writers that rewrite in
/// place are then done.
const SETTLE: Duration = Duration::from_millis(500);
/// How often directories are listed again for new files.
const LIST_EVERY: Duration = Duration::from_secs(1);

type LoadResult = Result<Loaded, Vec<FeedError>>;

/// Watching the intel files and rebuilding the index off the event path.
struct Reloader {
    specs: Vec<SourceSpec>,
    opts: LoadOptions,
    watch: ChangeWatch,
    files: Vec<PathBuf>,
    pending_since: Option<Instant>,
    last_listing: Instant,
    calls: u32,
    inflight: Option<mpsc::Receiver<LoadResult>>,
}

impl Reloader {
    fn new(specs: Vec<SourceSpec>, opts: LoadOptions, files: Vec<PathBuf>) -> Reloader {
        let roots: Vec<PathBuf> = specs.iter().map(|s| s.path.clone()).collect();
        Reloader {
            watch: ChangeWatch::new(&roots),
            specs,
            opts,
            files,
            pending_since: None,
            last_listing: Instant::now(),
            calls: 0,
            inflight: None,
        }
    }

    fn listing_changed(&mut self) -> bool {
        // Asked for every event: look at the clock only now and then.
        self.calls = self.calls.wrapping_add(1);
        if !self.calls.is_multiple_of(1024) || self.last_listing.elapsed() < LIST_EVERY {
            return false;
        }
        self.last_listing = Instant::now();
        let now: Vec<PathBuf> = self.specs.iter().filter_map(|s| expand(s).ok()).flatten().collect();
        now != self.files
    }

    /// A finished reload, if one is ready; starts one when files changed and settled.
    /// Cheap enough to ask between any two events.
    fn poll(&mut self, idle: bool) -> Option<LoadResult> {
        if let Some(rx) = &self.inflight {
            return match rx.try_recv() {
                Ok(result) => {
                    self.inflight = None;
                    Some(result)
                }
                Err(mpsc::TryRecvError::Empty) => None,
                Err(mpsc::TryRecvError::Disconnected) => {
                    self.inflight = None;
                    let file = "intel reload".to_owned();
                    Some(Err(vec![FeedError { file, message: "the loading thread stopped unexpectedly".into() }]))
                }
            };
        }
        if self.watch.changed() || self.listing_changed() || (idle && self.listing_due()) {
            self.pending_since = Some(Instant::now());
        }
        if self.pending_since.is_some_and(|t| t.elapsed() >= SETTLE) {
            self.pending_since = None;
            let (tx, rx) = mpsc::channel();
            let specs = self.specs.clone();
            let opts = self.opts;
            let spawned = std::thread::Builder::new().name("metron-intel-reload".into()).spawn(move || {
                let _ = tx.send(load_all(&specs, &opts));
            });
            match spawned {
                Ok(_) => self.inflight = Some(rx),
                Err(e) => {
                    return Some(Err(vec![FeedError { file: "intel reload".into(), message: e.to_string() }]));
                }
            }
        }
        None
    }

    /// While waiting for input there is time to list directories.
    fn listing_due(&mut self) -> bool {
        if self.last_listing.elapsed() < LIST_EVERY {
            return false;
        }
        self.calls = 1023;
        self.listing_changed()
    }

    fn loaded(&mut self, files: &[PathBuf]) {
        self.files = files.to_vec();
        let roots: Vec<PathBuf> = self.specs.iter().map(|s| s.path.clone()).collect();
        self.watch = ChangeWatch::new(&roots);
    }
}

/// Counts for the end-of-run line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LabelStats {
    pub events: u64,
    /// Events with at least one intel hit.
    pub labeled: u64,
    pub hits: u64,
    /// Hits dropped because the indicator was not valid at the event's time.
    pub outside_validity: u64,
    pub scored: u64,
    pub reloads: u64,
    pub failed_reloads: u64,
}

/// The running stage.
pub struct LabelStage {
    index: Index,
    fields: Vec<(IndicatorType, Vec<String>)>,
    checks: Vec<Check>,
    wanted: line::Wanted,
    triage: Option<triage::Triage>,
    reloader: Option<Reloader>,
    reports: Vec<FeedReport>,
    load_summary: String,
    hits: Vec<(usize, Hit)>,
    /// For stderr at the next tick.
    messages: Vec<String>,
    pub stats: LabelStats,
}

impl StageConfig for LabelSettings {
    type Runtime = LabelStage;
    type Error = LabelBuildError;

    fn build(self) -> Result<LabelStage, LabelBuildError> {
        let mut problems = Vec::new();
        let mut specs = Vec::new();
        for entry in &self.intel {
            match source_spec(entry, &self.feeds) {
                Ok(s) => specs.push(s),
                Err(e) => problems.push(e),
            }
        }
        for (name, feed) in &self.feeds {
            match (feed.resolve(), &feed.path) {
                (Ok(format), Some(path)) => {
                    specs.push(SourceSpec { path: path.clone(), format: Some(format), source: Some(name.clone()) })
                }
                (Ok(_), None) => {}
                (Err(errs), _) => problems.extend(errs.into_iter().map(|e| format!("[label.feeds.{name}]: {e}"))),
            }
        }
        let triage = match self.triage.compile() {
            Ok(t) if t.is_empty() => None,
            Ok(t) => Some(t),
            Err(errs) => {
                problems.extend(errs);
                None
            }
        };
        if specs.is_empty() && triage.is_none() && problems.is_empty() {
            problems.push("no intel to label with: give --intel FILE|DIR, or [label] intel / [label.feeds.NAME] path, or [label.triage] rules".into());
        }
        if !problems.is_empty() {
            return Err(LabelBuildError(problems));
        }
        let opts = LoadOptions {
            cidr_equality: self.cidr_equality,
            max_line: self.max_line_bytes,
            max_stix_bytes: self.max_stix_bytes,
        };
        let loaded = load_all(&specs, &opts)
            .map_err(|errs| LabelBuildError(errs.iter().map(|e| format!("intel {e}")).collect()))?;
        let fields = self.fields.resolve();
        let reloader = (self.reload && !specs.is_empty()).then(|| Reloader::new(specs, opts, loaded.files.clone()));
        let checks = checks(&fields, &loaded.index);
        Ok(LabelStage {
            wanted: wanted(&checks),
            checks,
            load_summary: loaded.summary(),
            index: loaded.index,
            fields,
            triage,
            reloader,
            reports: loaded.reports,
            hits: Vec::new(),
            messages: Vec::new(),
            stats: LabelStats::default(),
        })
    }
}

impl LabelStage {
    /// What each intel file gave at the first load.
    pub fn reports(&self) -> &[FeedReport] {
        &self.reports
    }

    /// One line: how many indicators, from how many files, in how long, how big.
    pub fn load_summary(&self) -> &str {
        &self.load_summary
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    /// Swaps in a reloaded index when one is ready, and starts a reload when files
    /// changed. Between two events: a stream on stdin never waits for a tick.
    fn refresh(&mut self, idle: bool) {
        let Some(reloader) = self.reloader.as_mut() else { return };
        match reloader.poll(idle) {
            Some(Ok(loaded)) => {
                reloader.loaded(&loaded.files);
                self.stats.reloads += 1;
                self.messages.push(format!("label: reloaded {}", loaded.summary()));
                for r in &loaded.reports {
                    self.messages.push(format!("label:   {r}"));
                }
                self.checks = checks(&self.fields, &loaded.index);
                self.wanted = wanted(&self.checks);
                self.load_summary = loaded.summary();
                self.reports = loaded.reports;
                self.index = loaded.index;
            }
            Some(Err(errors)) => {
                self.stats.failed_reloads += 1;
                self.messages
                    .push("label: intel changed but could not be reloaded; the previous intel stays in use:".into());
                self.messages.extend(errors.iter().map(|e| format!("label:   {e}")));
            }
            None => {}
        }
    }

    /// Rules that could not be evaluated on some alerts (for the end of the run).
    pub fn triage_messages(&mut self) -> Vec<String> {
        self.triage.as_mut().map(|t| t.failure_messages()).unwrap_or_default()
    }

    /// Looks `value` up as `kind`; `join` makes a URL of a path-only value.
    fn lookup(&self, kind: IndicatorType, value: &str, join: impl Fn(&str) -> Option<String>, f: &mut impl FnMut(Hit)) {
        match kind {
            IndicatorType::Ip => self.index.lookup_ip(value, f),
            IndicatorType::Domain => self.index.lookup_domain(value, f),
            IndicatorType::Url if value.starts_with('/') => {
                if let Some(url) = join(value) {
                    self.index.lookup_url(&url, f)
                }
            }
            IndicatorType::Url => self.index.lookup_url(value, f),
            IndicatorType::Email => self.index.lookup_email(value, f),
            k => self.index.lookup_hash(value, k, f),
        }
    }

    fn apply_hits(&mut self, event: &mut Event, hits: &[(usize, Hit)]) {
        let at = event.get(fields::TIMESTAMP).and_then(Value::as_i64).unwrap_or_else(now_ms);
        let mut seen: Vec<(u16, usize, IndicatorType)> = Vec::with_capacity(hits.len());
        for (check_no, hit) in hits {
            let meta = self.index.meta(hit.entry.meta);
            if meta.is_some_and(|m| !m.valid_at(at)) {
                self.stats.outside_validity += 1;
                continue;
            }
            // One hit per source, field and type: the first is the most specific
            // (the address before its networks, the name before its parents).
            let key = (hit.entry.source, *check_no, hit.kind);
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            let source = self.index.sources().get(hit.entry.source as usize).map_or("intel", String::as_str);
            let field = &self.checks[*check_no].field;
            let base = format!("threatintels.{source}.{field}.{}", hit.kind.name());
            event.insert(format!("{base}.indicator"), Value::String(hit.indicator.clone()));
            if let Some(m) = meta {
                if let Some(id) = &m.id {
                    event.insert(format!("{base}.id"), Value::String(id.clone()));
                }
                if let Some(name) = &m.name {
                    event.insert(format!("{base}.name"), Value::String(name.clone()));
                }
                if !m.labels.is_empty() {
                    let labels = m.labels.iter().map(|l| Value::String(l.clone())).collect();
                    event.insert(format!("{base}.labels"), Value::Array(labels));
                }
                if let Some(c) = m.confidence {
                    event.insert(format!("{base}.confidence"), Value::from(c));
                }
            }
            event.insert(base, Value::from("alert"));
            self.stats.hits += 1;
        }
        if !seen.is_empty() {
            event.insert(fields::IS_ALERT.to_owned(), Value::Bool(true));
            self.stats.labeled += 1;
        }
    }
}

/// `http://host[:port]/path` from a path-only URL field and the event's host.
fn join_url(event: &Event, path: &str) -> Option<String> {
    let host = URL_HOST_FIELDS.iter().find_map(|f| event.get(*f)?.as_str());
    join_url_parts(host, event.get(fields::IP_DST_PORT).and_then(Value::as_u64), path)
}

fn join_url_parts(host: Option<&str>, dst_port: Option<u64>, path: &str) -> Option<String> {
    let host = host.filter(|h| !h.is_empty())?;
    let has_port = host.rsplit_once(':').is_some_and(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()));
    let port = match dst_port {
        Some(p) if !has_port && p != 80 => format!(":{p}"),
        _ => String::new(),
    };
    Some(format!("http://{host}{port}{path}"))
}

fn is_alert(event: &Event) -> bool {
    match event.get(fields::IS_ALERT) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

impl Stage for LabelStage {
    fn name(&self) -> &str {
        "label"
    }

    fn error_type(&self) -> ErrorType {
        ErrorType::ThreatIntelError
    }

    fn process(&mut self, mut event: Event, out: &mut Vec<Event>) -> Result<(), StageError> {
        self.refresh(false);
        self.stats.events += 1;
        let mut hits = std::mem::take(&mut self.hits);
        hits.clear();
        for (check_no, check) in self.checks.iter().enumerate() {
            let Some(value) = event.get(check.field.as_str()) else { continue };
            let join = |path: &str| join_url(&event, path);
            let mut push = |h: Hit| hits.push((check_no, h));
            for &kind in &check.kinds {
                match value {
                    Value::String(s) => self.lookup(kind, s, join, &mut push),
                    // Zeek sets and vectors (rcptto, cert_chain_fps).
                    Value::Array(items) => {
                        for s in items.iter().filter_map(Value::as_str) {
                            self.lookup(kind, s, join, &mut push);
                        }
                    }
                    _ => {}
                }
            }
        }
        if !hits.is_empty() {
            self.apply_hits(&mut event, &hits);
        }
        self.hits = hits;
        if let Some(t) = self.triage.as_mut() {
            if is_alert(&event) {
                t.apply(&mut event);
                self.stats.scored += 1;
            }
        }
        out.push(event);
        Ok(())
    }

    fn process_line(&mut self, line: &[u8], out: &mut Vec<u8>) -> Option<u64> {
        self.refresh(false);
        let found = line::scan(line, &self.wanted)?;
        if found.is_alert && self.triage.is_some() {
            return None;
        }
        let host = found.hosts[0].as_deref().or(found.hosts[1].as_deref());
        let join = |path: &str| join_url_parts(host, found.dst_port, path);
        let mut hit = false;
        for (check_no, value) in &found.values {
            for &kind in &self.checks[*check_no].kinds {
                self.lookup(kind, value, join, &mut |_| hit = true);
            }
            if hit {
                // Written by `process`, which has the event to add to.
                return None;
            }
        }
        self.stats.events += 1;
        out.extend_from_slice(line);
        out.push(b'\n');
        Some(1)
    }

    fn summary(&self) -> Option<String> {
        let s = &self.stats;
        let mut parts = vec![format!("{} labeled ({} intel hits)", io::thousands(s.labeled), io::thousands(s.hits))];
        if self.triage.is_some() {
            parts.push(format!("{} alerts scored", io::thousands(s.scored)));
        }
        if s.outside_validity > 0 {
            parts.push(format!("{} hits outside the indicator's validity", io::thousands(s.outside_validity)));
        }
        if s.reloads > 0 {
            parts.push(format!("{} intel reloads", io::thousands(s.reloads)));
        }
        if s.failed_reloads > 0 {
            parts.push(format!("{} broken intel replacements kept out", io::thousands(s.failed_reloads)));
        }
        Some(parts.join(", "))
    }

    fn tick(&mut self, _out: &mut Vec<Event>) -> Vec<String> {
        self.refresh(true);
        let mut messages = std::mem::take(&mut self.messages);
        messages.extend(self.triage_messages());
        messages
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::event_from_value;
    use serde_json::json;

    fn stage_with(files: &[(&str, &str)]) -> (tempfile::TempDir, LabelStage) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let settings = LabelSettings {
            intel: vec![dir.path().display().to_string()],
            reload: false,
            max_line_bytes: io::DEFAULT_MAX_LINE,
            max_stix_bytes: feeds::DEFAULT_MAX_STIX_BYTES,
            ..LabelSettings::default()
        };
        let stage = settings.build().unwrap();
        (dir, stage)
    }

    fn label(stage: &mut LabelStage, event: serde_json::Value) -> Event {
        let mut out = Vec::new();
        stage.process(event_from_value(event).unwrap(), &mut out).unwrap();
        out.pop().unwrap()
    }

    #[test]
    fn a_hit_adds_metron_fields_and_is_alert() {
        let (_d, mut stage) = stage_with(&[("bad-hosts.txt", "# comment\nevil.com\n203.0.113.0/24\n")]);
        let e = label(
            &mut stage,
            json!({"ip_src_addr": "10.0.0.1", "ip_dst_addr": "203.0.113.9", "query": "a.b.evil.com"}),
        );
        assert_eq!(e["threatintels.bad-hosts.ip_dst_addr.ip"], "alert");
        assert_eq!(e["threatintels.bad-hosts.ip_dst_addr.ip.indicator"], "203.0.113.0/24");
        assert_eq!(e["threatintels.bad-hosts.query.domain"], "alert");
        assert_eq!(e["threatintels.bad-hosts.query.domain.indicator"], "evil.com");
        assert_eq!(e["is_alert"], true);
        assert_eq!(stage.stats.labeled, 1);
        let clean = json!({"ip_src_addr": "10.0.0.1", "query": "good.org"});
        assert_eq!(serde_json::to_value(label(&mut stage, clean.clone())).unwrap(), clean);
    }

    #[test]
    fn the_line_fast_path_gives_what_process_gives() {
        let (_d, mut stage) = stage_with(&[("l.txt", "evil.com\n203.0.113.0/24\nhttp://evil.example:8080/x\n")]);
        let lines = [
            r#"{"ip_src_addr":"10.0.0.1","ip_dst_addr":"192.0.2.1","n":1.50,"t":"\u00e9"}"#,
            r#"{"ip_dst_addr":"203.0.113.9"}"#,
            r#"{"query":"a.evil.com","answers":["x"]}"#,
            r#"{"http.hostname":"evil.example","http.url":"/x","ip_dst_port":8080}"#,
            r#"{"http.hostname":"evil.example","http.url":"/x","ip_dst_port":"8080"}"#,
            r#"{"rcptto":[1,null,{"a":"evil.com"}],"query":5}"#,
        ];
        for line in lines {
            let mut fast = Vec::new();
            let passed = stage.process_line(line.as_bytes(), &mut fast).is_some();
            let mut out = Vec::new();
            stage.process(serde_json::from_str(line).unwrap(), &mut out).unwrap();
            let slow = serde_json::to_value(&out[0]).unwrap();
            let original: serde_json::Value = serde_json::from_str(line).unwrap();
            if passed {
                assert_eq!(fast, format!("{line}\n").into_bytes());
                assert_eq!(slow, original, "{line}: the fast path passed a line process changes");
            } else {
                assert_ne!(slow, original, "{line}: left to process for nothing");
            }
        }
    }

    #[test]
    fn path_only_urls_are_joined_with_the_host() {
        let (_d, mut stage) = stage_with(&[("u.txt", "http://evil.example:8080/bin.sh\nhttp://x4z9arb.cn/4712/\n")]);
        let e = label(&mut stage, json!({"host": "x4z9arb.cn", "uri": "/4712/", "ip_dst_port": 80}));
        assert_eq!(e["threatintels.u.uri.url"], "alert");
        let e = label(&mut stage, json!({"http.hostname": "EVIL.example", "http.url": "/bin.sh", "ip_dst_port": 8080}));
        assert_eq!(e["threatintels.u.http.url.url.indicator"], "http://evil.example:8080/bin.sh");
    }

    #[test]
    fn arrays_are_looked_up_element_by_element() {
        let (_d, mut stage) = stage_with(&[("m.txt", "bad@evil.com\n")]);
        let e = label(&mut stage, json!({"rcptto": ["ok@good.org", "<BAD@evil.com>"]}));
        assert_eq!(e["threatintels.m.rcptto.email"], "alert");
    }

    #[test]
    fn fields_config_replaces_a_types_defaults() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ips.txt"), "192.0.2.1\n").unwrap();
        let settings = LabelSettings {
            intel: vec![dir.path().join("ips.txt").display().to_string()],
            fields: FieldsConfig { ip: Some(vec!["peer".into()]), ..FieldsConfig::default() },
            max_line_bytes: io::DEFAULT_MAX_LINE,
            max_stix_bytes: feeds::DEFAULT_MAX_STIX_BYTES,
            ..LabelSettings::default()
        };
        let mut stage = settings.build().unwrap();
        let e = label(&mut stage, json!({"ip_src_addr": "192.0.2.1", "peer": "192.0.2.1"}));
        assert!(e.contains_key("threatintels.ips.peer.ip"));
        assert!(!e.contains_key("threatintels.ips.ip_src_addr.ip"));
    }

    #[test]
    fn nothing_to_do_is_a_usage_error() {
        let err = LabelSettings::default().build().err().unwrap();
        assert!(err.to_string().contains("--intel"), "{err}");
    }

    #[test]
    fn a_missing_intel_file_stops_the_start() {
        let settings = LabelSettings { intel: vec!["/nonexistent/feed.csv".into()], ..LabelSettings::default() };
        let err = settings.build().err().unwrap();
        assert!(err.to_string().contains("/nonexistent/feed.csv"), "{err}");
    }

    #[test]
    fn a_changed_feed_is_reloaded_and_a_broken_one_keeps_the_old_index() {
        let dir = tempfile::tempdir().unwrap();
        let feed = dir.path().join("ips.txt");
        std::fs::write(&feed, "192.0.2.1\n").unwrap();
        let settings = LabelSettings {
            intel: vec![feed.display().to_string()],
            reload: true,
            max_line_bytes: io::DEFAULT_MAX_LINE,
            max_stix_bytes: feeds::DEFAULT_MAX_STIX_BYTES,
            ..LabelSettings::default()
        };
        let mut stage = settings.build().unwrap();
        let hit =
            |stage: &mut LabelStage, ip: &str| label(stage, json!({ "ip_dst_addr": ip })).contains_key("is_alert");
        assert!(hit(&mut stage, "192.0.2.1"));
        let wait_for = |stage: &mut LabelStage, what: &str| {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                let msgs = stage.tick(&mut Vec::new());
                if let Some(m) = msgs.iter().find(|m| m.contains(what)) {
                    return m.clone();
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            panic!("no {what:?} message");
        };
        let tmp = dir.path().join(".ips.txt.new");
        std::fs::write(&tmp, "192.0.2.2\n").unwrap();
        std::fs::rename(&tmp, &feed).unwrap();
        wait_for(&mut stage, "reloaded");
        assert!(!hit(&mut stage, "192.0.2.1"));
        assert!(hit(&mut stage, "192.0.2.2"));
        std::fs::write(&tmp, "this is not\nan intel feed\n").unwrap();
        std::fs::rename(&tmp, &feed).unwrap();
        let msg = wait_for(&mut stage, "could not be reloaded");
        assert!(msg.contains("previous intel"), "{msg}");
        assert!(hit(&mut stage, "192.0.2.2"), "the old index stays");
        assert_eq!((stage.stats.reloads, stage.stats.failed_reloads), (1, 1));
    }
}
