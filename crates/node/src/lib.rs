#![doc = include_str!("../README.md")]

pub mod behaviour;
pub mod cli;
mod compose;
pub mod config;
mod delivery;
mod discovery;
pub mod enr;
mod filter_requests;
mod handle;
pub mod http_server;
mod log_control;
pub mod log_format;
pub mod metrics;
pub mod network_metrics;
pub mod node;
pub mod peer_manager;
pub mod peer_persistence;
mod peers;
pub mod rate_limits;
mod relay_targets;
mod remote_requests;
pub mod rest;
pub mod service_metrics;
mod service_peers;
mod services;
mod store_requests;
pub mod topic_shards;
pub mod transport;

pub use cli::Cli;
pub use config::{ConfigError, Discv5Settings, DnsDiscoverySettings, NodeConfig};
pub use handle::{
    Connectedness, FilterFailure, FilterRequest, FilterSubscriber, LightpushError, LightpushOk,
    NodeHandle, PeerInfo, PeerOrigin, PeerSet, ReceivedMessage, RequestError, ScoredPeer,
    ServicePeersKnown, ShardPeers,
};
pub use log_control::LogControl;
pub use node::{Node, NodeError};

/// The version `/version`, `/debug/v1/version` and the `waku_version`
/// metric report: the nwaku release whose behaviour this node follows, with
/// our own version as semver build metadata (`v0.36.0+waku-rs.0.1.0`), so
/// that tools which parse nwaku's `vMAJOR.MINOR.PATCH[-...]` accept it.
pub const VERSION: &str = concat!("v0.36.0+waku-rs.", env!("CARGO_PKG_VERSION"));

/// The agent string the node reports over identify.
pub const AGENT_VERSION: &str = concat!("waku-rs/v", env!("CARGO_PKG_VERSION"));
