//! SSH connections from a reassembled TCP stream (`capture --emit ssh`): one
//! `metron.ssh` record per connection with both banners (Zeek's ssh.log `client` and
//! `server`), the algorithms the two KEXINIT messages agree on (`kex_alg`,
//! `host_key_alg`, `cipher_alg`, `mac_alg`, `compression_alg`), and Salesforce's HASSH
//! fingerprints of the client (`hassh`) and the server (`hasshServer`).
//!
//! The banner is a line; the KEXINIT is the first binary packet (RFC 4253), sent in the
//! clear. Its name-lists are read with their lengths checked against the packet; a
//! packet longer than RFC 4253's 35,000 bytes ends the reading of that direction.

use super::tcp::{Records, StreamParser};
use crate::event::{event_with_capacity, fields};
use md5::{Digest as _, Md5};
use serde_json::Value;

/// Longest banner line (RFC 4253: 255 characters) and lines before it, together.
const MAX_BANNER: usize = 8 * 1024;
/// Longest binary packet RFC 4253 requires an implementation to take.
const MAX_PACKET: usize = 35_000;

#[derive(Debug, Default)]
struct Side {
    buf: Vec<u8>,
    banner: Option<String>,
    /// The KEXINIT's ten name-lists.
    kexinit: Option<Vec<String>>,
    broken: bool,
}

/// The parser of one connection.
#[derive(Debug, Default)]
pub struct Ssh {
    sides: [Side; 2],
    ts_ns: Option<i64>,
    written: bool,
}

impl StreamParser for Ssh {
    fn data(&mut self, client: bool, bytes: &[u8], ts_ns: i64, out: &mut Records) -> bool {
        self.ts_ns.get_or_insert(ts_ns);
        let s = &mut self.sides[usize::from(!client)];
        if self.written || s.broken || s.kexinit.is_some() {
            return !s.broken;
        }
        s.buf.extend_from_slice(&bytes[..bytes.len().min(MAX_PACKET + MAX_BANNER)]);
        if s.banner.is_none() {
            // Lines before the banner (a server may send some) are skipped.
            while let Some(nl) = memchr::memchr(b'\n', &s.buf) {
                let line: Vec<u8> = s.buf.drain(..=nl).collect();
                if line.starts_with(b"SSH-") {
                    let text = String::from_utf8_lossy(&line);
                    s.banner = Some(text.trim_end_matches(['\r', '\n']).to_owned());
                    break;
                }
            }
            if s.banner.is_none() {
                if s.buf.len() > MAX_BANNER {
                    s.broken = true;
                }
                return !s.broken;
            }
        }
        if s.buf.len() >= 4 {
            let len = u32::from_be_bytes([s.buf[0], s.buf[1], s.buf[2], s.buf[3]]) as usize;
            if !(2..=MAX_PACKET).contains(&len) {
                s.broken = true;
                return false;
            }
            if s.buf.len() >= 4 + len {
                let padding = usize::from(s.buf[4]);
                let payload = s.buf.get(5..(4 + len).saturating_sub(padding)).unwrap_or_default();
                match kexinit(payload) {
                    Some(lists) => s.kexinit = Some(lists),
                    None => s.broken = true,
                }
                s.buf = Vec::new();
            }
        }
        if self.sides.iter().all(|s| s.kexinit.is_some()) {
            self.write(out);
        }
        true
    }

    fn gap(&mut self, client: bool, _len: u64) -> bool {
        let s = &mut self.sides[usize::from(!client)];
        if s.kexinit.is_some() {
            return true;
        }
        s.broken = true;
        s.buf.clear();
        false
    }

    fn end(&mut self, out: &mut Records) {
        self.write(out);
    }
}

impl Ssh {
    fn write(&mut self, out: &mut Records) {
        if self.written || self.sides.iter().all(|s| s.banner.is_none()) {
            return;
        }
        self.written = true;
        let mut e = event_with_capacity(20);
        let mut put = |k: &str, v: Value| {
            e.insert(k.to_owned(), v);
        };
        let ts = self.ts_ns.unwrap_or(0);
        super::flow::put_time(&mut put, ts);
        let [c, s] = &self.sides;
        if let Some(b) = c.banner.as_ref().or(s.banner.as_ref()) {
            // SSH-2.0-...: the protocol version; 1.99 speaks 2.
            let v = b.split('-').nth(1).unwrap_or("");
            put("version", Value::from(if v == "1.99" || v == "2.0" { 2 } else { 1 }));
        }
        if let Some(b) = &c.banner {
            put("client", Value::from(b.as_str()));
        }
        if let Some(b) = &s.banner {
            put("server", Value::from(b.as_str()));
        }
        if let Some(k) = &c.kexinit {
            put("hassh", Value::from(hassh(k, true)));
        }
        if let Some(k) = &s.kexinit {
            put("hasshServer", Value::from(hassh(k, false)));
        }
        if let (Some(ck), Some(sk)) = (&c.kexinit, &s.kexinit) {
            for (name, i) in
                [("kex_alg", 0), ("host_key_alg", 1), ("cipher_alg", 2), ("mac_alg", 4), ("compression_alg", 6)]
            {
                if let Some(alg) = agreed(&ck[i], &sk[i]) {
                    put(name, Value::from(alg));
                }
            }
        }
        put(fields::SOURCE_TYPE, Value::from("metron.ssh"));
        out.push(e);
    }
}

/// The ten name-lists of a KEXINIT payload (message 20, a 16-byte cookie, then the
/// lists), or `None` when it is not one.
fn kexinit(payload: &[u8]) -> Option<Vec<String>> {
    let (&kind, mut rest) = payload.split_first()?;
    if kind != 20 {
        return None;
    }
    rest = rest.get(16..)?;
    let mut lists = Vec::with_capacity(10);
    for _ in 0..10 {
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let text = rest.get(4..4usize.checked_add(len)?)?;
        lists.push(String::from_utf8_lossy(text).into_owned());
        rest = &rest[4 + len..];
    }
    Some(lists)
}

/// HASSH: MD5 of kex;ciphers;macs;compression, the client's lists to the server for
/// the client, the server's lists to the client for the server.
fn hassh(lists: &[String], client: bool) -> String {
    let at = usize::from(!client);
    let text = format!("{};{};{};{}", lists[0], lists[2 + at], lists[4 + at], lists[6 + at]);
    crate::text::hex(&Md5::digest(text.as_bytes()))
}

/// RFC 4253's choice: the client's first algorithm that the server also lists.
fn agreed(client: &str, server: &str) -> Option<String> {
    client.split(',').find(|a| !a.is_empty() && server.split(',').any(|s| s == *a)).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn packet(lists: &[&str]) -> Vec<u8> {
        let mut payload = vec![20];
        payload.extend([7u8; 16]);
        for l in lists {
            payload.extend((l.len() as u32).to_be_bytes());
            payload.extend(l.as_bytes());
        }
        payload.extend([0, 0, 0, 0, 0]);
        let padding = 4;
        let mut p = ((payload.len() + 1 + padding) as u32).to_be_bytes().to_vec();
        p.push(padding as u8);
        p.extend(payload);
        p.extend([0u8; 4]);
        p
    }

    #[test]
    fn banners_and_kexinits_give_hassh_and_the_agreed_algorithms() {
        let client = [
            "curve25519-sha256,diffie-hellman-group14-sha256",
            "ssh-ed25519,rsa-sha2-512",
            "aes128-ctr,aes256-gcm@openssh.com",
            "aes128-ctr,aes256-gcm@openssh.com",
            "hmac-sha2-256",
            "hmac-sha2-256",
            "none",
            "none",
            "",
            "",
        ];
        let server = [
            "diffie-hellman-group14-sha256,curve25519-sha256",
            "rsa-sha2-512",
            "aes256-gcm@openssh.com,aes128-ctr",
            "aes256-gcm@openssh.com",
            "hmac-sha2-256",
            "hmac-sha2-256",
            "none,zlib@openssh.com",
            "none",
            "",
            "",
        ];
        let mut ssh = Ssh::default();
        let mut out = Vec::new();
        let mut c = b"SSH-2.0-OpenSSH_9.6\r\n".to_vec();
        c.extend(packet(&client));
        let mut s = b"a greeting line\r\nSSH-2.0-OpenSSH_8.9p1 Ubuntu\r\n".to_vec();
        s.extend(packet(&server));
        for chunk in c.chunks(5) {
            ssh.data(true, chunk, 0, &mut out);
        }
        for chunk in s.chunks(7) {
            ssh.data(false, chunk, 0, &mut out);
        }
        assert_eq!(out.len(), 1);
        let e = &out[0];
        assert_eq!(e["client"], "SSH-2.0-OpenSSH_9.6");
        assert_eq!(e["server"], "SSH-2.0-OpenSSH_8.9p1 Ubuntu");
        assert_eq!(e["version"], 2);
        assert_eq!(e["kex_alg"], "curve25519-sha256");
        assert_eq!(e["host_key_alg"], "rsa-sha2-512");
        assert_eq!(e["cipher_alg"], "aes128-ctr");
        let want = format!("{:x}", Md5::digest(format!("{};{};{};{}", client[0], client[2], client[4], client[6])));
        assert_eq!(e["hassh"], want);
        let want = format!("{:x}", Md5::digest(format!("{};{};{};{}", server[0], server[3], server[5], server[7])));
        assert_eq!(e["hasshServer"], want);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(parts in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..300)), 0..10)) {
            let mut ssh = Ssh::default();
            let mut out = Vec::new();
            ssh.data(true, b"SSH-2.0-x\r\n", 0, &mut out);
            ssh.data(false, b"SSH-2.0-y\r\n", 0, &mut out);
            for (client, bytes) in &parts {
                ssh.data(*client, bytes, 0, &mut out);
            }
            ssh.end(&mut out);
        }
    }
}
