//! 34/WAKU2-PEER-EXCHANGE, `/vac/waku/peer-exchange/2.0.0-alpha1`: the
//! answer's framing and layout, its status codes (nwaku's, recorded in the
//! catalog as PX-014), that `num_peers` bounds what comes back, that every
//! record handed out is a signed Waku ENR with an address to dial, and
//! hostile queries.
//!
//! A responder without status codes (go-waku v0.10.3 writes none, limits a
//! peer to one query a second and resets the streams over that rate) has
//! its queries spaced from its first answer on.

use prost::Message;
use waku_discovery::peer_exchange::proto::{
    PeerExchangeQuery, PeerExchangeResponse, PeerExchangeRpc,
};
use waku_enr::WakuEnr;

use super::{
    Ctx, TOO_MANY_REQUESTS, decode, describe, hostile_round, rate_limit, request_paced, stream_end,
};
use crate::report::Outcome;
use crate::session::Proto;
use crate::wire::{Answer, StreamEnd};

/// Every requirement id this suite can decide.
pub const IDS: &[&str] = &[
    "PX-001", "PX-013", "PX-002", "PX-003", "PX-010", "PX-014", "PX-015",
];

/// How many peers the first query asks for.
const FIRST_ASK: u64 = 5;

/// A query frame for `num_peers` records.
fn query(num_peers: u64) -> Vec<u8> {
    waku_core::codec::encode_frame(&PeerExchangeRpc {
        query: Some(PeerExchangeQuery { num_peers }),
        response: None,
    })
}

/// An answer's status: its `status_code`, `Some(0)` for a response
/// without one (the RFC's layout), `None` when the frame is no RPC with a
/// response.
fn status_of(body: &[u8]) -> Option<u32> {
    PeerExchangeRpc::decode(body)
        .ok()
        .and_then(|rpc| rpc.response)
        .map(|r| r.status_code.unwrap_or(0))
}

/// Asks for `num_peers` records; the response, or what came instead.
async fn ask(
    ctx: &mut Ctx<'_>,
    num_peers: u64,
) -> (Result<Answer, String>, Result<PeerExchangeResponse, String>) {
    let answer = request_paced(ctx, Proto::PeerExchange, query(num_peers), status_of).await;
    let response = decode::<PeerExchangeRpc>(&answer).and_then(|rpc| {
        rpc.response
            .ok_or_else(|| "the answer RPC has no response field".to_owned())
    });
    (answer, response)
}

/// Runs the peer-exchange checks.
pub async fn run(ctx: &mut Ctx<'_>) -> Vec<Outcome> {
    let mut out = Vec::new();
    let (answer, response) = ask(ctx, FIRST_ASK).await;
    let first = match decode::<PeerExchangeRpc>(&answer) {
        Err(e) => {
            out.push(Outcome::fail(
                "PX-001",
                format!("query for {FIRST_ASK} peers: {e}"),
            ));
            return out;
        }
        Ok(rpc) => rpc,
    };
    out.push(match stream_end(&answer) {
        Some(StreamEnd::Closed) => Outcome::pass(
            "PX-001",
            format!(
                "query for {FIRST_ASK} peers answered with one frame on {}, then the write side was closed",
                Proto::PeerExchange.id()
            ),
        ),
        Some(end) => Outcome::fail("PX-001", format!("after the answer: {end:?}")),
        None => Outcome::fail("PX-001", describe(&answer)),
    });
    out.push(Outcome::judge(
        "PX-002",
        first.response.is_some() && first.query.is_none(),
        format!(
            "answer RPC: response set {}, query set {}",
            first.response.is_some(),
            first.query.is_some()
        ),
    ));
    let Ok(response) = response else {
        return out;
    };
    let status = response.status_code;
    out.push(Outcome::judge(
        "PX-014",
        status == Some(200),
        format!(
            "query for {FIRST_ASK} peers: status_code {status:?} (expected 200), {} peers",
            response.peer_infos.len()
        ),
    ));
    if status.is_none() {
        // A responder of the RFC's bare layout: go-waku's, which resets
        // the streams of a peer asking more than once a second.
        ctx.session.pace(Proto::PeerExchange);
    }
    let handed_out = response.peer_infos.len();
    out.push(records(&response));
    out.extend(bounded(ctx, handed_out).await);
    out.push(without_query(ctx).await);
    out.extend(hostile(ctx).await);
    out.push(rate_limit::judge(ctx, "PX-013", Proto::PeerExchange, || query(1), status_of).await);
    out
}

/// PX-003: every record handed out decodes, its signature verifies, and
/// it names an address to dial.
fn records(response: &PeerExchangeResponse) -> Outcome {
    if response.peer_infos.is_empty() {
        return Outcome::not_checkable(
            "PX-003",
            "the target handed out no records (its cache is empty)",
        );
    }
    for (i, info) in response.peer_infos.iter().enumerate() {
        match WakuEnr::from_rlp_bytes(&info.enr) {
            Err(e) => {
                return Outcome::fail(
                    "PX-003",
                    format!("record {i} ({} bytes) does not read: {e}", info.enr.len()),
                );
            }
            Ok(enr) if enr.dial_addresses().is_empty() => {
                return Outcome::fail(
                    "PX-003",
                    format!("record {i} ({}) names no address to dial", enr.peer_id()),
                );
            }
            Ok(_) => {}
        }
    }
    Outcome::pass(
        "PX-003",
        format!(
            "{} records: each decodes, its signature verifies, it names an address",
            response.peer_infos.len()
        ),
    )
}

/// PX-010: no more than `num_peers` records come back. Decided only when
/// the target has more than one record to hand out (with fewer, a cap
/// cannot show).
async fn bounded(ctx: &mut Ctx<'_>, handed_out: usize) -> Vec<Outcome> {
    let mut out = Vec::new();
    if handed_out as u64 > FIRST_ASK {
        out.push(Outcome::fail(
            "PX-010",
            format!("query for {FIRST_ASK} peers: {handed_out} came back"),
        ));
        return out;
    }
    if handed_out < 2 {
        out.push(Outcome::not_checkable(
            "PX-010",
            format!(
                "the target handed out {handed_out} records for {FIRST_ASK}: too few to show a cap"
            ),
        ));
        return out;
    }
    for wanted in [1u64, 0] {
        let (_, response) = ask(ctx, wanted).await;
        out.push(match response {
            Ok(r) => Outcome::judge(
                "PX-010",
                r.peer_infos.len() as u64 <= wanted,
                format!(
                    "query for {wanted} peers (of {handed_out} available): {} came back",
                    r.peer_infos.len()
                ),
            ),
            Err(e) => Outcome::fail("PX-010", format!("query for {wanted} peers: {e}")),
        });
    }
    out
}

/// PX-014: an RPC without a query is answered 400.
async fn without_query(ctx: &mut Ctx<'_>) -> Outcome {
    let bytes = waku_core::codec::encode_frame(&PeerExchangeRpc::default());
    let answer = request_paced(ctx, Proto::PeerExchange, bytes, status_of).await;
    let what = "an RPC without a query";
    match &answer {
        Ok(Answer::Frame { body, .. }) => {
            let status = status_of(body);
            Outcome::judge(
                "PX-014",
                status == Some(400),
                format!("{what}: status {status:?} (expected 400)"),
            )
        }
        other => Outcome::fail(
            "PX-014",
            format!("{what}: {} (expected status 400)", describe(other)),
        ),
    }
}

/// PX-015 (and PX-014 for the status of an answered one): undecodable,
/// oversize and cut-short queries get 400 or a closed stream, and the
/// next query is answered.
async fn hostile(ctx: &mut Ctx<'_>) -> Vec<Outcome> {
    let mut out = Vec::new();
    for survival in hostile_round(
        ctx,
        Proto::PeerExchange,
        |_| "PX-015",
        status_of,
        || query(1),
    )
    .await
    {
        let refused = survival.status;
        out.push(survival.outcome);
        if let Some(code) = refused
            && code != 400
            && code != TOO_MANY_REQUESTS
        {
            out.push(Outcome::fail(
                "PX-014",
                format!(
                    "{}: answered {code} (expected 400)",
                    survival.input.describe()
                ),
            ));
        }
    }
    out
}

/// PX-010's cap: a query for 2^64 - 1 peers gets a successful answer of
/// what the target has (at most its configured maximum), and the target
/// answers the next query. The runner sends it after every other suite has
/// finished: it crashes go-waku v0.10.3.
pub async fn huge_ask(ctx: &mut Ctx<'_>) -> Outcome {
    let what = format!("query for {} peers", u64::MAX);
    let (_, response) = ask(ctx, u64::MAX).await;
    let took = match response {
        Ok(r) if matches!(r.status_code, None | Some(200)) => r.peer_infos.len(),
        Ok(r) => {
            return Outcome::fail(
                "PX-010",
                format!("{what}: status {:?} (expected 200, capped)", r.status_code),
            );
        }
        Err(e) => return Outcome::fail("PX-010", format!("{what}: {e}")),
    };
    let (_, next) = ask(ctx, 1).await;
    Outcome::judge(
        "PX-010",
        next.is_ok(),
        format!(
            "{what}: {took} peers came back; the next query: {}",
            match &next {
                Ok(_) => "answered".to_owned(),
                Err(e) => e.clone(),
            }
        ),
    )
}
