//! The HTTP/1 server behind the REST API and the metrics endpoint, with
//! the limits `axum::serve` lacks: a client must send a request's headers
//! within [`HttpLimits::header_read_timeout`] (an idle keep-alive
//! connection is closed after the same time), and at most
//! [`HttpLimits::max_connections`] connections are served at once. Beyond
//! that cap the server stops accepting until one closes, so the kernel's
//! backlog holds newcomers: a flood of half-open connections slows the API
//! for at most the header timeout and never takes a file descriptor each
//! for ever.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tracing::{debug, warn};

/// Limits of one HTTP listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Time a client has to send a request's headers, and the longest an
    /// idle keep-alive connection stays open.
    pub header_read_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

impl Default for HttpLimits {
    /// 10 s to send headers; 256 connections at once.
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 256,
        }
    }
}

/// Serves `app` on `listener` until the task running it is aborted.
pub async fn serve(listener: TcpListener, app: Router, limits: HttpLimits, name: &'static str) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        // Wait for a free slot before accepting: beyond the cap, new
        // connections wait in the listen backlog.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, remote) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: back off briefly
                // instead of spinning.
                warn!(%e, "{name} server could not accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = connection.await {
                debug!(%remote, %e, "{name} connection closed");
            }
            drop(slot);
        });
    }
}
