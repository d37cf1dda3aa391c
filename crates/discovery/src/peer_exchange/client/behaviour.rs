//! The peer-exchange client `NetworkBehaviour`.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::task::{Context, Poll};

use libp2p::PeerId;
use libp2p::request_response::{
    self, Message, OutboundFailure, OutboundRequestId, ProtocolSupport,
};
use libp2p::swarm::{FromSwarm, NetworkBehaviour, THandler, THandlerInEvent, ToSwarm};
use waku_core::forward_connection_setup;
use waku_enr::{EnrError, WakuEnr};

use super::config::Config;
use crate::peer_exchange::StatusCode;
use crate::peer_exchange::codec::{ClientCodec, InboundResponse, PROTOCOL};
use crate::peer_exchange::proto::PeerExchangeResponse;

type Inner = request_response::Behaviour<ClientCodec>;
type InnerEvent = request_response::Event<u64, InboundResponse>;

/// Why a peer-exchange request brought no ENRs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The service answered with an error status (an old-style answer with
    /// neither a status nor peers counts as 503, as nwaku reads it).
    #[error("refused with {status}{}", .description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Refused {
        /// The status.
        status: StatusCode,
        /// The service's explanation, if any.
        description: Option<String>,
    },
    /// The answer was not a peer-exchange response.
    #[error("malformed response: {0}")]
    MalformedResponse(String),
    /// No answer in time.
    #[error("request timed out")]
    Timeout,
    /// The peer does not speak peer exchange.
    #[error("the peer does not support peer exchange")]
    UnsupportedProtocol,
    /// The connection closed before the answer.
    #[error("connection closed before the answer")]
    ConnectionClosed,
    /// The peer could not be dialled.
    #[error("could not dial the peer")]
    DialFailure,
    /// The stream failed.
    #[error("stream error: {0}")]
    Io(#[from] io::Error),
}

/// What the peer-exchange client reports.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// The service answered 200.
    Received {
        /// The service node.
        peer: PeerId,
        /// What [`Behaviour::request`] returned.
        request: OutboundRequestId,
        /// The ENRs that decoded and verified, at most as many as asked.
        enrs: Vec<WakuEnr>,
        /// Why each of the other records was skipped.
        skipped: Vec<EnrError>,
    },
    /// The request failed.
    Failed {
        /// The service node.
        peer: PeerId,
        /// What [`Behaviour::request`] returned.
        request: OutboundRequestId,
        /// Why.
        error: RequestError,
    },
}

/// The peer-exchange client `NetworkBehaviour`.
///
/// [`Behaviour::request`] asks a service node for ENRs; the outcome
/// arrives as one [`Event`]. Every record is decoded and its signature
/// checked; those that fail are skipped (and listed in
/// [`Event::Received::skipped`]), and the rest are capped at the number
/// asked for.
pub struct Behaviour {
    inner: Inner,
    in_flight: HashMap<OutboundRequestId, u64>,
    events: VecDeque<Event>,
}

impl Behaviour {
    /// A client with `config`.
    pub fn new(config: Config) -> Self {
        let rr_config = request_response::Config::default()
            .with_request_timeout(config.request_timeout)
            .with_max_concurrent_streams(config.max_concurrent_streams);
        Self {
            inner: Inner::with_codec(
                ClientCodec,
                [(PROTOCOL, ProtocolSupport::Outbound)],
                rr_config,
            ),
            in_flight: HashMap::new(),
            events: VecDeque::new(),
        }
    }

    /// Asks `peer` for up to `num_peers` ENRs. If `peer` is not connected
    /// the swarm dials it with the addresses it knows.
    pub fn request(&mut self, peer: &PeerId, num_peers: u64) -> OutboundRequestId {
        let id = self.inner.send_request(peer, num_peers);
        self.in_flight.insert(id, num_peers);
        id
    }

    /// Requests not answered yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    fn on_response(&mut self, peer: PeerId, request: OutboundRequestId, response: InboundResponse) {
        let asked = self.in_flight.remove(&request).unwrap_or(u64::MAX);
        let event = match response {
            InboundResponse::Malformed(reason) => Event::Failed {
                peer,
                request,
                error: RequestError::MalformedResponse(reason),
            },
            InboundResponse::Response(response) => match decode(response, asked) {
                Ok((enrs, skipped)) => {
                    tracing::debug!(%peer, received = enrs.len(), skipped = skipped.len(), "peer-exchange answer");
                    Event::Received {
                        peer,
                        request,
                        enrs,
                        skipped,
                    }
                }
                Err(error) => Event::Failed {
                    peer,
                    request,
                    error,
                },
            },
        };
        self.events.push_back(event);
    }

    fn on_inner_event(&mut self, event: InnerEvent) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => self.on_response(peer, request_id, response),
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                self.in_flight.remove(&request_id);
                let error = match error {
                    OutboundFailure::Timeout => RequestError::Timeout,
                    OutboundFailure::UnsupportedProtocols => RequestError::UnsupportedProtocol,
                    OutboundFailure::ConnectionClosed => RequestError::ConnectionClosed,
                    OutboundFailure::DialFailure => RequestError::DialFailure,
                    OutboundFailure::Io(e) => RequestError::Io(e),
                };
                tracing::debug!(%peer, %error, "peer-exchange request failed");
                self.events.push_back(Event::Failed {
                    peer,
                    request: request_id,
                    error,
                });
            }
            request_response::Event::Message {
                message: Message::Request { .. },
                ..
            }
            | request_response::Event::InboundFailure { .. }
            | request_response::Event::ResponseSent { .. } => {}
        }
    }
}

/// The verified ENRs of a response (at most `asked`) and why the others
/// were skipped, or the refusal.
fn decode(
    response: PeerExchangeResponse,
    asked: u64,
) -> Result<(Vec<WakuEnr>, Vec<EnrError>), RequestError> {
    // An answer without a status comes from an implementation older than
    // the status field: success if it carries peers (nwaku's reading).
    let status = match response.status_code {
        Some(code) => StatusCode(code),
        None if response.peer_infos.is_empty() => StatusCode::SERVICE_UNAVAILABLE,
        None => StatusCode::SUCCESS,
    };
    if !status.is_success() {
        return Err(RequestError::Refused {
            status,
            description: response.status_desc,
        });
    }
    let cap = usize::try_from(asked).unwrap_or(usize::MAX);
    let mut enrs = Vec::new();
    let mut skipped = Vec::new();
    for info in response.peer_infos {
        match WakuEnr::from_rlp_bytes(&info.enr) {
            Ok(enr) if enrs.len() < cap => enrs.push(enr),
            Ok(_) => {
                tracing::debug!("peer-exchange answer holds more ENRs than asked; extra dropped")
            }
            Err(e) => skipped.push(e),
        }
    }
    Ok((enrs, skipped))
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = THandler<Inner>;
    type ToSwarm = Event;

    forward_connection_setup!();

    fn on_swarm_event(&mut self, event: FromSwarm) {
        self.inner.on_swarm_event(event);
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<Event, THandlerInEvent<Self>>> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Poll::Ready(ToSwarm::GenerateEvent(event));
            }
            waku_core::poll_inner_step!(self, cx);
        }
    }
}
