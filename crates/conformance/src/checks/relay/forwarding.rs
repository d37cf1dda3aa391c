//! What the target forwards from one gossipsub peer of ours to another.
//! The runner connects two more peers, both on the shard: a publisher and
//! a watcher (and a third one whose gossipsub signs what it publishes). A
//! valid message from the publisher reaches the watcher (NET-020, and the
//! control for the rest); undecodable relay data (NET-025, NET-021), a
//! signed message (RELAY-012), with [`Options::check_timestamps`] one
//! stamped a minute ago (NET-027), and last a message over 150 KiB
//! (NET-018) do not.
//!
//! [`Options::check_timestamps`]: crate::Options::check_timestamps

use std::time::Duration;

use libp2p::gossipsub;
use prost::Message;
use tokio::time::Instant;

use super::SUBSCRIPTION_WAIT;
use crate::checks::{Ctx, lightpush, message};
use crate::report::Outcome;
use crate::session::{RelayPeer, Session};

/// How far before the runner's clock the stale message is stamped:
/// NET-027's window is 20 s, the rest is room for the two clocks to differ.
const STALE_BY_NS: i64 = 60 * 1_000_000_000;

/// How long the new peers get, once the target announced the shard, for
/// their GRAFTs to cross (so the control message goes through the mesh,
/// not a heartbeat later through gossip).
const MESH_SETTLE: Duration = Duration::from_millis(200);

/// The least time a message that should not be forwarded gets to show up
/// after the valid one published behind it arrived (more when valid
/// messages are slow: four times the control message's trip).
const MIN_GRACE: Duration = Duration::from_millis(300);

/// The runner's extra gossipsub peers (boxed: a session is large, and
/// three of them inline would make the run's future overflow a stack).
struct Peers {
    /// Publishes the valid and the invalid messages.
    publisher: Box<Session>,
    /// Receives what the target forwards, author fields unchecked (a
    /// forwarded signed message shows even when the target dropped its
    /// `from` and kept its signature).
    watcher: Box<Session>,
    /// Publishes a signed message.
    signer: Box<Session>,
    /// Every message the watcher received from the target so far.
    got: Vec<gossipsub::Message>,
}

impl Peers {
    /// Connects the three peers claiming the network under test, joins
    /// `pubsub_topic` with each and waits until the target announced it to
    /// all of them.
    async fn join(ctx: &Ctx<'_>, pubsub_topic: &str) -> Result<Self, String> {
        let options = ctx
            .options
            .clone()
            .with_network(Some(ctx.cluster), vec![ctx.shard]);
        let connect = |peer| Box::pin(Session::connect_as(&options, peer));
        let (publisher, watcher, signer) = tokio::join!(
            connect(RelayPeer::Waku),
            connect(RelayPeer::Unchecked),
            connect(RelayPeer::Signing),
        );
        let mut peers = Self {
            publisher: Box::new(publisher.map_err(|e| format!("publishing peer: {e}"))?),
            watcher: Box::new(watcher.map_err(|e| format!("watching peer: {e}"))?),
            signer: Box::new(signer.map_err(|e| format!("signing peer: {e}"))?),
            got: Vec::new(),
        };
        for peer in [
            &mut *peers.publisher,
            &mut *peers.watcher,
            &mut *peers.signer,
        ] {
            peer.relay_subscribe(pubsub_topic)?;
        }
        let (a, b, c) = tokio::join!(
            peers
                .publisher
                .target_relays(pubsub_topic, SUBSCRIPTION_WAIT),
            peers.watcher.target_relays(pubsub_topic, SUBSCRIPTION_WAIT),
            peers.signer.target_relays(pubsub_topic, SUBSCRIPTION_WAIT),
        );
        if !(a && b && c) {
            return Err(format!(
                "the target did not announce {pubsub_topic} to our other peers within \
                 {SUBSCRIPTION_WAIT:?}"
            ));
        }
        peers.arrival(None, MESH_SETTLE).await;
        Ok(peers)
    }

    /// Whether the watcher received a message with `data` (`None`: only
    /// collect what comes) within `wait`, while every peer's connection
    /// runs (a publish leaves only when its session is polled).
    async fn arrival(&mut self, data: Option<&[u8]>, wait: Duration) -> bool {
        if self.seen(data) {
            return true;
        }
        let Self {
            publisher,
            watcher,
            signer,
            got,
        } = self;
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let next = tokio::select! {
                m = watcher.next_relayed(left) => m,
                _ = async { tokio::join!(publisher.settle(left), signer.settle(left)) } => None,
            };
            let Some(m) = next else {
                return false;
            };
            let hit = data.is_some_and(|d| m.data == d);
            got.push(m);
            if hit {
                return true;
            }
        }
    }

    /// Whether the watcher received a message with `data` so far.
    fn seen(&self, data: Option<&[u8]>) -> bool {
        data.is_some_and(|d| self.got.iter().any(|m| m.data == d))
    }
}

/// Relay data that does not decode as a WakuMessage: its first byte is a
/// key of field 1 with wire type 7, which protobuf does not have.
fn undecodable(run_tag: &str) -> Vec<u8> {
    let mut data = vec![0x0f];
    data.extend_from_slice(format!("not a waku message {run_tag}").as_bytes());
    data
}

/// The ids of the rows after the control, in order.
fn rest_ids(ctx: &Ctx<'_>) -> Vec<&'static str> {
    let mut ids = vec!["NET-025", "NET-021", "RELAY-012"];
    if ctx.options.check_timestamps {
        ids.push("NET-027");
    }
    ids.push("NET-018");
    ids
}

fn not_checkable(ids: &[&'static str], why: &str) -> Vec<Outcome> {
    ids.iter()
        .map(|id| Outcome::not_checkable(id, why.to_owned()))
        .collect()
}

/// "Forwarded" or "not forwarded", for the evidence.
fn forwarded(yes: bool) -> &'static str {
    if yes { "forwarded" } else { "not forwarded" }
}

/// The forwarding checks, each row on the shard `pubsub_topic`.
pub async fn run(ctx: &mut Ctx<'_>, pubsub_topic: &str) -> Vec<Outcome> {
    let ids = rest_ids(ctx);
    let mut peers = match Box::pin(Peers::join(ctx, pubsub_topic)).await {
        Ok(peers) => peers,
        Err(e) => {
            let mut all = vec!["NET-020"];
            all.extend(&ids);
            return not_checkable(&all, &format!("second peer: {e}"));
        }
    };
    let wait = ctx.wait();
    let topic = ctx.content_topic("forwarding");
    let mut out = Vec::new();

    // The control: a valid message gets from one peer to the other.
    let control = message(&topic, b"valid, to be forwarded", 0).encode_to_vec();
    let started = Instant::now();
    if let Err(e) = peers.publisher.relay_publish(pubsub_topic, control.clone()) {
        let mut all = vec!["NET-020"];
        all.extend(&ids);
        return not_checkable(&all, &format!("publish: {e}"));
    }
    if !peers.arrival(Some(&control), wait).await {
        out.push(Outcome::fail(
            "NET-020",
            format!(
                "a valid message one peer of ours relayed did not reach another within {wait:?} \
                 (both joined {pubsub_topic})"
            ),
        ));
        out.extend(not_checkable(
            &ids,
            "the valid message published first did not get through either",
        ));
        return out;
    }
    let trip = started.elapsed();
    out.push(Outcome::pass(
        "NET-020",
        format!("a valid message one peer of ours relayed reached another in {trip:?}"),
    ));
    let grace = (trip * 4).clamp(MIN_GRACE, wait.max(MIN_GRACE));

    // The invalid ones, then a valid marker behind them: once the marker
    // is through (and a grace period passed), what did not come was not
    // forwarded.
    let garbage = undecodable(&ctx.run_tag);
    let signed = message(&topic, b"signed by its publisher", 0).encode_to_vec();
    let stale = message(&topic, b"stamped a minute ago", -STALE_BY_NS).encode_to_vec();
    let marker = message(&topic, b"valid, after the invalid ones", 0).encode_to_vec();
    let mut published = peers.signer.relay_publish(pubsub_topic, signed.clone());
    let mut sent = vec![garbage.clone()];
    if ctx.options.check_timestamps {
        sent.push(stale.clone());
    }
    sent.push(marker.clone());
    for data in sent {
        if published.is_ok() {
            published = peers.publisher.relay_publish(pubsub_topic, data);
        }
    }
    if let Err(e) = published {
        out.extend(not_checkable(&ids, &format!("publish: {e}")));
        return out;
    }
    if !peers.arrival(Some(&marker), wait).await {
        out.extend(not_checkable(
            &ids,
            &format!(
                "a valid message published after the invalid ones did not get through within \
                 {wait:?}: the path broke, so nothing is shown"
            ),
        ));
        return out;
    }
    peers.arrival(None, grace).await;
    let got_garbage = peers.seen(Some(&garbage));
    out.push(Outcome::judge(
        "NET-025",
        !got_garbage,
        format!(
            "relay data that is no WakuMessage ({} bytes) from one peer of ours: {} to another \
             (a valid message published after it was)",
            garbage.len(),
            forwarded(got_garbage)
        ),
    ));
    out.push(Outcome::judge(
        "NET-021",
        !got_garbage,
        format!(
            "a message to reject (undecodable relay data): {} to another peer of ours",
            forwarded(got_garbage)
        ),
    ));
    let got_signed = peers.seen(Some(&signed));
    out.push(Outcome::judge(
        "RELAY-012",
        !got_signed,
        format!(
            "a message with from, seqno, signature and key (signed by its publisher): {} to \
             another peer of ours within {grace:?} of a valid one",
            forwarded(got_signed)
        ),
    ));
    if ctx.options.check_timestamps {
        let got_stale = peers.seen(Some(&stale));
        out.push(Outcome::judge(
            "NET-027",
            !got_stale,
            format!(
                "a message stamped {} s before our clock: {} to another peer of ours",
                STALE_BY_NS / 1_000_000_000,
                forwarded(got_stale)
            ),
        ));
    }

    // Last: go-waku takes nothing more from a peer after an oversize RPC.
    let oversize = message(&topic, &vec![0x33; lightpush::MAX_MESSAGE_SIZE + 1], 0).encode_to_vec();
    if let Err(e) = peers
        .publisher
        .relay_publish(pubsub_topic, oversize.clone())
    {
        out.push(Outcome::not_checkable("NET-018", format!("publish: {e}")));
        return out;
    }
    let got_oversize = peers.arrival(Some(&oversize), grace).await;
    out.push(Outcome::judge(
        "NET-018",
        !got_oversize,
        format!(
            "a message with a 150 KiB + 1 payload from one peer of ours: {} to another within \
             {grace:?} (a valid one took {trip:?})",
            forwarded(got_oversize)
        ),
    ));
    out
}
