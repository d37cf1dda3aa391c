//! 66/WAKU2-METADATA: the target answers a metadata request with its
//! cluster and shards, sends its own request on connection, and survives
//! an undecodable request.

use prost::Message;
use waku_metadata::proto::{WakuMetadataRequest, WakuMetadataResponse};

use super::{Ctx, decode, survives};
use crate::report::Outcome;
use crate::session::Proto;

/// Every requirement id this suite can decide.
pub const IDS: &[&str] = &[
    "META-001", "META-003", "META-004", "META-012", "META-015", "META-021",
];

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
            // The same layout as the request: re-encoding what was decoded
            // gives back a message that decodes to the same values.
            let reencoded = WakuMetadataResponse::decode(response.encode_to_vec().as_slice());
            out.push(Outcome::judge(
                "META-003",
                reencoded.as_ref().ok() == Some(&response),
                "response decodes with cluster_id = 1, shards = 2 / 3".to_owned(),
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
                            "relay and service node listing shards {:?}",
                            response.shards
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
    out.push(
        survives(
            ctx,
            "META-001",
            Proto::Metadata,
            "undecodable request frame",
            crate::wire::undecodable_frame(),
            // Metadata has no status: any decodable answer counts as one.
            |body| WakuMetadataResponse::decode(body).ok().map(|_| 0),
            sent,
        )
        .await
        .0,
    );
    out
}
