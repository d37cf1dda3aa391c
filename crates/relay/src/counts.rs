//! Validation outcomes counted in process ([`ValidationCounts`]), with or
//! without the `metrics` feature.

use std::collections::BTreeMap;

use crate::validation::{Outcome, Verdict};

/// Validation outcomes counted since the relay started, by outcome and reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationCounts {
    counts: BTreeMap<(Outcome, &'static str), u64>,
}

impl ValidationCounts {
    pub(crate) fn record(&mut self, verdict: &Verdict) {
        *self
            .counts
            .entry((verdict.outcome(), verdict.reason()))
            .or_insert(0) += 1;
    }

    /// Messages with this outcome and reason.
    pub fn get(&self, outcome: Outcome, reason: &str) -> u64 {
        self.counts
            .iter()
            .filter(|((o, r), _)| *o == outcome && *r == reason)
            .map(|(_, n)| *n)
            .sum()
    }

    /// Messages with this outcome, whatever the reason.
    pub fn total(&self, outcome: Outcome) -> u64 {
        self.counts
            .iter()
            .filter(|((o, _), _)| *o == outcome)
            .map(|(_, n)| *n)
            .sum()
    }

    /// Every `(outcome, reason, count)` seen so far.
    pub fn iter(&self) -> impl Iterator<Item = (Outcome, &'static str, u64)> + '_ {
        self.counts.iter().map(|((o, r), n)| (*o, *r, *n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reason;

    #[test]
    fn counts_by_outcome_and_reason() {
        let mut counts = ValidationCounts::default();
        for v in [
            Verdict::Accept,
            Verdict::Reject(reason::UNDECODABLE),
            Verdict::Reject(reason::UNDECODABLE),
            Verdict::Ignore(reason::RATE_LIMITED),
        ] {
            counts.record(&v);
        }
        assert_eq!(counts.get(Outcome::Reject, reason::UNDECODABLE), 2);
        assert_eq!(counts.total(Outcome::Accept), 1);
        assert_eq!(counts.total(Outcome::Ignore), 1);
        assert_eq!(counts.iter().count(), 3);
    }
}
