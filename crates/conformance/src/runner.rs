//! A whole run: connect, learn what the target serves, settle the network
//! under test, run each suite (or mark it "not offered"), build the report.

use crate::catalog::{Catalog, CatalogError};
use crate::checks::{self, Ctx};
use crate::options::{Options, Suite};
use crate::report::{Outcome, Report, Verdict};
use crate::session::{Proto, Session, SessionError};

/// Why a run produced no report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The embedded catalogs are broken (a defect of this build).
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The target could not be reached or identified.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// `--autoshard` names no usable network (0 shards).
    #[error("--autoshard: {0}")]
    Autoshard(String),
}

/// The shard the run's content topics map to when the network is
/// autosharded over `count` shards (RELAY-SHARDING's autosharding: the
/// application and version of every topic the runner uses are the same, so
/// all of them land on this shard).
fn autoshard_of(ctx: &Ctx<'_>, count: u16) -> Result<u32, String> {
    let topic: waku_core::ContentTopic = ctx
        .content_topic("autoshard")
        .parse()
        .map_err(|e| format!("{e}"))?;
    waku_sharding::autoshard_index(&topic, count)
        .map(u32::from)
        .map_err(|e| e.to_string())
}

/// The request/response protocol a suite needs (none for relay).
fn protocol_of(suite: Suite) -> Option<Proto> {
    match suite {
        Suite::Metadata => Some(Proto::Metadata),
        Suite::Lightpush => Some(Proto::Lightpush),
        Suite::LightpushV2 => Some(Proto::LightpushV2),
        Suite::Store => Some(Proto::Store),
        Suite::Filter => Some(Proto::FilterSubscribe),
        Suite::Relay => None,
        Suite::PeerExchange => Some(Proto::PeerExchange),
        Suite::Enr => None,
        Suite::Discv5 => None,
        Suite::StoreV2 => Some(Proto::StoreV2),
    }
}

/// The requirement ids a suite can decide (its "not offered" rows).
pub(crate) fn ids_of(suite: Suite) -> &'static [&'static str] {
    match suite {
        Suite::Metadata => checks::metadata::IDS,
        Suite::Lightpush => checks::lightpush::IDS,
        Suite::LightpushV2 => checks::lightpush_v2::IDS,
        Suite::Store => checks::store::IDS,
        Suite::Filter => checks::filter::IDS,
        Suite::Relay => checks::relay::IDS,
        Suite::PeerExchange => checks::peer_exchange::IDS,
        Suite::Enr => checks::enr::IDS,
        Suite::Discv5 => checks::discv5::IDS,
        Suite::StoreV2 => checks::store_v2::IDS,
    }
}

/// Runs every selected suite against the target of `options`.
pub async fn run(options: &Options) -> Result<Report, RunError> {
    let catalog = Catalog::embedded()?;
    let mut session = Session::connect(options).await?;
    // The target's own metadata request (sent on connection) tells its
    // cluster when the options do not.
    if options.cluster.is_none() && session.target_metadata().is_none() {
        session.settle(std::time::Duration::from_millis(500)).await;
    }
    let cluster = options
        .cluster
        .or_else(|| session.target_metadata().and_then(|m| m.cluster_id))
        .unwrap_or(0);
    let mut ctx = Ctx {
        session: &mut session,
        cluster,
        shard: options.shards.first().copied().unwrap_or(0),
        run_tag: hex::encode(rand::random::<[u8; 4]>()),
        options: options.clone(),
        target_network: None,
    };
    // The target's metadata answer tells its shards, and its cluster when
    // it sent no request of its own (the guess of cluster 0 may then have
    // been wrong; the connection is redialled if the target dropped it).
    let cluster_known = options.cluster.is_some() || ctx.session.target_metadata().is_some();
    if ctx.serves(Proto::Metadata)
        && let Some((their_cluster, their_shards)) = checks::metadata::query(&mut ctx).await
    {
        if !cluster_known {
            ctx.cluster = their_cluster;
        }
        if !their_shards.is_empty() {
            ctx.target_network = Some((their_cluster, their_shards.clone()));
        }
        if options.shards.is_empty()
            && let Some(first) = their_shards.first()
        {
            ctx.shard = *first;
        }
    }
    if let Some(count) = options.autoshard {
        match autoshard_of(&ctx, count) {
            Ok(shard) => ctx.shard = shard,
            Err(e) => return Err(RunError::Autoshard(e)),
        }
    }
    let shards = if options.shards.is_empty() || options.autoshard.is_some() {
        vec![ctx.shard]
    } else {
        options.shards.clone()
    };
    ctx.session.set_network(ctx.cluster, shards);
    // Join the shard as a relay peer: the target then has a relay peer to
    // publish to (lightpush answers 200, not "no peers"), and the relay
    // suite sees what it relays.
    let pubsub_topic = ctx.pubsub_topic();
    let joined = ctx.session.relay_subscribe(&pubsub_topic);

    let mut outcomes: Vec<Outcome> = Vec::new();
    for suite in Suite::ALL {
        if !options.runs(suite) {
            continue;
        }
        let found = match protocol_of(suite) {
            Some(proto) if !ctx.serves(proto) => checks::not_offered(ids_of(suite), proto.id()),
            _ => match suite {
                Suite::Metadata => checks::metadata::run(&mut ctx).await,
                Suite::Lightpush => checks::lightpush::run(&mut ctx).await,
                Suite::LightpushV2 => checks::lightpush_v2::run(&mut ctx).await,
                Suite::Store => checks::store::run(&mut ctx).await,
                Suite::Filter => checks::filter::run(&mut ctx).await,
                Suite::PeerExchange => checks::peer_exchange::run(&mut ctx).await,
                Suite::Enr => checks::enr::run(&mut ctx).await,
                Suite::Discv5 => checks::discv5::run(&mut ctx).await,
                Suite::StoreV2 => checks::store_v2::run(&mut ctx).await,
                Suite::Relay => {
                    let listed = ctx.session.serves(waku_core::protocol_id::RELAY);
                    let announced = joined.is_ok()
                        && ctx
                            .session
                            .target_relays(&pubsub_topic, checks::relay::SUBSCRIPTION_WAIT)
                            .await;
                    if listed || announced {
                        checks::relay::run(&mut ctx, announced).await
                    } else {
                        checks::not_offered(ids_of(suite), waku_core::protocol_id::RELAY)
                    }
                }
            },
        };
        outcomes.extend(found);
    }
    // A request still rate limited says nothing about the requirement.
    for outcome in &mut outcomes {
        if outcome.verdict == Verdict::Fail && outcome.evidence.contains(checks::RATE_LIMITED) {
            outcome.verdict = Verdict::NotCheckable;
        }
    }
    let info = session.info();
    Ok(Report::new(
        &catalog,
        options.target.to_string(),
        info.protocols,
        info.agent_version,
        outcomes,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_a_suite_cites_is_in_an_embedded_catalog() {
        let catalog = Catalog::embedded().unwrap_or_default();
        for suite in Suite::ALL {
            for id in ids_of(suite) {
                assert!(catalog.get(id).is_some(), "{suite}: {id}");
            }
        }
    }
}
