//! Keeps a connection open while a filter subscription lives on it.
//!
//! The service only pushes over connections the subscriber opened, so the
//! client must keep its connection to the service node open as long as it
//! holds criteria there, and the service must not close the connection of
//! a live subscriber either. Request-response alone lets an idle connection
//! close after the swarm's idle timeout (10 s by default). [`KeepAlive`] is
//! a protocol-less behaviour that the filter client and service compose into
//! theirs: its handler keeps its connection alive exactly while the owner
//! says so for that peer. (It also spares the swarm an idle timer per push.)

use std::collections::{HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::task::{Context, Poll};

use libp2p::core::Endpoint;
use libp2p::core::transport::PortUse;
use libp2p::core::upgrade::DeniedUpgrade;
use libp2p::swarm::handler::ConnectionEvent;
use libp2p::swarm::{
    ConnectionDenied, ConnectionHandlerEvent, ConnectionId, FromSwarm, NetworkBehaviour,
    NotifyHandler, SubstreamProtocol, THandler, THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};

/// The behaviour; see the module documentation.
#[derive(Debug, Default)]
pub struct KeepAlive {
    /// Peers whose connections are kept open.
    keep: HashSet<PeerId>,
    /// Established connections per peer.
    connections: HashMap<PeerId, HashSet<ConnectionId>>,
    /// Handler updates not yet handed to the swarm.
    pending: VecDeque<(PeerId, ConnectionId, bool)>,
}

impl KeepAlive {
    /// Keeps `peer`'s connections open (`true`) or lets them go idle.
    pub fn set(&mut self, peer: PeerId, keep: bool) {
        let changed = if keep {
            self.keep.insert(peer)
        } else {
            self.keep.remove(&peer)
        };
        if !changed {
            return;
        }
        if let Some(connections) = self.connections.get(&peer) {
            for connection in connections {
                self.pending.push_back((peer, *connection, keep));
            }
        }
    }

    fn handler(&self, peer: &PeerId) -> Handler {
        Handler {
            keep: self.keep.contains(peer),
        }
    }
}

impl NetworkBehaviour for KeepAlive {
    type ConnectionHandler = Handler;
    type ToSwarm = Infallible;

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(self.handler(&peer))
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(self.handler(&peer))
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match event {
            FromSwarm::ConnectionEstablished(e) => {
                self.connections
                    .entry(e.peer_id)
                    .or_default()
                    .insert(e.connection_id);
            }
            FromSwarm::ConnectionClosed(c) => {
                if let Some(connections) = self.connections.get_mut(&c.peer_id) {
                    connections.remove(&c.connection_id);
                    if connections.is_empty() {
                        self.connections.remove(&c.peer_id);
                    }
                }
            }
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _: PeerId,
        _: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Infallible, THandlerInEvent<Self>>> {
        match self.pending.pop_front() {
            Some((peer_id, connection, keep)) => Poll::Ready(ToSwarm::NotifyHandler {
                peer_id,
                handler: NotifyHandler::One(connection),
                event: keep,
            }),
            None => Poll::Pending,
        }
    }
}

/// The per-connection side: no protocol, only the keep-alive flag.
#[derive(Debug, Clone)]
pub struct Handler {
    keep: bool,
}

impl libp2p::swarm::ConnectionHandler for Handler {
    type FromBehaviour = bool;
    type ToBehaviour = Infallible;
    type InboundProtocol = DeniedUpgrade;
    type OutboundProtocol = DeniedUpgrade;
    type InboundOpenInfo = ();
    type OutboundOpenInfo = ();

    fn listen_protocol(&self) -> SubstreamProtocol<DeniedUpgrade> {
        SubstreamProtocol::new(DeniedUpgrade, ())
    }

    fn connection_keep_alive(&self) -> bool {
        self.keep
    }

    fn on_behaviour_event(&mut self, keep: bool) {
        self.keep = keep;
    }

    fn poll(
        &mut self,
        _: &mut Context<'_>,
    ) -> Poll<ConnectionHandlerEvent<DeniedUpgrade, (), Infallible>> {
        Poll::Pending
    }

    fn on_connection_event(&mut self, _: ConnectionEvent<DeniedUpgrade, DeniedUpgrade>) {
        // No streams are ever negotiated on this handler.
    }
}
