//! The hashes of the messages the service pushed recently, so that a message
//! it is given twice (by relay and lightpush, say) reaches each subscriber
//! once. This is nwaku's filter message cache: a hash is remembered for a
//! window (2 minutes by default) after it was last seen, and seeing it again
//! renews the window.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use waku_core::MessageHash;

/// Most hashes remembered at once; beyond it the oldest are forgotten early.
pub(crate) const CAPACITY: usize = 100_000;

/// One sighting of a hash, in the order they happened.
#[derive(Debug, Clone, Copy)]
struct Sighting {
    at: Instant,
    /// Tells this sighting apart from later ones of the same hash.
    seq: u64,
    hash: MessageHash,
}

/// Recently seen message hashes, each remembered for `window` after its
/// last sighting, at most `capacity` of them.
#[derive(Debug)]
pub(crate) struct RecentPushes {
    window: Duration,
    capacity: usize,
    /// Each hash with the `seq` of its latest sighting.
    latest: HashMap<MessageHash, u64>,
    /// Every sighting, oldest first. A hash seen again has a newer entry
    /// further back; its older entries no longer count.
    sightings: VecDeque<Sighting>,
    next_seq: u64,
}

impl RecentPushes {
    /// Remembers hashes for `window` (zero: never), at most `capacity`.
    pub(crate) fn new(window: Duration, capacity: usize) -> Self {
        Self {
            window,
            capacity,
            latest: HashMap::new(),
            sightings: VecDeque::new(),
            next_seq: 0,
        }
    }

    /// Whether duplicates are looked for at all.
    pub(crate) fn is_enabled(&self) -> bool {
        !self.window.is_zero() && self.capacity > 0
    }

    /// Notes that `hash` is seen at `now`, and tells whether it had been
    /// seen less than the window ago. Either way the window starts afresh
    /// for it, as nwaku's cache does.
    pub(crate) fn seen_again(&mut self, hash: MessageHash, now: Instant) -> bool {
        if !self.is_enabled() {
            return false;
        }
        self.prune(now);
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        let again = self.latest.insert(hash, seq).is_some();
        self.sightings.push_back(Sighting { at: now, seq, hash });
        while self.sightings.len() > self.capacity {
            self.forget_oldest();
        }
        again
    }

    /// Forgets the sightings older than the window.
    pub(crate) fn prune(&mut self, now: Instant) {
        while self
            .sightings
            .front()
            .is_some_and(|s| now.saturating_duration_since(s.at) >= self.window)
        {
            self.forget_oldest();
        }
    }

    /// Number of hashes remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.latest.len()
    }

    fn forget_oldest(&mut self) {
        if let Some(oldest) = self.sightings.pop_front() {
            // Only the latest sighting of a hash keeps it remembered.
            if self.latest.get(&oldest.hash) == Some(&oldest.seq) {
                self.latest.remove(&oldest.hash);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(byte: u8) -> MessageHash {
        MessageHash([byte; 32])
    }

    #[test]
    fn a_hash_seen_within_the_window_is_a_duplicate() {
        let mut recent = RecentPushes::new(Duration::from_secs(120), CAPACITY);
        let t = Instant::now();
        assert!(!recent.seen_again(hash(1), t));
        assert!(recent.seen_again(hash(1), t + Duration::from_secs(119)));
        assert!(!recent.seen_again(hash(2), t + Duration::from_secs(119)));
        // The second sighting renewed the window of hash 1.
        assert!(recent.seen_again(hash(1), t + Duration::from_secs(200)));
        // Hash 2 was last seen 120 s before: forgotten.
        assert!(!recent.seen_again(hash(2), t + Duration::from_secs(239)));
        assert!(!recent.seen_again(hash(1), t + Duration::from_secs(400)));
        assert_eq!(recent.len(), 1);
    }

    #[test]
    fn a_zero_window_remembers_nothing() {
        let mut recent = RecentPushes::new(Duration::ZERO, CAPACITY);
        let t = Instant::now();
        assert!(!recent.is_enabled());
        assert!(!recent.seen_again(hash(1), t));
        assert!(!recent.seen_again(hash(1), t));
        assert_eq!(recent.len(), 0);
    }

    #[test]
    fn the_oldest_hashes_go_beyond_the_capacity() {
        let mut recent = RecentPushes::new(Duration::from_secs(120), 3);
        let t = Instant::now();
        for b in 1..=4 {
            assert!(!recent.seen_again(hash(b), t));
        }
        assert_eq!(recent.len(), 3);
        // Hash 1 was evicted; 4 is still known.
        assert!(recent.seen_again(hash(4), t));
        assert!(!recent.seen_again(hash(1), t));
        assert!(recent.sightings.len() <= 3);
    }

    #[test]
    fn pruning_forgets_expired_hashes() {
        let mut recent = RecentPushes::new(Duration::from_secs(1), CAPACITY);
        let t = Instant::now();
        recent.seen_again(hash(1), t);
        recent.seen_again(hash(1), t + Duration::from_millis(500));
        recent.prune(t + Duration::from_millis(1200));
        assert_eq!(recent.len(), 1);
        recent.prune(t + Duration::from_millis(1500));
        assert_eq!(recent.len(), 0);
        assert!(recent.sightings.is_empty());
    }
}
