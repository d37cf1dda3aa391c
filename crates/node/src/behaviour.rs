//! The node's composed libp2p behaviour.

use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::swarm::{NetworkBehaviour, behaviour::toggle::Toggle};
use libp2p::{identify, ping};

use waku_metadata::{Behaviour as Metadata, Event as MetadataEvent};

use waku_store::{Behaviour as Store, Event as StoreEvent};

use crate::AGENT_VERSION;

/// Interval of identify pushes/refreshes.
const IDENTIFY_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// Interval between pings on every connection (js-waku pings every 10 s too).
const PING_INTERVAL: Duration = Duration::from_secs(10);

/// The optional protocols, built from the configuration.
pub struct Protocols {
    /// Relay, unless disabled.
    pub relay: Option<waku_relay::Behaviour>,
    /// Metadata (always).
    pub metadata: Metadata,
    /// Store service or client.
    pub store: Option<Store>,
    /// Legacy store service, or client (for a store node that serves only
    /// legacy).
    pub legacy_store: Option<waku_store::legacy::Behaviour>,
    /// Filter service.
    pub filter: Option<waku_filter::service::Behaviour>,
    /// Filter client (always; asks `--filternode` or a chosen peer).
    pub filter_client: Option<waku_filter::client::Behaviour>,
    /// Lightpush service.
    pub lightpush: Option<waku_lightpush::service::Behaviour>,
    /// Lightpush client (always; asks `--lightpushnode` or a chosen peer).
    pub lightpush_client: Option<waku_lightpush::client::Behaviour>,
    /// Peer-exchange service (`--peer-exchange`).
    pub peer_exchange: Option<waku_discovery::peer_exchange::service::Behaviour>,
    /// Peer-exchange client (with `--peer-exchange-node`).
    pub peer_exchange_client: Option<waku_discovery::peer_exchange::client::Behaviour>,
    /// Send our signed peer record over identify (`--relay-peer-exchange`,
    /// as nwaku), so that peers can pass our address on in gossipsub peer
    /// exchange.
    pub signed_peer_record: bool,
}

/// Every protocol the node speaks.
#[derive(NetworkBehaviour)]
#[behaviour(to_swarm = "NodeEvent")]
pub struct NodeBehaviour {
    /// `/vac/waku/relay/2.0.0`, when relay is enabled.
    pub relay: Toggle<waku_relay::Behaviour>,
    /// `/vac/waku/metadata/1.0.0`: cluster and shard exchange, cluster enforcement.
    pub metadata: Metadata,
    /// `/vac/waku/store-query/3.0.0`: service with `--store`, client with `--storenode`.
    pub store: Toggle<Store>,
    /// `/vac/waku/store/2.0.0-beta4`: service with `--store --legacy-store`,
    /// client with `--storenode`.
    pub legacy_store: Toggle<waku_store::legacy::Behaviour>,
    /// `/vac/waku/filter-subscribe/2.0.0-beta1` and pushes, with `--filter`.
    pub filter: Toggle<waku_filter::service::Behaviour>,
    /// Filter client towards `--filternode`.
    pub filter_client: Toggle<waku_filter::client::Behaviour>,
    /// `/vac/waku/lightpush/3.0.0` and `/2.0.0-beta1`, with `--lightpush`.
    pub lightpush: Toggle<waku_lightpush::service::Behaviour>,
    /// Lightpush client towards `--lightpushnode`.
    pub lightpush_client: Toggle<waku_lightpush::client::Behaviour>,
    /// `/vac/waku/peer-exchange/2.0.0-alpha1` service, with `--peer-exchange`.
    pub peer_exchange: Toggle<waku_discovery::peer_exchange::service::Behaviour>,
    /// Peer-exchange client towards `--peer-exchange-node`.
    pub peer_exchange_client: Toggle<waku_discovery::peer_exchange::client::Behaviour>,
    /// `/ipfs/id/1.0.0`: js-waku picks service peers from the protocols identify reports.
    pub identify: identify::Behaviour,
    /// `/ipfs/ping/1.0.0`.
    pub ping: ping::Behaviour,
}

impl NodeBehaviour {
    /// The behaviour for a node with identity `keypair`.
    pub fn new(keypair: &Keypair, protocols: Protocols) -> Self {
        Self {
            relay: Toggle::from(protocols.relay),
            metadata: protocols.metadata,
            store: Toggle::from(protocols.store),
            legacy_store: Toggle::from(protocols.legacy_store),
            filter: Toggle::from(protocols.filter),
            filter_client: Toggle::from(protocols.filter_client),
            lightpush: Toggle::from(protocols.lightpush),
            lightpush_client: Toggle::from(protocols.lightpush_client),
            peer_exchange: Toggle::from(protocols.peer_exchange),
            peer_exchange_client: Toggle::from(protocols.peer_exchange_client),
            identify: identify::Behaviour::new(
                if protocols.signed_peer_record {
                    identify::Config::new_with_signed_peer_record("/ipfs/id/1.0.0".into(), keypair)
                } else {
                    identify::Config::new("/ipfs/id/1.0.0".into(), keypair.public())
                }
                .with_agent_version(AGENT_VERSION.into())
                .with_interval(IDENTIFY_INTERVAL),
            ),
            ping: ping::Behaviour::new(ping::Config::new().with_interval(PING_INTERVAL)),
        }
    }
}

/// Events of the composed behaviour, one variant per protocol.
#[derive(Debug)]
pub enum NodeEvent {
    /// A relay event.
    Relay(Box<waku_relay::Event>),
    /// A metadata event.
    Metadata(Box<MetadataEvent>),
    /// A store event.
    Store(Box<StoreEvent>),
    /// A legacy store event.
    LegacyStore(Box<waku_store::legacy::Event>),
    /// A filter service event.
    Filter(Box<waku_filter::service::Event>),
    /// A filter client event.
    FilterClient(Box<waku_filter::client::Event>),
    /// A lightpush service event.
    Lightpush(Box<waku_lightpush::service::Event>),
    /// A lightpush client event.
    LightpushClient(Box<waku_lightpush::client::Event>),
    /// A peer-exchange service event.
    PeerExchange(Box<waku_discovery::peer_exchange::service::Event>),
    /// A peer-exchange client event.
    PeerExchangeClient(Box<waku_discovery::peer_exchange::client::Event>),
    /// An identify event.
    Identify(Box<identify::Event>),
    /// A ping result.
    Ping(ping::Event),
}

impl From<identify::Event> for NodeEvent {
    fn from(event: identify::Event) -> Self {
        Self::Identify(Box::new(event))
    }
}

impl From<ping::Event> for NodeEvent {
    fn from(event: ping::Event) -> Self {
        Self::Ping(event)
    }
}

impl From<waku_relay::Event> for NodeEvent {
    fn from(event: waku_relay::Event) -> Self {
        Self::Relay(Box::new(event))
    }
}

impl From<MetadataEvent> for NodeEvent {
    fn from(event: MetadataEvent) -> Self {
        Self::Metadata(Box::new(event))
    }
}

impl From<StoreEvent> for NodeEvent {
    fn from(event: StoreEvent) -> Self {
        Self::Store(Box::new(event))
    }
}

impl From<waku_store::legacy::Event> for NodeEvent {
    fn from(event: waku_store::legacy::Event) -> Self {
        Self::LegacyStore(Box::new(event))
    }
}

impl From<waku_filter::service::Event> for NodeEvent {
    fn from(event: waku_filter::service::Event) -> Self {
        Self::Filter(Box::new(event))
    }
}

impl From<waku_filter::client::Event> for NodeEvent {
    fn from(event: waku_filter::client::Event) -> Self {
        Self::FilterClient(Box::new(event))
    }
}

impl From<waku_lightpush::service::Event> for NodeEvent {
    fn from(event: waku_lightpush::service::Event) -> Self {
        Self::Lightpush(Box::new(event))
    }
}

impl From<waku_lightpush::client::Event> for NodeEvent {
    fn from(event: waku_lightpush::client::Event) -> Self {
        Self::LightpushClient(Box::new(event))
    }
}

impl From<waku_discovery::peer_exchange::service::Event> for NodeEvent {
    fn from(event: waku_discovery::peer_exchange::service::Event) -> Self {
        Self::PeerExchange(Box::new(event))
    }
}

impl From<waku_discovery::peer_exchange::client::Event> for NodeEvent {
    fn from(event: waku_discovery::peer_exchange::client::Event) -> Self {
        Self::PeerExchangeClient(Box::new(event))
    }
}
