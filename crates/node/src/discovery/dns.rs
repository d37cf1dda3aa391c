//! DNS discovery for the node (`--dns-discovery-url`): the trees walked in
//! the background; their records bootstrap discv5 and are dialled.

use tokio::sync::mpsc;
use tracing::{debug, info, warn};
use waku_enr::WakuEnr;

use super::record_filter;
use crate::config::NodeConfig;
use crate::node::{Node, NodeError};

/// How long to wait before walking the DNS trees again when a walk found
/// no record.
const DNS_RETRY: std::time::Duration = std::time::Duration::from_secs(60);

/// Records found in DNS trees waiting to be used.
const DNS_BUFFER: usize = 1024;

/// DNS discovery under way: the walking task and the records it sends.
pub(crate) struct DnsWalk {
    /// Walks the trees (stopped with the node).
    pub(crate) task: tokio::task::JoinHandle<()>,
    /// The records that verified.
    pub(crate) found: mpsc::Receiver<WakuEnr>,
}

/// Walks `--dns-discovery-url`'s trees in the background (again every
/// minute until one record is found) and sends what verifies; `None`
/// without a URL.
pub(crate) fn start_dns(config: &NodeConfig) -> Result<Option<DnsWalk>, NodeError> {
    let Some(settings) = config.dns_discovery.clone() else {
        return Ok(None);
    };
    let resolver = waku_discovery::dns::HickoryResolver::with_name_servers(&settings.name_servers)
        .map_err(NodeError::DnsResolver)?;
    let (tx, rx) = mpsc::channel(DNS_BUFFER);
    let task = tokio::spawn(async move {
        let mut walker = waku_discovery::dns::Walker::new(resolver);
        loop {
            let mut found = 0;
            for url in &settings.urls {
                let outcome = walker.walk(url).await;
                for error in &outcome.errors {
                    warn!(%url, %error, "DNS discovery: part of the tree skipped");
                }
                info!(%url, records = outcome.enrs.len(), "DNS discovery: tree walked");
                found += outcome.enrs.len();
                for enr in outcome.enrs {
                    if tx.send(enr).await.is_err() {
                        return;
                    }
                }
            }
            if found > 0 {
                return;
            }
            tokio::time::sleep(DNS_RETRY).await;
        }
    });
    Ok(Some(DnsWalk { task, found: rx }))
}

/// The next record DNS discovery found; never resolves without it.
pub(crate) async fn next_dns_record(
    found: &mut Option<mpsc::Receiver<WakuEnr>>,
) -> Option<WakuEnr> {
    match found {
        Some(rx) => match rx.recv().await {
            Some(enr) => Some(enr),
            None => {
                // The walk is over: stop polling this branch.
                *found = None;
                std::future::pending().await
            }
        },
        None => std::future::pending().await,
    }
}

impl Node {
    /// A record from a DNS tree: it bootstraps discv5 (as nwaku uses DNS
    /// trees) and is dialled when it passes the discovery filter.
    pub(crate) fn on_dns_record(&mut self, enr: WakuEnr) {
        self.network_metrics.dns_discovered();
        if let Some(d) = &self.discovery {
            d.service.add_record(&enr);
        }
        if let Err(why) = record_filter(&self.config).check(&enr) {
            debug!(peer = %enr.peer_id(), %why, "DNS record not dialled");
            return;
        }
        self.on_discovered(&enr, crate::handle::PeerOrigin::Dns);
    }
}
