//! Protocol ids (libp2p multistream-select names) of the Waku protocols.

/// 11/WAKU2-RELAY (gossipsub with this id only).
pub const RELAY: &str = "/vac/waku/relay/2.0.0";
/// 13/WAKU2-STORE v3 query protocol.
pub const STORE_QUERY_V3: &str = "/vac/waku/store-query/3.0.0";
/// The legacy store protocol (13/WAKU2-STORE v2).
pub const STORE_V2: &str = "/vac/waku/store/2.0.0-beta4";
/// 12/WAKU2-FILTER v2 subscription requests.
pub const FILTER_SUBSCRIBE_V2: &str = "/vac/waku/filter-subscribe/2.0.0-beta1";
/// 12/WAKU2-FILTER v2 pushes from service node to subscriber.
pub const FILTER_PUSH_V2: &str = "/vac/waku/filter-push/2.0.0-beta1";
/// 19/WAKU2-LIGHTPUSH v3.
pub const LIGHTPUSH_V3: &str = "/vac/waku/lightpush/3.0.0";
/// The legacy lightpush protocol (19/WAKU2-LIGHTPUSH v2).
pub const LIGHTPUSH_V2: &str = "/vac/waku/lightpush/2.0.0-beta1";
/// 66/WAKU2-METADATA.
pub const METADATA: &str = "/vac/waku/metadata/1.0.0";
/// 34/WAKU2-PEER-EXCHANGE.
pub const PEER_EXCHANGE: &str = "/vac/waku/peer-exchange/2.0.0-alpha1";
/// libp2p identify (mandatory for js-waku service discovery).
pub const IDENTIFY: &str = "/ipfs/id/1.0.0";
/// libp2p ping.
pub const PING: &str = "/ipfs/ping/1.0.0";
