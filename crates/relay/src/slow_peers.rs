//! [`SlowPeers`]: which peers to disconnect because their send queue keeps
//! overflowing.
//!
//! gossipsub reports a peer whose queue overflowed at most once per
//! heartbeat (`Event::SlowPeer`) and only lowers its score; it never drops
//! it. A connection whose reader stopped (its stream failed for good) thus
//! keeps a full queue for ever, and every publish to it fails. We drop a
//! peer reported in `limit` heartbeats in a row, so whoever keeps the
//! connection (a static node, a peer manager) dials it afresh.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libp2p::PeerId;

/// Counts, per peer, the heartbeats in a row in which its queue overflowed.
#[derive(Debug)]
pub(crate) struct SlowPeers {
    /// Reports in a row that get a peer dropped; `None`: never.
    limit: Option<u32>,
    /// Two reports further apart than this are not "in a row".
    gap: Duration,
    streaks: HashMap<PeerId, (u32, Instant)>,
}

impl SlowPeers {
    /// Drops a peer after `limit` reports in a row, heartbeats being
    /// `heartbeat` apart.
    pub(crate) fn new(limit: Option<u32>, heartbeat: Duration) -> Self {
        Self {
            limit: limit.filter(|l| *l > 0),
            // One missed heartbeat in between is still "in a row": the
            // report comes from the heartbeat, which may run late.
            gap: heartbeat.saturating_mul(2).max(Duration::from_millis(10)),
            streaks: HashMap::new(),
        }
    }

    /// Records a report for `peer` at `now`; true when it is to be dropped
    /// now (its streak then starts again).
    pub(crate) fn report(&mut self, peer: PeerId, now: Instant) -> bool {
        let Some(limit) = self.limit else {
            return false;
        };
        let (streak, last) = self.streaks.entry(peer).or_insert((0, now));
        *streak = if *streak > 0 && now.duration_since(*last) <= self.gap {
            *streak + 1
        } else {
            1
        };
        *last = now;
        if *streak >= limit {
            self.streaks.remove(&peer);
            true
        } else {
            false
        }
    }

    /// Forgets `peer` (it disconnected).
    pub(crate) fn forget(&mut self, peer: &PeerId) {
        self.streaks.remove(peer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_after_the_limit_in_a_row_only() {
        let hb = Duration::from_secs(1);
        let mut slow = SlowPeers::new(Some(3), hb);
        let peer = PeerId::random();
        let t0 = Instant::now();
        assert!(!slow.report(peer, t0));
        assert!(!slow.report(peer, t0 + hb));
        // A quiet spell breaks the streak.
        assert!(!slow.report(peer, t0 + hb * 5));
        assert!(!slow.report(peer, t0 + hb * 6));
        assert!(slow.report(peer, t0 + hb * 7));
        // Dropped: counting starts again.
        assert!(!slow.report(peer, t0 + hb * 8));
        // Another peer has its own streak; a forgotten peer starts afresh.
        let other = PeerId::random();
        assert!(!slow.report(other, t0 + hb * 8));
        slow.forget(&peer);
        assert!(!slow.report(peer, t0 + hb * 9));
        assert!(!slow.report(peer, t0 + hb * 10));
        assert!(slow.report(peer, t0 + hb * 11));
    }

    #[test]
    fn never_without_a_limit() {
        let mut slow = SlowPeers::new(None, Duration::from_secs(1));
        let peer = PeerId::random();
        let t0 = Instant::now();
        assert!((0..100).all(|i| !slow.report(peer, t0 + Duration::from_millis(i * 10))));
        let mut zero = SlowPeers::new(Some(0), Duration::from_secs(1));
        assert!(!zero.report(peer, t0));
    }
}
