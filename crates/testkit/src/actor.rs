//! A swarm running in its own tokio task, driven through closures, with its
//! events forwarded on a channel. Lets a test (or a benchmark) run many
//! peers at once without polling them by hand.

use std::time::Duration;

use futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, SwarmBuilder, noise, tcp, yamux};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Longest a test waits for one expected event.
pub const DEADLINE: Duration = Duration::from_secs(20);

type Command<B> = Box<dyn FnOnce(&mut Swarm<B>) + Send>;
type Hook<B> = Box<dyn FnMut(&mut Swarm<B>, &SwarmEvent<<B as NetworkBehaviour>::ToSwarm>) + Send>;

/// A swarm over 127.0.0.1 TCP with noise and yamux and a long idle timeout
/// (only the code under test closes connections).
pub fn swarm<B: NetworkBehaviour>(behaviour: B) -> Swarm<B> {
    swarm_with_idle_timeout(behaviour, Duration::from_secs(300))
}

/// [`swarm`] with the given idle connection timeout, for tests of what
/// keeps connections open.
pub fn swarm_with_idle_timeout<B: NetworkBehaviour>(behaviour: B, idle: Duration) -> Swarm<B> {
    swarm_with_identity(Keypair::generate_ed25519(), behaviour, idle)
}

/// [`swarm_with_idle_timeout`] with the identity `keypair`.
pub fn swarm_with_identity<B: NetworkBehaviour>(
    keypair: Keypair,
    behaviour: B,
    idle: Duration,
) -> Swarm<B> {
    SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|_| behaviour)
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(idle))
        .build()
}

/// A swarm in its own task.
pub struct Peer<B: NetworkBehaviour> {
    /// Its peer id.
    pub id: PeerId,
    commands: mpsc::UnboundedSender<Command<B>>,
    events: mpsc::UnboundedReceiver<SwarmEvent<B::ToSwarm>>,
    task: JoinHandle<()>,
}

impl<B> Peer<B>
where
    B: NetworkBehaviour + Send + 'static,
    B::ToSwarm: Send + std::fmt::Debug,
{
    /// Runs `swarm` in a new task.
    pub fn spawn(swarm: Swarm<B>) -> Self {
        Self::spawn_with(swarm, |_, _| {})
    }

    /// Runs `swarm` in a new task; `hook` sees every event first (and may
    /// act on the swarm), as a node's event loop would.
    pub fn spawn_with<H>(mut swarm: Swarm<B>, hook: H) -> Self
    where
        H: FnMut(&mut Swarm<B>, &SwarmEvent<B::ToSwarm>) + Send + 'static,
    {
        let id = *swarm.local_peer_id();
        let (commands, mut command_rx) = mpsc::unbounded_channel::<Command<B>>();
        let (event_tx, events) = mpsc::unbounded_channel();
        let mut hook: Hook<B> = Box::new(hook);
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    command = command_rx.recv() => match command {
                        Some(f) => f(&mut swarm),
                        None => return,
                    },
                    event = swarm.select_next_some() => {
                        hook(&mut swarm, &event);
                        let _ = event_tx.send(event);
                    }
                }
            }
        });
        Self {
            id,
            commands,
            events,
            task,
        }
    }

    /// Runs `f` on the swarm inside its task and returns the result.
    pub async fn with<R, F>(&self, f: F) -> R
    where
        R: Send + 'static,
        F: FnOnce(&mut Swarm<B>) -> R + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Box::new(move |s| {
                let _ = tx.send(f(s));
            }))
            .unwrap();
        rx.await.unwrap()
    }

    /// The next event; panics after [`DEADLINE`].
    pub async fn next(&mut self) -> SwarmEvent<B::ToSwarm> {
        tokio::time::timeout(DEADLINE, self.events.recv())
            .await
            .expect("timed out waiting for an event")
            .expect("swarm task ended")
    }

    /// Skips events until `pick` returns `Some`; panics after [`DEADLINE`]
    /// naming `what`.
    pub async fn wait<T>(
        &mut self,
        what: &str,
        mut pick: impl FnMut(SwarmEvent<B::ToSwarm>) -> Option<T>,
    ) -> T {
        let run = async {
            loop {
                let event = self.events.recv().await.expect("swarm task ended");
                if let Some(t) = pick(event) {
                    return t;
                }
            }
        };
        match tokio::time::timeout(DEADLINE, run).await {
            Ok(t) => t,
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }

    /// The next behaviour event matched by `pick`.
    pub async fn wait_behaviour<T>(
        &mut self,
        what: &str,
        mut pick: impl FnMut(B::ToSwarm) -> Option<T>,
    ) -> T {
        self.wait(what, |e| match e {
            SwarmEvent::Behaviour(b) => pick(b),
            _ => None,
        })
        .await
    }

    /// Collects the behaviour events arriving within `period`.
    pub async fn drain_for(&mut self, period: Duration) -> Vec<B::ToSwarm> {
        let mut out = Vec::new();
        let end = tokio::time::Instant::now() + period;
        while let Ok(Some(e)) = tokio::time::timeout_at(end, self.events.recv()).await {
            if let SwarmEvent::Behaviour(b) = e {
                out.push(b);
            }
        }
        out
    }

    /// Listens on 127.0.0.1 and returns the address.
    pub async fn listen(&mut self) -> Multiaddr {
        self.with(|s| {
            s.listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
                .unwrap();
        })
        .await;
        self.wait("a listen address", |e| match e {
            SwarmEvent::NewListenAddr { address, .. } => Some(address),
            _ => None,
        })
        .await
    }

    /// Dials `addr` and waits until the connection to `peer` is up.
    pub async fn connect(&mut self, addr: Multiaddr, peer: PeerId) {
        self.with(move |s| s.dial(addr).unwrap()).await;
        self.wait("the connection", |e| match e {
            SwarmEvent::ConnectionEstablished { peer_id, .. } if peer_id == peer => Some(()),
            SwarmEvent::OutgoingConnectionError { error, .. } => panic!("dial failed: {error}"),
            _ => None,
        })
        .await;
    }

    /// Whether the swarm listens anywhere.
    pub async fn is_listening(&self) -> bool {
        self.with(|s| s.listeners().next().is_some()).await
    }

    /// Stops the task, dropping the swarm and its connections.
    pub fn kill(self) {
        self.task.abort();
    }
}
