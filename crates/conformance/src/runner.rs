//! A whole run: connect, learn what the target serves, settle the network
//! under test, run each suite (or mark it "not offered"), build the report.

use crate::catalog::{Catalog, CatalogError};
use crate::checks::{self, Ctx};
use crate::options::{Options, Suite};
use crate::report::{Outcome, Report};
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
}

fn protocol_of(suite: Suite) -> Proto {
    match suite {
        Suite::Metadata => Proto::Metadata,
        Suite::Lightpush => Proto::Lightpush,
        Suite::Store => Proto::Store,
        Suite::Filter => Proto::FilterSubscribe,
    }
}

fn ids_of(suite: Suite) -> &'static [&'static str] {
    match suite {
        Suite::Metadata => checks::metadata::IDS,
        Suite::Lightpush => checks::lightpush::IDS,
        Suite::Store => checks::store::IDS,
        Suite::Filter => checks::filter::IDS,
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
    };
    if options.shards.is_empty()
        && ctx.serves(Proto::Metadata)
        && let Some((_, shards)) = checks::metadata::query(&mut ctx).await
        && let Some(first) = shards.first()
    {
        ctx.shard = *first;
    }
    let shards = if options.shards.is_empty() {
        vec![ctx.shard]
    } else {
        options.shards.clone()
    };
    ctx.session.set_network(cluster, shards);

    let mut outcomes: Vec<Outcome> = Vec::new();
    for suite in Suite::ALL {
        if !options.runs(suite) {
            continue;
        }
        let proto = protocol_of(suite);
        if !ctx.serves(proto) {
            outcomes.extend(checks::not_offered(ids_of(suite), proto.id()));
            continue;
        }
        let found = match suite {
            Suite::Metadata => checks::metadata::run(&mut ctx).await,
            Suite::Lightpush => checks::lightpush::run(&mut ctx).await,
            Suite::Store => checks::store::run(&mut ctx).await,
            Suite::Filter => checks::filter::run(&mut ctx).await,
        };
        outcomes.extend(found);
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
