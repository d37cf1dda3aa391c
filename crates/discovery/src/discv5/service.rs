//! The running discv5 service and its lookup loop.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use enr::k256::ecdsa::SigningKey;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};
use waku_enr::WakuEnr;
use waku_enr::shards_field::{ShardsEncoding, encode_bit_vector, encode_index_list, encode_shards};
use waku_sharding::RelayShards;

use super::filter::RecordFilter;

/// The 6-byte protocol id in every discv5 packet header: Waku's DHT is kept
/// apart from Ethereum's `discv5` (33/WAKU2-DISCV5).
pub const PROTOCOL_ID: [u8; 6] = *b"d5waku";

/// How many candidates may wait in the channel before new ones are dropped
/// (they are found again by later lookups).
const CANDIDATE_BUFFER: usize = 256;

/// Settings of the [`Discv5Service`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    listen: SocketAddr,
    bootstrap: Vec<WakuEnr>,
    filter: RecordFilter,
    lookup_interval: Duration,
    first_lookups: Duration,
    enr_auto_update: bool,
    ip_limit: bool,
    rediscover_after: Duration,
}

impl Config {
    /// Listens on UDP `listen`, keeps records `filter` accepts, and looks
    /// up random ids every 30 s (every second for the first 30 s, so a new
    /// node fills its table quickly).
    pub fn new(listen: SocketAddr, filter: RecordFilter) -> Self {
        Self {
            listen,
            bootstrap: Vec::new(),
            filter,
            lookup_interval: Duration::from_secs(30),
            first_lookups: Duration::from_secs(30),
            enr_auto_update: false,
            ip_limit: false,
            rediscover_after: Duration::from_secs(30),
        }
    }

    /// Records contacted first (`--discv5-bootstrap-node`).
    #[must_use]
    pub fn with_bootstrap(mut self, records: impl IntoIterator<Item = WakuEnr>) -> Self {
        self.bootstrap.extend(records);
        self
    }

    /// Time between two random lookups once the node has settled.
    #[must_use]
    pub fn with_lookup_interval(mut self, interval: Duration) -> Self {
        self.lookup_interval = interval.max(Duration::from_millis(100));
        self
    }

    /// Lets peers' views of our address update the ENR's `ip`/`udp`
    /// (`--discv5-enr-auto-update`).
    #[must_use]
    pub fn with_enr_auto_update(mut self, on: bool) -> Self {
        self.enr_auto_update = on;
        self
    }

    /// Limits routing-table entries sharing a /24 (10 in the table, 2 per
    /// bucket) against Sybil nodes; off by default, since nodes on one
    /// machine or private network all share one.
    #[must_use]
    pub fn with_ip_limit(mut self, on: bool) -> Self {
        self.ip_limit = on;
        self
    }

    /// A candidate already handed out is handed out again only after this
    /// long (so a peer that dropped is tried again).
    #[must_use]
    pub fn with_rediscover_after(mut self, after: Duration) -> Self {
        self.rediscover_after = after;
        self
    }
}

/// Why discv5 could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Discv5Error {
    /// Our ENR does not parse as a discv5 record or was not signed by the key.
    #[error("local ENR unusable for discv5: {0}")]
    LocalEnr(String),
    /// The UDP socket could not be bound or the service not started.
    #[error("discv5 failed to start on {addr}: {reason}")]
    Start {
        /// The listen address.
        addr: SocketAddr,
        /// What failed.
        reason: String,
    },
}

/// A Waku node found through discv5 that passed the [`RecordFilter`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Candidate {
    /// Its libp2p peer id.
    pub peer_id: PeerId,
    /// Where to dial it, each ending in `/p2p/<peer_id>`.
    pub addrs: Vec<Multiaddr>,
    /// Its record.
    pub enr: WakuEnr,
}

/// A running discv5 node; dropping it stops the lookups and the socket.
pub struct Discv5Service {
    discv5: Arc<discv5::Discv5>,
    lookups: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Discv5Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Discv5Service")
            .field("local_enr", &self.discv5.local_enr().to_base64())
            .finish_non_exhaustive()
    }
}

impl Discv5Service {
    /// Starts discv5 with `local` (our record, signed by `key`, with the
    /// `udp` port we listen on) and returns the service with the channel
    /// its candidates arrive on. Bootstrap records without a UDP endpoint
    /// are skipped with a warning.
    pub async fn start(
        local: &WakuEnr,
        key: &SigningKey,
        config: Config,
    ) -> Result<(Self, mpsc::Receiver<Candidate>), Discv5Error> {
        let enr: discv5::Enr = local
            .encode()
            .parse()
            .map_err(|e: String| Discv5Error::LocalEnr(e))?;
        let mut builder = discv5::ConfigBuilder::new(discv5::ListenConfig::from_ip(
            config.listen.ip(),
            config.listen.port(),
        ));
        builder.protocol_identity(discv5::ProtocolIdentity {
            protocol_id: PROTOCOL_ID,
            protocol_version: 1u16.to_be_bytes(),
        });
        if !config.enr_auto_update {
            builder.disable_enr_update();
        }
        if config.ip_limit {
            builder.ip_limit();
        }
        let mut discv5 = discv5::Discv5::new(
            enr,
            enr::CombinedKey::Secp256k1(key.clone()),
            builder.build(),
        )
        .map_err(|e| Discv5Error::LocalEnr(e.to_owned()))?;
        for record in &config.bootstrap {
            add_record(&discv5, record);
        }
        discv5.start().await.map_err(|e| Discv5Error::Start {
            addr: config.listen,
            reason: e.to_string(),
        })?;
        info!(
            enr = %discv5.local_enr().to_base64(),
            listen = %config.listen,
            bootstrap = config.bootstrap.len(),
            "discv5 started"
        );
        let discv5 = Arc::new(discv5);
        let (tx, rx) = mpsc::channel(CANDIDATE_BUFFER);
        let lookups = tokio::spawn(lookup_loop(discv5.clone(), config, tx));
        Ok((Self { discv5, lookups }, rx))
    }

    /// Our current record (its `seq` grows when discv5 updates it).
    pub fn local_enr(&self) -> Option<WakuEnr> {
        WakuEnr::decode(&self.discv5.local_enr().to_base64()).ok()
    }

    /// Writes `shards` into our record's `rs` or `rsv` field (whichever it
    /// has; the preferred one if neither): discv5 signs it again with the
    /// next `seq`, and peers get the new record on their next contact.
    /// Returns the new record.
    pub fn set_shards(&self, shards: &RelayShards) -> Result<WakuEnr, Discv5Error> {
        // Keep the field the record has, so no stale `rs`/`rsv` is left
        // next to the new one; a record without either takes the preferred.
        let current = self.discv5.local_enr();
        let encoded = if current
            .get_raw_rlp(ShardsEncoding::BitVector.key())
            .is_some()
        {
            encode_bit_vector(shards).map(|v| (ShardsEncoding::BitVector, v))
        } else if current
            .get_raw_rlp(ShardsEncoding::IndexList.key())
            .is_some()
        {
            encode_index_list(shards).map(|v| (ShardsEncoding::IndexList, v))
        } else {
            encode_shards(shards)
        };
        let (encoding, value) = encoded.map_err(|e| Discv5Error::LocalEnr(e.to_string()))?;
        self.discv5
            .enr_insert(encoding.key(), &value.as_slice())
            .map_err(|e| Discv5Error::LocalEnr(e.to_string()))?;
        self.local_enr()
            .ok_or_else(|| Discv5Error::LocalEnr("the updated record does not decode".into()))
    }

    /// Records in the routing table.
    pub fn table_len(&self) -> usize {
        self.discv5.table_entries_id().len()
    }

    /// Adds `record` to the routing table (e.g. one learnt through peer
    /// exchange or DNS); `false` when discv5 refused it.
    pub fn add_record(&self, record: &WakuEnr) -> bool {
        add_record(&self.discv5, record)
    }
}

impl Drop for Discv5Service {
    fn drop(&mut self) {
        self.lookups.abort();
    }
}

fn add_record(discv5: &discv5::Discv5, record: &WakuEnr) -> bool {
    if record.udp4().is_none() && record.udp6().is_none() {
        warn!(enr = %record.encode(), "discv5: record has no UDP port, not added");
        return false;
    }
    let parsed: Result<discv5::Enr, _> = record.encode().parse();
    match parsed.map(|enr| discv5.add_enr(enr)) {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            debug!(enr = %record.encode(), error = e, "discv5 refused a record");
            false
        }
        Err(e) => {
            debug!(enr = %record.encode(), error = %e, "discv5 cannot read a record");
            false
        }
    }
}

/// Runs random lookups and hands out the records that pass the filter,
/// each at most once per `rediscover_after`: the records discv5 reports as
/// they arrive (every record in a `NODES` answer, and every node a session
/// is established with, also while a lookup runs or the loop pauses), and
/// after each lookup its result and the routing table.
async fn lookup_loop(
    discv5: Arc<discv5::Discv5>,
    config: Config,
    candidates: mpsc::Sender<Candidate>,
) {
    let started = Instant::now();
    let local_peer = WakuEnr::decode(&discv5.local_enr().to_base64())
        .ok()
        .map(|e| e.peer_id());
    let mut events = match discv5.event_stream().await {
        Ok(events) => Some(events),
        Err(e) => {
            debug!(error = %e, "discv5 event stream unavailable; lookup results only");
            None
        }
    };
    let mut handout = Handout {
        filter: config.filter.clone(),
        local_peer,
        handed_out: HashMap::new(),
        candidates,
    };
    loop {
        // With an empty routing table there is nobody to ask (discv5 would
        // warn on every lookup); wait for a node to contact us.
        let has_peers = !discv5.table_entries_id().is_empty();
        let lookup = async {
            if has_peers {
                discv5.find_node(enr::NodeId::random()).await
            } else {
                Ok(Vec::new())
            }
        };
        tokio::pin!(lookup);
        let found = loop {
            tokio::select! {
                found = &mut lookup => break found,
                Some(event) = next_event(&mut events) => {
                    if handout.event(event, Instant::now()) == Offer::Closed {
                        return;
                    }
                }
            }
        };
        let found = found.unwrap_or_else(|e| {
            debug!(error = %e, "discv5 lookup failed");
            Vec::new()
        });
        // What the table holds counts too: bootstrap records and nodes
        // that contacted us.
        let table = discv5.table_entries_enr();
        let now = Instant::now();
        handout
            .handed_out
            .retain(|_, at| now.duration_since(*at) < config.rediscover_after);
        for record in found.iter().chain(table.iter()) {
            match handout.offer(record, now) {
                Offer::Full => break,
                Offer::Closed => return,
                Offer::Sent | Offer::Skipped => {}
            }
        }
        let pause = if started.elapsed() < config.first_lookups {
            Duration::from_secs(1).min(config.lookup_interval)
        } else {
            config.lookup_interval
        };
        let pause = tokio::time::sleep(pause);
        tokio::pin!(pause);
        loop {
            tokio::select! {
                () = &mut pause => break,
                Some(event) = next_event(&mut events) => {
                    if handout.event(event, Instant::now()) == Offer::Closed {
                        return;
                    }
                }
            }
        }
    }
}

/// The next discv5 event; never, without an event stream.
async fn next_event(events: &mut Option<mpsc::Receiver<discv5::Event>>) -> Option<discv5::Event> {
    match events {
        Some(events) => events.recv().await,
        None => std::future::pending().await,
    }
}

/// What became of one record offered as a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Offer {
    Sent,
    Skipped,
    /// The channel is full: the record is found again later.
    Full,
    /// The receiver is gone.
    Closed,
}

/// Hands out the records that pass the filter, each once per
/// `rediscover_after`.
struct Handout {
    filter: RecordFilter,
    local_peer: Option<PeerId>,
    handed_out: HashMap<PeerId, Instant>,
    candidates: mpsc::Sender<Candidate>,
}

impl Handout {
    fn event(&mut self, event: discv5::Event, now: Instant) -> Offer {
        match event {
            discv5::Event::Discovered(record) | discv5::Event::SessionEstablished(record, _) => {
                self.offer(&record, now)
            }
            _ => Offer::Skipped,
        }
    }

    fn offer(&mut self, record: &discv5::Enr, now: Instant) -> Offer {
        let Ok(record) = WakuEnr::decode(&record.to_base64()) else {
            return Offer::Skipped;
        };
        let peer_id = record.peer_id();
        if Some(peer_id) == self.local_peer || self.handed_out.contains_key(&peer_id) {
            return Offer::Skipped;
        }
        if let Err(why) = self.filter.check(&record) {
            debug!(peer = %peer_id, %why, "discv5 record skipped");
            return Offer::Skipped;
        }
        let candidate = Candidate {
            peer_id,
            addrs: record.dial_addresses(),
            enr: record,
        };
        match self.candidates.try_send(candidate) {
            Ok(()) => {
                self.handed_out.insert(peer_id, now);
                Offer::Sent
            }
            Err(mpsc::error::TrySendError::Full(_)) => Offer::Full,
            Err(mpsc::error::TrySendError::Closed(_)) => Offer::Closed,
        }
    }
}
