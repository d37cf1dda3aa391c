//! Per-peer rate limits (LIGHTPUSH-012, LIGHTPUSH2-005, STORE-031,
//! STORE2-014, FILTER-032, PX-013): a second peer of the runner sends one
//! protocol's requests back to back until the target refuses one. The
//! refusal must be the protocol's 429, and a third peer's first request
//! must still be served right after (the budget is per peer). A target that answers
//! every request of the burst has no limit the runner reached: "not
//! checkable", as the rules are about how a limit is enforced, not its size.

use std::time::Duration;

use super::{Ctx, TOO_MANY_REQUESTS, describe};
use crate::report::Outcome;
use crate::session::{Proto, Session};
use crate::wire::Answer;

/// The most requests one burst sends.
pub const BURST: usize = 40;

/// How long one burst may go on.
const BURST_TIME: Duration = Duration::from_secs(3);

/// How the burst ended.
enum Ended {
    /// Request `n` was answered 429.
    Refused(usize),
    /// Request `n` got something else than a status (evidence).
    Broken(usize, String),
    /// Every request sent was answered with another status.
    Served(usize, Duration),
}

/// Sends `request()` on `proto` from a fresh peer until the target refuses
/// one, for at most [`BURST`] requests or [`BURST_TIME`].
async fn burst(
    peer: &mut Session,
    proto: Proto,
    request: &impl Fn() -> Vec<u8>,
    status_of: fn(&[u8]) -> Option<u32>,
) -> Ended {
    let started = tokio::time::Instant::now();
    let mut sent = 0;
    while sent < BURST && started.elapsed() < BURST_TIME {
        sent += 1;
        let answer = peer.request(proto, request()).await;
        match &answer {
            Ok(Answer::Frame { body, .. }) => match status_of(body) {
                Some(TOO_MANY_REQUESTS) => return Ended::Refused(sent),
                Some(_) => {}
                None => return Ended::Broken(sent, "an undecodable answer".into()),
            },
            other => return Ended::Broken(sent, describe(other)),
        }
    }
    Ended::Served(sent, started.elapsed())
}

/// Judges `id` by a burst of `request()` on `proto` (see the module doc).
/// `status_of` reads an answer's status as the suite's request loop does
/// (429 for the protocol's rate-limit refusal).
pub async fn judge(
    ctx: &mut Ctx<'_>,
    id: &'static str,
    proto: Proto,
    request: impl Fn() -> Vec<u8>,
    status_of: fn(&[u8]) -> Option<u32>,
) -> Outcome {
    let options = ctx
        .options
        .clone()
        .with_network(Some(ctx.cluster), vec![ctx.shard]);
    let mut peer = match Session::connect(&options).await {
        Ok(peer) => peer,
        Err(e) => {
            return Outcome::not_checkable(id, format!("a second peer could not connect: {e}"));
        }
    };
    let sent = match burst(&mut peer, proto, &request, status_of).await {
        Ended::Refused(1) => {
            return Outcome::not_checkable(
                id,
                format!(
                    "the first request of a fresh peer was answered {TOO_MANY_REQUESTS}: the \
                     target refuses more than one peer's burst"
                ),
            );
        }
        Ended::Refused(sent) => sent,
        Ended::Broken(1, e) => {
            return Outcome::not_checkable(
                id,
                format!("the first request of a burst was not answered: {e}"),
            );
        }
        Ended::Broken(n, e) => {
            return Outcome::fail(
                id,
                format!(
                    "request {n} of a burst from one peer got {e} after {} answered, not \
                     {TOO_MANY_REQUESTS}",
                    n - 1
                ),
            );
        }
        Ended::Served(n, took) => {
            return Outcome::not_checkable(
                id,
                format!(
                    "{n} requests from one peer in {took:.1?} were all served: no limit reached"
                ),
            );
        }
    };
    // Gone before the next peer comes (a target may limit connections
    // per address).
    drop(peer);
    // Another fresh peer has a budget of its own (the runner's main peer
    // may have spent its budget in the suite just before).
    let mut other_peer = match Session::connect(&options).await {
        Ok(peer) => peer,
        Err(e) => {
            return Outcome::not_checkable(id, format!("a third peer could not connect: {e}"));
        }
    };
    let other = other_peer.request(proto, request()).await;
    match &other {
        Ok(Answer::Frame { body, .. }) => match status_of(body) {
            Some(TOO_MANY_REQUESTS) => Outcome::fail(
                id,
                format!(
                    "request {sent} from one peer was answered {TOO_MANY_REQUESTS}, and so was \
                     another fresh peer's first request right after: the limit is not per peer"
                ),
            ),
            Some(code) => Outcome::pass(
                id,
                format!(
                    "request {sent} from one peer was answered {TOO_MANY_REQUESTS}; another fresh \
                     peer's first request was answered {code} right after"
                ),
            ),
            None => Outcome::not_checkable(
                id,
                format!(
                    "request {sent} from one peer was answered {TOO_MANY_REQUESTS}; another fresh \
                     peer's request got an undecodable answer"
                ),
            ),
        },
        other => Outcome::not_checkable(
            id,
            format!(
                "request {sent} from one peer was answered {TOO_MANY_REQUESTS}; another fresh peer's \
                 request: {}",
                describe(other)
            ),
        ),
    }
}
