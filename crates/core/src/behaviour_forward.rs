//! Macros for protocol crates whose libp2p `NetworkBehaviour` wraps an
//! inner behaviour: the delegating connection methods and the step that
//! polls the inner behaviour, written once.
//!
//! Behind the `behaviour` feature: the expansion names libp2p's types through
//! this crate (`$crate`), so the crate expanding it needs no particular name
//! for its own libp2p dependency.

/// Expands, inside `impl NetworkBehaviour for X`, to the four
/// `handle_*_connection` methods and `on_connection_handler_event`, each
/// passing its arguments to `self.inner`.
#[macro_export]
macro_rules! forward_connection_setup {
    () => {
        fn handle_pending_inbound_connection(
            &mut self,
            connection_id: $crate::__libp2p::swarm::ConnectionId,
            local_addr: &$crate::__libp2p::Multiaddr,
            remote_addr: &$crate::__libp2p::Multiaddr,
        ) -> Result<(), $crate::__libp2p::swarm::ConnectionDenied> {
            self.inner
                .handle_pending_inbound_connection(connection_id, local_addr, remote_addr)
        }

        fn handle_established_inbound_connection(
            &mut self,
            connection_id: $crate::__libp2p::swarm::ConnectionId,
            peer: $crate::__libp2p::PeerId,
            local_addr: &$crate::__libp2p::Multiaddr,
            remote_addr: &$crate::__libp2p::Multiaddr,
        ) -> Result<
            $crate::__libp2p::swarm::THandler<Self>,
            $crate::__libp2p::swarm::ConnectionDenied,
        > {
            self.inner.handle_established_inbound_connection(
                connection_id,
                peer,
                local_addr,
                remote_addr,
            )
        }

        fn handle_pending_outbound_connection(
            &mut self,
            connection_id: $crate::__libp2p::swarm::ConnectionId,
            maybe_peer: Option<$crate::__libp2p::PeerId>,
            addresses: &[$crate::__libp2p::Multiaddr],
            effective_role: $crate::__libp2p::core::Endpoint,
        ) -> Result<Vec<$crate::__libp2p::Multiaddr>, $crate::__libp2p::swarm::ConnectionDenied> {
            self.inner.handle_pending_outbound_connection(
                connection_id,
                maybe_peer,
                addresses,
                effective_role,
            )
        }

        fn handle_established_outbound_connection(
            &mut self,
            connection_id: $crate::__libp2p::swarm::ConnectionId,
            peer: $crate::__libp2p::PeerId,
            addr: &$crate::__libp2p::Multiaddr,
            role_override: $crate::__libp2p::core::Endpoint,
            port_use: $crate::__libp2p::core::transport::PortUse,
        ) -> Result<
            $crate::__libp2p::swarm::THandler<Self>,
            $crate::__libp2p::swarm::ConnectionDenied,
        > {
            self.inner.handle_established_outbound_connection(
                connection_id,
                peer,
                addr,
                role_override,
                port_use,
            )
        }

        fn on_connection_handler_event(
            &mut self,
            peer_id: $crate::__libp2p::PeerId,
            connection_id: $crate::__libp2p::swarm::ConnectionId,
            event: $crate::__libp2p::swarm::THandlerOutEvent<Self>,
        ) {
            self.inner
                .on_connection_handler_event(peer_id, connection_id, event);
        }
    };
}

/// Expands, inside the polling loop of a wrapping behaviour's `poll`, to one
/// poll of `$self.inner`: an event of the inner behaviour goes to
/// `$self.on_inner_event` (and the loop goes on), any other action is
/// returned, and `Pending` is returned as is. The inner behaviour's events
/// never leave through the returned action, as they are all handled here.
#[macro_export]
macro_rules! poll_inner_step {
    ($self:ident, $cx:ident) => {
        match $crate::__libp2p::swarm::NetworkBehaviour::poll(&mut $self.inner, $cx) {
            ::std::task::Poll::Ready($crate::__libp2p::swarm::ToSwarm::GenerateEvent(event)) => {
                $self.on_inner_event(event)
            }
            ::std::task::Poll::Ready(action) => {
                return ::std::task::Poll::Ready(
                    action.map_out(|_| {
                        unreachable!("events of the inner behaviour are handled above")
                    }),
                );
            }
            ::std::task::Poll::Pending => return ::std::task::Poll::Pending,
        }
    };
}
