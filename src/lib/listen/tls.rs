//! TLS for `tls://` and `https://` listeners, through rustls (ring): a certificate
//! chain and key from PEM files, and with `--client-ca`, clients must present a
//! certificate signed by that CA.

use super::net::Conn;
use super::{ListenSettings, Shared};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io;
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{}: cannot read certificates: {e}", path.display()))?
        .collect();
    let certs = certs.map_err(|e| format!("{}: bad certificate: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no PEM certificate in it", path.display()));
    }
    Ok(certs)
}

/// The server's TLS configuration; every problem at once.
pub fn server_config(s: &ListenSettings) -> Result<rustls::ServerConfig, Vec<String>> {
    let mut problems = Vec::new();
    let (Some(cert), Some(key)) = (&s.cert, &s.key) else {
        return Err(vec!["tls:// and https:// need --cert FILE and --key FILE (PEM)".to_owned()]);
    };
    let chain = certs(cert).map_err(|p| problems.push(p)).ok();
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| problems.push(format!("{}: no usable PEM private key: {e}", key.display())))
        .ok();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = match &s.client_ca {
        None => None,
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in certs(ca).map_err(|p| problems.push(p)).unwrap_or_default() {
                if let Err(e) = roots.add(c) {
                    problems.push(format!("{}: {e}", ca.display()));
                }
            }
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| problems.push(format!("{}: {e}", ca.display())))
                .ok()
        }
    };
    let (Some(chain), Some(key)) = (chain, key) else { return Err(problems) };
    if !problems.is_empty() {
        return Err(problems);
    }
    let builder = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| vec![e.to_string()])?;
    let builder = match verifier {
        Some(v) => builder.with_client_cert_verifier(v),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(chain, key).map_err(|e| vec![format!("{}: {e}", cert.display())])?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // No unsolicited session tickets: a sender that closes without reading them would
    // make its kernel reset the connection, and a reset discards what we have not read.
    config.send_tls13_tickets = 0;
    Ok(config)
}

/// Completes the handshake (within 10 s), or says why not.
pub fn accept(config: Arc<rustls::ServerConfig>, stream: TcpStream, _shared: &Shared) -> Result<Box<dyn Conn>, String> {
    let conn = rustls::ServerConnection::new(config).map_err(|e| e.to_string())?;
    let mut tls = rustls::StreamOwned::new(conn, stream);
    let start = Instant::now();
    while tls.conn.is_handshaking() {
        match tls.conn.complete_io(&mut tls.sock) {
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                ) =>
            {
                if start.elapsed() >= HANDSHAKE_TIMEOUT {
                    return Err("no handshake within 10 s".to_owned());
                }
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(Box::new(tls))
}
