//! The `NetworkBehaviour` methods both store behaviours forward unchanged
//! to their inner request-response behaviour (field `inner`).

/// Expands, inside `impl NetworkBehaviour for X`, to the connection methods
/// (waku-core's [`waku_core::forward_connection_setup`]) and
/// `on_swarm_event`, all forwarding to `self.inner`.
macro_rules! delegate_to_inner {
    () => {
        waku_core::forward_connection_setup!();

        fn on_swarm_event(&mut self, event: ::libp2p::swarm::FromSwarm) {
            self.inner.on_swarm_event(event);
        }
    };
}

pub(crate) use delegate_to_inner;
