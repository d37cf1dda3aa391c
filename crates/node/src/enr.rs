//! The node's own ENR (31/WAKU2-ENR): how peers find and dial it.

use std::net::{IpAddr, Ipv4Addr};

use libp2p::Multiaddr;
use libp2p::multiaddr::Protocol;
use waku_enr::{Capabilities, Capability, SigningKey, WakuEnr, WakuEnrBuilder};
use waku_sharding::RelayShards;

use crate::config::NodeConfig;

/// Why the ENR could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EnrBuildError {
    /// The node key is not secp256k1.
    #[error("the node key must be secp256k1 to sign an ENR")]
    NotSecp256k1,
    /// The record could not be built (e.g. over 300 bytes).
    #[error(transparent)]
    Enr(#[from] waku_enr::EnrError),
}

/// The IP and port of the first listen address matching `want_ws`.
fn endpoint(listen_addrs: &[Multiaddr], want_ws: bool) -> Option<(IpAddr, u16)> {
    listen_addrs.iter().find_map(|addr| {
        let mut ip = None;
        let mut port = None;
        let mut ws = false;
        for p in addr.iter() {
            match p {
                Protocol::Ip4(a) => ip = Some(IpAddr::V4(a)),
                Protocol::Ip6(a) => ip = Some(IpAddr::V6(a)),
                Protocol::Tcp(p) => port = Some(p),
                Protocol::Ws(_) | Protocol::Wss(_) => ws = true,
                _ => {}
            }
        }
        (ws == want_ws).then_some(())?;
        Some((ip?, port?))
    })
}

/// The node key as the secp256k1 key that signs the ENR (and discv5's
/// packets).
pub(crate) fn signing_key(config: &NodeConfig) -> Result<SigningKey, EnrBuildError> {
    let secret = config
        .keypair
        .clone()
        .try_into_secp256k1()
        .map_err(|_| EnrBuildError::NotSecp256k1)?
        .secret()
        .to_bytes();
    SigningKey::from_slice(&secret).map_err(|_| EnrBuildError::NotSecp256k1)
}

/// Builds and signs the node's ENR from its configuration and the
/// addresses its listeners actually got: the advertised IP is `--nat=extip`,
/// else the listen address, else loopback when listening on every interface;
/// the WebSocket listener goes into `multiaddrs`.
pub fn build(config: &NodeConfig, listen_addrs: &[Multiaddr]) -> Result<WakuEnr, EnrBuildError> {
    let shards: Vec<u16> = config.shards.iter().copied().collect();
    build_with_shards(config, listen_addrs, &shards, 1)
}

/// [`build`] with relay's current `shards` and sequence number `seq`: the
/// record again after relay joined or left a shard.
pub fn build_with_shards(
    config: &NodeConfig,
    listen_addrs: &[Multiaddr],
    shards: &[u16],
    seq: u64,
) -> Result<WakuEnr, EnrBuildError> {
    let key = signing_key(config)?;
    let ip = config
        .ext_ip
        .unwrap_or(if config.listen_address.is_unspecified() {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            config.listen_address
        });
    let mut builder = WakuEnrBuilder::new().seq(seq).ip(ip);
    if let Some((_, port)) = endpoint(listen_addrs, false) {
        builder = match ip {
            IpAddr::V4(_) => builder.tcp(port),
            IpAddr::V6(_) => builder.tcp6(port),
        };
    }
    if let Some((_, port)) = endpoint(listen_addrs, true) {
        let scheme = if config.wss.is_some() {
            Protocol::Wss("/".into())
        } else {
            Protocol::Ws("/".into())
        };
        builder = builder.multiaddr(Multiaddr::from(ip).with(Protocol::Tcp(port)).with(scheme));
    }
    if let Some(discv5) = &config.discv5 {
        builder = match ip {
            IpAddr::V4(_) => builder.udp(discv5.udp_port),
            IpAddr::V6(_) => builder.udp6(discv5.udp_port),
        };
    }
    let mut capabilities = Capabilities::empty();
    if config.relay {
        capabilities = capabilities.with(Capability::Relay);
        if !shards.is_empty() {
            builder = builder.shards(RelayShards::new(config.cluster_id, shards.iter().copied()));
        }
    }
    if config.store.is_some() {
        capabilities = capabilities.with(Capability::Store);
    }
    if config.filter.is_some() {
        capabilities = capabilities.with(Capability::Filter);
    }
    if config.lightpush {
        capabilities = capabilities.with(Capability::Lightpush);
    }
    if !capabilities.is_empty() {
        builder = builder.capabilities(capabilities);
    }
    Ok(builder.build(&key)?)
}

impl crate::node::Node {
    /// Relay joined or left a shard: our ENR lists relay's shards again,
    /// with the next `seq` (through discv5, which signs and serves it, when
    /// it runs).
    pub(crate) fn refresh_enr_shards(&mut self) {
        if !self.config.relay {
            return;
        }
        let shards: Vec<u16> = self.announced_shards.snapshot().into_iter().collect();
        let updated = match &self.discovery {
            Some(discovery) => discovery
                .service
                .set_shards(&RelayShards::new(
                    self.config.cluster_id,
                    shards.iter().copied(),
                ))
                .map_err(|e| e.to_string()),
            None => build_with_shards(
                &self.config,
                &self.handle.listen_addrs,
                &shards,
                self.local_enr.seq() + 1,
            )
            .map_err(|e| e.to_string()),
        };
        match updated {
            Ok(enr) => {
                tracing::info!(seq = enr.seq(), ?shards, "ENR updated: {}", enr.encode());
                self.local_enr = enr;
            }
            Err(e) => tracing::warn!(?shards, %e, "ENR not updated for the new shards"),
        }
    }
}
