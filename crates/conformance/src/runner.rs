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

/// Parts of suites that run on a connection of their own, alongside the
/// others: deployed nodes commonly allow a peer one request a second on
/// these protocols (go-waku's filter and peer exchange), so one after the
/// other they would dominate a run's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SidePart {
    /// The filter suite's subscriptions and pushes.
    Filter,
    /// The filter suite's refusals ([`checks::filter::refusals`]).
    FilterRefusals,
    /// The filter suite's criteria cap ([`checks::filter::criteria_cap`]).
    FilterCriteriaCap,
    /// The peer-exchange suite.
    PeerExchange,
}

impl SidePart {
    /// Every part, in report order.
    const ALL: [SidePart; 4] = [
        SidePart::Filter,
        SidePart::FilterRefusals,
        SidePart::FilterCriteriaCap,
        SidePart::PeerExchange,
    ];

    /// The suite the part belongs to.
    fn suite(self) -> Suite {
        match self {
            SidePart::Filter | SidePart::FilterRefusals | SidePart::FilterCriteriaCap => {
                Suite::Filter
            }
            SidePart::PeerExchange => Suite::PeerExchange,
        }
    }

    /// Runs the part (the suite's "not offered" rows come with
    /// [`SidePart::Filter`]).
    async fn run(self, ctx: &mut Ctx<'_>) -> Vec<Outcome> {
        match self {
            SidePart::FilterRefusals | SidePart::FilterCriteriaCap
                if !ctx.serves(Proto::FilterSubscribe) =>
            {
                Vec::new()
            }
            SidePart::FilterCriteriaCap => vec![checks::filter::criteria_cap(ctx).await],
            SidePart::FilterRefusals => checks::filter::refusals(ctx).await,
            SidePart::Filter | SidePart::PeerExchange => run_suite(ctx, self.suite(), false).await,
        }
    }
}

/// Whether `suite` runs as [`SidePart`]s.
fn on_the_side(suite: Suite) -> bool {
    SidePart::ALL.iter().any(|p| p.suite() == suite)
}

/// The rows of a side suite whose connection could not be made.
fn unreachable_on_the_side(suite: Suite, e: &SessionError) -> Vec<Outcome> {
    ids_of(suite)
        .iter()
        .map(|id| Outcome::not_checkable(id, format!("the suite's own connection failed: {e}")))
        .collect()
}

/// Runs one suite (or marks it "not offered"); `joined` says whether the
/// session joined the shard as a relay peer.
async fn run_suite(ctx: &mut Ctx<'_>, suite: Suite, joined: bool) -> Vec<Outcome> {
    match protocol_of(suite) {
        Some(proto) if !ctx.serves(proto) => checks::not_offered(ids_of(suite), proto.id()),
        _ => match suite {
            Suite::Metadata => checks::metadata::run(ctx).await,
            Suite::Lightpush => checks::lightpush::run(ctx).await,
            Suite::LightpushV2 => checks::lightpush_v2::run(ctx).await,
            Suite::Store => checks::store::run(ctx).await,
            Suite::Filter => checks::filter::run(ctx).await,
            Suite::PeerExchange => checks::peer_exchange::run(ctx).await,
            Suite::Enr => checks::enr::run(ctx).await,
            Suite::Discv5 => checks::discv5::run(ctx).await,
            Suite::StoreV2 => checks::store_v2::run(ctx).await,
            Suite::Relay => {
                let pubsub_topic = ctx.pubsub_topic();
                let listed = ctx.session.serves(waku_core::protocol_id::RELAY);
                let announced = joined
                    && ctx
                        .session
                        .target_relays(&pubsub_topic, checks::relay::SUBSCRIPTION_WAIT)
                        .await;
                if listed || announced {
                    checks::relay::run(ctx, announced).await
                } else {
                    checks::not_offered(ids_of(suite), waku_core::protocol_id::RELAY)
                }
            }
        },
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
    ctx.session.set_network(ctx.cluster, shards.clone());
    // Join the shard as a relay peer: the target then has a relay peer to
    // publish to (lightpush answers 200, not "no peers"), and the relay
    // suite sees what it relays.
    // Before the runner is a relay peer of the target: a push it has no
    // peer to relay to (LIGHTPUSH-014).
    let no_relay_peers = if options.runs(Suite::Lightpush) && ctx.serves(Proto::Lightpush) {
        Some(checks::lightpush::without_relay_peers(&mut ctx).await)
    } else {
        None
    };
    let pubsub_topic = ctx.pubsub_topic();
    let joined = ctx.session.relay_subscribe(&pubsub_topic).is_ok();

    let selected: Vec<Suite> = Suite::ALL
        .into_iter()
        .filter(|s| options.runs(*s))
        .collect();
    let side_options = options
        .clone()
        .with_network(Some(ctx.cluster), shards.clone());
    let template = (
        ctx.cluster,
        ctx.shard,
        ctx.run_tag.clone(),
        ctx.target_network.clone(),
    );
    // A protocol the target does not serve gets its "not offered" rows
    // without a connection (a target may limit connections per address).
    let parts: Vec<(SidePart, bool)> = SidePart::ALL
        .into_iter()
        .filter(|p| selected.contains(&p.suite()))
        .map(|p| {
            (
                p,
                protocol_of(p.suite()).is_none_or(|proto| ctx.serves(proto)),
            )
        })
        .collect();
    let side = futures::future::join_all(parts.into_iter().map(|(part, served)| {
        let (cluster, shard, run_tag, target_network) = template.clone();
        let side_options = side_options.clone();
        let options = options.clone();
        let shards = shards.clone();
        async move {
            if !served {
                let rows = match (part, protocol_of(part.suite())) {
                    (SidePart::Filter | SidePart::PeerExchange, Some(proto)) => {
                        checks::not_offered(ids_of(part.suite()), proto.id())
                    }
                    _ => Vec::new(),
                };
                return (part.suite(), rows);
            }
            let mut session = match Session::connect(&side_options).await {
                Ok(session) => session,
                Err(e) if part == SidePart::Filter || part == SidePart::PeerExchange => {
                    return (part.suite(), unreachable_on_the_side(part.suite(), &e));
                }
                Err(_) => return (part.suite(), Vec::new()),
            };
            session.set_network(cluster, shards);
            let mut ctx = Ctx {
                session: &mut session,
                cluster,
                shard,
                run_tag,
                options,
                target_network,
            };
            (part.suite(), part.run(&mut ctx).await)
        }
    }));
    let main = async {
        let mut found = Vec::new();
        for suite in selected.iter().copied().filter(|s| !on_the_side(*s)) {
            found.push((suite, run_suite(&mut ctx, suite, joined).await));
        }
        found
    };
    let (main, side) = tokio::join!(main, side);
    let mut by_suite: Vec<(Suite, Vec<Outcome>)> = main.into_iter().chain(side).collect();
    if let Some(outcome) = no_relay_peers
        && let Some((_, lightpush)) = by_suite
            .iter_mut()
            .find(|(suite, _)| *suite == Suite::Lightpush)
    {
        lightpush.push(outcome);
    }
    // Last, as it may take the target down.
    if ctx.serves(Proto::PeerExchange)
        && let Some((_, px)) = by_suite
            .iter_mut()
            .find(|(suite, _)| *suite == Suite::PeerExchange)
    {
        px.push(checks::peer_exchange::huge_ask(&mut ctx).await);
    }
    by_suite.sort_by_key(|(suite, _)| Suite::ALL.iter().position(|s| s == suite));
    let mut outcomes: Vec<Outcome> = by_suite.into_iter().flat_map(|(_, o)| o).collect();
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
