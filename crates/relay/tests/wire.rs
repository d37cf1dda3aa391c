//! What the relay puts on the wire, checked by peers that are not
//! rust-libp2p's gossipsub-with-Waku-rules: a hand-written pubsub peer that
//! reads raw RPC frames, and a plain gossipsub node.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::sniffer::{OutRpc, PubMessage, RawRpc, Sniffer, SnifferEvent, SubOpts, field_numbers};
use common::*;
use libp2p::gossipsub;
use libp2p::identity::Keypair;
use libp2p::{PeerId, Stream};
use tokio::sync::mpsc;
use waku_core::WakuMessage;
use waku_core::codec::{read_frame, write_frame};
use waku_relay::RELAY_PROTOCOL_ID;

const SHARD: &str = "/waku/2/rs/1/4";
const MAX_FRAME: usize = 1024 * 1024;

async fn spawn_sniffer(listen: &[&'static str]) -> Node<Sniffer> {
    spawn(Keypair::generate_ed25519(), Sniffer::new(listen)).await
}

async fn next_sniffer_event(node: &mut Node<Sniffer>) -> SnifferEvent {
    tokio::time::timeout(PATIENCE, node.events.recv())
        .await
        .expect("sniffer event")
        .unwrap()
}

/// Reads RPC frames from `stream` into a channel.
fn read_rpcs(mut stream: Stream) -> mpsc::UnboundedReceiver<RawRpc> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(rpc) = read_frame::<RawRpc, _>(&mut stream, MAX_FRAME).await {
            if tx.send(rpc).is_err() {
                break;
            }
        }
    });
    rx
}

async fn next_rpc_where(
    rpcs: &mut mpsc::UnboundedReceiver<RawRpc>,
    what: &str,
    pred: impl Fn(&RawRpc) -> bool,
) -> RawRpc {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let rpc = tokio::time::timeout_at(deadline, rpcs.recv())
            .await
            .unwrap_or_else(|_| panic!("no RPC with {what}"))
            .expect("stream open");
        if pred(&rpc) {
            return rpc;
        }
    }
}

/// Opens a stream from the sniffer to `peer` under `protocol`.
async fn open(sniffer: &mut Node<Sniffer>, peer: PeerId, protocol: &'static str) -> SnifferEvent {
    sniffer.behaviour(move |s| s.open(peer, protocol)).await;
    loop {
        match next_sniffer_event(sniffer).await {
            e @ (SnifferEvent::Outbound { .. } | SnifferEvent::OutboundFailed { .. }) => return e,
            SnifferEvent::Inbound { .. } => {}
        }
    }
}

// spec: RELAY-001
#[tokio::test]
async fn only_the_waku_relay_protocol_id_is_spoken() {
    let relay = spawn_relay(relay_config()).await;
    relay.behaviour(|r| r.subscribe(SHARD).unwrap()).await;

    // The relay opens its stream to us: offered meshsub and floodsub as
    // well, it picks the Waku id.
    let mut sniffer = spawn_sniffer(&[
        "/meshsub/1.1.0",
        "/meshsub/1.0.0",
        "/floodsub/1.0.0",
        RELAY_PROTOCOL_ID,
    ])
    .await;
    sniffer.connect(&relay).await;
    match next_sniffer_event(&mut sniffer).await {
        SnifferEvent::Inbound { protocol, peer, .. } => {
            assert_eq!(peer, relay.peer_id);
            assert_eq!(protocol.as_ref(), RELAY_PROTOCOL_ID);
        }
        other => panic!("unexpected {other:?}"),
    }
    // It accepts nothing but the Waku id.
    for p in ["/meshsub/1.1.0", "/meshsub/1.0.0", "/floodsub/1.0.0"] {
        match open(&mut sniffer, relay.peer_id, p).await {
            SnifferEvent::OutboundFailed { protocol, .. } => assert_eq!(protocol.as_ref(), p),
            other => panic!("{p} was accepted: {other:?}"),
        }
    }
    match open(&mut sniffer, relay.peer_id, RELAY_PROTOCOL_ID).await {
        SnifferEvent::Outbound { protocol, .. } => {
            assert_eq!(protocol.as_ref(), RELAY_PROTOCOL_ID)
        }
        other => panic!("Waku id refused: {other:?}"),
    }

    // A peer speaking only the gossipsub ids never gets a stream: the relay
    // does not fall back to /meshsub.
    let mut relay = relay;
    let mut meshsub_only = spawn_sniffer(&["/meshsub/1.1.0", "/meshsub/1.0.0"]).await;
    meshsub_only.connect(&relay).await;
    let them = meshsub_only.peer_id;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let e = tokio::time::timeout_at(deadline, relay.events.recv())
            .await
            .expect("relay should report the peer as not speaking relay")
            .unwrap();
        if e == (waku_relay::Event::RelayNotSupported { peer: them }) {
            break;
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(meshsub_only.drain().is_empty(), "a stream was negotiated");
}

// spec: RELAY-003, RELAY-005, RELAY-007, RELAY-008, RELAY-013, RELAY-006, RELAY-004, RELAY-002
#[tokio::test]
async fn published_messages_carry_only_data_and_the_shard_topic() {
    let relay = spawn_relay(relay_config()).await;
    relay.behaviour(|r| r.subscribe(SHARD).unwrap()).await;
    let mut sniffer = spawn_sniffer(&[RELAY_PROTOCOL_ID]).await;
    sniffer.connect(&relay).await;
    let SnifferEvent::Inbound { stream, .. } = next_sniffer_event(&mut sniffer).await else {
        panic!("expected the relay's stream");
    };
    let mut from_relay = read_rpcs(stream);
    let SnifferEvent::Outbound {
        stream: mut to_relay,
        ..
    } = open(&mut sniffer, relay.peer_id, RELAY_PROTOCOL_ID).await
    else {
        panic!("cannot open a stream to the relay");
    };
    let subscribe = OutRpc {
        subscriptions: vec![SubOpts {
            subscribe: Some(true),
            topic_id: Some(SHARD.into()),
        }],
        publish: vec![],
    };
    write_frame(&mut to_relay, &subscribe, MAX_FRAME)
        .await
        .unwrap();
    let r = &relay;
    eventually("relay sees our subscription", || async move {
        r.behaviour(|r| r.relay_peers(SHARD)).await == 1
    })
    .await;

    for i in 0..3 {
        let msg = message(&format!("wire check {i}"));
        publish(&relay, SHARD, msg.clone()).await;
        let rpc = next_rpc_where(&mut from_relay, "a publish", |r| !r.publish.is_empty()).await;
        assert_eq!(rpc.publish.len(), 1);
        let raw = &rpc.publish[0];
        // Exactly `data` (2) and one topic (4): from (1), seqno (3),
        // signature (5) and key (6) are absent from the bytes.
        assert_eq!(field_numbers(raw), vec![2, 4], "fields on the wire");
        let decoded: PubMessage = prost::Message::decode(raw.as_slice()).unwrap();
        assert_eq!(decoded.from, None);
        assert_eq!(decoded.seqno, None);
        assert_eq!(decoded.signature, None);
        assert_eq!(decoded.key, None);
        assert_eq!(decoded.topic_ids, vec![SHARD.to_owned()]);
        assert_eq!(WakuMessage::decode(&decoded.data.unwrap()).unwrap(), msg);
    }
}

// spec: RELAY-010, RELAY-011, RELAY-009
#[tokio::test]
async fn subscription_changes_are_sent_as_subopts() {
    let relay = spawn_relay(relay_config()).await;
    relay.behaviour(|r| r.subscribe(SHARD).unwrap()).await;
    let mut sniffer = spawn_sniffer(&[RELAY_PROTOCOL_ID]).await;
    sniffer.connect(&relay).await;
    let SnifferEvent::Inbound { stream, .. } = next_sniffer_event(&mut sniffer).await else {
        panic!("expected the relay's stream");
    };
    let mut from_relay = read_rpcs(stream);
    let is = |sub: bool, topic: &'static str| {
        move |r: &RawRpc| {
            r.subscriptions
                .iter()
                .any(|s| s.subscribe == Some(sub) && s.topic_id.as_deref() == Some(topic))
        }
    };
    next_rpc_where(&mut from_relay, "subscribe to SHARD", is(true, SHARD)).await;
    const OTHER: &str = "/waku/2/rs/1/7";
    relay.behaviour(|r| r.subscribe(OTHER).unwrap()).await;
    next_rpc_where(&mut from_relay, "subscribe to OTHER", is(true, OTHER)).await;
    assert!(relay.behaviour(|r| r.unsubscribe(SHARD)).await);
    next_rpc_where(&mut from_relay, "unsubscribe from SHARD", is(false, SHARD)).await;
}

// spec: RELAY-002, RELAY-012, NET-021
#[tokio::test]
async fn messages_from_a_foreign_implementation_are_relayed_unless_authored() {
    let mut relay = spawn_relay(relay_config()).await;
    relay.behaviour(|r| r.subscribe(SHARD).unwrap()).await;
    let mut sniffer = spawn_sniffer(&[RELAY_PROTOCOL_ID]).await;
    sniffer.connect(&relay).await;
    let SnifferEvent::Outbound {
        stream: mut to_relay,
        ..
    } = open(&mut sniffer, relay.peer_id, RELAY_PROTOCOL_ID).await
    else {
        panic!("cannot open a stream to the relay");
    };
    let authored = message("with a seqno");
    let clean = message("StrictNoSign");
    let rpc = OutRpc {
        subscriptions: vec![SubOpts {
            subscribe: Some(true),
            topic_id: Some(SHARD.into()),
        }],
        publish: vec![
            PubMessage {
                data: Some(authored.encode_to_vec()),
                seqno: Some(vec![0, 0, 0, 0, 0, 0, 0, 1]),
                topic_ids: vec![SHARD.into()],
                ..PubMessage::default()
            },
            PubMessage {
                data: Some(clean.encode_to_vec()),
                topic_ids: vec![SHARD.into()],
                ..PubMessage::default()
            },
        ],
    };
    write_frame(&mut to_relay, &rpc, MAX_FRAME).await.unwrap();
    let mut got = Vec::new();
    collect_messages(&mut relay, &mut got, 1).await;
    assert_eq!(got[0].message, clean);
    assert_eq!(got[0].source, sniffer.peer_id);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(messages(relay.drain()).is_empty());
    let s = sniffer.peer_id;
    assert!(relay.behaviour(move |r| r.peer_score(&s).unwrap()).await < 0.0);
}

// spec: RELAY-003, RELAY-005, RELAY-006, RELAY-002
#[tokio::test]
async fn a_plain_gossipsub_node_receives_anonymous_messages() {
    let relay: Node<waku_relay::Behaviour> = spawn_relay(relay_config()).await;
    let mut plain = spawn_raw(Authenticity::Anonymous).await;
    relay.behaviour(|r| r.subscribe(SHARD).unwrap()).await;
    plain
        .behaviour(|g| g.subscribe(&gossipsub::IdentTopic::new(SHARD)).unwrap())
        .await;
    relay.connect(&plain).await;
    let msg = message("to a plain gossipsub node");
    publish(&relay, SHARD, msg.clone()).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let received = loop {
        let e = tokio::time::timeout_at(deadline, plain.events.recv())
            .await
            .expect("message at the plain node")
            .unwrap();
        if let gossipsub::Event::Message { message, .. } = e {
            break message;
        }
    };
    assert_eq!(received.source, None);
    assert_eq!(received.sequence_number, None);
    assert_eq!(received.topic.as_str(), SHARD);
    assert_eq!(WakuMessage::decode(&received.data).unwrap(), msg);
    assert_eq!(
        waku_relay::message_id(&received).0,
        <sha2::Sha256 as sha2::Digest>::digest(&received.data).to_vec()
    );
}
