//! The checks, one module per protocol. Each suite is an async function
//! that talks to the target through a [`Ctx`] and returns one
//! [`Outcome`] per requirement case it decided, with one line of evidence.

use std::time::Duration;

use prost::Message;
use waku_core::proto::message::v1::WakuMessage;

use crate::report::Outcome;
use crate::session::{Proto, Session};
use crate::wire::{Answer, Hostile, StreamEnd};

pub mod discv5;
pub mod enr;
pub mod filter;
pub mod lightpush;
pub mod lightpush_v2;
pub mod metadata;
pub mod peer_exchange;
pub mod rate_limit;
pub mod relay;
pub mod rest_publish;
pub mod store;
pub mod store_v2;

/// What every check works with: the session and the network under test.
pub struct Ctx<'a> {
    /// The connection to the target.
    pub session: &'a mut Session,
    /// The cluster the runner claims.
    pub cluster: u32,
    /// The shard the checks publish and query on.
    pub shard: u32,
    /// A random tag making this run's content topics unique.
    pub run_tag: String,
    /// The run's options (for checks that open a connection of their own).
    pub options: crate::options::Options,
    /// The cluster and shards the target's metadata answer listed.
    pub target_network: Option<(u32, Vec<u32>)>,
}

impl Ctx<'_> {
    /// The pubsub topic of the shard under test.
    pub fn pubsub_topic(&self) -> String {
        format!("/waku/2/rs/{}/{}", self.cluster, self.shard)
    }

    /// A content topic no other run uses.
    pub fn content_topic(&self, name: &str) -> String {
        format!("/waku-conformance/1/{name}-{}/proto", self.run_tag)
    }

    /// How long to wait for something that should arrive.
    pub fn wait(&self) -> Duration {
        self.session.timeout()
    }

    /// Whether the target serves `proto` (identify).
    pub fn serves(&self, proto: Proto) -> bool {
        self.session.serves(proto.id())
    }
}

/// A message on `content_topic` stamped now (plus `offset_ns`).
pub fn message(content_topic: &str, payload: &[u8], offset_ns: i64) -> WakuMessage {
    WakuMessage {
        payload: payload.to_vec().into(),
        content_topic: content_topic.to_owned(),
        timestamp: Some(waku_core::now_nanos().saturating_add(offset_ns)),
        ..WakuMessage::default()
    }
}

/// The deterministic hash of `message` on `pubsub_topic`.
pub fn hash_of(pubsub_topic: &str, message: &WakuMessage) -> Option<[u8; 32]> {
    let domain = waku_core::WakuMessage::try_from(message.clone()).ok()?;
    Some(*waku_core::message_hash(pubsub_topic, &domain).as_bytes())
}

/// The first message the target relays to the runner whose deterministic
/// hash is `wanted`, within the run's wait (others relayed meanwhile are
/// passed over); `None` without a hash to look for.
pub async fn relayed(
    ctx: &mut Ctx<'_>,
    wanted: Option<[u8; 32]>,
) -> Option<libp2p::gossipsub::Message> {
    let wanted = wanted?;
    let deadline = tokio::time::Instant::now() + ctx.wait();
    while let Some(m) = ctx
        .session
        .next_relayed(deadline.saturating_duration_since(tokio::time::Instant::now()))
        .await
    {
        let hash = WakuMessage::decode(m.data.as_slice())
            .ok()
            .and_then(|d| hash_of(m.topic.as_str(), &d));
        if hash == Some(wanted) {
            return Some(m);
        }
    }
    None
}

/// An answer decoded as `M`, or a line saying what came back instead.
pub fn decode<M: Message + Default>(answer: &Result<Answer, String>) -> Result<M, String> {
    match answer {
        Ok(Answer::Frame { body, .. }) => {
            M::decode(body.as_slice()).map_err(|e| format!("answer does not decode: {e}"))
        }
        Ok(Answer::Closed) => Err("stream closed without an answer".into()),
        Ok(Answer::Malformed(e)) => Err(format!("malformed answer: {e}")),
        Err(e) => Err(e.clone()),
    }
}

/// Whether the target can be asked to publish (it serves lightpush v3 or
/// the legacy v2).
pub fn can_publish(ctx: &Ctx<'_>) -> bool {
    ctx.serves(Proto::Lightpush) || ctx.serves(Proto::LightpushV2)
}

/// Asks the target to publish `message` on the shard under test through
/// lightpush (v3, else the legacy v2); whether it took the message (for
/// v3: 2xx, or 505 "no relay peers", when it still keeps the message).
pub async fn publish_via_target(ctx: &mut Ctx<'_>, message: WakuMessage) -> Result<bool, String> {
    if ctx.serves(Proto::Lightpush) {
        lightpush::push(ctx, message)
            .await
            .map(|r| lightpush::accepted(&r))
    } else if ctx.serves(Proto::LightpushV2) {
        lightpush_v2::push(ctx, message).await
    } else {
        Err("the target serves no lightpush (v3 or v2)".into())
    }
}

/// The status every suite's `status_of` gives a rate-limited answer.
pub const TOO_MANY_REQUESTS: u32 = 429;

/// How the evidence of a request still rate limited after the run's wait
/// starts; the runner turns such failures into "not checkable".
pub const RATE_LIMITED: &str = "rate limited";

/// How long to wait before repeating a rate-limited request.
const RATE_LIMIT_PAUSE: Duration = crate::session::RATE_LIMIT_INTERVAL;

/// Sends `bytes` on `proto` like [`Session::request`], but when the target
/// answers [`TOO_MANY_REQUESTS`] (as `status_of` reads the answer), waits
/// and sends the same bytes again, for up to the run's wait: the checks
/// judge what a target does with a request, not its rate limit. From the
/// first 429 on, the session spaces requests on `proto` (see
/// [`Session::pace`]), so a target limiting a peer to a request a second is
/// not sent one it must refuse. Still limited when the wait is over: an
/// error starting with [`RATE_LIMITED`].
pub async fn request_paced(
    ctx: &mut Ctx<'_>,
    proto: Proto,
    bytes: Vec<u8>,
    status_of: fn(&[u8]) -> Option<u32>,
) -> Result<Answer, String> {
    let deadline = tokio::time::Instant::now() + ctx.wait();
    loop {
        let answer = ctx.session.request(proto, bytes.clone()).await;
        let limited = matches!(&answer, Ok(Answer::Frame { body, .. })
            if status_of(body) == Some(TOO_MANY_REQUESTS));
        if !limited {
            return answer;
        }
        if tokio::time::Instant::now() + RATE_LIMIT_PAUSE > deadline {
            return Err(format!(
                "{RATE_LIMITED}: the target still answered {TOO_MANY_REQUESTS} after {:?}",
                ctx.wait()
            ));
        }
        // The repeat waits (in `request`) until the pause has passed since
        // this attempt was sent, not since its stream ended.
        ctx.session.pace(proto);
    }
}

/// What came back, in a few words.
pub fn describe(answer: &Result<Answer, String>) -> String {
    match answer {
        Ok(Answer::Frame { body, .. }) => format!("a {}-byte frame", body.len()),
        Ok(Answer::Closed) => "stream closed without an answer".into(),
        Ok(Answer::Malformed(e)) => format!("malformed answer: {e}"),
        Err(e) => e.clone(),
    }
}

/// How the stream of `answer` ended after its frame, as evidence.
pub fn stream_end(answer: &Result<Answer, String>) -> Option<StreamEnd> {
    match answer {
        Ok(Answer::Frame { end, .. }) => Some(*end),
        _ => None,
    }
}

/// What one hostile input of [`hostile_round`] came to.
#[derive(Debug, Clone)]
pub struct Survival {
    /// The input sent.
    pub input: Hostile,
    /// Whether the target answered it with an error status or a closed
    /// stream, and answered the next valid request.
    pub outcome: Outcome,
    /// The status the hostile request was answered with, if any.
    pub status: Option<u32>,
}

impl Survival {
    /// Whether the target was still rate limiting the protocol, so the
    /// input says nothing.
    pub fn rate_limited(&self) -> bool {
        self.outcome.evidence.contains(RATE_LIMITED)
    }
}

/// "The target survives hostile input", for each of [`Hostile::ALL`] on
/// `proto`: the target answers an error status, or closes or resets the
/// stream, and then still answers a valid request (`next()`). Each input's
/// outcome is judged under `id_of(input)`. `status_of` extracts the status
/// from an answer frame (`Some(0)` for a decodable answer of a protocol
/// without status codes).
pub async fn hostile_round(
    ctx: &mut Ctx<'_>,
    proto: Proto,
    id_of: fn(Hostile) -> &'static str,
    status_of: fn(&[u8]) -> Option<u32>,
    next: impl Fn() -> Vec<u8>,
) -> Vec<Survival> {
    let mut out = Vec::new();
    for input in Hostile::ALL {
        let (outcome, status) = survives(ctx, id_of(input), proto, input, status_of, next()).await;
        out.push(Survival {
            input,
            outcome,
            status,
        });
    }
    out
}

/// One input of [`hostile_round`]: its outcome and the status it got.
async fn survives(
    ctx: &mut Ctx<'_>,
    id: &'static str,
    proto: Proto,
    input: Hostile,
    status_of: fn(&[u8]) -> Option<u32>,
    next: Vec<u8>,
) -> (Outcome, Option<u32>) {
    let what = input.describe();
    let answer = request_paced(ctx, proto, input.bytes(), status_of).await;
    let mut status = None;
    let first = match &answer {
        Ok(Answer::Frame { body, .. }) => match status_of(body) {
            Some(code) if (200..300).contains(&code) => {
                let fail = Outcome::fail(id, format!("{what}: answered success {code}"));
                return (fail, Some(code));
            }
            Some(0) => "answered (no status field)".into(),
            Some(code) => {
                status = Some(code);
                format!("answered {code}")
            }
            None => "answered an undecodable frame".into(),
        },
        Ok(Answer::Closed) => "closed the stream".into(),
        Ok(Answer::Malformed(e)) => format!("wrote a malformed frame ({e})"),
        Err(e) if e.starts_with(crate::session::NO_ANSWER) => {
            let fail = Outcome::fail(id, format!("{what}: stream left hanging ({e})"));
            return (fail, None);
        }
        Err(e) => e.clone(),
    };
    let after = request_paced(ctx, proto, next, status_of).await;
    let outcome = match &after {
        Ok(Answer::Frame { body, .. }) if status_of(body).is_some() => Outcome::pass(
            id,
            format!("{what}: {first}; the next valid request was answered"),
        ),
        other => Outcome::fail(
            id,
            format!(
                "{what}: {first}; the next valid request got no answer ({})",
                describe(other)
            ),
        ),
    };
    (outcome, status)
}

/// Outcomes "not offered" for every id of a suite whose protocol the
/// target does not serve.
pub fn not_offered(ids: &[&'static str], protocol: &str) -> Vec<Outcome> {
    ids.iter()
        .map(|id| {
            Outcome::new(
                id,
                crate::report::Verdict::NotOffered,
                format!("identify does not list {protocol}"),
            )
        })
        .collect()
}

/// How long an idle stream is given to reach the target before the next
/// request is sent.
const IDLE_SETTLE: Duration = Duration::from_millis(200);

/// "Streams opened but never used are tolerated", judged under `id`: a
/// stream on `proto` is opened and left silent, and while it stays open the
/// valid request `next` on another stream is answered (a frame `status_of`
/// reads) and the connection stays up. The idle stream is dropped right
/// after, so the run does not wait for the target's request timeout.
pub async fn idle_tolerated(
    ctx: &mut Ctx<'_>,
    id: &'static str,
    proto: Proto,
    status_of: fn(&[u8]) -> Option<u32>,
    next: Vec<u8>,
) -> Outcome {
    let what = "a stream opened and left silent";
    let disconnects = ctx.session.disconnects();
    let idle = match ctx.session.open_idle(proto).await {
        Ok(idle) => idle,
        Err(e) => return Outcome::not_checkable(id, format!("{what}: {e}")),
    };
    ctx.session.settle(IDLE_SETTLE).await;
    let answer = request_paced(ctx, proto, next, status_of).await;
    let dropped = ctx.session.disconnects() > disconnects;
    drop(idle);
    match &answer {
        Ok(Answer::Frame { body, .. }) if !dropped => match status_of(body) {
            Some(code) => {
                let status = if code == 0 {
                    String::new()
                } else {
                    format!(" {code}")
                };
                Outcome::pass(
                    id,
                    format!(
                        "{what}: the next valid request, on another stream, was answered{status} meanwhile"
                    ),
                )
            }
            None => Outcome::fail(
                id,
                format!("{what}: the next valid request got an undecodable answer"),
            ),
        },
        _ if dropped => Outcome::fail(id, format!("{what}: the target closed the connection")),
        other => Outcome::fail(
            id,
            format!(
                "{what}: the next valid request, on another stream, got no answer ({})",
                describe(other)
            ),
        ),
    }
}
