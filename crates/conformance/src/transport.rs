//! The runner's transport: TCP and WebSocket (plain or TLS) behind DNS,
//! noise, and the multiplexer the options name.

use std::path::{Path, PathBuf};
use std::time::Duration;

use libp2p::core::muxing::StreamMuxerBox;
use libp2p::core::transport::{Boxed, upgrade::Version};
use libp2p::{PeerId, Transport, dns, identity::Keypair, noise, tcp, websocket, yamux};

use crate::options::Muxer;

/// Time allowed for the security and multiplexer handshakes.
const UPGRADE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the transport could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The noise configuration failed.
    #[error("noise: {0}")]
    Noise(#[from] noise::Error),
    /// The system DNS configuration could not be read.
    #[error("dns resolver: {0}")]
    Dns(#[from] std::io::Error),
    /// A certificate file to trust for wss could not be used.
    #[error("--wss-trust {path}: {reason}")]
    Trust {
        /// The file named.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// The certificates of the PEM file `path`, as libp2p's TLS takes them.
fn load_certs(path: &Path) -> Result<Vec<websocket::tls::Certificate>, TransportError> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let bad = |reason: String| TransportError::Trust {
        path: path.to_owned(),
        reason,
    };
    let certs: Vec<websocket::tls::Certificate> = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .map(|c| c.map(|c| websocket::tls::Certificate::new(c.to_vec())))
        .collect::<Result<_, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no PEM certificate in it".into()));
    }
    Ok(certs)
}

/// The TLS configuration for `/wss` (or `/tls/ws`) targets: the system's
/// usual roots plus every certificate of the files in `trust` (a
/// self-signed node certificate, or the CA that signed it).
fn tls_config(trust: &[PathBuf]) -> Result<websocket::tls::Config, TransportError> {
    if trust.is_empty() {
        return Ok(websocket::tls::Config::client());
    }
    let mut builder = websocket::tls::Config::builder();
    for path in trust {
        for cert in load_certs(path)? {
            builder
                .add_trust(&cert)
                .map_err(|e| TransportError::Trust {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
        }
    }
    Ok(builder.finish())
}

/// Builds a transport dialling `/tcp`, `/ws` and `/wss` addresses (DNS
/// names resolved; wss trusting the certificates of `wss_trust` besides the
/// usual roots), secured with noise and multiplexed with `muxer`.
pub fn build(
    keypair: &Keypair,
    muxer: Muxer,
    wss_trust: &[PathBuf],
) -> Result<Boxed<(PeerId, StreamMuxerBox)>, TransportError> {
    let tcp_config = tcp::Config::default().nodelay(true);
    let mut ws = websocket::Config::new(tcp::tokio::Transport::new(tcp_config.clone()));
    ws.set_tls_config(tls_config(wss_trust)?);
    let base = ws.or_transport(tcp::tokio::Transport::new(tcp_config));
    let base = dns::tokio::Transport::system(base)?;
    let secured = base
        .upgrade(Version::V1Lazy)
        .authenticate(noise::Config::new(keypair)?);
    let transport = match muxer {
        Muxer::Yamux => secured
            .multiplex(yamux::Config::default())
            .timeout(UPGRADE_TIMEOUT)
            .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)))
            .boxed(),
        Muxer::Mplex => secured
            .multiplex(libp2p_mplex::Config::new())
            .timeout(UPGRADE_TIMEOUT)
            .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)))
            .boxed(),
    };
    Ok(transport)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trust_file_that_is_missing_or_holds_no_certificate_is_named() {
        let missing = PathBuf::from("/nonexistent/ca.pem");
        let err = tls_config(std::slice::from_ref(&missing)).err();
        assert!(
            matches!(&err, Some(TransportError::Trust { path, .. }) if *path == missing),
            "{err:?}"
        );
        let empty = std::env::temp_dir().join(format!("no-cert-{}.pem", std::process::id()));
        std::fs::write(&empty, "not a certificate\n").unwrap_or_default();
        let err = tls_config(std::slice::from_ref(&empty)).err();
        let _ = std::fs::remove_file(&empty);
        assert!(
            matches!(&err, Some(TransportError::Trust { reason, .. }) if reason.contains("no PEM certificate")),
            "{err:?}"
        );
    }
}
