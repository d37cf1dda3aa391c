//! Inbound streams that never carry a request (the js-waku light node opens
//! one and closes it unused) are tolerated: dropped quietly, connection kept.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::raw::{RawRequest, raw};
use common::{CT, Pair, entry, memory_with};
use futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use waku_store::proto::StoreQueryRequest;
use waku_store::{Config, PROTOCOL};

// spec: STORE-034
#[tokio::test]
async fn idle_and_empty_streams_are_tolerated() {
    let store = memory_with(vec![entry(1, CT, "x")]).await;
    let config = Config::default().with_request_timeout(Duration::from_secs(1));
    let mut p = Pair::with_client(store, config, raw(PROTOCOL)).await;
    let server = p.server_id;
    let client = *p.client.local_peer_id();
    let idle = p
        .client
        .behaviour_mut()
        .send_request(&server, RawRequest::Idle);
    let empty = p
        .client
        .behaviour_mut()
        .send_request(&server, RawRequest::Bytes(vec![]));
    // Let the service's request timeout pass with both streams open.
    let run = async {
        let deadline = tokio::time::sleep(Duration::from_secs(3));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = &mut deadline => return,
                ev = p.server.select_next_some() => {
                    if let SwarmEvent::ConnectionClosed { .. } = ev {
                        panic!("connection closed");
                    }
                }
                ev = p.client.select_next_some() => drop(ev),
            }
        }
    };
    run.await;
    let _ = (idle, empty);
    assert!(p.server.is_connected(&client));
    // The connection still serves queries.
    let request = StoreQueryRequest {
        request_id: "after-idle".into(),
        include_data: true,
        ..StoreQueryRequest::default()
    };
    let r = p.request(request).await.unwrap();
    assert_eq!(r.status_code, 200);
    assert_eq!(r.entries.len(), 1);
}
