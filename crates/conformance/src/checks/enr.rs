//! 31/WAKU2-ENR and RELAY-SHARDING's ENR fields, on the target's own
//! record: given with `--enr`, or read from `enrUri` of `GET
//! /debug/v1/info` with `--rest`. The record must verify, name the target's
//! peer id, flag no protocol the target does not serve (identify), carry
//! waku2 when it takes part in discv5, leave waku2's unassigned bits
//! clear, keep its own peer id out of its multiaddrs, and list the shards
//! its metadata answer lists.

use waku_enr::{Capability, WakuEnr};

use super::Ctx;
use crate::report::Outcome;

/// Every requirement id this suite can decide.
pub const IDS: &[&str] = &[
    "ENR-001",
    "ENR-006",
    "ENR-007",
    "ENR-016",
    "ENR-018",
    "ENR-020",
    "SHARD-006",
];

/// The waku2 bits without an assigned meaning (6 and 7).
const UNASSIGNED_BITS: u8 = 0xc0;

/// The target's ENR text: `--enr`, else `--rest`'s `/debug/v1/info`.
pub(crate) async fn record_text(ctx: &Ctx<'_>) -> Result<String, String> {
    if let Some(text) = &ctx.options.enr {
        return Ok(text.clone());
    }
    match &ctx.options.rest {
        Some(base) => crate::rest::enr_uri(base, ctx.wait()).await,
        None => Err("no ENR of the target: give --enr or --rest".into()),
    }
}

/// Whether the target serves what `capability` flags, as identify (and,
/// for relay, its subscription) shows; `None` for flags not judged.
fn served(ctx: &Ctx<'_>, capability: Capability, relays: bool) -> Option<bool> {
    use waku_core::protocol_id as id;
    let any = |ids: &[&str]| ids.iter().any(|p| ctx.session.serves(p));
    match capability {
        Capability::Relay => Some(relays || any(&[id::RELAY])),
        Capability::Store => Some(any(&[id::STORE_QUERY_V3, id::STORE_V2])),
        Capability::Filter => Some(any(&[id::FILTER_SUBSCRIBE_V2])),
        Capability::Lightpush => Some(any(&[id::LIGHTPUSH_V3, id::LIGHTPUSH_V2])),
        Capability::Sync => Some(
            ctx.session
                .info()
                .protocols
                .iter()
                .any(|p| p.starts_with("/vac/waku/reconciliation/")),
        ),
        _ => None,
    }
}

/// Runs the ENR checks.
pub async fn run(ctx: &mut Ctx<'_>) -> Vec<Outcome> {
    let text = match record_text(ctx).await {
        Ok(text) => text,
        Err(e) => {
            return IDS
                .iter()
                .map(|id| Outcome::not_checkable(id, e.clone()))
                .collect();
        }
    };
    let enr = match WakuEnr::decode(&text) {
        Ok(enr) => enr,
        Err(e) => {
            return vec![Outcome::fail(
                "ENR-001",
                format!("the target's ENR does not read: {e}"),
            )];
        }
    };
    let mut out = vec![Outcome::pass(
        "ENR-001",
        format!(
            "the target's ENR decodes and its signature verifies (seq {}, {} bytes)",
            enr.seq(),
            enr.size()
        ),
    )];
    out.push(match ctx.options.peer_id() {
        Ok(target) => Outcome::judge(
            "ENR-006",
            enr.peer_id() == target,
            format!(
                "peer id of the record's key {}, target {target}",
                enr.peer_id()
            ),
        ),
        Err(e) => Outcome::not_checkable("ENR-006", e.to_string()),
    });
    let relays = ctx
        .session
        .target_relays(&ctx.pubsub_topic(), std::time::Duration::ZERO)
        .await;
    out.push(match enr.capabilities() {
        None => Outcome::not_checkable("ENR-016", "the record has no waku2 entry"),
        Some(caps) => {
            let unserved: Vec<&str> = caps
                .iter()
                .filter(|c| served(ctx, *c, relays) == Some(false))
                .map(Capability::name)
                .collect();
            Outcome::judge(
                "ENR-016",
                unserved.is_empty(),
                format!(
                    "waku2 = {:#04x} ({}); flagged but not served: [{}]",
                    caps.byte(),
                    caps.names().collect::<Vec<_>>().join(", "),
                    unserved.join(", ")
                ),
            )
        }
    });
    if enr.udp4().is_some() || enr.udp6().is_some() {
        let caps = enr.capabilities();
        out.push(Outcome::judge(
            "ENR-020",
            caps.is_some_and(|c| !c.is_empty()),
            format!(
                "the record has a udp port (discv5) and waku2 = {:?}",
                caps.map(|c| c.byte())
            ),
        ));
    }
    if let Some(caps) = enr.capabilities() {
        out.push(Outcome::judge(
            "ENR-018",
            caps.byte() & UNASSIGNED_BITS == 0,
            format!(
                "waku2 = {:#04x}: bits 6 and 7 {}",
                caps.byte(),
                if caps.byte() & UNASSIGNED_BITS == 0 {
                    "clear"
                } else {
                    "set"
                }
            ),
        ));
    }
    if !enr.multiaddrs().is_empty() {
        out.push(own_id_in_multiaddrs(&enr));
    }
    out.push(shards(ctx, &enr));
    out
}

/// ENR-007: the record's multiaddrs carry no `/p2p/` of the record's own
/// peer id. (A stored multiaddr with another peer's `/p2p/` reads as a
/// circuit-relay address, ENR-011, so only the own id shows a writer that
/// appended it.)
fn own_id_in_multiaddrs(enr: &WakuEnr) -> Outcome {
    use libp2p::multiaddr::Protocol;
    let own = enr.peer_id();
    let naming: Vec<String> = enr
        .multiaddrs()
        .iter()
        .filter(|a| a.iter().any(|p| p == Protocol::P2p(own)))
        .map(ToString::to_string)
        .collect();
    Outcome::judge(
        "ENR-007",
        naming.is_empty(),
        format!(
            "{} multiaddrs entries; naming the record's own peer id: [{}]",
            enr.multiaddrs().len(),
            naming.join(", ")
        ),
    )
}

/// SHARD-006: the record's rs index list names the cluster and shards the
/// target's metadata answer lists (under 64 shards).
fn shards(ctx: &Ctx<'_>, enr: &WakuEnr) -> Outcome {
    let Some((cluster, listed)) = &ctx.target_network else {
        return Outcome::not_checkable(
            "SHARD-006",
            "the target's metadata answer listed no shards",
        );
    };
    let mut listed = listed.clone();
    listed.sort_unstable();
    listed.dedup();
    if listed.len() >= 64 {
        return Outcome::not_checkable(
            "SHARD-006",
            format!(
                "the target is in {} shards: rsv is not judged",
                listed.len()
            ),
        );
    }
    let (id, field) = ("SHARD-006", "rs");
    let from_field = enr.index_list_shards();
    match from_field {
        None => Outcome::fail(
            id,
            format!(
                "the record has no readable {field} entry; metadata lists cluster {cluster} shards {listed:?}"
            ),
        ),
        Some(shards) => {
            let in_record: Vec<u32> = shards.shards.iter().map(|s| u32::from(*s)).collect();
            Outcome::judge(
                id,
                u32::from(shards.cluster) == *cluster && in_record == listed,
                format!(
                    "{field}: cluster {} shards {in_record:?}; metadata: cluster {cluster} shards {listed:?}",
                    shards.cluster
                ),
            )
        }
    }
}
