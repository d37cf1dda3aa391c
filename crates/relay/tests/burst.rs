//! Relay after a burst: what we gossip must fit what every deployed peer
//! accepts, and a peer whose send queue stays full is dropped rather than
//! holding relay to it for ever.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::sniffer::{RawRpc, Sniffer, SnifferEvent, SubOpts};
use common::*;
use libp2p::identity::Keypair;
use tokio::sync::mpsc;
use waku_core::codec::{read_frame, write_frame};
use waku_relay::{MAX_IDS_PER_CONTROL, RELAY_PROTOCOL_ID};

const SHARD: &str = "/waku/2/rs/1/4";
const MAX_FRAME: usize = 4 * 1024 * 1024;
/// rust-libp2p gossipsub's default limit on the control part of one RPC,
/// the smallest any deployed implementation applies (nim, go and js apply
/// none beyond their frame limits of 150 KiB to 4 MiB).
const SMALLEST_CONTROL_LIMIT: usize = 16 * 1024;

/// `ControlMessage` (ihave = 1, iwant = 2, graft = 3, prune = 4).
#[derive(Clone, PartialEq, prost::Message)]
struct Control {
    #[prost(message, repeated, tag = "1")]
    ihave: Vec<IHave>,
    #[prost(message, repeated, tag = "2")]
    iwant: Vec<IWant>,
    #[prost(message, repeated, tag = "3")]
    graft: Vec<TopicOnly>,
    #[prost(message, repeated, tag = "4")]
    prune: Vec<Prune>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct IHave {
    #[prost(string, optional, tag = "1")]
    topic_id: Option<String>,
    #[prost(bytes = "vec", repeated, tag = "2")]
    message_ids: Vec<Vec<u8>>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct IWant {
    #[prost(bytes = "vec", repeated, tag = "1")]
    message_ids: Vec<Vec<u8>>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct TopicOnly {
    #[prost(string, optional, tag = "1")]
    topic_id: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Prune {
    #[prost(string, optional, tag = "1")]
    topic_id: Option<String>,
    #[prost(uint64, optional, tag = "3")]
    backoff: Option<u64>,
}

/// An RPC carrying subscriptions and control.
#[derive(Clone, PartialEq, prost::Message)]
struct CtlRpc {
    #[prost(message, repeated, tag = "1")]
    subscriptions: Vec<SubOpts>,
    #[prost(message, optional, tag = "3")]
    control: Option<Control>,
}

/// Reads every RPC frame of `stream` into a channel.
fn read_rpcs(mut stream: libp2p::Stream) -> mpsc::UnboundedReceiver<RawRpc> {
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

/// A sniffer connected to `relay`: the relay's stream to it, and its own
/// stream to the relay.
async fn sniffer_streams(
    relay: &Node<waku_relay::Behaviour>,
) -> (Node<Sniffer>, libp2p::Stream, libp2p::Stream) {
    let mut sniffer = spawn(
        Keypair::generate_ed25519(),
        Sniffer::new(&[RELAY_PROTOCOL_ID]),
    )
    .await;
    sniffer.connect(relay).await;
    let Some(SnifferEvent::Inbound {
        stream: inbound, ..
    }) = sniffer.events.recv().await
    else {
        panic!("expected the relay's stream");
    };
    let peer = relay.peer_id;
    sniffer
        .behaviour(move |s| s.open(peer, RELAY_PROTOCOL_ID))
        .await;
    let outbound = loop {
        match sniffer.events.recv().await {
            Some(SnifferEvent::Outbound { stream, .. }) => break stream,
            Some(SnifferEvent::Inbound { .. }) => {}
            other => panic!("cannot open a stream to the relay: {other:?}"),
        }
    };
    (sniffer, inbound, outbound)
}

/// Subscribes to SHARD over `to_relay`, with `control` in the same RPC,
/// and waits until `relay` counts the sniffer as a relay peer.
async fn join(
    relay: &Node<waku_relay::Behaviour>,
    to_relay: &mut libp2p::Stream,
    control: Option<Control>,
) {
    let rpc = CtlRpc {
        subscriptions: vec![SubOpts {
            subscribe: Some(true),
            topic_id: Some(SHARD.into()),
        }],
        control,
    };
    write_frame(to_relay, &rpc, MAX_FRAME).await.unwrap();
    eventually("relay sees our subscription", || async move {
        relay.behaviour(|r| r.relay_peers(SHARD)).await == 1
    })
    .await;
}

#[tokio::test]
async fn gossip_after_a_burst_fits_the_smallest_control_limit() {
    let relay = spawn_relay(relay_config()).await;
    relay.behaviour(|r| r.subscribe(SHARD).unwrap()).await;
    let (_sniffer, inbound, mut to_relay) = sniffer_streams(&relay).await;
    let mut from_relay = read_rpcs(inbound);
    // Subscribe, and PRUNE the relay with a long backoff: we stay a
    // subscribed peer outside its mesh, the kind that gets IHAVE gossip.
    let prune = Control {
        prune: vec![Prune {
            topic_id: Some(SHARD.into()),
            backoff: Some(600),
        }],
        ..Control::default()
    };
    join(&relay, &mut to_relay, Some(prune)).await;

    // A burst of 1 500 messages within about a second: several times what
    // one IHAVE of at most MAX_IDS_PER_CONTROL ids may list.
    for batch in 0..15 {
        relay
            .behaviour(move |r| {
                for i in 0..100 {
                    r.publish(SHARD, message(&format!("burst {batch} {i}")))
                        .unwrap();
                }
            })
            .await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Read what the relay sends for the next heartbeats.
    let mut ihave_ids = 0;
    let mut largest_control = 0;
    let until = tokio::time::Instant::now() + Duration::from_secs(4);
    while let Ok(Some(rpc)) = tokio::time::timeout_at(until, from_relay.recv()).await {
        let Some(control) = rpc.control else { continue };
        largest_control = largest_control.max(control.len());
        let decoded: Control = prost::Message::decode(control.as_slice()).unwrap();
        for ihave in decoded.ihave {
            assert!(ihave.message_ids.len() <= MAX_IDS_PER_CONTROL);
            ihave_ids += ihave.message_ids.len();
        }
    }
    assert!(
        ihave_ids >= MAX_IDS_PER_CONTROL,
        "the burst was gossiped: {ihave_ids} ids in IHAVEs"
    );
    assert!(
        largest_control <= SMALLEST_CONTROL_LIMIT,
        "a control part of {largest_control} bytes would be refused by a default rust-libp2p peer"
    );
}

#[tokio::test]
async fn a_peer_whose_queue_stays_full_is_dropped() {
    // The sniffer subscribes but never reads: our queue to it fills up
    // (one slot) and stays full.
    let mut params = waku_relay::GossipsubParams::default();
    params.send_queue_len = 1;
    params.drop_slow_peer_after = Some(3);
    let config = relay_config().with_gossipsub(params);
    let mut relay = spawn_relay(config).await;
    relay.behaviour(|r| r.subscribe(SHARD).unwrap()).await;
    // Keep the relay's stream to us, unread.
    let (sniffer, _unread, mut to_relay) = sniffer_streams(&relay).await;
    join(&relay, &mut to_relay, None).await;
    let them = sniffer.peer_id;
    // Publish steadily (large messages fill the socket buffers first)
    // until the relay gives up on the peer.
    let payload = "x".repeat(64 * 1024);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut n = 0;
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the relay never dropped the stuck peer"
        );
        let text = format!("{n} {payload}");
        n += 1;
        relay
            .behaviour(move |r| {
                let _ = r.publish(SHARD, message(&text));
            })
            .await;
        let dropped = relay
            .drain()
            .into_iter()
            .any(|e| e == waku_relay::Event::SlowPeerDropped { peer: them });
        if dropped {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let r = &relay;
    eventually(
        "the connection to the stuck peer is closed",
        || async move { !r.with(move |s| s.is_connected(&them)).await },
    )
    .await;
}

// Two relay nodes: A floods B with 10 000 messages as fast as it can
// publish them (whatever does not fit the queue is dropped), then sends a
// steady 50 msg/s for 2 s. Once the flood stops, relay must serve again
// within seconds: a publish refused while the queue still holds the flood
// is taken again within 5 s, and every steady message reaches B.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_flood_messages_flow_again_within_seconds() {
    let a = spawn_relay(relay_config()).await;
    let mut b = spawn_relay(relay_config()).await;
    for n in [&a, &b] {
        n.behaviour(|r| r.subscribe(SHARD).unwrap()).await;
    }
    a.connect(&b).await;
    wait_mesh(&a, SHARD, b.peer_id).await;

    for batch in 0..100 {
        a.behaviour(move |r| {
            for i in 0..100 {
                // Full queues are expected here: the flood is meant to
                // overflow them.
                let _ = r.publish(SHARD, message(&format!("flood {batch} {i}")));
            }
        })
        .await;
        tokio::task::yield_now().await;
    }
    let flood_end = tokio::time::Instant::now();

    let steady: Vec<String> = (0..100).map(|i| format!("steady {i}")).collect();
    for text in &steady {
        // The queue to B may still hold the flood: a full queue refuses a
        // publish (service degrades), but must take it again within
        // seconds (never wedged).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let text = text.clone();
            let published = a.behaviour(move |r| r.publish(SHARD, message(&text))).await;
            match published {
                Ok(_) => break,
                Err(waku_relay::PublishError::QueuesFull(_))
                    if tokio::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("{:?} after the flood: {e}", flood_end.elapsed()),
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // All steady messages arrive (the flood's before them may or may not).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut missing: std::collections::HashSet<String> = steady.into_iter().collect();
    while !missing.is_empty() {
        match tokio::time::timeout_at(deadline, b.events.recv()).await {
            Ok(Some(waku_relay::Event::Message { message, .. })) => {
                missing.remove(&String::from_utf8_lossy(&message.payload).into_owned());
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => panic!(
                "{} steady messages never arrived ({:?} after the flood)",
                missing.len(),
                flood_end.elapsed()
            ),
        }
    }
}
