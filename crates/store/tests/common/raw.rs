//! A request-response peer that sends and receives raw bytes on the store
//! protocols, standing in for a foreign client such as js-waku.

use std::io;
use std::time::Duration;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, StreamExt};
use libp2p::StreamProtocol;
use libp2p::request_response::{self, Codec, Event, Message, ProtocolSupport};
use libp2p::swarm::SwarmEvent;

use super::{DEADLINE, Pair};

/// What the raw peer sends on a new stream.
#[derive(Debug, Clone)]
pub enum RawRequest {
    /// These bytes, then the write side is closed.
    Bytes(Vec<u8>),
    /// Nothing, ever: the stream stays open and silent.
    Idle,
}

/// Reads until the end of the stream; writes bytes as given.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawCodec;

async fn read_all<T: AsyncRead + Unpin + Send>(io: &mut T) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    io.take(32 * 1024 * 1024).read_to_end(&mut buf).await?;
    Ok(buf)
}

impl Codec for RawCodec {
    type Protocol = StreamProtocol;
    type Request = RawRequest;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<RawRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        Ok(RawRequest::Bytes(read_all(io).await?))
    }

    /// Returns only at the end of the stream: proof that the responder
    /// closed its write side.
    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_all(io).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: RawRequest,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        match request {
            RawRequest::Bytes(bytes) => {
                io.write_all(&bytes).await?;
                io.flush().await
            }
            RawRequest::Idle => futures::future::pending().await,
        }
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&response).await?;
        io.flush().await
    }
}

/// The raw peer's behaviour.
pub type Raw = request_response::Behaviour<RawCodec>;

/// A raw peer speaking `protocol`.
pub fn raw(protocol: StreamProtocol) -> Raw {
    Raw::with_codec(
        RawCodec,
        [(protocol, ProtocolSupport::Outbound)],
        request_response::Config::default().with_request_timeout(Duration::from_secs(60)),
    )
}

impl Pair<Raw> {
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
