//! The store's raw-bytes client, standing in for a foreign client such as
//! js-waku: the shared [`waku_testkit::raw`] peer with the store's settings,
//! and a [`Pair`] that sends raw requests.

use std::time::Duration;

use futures::StreamExt;
use libp2p::StreamProtocol;
use libp2p::request_response::{Event, Message, ProtocolSupport};
use libp2p::swarm::SwarmEvent;
use waku_testkit::raw::RawCodec;
pub use waku_testkit::raw::{Raw, RawRequest};

use waku_store::proto::{StoreQueryRequest, StoreQueryResponse};
use waku_store::{PROTOCOL, ResponseError, StoreResponse};

use super::{DEADLINE, Pair};

/// A raw v3 client and a second service over the store (and with the
/// config) of `pair`'s service, connected: for requests the typed client
/// cannot send.
pub async fn raw_pair_on<C: libp2p::swarm::NetworkBehaviour>(pair: &Pair<C>) -> Pair<Raw> {
    let service = pair.server.behaviour();
    let store = service.store().expect("a service").clone();
    Pair::with_client(store, service.config().clone(), raw(PROTOCOL)).await
}

/// A raw client (see [`waku_testkit::raw`]) speaking `protocol`, reading
/// answers of up to 32 MiB until the end of the stream, whose requests may
/// wait 60 s.
pub fn raw(protocol: StreamProtocol) -> Raw {
    waku_testkit::raw(
        [(protocol, ProtocolSupport::Outbound)],
        RawCodec {
            read_limit: 32 * 1024 * 1024,
            ..RawCodec::default()
        },
        Duration::from_secs(60),
    )
}

impl Pair<Raw> {
    /// Sends a wire v3 request and checks the one response frame.
    pub async fn request(
        &mut self,
        request: StoreQueryRequest,
    ) -> Result<StoreResponse, ResponseError> {
        let bytes = self
            .send_raw(waku_core::codec::encode_frame(&request))
            .await;
        let (response, _) =
            waku_core::codec::decode_frame::<StoreQueryResponse>(&bytes, usize::MAX)
                .expect("a decodable response")
                .expect("a whole response frame");
        StoreResponse::try_from(response)
    }
}

impl<S: libp2p::swarm::NetworkBehaviour> Pair<Raw, S> {
    /// Sends raw bytes and returns the raw response (everything the server
    /// wrote before closing its side).
    pub async fn send_raw(&mut self, bytes: Vec<u8>) -> Vec<u8> {
        let peer = self.server_id;
        let id = self
            .client
            .behaviour_mut()
            .send_request(&peer, RawRequest::Bytes(bytes));
        let run = async {
            loop {
                tokio::select! {
                    ev = self.server.select_next_some() => drop(ev),
                    ev = self.client.select_next_some() => match ev {
                        SwarmEvent::Behaviour(Event::Message {
                            message: Message::Response { request_id, response },
                            ..
                        }) if request_id == id => return response,
                        SwarmEvent::Behaviour(Event::OutboundFailure { request_id, error, .. })
                            if request_id == id => panic!("raw request failed: {error}"),
                        _ => {}
                    }
                }
            }
        };
        tokio::time::timeout(DEADLINE, run)
            .await
            .expect("no raw response")
    }
}
