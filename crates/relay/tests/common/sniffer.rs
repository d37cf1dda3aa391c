//! A hand-written pubsub peer for wire checks: it negotiates streams under
//! protocol ids of our choice and hands the raw streams to the test, which
//! reads and writes gossipsub RPC frames itself (unsigned-varint length +
//! protobuf), independently of rust-libp2p's gossipsub.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::task::{Context, Poll};

use futures::future::{Ready, ready};
use libp2p::core::Endpoint;
use libp2p::core::transport::PortUse;
use libp2p::core::upgrade::{InboundUpgrade, OutboundUpgrade, UpgradeInfo};
use libp2p::swarm::handler::{
    ConnectionEvent, DialUpgradeError, FullyNegotiatedInbound, FullyNegotiatedOutbound,
};
use libp2p::swarm::{
    ConnectionDenied, ConnectionHandler, ConnectionHandlerEvent, ConnectionId, FromSwarm,
    NetworkBehaviour, NotifyHandler, Stream, SubstreamProtocol, THandler, THandlerInEvent,
    THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId, StreamProtocol};

/// The pubsub RPC, with published messages kept as raw bytes so the test can
/// list exactly which fields they contain.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RawRpc {
    /// Subscription changes.
    #[prost(message, repeated, tag = "1")]
    pub subscriptions: Vec<SubOpts>,
    /// Published messages, undecoded.
    #[prost(bytes = "vec", repeated, tag = "2")]
    pub publish: Vec<Vec<u8>>,
    /// Control messages, undecoded.
    #[prost(bytes = "vec", optional, tag = "3")]
    pub control: Option<Vec<u8>>,
}

/// `RPC.SubOpts`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SubOpts {
    /// Subscribe (true) or unsubscribe (false).
    #[prost(bool, optional, tag = "1")]
    pub subscribe: Option<bool>,
    /// The pubsub topic.
    #[prost(string, optional, tag = "2")]
    pub topic_id: Option<String>,
}

/// `RPC.Message`, every field optional so presence is visible.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PubMessage {
    /// `from` (must be absent).
    #[prost(bytes = "vec", optional, tag = "1")]
    pub from: Option<Vec<u8>>,
    /// `data`: the encoded WakuMessage.
    #[prost(bytes = "vec", optional, tag = "2")]
    pub data: Option<Vec<u8>>,
    /// `seqno` (must be absent).
    #[prost(bytes = "vec", optional, tag = "3")]
    pub seqno: Option<Vec<u8>>,
    /// `topicIDs`.
    #[prost(string, repeated, tag = "4")]
    pub topic_ids: Vec<String>,
    /// `signature` (must be absent).
    #[prost(bytes = "vec", optional, tag = "5")]
    pub signature: Option<Vec<u8>>,
    /// `key` (must be absent).
    #[prost(bytes = "vec", optional, tag = "6")]
    pub key: Option<Vec<u8>>,
}

/// An RPC we send: subscriptions and fully decoded messages.
#[derive(Clone, PartialEq, prost::Message)]
pub struct OutRpc {
    /// Subscription changes.
    #[prost(message, repeated, tag = "1")]
    pub subscriptions: Vec<SubOpts>,
    /// Messages.
    #[prost(message, repeated, tag = "2")]
    pub publish: Vec<PubMessage>,
}

/// The field numbers present in a protobuf message, in order (fails on
/// malformed input).
pub fn field_numbers(mut bytes: &[u8]) -> Vec<u64> {
    fn varint(bytes: &mut &[u8]) -> u64 {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (b, rest) = bytes.split_first().expect("truncated varint");
            *bytes = rest;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return value;
            }
        }
        panic!("varint too long")
    }
    let mut fields = Vec::new();
    while !bytes.is_empty() {
        let key = varint(&mut bytes);
        fields.push(key >> 3);
        let skip = match key & 7 {
            0 => {
                varint(&mut bytes);
                0
            }
            1 => 8,
            2 => usize::try_from(varint(&mut bytes)).unwrap(),
            5 => 4,
            other => panic!("unexpected wire type {other}"),
        };
        bytes = &bytes[skip..];
    }
    fields
}

/// Protocol ids offered or accepted on a stream.
#[derive(Debug, Clone)]
pub struct Protocols(pub Vec<StreamProtocol>);

impl UpgradeInfo for Protocols {
    type Info = StreamProtocol;
    type InfoIter = Vec<StreamProtocol>;

    fn protocol_info(&self) -> Self::InfoIter {
        self.0.clone()
    }
}

impl InboundUpgrade<Stream> for Protocols {
    type Output = (Stream, StreamProtocol);
    type Error = Infallible;
    type Future = Ready<Result<Self::Output, Infallible>>;

    fn upgrade_inbound(self, stream: Stream, info: StreamProtocol) -> Self::Future {
        ready(Ok((stream, info)))
    }
}

impl OutboundUpgrade<Stream> for Protocols {
    type Output = (Stream, StreamProtocol);
    type Error = Infallible;
    type Future = Ready<Result<Self::Output, Infallible>>;

    fn upgrade_outbound(self, stream: Stream, info: StreamProtocol) -> Self::Future {
        ready(Ok((stream, info)))
    }
}

/// What the sniffer reports.
#[derive(Debug)]
pub enum SnifferEvent {
    /// The remote opened a stream; `protocol` is the one negotiated.
    Inbound {
        /// The remote.
        peer: PeerId,
        /// Negotiated protocol id.
        protocol: StreamProtocol,
        /// The stream.
        stream: Stream,
    },
    /// A stream we asked for is open.
    Outbound {
        /// The remote.
        peer: PeerId,
        /// Negotiated protocol id.
        protocol: StreamProtocol,
        /// The stream.
        stream: Stream,
    },
    /// The remote refused a protocol we proposed.
    OutboundFailed {
        /// The remote.
        peer: PeerId,
        /// The refused protocol id.
        protocol: StreamProtocol,
        /// The error.
        error: String,
    },
}

/// Per-connection half of the sniffer.
pub struct SnifferHandler {
    listen: Vec<StreamProtocol>,
    to_open: VecDeque<StreamProtocol>,
    out: VecDeque<HandlerOut>,
}

/// Handler to behaviour messages.
#[derive(Debug)]
pub enum HandlerOut {
    /// Inbound stream.
    Inbound(Stream, StreamProtocol),
    /// Outbound stream.
    Outbound(Stream, StreamProtocol),
    /// Outbound negotiation failed.
    Failed(StreamProtocol, String),
}

impl ConnectionHandler for SnifferHandler {
    type FromBehaviour = StreamProtocol;
    type ToBehaviour = HandlerOut;
    type InboundProtocol = Protocols;
    type OutboundProtocol = Protocols;
    type InboundOpenInfo = ();
    type OutboundOpenInfo = StreamProtocol;

    fn listen_protocol(&self) -> SubstreamProtocol<Protocols, ()> {
        SubstreamProtocol::new(Protocols(self.listen.clone()), ())
    }

    fn connection_keep_alive(&self) -> bool {
        true
    }

    fn poll(
        &mut self,
        _cx: &mut Context<'_>,
    ) -> Poll<ConnectionHandlerEvent<Protocols, StreamProtocol, HandlerOut>> {
        if let Some(p) = self.to_open.pop_front() {
            return Poll::Ready(ConnectionHandlerEvent::OutboundSubstreamRequest {
                protocol: SubstreamProtocol::new(Protocols(vec![p.clone()]), p),
            });
        }
        if let Some(e) = self.out.pop_front() {
            return Poll::Ready(ConnectionHandlerEvent::NotifyBehaviour(e));
        }
        Poll::Pending
    }

    fn on_behaviour_event(&mut self, protocol: StreamProtocol) {
        self.to_open.push_back(protocol);
    }

    fn on_connection_event(
        &mut self,
        event: ConnectionEvent<Protocols, Protocols, (), StreamProtocol>,
    ) {
        match event {
            ConnectionEvent::FullyNegotiatedInbound(FullyNegotiatedInbound {
                protocol: (stream, p),
                ..
            }) => self.out.push_back(HandlerOut::Inbound(stream, p)),
            ConnectionEvent::FullyNegotiatedOutbound(FullyNegotiatedOutbound {
                protocol: (stream, p),
                ..
            }) => self.out.push_back(HandlerOut::Outbound(stream, p)),
            ConnectionEvent::DialUpgradeError(DialUpgradeError { info, error }) => self
                .out
                .push_back(HandlerOut::Failed(info, format!("{error:?}"))),
            _ => {}
        }
    }
}

/// Accepts inbound streams on `listen` and opens outbound ones on request.
pub struct Sniffer {
    listen: Vec<StreamProtocol>,
    to_open: VecDeque<(PeerId, StreamProtocol)>,
    events: VecDeque<SnifferEvent>,
}

impl Sniffer {
    /// A sniffer accepting `listen` (in preference order).
    pub fn new(listen: &[&'static str]) -> Self {
        Self {
            listen: listen.iter().map(|p| StreamProtocol::new(p)).collect(),
            to_open: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Opens a stream to `peer` proposing only `protocol`.
    pub fn open(&mut self, peer: PeerId, protocol: &'static str) {
        self.to_open
            .push_back((peer, StreamProtocol::new(protocol)));
    }

    fn handler(&self) -> SnifferHandler {
        SnifferHandler {
            listen: self.listen.clone(),
            to_open: VecDeque::new(),
            out: VecDeque::new(),
        }
    }
}

impl NetworkBehaviour for Sniffer {
    type ConnectionHandler = SnifferHandler;
    type ToSwarm = SnifferEvent;

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(self.handler())
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(self.handler())
    }

    fn on_swarm_event(&mut self, _: FromSwarm) {}

    fn on_connection_handler_event(
        &mut self,
        peer: PeerId,
        _: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        self.events.push_back(match event {
            HandlerOut::Inbound(stream, protocol) => SnifferEvent::Inbound {
                peer,
                protocol,
                stream,
            },
            HandlerOut::Outbound(stream, protocol) => SnifferEvent::Outbound {
                peer,
                protocol,
                stream,
            },
            HandlerOut::Failed(protocol, error) => SnifferEvent::OutboundFailed {
                peer,
                protocol,
                error,
            },
        });
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<SnifferEvent, THandlerInEvent<Self>>> {
        if let Some((peer_id, protocol)) = self.to_open.pop_front() {
            return Poll::Ready(ToSwarm::NotifyHandler {
                peer_id,
                handler: NotifyHandler::Any,
                event: protocol,
            });
        }
        if let Some(e) = self.events.pop_front() {
            return Poll::Ready(ToSwarm::GenerateEvent(e));
        }
        Poll::Pending
    }
}
