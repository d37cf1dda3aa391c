//! Inbound streams that never carry a request (js-waku opens such streams
//! ahead of time) are tolerated: dropped quietly, connection kept.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Ev, drive, listen, metadata_event, node, raw, swarm, until, vector_bytes};
use libp2p::request_response::{Event as RrEvent, Message};
use libp2p::swarm::SwarmEvent;
use tracing::field::{Field, Visit};
use tracing::{Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use waku_metadata::{Config, Event};
use waku_testkit::raw::{Raw, RawRequest};

/// Counts warnings and errors of this crate and of request-response, and
/// the debug lines request-response logs for a stream without a request.
#[derive(Clone, Default)]
struct Counter {
    warnings: Arc<AtomicUsize>,
    empty_streams: Arc<AtomicUsize>,
}

struct MessageText(String);

impl Visit for MessageText {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl<S: Subscriber> Layer<S> for Counter {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        let ours = meta.target().starts_with("waku_metadata")
            || meta.target().starts_with("libp2p_request_response");
        if !ours {
            return;
        }
        if *meta.level() <= Level::WARN {
            self.warnings.fetch_add(1, Ordering::SeqCst);
        }
        let mut text = MessageText(String::new());
        event.record(&mut text);
        // libp2p-request-response 0.30 does not report streams that never
        // carried a request to the behaviour: it logs them at debug level
        // as failures "for an unknown request_id".
        if text.0.contains("unknown request_id") {
            self.empty_streams.fetch_add(1, Ordering::SeqCst);
        }
    }
}

// spec: NET-002
#[tokio::test]
async fn silent_and_empty_inbound_streams_are_tolerated() {
    let counter = Counter::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(counter.clone()))
        .unwrap();

    let mut server = node(Config::new(1).with_request_timeout(Duration::from_secs(1)));
    let mut client = swarm(raw(Duration::from_secs(60)));
    let addr = listen(&mut server).await;
    client.dial(addr).unwrap();
    let ps = *server.local_peer_id();
    let pc = *client.local_peer_id();
    let js_response = vector_bytes("metadata_response_js_light_node", "length_prefixed_hex");

    // The client opens a silent stream and a stream it closes empty, and
    // answers the server's own request like js-waku.
    let respond = |client: &mut libp2p::Swarm<Raw>, ev| match ev {
        SwarmEvent::ConnectionEstablished { .. } => {
            client.behaviour_mut().send_request(&ps, RawRequest::Idle);
            client
                .behaviour_mut()
                .send_request(&ps, RawRequest::Bytes(vec![]));
            None
        }
        SwarmEvent::Behaviour(RrEvent::Message {
            message: Message::Request { channel, .. },
            ..
        }) => {
            client
                .behaviour_mut()
                .send_response(channel, js_response.clone())
                .unwrap();
            None
        }
        SwarmEvent::Behaviour(RrEvent::Message {
            message: Message::Response { response, .. },
            ..
        }) => Some(response),
        _ => None,
    };
    drive(
        &mut server,
        &mut client,
        "both streams dropped",
        |_, client, ev| {
            match ev {
                Ev::A(e) => {
                    if let Some(e @ (Event::Rejected { .. } | Event::QueryFailed { .. })) =
                        metadata_event(e)
                    {
                        panic!("{e:?}");
                    }
                }
                // (The empty stream may get an empty answer: ignored.)
                Ev::B(e) => drop(respond(client, e)),
                Ev::Tick => {}
            }
            counter.empty_streams.load(Ordering::SeqCst) >= 2
        },
    )
    .await;
    assert!(server.is_connected(&pc));

    // The connection still serves real requests.
    let js_request = vector_bytes("metadata_request_js_light_node", "length_prefixed_hex");
    client
        .behaviour_mut()
        .send_request(&ps, RawRequest::Bytes(js_request));
    let mut answer = None;
    drive(&mut server, &mut client, "an answer", |_, client, ev| {
        if let Ev::B(e) = ev {
            answer = answer
                .take()
                .or(respond(client, e).filter(|r| !r.is_empty()));
        }
        answer.is_some()
    })
    .await;
    // A node without shards answers exactly what js-waku sends: 02 08 01.
    assert_eq!(
        answer.unwrap(),
        vector_bytes("metadata_request_js_light_node", "length_prefixed_hex")
    );
    until(&mut server, &mut client, "metadata stored", |s, _| {
        s.behaviour().metadata.peer_metadata(&pc).is_some()
    })
    .await;
    assert_eq!(
        counter.warnings.load(Ordering::SeqCst),
        0,
        "nothing logged at warn level"
    );
}
