//! DoS protection with the real default: the 1001st subscriber gets 503.
//!
//! Runs 1001 client swarms in this process, each with its own TCP
//! connection (noise and yamux) to one service.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{CONTENT, TOPIC, feed, message, request, service, status};

// spec: FILTER-028
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_1001st_subscriber_gets_503_with_the_default_limit() {
    let (server, addr) = service(waku_filter::service::Config::default()).await;
    assert_eq!(waku_filter::service::Config::default().max_peers(), 1000);
    let to = server.id;
    // Connect and subscribe in batches, 1000 accepted.
    let mut clients = Vec::new();
    for batch in 0..10 {
        let mut joins = Vec::new();
        for _ in 0..100 {
            let addr = addr.clone();
            joins.push(tokio::spawn(async move {
                let mut c = common::client(to, addr).await;
                let r = request(&mut c, move |f| f.subscribe(&to, TOPIC, [CONTENT])).await;
                (c, status(&r))
            }));
        }
        for j in joins {
            let (c, code) = j.await.unwrap();
            assert_eq!(code, 200, "batch {batch}");
            clients.push(c);
        }
    }
    assert_eq!(
        server.with(|s| s.behaviour().subscriber_count()).await,
        1000
    );
    let mut late = common::client(to, addr).await;
    let r = request(&mut late, move |f| f.subscribe(&to, TOPIC, [CONTENT])).await;
    assert_eq!(status(&r), 503);
    // The 1000 are served: one message fans out to all of them.
    assert_eq!(feed(&server, TOPIC, message(CONTENT, b"x")).await, 1000);
    for c in &mut clients {
        common::next_message(c).await;
    }
}
