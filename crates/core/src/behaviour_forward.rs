//! A macro for protocol crates whose libp2p `NetworkBehaviour` wraps an
//! inner behaviour: it writes the delegating connection methods once.
//!
//! waku-core does not depend on libp2p: the macro only names types, which
//! must be in scope where it is expanded.

/// Expands, inside `impl NetworkBehaviour for X`, to the four
/// `handle_*_connection` methods and `on_connection_handler_event`, each
/// passing its arguments to `self.inner`. Needs `ConnectionDenied`,
/// `ConnectionId`, `Endpoint`, `Multiaddr`, `PeerId`, `PortUse`, `THandler`
/// and `THandlerOutEvent` (from `libp2p::swarm` / `libp2p::core`) in scope.
#[macro_export]
macro_rules! forward_connection_setup {
    () => {
        fn handle_pending_inbound_connection(
            &mut self,
            connection_id: ConnectionId,
            local_addr: &Multiaddr,
            remote_addr: &Multiaddr,
        ) -> Result<(), ConnectionDenied> {
            self.inner
                .handle_pending_inbound_connection(connection_id, local_addr, remote_addr)
        }

        fn handle_established_inbound_connection(
            &mut self,
            connection_id: ConnectionId,
            peer: PeerId,
            local_addr: &Multiaddr,
            remote_addr: &Multiaddr,
        ) -> Result<THandler<Self>, ConnectionDenied> {
            self.inner.handle_established_inbound_connection(
                connection_id,
                peer,
                local_addr,
                remote_addr,
            )
        }

        fn handle_pending_outbound_connection(
            &mut self,
            connection_id: ConnectionId,
            maybe_peer: Option<PeerId>,
            addresses: &[Multiaddr],
            effective_role: Endpoint,
        ) -> Result<Vec<Multiaddr>, ConnectionDenied> {
            self.inner.handle_pending_outbound_connection(
                connection_id,
                maybe_peer,
                addresses,
                effective_role,
            )
        }

        fn handle_established_outbound_connection(
            &mut self,
            connection_id: ConnectionId,
            peer: PeerId,
            addr: &Multiaddr,
            role_override: Endpoint,
            port_use: PortUse,
        ) -> Result<THandler<Self>, ConnectionDenied> {
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
            peer_id: PeerId,
            connection_id: ConnectionId,
            event: THandlerOutEvent<Self>,
        ) {
            self.inner
                .on_connection_handler_event(peer_id, connection_id, event);
        }
    };
}
