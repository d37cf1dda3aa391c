//! The libp2p transport stack: TCP and WebSocket (ws, and wss with a
//! certificate from files) over DNS resolution, secured with noise and
//! multiplexed with yamux or mplex (js-waku only speaks mplex).

use std::path::{Path, PathBuf};
use std::time::Duration;

use libp2p::core::muxing::StreamMuxerBox;
use libp2p::core::transport::{Boxed, upgrade::Version};
use libp2p::core::upgrade::SelectUpgrade;
use libp2p::{PeerId, Transport, dns, identity::Keypair, noise, tcp, websocket, yamux};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::WssFiles;

/// Time allowed for a connection's security and multiplexing handshakes.
const UPGRADE_TIMEOUT: Duration = Duration::from_secs(20);

/// Why the transport could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The noise handshake configuration failed.
    #[error("noise: {0}")]
    Noise(#[from] noise::Error),
    /// DNS resolver configuration failed.
    #[error("dns resolver: {0}")]
    Dns(#[from] std::io::Error),
    /// A secure WebSocket file is unreadable or invalid.
    #[error("--{flag} {path}: {reason}")]
    TlsFile {
        /// The flag naming the file.
        flag: &'static str,
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

fn tls_file_error(flag: &'static str, path: &Path, reason: impl ToString) -> TransportError {
    TransportError::TlsFile {
        flag,
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Reads every certificate of a PEM file.
fn load_certs(
    flag: &'static str,
    path: &Path,
) -> Result<Vec<websocket::tls::Certificate>, TransportError> {
    let certs: Vec<websocket::tls::Certificate> = CertificateDer::pem_file_iter(path)
        .map_err(|e| tls_file_error(flag, path, e))?
        .map(|c| c.map(|c| websocket::tls::Certificate::new(c.to_vec())))
        .collect::<Result<_, _>>()
        .map_err(|e| tls_file_error(flag, path, e))?;
    if certs.is_empty() {
        return Err(tls_file_error(flag, path, "no certificate found"));
    }
    Ok(certs)
}

/// The WebSocket TLS configuration: the wss server key and certificate chain
/// (`server`) and extra trusted certificates for dialling (`trust`). `None`
/// when both are absent (libp2p's default client configuration applies).
pub fn load_tls(
    server: Option<&WssFiles>,
    trust: &[PathBuf],
) -> Result<Option<websocket::tls::Config>, TransportError> {
    const KEY: &str = "websocket-secure-key-path";
    const CERT: &str = "websocket-secure-cert-path";
    if server.is_none() && trust.is_empty() {
        return Ok(None);
    }
    let mut builder = websocket::tls::Config::builder();
    if let Some(files) = server {
        let key = PrivateKeyDer::from_pem_file(&files.key)
            .map_err(|e| tls_file_error(KEY, &files.key, e))?;
        // Re-check the DER form: libp2p's key constructor panics on formats it
        // does not know, so only hand it keys rustls recognises.
        let key_der = key.secret_der().to_vec();
        PrivateKeyDer::try_from(key_der.clone()).map_err(|e| tls_file_error(KEY, &files.key, e))?;
        let certs = load_certs(CERT, &files.cert)?;
        builder
            .server(websocket::tls::PrivateKey::new(key_der), certs)
            .map_err(|e| tls_file_error(CERT, &files.cert, e))?;
    }
    for path in trust {
        for cert in load_certs("wss-trust", path)? {
            builder
                .add_trust(&cert)
                .map_err(|e| tls_file_error("wss-trust", path, e))?;
        }
    }
    Ok(Some(builder.finish()))
}

/// Builds the node's transport: WebSocket first (it claims `/ws` and `/wss`
/// addresses), then plain TCP; both behind DNS resolution.
pub fn build(
    keypair: &Keypair,
    tls: Option<websocket::tls::Config>,
) -> Result<Boxed<(PeerId, StreamMuxerBox)>, TransportError> {
    let tcp_config = tcp::Config::default().nodelay(true);
    let mut ws = websocket::Config::new(tcp::tokio::Transport::new(tcp_config.clone()));
    if let Some(tls) = tls {
        ws.set_tls_config(tls);
    }
    let base = ws.or_transport(tcp::tokio::Transport::new(tcp_config));
    let base = dns::tokio::Transport::system(base)?;
    let mut mplex = libp2p_mplex::Config::new();
    mplex.set_max_num_streams(1024);
    Ok(base
        .upgrade(Version::V1Lazy)
        .authenticate(noise::Config::new(keypair)?)
        .multiplex(SelectUpgrade::new(yamux::Config::default(), mplex))
        .timeout(UPGRADE_TIMEOUT)
        .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)))
        .boxed())
}
