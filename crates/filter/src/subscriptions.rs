//! The service's subscription table: which peer wants which (pubsub topic,
//! content topic) pairs, with the limits and the expiry.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use libp2p::PeerId;

/// One peer's criteria and when it last refreshed them.
#[derive(Debug)]
struct PeerEntry {
    /// pubsub topic -> content topics.
    criteria: HashMap<String, HashSet<String>>,
    count: usize,
    last_seen: Instant,
}

/// Why a subscription could not be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Full {
    /// The service already serves its maximum of peers.
    #[error("the service serves its maximum of {0} subscribers")]
    Peers(usize),
    /// The peer would exceed its maximum of criteria.
    #[error("a subscriber may hold at most {0} criteria")]
    Criteria(usize),
}

/// The table, indexed both by peer and by criterion.
#[derive(Debug)]
pub(crate) struct Subscriptions {
    peers: HashMap<PeerId, PeerEntry>,
    /// pubsub topic -> content topic -> peers.
    index: HashMap<String, HashMap<String, HashSet<PeerId>>>,
    max_peers: usize,
    max_criteria: usize,
    timeout: Duration,
}

impl Subscriptions {
    pub(crate) fn new(max_peers: usize, max_criteria: usize, timeout: Duration) -> Self {
        Self {
            peers: HashMap::new(),
            index: HashMap::new(),
            max_peers,
            max_criteria,
            timeout,
        }
    }

    fn live(&self, entry: &PeerEntry, now: Instant) -> bool {
        now.saturating_duration_since(entry.last_seen) <= self.timeout
    }

    /// Whether `peer` holds a subscription that has not expired.
    pub(crate) fn is_subscribed(&self, peer: &PeerId, now: Instant) -> bool {
        self.peers.get(peer).is_some_and(|e| self.live(e, now))
    }

    /// Number of peers in the table (expired ones until the next sweep).
    pub(crate) fn peer_count(&self) -> usize {
        self.peers.len()
    }

    /// The peers with a live subscription.
    pub(crate) fn live_peers(&self, now: Instant) -> Vec<PeerId> {
        self.peers
            .iter()
            .filter(|(_, e)| self.live(e, now))
            .map(|(p, _)| *p)
            .collect()
    }

    /// The criteria of `peer`, as (pubsub topic, content topic) pairs.
    pub(crate) fn criteria_of(&self, peer: &PeerId) -> Vec<(String, String)> {
        self.peers
            .get(peer)
            .map(|e| {
                e.criteria
                    .iter()
                    .flat_map(|(p, cs)| cs.iter().map(move |c| (p.clone(), c.clone())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Adds criteria (or refreshes them); an expired peer starts afresh.
    pub(crate) fn subscribe(
        &mut self,
        peer: PeerId,
        pubsub_topic: &str,
        content_topics: &HashSet<String>,
        now: Instant,
    ) -> Result<(), Full> {
        if self.peers.get(&peer).is_some_and(|e| !self.live(e, now)) {
            self.remove_peer(&peer);
        }
        if !self.peers.contains_key(&peer) && self.peers.len() >= self.max_peers {
            self.expire(now);
            if self.peers.len() >= self.max_peers {
                return Err(Full::Peers(self.max_peers));
            }
        }
        let (current, fresh) = match self.peers.get(&peer) {
            Some(e) => {
                let have = e.criteria.get(pubsub_topic);
                let fresh = content_topics
                    .iter()
                    .filter(|c| !have.is_some_and(|h| h.contains(*c)))
                    .count();
                (e.count, fresh)
            }
            None => (0, content_topics.len()),
        };
        if current + fresh > self.max_criteria {
            return Err(Full::Criteria(self.max_criteria));
        }
        let entry = self.peers.entry(peer).or_insert_with(|| PeerEntry {
            criteria: HashMap::new(),
            count: 0,
            last_seen: now,
        });
        entry.last_seen = now;
        let topics = entry.criteria.entry(pubsub_topic.to_owned()).or_default();
        let by_content = self.index.entry(pubsub_topic.to_owned()).or_default();
        for content in content_topics {
            if topics.insert(content.clone()) {
                entry.count += 1;
                by_content.entry(content.clone()).or_default().insert(peer);
            }
        }
        Ok(())
    }

    /// Removes criteria; `false` when the peer had none of them (or no
    /// live subscription at all). A successful call refreshes the peer.
    pub(crate) fn unsubscribe(
        &mut self,
        peer: &PeerId,
        pubsub_topic: &str,
        content_topics: &HashSet<String>,
        now: Instant,
    ) -> bool {
        if !self.is_subscribed(peer, now) {
            return false;
        }
        let Some(entry) = self.peers.get_mut(peer) else {
            return false;
        };
        let Some(topics) = entry.criteria.get_mut(pubsub_topic) else {
            return false;
        };
        let mut removed = 0;
        for content in content_topics {
            if topics.remove(content) {
                removed += 1;
                unindex(&mut self.index, pubsub_topic, content, peer);
            }
        }
        if topics.is_empty() {
            entry.criteria.remove(pubsub_topic);
        }
        entry.count -= removed;
        entry.last_seen = now;
        if entry.count == 0 {
            self.peers.remove(peer);
        }
        removed > 0
    }

    /// Refreshes a live subscription; `false` when there is none.
    pub(crate) fn refresh(&mut self, peer: &PeerId, now: Instant) -> bool {
        if !self.is_subscribed(peer, now) {
            return false;
        }
        if let Some(e) = self.peers.get_mut(peer) {
            e.last_seen = now;
        }
        true
    }

    /// Removes every criterion of `peer`; `false` when it had none.
    pub(crate) fn remove_peer(&mut self, peer: &PeerId) -> bool {
        let Some(entry) = self.peers.remove(peer) else {
            return false;
        };
        for (pubsub, contents) in &entry.criteria {
            for content in contents {
                unindex(&mut self.index, pubsub, content, peer);
            }
        }
        true
    }

    /// Removes the peers whose subscription expired and returns them.
    pub(crate) fn expire(&mut self, now: Instant) -> Vec<PeerId> {
        let expired: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, e)| !self.live(e, now))
            .map(|(p, _)| *p)
            .collect();
        for peer in &expired {
            self.remove_peer(peer);
        }
        expired
    }

    /// Live subscribers of (`pubsub_topic`, `content_topic`).
    pub(crate) fn matching(
        &self,
        pubsub_topic: &str,
        content_topic: &str,
        now: Instant,
    ) -> Vec<PeerId> {
        self.index
            .get(pubsub_topic)
            .and_then(|m| m.get(content_topic))
            .map(|peers| {
                peers
                    .iter()
                    .filter(|p| self.peers.get(*p).is_some_and(|e| self.live(e, now)))
                    .copied()
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn unindex(
    index: &mut HashMap<String, HashMap<String, HashSet<PeerId>>>,
    pubsub: &str,
    content: &str,
    peer: &PeerId,
) {
    if let Some(by_content) = index.get_mut(pubsub) {
        if let Some(peers) = by_content.get_mut(content) {
            peers.remove(peer);
            if peers.is_empty() {
                by_content.remove(content);
            }
        }
        if by_content.is_empty() {
            index.remove(pubsub);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(topics: &[&str]) -> HashSet<String> {
        topics.iter().map(|t| (*t).to_owned()).collect()
    }

    #[test]
    fn subscribe_match_unsubscribe() {
        let mut s = Subscriptions::new(2, 3, Duration::from_secs(10));
        let (a, b, c) = (PeerId::random(), PeerId::random(), PeerId::random());
        let t = Instant::now();
        s.subscribe(a, "p", &set(&["x", "y"]), t).unwrap();
        s.subscribe(b, "p", &set(&["x"]), t).unwrap();
        assert_eq!(s.subscribe(c, "p", &set(&["x"]), t), Err(Full::Peers(2)));
        // Refreshing the same criteria does not count twice.
        s.subscribe(a, "p", &set(&["x", "y"]), t).unwrap();
        assert_eq!(
            s.subscribe(a, "q", &set(&["x", "z"]), t),
            Err(Full::Criteria(3))
        );
        let mut m = s.matching("p", "x", t);
        m.sort();
        let mut want = vec![a, b];
        want.sort();
        assert_eq!(m, want);
        assert!(s.matching("q", "x", t).is_empty());
        assert!(!s.unsubscribe(&a, "p", &set(&["nope"]), t));
        assert!(s.unsubscribe(&a, "p", &set(&["x", "y"]), t));
        assert!(!s.is_subscribed(&a, t));
        assert_eq!(s.matching("p", "x", t), vec![b]);
        assert!(s.remove_peer(&b));
        assert!(s.index.is_empty());
    }

    #[test]
    fn expiry() {
        let mut s = Subscriptions::new(1, 10, Duration::from_secs(10));
        let (a, b) = (PeerId::random(), PeerId::random());
        let t = Instant::now();
        s.subscribe(a, "p", &set(&["x"]), t).unwrap();
        let later = t + Duration::from_secs(11);
        assert!(!s.is_subscribed(&a, later));
        assert!(s.matching("p", "x", later).is_empty());
        assert!(!s.refresh(&a, later));
        // The expired peer's place is free again.
        s.subscribe(b, "p", &set(&["x"]), later).unwrap();
        assert_eq!(s.peer_count(), 1);
        assert_eq!(s.expire(later + Duration::from_secs(11)), vec![b]);
        assert!(s.index.is_empty());
    }
}
