//! Gossipsub peer exchange (`Config::with_peer_exchange`, nwaku's
//! `--relay-peer-exchange`) over real swarms: a node leaving a topic prunes
//! its mesh peers and names its other peers of the topic with the signed
//! peer records it holds; the pruned node reports the peers whose records
//! verify, with their signed addresses, and leaves out the others.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use libp2p::core::PeerRecord;
use libp2p::identity::Keypair;

const SHARD_0: &str = "/waku/2/rs/1/0";

async fn px_node(keypair: Keypair) -> Node<waku_relay::Behaviour> {
    let config = relay_config().with_peer_exchange(true);
    spawn(keypair, waku_relay::Behaviour::new(config).unwrap()).await
}

#[tokio::test]
async fn a_pruning_peer_names_its_other_peers_with_their_signed_records() {
    let b_key = Keypair::generate_secp256k1();
    let a = px_node(Keypair::generate_ed25519()).await;
    let b = px_node(b_key.clone()).await;
    let c_key = Keypair::generate_ed25519();
    let c = px_node(c_key.clone()).await;
    let mut d = px_node(Keypair::generate_ed25519()).await;
    for node in [&a, &b, &c, &d] {
        node.behaviour(|r| r.subscribe(SHARD_0).unwrap()).await;
    }
    for node in [&b, &c, &d] {
        a.connect(node).await;
    }
    for peer in [b.peer_id, c.peer_id, d.peer_id] {
        wait_mesh(&a, SHARD_0, peer).await;
    }
    // A holds B's own record (as identify brings it), and a record for C
    // that someone else signed: it must not pass.
    let b_addr = b.addr.clone();
    let b_record = PeerRecord::new_interop(&b_key, vec![b_addr.clone()]).unwrap();
    let forged = PeerRecord::new(&Keypair::generate_ed25519(), vec![c.addr.clone()]).unwrap();
    let (b_id, c_id) = (b.peer_id, c.peer_id);
    a.behaviour(move |r| {
        r.set_signed_peer_record(b_id, Some(&b_record.to_signed_envelope()));
        r.set_signed_peer_record(c_id, Some(&forged.to_signed_envelope()));
    })
    .await;
    d.drain();

    // A leaves the topic: its PRUNE to D names B and C.
    assert!(a.behaviour(|r| r.unsubscribe(SHARD_0)).await);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let peers = loop {
        let event = tokio::time::timeout_at(deadline, d.events.recv())
            .await
            .expect("no peer exchange")
            .unwrap();
        if let waku_relay::Event::PeerExchange {
            from,
            pubsub_topic,
            peers,
        } = event
        {
            assert_eq!(from, a.peer_id);
            assert_eq!(pubsub_topic, SHARD_0);
            break peers;
        }
    };
    assert_eq!(peers, vec![(b_id, vec![b_addr])]);
}

#[tokio::test]
async fn without_peer_exchange_a_prune_names_no_one() {
    let a = spawn_relay(relay_config()).await;
    let b_key = Keypair::generate_ed25519();
    let b = spawn(
        b_key.clone(),
        waku_relay::Behaviour::new(relay_config()).unwrap(),
    )
    .await;
    let mut d = px_node(Keypair::generate_ed25519()).await;
    for node in [&a, &b, &d] {
        node.behaviour(|r| r.subscribe(SHARD_0).unwrap()).await;
    }
    a.connect(&b).await;
    a.connect(&d).await;
    wait_mesh(&a, SHARD_0, d.peer_id).await;
    let b_id = b.peer_id;
    let record = PeerRecord::new(&b_key, vec![b.addr.clone()]).unwrap();
    a.behaviour(move |r| r.set_signed_peer_record(b_id, Some(&record.to_signed_envelope())))
        .await;
    assert!(a.behaviour(|r| r.unsubscribe(SHARD_0)).await);
    // D hears that A left, and nothing about B.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let event = tokio::time::timeout_at(deadline, d.events.recv())
            .await
            .expect("no unsubscription")
            .unwrap();
        assert!(
            !matches!(event, waku_relay::Event::PeerExchange { .. }),
            "{event:?}"
        );
        if matches!(event, waku_relay::Event::Unsubscribed { .. }) {
            break;
        }
    }
    // The PRUNE comes before the unsubscription; give a late one a moment.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        !d.drain()
            .iter()
            .any(|e| matches!(e, waku_relay::Event::PeerExchange { .. }))
    );
}
