//! TLS handshakes from a reassembled TCP connection (`capture --emit tls`): one
//! `metron.tls` record per connection with the fields of Zeek's ssl.log (`version`,
//! `cipher`, `curve`, `server_name`, `next_protocol`, `resumed`, `established`), the
//! client and server fingerprints JA3, JA3S and JA4, and for TLS 1.2 and older, whose
//! certificates travel in the clear, the server certificate's fields as Zeek's x509.log
//! has them.
//!
//! Records are read by their headers (a record claiming more than TLS allows ends the
//! reading of that direction); handshake messages are gathered across records and
//! read with tls-parser (Rusticata's, as Suricata's) once whole; certificates with
//! x509-parser. Nothing past a direction's ChangeCipherSpec (or, in TLS 1.3, past the
//! ServerHello) is read but record types: it is encrypted.
//!
//! JA3 and JA3S follow Salesforce's definition (GREASE values left out, as tshark
//! does); JA4 follows FoxIO's specification (technical_details/JA4.md, BSD-3-Clause).

use super::tcp::{Records, StreamParser};
use crate::event::{event_with_capacity, fields};
use crate::text::hex;
use md5::{Digest as _, Md5};
use serde_json::Value;
use sha2::Sha256;
use std::fmt::Write as _;
use tls_parser::{TlsExtension, TlsMessage, TlsMessageHandshake};

/// Largest record TLS allows (2^14 plus the most expansion a cipher may add).
const MAX_RECORD: usize = 16_384 + 2_048;
/// Largest handshake message gathered (a long certificate chain fits).
const MAX_HANDSHAKE: usize = 256 * 1024;

/// Whether these first bytes are a TLS handshake record (SSL 3.0 to TLS 1.3).
pub fn looks_like(b: &[u8]) -> bool {
    b.len() >= 3 && b[0] == 22 && b[1] == 3 && b[2] <= 4
}

#[derive(Debug, Default)]
struct Side {
    /// A record not yet whole.
    record: Vec<u8>,
    /// Handshake bytes not yet a whole message.
    handshake: Vec<u8>,
    /// Past the point where the handshake is encrypted.
    encrypted: bool,
    /// Not TLS, or lost in a gap.
    broken: bool,
    change_cipher_spec: bool,
    application_data: bool,
}

/// What the ClientHello says.
#[derive(Debug, Default)]
struct Client {
    server_name: Option<String>,
    ja3: String,
    ja4: String,
    session_id: Vec<u8>,
}

/// What the ServerHello says.
#[derive(Debug, Default)]
struct Server {
    version: u16,
    cipher: u16,
    next_protocol: Option<String>,
    ja3s: String,
    resumed: bool,
    curve: Option<u16>,
}

/// The server certificate.
#[derive(Debug, Default)]
struct Cert {
    subject: Option<String>,
    issuer: Option<String>,
    not_valid_before: Option<i64>,
    not_valid_after: Option<i64>,
    san_dns: Vec<String>,
    chain_fps: Vec<String>,
}

/// The parser of one connection.
#[derive(Debug, Default)]
pub struct Tls {
    sides: [Side; 2],
    ts_ns: Option<i64>,
    client: Option<Client>,
    server: Option<Server>,
    cert: Option<Cert>,
    last_alert: Option<u8>,
    written: bool,
}

impl StreamParser for Tls {
    /// In-order bytes from the client or the server; `false` when that direction is
    /// not TLS after all.
    fn data(&mut self, client: bool, bytes: &[u8], ts_ns: i64, out: &mut Records) -> bool {
        let side = usize::from(!client);
        if self.written || self.sides[side].broken {
            return !self.sides[side].broken;
        }
        self.ts_ns.get_or_insert(ts_ns);
        let mut rest = bytes;
        // A record split across calls is gathered; whole ones are read in place.
        while !self.sides[side].record.is_empty() {
            let s = &mut self.sides[side];
            let want = match record_len(&s.record) {
                Some(n) if n > MAX_RECORD => {
                    s.broken = true;
                    s.record = Vec::new();
                    return false;
                }
                Some(n) => 5 + n,
                None => 5,
            };
            let take = want.saturating_sub(s.record.len()).min(rest.len());
            s.record.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if s.record.len() < want {
                return true; // all of `rest` is in it, and more is to come
            }
            if want > 5 || record_len(&s.record) == Some(0) {
                let record = std::mem::take(&mut s.record);
                self.record(side, record[0], &record[5..]);
            }
        }
        while !rest.is_empty() && !self.sides[side].broken {
            match record_len(rest) {
                Some(n) if n > MAX_RECORD => {
                    self.sides[side].broken = true;
                    return false;
                }
                Some(n) if rest.len() >= 5 + n => {
                    self.record(side, rest[0], &rest[5..5 + n]);
                    rest = &rest[5 + n..];
                }
                _ => {
                    self.sides[side].record.extend_from_slice(rest);
                    break;
                }
            }
        }
        if self.established() {
            self.write(out);
        }
        !self.sides[side].broken
    }

    /// A hole: the direction cannot be followed any more.
    fn gap(&mut self, client: bool, _len: u64) -> bool {
        let s = &mut self.sides[usize::from(!client)];
        s.broken = true;
        s.record.clear();
        s.handshake.clear();
        false
    }

    /// The connection ended: the record is written with what was seen.
    fn end(&mut self, out: &mut Records) {
        self.write(out);
    }
}

impl Tls {
    /// Both Finished messages have gone (each side's ChangeCipherSpec, or in TLS 1.3
    /// application data both ways): nothing more will be read.
    fn established(&self) -> bool {
        let [c, s] = &self.sides;
        self.server.is_some()
            && ((c.change_cipher_spec && s.change_cipher_spec) || (c.application_data && s.application_data))
    }

    fn record(&mut self, side: usize, content_type: u8, body: &[u8]) {
        match content_type {
            20 => {
                let s = &mut self.sides[side];
                s.change_cipher_spec = true;
                s.encrypted = true;
                s.handshake.clear();
            }
            21 if body.len() == 2 && !self.sides[side].encrypted => self.last_alert = Some(body[1]),
            22 if !self.sides[side].encrypted => {
                let s = &mut self.sides[side];
                if s.handshake.len() + body.len() > MAX_HANDSHAKE {
                    s.broken = true;
                    return;
                }
                s.handshake.extend_from_slice(body);
                self.messages(side);
            }
            23 => self.sides[side].application_data = true,
            21 | 22 | 24 => {}
            _ => self.sides[side].broken = true,
        }
    }

    /// Reads every whole handshake message gathered on `side`.
    fn messages(&mut self, side: usize) {
        let mut at = 0;
        loop {
            let hs = &self.sides[side].handshake;
            let Some(head) = hs.get(at..at + 4) else { break };
            let len = usize::from(head[1]) << 16 | usize::from(head[2]) << 8 | usize::from(head[3]);
            let Some(msg) = hs.get(at..at + 4 + len) else { break };
            let msg = msg.to_vec();
            at += 4 + len;
            self.message(side, &msg);
            if self.sides[side].encrypted {
                break;
            }
        }
        let s = &mut self.sides[side];
        if s.encrypted {
            s.handshake.clear();
        } else {
            s.handshake.drain(..at.min(s.handshake.len()));
        }
    }

    fn message(&mut self, side: usize, msg: &[u8]) {
        let Ok((_, TlsMessage::Handshake(m))) = tls_parser::parse_tls_message_handshake(msg) else { return };
        match m {
            TlsMessageHandshake::ClientHello(ch) if side == 0 && self.client.is_none() => {
                self.client = Some(client_hello(&ch));
            }
            TlsMessageHandshake::ServerHello(sh) if side == 1 && self.server.is_none() => {
                let server = server_hello(&sh, self.client.as_ref());
                if server.version == 0x0304 {
                    // All that follows the ServerHello in TLS 1.3 is encrypted, both ways.
                    self.sides[1].encrypted = true;
                }
                self.server = Some(server);
            }
            TlsMessageHandshake::Certificate(c) if side == 1 && self.cert.is_none() => {
                self.cert = Some(certificate(c.cert_chain.iter().map(|c| c.data)));
            }
            TlsMessageHandshake::ServerKeyExchange(kx) if side == 1 => {
                // ECDHE parameters start with curve type 3 (named curve) and the group.
                let is_ecdhe = self
                    .server
                    .as_ref()
                    .and_then(|s| tls_parser::TlsCipherSuite::from_id(s.cipher))
                    .is_some_and(|c| c.kx == tls_parser::TlsCipherKx::Ecdhe);
                if let (true, Some(s), [3, hi, lo, ..]) = (is_ecdhe, self.server.as_mut(), kx.parameters) {
                    s.curve = Some(u16::from_be_bytes([*hi, *lo]));
                }
            }
            _ => {}
        }
    }

    fn write(&mut self, out: &mut Records) {
        if self.written || (self.client.is_none() && self.server.is_none()) {
            return;
        }
        self.written = true;
        let mut e = event_with_capacity(24);
        let mut put = |k: &str, v: Value| {
            e.insert(k.to_owned(), v);
        };
        let ts = self.ts_ns.unwrap_or(0);
        super::flow::put_time(&mut put, ts);
        if let Some(s) = &self.server {
            put("version", Value::from(version_name(s.version)));
            put("cipher", Value::from(cipher_name(s.cipher)));
            if let Some(c) = s.curve {
                put("curve", Value::from(curve_name(c)));
            }
            if let Some(p) = &s.next_protocol {
                put("next_protocol", Value::from(p.as_str()));
            }
            put("resumed", Value::from(s.resumed));
            put("ja3s", Value::from(s.ja3s.as_str()));
        }
        if let Some(c) = &self.client {
            if let Some(n) = &c.server_name {
                put("server_name", Value::from(n.as_str()));
            }
            put("ja3", Value::from(c.ja3.as_str()));
            put("ja4", Value::from(c.ja4.as_str()));
        }
        if let Some(a) = self.last_alert {
            put("last_alert", Value::from(alert_name(a)));
        }
        put("established", Value::from(self.established()));
        if let Some(c) = &self.cert {
            if let Some(s) = &c.subject {
                put("subject", Value::from(s.as_str()));
            }
            if let Some(s) = &c.issuer {
                put("issuer", Value::from(s.as_str()));
            }
            if let Some(t) = c.not_valid_before {
                put("not_valid_before", Value::from(t));
            }
            if let Some(t) = c.not_valid_after {
                put("not_valid_after", Value::from(t));
            }
            if !c.san_dns.is_empty() {
                put("san_dns", Value::from(c.san_dns.clone()));
            }
            if let Some(fp) = c.chain_fps.first() {
                put("fingerprint", Value::from(fp.as_str()));
            }
            put("cert_chain_fps", Value::from(c.chain_fps.clone()));
        }
        put(fields::SOURCE_TYPE, Value::from("metron.tls"));
        out.push(e);
    }
}

/// The length a record header gives, once the header is there.
fn record_len(b: &[u8]) -> Option<usize> {
    let h = b.get(..5)?;
    Some(usize::from(u16::from_be_bytes([h[3], h[4]])))
}

/// GREASE values (RFC 8701): 0x0a0a, 0x1a1a, ... 0xfafa.
fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// The extensions of a hello, in order: (type, data). Stops at the first that runs
/// past the end.
fn extension_list(mut b: &[u8]) -> Vec<(u16, &[u8])> {
    let mut list = Vec::new();
    while b.len() >= 4 {
        let (t, len) = (u16::from_be_bytes([b[0], b[1]]), usize::from(u16::from_be_bytes([b[2], b[3]])));
        let Some(data) = b.get(4..4 + len) else { break };
        list.push((t, data));
        b = &b[4 + len..];
    }
    list
}

/// Decimal values joined by dashes (JA3's lists).
fn dashed(values: impl Iterator<Item = u16>) -> String {
    let mut s = String::new();
    for (i, v) in values.enumerate() {
        if i > 0 {
            s.push('-');
        }
        let _ = write!(s, "{v}");
    }
    s
}

fn client_hello(ch: &tls_parser::TlsClientHelloContents<'_>) -> Client {
    let raw = ch.ext.map(extension_list).unwrap_or_default();
    let parsed = ch.ext.and_then(|e| tls_parser::parse_tls_client_hello_extensions(e).ok()).map(|(_, v)| v);
    let (mut sni, mut alpn, mut groups, mut formats, mut sigs, mut versions) =
        (None, None, Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for ext in parsed.iter().flatten() {
        match ext {
            TlsExtension::SNI(names) => {
                sni = names.iter().find(|(t, _)| t.0 == 0).map(|(_, n)| String::from_utf8_lossy(n).into_owned())
            }
            TlsExtension::ALPN(list) => alpn = list.first().map(|p| p.to_vec()),
            TlsExtension::EllipticCurves(g) => groups = g.iter().map(|g| g.0).collect(),
            TlsExtension::EcPointFormats(f) => formats = f.to_vec(),
            TlsExtension::SignatureAlgorithms(s) => sigs = s.clone(),
            TlsExtension::SupportedVersions(v) => versions = v.iter().map(|v| v.0).collect(),
            _ => {}
        }
    }
    let ciphers: Vec<u16> = ch.ciphers.iter().map(|c| c.0).filter(|c| !is_grease(*c)).collect();
    let ext_types: Vec<u16> = raw.iter().map(|(t, _)| *t).filter(|t| !is_grease(*t)).collect();
    let ja3 = format!(
        "{},{},{},{},{}",
        ch.version.0,
        dashed(ciphers.iter().copied()),
        dashed(ext_types.iter().copied()),
        dashed(groups.iter().copied().filter(|g| !is_grease(*g))),
        dashed(formats.iter().map(|f| u16::from(*f))),
    );
    let version = versions.iter().copied().filter(|v| !is_grease(*v)).max().unwrap_or(ch.version.0);
    let ja4 = ja4(version, sni.is_some(), &ciphers, &ext_types, alpn.as_deref(), &sigs);
    Client {
        server_name: sni,
        ja3: hex(&Md5::digest(ja3.as_bytes())),
        ja4,
        session_id: ch.session_id.map(<[u8]>::to_vec).unwrap_or_default(),
    }
}

/// JA4 of a TLS-over-TCP ClientHello (FoxIO's JA4.md): `version` is the highest of
/// supported_versions, else the hello's; `ciphers` and `extensions` without GREASE,
/// in the hello's order; `sigs` the signature algorithms in their order.
fn ja4(version: u16, sni: bool, ciphers: &[u16], extensions: &[u16], alpn: Option<&[u8]>, sigs: &[u16]) -> String {
    let v = match version {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    };
    let alpn = match alpn.filter(|a| !a.is_empty()) {
        None => "00".to_owned(),
        Some(a) => {
            let (first, last) = (a[0], a[a.len() - 1]);
            if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
                format!("{}{}", char::from(first), char::from(last))
            } else {
                let (f, l) = (format!("{first:02x}"), format!("{last:02x}"));
                format!("{}{}", &f[..1], &l[1..])
            }
        }
    };
    let list = |v: &[u16]| {
        let mut s = String::with_capacity(v.len() * 5);
        for (i, x) in v.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(s, "{x:04x}");
        }
        s
    };
    let truncated = |text: &str| hex(&Sha256::digest(text.as_bytes()))[..12].to_owned();
    let mut sorted_ciphers = ciphers.to_vec();
    sorted_ciphers.sort_unstable();
    let b = if sorted_ciphers.is_empty() { "000000000000".to_owned() } else { truncated(&list(&sorted_ciphers)) };
    let mut sorted_ext: Vec<u16> = extensions.iter().copied().filter(|e| *e != 0x0000 && *e != 0x0010).collect();
    sorted_ext.sort_unstable();
    let c = if sorted_ext.is_empty() {
        "000000000000".to_owned()
    } else if sigs.is_empty() {
        truncated(&list(&sorted_ext))
    } else {
        truncated(&format!("{}_{}", list(&sorted_ext), list(sigs)))
    };
    format!(
        "t{v}{}{:02}{:02}{alpn}_{b}_{c}",
        if sni { 'd' } else { 'i' },
        ciphers.len().min(99),
        extensions.len().min(99)
    )
}

fn server_hello(sh: &tls_parser::TlsServerHelloContents<'_>, client: Option<&Client>) -> Server {
    let raw = sh.ext.map(extension_list).unwrap_or_default();
    let mut s = Server { version: sh.version.0, cipher: sh.cipher.0, ..Server::default() };
    for (t, data) in &raw {
        match (*t, *data) {
            // supported_versions: the version chosen (TLS 1.3).
            (0x002b, [hi, lo]) => s.version = u16::from_be_bytes([*hi, *lo]),
            // ALPN: the protocol chosen.
            (0x0010, [_, _, n, name @ ..]) if name.len() >= usize::from(*n) => {
                s.next_protocol = Some(String::from_utf8_lossy(&name[..usize::from(*n)]).into_owned());
            }
            // key_share: the group chosen (TLS 1.3).
            (0x0033, [hi, lo, ..]) => s.curve = Some(u16::from_be_bytes([*hi, *lo])),
            // pre_shared_key accepted: a resumption (TLS 1.3).
            (0x0029, _) => s.resumed = true,
            _ => {}
        }
    }
    let session = sh.session_id.unwrap_or_default();
    if !session.is_empty() && client.is_some_and(|c| c.session_id == session) && s.version != 0x0304 {
        s.resumed = true;
    }
    let ja3s =
        format!("{},{},{}", sh.version.0, sh.cipher.0, dashed(raw.iter().map(|(t, _)| *t).filter(|t| !is_grease(*t))));
    s.ja3s = hex(&Md5::digest(ja3s.as_bytes()));
    s
}

fn certificate<'a>(chain: impl Iterator<Item = &'a [u8]>) -> Cert {
    let mut cert = Cert::default();
    for (i, der) in chain.enumerate() {
        cert.chain_fps.push(hex(&Sha256::digest(der)));
        if i > 0 {
            continue;
        }
        let Ok((_, x)) = x509_parser::parse_x509_certificate(der) else { continue };
        cert.subject = Some(name_text(x.subject()));
        cert.issuer = Some(name_text(x.issuer()));
        cert.not_valid_before = Some(x.validity().not_before.timestamp());
        cert.not_valid_after = Some(x.validity().not_after.timestamp());
        if let Ok(Some(san)) = x.subject_alternative_name() {
            for name in &san.value.general_names {
                if let x509_parser::extensions::GeneralName::DNSName(d) = name {
                    cert.san_dns.push((*d).to_owned());
                }
            }
        }
    }
    cert
}

/// A distinguished name as Zeek (OpenSSL's RFC 2253 form) writes it: most specific
/// first, attributes by their short names, joined by commas.
fn name_text(name: &x509_parser::x509::X509Name<'_>) -> String {
    let mut parts = Vec::new();
    for rdn in name.iter_rdn() {
        let attrs: Vec<String> = rdn
            .iter()
            .map(|a| {
                let value = match a.as_str() {
                    Ok(s) => s.to_owned(),
                    Err(_) => {
                        let data: &[u8] = a.attr_value().data;
                        String::from_utf8_lossy(data).into_owned()
                    }
                };
                format!("{}={}", attribute_name(&a.attr_type().to_id_string()), rfc2253_escape(&value))
            })
            .collect();
        parts.push(attrs.join("+"));
    }
    parts.reverse();
    parts.join(",")
}

fn attribute_name(oid: &str) -> String {
    match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.17" => "postalCode",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.97" => "organizationIdentifier",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        "2.5.4.15" => "businessCategory",
        other => return other.to_owned(),
    }
    .to_owned()
}

fn rfc2253_escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    let last = v.chars().count().saturating_sub(1);
    for (i, c) in v.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            s.push('\\');
        }
        if c.is_control() {
            s.push_str(&format!("\\{:02X}", c as u32));
        } else {
            s.push(c);
        }
    }
    s
}

fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSLv3".into(),
        0x0301 => "TLSv10".into(),
        0x0302 => "TLSv11".into(),
        0x0303 => "TLSv12".into(),
        0x0304 => "TLSv13".into(),
        0xfeff => "DTLSv10".into(),
        0xfefd => "DTLSv12".into(),
        0xfefc => "DTLSv13".into(),
        v => format!("unknown-{v}"),
    }
}

fn cipher_name(c: u16) -> String {
    match tls_parser::TlsCipherSuite::from_id(c) {
        Some(s) => s.name.to_owned(),
        None => format!("unknown-{c}"),
    }
}

fn curve_name(g: u16) -> String {
    match g {
        23 => "secp256r1".into(),
        24 => "secp384r1".into(),
        25 => "secp521r1".into(),
        29 => "x25519".into(),
        30 => "x448".into(),
        256 => "ffdhe2048".into(),
        257 => "ffdhe3072".into(),
        0x11ec => "X25519MLKEM768".into(),
        g => format!("unknown-{g}"),
    }
}

fn alert_name(a: u8) -> String {
    match a {
        0 => "close_notify".into(),
        10 => "unexpected_message".into(),
        20 => "bad_record_mac".into(),
        40 => "handshake_failure".into(),
        42 => "bad_certificate".into(),
        43 => "unsupported_certificate".into(),
        44 => "certificate_revoked".into(),
        45 => "certificate_expired".into(),
        46 => "certificate_unknown".into(),
        47 => "illegal_parameter".into(),
        48 => "unknown_ca".into(),
        50 => "decode_error".into(),
        51 => "decrypt_error".into(),
        70 => "protocol_version".into(),
        71 => "insufficient_security".into(),
        80 => "internal_error".into(),
        86 => "inappropriate_fallback".into(),
        90 => "user_canceled".into(),
        109 => "missing_extension".into(),
        112 => "unrecognized_name".into(),
        116 => "certificate_required".into(),
        120 => "no_application_protocol".into(),
        a => format!("unknown-{a}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The examples of FoxIO's JA4 specification (technical_details/JA4.md).
    #[test]
    fn ja4_matches_the_specifications_examples() {
        let ciphers = [
            0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d,
            0x002f, 0x0035,
        ];
        let extensions = [
            0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01,
            0x000b, 0x000a, 0x0015,
        ];
        let sigs = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];
        assert_eq!(
            ja4(0x0304, true, &ciphers, &extensions, Some(b"h2"), &sigs),
            "t13d1516h2_8daaf6152771_e5627efa2ab1"
        );
        // Without signature algorithms the list ends without an underscore.
        let no_sigs = ja4(0x0304, true, &ciphers, &extensions, Some(b"h2"), &[]);
        assert!(no_sigs.ends_with("_6d807ffa2a79"), "{no_sigs}");
        // ALPN values that are not alphanumeric at either end: the spec's examples.
        for (alpn, want) in [
            (&[0xab][..], "ab"),
            (&[0x20], "20"),
            (&[0xab, 0xcd], "ad"),
            (&[0x20, 0x61], "21"),
            (&[0x30, 0xab], "3b"),
            (&[0x61, 0x20], "60"),
            (&[0x30, 0x31, 0xab, 0xcd], "3d"),
            (&[0x30, 0xab, 0xcd, 0x31], "01"),
            (b"http/1.1", "h1"),
            (b"h", "hh"),
        ] {
            let f = ja4(0x0303, false, &ciphers, &extensions, Some(alpn), &sigs);
            assert_eq!(&f[8..10], want, "{alpn:?}: {f}");
        }
        // Nothing to hash is all zeros; no ALPN is 00.
        assert_eq!(ja4(0x0303, false, &[], &[], None, &[]), "t12i000000_000000000000_000000000000");
    }

    #[test]
    fn grease_is_recognised() {
        for g in [0x0a0a, 0x1a1a, 0xfafa] {
            assert!(is_grease(g));
        }
        for v in [0x0a1a, 0x1301, 0x0000, 0xaaab] {
            assert!(!is_grease(v));
        }
    }

    #[test]
    fn a_record_claiming_more_than_tls_allows_ends_the_reading() {
        let mut t = Tls::default();
        let mut out = Vec::new();
        assert!(!t.data(true, &[22, 3, 1, 0xff, 0xff, 1, 0, 0], 0, &mut out));
        assert!(t.sides[0].record.is_empty());
        t.end(&mut out);
        assert!(out.is_empty(), "no hello, no record");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(parts in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..400)), 0..10)) {
            let mut t = Tls::default();
            let mut out = Vec::new();
            for (client, bytes) in &parts {
                let mut framed = vec![22, 3, 3];
                framed.extend((bytes.len() as u16).to_be_bytes());
                framed.extend(bytes);
                t.data(*client, &framed, 0, &mut out);
                t.data(*client, bytes, 0, &mut out);
            }
            t.end(&mut out);
        }
    }
}
