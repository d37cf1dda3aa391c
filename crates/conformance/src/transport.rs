//! The runner's transport: TCP and WebSocket behind DNS, noise, and the
//! multiplexer the options name.

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
}

/// Builds a transport dialling `/tcp` and `/ws` addresses (DNS names
/// resolved), secured with noise and multiplexed with `muxer`.
pub fn build(
    keypair: &Keypair,
    muxer: Muxer,
) -> Result<Boxed<(PeerId, StreamMuxerBox)>, TransportError> {
    let tcp_config = tcp::Config::default().nodelay(true);
    let ws = websocket::Config::new(tcp::tokio::Transport::new(tcp_config.clone()));
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
