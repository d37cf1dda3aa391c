//! Helpers shared by the store tests: in-process libp2p nodes over
//! 127.0.0.1 TCP with noise and yamux, a raw-bytes client standing in for
//! js-waku, the js-waku vectors, and message factories.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod pg;
pub mod raw;
pub mod suite;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, SwarmBuilder, noise, tcp, yamux};
use serde_json::Value;
use waku_core::Timestamp;
use waku_core::{WakuMessage, now_nanos};
use waku_store::{
    Behaviour, Config, Event, MemoryStore, MessageQuery, MessageStore, QueryError, QueryPage,
    SqliteStore, StoreFuture, StoreQuery, StoreResponse, StoredMessage,
};

/// Longest a test waits for something to happen on the network.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// The pubsub topic most tests use.
pub const TOPIC: &str = "/waku/2/rs/1/4";
/// The content topic most tests use.
pub const CT: &str = "/app/1/chat/proto";

/// The store vectors copied from the js-waku run.
pub const VECTORS: &str = include_str!("../vectors/store_v3.json");

/// The vector case called `name`.
pub fn vector(name: &str) -> Value {
    waku_testkit::vectors::case(VECTORS, "store_v3", name)
}

/// The bytes of hex field `field` of vector `name`.
pub fn vector_bytes(name: &str, field: &str) -> Vec<u8> {
    waku_testkit::vectors::case_bytes(VECTORS, "store_v3", name, field)
}

/// A message with a timestamp, content topic and payload.
pub fn msg(timestamp: i64, content_topic: &str, payload: &str) -> WakuMessage {
    WakuMessage {
        timestamp: Some(timestamp),
        ..WakuMessage::new(payload.as_bytes().to_vec(), content_topic)
    }
}

/// A stored entry on [`TOPIC`].
pub fn entry(timestamp: i64, content_topic: &str, payload: &str) -> StoredMessage {
    StoredMessage::new(TOPIC, msg(timestamp, content_topic, payload))
}

/// A timestamp base near now, so ingest accepts the messages.
pub fn base() -> i64 {
    now_nanos() - 5_000_000_000
}

/// A swarm running `behaviour`, with a long idle timeout so that only the
/// code under test closes connections.
pub fn swarm<B: NetworkBehaviour>(behaviour: B) -> Swarm<B> {
    SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|_| behaviour)
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(120)))
        .build()
}

/// Starts listening on 127.0.0.1 and returns the address.
pub async fn listen<B: NetworkBehaviour>(swarm: &mut Swarm<B>) -> Multiaddr {
    swarm
        .listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .unwrap();
    tokio::time::timeout(DEADLINE, async {
        loop {
            if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
                return address;
            }
        }
    })
    .await
    .expect("no listen address")
}

/// Dials `addr` (the server's) from `client` and drives both swarms until
/// the connection is up.
pub async fn connect<C: NetworkBehaviour, S: NetworkBehaviour>(
    server: &mut Swarm<S>,
    client: &mut Swarm<C>,
    addr: libp2p::Multiaddr,
) {
    client.dial(addr).unwrap();
    let run = async {
        loop {
            tokio::select! {
                ev = server.select_next_some() => drop(ev),
                ev = client.select_next_some() => {
                    if matches!(ev, SwarmEvent::ConnectionEstablished { .. }) {
                        return;
                    }
                }
            }
        }
    };
    tokio::time::timeout(DEADLINE, run)
        .await
        .expect("no connection");
}

/// Drives `server` and `client` until `client` has the outcome of its
/// request `id`.
pub async fn outcome(
    server: &mut Swarm<Behaviour>,
    client: &mut Swarm<Behaviour>,
    id: libp2p::request_response::OutboundRequestId,
) -> Result<StoreResponse, QueryError> {
    let run = async {
        loop {
            tokio::select! {
                ev = server.select_next_some() => drop(ev),
                ev = client.select_next_some() => {
                    if let SwarmEvent::Behaviour(Event::QueryResult { request_id, result, .. }) = ev
                        && request_id == id
                    {
                        return result;
                    }
                }
            }
        }
    };
    tokio::time::timeout(DEADLINE, run)
        .await
        .expect("no query outcome")
}

/// A store service node (v3 unless `S` says otherwise) and a client node,
/// connected.
pub struct Pair<C: NetworkBehaviour = Behaviour, S: NetworkBehaviour = Behaviour> {
    pub server: Swarm<S>,
    pub client: Swarm<C>,
    pub server_id: PeerId,
}

/// A memory store holding `entries`.
pub async fn memory_with(entries: Vec<StoredMessage>) -> Arc<dyn MessageStore> {
    Backend::Memory.with(entries).await
}

/// The backend a protocol test serves from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `MemoryStore`.
    Memory,
    /// `SqliteStore` on a fresh file in a temporary directory (removed
    /// when the store is dropped): the SQL page query, served for real.
    Sqlite,
}

impl Backend {
    /// Every backend the protocol tests run on.
    pub const ALL: [Backend; 2] = [Backend::Memory, Backend::Sqlite];

    /// A fresh store of this kind holding `entries`.
    pub async fn with(self, entries: Vec<StoredMessage>) -> Arc<dyn MessageStore> {
        let store: Arc<dyn MessageStore> = match self {
            Backend::Memory => Arc::new(MemoryStore::new()),
            Backend::Sqlite => Arc::new(TempSqlite::new()),
        };
        store.put(entries).await.unwrap();
        store
    }
}

/// Each backend in turn, announced on stderr, so that a failing test tells
/// which backend it failed on.
pub fn each_backend() -> impl Iterator<Item = Backend> {
    Backend::ALL
        .into_iter()
        .inspect(|b| eprintln!("--- backend: {b:?}"))
}

/// An SQLite store whose temporary directory goes away with it.
pub struct TempSqlite {
    // Dropped in this order: the store (its writer thread ends), then the
    // directory.
    store: SqliteStore,
    _dir: tempfile::TempDir,
}

impl TempSqlite {
    /// A fresh, empty store in a new temporary directory.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("store.sqlite3")).unwrap();
        Self { store, _dir: dir }
    }
}

impl MessageStore for TempSqlite {
    fn put(&self, messages: Vec<StoredMessage>) -> StoreFuture<'_, Vec<bool>> {
        self.store.put(messages)
    }
    fn query(&self, query: MessageQuery) -> StoreFuture<'_, QueryPage> {
        self.store.query(query)
    }
    fn count(&self) -> StoreFuture<'_, u64> {
        self.store.count()
    }
    fn size_bytes(&self) -> StoreFuture<'_, u64> {
        self.store.size_bytes()
    }
    fn delete_older_than(&self, time: Timestamp) -> StoreFuture<'_, u64> {
        self.store.delete_older_than(time)
    }
    fn delete_oldest(&self, n: u64) -> StoreFuture<'_, u64> {
        self.store.delete_oldest(n)
    }
}

impl Pair<Behaviour> {
    /// A service on `store` with `config`, and a client, connected.
    pub async fn new(store: Arc<dyn MessageStore>, config: Config) -> Self {
        Self::with_client(store, config, Behaviour::client(Config::default())).await
    }

    /// A service on a fresh `backend` store holding `entries`, with the
    /// default config, and a client, connected.
    pub async fn on(backend: Backend, entries: Vec<StoredMessage>) -> Self {
        Self::new(backend.with(entries).await, Config::default()).await
    }

    /// Sends `query` and waits for its outcome.
    pub async fn query(&mut self, query: &StoreQuery) -> Result<StoreResponse, QueryError> {
        let peer = self.server_id;
        let id = self.client.behaviour_mut().send_query(&peer, query);
        self.outcome(id).await
    }

    async fn outcome(
        &mut self,
        id: libp2p::request_response::OutboundRequestId,
    ) -> Result<StoreResponse, QueryError> {
        outcome(&mut self.server, &mut self.client, id).await
    }

    /// Every page of `query`, following cursors; returns the pages.
    pub async fn all_pages(&mut self, query: &StoreQuery) -> Vec<StoreResponse> {
        let mut pages = Vec::new();
        let mut q = query.clone();
        loop {
            let page = self.query(&q).await.unwrap();
            let next = page.cursor;
            pages.push(page);
            match next {
                Some(c) => q = q.with_cursor(Some(c)),
                None => return pages,
            }
            assert!(pages.len() < 1000, "endless paging");
        }
    }
}

impl<C: NetworkBehaviour> Pair<C> {
    /// A service on `store` with `config`, and `client`, connected.
    pub async fn with_client(store: Arc<dyn MessageStore>, config: Config, client: C) -> Self {
        let mut server = swarm(Behaviour::new(store, config));
        let mut client = swarm(client);
        let addr = listen(&mut server).await;
        let server_id = *server.local_peer_id();
        connect(&mut server, &mut client, addr).await;
        Self {
            server,
            client,
            server_id,
        }
    }
}
