//! Macros for protocol crates whose libp2p `NetworkBehaviour` wraps an
//! inner behaviour: the delegating connection methods and the step that
//! polls the inner behaviour, written once.
//!
//! waku-core does not depend on libp2p: the expansion names libp2p's types by
//! absolute path, so the crate expanding it must depend on `libp2p`.

/// Expands, inside `impl NetworkBehaviour for X`, to the four
/// `handle_*_connection` methods and `on_connection_handler_event`, each
/// passing its arguments to `self.inner`.
#[macro_export]
macro_rules! forward_connection_setup {
    () => {
        fn handle_pending_inbound_connection(
            &mut self,
            connection_id: ::libp2p::swarm::ConnectionId,
            local_addr: &::libp2p::Multiaddr,
            remote_addr: &::libp2p::Multiaddr,
        ) -> Result<(), ::libp2p::swarm::ConnectionDenied> {
            self.inner
                .handle_pending_inbound_connection(connection_id, local_addr, remote_addr)
        }

        fn handle_established_inbound_connection(
            &mut self,
            connection_id: ::libp2p::swarm::ConnectionId,
            peer: ::libp2p::PeerId,
            local_addr: &::libp2p::Multiaddr,
            remote_addr: &::libp2p::Multiaddr,
        ) -> Result<::libp2p::swarm::THandler<Self>, ::libp2p::swarm::ConnectionDenied> {
            self.inner.handle_established_inbound_connection(
                connection_id,
                peer,
                local_addr,
                remote_addr,
            )
        }

        fn handle_pending_outbound_connection(
            &mut self,
            connection_id: ::libp2p::swarm::ConnectionId,
            maybe_peer: Option<::libp2p::PeerId>,
            addresses: &[::libp2p::Multiaddr],
            effective_role: ::libp2p::core::Endpoint,
        ) -> Result<Vec<::libp2p::Multiaddr>, ::libp2p::swarm::ConnectionDenied> {
            self.inner.handle_pending_outbound_connection(
                connection_id,
                maybe_peer,
                addresses,
                effective_role,
            )
        }

        fn handle_established_outbound_connection(
            &mut self,
            connection_id: ::libp2p::swarm::ConnectionId,
            peer: ::libp2p::PeerId,
            addr: &::libp2p::Multiaddr,
            role_override: ::libp2p::core::Endpoint,
            port_use: ::libp2p::core::transport::PortUse,
        ) -> Result<::libp2p::swarm::THandler<Self>, ::libp2p::swarm::ConnectionDenied> {
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
            peer_id: ::libp2p::PeerId,
            connection_id: ::libp2p::swarm::ConnectionId,
            event: ::libp2p::swarm::THandlerOutEvent<Self>,
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
        match ::libp2p::swarm::NetworkBehaviour::poll(&mut $self.inner, $cx) {
            ::std::task::Poll::Ready(::libp2p::swarm::ToSwarm::GenerateEvent(event)) => {
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
