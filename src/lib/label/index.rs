//! The intel index: every loaded indicator, normalized once, in lookup structures
//! built for the per-event question "is this value listed anywhere?". Addresses are
//! integer-keyed maps plus one map per CIDR prefix length present; domains are one
//! map whose entries say whether they also cover subdomains; hashes are fixed-size
//! byte keys. Several sources may list the same value: a map holds the first entry
//! and entries chain to the next source's.

use crate::net::PrefixTable;
use crate::text::hex;
use ipnet::IpNet;
use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;

type Hasher = foldhash::fast::RandomState;
type Map<K> = HashMap<K, u32, Hasher>;

/// What kind of observable an indicator is. The name is the last part of the
/// `threatintels.<source>.<field>.<type>` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IndicatorType {
    Ip,
    Domain,
    Url,
    Email,
    Md5,
    Sha1,
    Sha256,
}

impl IndicatorType {
    pub const ALL: [IndicatorType; 7] = [
        IndicatorType::Ip,
        IndicatorType::Domain,
        IndicatorType::Url,
        IndicatorType::Email,
        IndicatorType::Md5,
        IndicatorType::Sha1,
        IndicatorType::Sha256,
    ];

    pub fn name(self) -> &'static str {
        match self {
            IndicatorType::Ip => "ip",
            IndicatorType::Domain => "domain",
            IndicatorType::Url => "url",
            IndicatorType::Email => "email",
            IndicatorType::Md5 => "md5",
            IndicatorType::Sha1 => "sha1",
            IndicatorType::Sha256 => "sha256",
        }
    }

    /// Our names, and the common spellings feeds use for them.
    pub fn from_name(name: &str) -> Option<IndicatorType> {
        Some(match name.to_ascii_lowercase().as_str() {
            "ip" | "ipv4" | "ipv6" | "ip-addr" | "ipv4-addr" | "ipv6-addr" | "cidr" => IndicatorType::Ip,
            "domain" | "hostname" | "domain-name" | "fqdn" => IndicatorType::Domain,
            "url" | "uri" => IndicatorType::Url,
            "email" | "email-addr" | "email-src" | "email-dst" => IndicatorType::Email,
            "md5" => IndicatorType::Md5,
            "sha1" | "sha-1" => IndicatorType::Sha1,
            "sha256" | "sha-256" => IndicatorType::Sha256,
            _ => return None,
        })
    }

    fn slot(self) -> usize {
        self as usize
    }
}

/// One indicator, normalized so that equal things compare equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Indicator {
    Ip(IpAddr),
    /// A network: matches every address in it.
    Net(IpNet),
    /// Address text compared as text: a STIX `=` against a CIDR literal, which by the
    /// STIX semantics equals only that same text, never the addresses inside.
    IpText(String),
    /// `subdomains`: `evil.com` also covers `a.b.evil.com` (list feeds); STIX `=` is
    /// exact.
    Domain {
        name: String,
        subdomains: bool,
    },
    Url(String),
    Email(String),
    Md5([u8; 16]),
    Sha1([u8; 20]),
    Sha256([u8; 32]),
}

impl Indicator {
    pub fn kind(&self) -> IndicatorType {
        match self {
            Indicator::Ip(_) | Indicator::Net(_) | Indicator::IpText(_) => IndicatorType::Ip,
            Indicator::Domain { .. } => IndicatorType::Domain,
            Indicator::Url(_) => IndicatorType::Url,
            Indicator::Email(_) => IndicatorType::Email,
            Indicator::Md5(_) => IndicatorType::Md5,
            Indicator::Sha1(_) => IndicatorType::Sha1,
            Indicator::Sha256(_) => IndicatorType::Sha256,
        }
    }

    /// Reads `text` as an indicator of type `kind` (feeds: domains cover their
    /// subdomains).
    pub fn parse(kind: IndicatorType, text: &str) -> Result<Indicator, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty indicator".into());
        }
        match kind {
            IndicatorType::Ip => parse_ip_or_net(text).ok_or_else(|| format!("not an IP address or CIDR: {text:?}")),
            IndicatorType::Domain => match normalize_domain(text) {
                Some(name) if is_domain(&name) => Ok(Indicator::Domain { name: name.into_owned(), subdomains: true }),
                _ => Err(format!("not a domain name: {text:?}")),
            },
            IndicatorType::Url => normalize_url(text)
                .map(|u| Indicator::Url(u.into_owned()))
                .ok_or_else(|| format!("not a URL (scheme://host/...): {text:?}")),
            IndicatorType::Email => normalize_email(text)
                .filter(|e| is_email(e))
                .map(|e| Indicator::Email(e.into_owned()))
                .ok_or_else(|| format!("not an email address: {text:?}")),
            IndicatorType::Md5 | IndicatorType::Sha1 | IndicatorType::Sha256 => parse_hash(text)
                .filter(|h| h.kind() == kind)
                .ok_or_else(|| format!("not an {} hash ({} hex digits): {text:?}", kind.name(), hash_len(kind) * 2)),
        }
    }

    /// Reads a line of a plain list, whose type is whatever the text is.
    pub fn detect(text: &str) -> Result<Indicator, String> {
        let text = text.trim();
        if let Some(ip) = parse_ip_or_net(text) {
            return Ok(ip);
        }
        if text.find(':').is_some_and(|i| text[i..].starts_with("://")) {
            return Indicator::parse(IndicatorType::Url, text);
        }
        if text.contains('@') {
            return Indicator::parse(IndicatorType::Email, text);
        }
        if let Some(h) = parse_hash(text) {
            return Ok(h);
        }
        Indicator::parse(IndicatorType::Domain, text)
            .map_err(|_| format!("not an IP, CIDR, domain, URL, email address or hash: {text:?}"))
    }

    /// The indicator as text, the way it is shown in `...indicator` fields.
    pub fn text(&self) -> String {
        match self {
            Indicator::Ip(ip) => ip.to_string(),
            Indicator::Net(net) => net.to_string(),
            Indicator::IpText(s) | Indicator::Url(s) | Indicator::Email(s) => s.clone(),
            Indicator::Domain { name, .. } => name.clone(),
            Indicator::Md5(h) => hex(h),
            Indicator::Sha1(h) => hex(h),
            Indicator::Sha256(h) => hex(h),
        }
    }
}

fn hash_len(kind: IndicatorType) -> usize {
    match kind {
        IndicatorType::Md5 => 16,
        IndicatorType::Sha1 => 20,
        _ => 32,
    }
}

fn parse_ip_or_net(text: &str) -> Option<Indicator> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(Indicator::Ip(ip));
    }
    if !text.contains('/') {
        return None;
    }
    let net = text.parse::<IpNet>().ok()?.trunc();
    Some(if net.prefix_len() == net.max_prefix_len() { Indicator::Ip(net.addr()) } else { Indicator::Net(net) })
}

/// Lower case, no trailing dot. Borrowed when nothing changes, which is the common
/// case for sensor data.
pub fn normalize_domain(text: &str) -> Option<Cow<'_, str>> {
    let t = text.trim().trim_end_matches('.');
    if t.is_empty() {
        return None;
    }
    if t.bytes().any(|b| b.is_ascii_uppercase()) {
        Some(Cow::Owned(t.to_ascii_lowercase()))
    } else {
        Some(Cow::Borrowed(t))
    }
}

/// The longest DNS name (RFC 1035: 255 octets on the wire, 253 as text).
pub const MAX_DOMAIN: usize = 253;

/// A plausible DNS name: dot-separated labels of letters, digits, `-` and `_`, at
/// least two labels (a feed line `localhost` or a word of prose is not an indicator).
fn is_domain(name: &str) -> bool {
    name.len() <= MAX_DOMAIN
        && name.contains('.')
        && name.split('.').all(|l| {
            !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        && !name.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

fn is_email(e: &str) -> bool {
    match e.split_once('@') {
        Some((local, domain)) => !local.is_empty() && !local.contains(char::is_whitespace) && is_domain(domain),
        None => false,
    }
}

/// `Name <a@b.com>` and `<A@B.com>` become `a@b.com`.
pub fn normalize_email(text: &str) -> Option<Cow<'_, str>> {
    let mut t = text.trim();
    if let (Some(open), Some(close)) = (t.rfind('<'), t.rfind('>')) {
        if open < close {
            t = &t[open + 1..close];
        }
    }
    let t = t.trim();
    if t.is_empty() || !t.contains('@') {
        return None;
    }
    if t.bytes().any(|b| b.is_ascii_uppercase()) {
        Some(Cow::Owned(t.to_ascii_lowercase()))
    } else {
        Some(Cow::Borrowed(t))
    }
}

/// Scheme and host in lower case, the scheme's default port dropped, an empty path
/// made `/`. The rest (path, query) is compared as written: servers may treat its
/// case as significant.
pub fn normalize_url(text: &str) -> Option<Cow<'_, str>> {
    let text = text.trim();
    let (scheme, rest) = text.split_once("://")?;
    if scheme.is_empty() || !scheme.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')) {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    // user:pass@ stays as it is; only the host part is case-folded.
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(at) => authority.split_at(at + 1),
        None => ("", authority),
    };
    if hostport.is_empty() {
        return None;
    }
    let (host, port) = split_port(hostport);
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => Some("80"),
        "https" | "wss" => Some("443"),
        "ftp" => Some("21"),
        _ => None,
    };
    let port = port.filter(|p| Some(*p) != default_port && !p.is_empty());
    let host = host.trim_end_matches('.');
    let clean = scheme.bytes().all(|b| !b.is_ascii_uppercase())
        && host.bytes().all(|b| !b.is_ascii_uppercase())
        && host.len() + port.map_or(0, |p| p.len() + 1) == hostport.len()
        && !path.is_empty();
    if clean {
        return Some(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len() + 1);
    out.push_str(&scheme.to_ascii_lowercase());
    out.push_str("://");
    out.push_str(userinfo);
    out.push_str(&host.to_ascii_lowercase());
    if let Some(p) = port {
        out.push(':');
        out.push_str(p);
    }
    if !path.starts_with('/') {
        out.push('/');
    }
    out.push_str(path);
    Some(Cow::Owned(out))
}

/// `host:port` and `[v6]:port`.
fn split_port(hostport: &str) -> (&str, Option<&str>) {
    if hostport.starts_with('[') {
        return match hostport.find(']') {
            Some(close) => {
                let port = hostport[close + 1..].strip_prefix(':');
                (&hostport[..=close], port)
            }
            None => (hostport, None),
        };
    }
    match hostport.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !h.contains(':') => (h, Some(p)),
        _ => (hostport, None),
    }
}

/// Hex (either case, `:` between bytes allowed as in certificate fingerprints) of
/// an MD5, SHA-1 or SHA-256.
pub fn parse_hash(text: &str) -> Option<Indicator> {
    let mut buf = [0u8; 32];
    let n = decode_hex(text.trim(), &mut buf)?;
    Some(match n {
        16 => Indicator::Md5(buf[..16].try_into().ok()?),
        20 => Indicator::Sha1(buf[..20].try_into().ok()?),
        32 => Indicator::Sha256(buf),
        _ => return None,
    })
}

fn decode_hex(text: &str, out: &mut [u8; 32]) -> Option<usize> {
    let mut n = 0;
    let mut high: Option<u8> = None;
    for b in text.bytes() {
        if b == b':' {
            if high.is_some() {
                return None;
            }
            continue;
        }
        let v = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return None,
        };
        match high.take() {
            None => high = Some(v),
            Some(h) => {
                *out.get_mut(n)? = (h << 4) | v;
                n += 1;
            }
        }
    }
    if high.is_some() {
        return None;
    }
    Some(n)
}

/// What a feed or STIX object says about its indicators, shared by many of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Meta {
    /// STIX id.
    pub id: Option<String>,
    /// STIX name, or a feed's malware / threat / reason column.
    pub name: Option<String>,
    /// STIX labels and indicator_types, or a feed's tags.
    pub labels: Vec<String>,
    /// STIX confidence (0-100).
    pub confidence: Option<i64>,
    /// STIX valid_from / valid_until, ms since the epoch.
    pub valid_from: Option<i64>,
    pub valid_until: Option<i64>,
}

impl Meta {
    /// Whether the indicator applies at `at_ms` (valid_until is exclusive, as in STIX).
    pub fn valid_at(&self, at_ms: i64) -> bool {
        self.valid_from.is_none_or(|f| at_ms >= f) && self.valid_until.is_none_or(|u| at_ms < u)
    }
}

/// One listing of one value by one source.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub source: u16,
    /// Covers subdomains (domains from list feeds).
    pub subdomains: bool,
    /// Into `Index::metas`, or `NO_META`.
    pub meta: u32,
    /// The next source's entry for the same value, or `NO_ENTRY`.
    next: u32,
}

pub const NO_META: u32 = u32::MAX;
const NO_ENTRY: u32 = u32::MAX;

/// A hit: which entry, and the indicator as listed (the parent domain, the network).
#[derive(Debug, Clone)]
pub struct Hit {
    pub entry: Entry,
    pub kind: IndicatorType,
    pub indicator: String,
}

/// Everything loaded, ready for lookups.
#[derive(Debug, Default)]
pub struct Index {
    /// Addresses and networks (an address is a full-length network), each to its
    /// first entry.
    nets: PrefixTable<u32>,
    ip_text: Map<Box<str>>,
    domains: Map<Box<str>>,
    urls: Map<Box<str>>,
    emails: Map<Box<str>>,
    md5: Map<[u8; 16]>,
    sha1: Map<[u8; 20]>,
    sha256: Map<[u8; 32]>,
    entries: Vec<Entry>,
    metas: Vec<Meta>,
    sources: Vec<String>,
    counts: [u64; 7],
    /// Bytes of text held by the string-keyed maps (for the memory estimate).
    text_bytes: usize,
}

impl Index {
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    pub fn meta(&self, i: u32) -> Option<&Meta> {
        self.metas.get(i as usize)
    }

    /// How many indicators of each type.
    pub fn count(&self, kind: IndicatorType) -> u64 {
        self.counts[kind.slot()]
    }

    pub fn len(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` with every hit for an address field's value: the address itself,
    /// then every network holding it, most specific first.
    pub fn lookup_ip(&self, text: &str, f: &mut impl FnMut(Hit)) {
        match text.parse::<IpAddr>() {
            Ok(ip) => self.nets.for_each_match(ip, |net, &e| {
                let indicator = || {
                    if net.prefix_len() == net.max_prefix_len() {
                        net.addr().to_string()
                    } else {
                        net.to_string()
                    }
                };
                self.chain(e, IndicatorType::Ip, indicator, f);
            }),
            Err(_) if !self.ip_text.is_empty() => {
                if let Some(&e) = self.ip_text.get(text.trim()) {
                    self.chain(e, IndicatorType::Ip, || text.trim().to_owned(), f);
                }
            }
            Err(_) => {}
        }
    }

    /// Hits for a domain: the name itself (any entry), then each parent domain
    /// (entries that cover subdomains only).
    pub fn lookup_domain(&self, text: &str, f: &mut impl FnMut(Hit)) {
        if self.domains.is_empty() {
            return;
        }
        let Some(name) = normalize_domain(text) else { return };
        // No listed domain is longer than a DNS name can be (253 bytes), so a longer
        // value cannot hit, and walking its suffixes would cost its length squared.
        if name.len() > MAX_DOMAIN {
            return;
        }
        if let Some(&e) = self.domains.get(name.as_ref()) {
            self.chain(e, IndicatorType::Domain, || name.to_string(), f);
        }
        let mut rest: &str = &name;
        while let Some(dot) = rest.find('.') {
            rest = &rest[dot + 1..];
            if !rest.contains('.') {
                break; // a bare TLD is never listed as a domain
            }
            if let Some(&e) = self.domains.get(rest) {
                let mut parent = |h: Hit| {
                    if h.entry.subdomains {
                        f(h)
                    }
                };
                self.chain(e, IndicatorType::Domain, || rest.to_owned(), &mut parent);
            }
        }
    }

    pub fn lookup_url(&self, text: &str, f: &mut impl FnMut(Hit)) {
        if self.urls.is_empty() {
            return;
        }
        if let Some(url) = normalize_url(text) {
            if let Some(&e) = self.urls.get(url.as_ref()) {
                self.chain(e, IndicatorType::Url, || url.to_string(), f);
            }
        }
    }

    pub fn lookup_email(&self, text: &str, f: &mut impl FnMut(Hit)) {
        if self.emails.is_empty() {
            return;
        }
        if let Some(email) = normalize_email(text) {
            if let Some(&e) = self.emails.get(email.as_ref()) {
                self.chain(e, IndicatorType::Email, || email.to_string(), f);
            }
        }
    }

    /// Hits for a hash field, of the type the value's length says.
    pub fn lookup_hash(&self, text: &str, want: IndicatorType, f: &mut impl FnMut(Hit)) {
        let mut buf = [0u8; 32];
        let Some(n) = decode_hex(text.trim(), &mut buf) else { return };
        let found = match (n, want) {
            (16, IndicatorType::Md5) => buf[..16].try_into().ok().and_then(|k: [u8; 16]| self.md5.get(&k)),
            (20, IndicatorType::Sha1) => buf[..20].try_into().ok().and_then(|k: [u8; 20]| self.sha1.get(&k)),
            (32, IndicatorType::Sha256) => self.sha256.get(&buf),
            _ => None,
        };
        if let Some(&e) = found {
            self.chain(e, want, || hex(&buf[..n]), f);
        }
    }

    /// Whether any indicator of `kind` is loaded (fields for absent types are skipped).
    pub fn has(&self, kind: IndicatorType) -> bool {
        self.counts[kind.slot()] > 0
    }

    fn chain(&self, mut e: u32, kind: IndicatorType, text: impl Fn() -> String, f: &mut impl FnMut(Hit)) {
        while let Some(entry) = self.entries.get(e as usize) {
            f(Hit { entry: *entry, kind, indicator: text() });
            e = entry.next;
        }
    }

    /// An estimate of the heap the index holds, from its tables' capacities: what a
    /// million indicators cost is reported when they load.
    pub fn memory_bytes(&self) -> usize {
        fn table<K>(m: &Map<K>) -> usize {
            // hashbrown: one control byte per bucket, buckets ~ capacity * 8 / 7.
            m.capacity() * 8 / 7 * (std::mem::size_of::<(K, u32)>() + 1)
        }
        let metas: usize = self
            .metas
            .iter()
            .map(|m| {
                std::mem::size_of::<Meta>()
                    + m.id.as_ref().map_or(0, String::capacity)
                    + m.name.as_ref().map_or(0, String::capacity)
                    + m.labels.iter().map(|l| l.capacity() + std::mem::size_of::<String>()).sum::<usize>()
            })
            .sum();
        self.nets.memory_bytes()
            + table(&self.ip_text)
            + table(&self.domains)
            + table(&self.urls)
            + table(&self.emails)
            + table(&self.md5)
            + table(&self.sha1)
            + table(&self.sha256)
            + self.text_bytes
            + self.entries.capacity() * std::mem::size_of::<Entry>()
            + metas
    }
}

/// Builds an index; nothing is visible to lookups until `finish`.
#[derive(Default)]
pub struct IndexBuilder {
    index: Index,
    meta_ids: HashMap<Meta, u32, Hasher>,
}

/// What `add` did with an indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    New,
    /// The same source listed the same value before; the first listing stays.
    Duplicate,
}

impl IndexBuilder {
    pub fn new() -> IndexBuilder {
        IndexBuilder::default()
    }

    /// The number of a source name (the `<source>` of the output keys).
    pub fn source(&mut self, name: &str) -> u16 {
        if let Some(i) = self.index.sources.iter().position(|s| s == name) {
            return i as u16;
        }
        self.index.sources.push(name.to_owned());
        (self.index.sources.len() - 1).min(u16::MAX as usize) as u16
    }

    /// Stores `meta` once however many indicators share it.
    pub fn meta(&mut self, meta: Meta) -> u32 {
        if meta == Meta::default() {
            return NO_META;
        }
        if let Some(&i) = self.meta_ids.get(&meta) {
            return i;
        }
        let i = self.index.metas.len() as u32;
        self.index.metas.push(meta.clone());
        self.meta_ids.insert(meta, i);
        i
    }

    pub fn add(&mut self, indicator: Indicator, source: u16, meta: u32) -> Added {
        let subdomains = matches!(indicator, Indicator::Domain { subdomains: true, .. });
        let kind = indicator.kind();
        let new_entry = self.index.entries.len() as u32;
        let entry = Entry { source, subdomains, meta, next: NO_ENTRY };
        let ix = &mut self.index;
        let slot = match indicator {
            Indicator::Ip(a) => Slot::net(&mut ix.nets, IpNet::from(a)),
            Indicator::Net(n) => Slot::net(&mut ix.nets, n),
            Indicator::IpText(s) => text_slot(&mut ix.ip_text, s, &mut ix.text_bytes),
            Indicator::Domain { name, .. } => text_slot(&mut ix.domains, name, &mut ix.text_bytes),
            Indicator::Url(s) => text_slot(&mut ix.urls, s, &mut ix.text_bytes),
            Indicator::Email(s) => text_slot(&mut ix.emails, s, &mut ix.text_bytes),
            Indicator::Md5(h) => Slot::of(ix.md5.entry(h)),
            Indicator::Sha1(h) => Slot::of(ix.sha1.entry(h)),
            Indicator::Sha256(h) => Slot::of(ix.sha256.entry(h)),
        };
        match slot {
            Slot::Vacant(cell) => {
                *cell = new_entry;
            }
            Slot::Occupied(first) => {
                // Walk this value's chain: the same source again is a duplicate.
                let mut e = first;
                loop {
                    let cur = ix.entries[e as usize];
                    if cur.source == source {
                        if subdomains && !cur.subdomains {
                            ix.entries[e as usize].subdomains = true;
                        }
                        return Added::Duplicate;
                    }
                    if cur.next == NO_ENTRY {
                        ix.entries[e as usize].next = new_entry;
                        break;
                    }
                    e = cur.next;
                }
            }
        }
        ix.entries.push(entry);
        ix.counts[kind.slot()] += 1;
        Added::New
    }

    pub fn finish(mut self) -> Index {
        self.index.entries.shrink_to_fit();
        self.index.metas.shrink_to_fit();
        self.index
    }
}

/// Where a value's first entry number lives in its map.
enum Slot<'a> {
    /// Just inserted with a placeholder: write the new entry's number.
    Vacant(&'a mut u32),
    Occupied(u32),
}

impl<'a> Slot<'a> {
    fn net(table: &'a mut PrefixTable<u32>, net: IpNet) -> Slot<'a> {
        match table.get_or_insert_with(net, || NO_ENTRY) {
            (cell, true) => Slot::Vacant(cell),
            (cell, false) => Slot::Occupied(*cell),
        }
    }

    fn of<K>(entry: std::collections::hash_map::Entry<'a, K, u32>) -> Slot<'a> {
        use std::collections::hash_map::Entry as E;
        match entry {
            E::Occupied(o) => Slot::Occupied(*o.get()),
            E::Vacant(v) => Slot::Vacant(v.insert(NO_ENTRY)),
        }
    }
}

fn text_slot<'a>(map: &'a mut Map<Box<str>>, key: String, bytes: &mut usize) -> Slot<'a> {
    let len = key.len();
    let slot = Slot::of(map.entry(key.into_boxed_str()));
    if matches!(slot, Slot::Vacant(_)) {
        *bytes += len;
    }
    slot
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(index: &Index, kind: IndicatorType, value: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut f = |h: Hit| out.push((index.sources()[h.entry.source as usize].clone(), h.indicator));
        match kind {
            IndicatorType::Ip => index.lookup_ip(value, &mut f),
            IndicatorType::Domain => index.lookup_domain(value, &mut f),
            IndicatorType::Url => index.lookup_url(value, &mut f),
            IndicatorType::Email => index.lookup_email(value, &mut f),
            k => index.lookup_hash(value, k, &mut f),
        }
        out
    }

    fn s(a: &str, b: &str) -> (String, String) {
        (a.to_owned(), b.to_owned())
    }

    #[test]
    fn list_domains_cover_subdomains_and_stix_domains_do_not() {
        let mut b = IndexBuilder::new();
        let list = b.source("list");
        let stix = b.source("stix");
        b.add(Indicator::detect("Evil.COM.").unwrap(), list, NO_META);
        b.add(Indicator::Domain { name: "exact.org".into(), subdomains: false }, stix, NO_META);
        let ix = b.finish();
        assert_eq!(hits(&ix, IndicatorType::Domain, "a.b.evil.com"), [s("list", "evil.com")]);
        assert_eq!(hits(&ix, IndicatorType::Domain, "EVIL.com"), [s("list", "evil.com")]);
        assert!(hits(&ix, IndicatorType::Domain, "notevil.com").is_empty());
        assert_eq!(hits(&ix, IndicatorType::Domain, "exact.org"), [s("stix", "exact.org")]);
        assert!(hits(&ix, IndicatorType::Domain, "www.exact.org").is_empty());
    }

    #[test]
    fn addresses_and_networks_from_several_sources() {
        let mut b = IndexBuilder::new();
        let a = b.source("a");
        let c = b.source("c");
        b.add(Indicator::detect("10.1.2.3").unwrap(), a, NO_META);
        b.add(Indicator::detect("10.0.0.0/8").unwrap(), c, NO_META);
        b.add(Indicator::detect("10.1.0.0/16").unwrap(), c, NO_META);
        b.add(Indicator::detect("2001:DB8::1").unwrap(), a, NO_META);
        assert_eq!(b.add(Indicator::detect("10.1.2.3").unwrap(), a, NO_META), Added::Duplicate);
        assert_eq!(b.add(Indicator::detect("10.1.2.3/32").unwrap(), c, NO_META), Added::New);
        let ix = b.finish();
        assert_eq!(ix.count(IndicatorType::Ip), 5);
        assert_eq!(
            hits(&ix, IndicatorType::Ip, "10.1.2.3"),
            [s("a", "10.1.2.3"), s("c", "10.1.2.3"), s("c", "10.1.0.0/16"), s("c", "10.0.0.0/8")]
        );
        assert_eq!(hits(&ix, IndicatorType::Ip, "10.200.0.1"), [s("c", "10.0.0.0/8")]);
        assert_eq!(hits(&ix, IndicatorType::Ip, "2001:db8:0::1"), [s("a", "2001:db8::1")]);
        assert!(hits(&ix, IndicatorType::Ip, "11.0.0.1").is_empty());
        assert!(hits(&ix, IndicatorType::Ip, "not an ip").is_empty());
    }

    #[test]
    fn urls_are_compared_normalized() {
        assert_eq!(normalize_url("HTTP://Evil.COM:80").unwrap(), "http://evil.com/");
        assert_eq!(normalize_url("https://evil.com:443/A?b=C").unwrap(), "https://evil.com/A?b=C");
        assert_eq!(normalize_url("http://evil.com:8080/x").unwrap(), "http://evil.com:8080/x");
        assert_eq!(normalize_url("http://[2001:DB8::1]:80/x").unwrap(), "http://[2001:db8::1]/x");
        assert_eq!(normalize_url("http://u:P@Host/x").unwrap(), "http://u:P@host/x");
        assert!(matches!(normalize_url("http://evil.com/x").unwrap(), Cow::Borrowed(_)));
        assert!(normalize_url("evil.com/x").is_none());
        let mut b = IndexBuilder::new();
        let src = b.source("u");
        b.add(Indicator::parse(IndicatorType::Url, "http://paypa1.banking.com").unwrap(), src, NO_META);
        let ix = b.finish();
        assert_eq!(hits(&ix, IndicatorType::Url, "http://PAYPA1.banking.com:80/").len(), 1);
        assert!(hits(&ix, IndicatorType::Url, "http://paypa1.banking.com/x").is_empty());
    }

    #[test]
    fn hashes_by_length_and_fingerprint_form() {
        let sha1 = "2e3519b7cb61a3cd6167f727df993f68311085ea";
        let mut b = IndexBuilder::new();
        let src = b.source("sslbl");
        b.add(Indicator::parse(IndicatorType::Sha1, sha1).unwrap(), src, NO_META);
        let ix = b.finish();
        let colons = "2E:35:19:B7:CB:61:A3:CD:61:67:F7:27:DF:99:3F:68:31:10:85:EA";
        assert_eq!(hits(&ix, IndicatorType::Sha1, colons), [s("sslbl", sha1)]);
        assert!(hits(&ix, IndicatorType::Md5, sha1).is_empty());
        assert!(Indicator::parse(IndicatorType::Md5, sha1).is_err());
        assert!(parse_hash("2e3").is_none());
    }

    #[test]
    fn emails_lose_display_names_and_case() {
        let mut b = IndexBuilder::new();
        let src = b.source("m");
        b.add(Indicator::detect("Bad@Evil.com").unwrap(), src, NO_META);
        let ix = b.finish();
        assert_eq!(hits(&ix, IndicatorType::Email, "Mr Bad <BAD@evil.com>"), [s("m", "bad@evil.com")]);
    }

    #[test]
    fn detect_refuses_prose() {
        for bad in ["Redistribution and use", "localhost", "1.2.3", "http://", "a@b", "300.1.1.1"] {
            assert!(Indicator::detect(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn meta_is_shared_and_validity_is_a_window() {
        let mut b = IndexBuilder::new();
        let m = Meta { name: Some("Pikabot".into()), ..Meta::default() };
        assert_eq!(b.meta(m.clone()), b.meta(m));
        assert_eq!(b.meta(Meta::default()), NO_META);
        let w = Meta { valid_from: Some(10), valid_until: Some(20), ..Meta::default() };
        assert!(!w.valid_at(9) && w.valid_at(10) && w.valid_at(19) && !w.valid_at(20));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,100}") {
            let _ = Indicator::detect(&s);
            for kind in IndicatorType::ALL {
                let _ = Indicator::parse(kind, &s);
            }
            let _ = normalize_url(&s);
            let mut b = IndexBuilder::new();
            let src = b.source("p");
            if let Ok(i) = Indicator::detect(&s) {
                b.add(i, src, NO_META);
            }
            let ix = b.finish();
            let mut f = |_h: Hit| {};
            ix.lookup_ip(&s, &mut f);
            ix.lookup_domain(&s, &mut f);
            ix.lookup_url(&s, &mut f);
            ix.lookup_email(&s, &mut f);
            ix.lookup_hash(&s, IndicatorType::Sha1, &mut f);
        }
    }
}
