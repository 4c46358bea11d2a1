//! `metron listen` and `metron parse --listen` on real sockets on loopback: many
//! concurrent senders of every framing and transport (every TCP/TLS/HTTP message
//! exactly once, byte for byte; UDP loss counted), real senders (util-linux logger),
//! TLS with client certificates, hostile clients (over-long messages, garbage, bad
//! counts, idle and slow clients, floods), HTTP limits and tokens, backpressure with
//! bounded memory, SIGHUP, and parsing in process.

mod common;

use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn bin() -> PathBuf {
    std::env::var_os("METRON_BIN").map(PathBuf::from).unwrap_or_else(|| assert_cmd::cargo::cargo_bin("metron"))
}

/// A running `metron listen` (or `parse --listen`); killed if a test fails.
struct Running {
    child: Child,
    addrs: HashMap<String, SocketAddr>,
    stderr: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(args: &[&str], stdout: Stdio) -> Running {
        let mut child = Command::new(bin())
            .args(args)
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .env_remove("METRON_CONFIG")
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let rx = common::stderr_lines(&mut child);
        let wanted = args.iter().filter(|a| a.contains("://")).count();
        let mut running = Running { child, addrs: HashMap::new(), stderr: rx, seen: Vec::new() };
        let deadline = Instant::now() + Duration::from_secs(30);
        while running.addrs.len() < wanted {
            let line =
                running.stderr.recv_timeout(deadline.saturating_duration_since(Instant::now())).unwrap_or_else(|_| {
                    panic!("metron did not start listening: {:?}", running.seen);
                });
            if let Some(url) = line.strip_prefix("metron: listening on ") {
                let (scheme, addr) = url.split_once("://").unwrap();
                running.addrs.insert(scheme.to_owned(), addr.parse().unwrap());
            }
            running.seen.push(line);
        }
        running
    }

    fn addr(&self, scheme: &str) -> SocketAddr {
        self.addrs[scheme]
    }

    fn signal(&self, sig: &str) {
        // (It may have exited already after an earlier signal.)
        let _ = Command::new("kill").args([sig, &self.child.id().to_string()]).status();
    }

    /// SIGTERM, then the exit status and everything on stderr.
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        self.signal("-TERM");
        let status = wait_for(&mut self.child, Duration::from_secs(30));
        let mut text = self.seen.join("\n");
        while let Ok(l) = self.stderr.recv_timeout(Duration::from_secs(2)) {
            text.push('\n');
            text.push_str(&l);
        }
        (status, text)
    }

    fn peak_rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(Instant::now() < deadline, "metron did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn envelopes(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

/// A POST with a body; the status and response body.
fn post(addr: SocketAddr, path: &str, headers: &str, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    response(&mut s)
}

fn response(s: &mut impl Read) -> (u16, String) {
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, text.split("\r\n\r\n").nth(1).unwrap_or("").to_owned())
}

#[test]
fn every_message_of_every_transport_arrives_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.ndjson");
    let m = Running::start(
        &[
            "listen",
            "--envelope",
            "tcp://127.0.0.1:0",
            "udp://127.0.0.1:0",
            "http://127.0.0.1:0",
            "-o",
            out.to_str().unwrap(),
        ],
        Stdio::null(),
    );
    let (tcp, udp, http) = (m.addr("tcp"), m.addr("udp"), m.addr("http"));
    const PER_CLIENT: usize = 50_000;
    let mut expected: HashSet<String> = HashSet::new();
    let mut senders = Vec::new();
    for c in 0..4 {
        senders.push(std::thread::spawn(move || {
            let mut s = std::io::BufWriter::new(TcpStream::connect(tcp).unwrap());
            for i in 0..PER_CLIENT {
                writeln!(s, "<13>Dec  3 10:00:00 host app[{c}]: lf client {c} message {i} ünïcode").unwrap();
            }
        }));
        for i in 0..PER_CLIENT {
            expected.insert(format!("<13>Dec  3 10:00:00 host app[{c}]: lf client {c} message {i} ünïcode"));
        }
    }
    // Octet counting, messages with newlines inside.
    let counted: Vec<String> =
        (0..2000).map(|i| format!("<14>1 - host app - - - line one {i}\nline two {i}\n")).collect();
    expected.extend(counted.iter().cloned());
    senders.push(std::thread::spawn(move || {
        let mut s = std::io::BufWriter::new(TcpStream::connect(tcp).unwrap());
        for m in &counted {
            write!(s, "{} {m}", m.len()).unwrap();
        }
    }));
    // HTTP batches, acknowledged with their counts.
    let mut http_msgs = Vec::new();
    for b in 0..20 {
        let batch: Vec<String> = (0..500).map(|i| format!("{{\"http_batch\":{b},\"n\":{i}}}")).collect();
        expected.extend(batch.iter().cloned());
        http_msgs.push(batch);
    }
    senders.push(std::thread::spawn(move || {
        for batch in http_msgs {
            let (status, body) = post(http, "/", "", batch.join("\n").as_bytes());
            assert_eq!(status, 200, "{body}");
            assert!(body.contains("\"count\":500"), "{body}");
        }
    }));
    // UDP: may be dropped by the kernel, but then counted.
    let udp_sent = 5000;
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..udp_sent {
        sock.send_to(format!("<13>udp datagram {i}").as_bytes(), udp).unwrap();
    }
    for s in senders {
        s.join().unwrap();
    }
    std::thread::sleep(Duration::from_millis(500));
    let (status, stderr) = m.stop();
    assert!(status.success(), "{stderr}");

    let got = envelopes(&out);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut udp_got = 0;
    for e in &got {
        let msg = e["message"].as_str().unwrap().to_owned();
        assert!(e["received_from"].as_str().unwrap().starts_with("127.0.0.1:"), "{e}");
        assert!(e["received_at"].as_i64().unwrap() > 1_700_000_000_000);
        if e["transport"] == "udp" {
            udp_got += 1;
            continue;
        }
        *seen.entry(msg).or_default() += 1;
    }
    let missing: Vec<&String> = expected.iter().filter(|m| !seen.contains_key(*m)).take(3).collect();
    assert!(missing.is_empty(), "missing, e.g. {missing:?}");
    let dup: Vec<(&String, &usize)> = seen.iter().filter(|(_, n)| **n > 1).take(3).collect();
    assert!(dup.is_empty(), "duplicated: {dup:?}");
    assert_eq!(seen.len(), expected.len(), "nothing that was not sent");
    let dropped: u64 = stderr
        .lines()
        .find_map(|l| l.split("; ").find_map(|p| p.strip_suffix(" UDP datagrams dropped by the kernel")))
        .map(|n| n.replace(',', "").parse().unwrap())
        .unwrap_or(0);
    assert_eq!(udp_got + dropped, udp_sent, "UDP: received {udp_got} + dropped {dropped}; {stderr}");
    assert!(stderr.contains("tcp 202,000"), "{stderr}");
}

#[test]
fn util_linux_logger_sends_over_tcp_with_both_framings_and_udp() {
    if Command::new("logger").arg("--version").output().is_err() {
        eprintln!("logger (util-linux) not installed: skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.ndjson");
    let m = Running::start(
        &["listen", "--envelope", "tcp://127.0.0.1:0", "udp://127.0.0.1:0", "-o", out.to_str().unwrap()],
        Stdio::null(),
    );
    let (tcp, udp) = (m.addr("tcp"), m.addr("udp"));
    let send = |args: &[&str]| {
        let ok = Command::new("logger").args(args).status().unwrap().success();
        assert!(ok, "logger {args:?}");
    };
    let tport = tcp.port().to_string();
    let uport = udp.port().to_string();
    send(&["--tcp", "--octet-count", "-n", "127.0.0.1", "-P", &tport, "-t", "metrontest", "octet\ncounted"]);
    send(&["--tcp", "-n", "127.0.0.1", "-P", &tport, "-t", "metrontest", "lf framed"]);
    send(&["--udp", "-n", "127.0.0.1", "-P", &uport, "-t", "metrontest", "--rfc3164", "over udp"]);
    std::thread::sleep(Duration::from_millis(300));
    let (status, stderr) = m.stop();
    assert!(status.success(), "{stderr}");
    let got = envelopes(&out);
    let find = |text: &str, transport: &str| {
        got.iter().any(|e| e["transport"] == transport && e["message"].as_str().unwrap().ends_with(text))
    };
    assert!(find("metrontest - - - octet\ncounted", "tcp") || find("octet\ncounted", "tcp"), "{got:?}");
    assert!(find("lf framed", "tcp"), "{got:?}");
    assert!(find("metrontest: over udp", "udp"), "{got:?}");
}

/// curl as the HTTP sender: a gzip body, a chunked upload from stdin, and HEC events
/// with the Splunk token header; each answered with its count after the write.
#[test]
fn curl_posts_lines_gzip_chunked_and_hec_events() {
    if Command::new("curl").arg("--version").output().is_err() {
        eprintln!("curl not installed: skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.ndjson");
    let m =
        Running::start(&["listen", "http://127.0.0.1:0", "--token", "t0k", "-o", out.to_str().unwrap()], Stdio::null());
    let url = format!("http://{}", m.addr("http"));
    let curl = |args: &[&str], stdin: &[u8]| -> String {
        let mut child = Command::new("curl")
            .args(["-sS", "--fail-with-body"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let done = child.wait_with_output().unwrap();
        assert!(done.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&done.stdout));
        String::from_utf8_lossy(&done.stdout).into_owned()
    };
    let lines: String = (0..1000).map(|i| format!("curl line {i}\n")).collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(lines.as_bytes()).unwrap();
    let gz_path = dir.path().join("body.gz");
    std::fs::write(&gz_path, gz.finish().unwrap()).unwrap();
    let body = format!("@{}", gz_path.display());
    let answer =
        curl(&["-H", "Authorization: Bearer t0k", "-H", "Content-Encoding: gzip", "--data-binary", &body, &url], b"");
    assert!(answer.contains("\"count\":1000"), "{answer}");
    // -T - sends stdin with Transfer-Encoding: chunked.
    let answer = curl(
        &["-H", "Authorization: Bearer t0k", "-X", "POST", "-T", "-", &format!("{url}/")],
        b"chunked one\nchunked two\n",
    );
    assert!(answer.contains("\"count\":2"), "{answer}");
    let hec = br#"{"event":"from hec","sourcetype":"x"}"#;
    let answer = curl(
        &["-H", "Authorization: Splunk t0k", "--data-binary", "@-", &format!("{url}/services/collector/event")],
        hec,
    );
    assert!(answer.contains("\"code\":0"), "{answer}");
    let (status, stderr) = m.stop();
    assert!(status.success(), "{stderr}");
    let got = std::fs::read_to_string(&out).unwrap();
    let want = format!("{lines}chunked one\nchunked two\nfrom hec\n");
    assert_eq!(got, want);
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files.
fn certificates(
    dir: &Path,
) -> (PathBuf, PathBuf, PathBuf, rustls::pki_types::CertificateDer<'static>, rcgen::CertifiedKey<rcgen::KeyPair>) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "metron test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let server_key = rcgen::KeyPair::generate().unwrap();
    let server = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    let client_key = rcgen::KeyPair::generate().unwrap();
    let mut client_params = rcgen::CertificateParams::new(vec!["client".to_owned()]).unwrap();
    client_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let client = client_params.signed_by(&client_key, &issuer).unwrap();
    let (ca_pem, cert_pem, key_pem) = (dir.join("ca.pem"), dir.join("server.pem"), dir.join("server.key"));
    std::fs::write(&ca_pem, ca.pem()).unwrap();
    std::fs::write(&cert_pem, server.pem()).unwrap();
    std::fs::write(&key_pem, server_key.serialize_pem()).unwrap();
    (ca_pem, cert_pem, key_pem, ca.der().clone(), rcgen::CertifiedKey { cert: client, signing_key: client_key })
}

fn tls_client(
    ca: &rustls::pki_types::CertificateDer<'static>,
    client: Option<&rcgen::CertifiedKey<rcgen::KeyPair>>,
) -> rustls::ClientConnection {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match client {
        Some(c) => builder
            .with_client_auth_cert(
                vec![c.cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::try_from(c.signing_key.serialize_der()).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    rustls::ClientConnection::new(std::sync::Arc::new(config), "127.0.0.1".try_into().unwrap()).unwrap()
}

#[test]
fn tls_with_a_client_ca_takes_certified_clients_and_refuses_others() {
    let dir = tempfile::tempdir().unwrap();
    let (ca_pem, cert, key, ca_der, client) = certificates(dir.path());
    let out = dir.path().join("out.ndjson");
    let m = Running::start(
        &[
            "listen",
            "--envelope",
            "tls://127.0.0.1:0",
            "https://127.0.0.1:0",
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--client-ca",
            ca_pem.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        Stdio::null(),
    );
    // A certified client: octet-counted messages over TLS.
    let mut conn = tls_client(&ca_der, Some(&client));
    let mut sock = TcpStream::connect(m.addr("tls")).unwrap();
    {
        let mut tls = rustls::Stream::new(&mut conn, &mut sock);
        for i in 0..100 {
            let msg = format!("<13>1 - h a - - - tls {i}\nsecond line");
            write!(tls, "{} {msg}", msg.len()).unwrap();
        }
        tls.flush().unwrap();
    }
    // A clean close: unread session tickets in our buffer would make the kernel send
    // a reset, and a reset discards what the server has not read yet.
    conn.send_close_notify();
    let _ = conn.complete_io(&mut sock);
    sock.shutdown(std::net::Shutdown::Write).unwrap();
    let _ = sock.read_to_end(&mut Vec::new());
    // HTTPS with the certificate.
    let mut conn = tls_client(&ca_der, Some(&client));
    let mut sock = TcpStream::connect(m.addr("https")).unwrap();
    let (status, body) = {
        let mut tls = rustls::Stream::new(&mut conn, &mut sock);
        let body = "https one\nhttps two\n";
        write!(tls, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
            .unwrap();
        response(&mut tls)
    };
    assert_eq!(status, 200, "{body}");
    // Without a client certificate: refused in the handshake, nothing written.
    let mut conn = tls_client(&ca_der, None);
    let mut sock = TcpStream::connect(m.addr("tls")).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let refused = {
        let mut tls = rustls::Stream::new(&mut conn, &mut sock);
        let _ = writeln!(tls, "<13>uncertified").and_then(|()| tls.flush());
        let mut buf = [0u8; 16];
        tls.read(&mut buf).is_err() || conn.is_handshaking()
    };
    assert!(refused, "a client without a certificate was served");
    std::thread::sleep(Duration::from_millis(300));
    let (status, stderr) = m.stop();
    assert!(status.success(), "{stderr}");
    let got = envelopes(&out);
    let tls_msgs: Vec<&Value> = got.iter().filter(|e| e["transport"] == "tls").collect();
    assert_eq!(tls_msgs.len(), 100, "{stderr}");
    assert_eq!(tls_msgs[7]["message"], "<13>1 - h a - - - tls 7\nsecond line");
    assert_eq!(got.iter().filter(|e| e["transport"] == "https").count(), 2);
    assert!(!got.iter().any(|e| e["message"].as_str().unwrap().contains("uncertified")));
    assert!(stderr.contains("TLS handshake failed"), "{stderr}");
}

#[test]
fn hostile_clients_cannot_stall_the_listener_or_the_other_clients() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.ndjson");
    let errors = dir.path().join("errors.ndjson");
    let m = Running::start(
        &[
            "listen",
            "--envelope",
            "tcp://127.0.0.1:0",
            "http://127.0.0.1:0",
            "--max-message-bytes",
            "100",
            "--max-connections",
            "8",
            "--idle-timeout",
            "1s",
            "-o",
            out.to_str().unwrap(),
            "--errors",
            errors.to_str().unwrap(),
        ],
        Stdio::null(),
    );
    let (tcp, http) = (m.addr("tcp"), m.addr("http"));
    // A half-open client that never sends: closed after the idle timeout.
    let mut idle = TcpStream::connect(tcp).unwrap();
    // A slowloris HTTP client: half a head, then nothing.
    let mut slow = TcpStream::connect(http).unwrap();
    slow.write_all(b"POST / HTTP/1.1\r\nHost: x\r\n").unwrap();
    // Over-long messages, binary garbage and a bad octet count, then good messages.
    let mut bad = TcpStream::connect(tcp).unwrap();
    bad.write_all(format!("<13>{}\n<13>after long\n", "x".repeat(5000)).as_bytes()).unwrap();
    bad.write_all(b"\x00\xff\xfe garbage \x01\x02\n<13>after garbage\n").unwrap();
    drop(bad);
    let mut counted = TcpStream::connect(tcp).unwrap();
    counted.write_all(b"5 hello99999999999 way too long\n7 goodbye").unwrap();
    drop(counted);
    // Meanwhile a well-behaved client is served at once.
    let start = Instant::now();
    let mut good = TcpStream::connect(tcp).unwrap();
    good.write_all(b"<13>good client\n").unwrap();
    drop(good);
    let (status, _) = post(http, "/", "", b"http while slowloris waits\n");
    assert_eq!(status, 200);
    assert!(start.elapsed() < Duration::from_secs(5));
    // The idle client is closed by the listener.
    idle.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(idle.read(&mut buf).unwrap_or(0), 0, "the idle connection was closed");
    // A flood: connections over --max-connections are refused, the listener lives.
    let flood: Vec<TcpStream> = (0..20).filter_map(|_| TcpStream::connect(tcp).ok()).collect();
    std::thread::sleep(Duration::from_millis(300));
    drop(flood);
    std::thread::sleep(Duration::from_millis(1500));
    let mut after = TcpStream::connect(tcp).unwrap();
    after.write_all(b"<13>after the flood\n").unwrap();
    drop(after);
    let mut s = slow;
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let (slow_status, _) = response(&mut s);
    assert!(slow_status == 408 || slow_status == 0, "{slow_status}");
    std::thread::sleep(Duration::from_millis(300));
    let (status, stderr) = m.stop();
    assert_eq!(status.code(), Some(1), "the over-long message is an error record: {stderr}");
    let got: Vec<String> = envelopes(&out).iter().map(|e| e["message"].as_str().unwrap().to_owned()).collect();
    for want in [
        "<13>after long",
        "<13>after garbage",
        "hello",
        "goodbye",
        "<13>good client",
        "http while slowloris waits",
        "<13>after the flood",
    ] {
        assert!(got.iter().any(|g| g == want), "{want:?} missing from {got:?}");
    }
    assert!(got.iter().any(|g| g.contains("garbage")), "binary garbage is kept as a message (lossy UTF-8): {got:?}");
    let errs = envelopes(&errors);
    assert!(
        errs.iter()
            .any(|e| e["message"].as_str().is_some_and(|m| m.contains("5004 bytes")) && e["received_from"].is_string()),
        "the over-long message is an error record naming the peer: {errs:?}"
    );
    assert!(stderr.contains("refused at --max-connections"), "{stderr}");
    assert!(stderr.contains("idle connections closed"), "{stderr}");
}

#[test]
fn http_refuses_what_it_must_and_takes_compressed_and_hec_bodies() {
    let m = Running::start(
        &["listen", "http://127.0.0.1:0", "--token", "s3cret", "--max-body-bytes", "1K"],
        Stdio::piped(),
    );
    let http = m.addr("http");
    assert_eq!(post(http, "/", "", b"no token\n").0, 401);
    assert_eq!(post(http, "/", "Authorization: Bearer wrong\r\n", b"bad token\n").0, 401);
    assert_eq!(post(http, "/", "Authorization: Bearer s3cret\r\n", &[b'x'; 2000]).0, 413);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"gzip one\ngzip two\n").unwrap();
    let (status, body) =
        post(http, "/", "Authorization: Bearer s3cret\r\nContent-Encoding: gzip\r\n", &gz.finish().unwrap());
    assert_eq!((status, body.contains("\"count\":2")), (200, true), "{body}");
    let bomb = zstd::encode_all(&vec![b'a'; 100_000][..], 19).unwrap();
    assert_eq!(post(http, "/", "Authorization: Bearer s3cret\r\nContent-Encoding: zstd\r\n", &bomb).0, 413);
    let hec = br#"{"event":"hec string","sourcetype":"x"}{"event":{"nested":true}}"#;
    let (status, body) = post(http, "/services/collector/event", "Authorization: Splunk s3cret\r\n", hec);
    assert_eq!((status, body.contains("\"code\":0")), (200, true), "{body}");
    let (status, _) =
        post(http, "/services/collector/event", "Authorization: Splunk s3cret\r\n", br#"{"event":"ok"}{"noevent":1}"#);
    assert_eq!(status, 400, "an invalid HEC request is refused whole");
    let mut s = TcpStream::connect(http).unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n").unwrap();
    assert_eq!(response(&mut s).0, 200);
    let mut child_out = String::new();
    let mut m = m;
    let mut stdout = m.child.stdout.take().unwrap();
    m.signal("-TERM");
    stdout.read_to_string(&mut child_out).unwrap();
    let (status, _) = m.stop();
    assert!(status.success());
    assert_eq!(child_out, "gzip one\ngzip two\nhec string\n{\"nested\":true}\n");
}

#[test]
fn a_slow_consumer_slows_the_sender_and_memory_stays_bounded() {
    let mut m = Running::start(&["listen", "tcp://127.0.0.1:0"], Stdio::piped());
    let tcp = m.addr("tcp");
    let total: usize = 2_000_000;
    let line = format!("<13>{}\n", "m".repeat(95));
    let sender = std::thread::spawn(move || {
        let mut s = TcpStream::connect(tcp).unwrap();
        let chunk = line.repeat(1000);
        for _ in 0..total / 1000 {
            if s.write_all(chunk.as_bytes()).is_err() {
                break;
            }
        }
    });
    // Nobody reads metron's stdout for a while: 200 MB cannot all be in flight.
    std::thread::sleep(Duration::from_secs(3));
    assert!(!sender.is_finished(), "the sender was not slowed down");
    let rss_blocked = m.peak_rss_kb();
    let mut stdout = BufReader::new(m.child.stdout.take().unwrap());
    let mut n = 0usize;
    let mut buf = String::new();
    while n < total {
        buf.clear();
        if stdout.read_line(&mut buf).unwrap() == 0 {
            break;
        }
        n += 1;
    }
    sender.join().unwrap();
    let rss = m.peak_rss_kb();
    let (status, stderr) = m.stop();
    assert!(status.success(), "{stderr}");
    assert_eq!(n, total);
    eprintln!("peak RSS while blocked {rss_blocked} kB, after 200 MB {rss} kB");
    assert!(rss < 64 * 1024, "peak RSS {rss} kB");
}

#[test]
fn sighup_reopens_the_output_after_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("messages.log");
    let m = Running::start(&["listen", "tcp://127.0.0.1:0", "-o", out.to_str().unwrap()], Stdio::null());
    let tcp = m.addr("tcp");
    let mut s = TcpStream::connect(tcp).unwrap();
    s.write_all(b"<13>before rotation\n").unwrap();
    std::thread::sleep(Duration::from_millis(600));
    std::fs::rename(&out, dir.path().join("messages.log.1")).unwrap();
    m.signal("-HUP");
    std::thread::sleep(Duration::from_millis(600));
    s.write_all(b"<13>after rotation\n").unwrap();
    drop(s);
    std::thread::sleep(Duration::from_millis(600));
    let (status, stderr) = m.stop();
    assert!(status.success(), "{stderr}");
    assert_eq!(std::fs::read_to_string(dir.path().join("messages.log.1")).unwrap(), "<13>before rotation\n");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "<13>after rotation\n");
}

#[test]
fn parse_listen_parses_each_message_and_keeps_where_it_came_from() {
    let m =
        Running::start(&["parse", "--listen", "tcp://127.0.0.1:0", "--listen", "udp://127.0.0.1:0"], Stdio::piped());
    let (tcp, udp) = (m.addr("tcp"), m.addr("udp"));
    let mut s = TcpStream::connect(tcp).unwrap();
    // One connection, three formats: each message is told apart.
    s.write_all(b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8\n").unwrap();
    s.write_all(
        b"CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232\n",
    )
    .unwrap();
    s.write_all(b"this is no format at all\n").unwrap();
    drop(s);
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .send_to(b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 - udp message", udp)
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let mut m = m;
    let mut stdout = m.child.stdout.take().unwrap();
    m.signal("-TERM");
    let mut text = String::new();
    stdout.read_to_string(&mut text).unwrap();
    let (status, stderr) = m.stop();
    assert_eq!(status.code(), Some(1), "a message of no format is an error record: {stderr}");
    let events: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let types: Vec<&str> = events.iter().map(|e| e["source.type"].as_str().unwrap()).collect();
    assert_eq!(types.iter().filter(|t| **t == "syslog").count(), 2, "{events:?}");
    assert!(types.contains(&"cef"), "{events:?}");
    for e in &events {
        assert!(e["received_from"].as_str().unwrap().starts_with("127.0.0.1:"));
        assert!(e["transport"] == "tcp" || e["transport"] == "udp");
        assert!(e["guid"].is_string());
    }
    let cef = events.iter().find(|e| e["source.type"] == "cef").unwrap();
    assert_eq!(cef["ip_src_addr"], "10.0.0.1");
    assert!(stderr.contains("1 errors"), "{stderr}");
}

#[test]
fn envelope_lines_parse_like_the_messages_they_carry() {
    let line = r#"{"message":"<34>Oct 11 22:14:15 mymachine su: 'su root' failed\nfor lonvick","received_from":"192.0.2.7:514","received_at":1700000000000,"transport":"udp"}"#;
    let out = Command::new(bin())
        .args(["parse", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(format!("{line}\n").as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    let e: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["source.type"], "syslog");
    assert_eq!(e["received_from"], "192.0.2.7:514");
    assert_eq!(e["received_at"], 1700000000000i64);
    assert_eq!(e["transport"], "udp");
}

#[test]
fn rsyslog_forwards_to_metron_with_octet_counting() {
    if Command::new("rsyslogd").arg("-v").output().is_err() {
        eprintln!("rsyslogd not installed: skipped (apt-get install -y rsyslog)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.ndjson");
    let m = Running::start(&["listen", "--envelope", "tcp://127.0.0.1:0", "-o", out.to_str().unwrap()], Stdio::null());
    let input = dir.path().join("in.log");
    std::fs::write(&input, "").unwrap();
    let conf = dir.path().join("rsyslog.conf");
    std::fs::write(
        &conf,
        format!(
            "global(workDirectory=\"{dir}\")\n\
             module(load=\"imfile\" mode=\"polling\" pollingInterval=\"1\")\n\
             input(type=\"imfile\" file=\"{input}\" tag=\"metrontest\")\n\
             action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{port}\" protocol=\"tcp\" tcp_framing=\"octet-counted\" \
             template=\"RSYSLOG_SyslogProtocol23Format\")\n",
            dir = dir.path().display(),
            input = input.display(),
            port = m.addr("tcp").port()
        ),
    )
    .unwrap();
    let mut rsyslog = Command::new("rsyslogd")
        .args(["-n", "-f", conf.to_str().unwrap(), "-i", dir.path().join("rsyslog.pid").to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let mut f = std::fs::OpenOptions::new().append(true).open(&input).unwrap();
    for i in 0..1000 {
        writeln!(f, "line {i} from a file rsyslog follows").unwrap();
    }
    drop(f);
    let deadline = Instant::now() + Duration::from_secs(20);
    let count = || std::fs::read_to_string(&out).map(|t| t.lines().count()).unwrap_or(0);
    while count() < 1000 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = rsyslog.kill();
    let _ = rsyslog.wait();
    let (status, stderr) = m.stop();
    assert!(status.success(), "{stderr}");
    let got = envelopes(&out);
    assert_eq!(got.len(), 1000, "{stderr}");
    for (i, e) in got.iter().enumerate() {
        // (rsyslog's RFC 5424 template ends each message with a newline, inside the count.)
        let msg = e["message"].as_str().unwrap().trim_end_matches('\n');
        assert!(msg.starts_with('<') && msg.contains(" metrontest "), "{msg}");
        assert!(msg.ends_with(&format!("line {i} from a file rsyslog follows")), "in order, whole: {msg}");
    }
}
