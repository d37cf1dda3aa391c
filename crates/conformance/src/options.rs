//! What a run is asked to do: the target, how to reach it, which network it
//! is on and which suites to run.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use libp2p::{Multiaddr, PeerId, multiaddr::Protocol};

/// The stream multiplexer negotiated with the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Muxer {
    /// yamux (what nwaku, go-waku and our node prefer).
    #[default]
    Yamux,
    /// mplex (what js-waku speaks).
    Mplex,
}

impl FromStr for Muxer {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "yamux" => Ok(Muxer::Yamux),
            "mplex" => Ok(Muxer::Mplex),
            other => Err(format!("unknown transport {other:?} (yamux or mplex)")),
        }
    }
}

/// A group of checks, named after the protocol it exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Suite {
    /// 66/WAKU2-METADATA.
    Metadata,
    /// WAKU-LIGHTPUSH v3.
    Lightpush,
    /// 19/WAKU2-LIGHTPUSH, the legacy v2 protocol.
    LightpushV2,
    /// 13/WAKU2-STORE v3.
    Store,
    /// 13/WAKU2-STORE v2, the legacy protocol.
    StoreV2,
    /// 12/WAKU2-FILTER v2.
    Filter,
    /// 11/WAKU2-RELAY with 64/WAKU2-NETWORK's validation rules.
    Relay,
    /// 34/WAKU2-PEER-EXCHANGE.
    PeerExchange,
    /// 31/WAKU2-ENR: the target's own record (`--enr` or `--rest`).
    Enr,
    /// 33/WAKU2-DISCV5: discv5 at the UDP endpoint of the target's record
    /// (`--enr` or `--rest`).
    Discv5,
}

impl Suite {
    /// Every suite, in the order a run takes them (lightpush before store
    /// and filter: their data checks push messages through it; peer
    /// exchange last: its hostile queries may cost a target its connection).
    pub const ALL: [Suite; 10] = [
        Suite::Metadata,
        Suite::Lightpush,
        Suite::LightpushV2,
        Suite::Store,
        Suite::StoreV2,
        Suite::Filter,
        Suite::Relay,
        Suite::Enr,
        Suite::Discv5,
        Suite::PeerExchange,
    ];

    /// The name `--only` takes.
    pub fn name(self) -> &'static str {
        match self {
            Suite::Metadata => "metadata",
            Suite::Lightpush => "lightpush",
            Suite::LightpushV2 => "lightpush-v2",
            Suite::Store => "store",
            Suite::Filter => "filter",
            Suite::Relay => "relay",
            Suite::PeerExchange => "peer-exchange",
            Suite::Enr => "enr",
            Suite::Discv5 => "discv5",
            Suite::StoreV2 => "store-v2",
        }
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Suite {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Suite::ALL
            .into_iter()
            .find(|suite| suite.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Suite::ALL.iter().map(|s| s.name()).collect();
                format!("unknown suite {s:?} (one of {})", names.join(", "))
            })
    }
}

/// Why options are unusable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum OptionsError {
    /// The target address does not end in `/p2p/<peer id>`.
    #[error("the target {0} has no /p2p/<peer id> component")]
    NoPeerId(Multiaddr),
}

/// Everything a run needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// The target's address, ending in `/p2p/<peer id>` (tcp, ws or wss).
    pub target: Multiaddr,
    /// The multiplexer to negotiate.
    pub muxer: Muxer,
    /// The cluster to claim; `None`: the cluster the target announces in its
    /// own metadata request, else 0 (our node's default).
    pub cluster: Option<u32>,
    /// The shards to claim and test on; empty: the first shard the target
    /// lists in its metadata, else 0 (our node's default, autosharding over
    /// one shard).
    pub shards: Vec<u32>,
    /// The suites to run; empty: all of them.
    pub only: Vec<Suite>,
    /// How long one request may take, and how long to wait for something
    /// that should arrive (a push, a stored message).
    pub timeout: Duration,
    /// The target's ENR (`enr:...`), for the ENR suite.
    pub enr: Option<String>,
    /// Autosharding over this many shards: the shard under test is the one
    /// the runner's content topics map to (instead of `shards`).
    pub autoshard: Option<u16>,
    /// The target's nwaku-style REST API, `http://host:port` (its ENR is
    /// read from `GET /debug/v1/info` when `enr` is not given).
    pub rest: Option<String>,
    /// Also relay a message stamped a minute ago and judge NET-027 (it is
    /// not forwarded). Off by default: nwaku, go-waku and our node forward
    /// any timestamp (the catalog's NET-027 deviation).
    pub check_timestamps: bool,
    /// PEM files of certificates to trust for a `/wss` target (its
    /// self-signed certificate or the CA that signed it), besides the
    /// usual roots.
    pub wss_trust: Vec<PathBuf>,
}

impl Options {
    /// Options for `target` with every default: yamux, the target's own
    /// cluster and shard, every suite, a 5 s timeout.
    pub fn new(target: Multiaddr) -> Self {
        Self {
            target,
            muxer: Muxer::default(),
            cluster: None,
            shards: Vec::new(),
            only: Vec::new(),
            timeout: Duration::from_secs(5),
            enr: None,
            rest: None,
            autoshard: None,
            check_timestamps: false,
            wss_trust: Vec::new(),
        }
    }

    /// The same options, trusting the certificates of the PEM file `path`
    /// for a `/wss` target.
    pub fn with_wss_trust(mut self, path: impl Into<PathBuf>) -> Self {
        self.wss_trust.push(path.into());
        self
    }

    /// The same options, testing on the shard the runner's content topics
    /// map to when the network is autosharded over `shards` shards.
    pub fn with_autoshard(mut self, shards: u16) -> Self {
        self.autoshard = Some(shards);
        self
    }

    /// The same options, with the target's ENR (`enr:...`).
    pub fn with_enr(mut self, enr: impl Into<String>) -> Self {
        self.enr = Some(enr.into());
        self
    }

    /// The same options, with the target's REST API (`http://host:port`).
    pub fn with_rest(mut self, rest: impl Into<String>) -> Self {
        self.rest = Some(rest.into());
        self
    }

    /// The same options, multiplexed with `muxer`.
    pub fn with_muxer(mut self, muxer: Muxer) -> Self {
        self.muxer = muxer;
        self
    }

    /// The same options, claiming `cluster` and testing on `shards`.
    pub fn with_network(mut self, cluster: Option<u32>, shards: Vec<u32>) -> Self {
        self.cluster = cluster;
        self.shards = shards;
        self
    }

    /// The same options, running only `suites` (all when empty).
    pub fn with_only(mut self, suites: Vec<Suite>) -> Self {
        self.only = suites;
        self
    }

    /// The same options, judging NET-027 (a stale message is not
    /// forwarded) when `on`.
    pub fn with_timestamp_check(mut self, on: bool) -> Self {
        self.check_timestamps = on;
        self
    }

    /// The same options with another request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The target's peer id (from its `/p2p/` component).
    pub fn peer_id(&self) -> Result<PeerId, OptionsError> {
        self.target
            .iter()
            .find_map(|p| match p {
                Protocol::P2p(id) => Some(id),
                _ => None,
            })
            .ok_or_else(|| OptionsError::NoPeerId(self.target.clone()))
    }

    /// Whether `suite` is to run.
    pub fn runs(&self, suite: Suite) -> bool {
        self.only.is_empty() || self.only.contains(&suite)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suites_and_muxers_parse_by_name() {
        assert_eq!("store".parse(), Ok(Suite::Store));
        assert!("stor".parse::<Suite>().is_err());
        assert_eq!("mplex".parse(), Ok(Muxer::Mplex));
    }

    #[test]
    fn the_peer_id_comes_from_the_p2p_component() {
        let without: Multiaddr = "/ip4/127.0.0.1/tcp/1"
            .parse()
            .unwrap_or_else(|_| Multiaddr::empty());
        assert!(Options::new(without).peer_id().is_err());
    }
}
