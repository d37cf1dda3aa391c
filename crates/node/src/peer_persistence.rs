//! `--peer-persistence`: the peers the node has talked to, kept in an
//! SQLite file (`peers.db` in the working directory, as nwaku, or
//! `--peer-persistence-path`) so that a restarted node knows them again and
//! redials them without waiting for discovery.
//!
//! Writes go to a thread of their own, so a slow disk never holds up the
//! node's event loop; the file keeps at most `--peer-store-capacity` peers
//! (the most recently seen).

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use libp2p::{Multiaddr, PeerId};
use rusqlite::{Connection, params};
use tracing::warn;
use waku_enr::WakuEnr;

/// Why the peer file could not be opened or read.
#[derive(Debug, thiserror::Error)]
#[error("peer persistence file {path}: {source}")]
pub struct PeerStorageError {
    /// The file.
    pub path: PathBuf,
    /// What SQLite reported.
    #[source]
    pub source: rusqlite::Error,
}

/// One peer as the file keeps it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredPeer {
    pub(crate) peer_id: PeerId,
    pub(crate) addrs: Vec<Multiaddr>,
    pub(crate) protocols: Vec<String>,
    pub(crate) shards: Vec<u16>,
    pub(crate) enr: Option<WakuEnr>,
}

/// The writer's handle: saves are queued to its thread.
#[derive(Debug)]
pub(crate) struct PeerStorage {
    saves: mpsc::Sender<StoredPeer>,
}

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS peers (
    peer_id TEXT PRIMARY KEY,
    addrs TEXT NOT NULL,
    protocols TEXT NOT NULL,
    shards TEXT NOT NULL,
    enr TEXT,
    last_seen INTEGER NOT NULL
)";

fn open(path: &Path) -> Result<Connection, PeerStorageError> {
    let wrap = |source| PeerStorageError {
        path: path.to_owned(),
        source,
    };
    let conn = Connection::open(path).map_err(wrap)?;
    conn.execute_batch(SCHEMA).map_err(wrap)?;
    Ok(conn)
}

fn join<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The rows of the file, newest first; rows that no longer parse are
/// skipped with a warning.
fn read(conn: &Connection) -> rusqlite::Result<Vec<StoredPeer>> {
    let mut stmt = conn.prepare(
        "SELECT peer_id, addrs, protocols, shards, enr FROM peers ORDER BY last_seen DESC",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, String>(3)?,
            row.get::<_, Option<String>>(4)?,
        ))
    })?;
    let mut peers = Vec::new();
    for row in rows {
        let (peer_id, addrs, protocols, shards, enr) = row?;
        let Ok(peer_id) = peer_id.parse::<PeerId>() else {
            warn!(%peer_id, "peer persistence: skipping a row with an invalid peer id");
            continue;
        };
        peers.push(StoredPeer {
            peer_id,
            addrs: addrs
                .split_whitespace()
                .filter_map(|a| a.parse().ok())
                .collect(),
            protocols: protocols.split_whitespace().map(str::to_owned).collect(),
            shards: shards
                .split_whitespace()
                .filter_map(|s| s.parse().ok())
                .collect(),
            enr: enr.and_then(|e| WakuEnr::decode(&e).ok()),
        });
    }
    Ok(peers)
}

/// Writes `peer` (seen now), then drops the oldest rows beyond `capacity`.
fn write(conn: &Connection, peer: &StoredPeer, capacity: usize) -> rusqlite::Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    conn.execute(
        "INSERT INTO peers (peer_id, addrs, protocols, shards, enr, last_seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(peer_id) DO UPDATE SET addrs = ?2, protocols = ?3, shards = ?4,
             enr = COALESCE(?5, enr), last_seen = ?6",
        params![
            peer.peer_id.to_string(),
            join(&peer.addrs),
            join(&peer.protocols),
            join(&peer.shards),
            peer.enr.as_ref().map(WakuEnr::encode),
            now,
        ],
    )?;
    conn.execute(
        "DELETE FROM peers WHERE peer_id NOT IN
             (SELECT peer_id FROM peers ORDER BY last_seen DESC LIMIT ?1)",
        params![i64::try_from(capacity).unwrap_or(i64::MAX)],
    )?;
    Ok(())
}

impl PeerStorage {
    /// Opens (or creates) the file at `path`, reads the peers it keeps and
    /// starts the writer, which keeps at most `capacity` peers.
    pub(crate) fn open(
        path: &Path,
        capacity: usize,
    ) -> Result<(Self, Vec<StoredPeer>), PeerStorageError> {
        let conn = open(path)?;
        let stored = read(&conn).map_err(|source| PeerStorageError {
            path: path.to_owned(),
            source,
        })?;
        let (saves, queue) = mpsc::channel::<StoredPeer>();
        let shown = path.display().to_string();
        std::thread::Builder::new()
            .name("peer-persistence".into())
            .spawn(move || {
                for peer in queue {
                    if let Err(e) = write(&conn, &peer, capacity) {
                        warn!(file = %shown, %e, "peer persistence: could not save a peer");
                    }
                }
            })
            .map_err(|e| PeerStorageError {
                path: path.to_owned(),
                source: rusqlite::Error::ToSqlConversionFailure(Box::new(e)),
            })?;
        Ok((Self { saves }, stored))
    }

    /// Queues `peer` to be saved.
    pub(crate) fn save(&self, peer: StoredPeer) {
        // The writer ends only with the node; a send after that is moot.
        let _ = self.saves.send(peer);
    }
}

impl crate::node::Node {
    /// Opens the `--peer-persistence` file and puts the peers it keeps
    /// back into the peer book.
    pub(crate) fn restore_peers(&mut self) -> Result<(), PeerStorageError> {
        let Some(path) = self.config.peer_persistence.clone() else {
            return Ok(());
        };
        let (storage, stored) = PeerStorage::open(&path, self.config.peer_store_capacity)?;
        tracing::info!(file = %path.display(), amount = stored.len(), "recovered peers from storage");
        let now = std::time::Instant::now();
        for peer in stored {
            self.peers.restore(peer, now);
        }
        self.peer_storage = Some(storage);
        Ok(())
    }

    /// Dials the restored peers the node wants (relay peers up to its
    /// targets, as discovered ones).
    pub(crate) fn dial_restored_peers(&mut self) {
        if self.peer_storage.is_none() {
            return;
        }
        let restored: Vec<(PeerId, Vec<Multiaddr>)> = self
            .peers
            .infos()
            .filter(|info| !info.connected && !info.addrs.is_empty())
            .map(|info| (info.peer_id, info.addrs.clone()))
            .collect();
        for (peer, addrs) in restored {
            if self.wants_peer(&peer) {
                self.dial_known(peer, addrs, "peer persistence");
            }
        }
    }

    /// Saves what the node knows of `peer` now, with `--peer-persistence`.
    pub(crate) fn persist_peer(&self, peer: &PeerId) {
        if let (Some(storage), Some(stored)) = (&self.peer_storage, self.peers.stored(peer)) {
            storage.save(stored);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn peer(addr: &str) -> StoredPeer {
        StoredPeer {
            peer_id: PeerId::random(),
            addrs: vec![addr.parse().unwrap()],
            protocols: vec!["/vac/waku/relay/2.0.0".into()],
            shards: vec![0, 3],
            enr: None,
        }
    }

    #[test]
    fn peers_survive_a_reopen_newest_first_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("peers.db");
        let conn = open(&path).unwrap();
        let peers: Vec<StoredPeer> = (0..4)
            .map(|i| peer(&format!("/ip4/127.0.0.1/tcp/{}", 6000 + i)))
            .collect();
        for p in &peers {
            write(&conn, p, 3).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        drop(conn);
        let conn = open(&path).unwrap();
        let read_back = read(&conn).unwrap();
        assert_eq!(read_back.len(), 3, "the oldest is dropped beyond capacity");
        assert_eq!(read_back[0], peers[3]);
        assert!(!read_back.contains(&peers[0]));
        // An update keeps one row per peer.
        write(&conn, &peers[1], 3).unwrap();
        assert_eq!(read(&conn).unwrap()[0].peer_id, peers[1].peer_id);
        assert_eq!(read(&conn).unwrap().len(), 3);
    }

    #[test]
    fn a_file_that_is_not_a_database_is_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("peers.db");
        std::fs::write(
            &path,
            b"not sqlite at all, just some text that is long enough",
        )
        .unwrap();
        let err = PeerStorage::open(&path, 10).unwrap_err();
        assert_eq!(err.path, path);
        assert!(err.to_string().contains("peers.db"), "{err}");
    }
}
