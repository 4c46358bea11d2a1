//! Intel files in the formats feeds are really published in: abuse.ch's URLhaus,
//! Feodo Tracker and SSLBL CSVs, MISP CSV exports, Emerging Threats-style plain lists,
//! any CSV described by a column mapping (Apache Metron's extractor config:
//! `columns`, `indicator_column`, `type`, `separator`), and STIX JSON. Each file is
//! streamed line by line through the I/O layer, so a malformed row is reported with
//! its line number and the rest still loads.

use super::index::{Added, IndexBuilder, Indicator, IndicatorType, Meta, NO_META};
use super::stix::{self, CidrEquality};
use crate::io::{self, LineData};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The built-in formats, by the names `--intel NAME:FILE` accepts.
pub const PRESETS: [&str; 7] = ["stix", "urlhaus", "feodo", "sslbl", "misp", "list", "csv"];

/// A column, by name or by position (0-based).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Column {
    Index(usize),
    Name(String),
}

/// Column names: in order, or as Apache Metron wrote them, name to position.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Columns {
    List(Vec<String>),
    Map(BTreeMap<String, usize>),
}

/// `[label.feeds.NAME]`: one feed's file and how to read it. NAME is the source in
/// `threatintels.<source>.<field>.<type>`, and the FORMAT of `--intel NAME:FILE` (a
/// NAME that is also a preset's name stands for this section there).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    /// The file (or a directory of files in this format). Without one, the section
    /// only defines a format for `--intel NAME:FILE`.
    pub path: Option<PathBuf>,
    /// A preset (`urlhaus`, `feodo`, `sslbl`, `misp`, `list`, `stix`) or `csv`; the
    /// keys below override the preset's.
    pub format: Option<String>,
    pub columns: Option<Columns>,
    pub indicator_column: Option<Column>,
    /// The indicator type of every row (`ip`, `domain`, `url`, `email`, `md5`, `sha1`,
    /// `sha256`), or `auto` to tell by the value.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// A column holding each row's type (MISP type names are understood).
    pub type_column: Option<Column>,
    /// One character; `\t` for tabs.
    pub separator: Option<String>,
    /// Lines starting with this are comments (default `#`).
    pub comment: Option<String>,
    /// The first line that is not a comment is a header (skipped; names columns).
    pub header: Option<bool>,
    /// Shown as `...name`: the malware, threat or reason column.
    pub name_column: Option<Column>,
    /// Shown as `...labels`, split on `labels_separator` (default `,`).
    pub labels_column: Option<Column>,
    pub labels_separator: Option<String>,
    /// Rows whose value here is 0/false are not for detection (MISP's to_ids).
    pub to_ids_column: Option<Column>,
    /// Listed domains also match their subdomains (default true).
    pub subdomains: Option<bool>,
}

/// How a table-shaped file is read, resolved from a preset and a `FeedConfig`.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedLayout {
    /// For reports: the preset or `csv` / `list`.
    pub format: String,
    /// None: the whole line is the indicator (plain lists).
    pub separator: Option<u8>,
    pub columns: Vec<String>,
    pub indicator: usize,
    /// None: told by the value (or by `type_column`).
    pub kind: Option<IndicatorType>,
    pub type_column: Option<usize>,
    pub name_column: Option<usize>,
    pub labels_column: Option<usize>,
    pub labels_separator: char,
    pub to_ids_column: Option<usize>,
    pub comment: String,
    pub header: bool,
    pub subdomains: bool,
}

/// What a file holds.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedFormat {
    Stix,
    Table(FeedLayout),
}

impl FeedFormat {
    pub fn name(&self) -> &str {
        match self {
            FeedFormat::Stix => "stix",
            FeedFormat::Table(t) => &t.format,
        }
    }
}

fn cols(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// The built-in formats.
pub fn preset(name: &str) -> Option<FeedFormat> {
    let table = |format: &str, columns: Vec<String>, indicator: usize, kind: Option<IndicatorType>| FeedLayout {
        format: format.to_owned(),
        separator: Some(b','),
        columns,
        indicator,
        kind,
        type_column: None,
        name_column: None,
        labels_column: None,
        labels_separator: ',',
        to_ids_column: None,
        comment: "#".to_owned(),
        header: false,
        subdomains: true,
    };
    Some(match name {
        "stix" => FeedFormat::Stix,
        // id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter
        "urlhaus" => FeedFormat::Table(FeedLayout {
            name_column: Some(5),
            labels_column: Some(6),
            ..table(
                "urlhaus",
                cols(&[
                    "id",
                    "dateadded",
                    "url",
                    "url_status",
                    "last_online",
                    "threat",
                    "tags",
                    "urlhaus_link",
                    "reporter",
                ]),
                2,
                Some(IndicatorType::Url),
            )
        }),
        "feodo" => FeedFormat::Table(FeedLayout {
            name_column: Some(5),
            labels_column: Some(3),
            ..table(
                "feodo",
                cols(&["first_seen_utc", "dst_ip", "dst_port", "c2_status", "last_online", "malware"]),
                1,
                Some(IndicatorType::Ip),
            )
        }),
        "sslbl" => FeedFormat::Table(FeedLayout {
            name_column: Some(2),
            ..table("sslbl", cols(&["Listingdate", "SHA1", "Listingreason"]), 1, Some(IndicatorType::Sha1))
        }),
        "misp" => FeedFormat::Table(FeedLayout {
            type_column: Some(3),
            name_column: Some(5),
            labels_column: Some(2),
            to_ids_column: Some(6),
            ..table(
                "misp",
                cols(&["uuid", "event_id", "category", "type", "value", "comment", "to_ids", "date"]),
                4,
                None,
            )
        }),
        "list" => FeedFormat::Table(FeedLayout { separator: None, ..table("list", cols(&["indicator"]), 0, None) }),
        "csv" => FeedFormat::Table(FeedLayout { header: true, ..table("csv", Vec::new(), 0, None) }),
        _ => return None,
    })
}

impl FeedConfig {
    /// The format this section describes, or every problem with it.
    pub fn resolve(&self) -> Result<FeedFormat, Vec<String>> {
        let base = self.format.as_deref().unwrap_or(if self.columns.is_some() { "csv" } else { "list" });
        let Some(format) = preset(base) else {
            return Err(vec![format!("format {base:?}: not one of {}", PRESETS.join(", "))]);
        };
        let mut t = match format {
            FeedFormat::Stix => {
                let table_keys = self.columns.is_some() || self.indicator_column.is_some() || self.separator.is_some();
                return if table_keys {
                    Err(vec!["a stix feed takes no columns or separator".into()])
                } else {
                    Ok(FeedFormat::Stix)
                };
            }
            FeedFormat::Table(t) => t,
        };
        let mut problems = Vec::new();
        if let Some(c) = &self.columns {
            t.columns = c.names();
            // Explicit columns describe the data: no header line needs to name them.
            if self.header.is_none() && t.format == "csv" {
                t.header = false;
            }
        }
        self.resolve_columns(&mut t, &mut problems);
        self.resolve_syntax(&mut t, &mut problems);
        if problems.is_empty() {
            Ok(FeedFormat::Table(t))
        } else {
            Err(problems)
        }
    }

    /// The indicator, type, name, labels and to_ids columns, by index or by name.
    fn resolve_columns(&self, t: &mut FeedLayout, problems: &mut Vec<String>) {
        let columns = t.columns.clone();
        let find = |c: &Column, what: &str| -> Result<usize, String> {
            match c {
                Column::Index(i) => Ok(*i),
                Column::Name(n) => columns
                    .iter()
                    .position(|c| c == n)
                    .ok_or_else(|| format!("{what} {n:?} is not among the columns {columns:?}")),
            }
        };
        if let Some(c) = &self.indicator_column {
            t.indicator = find(c, "indicator_column").unwrap_or_else(|p| {
                problems.push(p);
                0
            });
        } else if t.format == "csv" && !t.columns.is_empty() && self.format.as_deref() != Some("list") {
            problems.push("a csv feed needs indicator_column".into());
        }
        for (given, what, slot) in [
            (&self.type_column, "type_column", &mut t.type_column),
            (&self.name_column, "name_column", &mut t.name_column),
            (&self.labels_column, "labels_column", &mut t.labels_column),
            (&self.to_ids_column, "to_ids_column", &mut t.to_ids_column),
        ] {
            if let Some(c) = given {
                *slot = find(c, what).map_err(|p| problems.push(p)).ok();
            }
        }
    }

    /// The indicator type, separators, comment, header and subdomain settings.
    fn resolve_syntax(&self, t: &mut FeedLayout, problems: &mut Vec<String>) {
        if let Some(k) = &self.kind {
            t.kind = match k.as_str() {
                "auto" => None,
                other => IndicatorType::from_name(other).or_else(|| {
                    problems
                        .push(format!("type {other:?}: not one of auto, ip, domain, url, email, md5, sha1, sha256"));
                    None
                }),
            };
        }
        if let Some(sep) = &self.separator {
            match one_char(sep) {
                Some(b) if t.separator.is_some() || t.format == "csv" => t.separator = Some(b),
                Some(_) => problems.push("separator: a list has one indicator per line".into()),
                None => problems.push(format!("separator {sep:?}: one ASCII character (or \\t)")),
            }
        }
        if let Some(sep) = &self.labels_separator {
            match one_char(sep) {
                Some(b) => t.labels_separator = b as char,
                None => problems.push(format!("labels_separator {sep:?}: one ASCII character")),
            }
        }
        if let Some(c) = &self.comment {
            t.comment = c.clone();
        }
        if let Some(h) = self.header {
            t.header = h;
        }
        if let Some(s) = self.subdomains {
            t.subdomains = s;
        }
    }
}

impl Columns {
    /// The column names in order (a map gives each name its index).
    fn names(&self) -> Vec<String> {
        match self {
            Columns::List(names) => names.clone(),
            Columns::Map(m) => {
                let width = m.values().max().map_or(0, |w| w + 1);
                let mut names = vec![String::new(); width];
                for (name, &i) in m {
                    names[i] = name.clone();
                }
                names
            }
        }
    }
}

fn one_char(s: &str) -> Option<u8> {
    match s {
        "\\t" | "\t" => Some(b'\t'),
        _ if s.len() == 1 && s.is_ascii() => s.bytes().next(),
        _ => None,
    }
}

/// Tells a file's format by its first lines (and, failing that, its name).
pub fn detect(path: &Path) -> std::io::Result<FeedFormat> {
    let mut head = Vec::with_capacity(16 * 1024);
    io::open_input(path)?.take(16 * 1024).read_to_end(&mut head)?;
    let text = String::from_utf8_lossy(&head);
    let first = text.trim_start();
    let name = file_name(path).to_ascii_lowercase();
    if first.starts_with('{') || first.starts_with('[') || name.ends_with(".json") {
        return Ok(FeedFormat::Stix);
    }
    let header = |l: &str| l.trim_start_matches('#').trim().replace('"', "").to_ascii_lowercase();
    // abuse.ch banners: `# abuse.ch URLhaus Database Dump (CSV ...)`.
    let banner = |line: &str, name: &str| line.starts_with('#') && line.contains(name);
    for line in text.lines().take(40) {
        let h = header(line);
        let preset_name = if h.starts_with("id,dateadded,url,") || banner(line, "abuse.ch URLhaus") {
            "urlhaus"
        } else if h.starts_with("first_seen_utc,dst_ip,") || banner(line, "abuse.ch Feodo Tracker") {
            "feodo"
        } else if h.starts_with("listingdate,sha1,") || banner(line, "abuse.ch SSLBL") {
            "sslbl"
        } else if h.starts_with("uuid,event_id,category,type,value") {
            "misp"
        } else {
            continue;
        };
        return Ok(preset(preset_name).unwrap_or(FeedFormat::Stix));
    }
    for p in ["urlhaus", "feodo", "sslbl", "misp"] {
        if name.contains(p) {
            return Ok(preset(p).unwrap_or(FeedFormat::Stix));
        }
    }
    Ok(preset("list").unwrap_or(FeedFormat::Stix))
}

/// The name without directories and without `.gz` / `.zst`.
fn file_name(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    name.strip_suffix(".gz").or_else(|| name.strip_suffix(".zst")).unwrap_or(&name).to_owned()
}

/// A source name from a file name: the stem, with dots (which would split the
/// output keys) made underscores.
pub fn source_name(path: &Path) -> String {
    let name = file_name(path);
    let stem = match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => &name,
    };
    stem.replace('.', "_")
}

/// What loading one file gave, for the report on stderr.
#[derive(Debug, Clone, Default)]
pub struct FeedReport {
    pub file: String,
    pub source: String,
    pub format: String,
    /// New indicators per type, in `IndicatorType::ALL` order.
    pub counts: [u64; 7],
    /// The same value listed again by the same source.
    pub duplicates: u64,
    /// Rows or objects that are not valid indicators.
    pub malformed: u64,
    /// Patterns not evaluated (with the reason).
    pub not_evaluated: u64,
    /// The first problems, each naming its line or object.
    pub problems: Vec<String>,
    /// Notes that do not lose anything (a CIDR compared as text).
    pub notes: Vec<String>,
    /// Things set aside on purpose, counted: revoked, superseded, not for detection.
    pub skipped: BTreeMap<String, u64>,
}

/// How many problems of one file are kept to show; the rest are counted.
pub const SHOWN_PROBLEMS: usize = 20;

impl FeedReport {
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    fn problem(&mut self, text: String) {
        if self.problems.len() < SHOWN_PROBLEMS {
            self.problems.push(text);
        }
    }

    fn count(&mut self, kind: IndicatorType, added: Added) {
        match added {
            Added::New => self.counts[IndicatorType::ALL.iter().position(|k| *k == kind).unwrap_or(0)] += 1,
            Added::Duplicate => self.duplicates += 1,
        }
    }
}

impl fmt::Display for FeedReport {
    /// `feeds/urlhaus.csv (urlhaus, source urlhaus): 200 indicators: 200 url`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}, source {}): {}", self.file, self.format, self.source, plural(self.total(), "indicator"))?;
        let by_type: Vec<String> = IndicatorType::ALL
            .iter()
            .zip(self.counts)
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| format!("{} {}", io::thousands(n), k.name()))
            .collect();
        if !by_type.is_empty() {
            write!(f, ": {}", by_type.join(", "))?;
        }
        let mut extra = Vec::new();
        if self.duplicates > 0 {
            extra.push(plural(self.duplicates, "duplicate"));
        }
        if self.malformed > 0 {
            extra.push(format!("{} malformed", io::thousands(self.malformed)));
        }
        if self.not_evaluated > 0 {
            extra.push(format!("{} not evaluated", plural(self.not_evaluated, "pattern")));
        }
        for (why, n) in &self.skipped {
            extra.push(format!("{} {why}", io::thousands(*n)));
        }
        if !extra.is_empty() {
            write!(f, " ({})", extra.join(", "))?;
        }
        Ok(())
    }
}

/// `1 indicator`, `1,000 indicators`.
pub fn plural(n: u64, one: &str) -> String {
    format!("{} {one}{}", io::thousands(n), if n == 1 { "" } else { "s" })
}

/// A file that could not be used at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct FeedError {
    pub file: String,
    pub message: String,
}

/// Options that apply to every file.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    pub cidr_equality: CidrEquality,
    pub max_line: usize,
    /// Largest STIX file, decompressed.
    pub max_stix_bytes: u64,
}

/// Loads one file into `builder`. A file that cannot be read, or that has malformed
/// rows and not one usable indicator, is an error, and the caller decides (refuse to
/// start, or keep the old index on reload).
pub fn load(
    path: &Path,
    source: &str,
    format: &FeedFormat,
    opts: &LoadOptions,
    builder: &mut IndexBuilder,
) -> Result<FeedReport, FeedError> {
    let file = path.display().to_string();
    let mut report = FeedReport {
        file: file.clone(),
        source: source.to_owned(),
        format: format.name().to_owned(),
        ..Default::default()
    };
    let src = builder.source(source);
    let fail = |message: String| FeedError { file: file.clone(), message };
    match format {
        FeedFormat::Stix => load_stix(path, src, opts, builder, &mut report).map_err(fail)?,
        FeedFormat::Table(spec) => load_table(path, src, spec, opts, builder, &mut report).map_err(fail)?,
    }
    // Patterns we cannot evaluate are the intel's business; rows that are not
    // indicators at all, with not one that is, mean the file is not what it claims.
    if report.total() == 0 && report.duplicates == 0 && report.malformed > 0 {
        let first = report.problems.first().cloned().unwrap_or_default();
        return Err(FeedError {
            file,
            message: format!("not one usable indicator ({} malformed); first: {first}", report.malformed),
        });
    }
    Ok(report)
}

/// STIX files are JSON documents: read whole (up to a cap), then walked. The parsed
/// tree takes a few times the file's size, so the default cap keeps a hostile bundle
/// (or a small `.zst` that expands) near a gigabyte at most.
pub const DEFAULT_MAX_STIX_BYTES: u64 = 128 << 20;

fn load_stix(
    path: &Path,
    src: u16,
    opts: &LoadOptions,
    builder: &mut IndexBuilder,
    report: &mut FeedReport,
) -> Result<(), String> {
    let mut bytes = Vec::new();
    let max = opts.max_stix_bytes;
    io::open_input(path)
        .and_then(|r| r.take(max.saturating_add(1)).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max {
        return Err(format!(
            "over {} bytes of STIX (decompressed); raise --max-stix-bytes (or [label] max_stix_bytes) to read it",
            crate::io::thousands(max)
        ));
    }
    let json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))?;
    drop(bytes);
    let file = stix::read_stix(&json);
    for (location, message) in &file.malformed {
        report.malformed += 1;
        report.problem(format!("{location}: {message}"));
    }
    for (location, what) in &file.other_language {
        report.not_evaluated += 1;
        report.problem(format!("{location}: not evaluated: {what} (only STIX patterns are)"));
    }
    if file.revoked > 0 {
        report.skipped.insert("revoked".into(), file.revoked);
    }
    if file.superseded > 0 {
        report.skipped.insert("older versions".into(), file.superseded);
    }
    for ind in &file.indicators {
        let expr = match stix::parse_pattern(&ind.pattern) {
            Ok(e) => e,
            Err(e) => {
                report.malformed += 1;
                report.problem(format!("{} {}: pattern does not parse: {e}: {}", ind.location, ind.id, ind.pattern));
                continue;
            }
        };
        let mut notes = Vec::new();
        match stix::evaluable(&expr, opts.cidr_equality, &mut notes) {
            Ok(indicators) => {
                let meta = builder.meta(ind.meta.clone());
                for indicator in indicators {
                    let kind = indicator.kind();
                    report.count(kind, builder.add(indicator, src, meta));
                }
                for n in notes {
                    report.notes.push(format!("{} {}: {n}", ind.location, ind.id));
                }
            }
            Err(why) => {
                report.not_evaluated += 1;
                report.problem(format!("{} {}: not evaluated: {why}: {}", ind.location, ind.id, ind.pattern));
            }
        }
    }
    Ok(())
}

fn load_table(
    path: &Path,
    src: u16,
    spec: &FeedLayout,
    opts: &LoadOptions,
    builder: &mut IndexBuilder,
    report: &mut FeedReport,
) -> Result<(), String> {
    let mut reader = io::open_input(path).map_err(|e| e.to_string())?;
    let mut table = TableLoader {
        spec,
        src,
        builder,
        report,
        header_pending: spec.header,
        columns: spec.columns.clone(),
        last_meta: None,
    };
    let mut line_no = 0;
    let result = io::read_lines(&mut reader, opts.max_line, |n, data| {
        line_no = n;
        match data {
            LineData::Line(raw) => match std::str::from_utf8(raw) {
                Ok(line) => table.line(n, line.trim()),
                Err(_) => table.malformed(n, "not UTF-8".into()),
            },
            LineData::TooLong { len, .. } => {
                table.malformed(n, format!("{len} bytes, over the limit of {}", opts.max_line));
            }
        }
        io::Flow::Continue
    });
    result.map_err(|e| format!("read error after line {line_no}: {e}"))?;
    Ok(())
}

/// One table file being loaded: what its header said and where its rows go.
struct TableLoader<'a> {
    spec: &'a FeedLayout,
    src: u16,
    builder: &'a mut IndexBuilder,
    report: &'a mut FeedReport,
    header_pending: bool,
    columns: Vec<String>,
    /// Rows in a row often share their metadata: stored once.
    last_meta: Option<(Meta, u32)>,
}

impl TableLoader<'_> {
    fn malformed(&mut self, n: u64, why: String) {
        self.report.malformed += 1;
        self.report.problem(format!("line {n}: {why}"));
    }

    fn skipped(&mut self, why: String) {
        *self.report.skipped.entry(why).or_default() += 1;
    }

    fn line(&mut self, n: u64, line: &str) {
        let spec = self.spec;
        if line.is_empty() || (!spec.comment.is_empty() && line.starts_with(spec.comment.as_str())) {
            return;
        }
        match spec.separator {
            // A plain list: the line is the indicator, maybe with a trailing comment.
            None => self.value(n, spec.kind, strip_trailing_comment(line, &spec.comment), NO_META),
            Some(sep) => {
                let mut fields: Vec<Cow<'_, str>> = Vec::with_capacity(self.columns.len().max(4));
                match split_csv(line, sep, &mut fields) {
                    Ok(()) => self.row(n, &fields),
                    Err(e) => self.malformed(n, e),
                }
            }
        }
    }

    /// One CSV row (or the header).
    fn row(&mut self, n: u64, fields: &[Cow<'_, str>]) {
        let spec = self.spec;
        if std::mem::take(&mut self.header_pending) {
            if self.columns.is_empty() {
                self.columns = fields.iter().map(|f| f.to_string()).collect();
            }
            return;
        }
        // A header line in the data (URLhaus with its header un-commented, Feodo's
        // quoted header) names the columns: it is not a row.
        let columns = &self.columns;
        if !columns.is_empty() && fields.len() == columns.len() && fields.iter().zip(columns).all(|(f, c)| f == c) {
            return;
        }
        let Some(value) = fields.get(spec.indicator) else {
            let label = column_label(&self.columns, spec.indicator);
            return self.malformed(n, format!("{} fields, no indicator column {label}", fields.len()));
        };
        if let Some(c) = spec.to_ids_column {
            if fields.get(c).is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "0" | "false" | "no")) {
                return self.skipped("not for detection (to_ids = 0)".into());
            }
        }
        let meta = self.meta(row_meta(spec, fields));
        match spec.type_column {
            Some(c) => {
                let t = fields.get(c).map(|t| t.trim()).unwrap_or("");
                match misp_types(t) {
                    Some(kinds) => self.typed(n, &kinds, value, meta),
                    None => self.skipped(format!("of type {t:?} (not matched on events)")),
                }
            }
            None => self.value(n, spec.kind, value, meta),
        }
    }

    fn meta(&mut self, meta: Meta) -> u32 {
        match &self.last_meta {
            Some((m, id)) if *m == meta => *id,
            _ => {
                let id = self.builder.meta(meta.clone());
                self.last_meta = Some((meta, id));
                id
            }
        }
    }

    /// A value whose MISP type names its kinds: composites (`domain|ip`,
    /// `filename|md5`) give one value per part.
    fn typed(&mut self, n: u64, kinds: &[Option<IndicatorType>], value: &str, meta: u32) {
        let parts: Vec<&str> = if kinds.len() > 1 { value.split('|').collect() } else { vec![value] };
        if parts.len() != kinds.len() {
            return self.malformed(n, format!("value {value:?} does not have {} `|`-separated parts", kinds.len()));
        }
        for (kind, part) in kinds.iter().zip(parts) {
            if kind.is_some() {
                self.value(n, *kind, part, meta);
            }
        }
    }

    /// One indicator, of `kind` or of the kind its text shows.
    fn value(&mut self, n: u64, kind: Option<IndicatorType>, value: &str, meta: u32) {
        let parsed = match kind {
            Some(k) => Indicator::parse(k, value),
            None => Indicator::detect(value),
        };
        match parsed {
            Ok(ind) => add(self.builder, self.report, with_subdomains(ind, self.spec.subdomains), self.src, meta),
            Err(e) => self.malformed(n, e),
        }
    }
}

fn add(builder: &mut IndexBuilder, report: &mut FeedReport, ind: Indicator, src: u16, meta: u32) {
    let kind = ind.kind();
    report.count(kind, builder.add(ind, src, meta));
}

fn with_subdomains(ind: Indicator, subdomains: bool) -> Indicator {
    match ind {
        Indicator::Domain { name, .. } => Indicator::Domain { name, subdomains },
        other => other,
    }
}

fn column_label(columns: &[String], i: usize) -> String {
    match columns.get(i) {
        Some(name) if !name.is_empty() => format!("{i} ({name})"),
        _ => i.to_string(),
    }
}

fn strip_trailing_comment<'a>(line: &'a str, comment: &str) -> &'a str {
    let at = match comment.as_bytes() {
        [] => return line,
        // The usual `#`: a byte search, not a substring search, for every line.
        [c] => memchr::memchr(*c, line.as_bytes()),
        _ => line.find(comment),
    };
    match at {
        Some(at) if line[..at].ends_with([' ', '\t']) => line[..at].trim_end(),
        _ => line,
    }
}

fn row_meta(spec: &FeedLayout, fields: &[Cow<'_, str>]) -> Meta {
    let get = |c: Option<usize>| c.and_then(|c| fields.get(c)).map(|v| v.trim()).filter(|v| !v.is_empty());
    let labels = get(spec.labels_column)
        .filter(|l| !l.eq_ignore_ascii_case("none"))
        .map(|l| l.split(spec.labels_separator).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    Meta { name: get(spec.name_column).map(str::to_owned), labels, ..Meta::default() }
}

/// MISP attribute types to ours; composites give one per part (None: a part we do
/// not match, such as the filename of `filename|md5`). None for types we do not
/// match at all.
fn misp_types(t: &str) -> Option<Vec<Option<IndicatorType>>> {
    use IndicatorType as T;
    let one = |k: T| Some(vec![Some(k)]);
    match t.to_ascii_lowercase().as_str() {
        "ip-src" | "ip-dst" | "ip" => one(T::Ip),
        "ip-src|port" | "ip-dst|port" => Some(vec![Some(T::Ip), None]),
        "domain" | "hostname" => one(T::Domain),
        "domain|ip" => Some(vec![Some(T::Domain), Some(T::Ip)]),
        "hostname|port" => Some(vec![Some(T::Domain), None]),
        "url" => one(T::Url),
        "email" | "email-src" | "email-dst" => one(T::Email),
        "md5" => one(T::Md5),
        "sha1" => one(T::Sha1),
        "sha256" => one(T::Sha256),
        "filename|md5" => Some(vec![None, Some(T::Md5)]),
        "filename|sha1" => Some(vec![None, Some(T::Sha1)]),
        "filename|sha256" => Some(vec![None, Some(T::Sha256)]),
        // A plain CSV with a type column may use our own names.
        other => IndicatorType::from_name(other).map(|k| vec![Some(k)]),
    }
}

/// Splits one CSV line: fields separated by `sep`, optionally double-quoted with `""`
/// for a quote inside. Borrowed unless a field had escaped quotes.
pub fn split_csv<'a>(line: &'a str, sep: u8, out: &mut Vec<Cow<'a, str>>) -> Result<(), String> {
    out.clear();
    let b = line.as_bytes();
    let mut i = 0;
    loop {
        if b.get(i) == Some(&b'"') {
            let start = i + 1;
            let mut j = start;
            let mut escaped = false;
            loop {
                match b.get(j) {
                    None => return Err(format!("unclosed quote in field {}", out.len() + 1)),
                    Some(b'"') if b.get(j + 1) == Some(&b'"') => {
                        escaped = true;
                        j += 2;
                    }
                    Some(b'"') => break,
                    Some(_) => j += 1,
                }
            }
            let text = &line[start..j];
            out.push(if escaped { Cow::Owned(text.replace("\"\"", "\"")) } else { Cow::Borrowed(text) });
            i = j + 1;
            // Only spaces may sit between a closing quote and the separator.
            while b.get(i) == Some(&b' ') {
                i += 1;
            }
            match b.get(i) {
                None => return Ok(()),
                Some(&c) if c == sep => i += 1,
                Some(_) => return Err(format!("text after the closing quote of field {}", out.len())),
            }
        } else {
            let end = b[i..].iter().position(|&c| c == sep).map_or(b.len(), |p| i + p);
            out.push(Cow::Borrowed(&line[i..end]));
            if end == b.len() {
                return Ok(());
            }
            i = end + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_quoted_or_not() {
        let mut f = Vec::new();
        split_csv(r#""1","a,b","say ""hi""",,x"#, b',', &mut f).unwrap();
        assert_eq!(f, ["1", "a,b", "say \"hi\"", "", "x"]);
        split_csv("2023-11-14 06:52:51,2e35,DCRat C&C", b',', &mut f).unwrap();
        assert_eq!(f, ["2023-11-14 06:52:51", "2e35", "DCRat C&C"]);
        assert!(split_csv(r#""open,1"#, b',', &mut f).is_err());
        assert!(split_csv(r#""a"b,1"#, b',', &mut f).is_err());
        split_csv("a\tb", b'\t', &mut f).unwrap();
        assert_eq!(f, ["a", "b"]);
    }

    #[test]
    fn config_columns_as_list_or_metron_map() {
        let c: FeedConfig = toml::from_str(
            r#"columns = { domain = 0, source = 2 }
               indicator_column = "domain"
               type = "domain"
               separator = ",""#,
        )
        .unwrap();
        let FeedFormat::Table(t) = c.resolve().unwrap() else { panic!() };
        assert_eq!(t.columns, ["domain", "", "source"]);
        assert_eq!((t.indicator, t.kind, t.separator), (0, Some(IndicatorType::Domain), Some(b',')));
        let bad: FeedConfig =
            toml::from_str("columns = [\"a\"]\nindicator_column = \"b\"\ntype = \"ipz\"\nseparator = \"ab\"").unwrap();
        assert_eq!(bad.resolve().unwrap_err().len(), 3);
    }

    #[test]
    fn source_names_are_file_stems() {
        assert_eq!(source_name(Path::new("feeds/urlhaus.csv.gz")), "urlhaus");
        assert_eq!(source_name(Path::new("x/feodo.v2.csv")), "feodo_v2");
        assert_eq!(source_name(Path::new("compromised-ips")), "compromised-ips");
    }

    #[test]
    fn misp_composites() {
        assert_eq!(misp_types("domain|ip"), Some(vec![Some(IndicatorType::Domain), Some(IndicatorType::Ip)]));
        assert_eq!(misp_types("filename|md5"), Some(vec![None, Some(IndicatorType::Md5)]));
        assert_eq!(misp_types("regkey"), None);
    }

    proptest::proptest! {
        #[test]
        fn csv_lines_never_panic(s in "[\"a,|\\t ]{0,40}") {
            let mut f = Vec::new();
            let _ = split_csv(&s, b',', &mut f);
            let _ = split_csv(&s, b'|', &mut f);
        }

        #[test]
        fn arbitrary_feed_files_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("feed.txt");
            std::fs::write(&path, &bytes).unwrap();
            let opts = LoadOptions { cidr_equality: CidrEquality::Exact, max_line: 64, max_stix_bytes: DEFAULT_MAX_STIX_BYTES };
            for name in PRESETS {
                let mut b = IndexBuilder::new();
                let _ = load(&path, "p", &preset(name).unwrap(), &opts, &mut b);
            }
        }
    }
}
