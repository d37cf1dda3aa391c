//! The ENRs the service hands out: bounded, expiring, sampled at random.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libp2p::PeerId;
use rand::seq::index;
use waku_enr::WakuEnr;

/// One cached record.
#[derive(Debug, Clone)]
struct Entry {
    node: [u8; 32],
    peer: PeerId,
    seq: u64,
    enr: WakuEnr,
    rlp: Vec<u8>,
    added: Instant,
}

/// A bounded cache of ENRs with an age limit, from which answers are drawn
/// at random.
///
/// One record per node (the highest `seq` wins); adding a record again
/// renews its age. When full, the oldest record makes room for a new one.
#[derive(Debug, Clone)]
pub struct EnrCache {
    capacity: usize,
    ttl: Duration,
    entries: Vec<Entry>,
    index: HashMap<[u8; 32], usize>,
}

impl EnrCache {
    /// A cache of at most `capacity` records (at least 1), each kept `ttl`
    /// after it was last added.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            capacity: capacity.max(1),
            ttl,
            entries: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// Adds or renews `enr` at time `now`. Returns `false` (and changes
    /// nothing) when a newer record of the same node is already cached.
    pub fn insert(&mut self, enr: WakuEnr, now: Instant) -> bool {
        let node = enr.node_id_bytes();
        if let Some(&i) = self.index.get(&node)
            && let Some(entry) = self.entries.get_mut(i)
        {
            if enr.seq() < entry.seq {
                return false;
            }
            entry.seq = enr.seq();
            entry.rlp = enr.to_rlp_bytes();
            entry.peer = enr.peer_id();
            entry.enr = enr;
            entry.added = now;
            return true;
        }
        self.prune(now);
        if self.entries.len() >= self.capacity
            && let Some(oldest) = self
                .entries
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| e.added)
                .map(|(i, _)| i)
        {
            self.remove_at(oldest);
        }
        self.index.insert(node, self.entries.len());
        self.entries.push(Entry {
            node,
            peer: enr.peer_id(),
            seq: enr.seq(),
            rlp: enr.to_rlp_bytes(),
            enr,
            added: now,
        });
        true
    }

    fn remove_at(&mut self, i: usize) {
        if i >= self.entries.len() {
            return;
        }
        let removed = self.entries.swap_remove(i);
        self.index.remove(&removed.node);
        if let Some(moved) = self.entries.get(i) {
            self.index.insert(moved.node, i);
        }
    }

    /// Removes the record of the node with id `node`; returns whether one
    /// was cached.
    pub fn remove(&mut self, node: &[u8; 32]) -> bool {
        match self.index.get(node) {
            Some(&i) => {
                self.remove_at(i);
                true
            }
            None => false,
        }
    }

    /// Drops the records older than the age limit at `now`.
    pub fn prune(&mut self, now: Instant) {
        let ttl = self.ttl;
        let mut i = 0;
        while i < self.entries.len() {
            if now.saturating_duration_since(self.entries[i].added) >= ttl {
                self.remove_at(i);
            } else {
                i += 1;
            }
        }
    }

    /// Up to `n` records drawn at random (without repetition) from the
    /// records alive at `now`, leaving out those of `exclude` (the
    /// requester itself), in binary (RLP) form.
    pub fn sample(&mut self, n: usize, now: Instant, exclude: Option<&PeerId>) -> Vec<Vec<u8>> {
        self.prune(now);
        let candidates: Vec<usize> = (0..self.entries.len())
            .filter(|&i| exclude.is_none_or(|p| self.entries[i].peer != *p))
            .collect();
        let amount = n.min(candidates.len());
        let mut rng = rand::thread_rng();
        index::sample(&mut rng, candidates.len(), amount)
            .into_iter()
            .filter_map(|k| candidates.get(k))
            .filter_map(|&i| self.entries.get(i))
            .map(|e| e.rlp.clone())
            .collect()
    }

    /// The cached records (expired ones included until the next prune).
    pub fn records(&self) -> impl Iterator<Item = &WakuEnr> {
        self.entries.iter().map(|e| &e.enr)
    }

    /// Number of records cached.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}
