//! `metron enrich`: adds what is known about the addresses and names in an event —
//! GeoIP and ASN from MaxMind databases, the asset inventory, internal networks and
//! lookup tables — under Apache Metron's `enrichments.*` names. Every file is watched
//! and reloaded while the stream runs; a broken replacement leaves the loaded version
//! in place and is reported.

pub mod assets;
pub mod geoip;
pub(crate) mod line;
pub mod passive_dns;
pub mod tables;

use crate::error::ErrorType;
use crate::event::{fields, Event};
use crate::io::ChangeWatch;
use crate::net::{is_public, NetSet};
use crate::stage::{Stage, StageConfig, StageError};
use assets::Assets;
use geoip::{DbKind, MaxMindDb, ASN_NAMES, GEO_NAMES};
use lru::LruCache;
use passive_dns::PassiveDns;
use serde::Deserialize;
use serde_json::Value;
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use tables::{LookupTable, TableSpec};

pub use tables::LoadError;

/// Where enrichment fields go: an event, or the end of an NDJSON line.
pub trait AddFields {
    fn add(&mut self, key: &str, value: &Value);
}

impl AddFields for Event {
    fn add(&mut self, key: &str, value: &Value) {
        self.insert(key.to_owned(), value.clone());
    }
}

/// Address fields enriched when none are configured.
pub const DEFAULT_IP_FIELDS: [&str; 2] = [fields::IP_SRC_ADDR, fields::IP_DST_ADDR];

/// GeoIP and ASN results kept per address. Traffic repeats addresses, so most
/// lookups are answered here; each entry is a few hundred bytes at most.
pub const DEFAULT_CACHE_SIZE: usize = 65_536;

/// Largest cache accepted: memory stays flat, and within reason.
const MAX_CACHE_SIZE: usize = 16 * 1024 * 1024;

/// What `build()` takes. Enrich's section needs nothing resolved beyond its paths
/// (the binary makes them relative to the config file), so the section, with the
/// flags laid over it, is the settings: other stages have a `*Settings` of their own.
pub type EnrichSettings = EnrichConfig;

/// `[enrich]` in `metron.toml`; the flags of `metron enrich` override it.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrichConfig {
    /// A GeoIP2/GeoLite2 City (or Country) database.
    pub geoip: Option<PathBuf>,
    /// A GeoLite2 ASN (or GeoIP2 ISP) database.
    pub asn: Option<PathBuf>,
    /// The asset inventory: CSV or NDJSON keyed by address or CIDR.
    pub assets: Option<PathBuf>,
    /// Internal networks (CIDRs): `enrichments.network.<field>.internal`.
    #[serde(default)]
    pub internal: Vec<String>,
    /// Lookup tables keyed by any field.
    #[serde(default)]
    pub tables: Vec<TableSpec>,
    /// Address fields to enrich (default `ip_src_addr`, `ip_dst_addr`).
    pub ip_fields: Option<Vec<String>>,
    /// Addresses whose GeoIP and ASN results are kept (default 65,536; 0 turns the
    /// cache off).
    pub cache_size: Option<usize>,
    /// Passive DNS: the names the stream's own DNS answers gave an address, added to
    /// later events as `enrichments.dns.<field>.names`.
    #[serde(default)]
    pub passive_dns: bool,
    /// Addresses passive DNS remembers (default 100,000; the least recently used goes).
    pub passive_dns_size: Option<usize>,
    /// How long a learned name is kept after its answer, in event time (default 24h).
    pub passive_dns_ttl: Option<String>,
}

/// Everything wrong with the configuration or its files, all at once.
#[derive(Debug, thiserror::Error)]
#[error("{}", list(.0))]
pub struct EnrichBuildError(pub Vec<String>);

fn list(problems: &[String]) -> String {
    match problems {
        [one] => one.clone(),
        many => format!("{} problems:\n  - {}", many.len(), many.join("\n  - ")),
    }
}

impl EnrichConfig {
    /// The address fields to enrich.
    pub fn ip_fields(&self) -> Vec<String> {
        match &self.ip_fields {
            Some(f) => f.clone(),
            None => DEFAULT_IP_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
        }
    }

    /// Every problem in the settings themselves (files are checked by `build`). An
    /// empty `[enrich]` is fine: flags may give what it lacks.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Err(bad) = NetSet::parse(&self.internal) {
            problems.extend(bad.into_iter().map(|p| format!("internal network {p}")));
        }
        if let Some(f) = &self.ip_fields {
            if f.is_empty() || f.iter().any(|f| f.trim().is_empty()) {
                problems.push("ip_fields must name at least one field, and no empty names".into());
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for t in &self.tables {
            problems.extend(t.validate());
            if !names.insert(t.name.as_str()) {
                problems.push(format!("table {:?} is defined twice", t.name));
            }
        }
        if self.cache_size.is_some_and(|n| n > MAX_CACHE_SIZE) {
            problems.push(format!("cache_size is at most {MAX_CACHE_SIZE}"));
        }
        if self.passive_dns_size.is_some_and(|n| n == 0 || n > MAX_CACHE_SIZE) {
            problems.push(format!("passive_dns_size is from 1 to {MAX_CACHE_SIZE}"));
        }
        if let Err(e) = self.passive_dns_ttl_ms() {
            problems.push(format!("passive_dns_ttl: {e}"));
        }
        problems
    }

    /// The passive DNS TTL in milliseconds.
    fn passive_dns_ttl_ms(&self) -> Result<i64, String> {
        match &self.passive_dns_ttl {
            None => Ok(passive_dns::DEFAULT_TTL_MS),
            Some(t) => crate::event::parse_duration(t).map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        }
    }

    /// The settings problems, and a stage that would do nothing.
    fn problems(&self) -> Vec<String> {
        let mut problems = self.validate();
        let nothing = self.geoip.is_none()
            && self.asn.is_none()
            && self.assets.is_none()
            && self.internal.is_empty()
            && self.tables.is_empty()
            && !self.passive_dns;
        if nothing {
            problems.push(
                "nothing to enrich with: give --geoip, --asn, --assets, --internal, --table or \
                 --passive-dns (or set them in [enrich] of metron.toml)"
                    .into(),
            );
        }
        problems
    }
}

impl StageConfig for EnrichConfig {
    type Runtime = EnrichStage;
    type Error = EnrichBuildError;

    /// Checks the settings and loads every file; all problems come back together.
    /// Malformed rows of a table do not stop it: they wait in [`EnrichStage::take_messages`].
    fn build(self) -> Result<EnrichStage, EnrichBuildError> {
        let mut problems = self.problems();
        let ip_fields = self.ip_fields();
        let mut messages = Messages::default();
        let geo = open_db(self.geoip.as_deref(), DbKind::Geo, &mut problems);
        let asn = open_db(self.asn.as_deref(), DbKind::Asn, &mut problems);
        let assets = self.assets.as_deref().and_then(|path| {
            let (watch, loaded) = watched(path, |p| Assets::load(p, &ip_fields));
            match loaded {
                Ok((a, warnings)) => {
                    messages.extend(warnings);
                    Some(Watched { path: path.to_owned(), watch, current: a })
                }
                Err(e) => {
                    problems.push(e.to_string());
                    None
                }
            }
        });
        let mut tables = Vec::new();
        for spec in &self.tables {
            let (watch, loaded) = watched(&spec.file, |_| LookupTable::load(spec));
            match loaded {
                Ok((t, warnings)) => {
                    messages.extend(warnings);
                    tables.push((spec.clone(), Watched { path: spec.file.clone(), watch, current: t }));
                }
                Err(e) => problems.push(e.to_string()),
            }
        }
        let internal = NetSet::parse(&self.internal).ok().filter(|i| !i.is_empty());
        if !problems.is_empty() {
            return Err(EnrichBuildError(problems));
        }
        let cache = NonZeroUsize::new(self.cache_size.unwrap_or(DEFAULT_CACHE_SIZE))
            .filter(|_| geo.is_some() || asn.is_some())
            .map(LruCache::new);
        let mut wanted = ip_fields.clone();
        for (spec, _) in &tables {
            wanted.extend(spec.fields.iter().cloned());
        }
        let passive = self.passive_dns.then(|| {
            // Where each field it reads is in `wanted`: a field already read for
            // something else (a table keyed by `query`) is read once.
            let at = passive_dns::FIELDS.map(|f| match wanted.iter().position(|w| w == f) {
                Some(i) => i,
                None => {
                    wanted.push(f.to_owned());
                    wanted.len() - 1
                }
            });
            let ttl = self.passive_dns_ttl_ms().unwrap_or(passive_dns::DEFAULT_TTL_MS);
            (PassiveDns::new(self.passive_dns_size.unwrap_or(passive_dns::DEFAULT_SIZE), ttl), at)
        });
        Ok(EnrichStage {
            passive,
            wanted,
            scratch: Vec::new(),
            fields: ip_fields.iter().map(|f| FieldKeys::new(f)).collect(),
            warned_invalid: vec![false; ip_fields.len()],
            ip_fields,
            geo,
            asn,
            cache,
            internal,
            assets,
            tables,
            messages,
            stats: EnrichStats::default(),
        })
    }
}

fn open_db(path: Option<&Path>, kind: DbKind, problems: &mut Vec<String>) -> Option<Watched<MaxMindDb>> {
    let path = path?;
    let (watch, loaded) = watched(path, |p| MaxMindDb::open(p, kind));
    match loaded {
        Ok(db) => Some(Watched { path: path.to_owned(), watch, current: db }),
        Err(e) => {
            problems.push(e.to_string());
            None
        }
    }
}

/// Starts watching `path`, then loads it: a change made while it loads is still seen.
fn watched<T>(path: &Path, load: impl FnOnce(&Path) -> T) -> (ChangeWatch, T) {
    let watch = ChangeWatch::new(&[path.to_owned()]);
    (watch, load(path))
}

/// A loaded file and the watch that says when to load it again.
struct Watched<T> {
    path: PathBuf,
    watch: ChangeWatch,
    current: T,
}

impl<T> Watched<T> {
    /// If the file changed, loads it again. The new version takes over between two
    /// events, so every event sees exactly one version; a version that fails to load
    /// leaves the current one in place. True when a new version took over.
    fn refresh<E: std::fmt::Display>(
        &mut self,
        load: impl FnOnce(&Path) -> Result<(T, Vec<String>), E>,
        describe: impl FnOnce(&T) -> String,
        messages: &mut Messages,
        stats: &mut EnrichStats,
    ) -> bool {
        if !self.watch.changed() {
            return false;
        }
        match load(&self.path) {
            Ok((new, warnings)) => {
                messages.push(format!("reloaded {}: {}", self.path.display(), describe(&new)));
                messages.extend(warnings);
                self.current = new;
                stats.reloads += 1;
                true
            }
            Err(e) => {
                messages.push(format!("{e}; still using the version loaded before"));
                stats.failed_reloads += 1;
                false
            }
        }
    }
}

/// Messages for stderr, waiting for the next tick; bounded.
#[derive(Debug, Default)]
struct Messages {
    list: Vec<String>,
    dropped: u64,
}

const MAX_MESSAGES: usize = 200;

impl Messages {
    fn push(&mut self, m: String) {
        if self.list.len() < MAX_MESSAGES {
            self.list.push(m);
        } else {
            self.dropped += 1;
        }
    }

    fn extend(&mut self, ms: impl IntoIterator<Item = String>) {
        for m in ms {
            self.push(m);
        }
    }

    fn take(&mut self) -> Vec<String> {
        let mut out = std::mem::take(&mut self.list);
        if self.dropped > 0 {
            out.push(format!("... and {} more messages", self.dropped));
            self.dropped = 0;
        }
        out
    }
}

/// What enrich counted besides events: for the summary line and for tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EnrichStats {
    /// Address fields that held something other than an IP address.
    pub invalid_addresses: u64,
    /// GeoIP or ASN lookups the database failed to answer (a damaged record).
    pub lookup_errors: u64,
    /// Files loaded again after they changed.
    pub reloads: u64,
    /// Changed files that failed to load (the previous version stayed).
    pub failed_reloads: u64,
    /// Address and name pairs passive DNS learned from DNS answers.
    pub dns_answers: u64,
}

/// The output names for one address field, made once.
struct FieldKeys {
    geo: Vec<String>,
    asn: Vec<String>,
    internal: String,
    dns: String,
}

impl FieldKeys {
    fn new(field: &str) -> FieldKeys {
        FieldKeys {
            geo: GEO_NAMES.iter().map(|n| format!("enrichments.geo.{field}.{n}")).collect(),
            asn: ASN_NAMES.iter().map(|n| format!("enrichments.asn.{field}.{n}")).collect(),
            internal: format!("enrichments.network.{field}.internal"),
            dns: format!("enrichments.dns.{field}.names"),
        }
    }
}

/// Cached GeoIP and ASN fields of one address: index below [`ASN_SLOT`] into
/// [`GEO_NAMES`], from it on into [`ASN_NAMES`].
type Cached = Vec<(u8, Value)>;
const ASN_SLOT: u8 = GEO_NAMES.len() as u8;

/// The running stage.
pub struct EnrichStage {
    ip_fields: Vec<String>,
    /// The fields read from each event: the address fields, then each table's.
    wanted: Vec<String>,
    /// Their values in the current event (kept to reuse its room).
    scratch: Vec<Option<Value>>,
    fields: Vec<FieldKeys>,
    warned_invalid: Vec<bool>,
    geo: Option<Watched<MaxMindDb>>,
    asn: Option<Watched<MaxMindDb>>,
    cache: Option<LruCache<IpAddr, Cached>>,
    internal: Option<NetSet>,
    assets: Option<Watched<Assets>>,
    tables: Vec<(TableSpec, Watched<LookupTable>)>,
    /// Reads the DNS answers of the stream, from these places in `wanted`.
    passive: Option<(PassiveDns, [usize; passive_dns::FIELDS.len()])>,
    messages: Messages,
    stats: EnrichStats,
}

impl EnrichStage {
    /// Messages waiting for stderr: malformed rows found at load, reloads, the first
    /// invalid address of each field. The binary shows those of `build` at once.
    pub fn take_messages(&mut self) -> Vec<String> {
        self.messages.take()
    }

    pub fn stats(&self) -> EnrichStats {
        EnrichStats { dns_answers: self.passive.as_ref().map_or(0, |(p, _)| p.learned), ..self.stats }
    }

    /// Loads again every file that changed on disk.
    fn refresh(&mut self) {
        let (messages, stats) = (&mut self.messages, &mut self.stats);
        let mut db_changed = false;
        for (db, kind) in [(&mut self.geo, DbKind::Geo), (&mut self.asn, DbKind::Asn)] {
            if let Some(w) = db {
                db_changed |=
                    w.refresh(|p| MaxMindDb::open(p, kind).map(|d| (d, Vec::new())), |d| d.describe(), messages, stats);
            }
        }
        if db_changed {
            if let Some(c) = self.cache.as_mut() {
                c.clear();
            }
        }
        if let Some(w) = self.assets.as_mut() {
            let fields = &self.ip_fields;
            w.refresh(|p| Assets::load(p, fields), |a| format!("{} networks and addresses", a.len()), messages, stats);
        }
        for (spec, w) in &mut self.tables {
            w.refresh(|_| LookupTable::load(spec), |t| format!("{} keys", t.len()), messages, stats);
        }
    }

    /// A field held something that is not an address: counted, and the first of each
    /// field is described.
    fn invalid(&mut self, field: usize, value: &Value) {
        self.stats.invalid_addresses += 1;
        if std::mem::replace(&mut self.warned_invalid[field], true) {
            return;
        }
        let mut shown = match value {
            Value::String(s) => format!("{s:?}"),
            other => other.to_string(),
        };
        if shown.len() > 80 {
            let mut end = 77;
            while !shown.is_char_boundary(end) {
                end -= 1;
            }
            shown.truncate(end);
            shown.push_str("...");
        }
        let name = &self.ip_fields[field];
        self.messages.push(format!(
            "{name}: {shown} is not an IP address; such events pass on without address enrichments \
             (counted in the summary)"
        ));
    }

    /// Adds every field for the values of [`EnrichStage::wanted`] in one event.
    fn enrich(&mut self, values: &[Option<Value>], out: &mut impl AddFields) {
        if let Some((p, at)) = self.passive.as_mut() {
            // First, so that a DNS event's own answers are known to the events after it.
            p.learn(|i| values.get(at[i]).and_then(Option::as_ref));
        }
        for field in 0..self.ip_fields.len() {
            let value = values.get(field).and_then(Option::as_ref);
            match address_of(value) {
                Ok(Some(ip)) => self.enrich_address(field, ip, out),
                Ok(None) => {}
                Err(()) => self.invalid(field, value.unwrap_or(&Value::Null)),
            }
        }
        let mut at = self.ip_fields.len();
        for (_, table) in &self.tables {
            let table = &table.current;
            for i in 0..table.fields().len() {
                if let Some(value) = values.get(at + i).and_then(Option::as_ref) {
                    table.enrich_value(i, value, out);
                }
            }
            at += table.fields().len();
        }
    }

    fn enrich_address(&mut self, field: usize, ip: IpAddr, out: &mut impl AddFields) {
        let keys = &self.fields[field];
        if let Some(internal) = &self.internal {
            out.add(&keys.internal, &Value::Bool(internal.contains(ip)));
        }
        if (self.geo.is_some() || self.asn.is_some()) && is_public(ip) {
            if let Some(found) = self.cache.as_mut().and_then(|c| c.get(&ip)) {
                add_cached(keys, found, out);
            } else {
                let found = self.look_up(ip);
                add_cached(&self.fields[field], &found, out);
                if let Some(c) = self.cache.as_mut() {
                    c.put(ip, found);
                }
            }
        }
        if let Some(assets) = &self.assets {
            assets.current.enrich(field, ip, out);
        }
        if let Some(names) = self.passive.as_mut().and_then(|(p, _)| p.names(ip)) {
            out.add(&self.fields[field].dns, &names);
        }
    }

    /// GeoIP and ASN fields of `ip` from the databases. A database that fails to
    /// answer is counted and described, and the event goes on without its fields.
    fn look_up(&mut self, ip: IpAddr) -> Cached {
        let mut found = Cached::new();
        for (db, offset) in [(&self.geo, 0), (&self.asn, ASN_SLOT)] {
            let Some(db) = db else { continue };
            match db.current.lookup(ip) {
                Ok(fields) => found.extend(fields.into_iter().map(|(i, v)| (i + offset, v))),
                Err(e) => {
                    self.stats.lookup_errors += 1;
                    if self.stats.lookup_errors <= 10 {
                        self.messages.push(format!("{}: lookup of {ip} failed: {e}", db.current.path().display()));
                    }
                }
            }
        }
        found
    }
}

fn add_cached(keys: &FieldKeys, found: &Cached, out: &mut impl AddFields) {
    for (slot, value) in found {
        let key = match slot.checked_sub(ASN_SLOT) {
            None => &keys.geo[usize::from(*slot)],
            Some(i) => &keys.asn[usize::from(i)],
        };
        out.add(key, value);
    }
}

/// An address field's value: `Ok(None)` when there is nothing to enrich (absent,
/// null, empty), `Err` when it is not an address.
fn address_of(value: Option<&Value>) -> Result<Option<IpAddr>, ()> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| ()),
        Some(_) => Err(()),
    }
}

impl Stage for EnrichStage {
    fn name(&self) -> &str {
        "enrich"
    }

    fn error_type(&self) -> ErrorType {
        ErrorType::EnrichmentError
    }

    fn process(&mut self, mut event: Event, out: &mut Vec<Event>) -> Result<(), StageError> {
        // Between two events, so that each sees one version of every file.
        self.refresh();
        let mut values = std::mem::take(&mut self.scratch);
        values.clear();
        values.extend(self.wanted.iter().map(|f| event.get(f.as_str()).cloned()));
        self.enrich(&values, &mut event);
        self.scratch = values;
        out.push(event);
        Ok(())
    }

    fn process_line(&mut self, line: &[u8], out: &mut Vec<u8>) -> Option<u64> {
        self.refresh();
        let mut values = std::mem::take(&mut self.scratch);
        let scan = line::scan(line, &self.wanted, &mut values).filter(|s| !s.has_enrichments);
        let head = line::without_closing_brace(line);
        let (Some(scan), Some(head)) = (scan, head) else {
            self.scratch = values;
            return None;
        };
        out.extend_from_slice(head);
        self.enrich(&values, &mut line::Appender::new(out, scan.fields == 0));
        out.extend_from_slice(b"}\n");
        self.scratch = values;
        Some(1)
    }

    fn tick(&mut self, _out: &mut Vec<Event>) -> Vec<String> {
        self.refresh();
        self.messages.take()
    }

    fn summary(&self) -> Option<String> {
        let s = &self.stats();
        let parts: Vec<String> = [
            (s.invalid_addresses, "invalid address", "invalid addresses"),
            (s.lookup_errors, "failed lookup", "failed lookups"),
            (s.reloads, "file reloaded", "files reloaded"),
            (s.failed_reloads, "broken replacement kept out", "broken replacements kept out"),
            (s.dns_answers, "DNS answer learned", "DNS answers learned"),
        ]
        .into_iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| format!("{} {}", crate::io::thousands(n), if n == 1 { one } else { many }))
        .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::event_from_value;
    use serde_json::json;

    fn mmdb(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/mmdb").join(name)
    }

    fn run(stage: &mut EnrichStage, event: serde_json::Value) -> Event {
        let mut out = Vec::new();
        stage.process(event_from_value(event).unwrap(), &mut out).unwrap();
        assert_eq!(out.len(), 1);
        out.pop().unwrap()
    }

    fn geo_asn() -> EnrichConfig {
        EnrichConfig {
            geoip: Some(mmdb("GeoIP2-City-Test.mmdb")),
            asn: Some(mmdb("GeoLite2-ASN-Test.mmdb")),
            internal: vec!["10.0.0.0/8".into()],
            ..Default::default()
        }
    }

    #[test]
    fn both_addresses_get_geo_asn_and_network_fields() {
        let mut stage = geo_asn().build().unwrap();
        let e = run(&mut stage, json!({"ip_src_addr": "10.0.0.1", "ip_dst_addr": "216.160.83.56"}));
        assert_eq!(e["enrichments.geo.ip_dst_addr.city"], "Milton");
        assert_eq!(e["enrichments.geo.ip_dst_addr.country"], "US");
        assert_eq!(e["enrichments.asn.ip_dst_addr.number"], 209);
        assert_eq!(e["enrichments.network.ip_src_addr.internal"], true);
        assert_eq!(e["enrichments.network.ip_dst_addr.internal"], false);
        assert!(!e.keys().any(|k| k.starts_with("enrichments.geo.ip_src_addr")), "private address looked up");
        // The second time comes from the cache, and is the same.
        let again = run(&mut stage, json!({"ip_src_addr": "10.0.0.1", "ip_dst_addr": "216.160.83.56"}));
        assert_eq!(again, e);
    }

    #[test]
    fn events_without_addresses_or_with_invalid_ones_pass_unchanged() {
        let mut stage = geo_asn().build().unwrap();
        for input in [
            json!({"message": "no addresses"}),
            json!({"ip_src_addr": "not-an-ip", "ip_dst_addr": 42}),
            json!({"ip_src_addr": "", "ip_dst_addr": null}),
        ] {
            let e = run(&mut stage, input.clone());
            assert_eq!(e, event_from_value(input).unwrap());
        }
        assert_eq!(stage.stats().invalid_addresses, 2);
        let messages = stage.tick(&mut Vec::new());
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].contains("ip_src_addr") && messages[0].contains("not-an-ip"), "{messages:?}");
        assert_eq!(stage.summary().unwrap(), "2 invalid addresses");
    }

    #[test]
    fn every_configuration_problem_is_reported_at_once() {
        let config = EnrichConfig {
            geoip: Some(mmdb("bad-libmaxminddb-corrupt-search-tree.mmdb")),
            asn: Some(PathBuf::from("/nonexistent/asn.mmdb")),
            internal: vec!["10.0.0.0/99".into()],
            tables: vec![TableSpec::parse_flag("geo=/nonexistent/t.csv:user").unwrap()],
            ip_fields: Some(vec![]),
            ..Default::default()
        };
        let err = config.build().err().unwrap();
        assert_eq!(err.0.len(), 6, "{err}");
        assert!(err.to_string().starts_with("6 problems:"), "{err}");
    }

    #[test]
    fn a_damaged_record_is_reported_and_the_event_goes_on() {
        // Damage the one record of 89.160.20.112 (Linköping). Verification at load
        // refuses such a file; opened without it, that one lookup fails mid-stream.
        let good = std::fs::read(mmdb("GeoIP2-City-Test.mmdb")).unwrap();
        let reader = maxminddb::Reader::from_source(good.clone()).unwrap();
        let offset = reader.lookup("89.160.20.112".parse().unwrap()).unwrap().offset().unwrap();
        let m = reader.metadata();
        let data_start = m.node_count as usize * usize::from(m.record_size) / 4 + 16;
        let mut bad = good;
        // A 4-byte pointer far past the end of the data section.
        bad[data_start + offset..data_start + offset + 5].copy_from_slice(&[0x38, 0xFF, 0xFF, 0xFF, 0xF0]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("damaged.mmdb");
        std::fs::write(&path, bad).unwrap();
        assert!(MaxMindDb::open(&path, DbKind::Geo).is_err(), "verification at load misses the damage");
        let config = EnrichConfig { geoip: Some(mmdb("GeoIP2-City-Test.mmdb")), ..Default::default() };
        let mut stage = config.build().unwrap();
        stage.geo.as_mut().unwrap().current = MaxMindDb::open_unverified(&path, DbKind::Geo).unwrap();
        let e = run(&mut stage, json!({"ip_src_addr": "89.160.20.112", "ip_dst_addr": "216.160.83.56"}));
        assert_eq!(e["enrichments.geo.ip_dst_addr.city"], "Milton");
        assert!(!e.contains_key("enrichments.geo.ip_src_addr.city"));
        assert_eq!(stage.stats().lookup_errors, 1);
        let messages = stage.tick(&mut Vec::new());
        assert!(messages.iter().any(|m| m.contains("damaged.mmdb") && m.contains("89.160.20.112")), "{messages:?}");
        assert_eq!(stage.summary().unwrap(), "1 failed lookup");
    }

    #[test]
    fn the_line_fast_path_gives_the_events_process_gives() {
        let dir = tempfile::tempdir().unwrap();
        let assets = dir.path().join("assets.csv");
        std::fs::write(&assets, "ip,name\n10.0.0.0/8,corp\n216.160.83.56,milton-host\n").unwrap();
        let users = dir.path().join("users.csv");
        std::fs::write(&users, "uid,dept\n1001,finance\nalice,legal\n").unwrap();
        let config = EnrichConfig {
            assets: Some(assets),
            tables: vec![TableSpec { name: "users".into(), file: users, fields: vec!["uid".into()], key_column: None }],
            ..geo_asn()
        };
        let mut slow = config.clone().build().unwrap();
        let mut fast = config.build().unwrap();
        let lines = [
            r#"{"ip_src_addr":"10.0.0.1","ip_dst_addr":"216.160.83.56","uid":1001}"#,
            r#"{"ip_dst_addr":"2001:218::1","uid":"alice","nested":{"ip_src_addr":"8.8.8.8"},"list":[1,"}"]}"#,
            r#"{}"#,
            r#" { "ip_src_addr" : "81.2.69.142" , "caf\u00e9" : "cr\u00e8me" } "#,
            r#"{"ip_src_addr":"nope","ip_dst_addr":17,"uid":null}"#,
            r#"{"ip_src_addr":"1.128.0.0","ip_src_addr":"89.160.20.112"}"#,
        ];
        for line in lines {
            let mut events = Vec::new();
            let event: Event = serde_json::from_str(line).unwrap();
            slow.process(event, &mut events).unwrap();
            let mut out = Vec::new();
            assert_eq!(fast.process_line(line.as_bytes(), &mut out), Some(1), "{line}");
            assert_eq!(out.last(), Some(&b'\n'));
            let from_line: Event = serde_json::from_slice(&out).unwrap();
            assert_eq!(from_line, events[0], "{line}");
            assert_eq!(
                from_line.keys().collect::<Vec<_>>(),
                events[0].keys().collect::<Vec<_>>(),
                "field order of {line}"
            );
        }
        assert_eq!(fast.stats(), slow.stats());
        // Lines the fast path leaves to `process`.
        for line in [r#"{"enrichments.geo.ip_src_addr.city":"x","ip_src_addr":"81.2.69.142"}"#, "[1]", "{", "{} {}"] {
            assert!(fast.process_line(line.as_bytes(), &mut Vec::new()).is_none(), "{line}");
        }
    }

    #[test]
    fn a_replaced_database_takes_over_and_empties_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("City.mmdb");
        std::fs::copy(mmdb("GeoIP2-City-Test.mmdb"), &path).unwrap();
        let mut stage = EnrichConfig { geoip: Some(path.clone()), ..Default::default() }.build().unwrap();
        let event = json!({"ip_dst_addr": "216.160.83.56"});
        assert_eq!(run(&mut stage, event.clone())["enrichments.geo.ip_dst_addr.city"], "Milton");
        let swap = |from: &Path| {
            let tmp = dir.path().join("City.mmdb.new");
            std::fs::copy(from, &tmp).unwrap();
            std::fs::rename(&tmp, &path).unwrap();
        };
        // A broken replacement first: the loaded database stays.
        swap(&mmdb("bad-maxminddb-golang-invalid-data-record-offset.mmdb"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while stage.stats().failed_reloads == 0 {
            assert!(std::time::Instant::now() < deadline, "broken replacement not noticed");
            std::thread::sleep(std::time::Duration::from_millis(20));
            assert_eq!(run(&mut stage, event.clone())["enrichments.geo.ip_dst_addr.city"], "Milton");
        }
        // A Country database has no cities: a cached city would show here.
        swap(&mmdb("GeoIP2-Country-Test.mmdb"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let e = run(&mut stage, event.clone());
            if !e.contains_key("enrichments.geo.ip_dst_addr.city") {
                assert_eq!(e["enrichments.geo.ip_dst_addr.country"], "US");
                break;
            }
            assert!(std::time::Instant::now() < deadline, "reload not seen");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let messages = stage.tick(&mut Vec::new());
        assert!(messages.iter().any(|m| m.starts_with("reloaded") && m.contains("GeoIP2-Country")), "{messages:?}");
        assert!(messages.iter().any(|m| m.contains("still using")), "{messages:?}");
    }

    #[test]
    fn nothing_configured_is_an_error() {
        let err = EnrichConfig::default().build().err().unwrap();
        assert!(err.to_string().contains("nothing to enrich"), "{err}");
    }

    #[test]
    fn a_replaced_table_takes_over_between_events_and_a_broken_one_is_kept_out() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("users.csv");
        std::fs::write(&file, "user,dept\nalice,finance\n").unwrap();
        let config = EnrichConfig {
            tables: vec![TableSpec {
                name: "users".into(),
                file: file.clone(),
                fields: vec!["user".into()],
                key_column: None,
            }],
            ..Default::default()
        };
        let mut stage = config.build().unwrap();
        let e = run(&mut stage, json!({"user": "alice"}));
        assert_eq!(e["enrichments.users.user.dept"], "finance");
        let replace = |body: &str| {
            let tmp = dir.path().join(".users.csv.new");
            std::fs::write(&tmp, body).unwrap();
            std::fs::rename(&tmp, &file).unwrap();
        };
        replace("user,dept\nalice,legal\n");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let e = run(&mut stage, json!({"user": "alice"}));
            if e["enrichments.users.user.dept"] == "legal" {
                break;
            }
            assert_eq!(e["enrichments.users.user.dept"], "finance");
            assert!(std::time::Instant::now() < deadline, "reload not seen");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(stage.stats().reloads, 1);
        replace("no key column here\n");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while stage.stats().failed_reloads == 0 {
            assert!(std::time::Instant::now() < deadline, "broken replacement not noticed");
            std::thread::sleep(std::time::Duration::from_millis(20));
            let e = run(&mut stage, json!({"user": "alice"}));
            assert_eq!(e["enrichments.users.user.dept"], "legal");
        }
        let messages = stage.tick(&mut Vec::new());
        assert!(messages.iter().any(|m| m.contains("users.csv") && m.contains("still using")), "{messages:?}");
    }
}
