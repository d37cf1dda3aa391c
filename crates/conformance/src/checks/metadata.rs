//! 66/WAKU2-METADATA: the target answers a metadata request with its
//! cluster and shards, sends its own request on connection, survives an
//! undecodable request, keeps a peer whose shards differ from its own and,
//! on The Waku Network (cluster 1), drops a peer of another cluster.

use std::time::Duration;

use prost::Message;
use waku_metadata::proto::{WakuMetadataRequest, WakuMetadataResponse};

use super::{Ctx, decode, hostile_round};
use crate::report::Outcome;
use crate::session::{MetadataAnswer, Proto, Session};

/// Every requirement id this suite can decide.
pub const IDS: &[&str] = &[
    "META-001", "META-004", "META-012", "META-015", "META-018", "META-021", "NET-002", "NET-003",
];

/// How long a second peer waits to see whether the target drops it.
const ENFORCEMENT_WAIT: Duration = Duration::from_millis(1500);

/// The Waku Network's cluster, where dropping other clusters is a MUST.
const TWN_CLUSTER: u32 = 1;

fn request(cluster: u32, shards: &[u32]) -> Vec<u8> {
    waku_core::codec::encode_frame(&WakuMetadataRequest {
        cluster_id: Some(cluster),
        shards: shards.to_vec(),
        shards_packed: shards.to_vec(),
    })
}

/// Asks for the target's metadata; `(cluster, shards)` when it answered
/// with a cluster (used to pick the network of the other suites).
pub async fn query(ctx: &mut Ctx<'_>) -> Option<(u32, Vec<u32>)> {
    let answer = ctx
        .session
        .request(Proto::Metadata, request(ctx.cluster, &[ctx.shard]))
        .await;
    let response: WakuMetadataResponse = decode(&answer).ok()?;
    let shards = if response.shards_packed.is_empty() {
        response.shards
    } else {
        response.shards_packed
    };
    Some((response.cluster_id?, shards))
}

/// Runs the metadata checks.
pub async fn run(ctx: &mut Ctx<'_>) -> Vec<Outcome> {
    let mut out = Vec::new();
    let sent = request(ctx.cluster, &[ctx.shard]);
    let answer = ctx.session.request(Proto::Metadata, sent.clone()).await;
    match decode::<WakuMetadataResponse>(&answer) {
        Err(e) => {
            out.push(Outcome::fail(
                "META-001",
                format!("request for cluster {}: {e}", ctx.cluster),
            ));
        }
        Ok(response) => {
            out.push(Outcome::pass(
                "META-001",
                format!(
                    "answered on {} with cluster {:?}, shards {:?} / packed {:?}",
                    Proto::Metadata.id(),
                    response.cluster_id,
                    response.shards,
                    response.shards_packed
                ),
            ));
            out.push(Outcome::judge(
                "META-012",
                response.cluster_id.is_some(),
                format!("response cluster_id = {:?}", response.cluster_id),
            ));
            out.push(Outcome::judge(
                "META-021",
                response.shards == response.shards_packed,
                format!(
                    "shards in field 2 {:?}, packed in field 3 {:?}",
                    response.shards, response.shards_packed
                ),
            ));
            if ctx.session.serves(waku_core::protocol_id::RELAY) {
                let any_service = [Proto::Lightpush, Proto::Store, Proto::FilterSubscribe]
                    .into_iter()
                    .any(|p| ctx.serves(p));
                if any_service {
                    out.push(Outcome::judge(
                        "META-015",
                        !response.shards.is_empty() || !response.shards_packed.is_empty(),
                        format!(
                            "relay and service node listing shards {:?} / packed {:?}",
                            response.shards, response.shards_packed
                        ),
                    ));
                }
            }
        }
    }
    match ctx.session.target_metadata().cloned() {
        Some(theirs) => out.push(Outcome::judge(
            "META-004",
            theirs.cluster_id.is_some(),
            format!(
                "the target's own request on connection: cluster {:?}, shards {:?}",
                theirs.cluster_id, theirs.shards
            ),
        )),
        None => out.push(Outcome::not_checkable(
            "META-004",
            "the target sent no metadata request on connection",
        )),
    }
    // Metadata has no status: any decodable answer counts as one.
    let status_of = |body: &[u8]| WakuMetadataResponse::decode(body).ok().map(|_| 0);
    out.extend(
        hostile_round(
            ctx,
            Proto::Metadata,
            |_| "META-001",
            status_of,
            || sent.clone(),
        )
        .await
        .into_iter()
        .map(|s| s.outcome),
    );
    out.extend(idle_and_inbound(ctx, sent).await);
    out.extend(enforcement(ctx).await);
    out
}

/// Connects a second peer claiming `cluster` and `shards` (in its answer to
/// the target's request and in a request of its own); whether the target
/// dropped it within [`ENFORCEMENT_WAIT`].
async fn dropped(ctx: &Ctx<'_>, cluster: u32, shards: Vec<u32>) -> Result<bool, String> {
    let options = ctx
        .options
        .clone()
        .with_network(Some(cluster), shards.clone());
    let mut peer = Session::connect(&options)
        .await
        .map_err(|e| e.to_string())?;
    // The target may drop the peer before (or while) answering: either way
    // what counts is whether the connection survives.
    let _ = peer
        .request(Proto::Metadata, request(cluster, &shards))
        .await;
    peer.settle(ENFORCEMENT_WAIT).await;
    Ok(peer.disconnects() > 0)
}

/// Connects a second peer of the run's network that answers the target's
/// metadata request as `answer` says and sends none of its own; whether
/// the target dropped it within [`ENFORCEMENT_WAIT`].
async fn dropped_answering(ctx: &Ctx<'_>, answer: MetadataAnswer) -> Result<bool, String> {
    let options = ctx
        .options
        .clone()
        .with_network(Some(ctx.cluster), vec![ctx.shard]);
    let mut peer = Session::connect_answering(&options, answer)
        .await
        .map_err(|e| e.to_string())?;
    peer.settle(ENFORCEMENT_WAIT).await;
    Ok(peer.disconnects() > 0)
}

/// Connects a second peer that answers the target's request with the
/// run's cluster but sends a request without cluster id; what came back
/// and whether the target dropped it within [`ENFORCEMENT_WAIT`].
async fn asking_without_cluster(ctx: &Ctx<'_>) -> Result<(String, bool), String> {
    let options = ctx
        .options
        .clone()
        .with_network(Some(ctx.cluster), vec![ctx.shard]);
    let mut peer = Session::connect(&options)
        .await
        .map_err(|e| e.to_string())?;
    let bytes = waku_core::codec::encode_frame(&WakuMetadataRequest::default());
    let answer = peer.request(Proto::Metadata, bytes).await;
    let answered = match decode::<WakuMetadataResponse>(&answer) {
        Ok(r) => format!("answered with cluster {:?}", r.cluster_id),
        Err(e) => format!("not answered: {e}"),
    };
    peer.settle(ENFORCEMENT_WAIT).await;
    Ok((answered, peer.disconnects() > 0))
}

/// The NET-003 rows of a peer whose metadata is missing its cluster or
/// missing altogether, each on a connection of its own, side by side.
async fn incomplete_peers(ctx: &Ctx<'_>) -> Vec<Outcome> {
    let verdict = |what: &str, found: Result<bool, String>| match found {
        Ok(dropped) => Outcome::judge(
            "NET-003",
            dropped,
            format!(
                "a peer {what}: {}",
                if dropped { "disconnected" } else { "kept" }
            ),
        ),
        Err(e) => Outcome::not_checkable("NET-003", format!("a peer {what}: {e}")),
    };
    let (without, unanswered, asking) = tokio::join!(
        dropped_answering(ctx, MetadataAnswer::WithoutCluster),
        dropped_answering(ctx, MetadataAnswer::Unanswered),
        asking_without_cluster(ctx),
    );
    vec![
        verdict(
            "answering the target's metadata request without a cluster id",
            without,
        ),
        verdict(
            "closing the target's metadata request unanswered",
            unanswered,
        ),
        match asking {
            Ok((answered, dropped)) => verdict(
                &format!("sending a metadata request without a cluster id ({answered})"),
                Ok(dropped),
            ),
            Err(e) => verdict("sending a metadata request without a cluster id", Err(e)),
        },
    ]
}

/// The cluster-enforcement checks, each on a connection of its own.
pub async fn enforcement(ctx: &mut Ctx<'_>) -> Vec<Outcome> {
    let mut out = Vec::new();
    let other_shard = if ctx.shard == 1023 { 1022 } else { 1023 };
    out.push(match dropped(ctx, ctx.cluster, vec![other_shard]).await {
        Ok(dropped) => Outcome::judge(
            "META-018",
            !dropped,
            format!(
                "a peer of cluster {} listing only shard {other_shard}: {}",
                ctx.cluster,
                if dropped { "disconnected" } else { "kept" }
            ),
        ),
        Err(e) => Outcome::not_checkable("META-018", format!("second peer: {e}")),
    });
    if ctx.cluster == TWN_CLUSTER {
        let other = TWN_CLUSTER + 1;
        out.push(match dropped(ctx, other, vec![ctx.shard]).await {
            Ok(dropped) => Outcome::judge(
                "NET-003",
                dropped,
                format!(
                    "a peer claiming cluster {other}: {}",
                    if dropped { "disconnected" } else { "kept" }
                ),
            ),
            Err(e) => Outcome::not_checkable("NET-003", format!("second peer: {e}")),
        });
        out.extend(incomplete_peers(ctx).await);
    }
    out
}

/// A stream opened and left silent does not keep the target from
/// answering a metadata request on another stream (META-001); on The Waku
/// Network, the target ran the metadata exchange with the runner, an
/// inbound peer (NET-002): it sent its own request on connection.
async fn idle_and_inbound(ctx: &mut Ctx<'_>, sent: Vec<u8>) -> Vec<Outcome> {
    let status_of = |body: &[u8]| WakuMetadataResponse::decode(body).ok().map(|_| 0);
    let mut out =
        vec![super::idle_tolerated(ctx, "META-001", Proto::Metadata, status_of, sent).await];
    if ctx.cluster == TWN_CLUSTER {
        let theirs = ctx.session.target_metadata().map(|m| m.cluster_id);
        out.push(Outcome::judge(
            "NET-002",
            theirs.is_some(),
            match theirs {
                Some(cluster) => format!(
                    "the target sent the runner (an inbound peer) its metadata request, cluster {cluster:?}"
                ),
                None => "the target sent the runner (an inbound peer) no metadata request".into(),
            },
        ));
    }
    out
}
