//! The libp2p transport stack: TCP and WebSocket (ws, and wss with a
//! certificate from files) over DNS resolution, secured with noise and
//! multiplexed with yamux or mplex (js-waku only speaks mplex).

use std::path::{Path, PathBuf};
use std::time::Duration;

use libp2p::core::muxing::StreamMuxerBox;
use libp2p::core::transport::timeout::TransportTimeout;
use libp2p::core::transport::{Boxed, upgrade::Version};
use libp2p::core::upgrade::SelectUpgrade;
// The `Either` libp2p's transport upgrades report errors in (the derive
// macro's prelude re-exports the very type).
use libp2p::swarm::derive_prelude::Either;
use libp2p::swarm::{DialError, ListenError};
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
    let upgraded = base
        .upgrade(Version::V1Lazy)
        .authenticate(noise::Config::new(keypair)?)
        .multiplex(SelectUpgrade::new(yamux::Config::default(), mplex))
        .map_err(mark_upgrade_failure);
    Ok(TransportTimeout::new(upgraded, UPGRADE_TIMEOUT)
        .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)))
        .boxed())
}

/// The error of a connection whose security or multiplexer negotiation
/// failed, as the transport reports it (inside an `io::Error`), so the
/// swarm's connection errors can tell it from a failed TCP connect
/// ([`dial_upgrade_failed`], [`incoming_upgrade_failed`]).
#[derive(Debug, thiserror::Error)]
#[error("connection upgrade failed: {0}")]
pub struct UpgradeFailed(String);

/// The upgraded transport's error: the base transport's (`T`, a failed
/// connect), or the security (`S`) or multiplexer (`M`) upgrade's.
fn mark_upgrade_failure<T, S, M>(error: Either<Either<T, S>, M>) -> std::io::Error
where
    T: std::error::Error + Send + Sync + 'static,
    S: std::fmt::Display,
    M: std::fmt::Display,
{
    match error {
        Either::Left(Either::Left(e)) => std::io::Error::other(e),
        Either::Left(Either::Right(e)) => std::io::Error::other(UpgradeFailed(e.to_string())),
        Either::Right(e) => std::io::Error::other(UpgradeFailed(e.to_string())),
    }
}

/// Whether `error`, or an error it wraps, is an [`UpgradeFailed`].
fn is_upgrade_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.is::<UpgradeFailed>() {
            return true;
        }
        // An io::Error's `source` skips the error it wraps: look at it.
        current = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    false
}

/// Whether a dial failed in the connection's upgrade (nim-libp2p's failed
/// outgoing upgrade): the security or multiplexer negotiation failed, or
/// the peer that answered is not the one dialled.
pub fn dial_upgrade_failed(error: &DialError) -> bool {
    match error {
        DialError::WrongPeerId { .. } | DialError::LocalPeerId { .. } => true,
        DialError::Transport(errors) => errors.iter().any(|(_, e)| is_upgrade_failure(e)),
        _ => false,
    }
}

/// Whether an incoming connection failed in its upgrade (nim-libp2p's
/// failed incoming upgrade), as [`dial_upgrade_failed`].
pub fn incoming_upgrade_failed(error: &ListenError) -> bool {
    match error {
        ListenError::WrongPeerId { .. } | ListenError::LocalPeerId { .. } => true,
        ListenError::Transport(e) => is_upgrade_failure(e),
        _ => false,
    }
}
