//! 33/WAKU2-DISCV5 over UDP, at the endpoint (ip + udp) of the target's
//! own record (`--enr`, or `enrUri` of `--rest`'s `GET /debug/v1/info`).
//! A record without one: the rows are "not offered" (the node takes no
//! part in discv5).
//!
//! The runner starts discv5 instances of its own (the `discv5` crate, on an
//! ephemeral port, with a throwaway key and a record without an endpoint)
//! and checks that the target:
//! - answers packets carrying Waku's protocol id `d5waku` (version 1): a
//!   PING gets a PONG, FINDNODE at distance 0 returns its own record (the
//!   same node, a `seq` at least the given one) and FINDNODE at a few log
//!   distances returns records that verify, at those distances (DISC-001);
//! - leaves the packets of Ethereum's id `discv5` unanswered: the first
//!   packet a `discv5` instance sends (caught on a local socket, so that
//!   any datagram coming back is seen, whatever protocol id it carries) is
//!   sent to the target, which must stay silent for [`WRONG_ID_WAIT`],
//!   while the same packet made with `d5waku` is answered (DISC-001);
//! - announces an endpoint that answers the runner (DISC-005). When
//!   nothing answers there at all, DISC-001 is not checkable (no discv5
//!   packet to judge) and DISC-005 fails;
//! - serves over discv5 a record that verifies (ENR-001) and carries waku2
//!   with a flag set (ENR-020): rows only when the record came back.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use discv5::{ConfigBuilder, Discv5, Enr, ListenConfig, NodeContact, ProtocolIdentity};
use enr::CombinedKey;
use tokio::net::UdpSocket;
use waku_enr::WakuEnr;

use super::Ctx;
use crate::report::{Outcome, Verdict};

/// Every requirement id this suite can decide.
pub const IDS: &[&str] = &["DISC-001", "DISC-005", "ENR-001", "ENR-020"];

/// How long a packet with another protocol id is given to be answered.
pub const WRONG_ID_WAIT: Duration = Duration::from_secs(1);

/// The log distances asked for after distance 0 (the farthest buckets,
/// where most nodes of a table are).
const LOG_DISTANCES: [u64; 3] = [256, 255, 254];

/// The largest datagram discv5 sends.
const MAX_PACKET: usize = 1280;

/// Waku's protocol identity: `d5waku`, version 1.
fn waku_identity() -> ProtocolIdentity {
    ProtocolIdentity {
        protocol_id: *b"d5waku",
        protocol_version: 1u16.to_be_bytes(),
    }
}

/// Ethereum's protocol identity (the `discv5` crate's default): `discv5`,
/// version 1.
fn ethereum_identity() -> ProtocolIdentity {
    ProtocolIdentity {
        protocol_id: *b"discv5",
        protocol_version: 1u16.to_be_bytes(),
    }
}

/// The protocol id as text, for the evidence.
fn id_name(identity: &ProtocolIdentity) -> String {
    String::from_utf8_lossy(&identity.protocol_id).into_owned()
}

/// The address the runner's sockets bind to: loopback for a target on
/// loopback, else every interface of the target's family; port 0.
fn local_addr(target: SocketAddr) -> SocketAddr {
    let ip = match target.ip() {
        IpAddr::V4(ip) if ip.is_loopback() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(ip) if ip.is_loopback() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    SocketAddr::new(ip, 0)
}

/// Starts a discv5 instance speaking `identity` next to `target`, whose
/// requests time out after `timeout` and are sent `1 + retries` times.
async fn start(
    identity: ProtocolIdentity,
    target: SocketAddr,
    timeout: Duration,
    retries: u8,
) -> Result<Discv5, String> {
    let key = CombinedKey::generate_secp256k1();
    let local = Enr::builder()
        .build(&key)
        .map_err(|e| format!("the runner's record does not build: {e}"))?;
    let listen = local_addr(target);
    let mut config = ConfigBuilder::new(ListenConfig::from_ip(listen.ip(), listen.port()));
    config
        .protocol_identity(identity)
        .request_timeout(timeout)
        .request_retries(retries)
        .disable_enr_update();
    let mut discv5 = Discv5::new(local, key, config.build())
        .map_err(|e| format!("the runner's discv5 does not start: {e}"))?;
    discv5
        .start()
        .await
        .map_err(|e| format!("the runner's discv5 does not start: {e}"))?;
    Ok(discv5)
}

/// What the runner's own `d5waku` requests showed.
struct WakuSide {
    /// How long the PING took to get its PONG, when it got one.
    pong: Option<Duration>,
    /// The record FINDNODE at distance 0 returned, when it is the target's.
    served: Option<Enr>,
    /// Everything answered as it should (the evidence), or the first
    /// request that was not.
    verdict: Result<String, String>,
    /// The runner's own discv5 did not start (the reason).
    broken: Option<String>,
}

/// PING and FINDNODE (distance 0, then [`LOG_DISTANCES`]) with `d5waku`.
async fn waku_side(target: &Enr, socket: SocketAddr, wait: Duration) -> WakuSide {
    // Two tries of half the run's wait: one lost datagram is no verdict.
    let mut discv5 = match start(waku_identity(), socket, wait / 2, 1).await {
        Ok(discv5) => discv5,
        Err(e) => {
            return WakuSide {
                pong: None,
                served: None,
                verdict: Err(e.clone()),
                broken: Some(e),
            };
        }
    };
    let mut side = WakuSide {
        pong: None,
        served: None,
        verdict: Err(String::new()),
        broken: None,
    };
    side.verdict = ask(&discv5, target, socket, wait, &mut side).await;
    discv5.shutdown();
    side
}

/// The requests of [`waku_side`], noting in `side` what came back; the
/// evidence of a pass, or of the first failure.
async fn ask(
    discv5: &Discv5,
    target: &Enr,
    socket: SocketAddr,
    wait: Duration,
    side: &mut WakuSide,
) -> Result<String, String> {
    let started = Instant::now();
    let pong = discv5
        .send_ping(target.clone())
        .await
        .map_err(|e| format!("a d5waku PING to {socket} got no PONG within {wait:?}: {e:?}"))?;
    let rtt = started.elapsed();
    side.pong = Some(rtt);
    let own = discv5
        .find_node_designated_peer(target.clone(), vec![0])
        .await
        .map_err(|e| format!("PONG, but FINDNODE distance 0 to {socket} failed: {e:?}"))?;
    let served = match own.as_slice() {
        [record] => record.clone(),
        other => {
            return Err(format!(
                "FINDNODE distance 0 returned {} records, not the target's one",
                other.len()
            ));
        }
    };
    if served.node_id() != target.node_id() || !served.verify() {
        return Err(format!(
            "FINDNODE distance 0 returned another node's record (node id {}), or one that does not verify",
            served.node_id()
        ));
    }
    if served.seq() < target.seq() {
        return Err(format!(
            "FINDNODE distance 0 returned the target's record with seq {} < {} given",
            served.seq(),
            target.seq()
        ));
    }
    side.served = Some(served.clone());
    let found = discv5
        .find_node_designated_peer(target.clone(), LOG_DISTANCES.to_vec())
        .await
        .map_err(|e| format!("FINDNODE at distances {LOG_DISTANCES:?} failed: {e:?}"))?;
    let key = discv5::Key::from(target.node_id());
    let stray = found
        .iter()
        .filter(|r| {
            !r.verify()
                || !key
                    .log2_distance(&discv5::Key::from(r.node_id()))
                    .is_some_and(|d| LOG_DISTANCES.contains(&d))
        })
        .count();
    if stray > 0 {
        return Err(format!(
            "FINDNODE at distances {LOG_DISTANCES:?}: {stray} of {} records do not verify or lie at another distance",
            found.len()
        ));
    }
    Ok(format!(
        "d5waku v1 at {socket}: PONG in {} ms (seq {}); FINDNODE 0: its own record, seq {}; FINDNODE {LOG_DISTANCES:?}: {} records, all verify",
        rtt.as_millis(),
        pong.enr_seq,
        served.seq(),
        found.len()
    ))
}

/// DISC-001 for `d5waku` packets: a failure only when the target speaks
/// discv5 there at all (it answered something); silence everywhere says
/// nothing about the protocol id (DISC-005 judges it).
fn waku_outcome(waku: &WakuSide, wrong: &Probe, right: &Probe, socket: SocketAddr) -> Outcome {
    let failure = match (&waku.verdict, &waku.broken) {
        (Ok(evidence), _) => return Outcome::pass("DISC-001", evidence.clone()),
        (Err(e), Some(_)) => return Outcome::not_checkable("DISC-001", e.clone()),
        (Err(e), None) => e,
    };
    if waku.pong.is_some() {
        return Outcome::fail("DISC-001", failure.clone());
    }
    match (wrong, right) {
        (_, Probe::Answered(n, _)) => Outcome::fail(
            "DISC-001",
            format!("{failure}, though a d5waku packet got a {n}-byte answer"),
        ),
        (Probe::Answered(n, _), _) => Outcome::fail(
            "DISC-001",
            format!("{failure}; a discv5 packet got a {n}-byte answer: it speaks another id"),
        ),
        (Probe::Broken(e), _) | (_, Probe::Broken(e)) => {
            Outcome::not_checkable("DISC-001", format!("{failure}; {e}"))
        }
        (Probe::Silent, Probe::Silent) => Outcome::not_checkable(
            "DISC-001",
            format!(
                "nothing answers at {socket} (no PONG, no answer to d5waku or discv5 packets): no discv5 to judge"
            ),
        ),
    }
}

/// What a replayed first packet got back.
enum Probe {
    /// A datagram of this many bytes, after this long.
    Answered(usize, Duration),
    /// Nothing within the wait.
    Silent,
    /// The runner could not send it (the reason).
    Broken(String),
}

/// The first packet a discv5 instance speaking `identity` sends to the
/// target (a random packet asking for a handshake, its header masked with
/// the target's node id), caught on a local socket instead of the target's.
async fn first_packet(
    identity: ProtocolIdentity,
    target: &Enr,
    socket: SocketAddr,
) -> Result<Vec<u8>, String> {
    let trap = UdpSocket::bind(local_addr(socket))
        .await
        .map_err(|e| format!("no local UDP socket: {e}"))?;
    let mut trap_addr = trap
        .local_addr()
        .map_err(|e| format!("no local UDP socket: {e}"))?;
    if trap_addr.ip().is_unspecified() {
        trap_addr.set_ip(match trap_addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    let mut discv5 = start(identity, socket, WRONG_ID_WAIT, 0).await?;
    let contact = NodeContact::new(target.public_key(), trap_addr, Some(target.clone()));
    let request = discv5.talk_req(contact, b"waku-conformance".to_vec(), Vec::new());
    let mut buf = vec![0u8; MAX_PACKET];
    let caught = tokio::select! {
        received = trap.recv_from(&mut buf) => received
            .map(|(n, _)| buf[..n].to_vec())
            .map_err(|e| format!("the runner's packet was not caught: {e}")),
        answer = request => Err(format!("the runner's discv5 sent nothing: {answer:?}")),
    };
    discv5.shutdown();
    caught
}

/// Sends `packet` to `socket` from a fresh local socket and waits up to
/// `wait` for any datagram back.
async fn replay(packet: &[u8], socket: SocketAddr, wait: Duration) -> Probe {
    let local = match UdpSocket::bind(local_addr(socket)).await {
        Ok(local) => local,
        Err(e) => return Probe::Broken(format!("no local UDP socket: {e}")),
    };
    let started = Instant::now();
    if let Err(e) = local.send_to(packet, socket).await {
        return Probe::Broken(format!("sending to {socket} failed: {e}"));
    }
    let mut buf = vec![0u8; MAX_PACKET];
    loop {
        let left = wait.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, local.recv_from(&mut buf)).await {
            Err(_) => return Probe::Silent,
            Ok(Ok((n, _))) => return Probe::Answered(n, started.elapsed()),
            // An ICMP "port unreachable" some systems report: nothing
            // listens there.
            Ok(Err(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::ConnectionReset
                ) =>
            {
                if started.elapsed() >= wait {
                    return Probe::Silent;
                }
            }
            Ok(Err(e)) => return Probe::Broken(format!("receiving failed: {e}")),
        }
    }
}

/// The first packet of an instance speaking `identity`, replayed to the
/// target, waiting `wait` for an answer.
async fn probe(
    identity: ProtocolIdentity,
    target: &Enr,
    socket: SocketAddr,
    wait: Duration,
) -> Probe {
    match first_packet(identity, target, socket).await {
        Ok(packet) => replay(&packet, socket, wait).await,
        Err(e) => Probe::Broken(e),
    }
}

/// DISC-001 for another protocol id: `wrong` (the `discv5` packet) must
/// go unanswered while `right` (the same with `d5waku`) is answered.
fn other_id_outcome(wrong: &Probe, right: &Probe, socket: SocketAddr) -> Outcome {
    let other = id_name(&ethereum_identity());
    let waku = id_name(&waku_identity());
    match (wrong, right) {
        (Probe::Broken(e), _) | (_, Probe::Broken(e)) => {
            Outcome::not_checkable("DISC-001", e.clone())
        }
        (Probe::Answered(n, after), _) => Outcome::fail(
            "DISC-001",
            format!(
                "a discv5 packet with protocol id {other} v1 sent to {socket} got a {n}-byte answer after {} ms",
                after.as_millis()
            ),
        ),
        (Probe::Silent, Probe::Answered(n, after)) => Outcome::pass(
            "DISC-001",
            format!(
                "a discv5 packet with protocol id {other} v1 got no answer within {} ms; the same first packet made with {waku} got a {n}-byte answer after {} ms",
                WRONG_ID_WAIT.as_millis(),
                after.as_millis()
            ),
        ),
        (Probe::Silent, Probe::Silent) => Outcome::not_checkable(
            "DISC-001",
            format!(
                "{socket} answers neither {other} nor {waku} packets: silence to another id says nothing"
            ),
        ),
    }
}

/// DISC-005: the announced endpoint answers the runner.
fn reachable_outcome(waku: &WakuSide, probes: [&Probe; 2], socket: SocketAddr) -> Outcome {
    if let Some(rtt) = waku.pong {
        let moved = waku
            .served
            .as_ref()
            .and_then(endpoint)
            .filter(|served| *served != socket)
            .map(|served| format!("; the served record now names {served}"))
            .unwrap_or_default();
        return Outcome::pass(
            "DISC-005",
            format!(
                "a d5waku PING at the announced {socket} got a PONG in {} ms{moved}",
                rtt.as_millis()
            ),
        );
    }
    if probes.iter().any(|p| matches!(p, Probe::Answered(..))) {
        return Outcome::not_checkable(
            "DISC-005",
            format!("something answers at {socket}, but no PONG to a d5waku PING"),
        );
    }
    if probes.iter().any(|p| matches!(p, Probe::Broken(_))) {
        return Outcome::not_checkable("DISC-005", "the runner could not probe the endpoint");
    }
    Outcome::fail(
        "DISC-005",
        format!(
            "nothing at the announced {socket} answered the runner (PING, d5waku and discv5 packets)"
        ),
    )
}

/// ENR-001 and ENR-020 on the record the target serves over discv5 (no
/// rows without one: the ENR suite judges the given record).
fn served_outcomes(served: Option<&Enr>) -> Vec<Outcome> {
    let Some(record) = served else {
        return Vec::new();
    };
    let mut out = vec![Outcome::judge(
        "ENR-001",
        record.verify(),
        format!(
            "the record served over discv5 (seq {}, {} bytes) decodes and its signature verifies (enr crate)",
            record.seq(),
            record.size()
        ),
    )];
    out.push(match WakuEnr::decode(&record.to_base64()) {
        Ok(waku) => {
            let caps = waku.capabilities();
            Outcome::judge(
                "ENR-020",
                caps.is_some_and(|c| !c.is_empty()),
                format!(
                    "the record served over discv5 (seq {}) has waku2 = {}",
                    record.seq(),
                    caps.map_or("none".into(), |c| format!("{:#04x}", c.byte()))
                ),
            )
        }
        Err(e) => Outcome::fail(
            "ENR-020",
            format!("the record served over discv5 does not read as a Waku record: {e}"),
        ),
    });
    out
}

/// The UDP endpoint of `record`: ip + udp, else ip6 + udp6.
fn endpoint(record: &Enr) -> Option<SocketAddr> {
    record
        .udp4_socket()
        .map(SocketAddr::V4)
        .or_else(|| record.udp6_socket().map(SocketAddr::V6))
}

/// The DISC ids, with the same verdict and evidence (the ENR ids get rows
/// only from a record served over discv5).
fn all(verdict: Verdict, evidence: &str) -> Vec<Outcome> {
    ["DISC-001", "DISC-005"]
        .iter()
        .map(|id| Outcome::new(id, verdict, evidence))
        .collect()
}

/// Runs the discv5 checks.
pub async fn run(ctx: &mut Ctx<'_>) -> Vec<Outcome> {
    let text = match super::enr::record_text(ctx).await {
        Ok(text) => text,
        Err(e) => return all(Verdict::NotCheckable, &e),
    };
    let target: Enr = match text.parse() {
        Ok(target) => target,
        Err(e) => {
            return all(
                Verdict::NotCheckable,
                &format!("the target's ENR does not read: {e}"),
            );
        }
    };
    let Some(socket) = endpoint(&target) else {
        return all(
            Verdict::NotOffered,
            "the target's ENR names no UDP endpoint (ip + udp, or ip6 + udp6): it takes no part in discv5",
        );
    };
    if socket.ip().is_unspecified() || socket.ip().is_multicast() || socket.port() == 0 {
        return vec![
            Outcome::not_checkable(
                "DISC-001",
                format!("the target's ENR names no endpoint to send to ({socket})"),
            ),
            Outcome::fail(
                "DISC-005",
                format!("the record announces {socket}, which no peer can reach"),
            ),
        ];
    }
    let wait = ctx.wait();
    let (waku, wrong, right) = tokio::join!(
        waku_side(&target, socket, wait),
        probe(ethereum_identity(), &target, socket, WRONG_ID_WAIT),
        probe(waku_identity(), &target, socket, wait),
    );
    let mut out = vec![
        waku_outcome(&waku, &wrong, &right, socket),
        other_id_outcome(&wrong, &right, socket),
        reachable_outcome(&waku, [&wrong, &right], socket),
    ];
    out.extend(served_outcomes(waku.served.as_ref()));
    out
}
