//! MaxMind databases (GeoIP2/GeoLite2 City or Country, GeoLite2 ASN or GeoIP2 ISP),
//! read into memory, turned into Apache Metron's enrichment fields. Only the handful of
//! values Metron reported are decoded, borrowed straight from the buffer.
//!
//! Not memory-mapped: a mapped file that something writes into (not renames over)
//! while a long `--follow` run uses it kills the process with SIGBUS. A copy in
//! memory costs the file's size (about 70 MB for GeoLite2 City) and is immune; a
//! changed file is read again and used once it verifies.

use maxminddb::{MaxMindDbError, Reader};
use serde::Deserialize;
use serde_json::Value;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// `enrichments.geo.<field>.<name>`, Apache Metron's names, in this order.
pub const GEO_NAMES: [&str; 8] =
    ["country", "city", "latitude", "longitude", "postalCode", "dmaCode", "locID", "location_point"];

/// `enrichments.asn.<field>.<name>`.
pub const ASN_NAMES: [&str; 2] = ["number", "organization"];

/// Which kind of database a flag expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    /// City or Country: `--geoip`.
    Geo,
    /// ASN or ISP: `--asn`.
    Asn,
}

/// A database that could not be used, naming its file.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct DbError {
    pub path: PathBuf,
    pub message: String,
}

/// One open database.
pub struct MaxMindDb {
    reader: Reader<Vec<u8>>,
    path: PathBuf,
    kind: DbKind,
}

impl std::fmt::Debug for MaxMindDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaxMindDb").field("path", &self.path).field("kind", &self.kind).finish()
    }
}

/// Addresses looked up once at load: a database whose tree or records are damaged
/// where real traffic goes fails here, naming the file, instead of mid-stream.
const PROBES: [&str; 6] = ["1.1.1.1", "8.8.8.8", "81.2.69.142", "216.160.83.56", "2001:218::1", "2600:6000::1"];

impl MaxMindDb {
    /// Opens and checks `path`: the format, the whole search tree and data section
    /// (the reader's `verify`, a fraction of a second on a full GeoLite2 City), the
    /// kind of database, and a few probe lookups.
    pub fn open(path: &Path, kind: DbKind) -> Result<MaxMindDb, DbError> {
        let db = MaxMindDb::open_unverified(path, kind)?;
        db.reader.verify().map_err(|e| DbError { path: path.to_owned(), message: describe(&e) })?;
        Ok(db)
    }

    /// [`MaxMindDb::open`] without the full verification: for tests of damage that
    /// only a lookup meets.
    pub(crate) fn open_unverified(path: &Path, kind: DbKind) -> Result<MaxMindDb, DbError> {
        let fail = |message: String| DbError { path: path.to_owned(), message };
        let len = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?.len();
        if len == 0 {
            return Err(fail("the file is empty (not a MaxMind database)".into()));
        }
        let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
        let reader = Reader::from_source(bytes).map_err(|e| fail(describe(&e)))?;
        let db = MaxMindDb { reader, path: path.to_owned(), kind };
        db.check_kind().map_err(fail)?;
        for probe in PROBES {
            if let Ok(ip) = probe.parse::<IpAddr>() {
                if ip.is_ipv6() && !db.has_ipv6() {
                    continue;
                }
                db.lookup(ip).map_err(|e| fail(format!("lookup of {probe} failed: {}", describe(&e))))?;
            }
        }
        Ok(db)
    }

    fn check_kind(&self) -> Result<(), String> {
        let db_type = &self.reader.metadata().database_type;
        let lower = db_type.to_ascii_lowercase();
        let is_asn = lower.contains("asn") || lower.contains("isp");
        let is_geo = lower.contains("city") || lower.contains("country");
        match self.kind {
            DbKind::Geo if is_asn && !is_geo => {
                Err(format!("is a {db_type} database, not City or Country (give it to --asn)"))
            }
            DbKind::Asn if is_geo && !is_asn => {
                Err(format!("is a {db_type} database, not ASN or ISP (give it to --geoip)"))
            }
            _ => Ok(()),
        }
    }

    /// An IPv4-only database has nothing to say about IPv6 addresses.
    fn has_ipv6(&self) -> bool {
        self.reader.metadata().ip_version == 6
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `GeoIP2-City`, built 2026-01-01: for reload messages.
    pub fn describe(&self) -> String {
        let m = self.reader.metadata();
        format!("{} ({} nodes, built at epoch {})", m.database_type, m.node_count, m.build_epoch)
    }

    /// The fields this database has for `ip`, as (index into [`GEO_NAMES`] or
    /// [`ASN_NAMES`], value); empty when it knows nothing of `ip`.
    pub fn lookup(&self, ip: IpAddr) -> Result<Vec<(u8, Value)>, MaxMindDbError> {
        let ip = crate::net::unmap(ip);
        if ip.is_ipv6() && !self.has_ipv6() {
            return Ok(Vec::new());
        }
        let found = self.reader.lookup(ip)?;
        match self.kind {
            DbKind::Geo => Ok(found.decode::<CityRecord<'_>>()?.map(geo_fields).unwrap_or_default()),
            DbKind::Asn => Ok(found.decode::<AsnRecord<'_>>()?.map(asn_fields).unwrap_or_default()),
        }
    }
}

/// The reader's errors, in words for people.
fn describe(e: &MaxMindDbError) -> String {
    match e {
        MaxMindDbError::Io(io) | MaxMindDbError::Mmap(io) => io.to_string(),
        other => format!("not a valid MaxMind database: {other}"),
    }
}

#[derive(Deserialize)]
struct CityRecord<'a> {
    #[serde(borrow, default)]
    city: Option<NamedPlace<'a>>,
    #[serde(borrow, default)]
    country: Option<IsoCode<'a>>,
    #[serde(default)]
    location: Option<Location>,
    #[serde(borrow, default)]
    postal: Option<Postal<'a>>,
}

#[derive(Deserialize)]
struct NamedPlace<'a> {
    #[serde(default)]
    geoname_id: Option<u32>,
    #[serde(borrow, default)]
    names: Option<Names<'a>>,
}

#[derive(Deserialize)]
struct Names<'a> {
    #[serde(borrow, default)]
    en: Option<&'a str>,
}

#[derive(Deserialize)]
struct IsoCode<'a> {
    #[serde(borrow, default)]
    iso_code: Option<&'a str>,
}

#[derive(Deserialize)]
struct Location {
    #[serde(default)]
    latitude: Option<f64>,
    #[serde(default)]
    longitude: Option<f64>,
    #[serde(default)]
    metro_code: Option<u16>,
}

#[derive(Deserialize)]
struct Postal<'a> {
    #[serde(borrow, default)]
    code: Option<&'a str>,
}

#[derive(Deserialize)]
struct AsnRecord<'a> {
    #[serde(default)]
    autonomous_system_number: Option<u32>,
    #[serde(borrow, default)]
    autonomous_system_organization: Option<&'a str>,
}

/// Metron's geo fields. Values a record lacks are left out rather than written as
/// the empty strings Metron used; numbers are JSON numbers.
fn geo_fields(r: CityRecord<'_>) -> Vec<(u8, Value)> {
    let mut out = Vec::with_capacity(GEO_NAMES.len());
    if let Some(code) = r.country.and_then(|c| c.iso_code) {
        out.push((0, Value::from(code)));
    }
    let (city_name, loc_id) = match r.city {
        Some(c) => (c.names.and_then(|n| n.en), c.geoname_id),
        None => (None, None),
    };
    if let Some(name) = city_name {
        out.push((1, Value::from(name)));
    }
    let (lat, lon, dma) = match r.location {
        Some(l) => (l.latitude, l.longitude, l.metro_code),
        None => (None, None, None),
    };
    if let Some(lat) = lat {
        out.push((2, Value::from(lat)));
    }
    if let Some(lon) = lon {
        out.push((3, Value::from(lon)));
    }
    if let Some(code) = r.postal.and_then(|p| p.code) {
        out.push((4, Value::from(code)));
    }
    if let Some(dma) = dma {
        out.push((5, Value::from(dma)));
    }
    if let Some(id) = loc_id {
        out.push((6, Value::from(id)));
    }
    if let (Some(lat), Some(lon)) = (lat, lon) {
        out.push((7, Value::String(location_point(lat, lon))));
    }
    out
}

/// `"47.2513,-122.3149"`, as Metron wrote it (Java's `Double.toString`: a whole
/// number keeps its `.0`).
pub fn location_point(lat: f64, lon: f64) -> String {
    format!("{lat:?},{lon:?}")
}

fn asn_fields(r: AsnRecord<'_>) -> Vec<(u8, Value)> {
    let mut out = Vec::with_capacity(2);
    if let Some(n) = r.autonomous_system_number {
        out.push((0, Value::from(n)));
    }
    if let Some(org) = r.autonomous_system_organization {
        out.push((1, Value::from(org)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mmdb(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/mmdb").join(name)
    }

    fn get<'a>(fields: &'a [(u8, Value)], names: &[&str], name: &str) -> Option<&'a Value> {
        let i = names.iter().position(|n| *n == name).unwrap() as u8;
        fields.iter().find(|(k, _)| *k == i).map(|(_, v)| v)
    }

    #[test]
    fn city_fields_use_metron_names() {
        let db = MaxMindDb::open(&mmdb("GeoIP2-City-Test.mmdb"), DbKind::Geo).unwrap();
        let f = db.lookup("216.160.83.56".parse().unwrap()).unwrap();
        let g = |n| get(&f, &GEO_NAMES, n).cloned();
        assert_eq!(g("country"), Some(Value::from("US")));
        assert_eq!(g("city"), Some(Value::from("Milton")));
        assert_eq!(g("postalCode"), Some(Value::from("98354")));
        assert_eq!(g("latitude"), Some(Value::from(47.2513)));
        assert_eq!(g("longitude"), Some(Value::from(-122.3149)));
        assert_eq!(g("location_point"), Some(Value::from("47.2513,-122.3149")));
        assert_eq!(g("locID"), Some(Value::from(5803556)));
        assert_eq!(g("dmaCode"), Some(Value::from(819)));
        assert!(db.lookup("8.8.8.8".parse().unwrap()).unwrap().is_empty());
    }

    #[test]
    fn ipv6_and_records_without_a_city() {
        let db = MaxMindDb::open(&mmdb("GeoIP2-City-Test.mmdb"), DbKind::Geo).unwrap();
        let f = db.lookup("2001:218::1".parse().unwrap()).unwrap();
        assert_eq!(get(&f, &GEO_NAMES, "country"), Some(&Value::from("JP")));
        assert_eq!(get(&f, &GEO_NAMES, "city"), None);
        assert_eq!(get(&f, &GEO_NAMES, "location_point"), Some(&Value::from("35.68536,139.75309")));
    }

    #[test]
    fn asn_fields() {
        let db = MaxMindDb::open(&mmdb("GeoLite2-ASN-Test.mmdb"), DbKind::Asn).unwrap();
        let f = db.lookup("1.128.0.0".parse().unwrap()).unwrap();
        assert_eq!(get(&f, &ASN_NAMES, "number"), Some(&Value::from(1221)));
        assert_eq!(get(&f, &ASN_NAMES, "organization"), Some(&Value::from("Telstra Pty Ltd")));
        let f = db.lookup("216.160.83.56".parse().unwrap()).unwrap();
        assert_eq!(f, vec![(0, Value::from(209))]);
    }

    #[test]
    fn whole_numbers_keep_their_point_in_location_point() {
        assert_eq!(location_point(37.0, 127.5), "37.0,127.5");
        assert_eq!(location_point(-37.8159, 144.9669), "-37.8159,144.9669");
    }

    #[test]
    fn a_database_of_the_wrong_kind_is_refused() {
        let err = MaxMindDb::open(&mmdb("GeoLite2-ASN-Test.mmdb"), DbKind::Geo).unwrap_err();
        assert!(err.to_string().contains("GeoLite2-ASN-Test.mmdb") && err.to_string().contains("--asn"), "{err}");
        let err = MaxMindDb::open(&mmdb("GeoIP2-City-Test.mmdb"), DbKind::Asn).unwrap_err();
        assert!(err.to_string().contains("--geoip"), "{err}");
    }

    #[test]
    fn broken_databases_fail_at_open_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let good = std::fs::read(mmdb("GeoIP2-City-Test.mmdb")).unwrap();
        let mut broken = vec![
            mmdb("bad-libmaxminddb-corrupt-search-tree.mmdb"),
            mmdb("bad-maxminddb-golang-invalid-data-record-offset.mmdb"),
            mmdb("GeoIP2-City-Test-Invalid-Node-Count.mmdb"),
        ];
        for (name, bytes) in [
            ("truncated.mmdb", &good[..good.len() / 2]),
            ("empty.mmdb", &good[..0]),
            ("tail-cut.mmdb", &good[..good.len() - 10]),
            ("text.mmdb", b"not a database\n".as_slice()),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            broken.push(p);
        }
        broken.push(dir.path().join("missing.mmdb"));
        for path in broken {
            let err = MaxMindDb::open(&path, DbKind::Geo).unwrap_err();
            assert!(err.to_string().contains(&path.display().to_string()), "{err}");
        }
    }
}
