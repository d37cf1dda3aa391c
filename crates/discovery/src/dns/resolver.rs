//! The DNS side: a [`Resolver`] looks up the TXT records of a name.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;

/// Why a TXT lookup failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// The name does not exist or has no TXT record.
    #[error("no TXT record")]
    NotFound,
    /// The lookup timed out.
    #[error("lookup timed out")]
    Timeout,
    /// Any other failure (network, server error, malformed answer).
    #[error("lookup failed: {0}")]
    Other(String),
}

/// Looks up TXT records.
///
/// The trait is object safe: the lookup returns a boxed future, so a walker
/// can hold a `Box<dyn Resolver>` or an `Arc<dyn Resolver>` as well as a
/// concrete resolver. Implementations return one string per TXT record,
/// the record's character strings concatenated (DNS splits long records
/// into strings of at most 255 bytes).
pub trait Resolver: Send + Sync {
    /// The TXT records of `name` (a fully qualified name without the
    /// trailing dot).
    fn txt<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<String>, ResolveError>>;
}

impl<R: Resolver + ?Sized> Resolver for &R {
    fn txt<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<String>, ResolveError>> {
        (**self).txt(name)
    }
}

impl<R: Resolver + ?Sized> Resolver for Box<R> {
    fn txt<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<String>, ResolveError>> {
        (**self).txt(name)
    }
}

impl<R: Resolver + ?Sized> Resolver for Arc<R> {
    fn txt<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<String>, ResolveError>> {
        (**self).txt(name)
    }
}

/// An in-memory resolver: a map from names to TXT records. Names are
/// compared without regard to case, as DNS does. For tests, and for trees
/// read from a zone file.
#[derive(Debug, Clone, Default)]
pub struct MemoryResolver {
    records: HashMap<String, Vec<String>>,
}

fn key(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

impl MemoryResolver {
    /// An empty resolver.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one TXT record to `name`.
    pub fn insert(&mut self, name: &str, txt: impl Into<String>) {
        self.records.entry(key(name)).or_default().push(txt.into());
    }

    /// Replaces every TXT record of `name`.
    pub fn set(&mut self, name: &str, txts: Vec<String>) {
        self.records.insert(key(name), txts);
    }

    /// Removes `name`; returns its records.
    pub fn remove(&mut self, name: &str) -> Option<Vec<String>> {
        self.records.remove(&key(name))
    }

    /// The records of `name`.
    pub fn get(&self, name: &str) -> Option<&[String]> {
        self.records.get(&key(name)).map(Vec::as_slice)
    }

    /// Number of names.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no name is known.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

impl<N: AsRef<str>, T: Into<String>> Extend<(N, T)> for MemoryResolver {
    fn extend<I: IntoIterator<Item = (N, T)>>(&mut self, iter: I) {
        for (name, txt) in iter {
            self.insert(name.as_ref(), txt);
        }
    }
}

impl<N: AsRef<str>, T: Into<String>> FromIterator<(N, T)> for MemoryResolver {
    fn from_iter<I: IntoIterator<Item = (N, T)>>(iter: I) -> Self {
        let mut resolver = Self::new();
        resolver.extend(iter);
        resolver
    }
}

impl Resolver for MemoryResolver {
    fn txt<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<String>, ResolveError>> {
        let result = match self.records.get(&key(name)) {
            Some(txts) if !txts.is_empty() => Ok(txts.clone()),
            _ => Err(ResolveError::NotFound),
        };
        Box::pin(std::future::ready(result))
    }
}

#[cfg(feature = "hickory")]
pub use self::hickory::HickoryResolver;

#[cfg(feature = "hickory")]
mod hickory {
    use futures::future::BoxFuture;
    use hickory_resolver::TokioResolver;
    use hickory_resolver::proto::rr::RData;

    use super::{ResolveError, Resolver};

    /// A [`Resolver`] asking the system's DNS servers through
    /// hickory-resolver, on the caller's tokio runtime (feature `hickory`).
    #[derive(Clone)]
    pub struct HickoryResolver {
        inner: TokioResolver,
    }

    impl std::fmt::Debug for HickoryResolver {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("HickoryResolver").finish_non_exhaustive()
        }
    }

    impl HickoryResolver {
        /// A resolver with the system's configuration (`/etc/resolv.conf`
        /// on Unix).
        pub fn from_system_conf() -> Result<Self, ResolveError> {
            let inner = TokioResolver::builder_tokio()
                .map_err(|e| ResolveError::Other(e.to_string()))?
                .build()
                .map_err(|e| ResolveError::Other(e.to_string()))?;
            Ok(Self { inner })
        }

        /// Wraps a resolver built by the caller.
        pub fn new(inner: TokioResolver) -> Self {
            Self { inner }
        }

        /// A resolver asking only `servers` (UDP, then TCP, on each
        /// server's port), in order: nwaku's `--dns-addrs-name-server`.
        pub fn with_name_servers(servers: &[std::net::SocketAddr]) -> Result<Self, ResolveError> {
            use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
            let name_servers = servers
                .iter()
                .map(|server| {
                    let mut udp = ConnectionConfig::udp();
                    udp.port = server.port();
                    let mut tcp = ConnectionConfig::tcp();
                    tcp.port = server.port();
                    NameServerConfig::new(server.ip(), true, vec![udp, tcp])
                })
                .collect();
            let inner = TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(name_servers),
                hickory_resolver::net::runtime::TokioRuntimeProvider::default(),
            )
            .build()
            .map_err(|e| ResolveError::Other(e.to_string()))?;
            Ok(Self { inner })
        }
    }

    impl Resolver for HickoryResolver {
        fn txt<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<String>, ResolveError>> {
            Box::pin(async move {
                // The trailing dot makes the name absolute: no search
                // domains are tried.
                let fqdn = format!("{}.", name.trim_end_matches('.'));
                let lookup = self.inner.txt_lookup(fqdn).await.map_err(|e| {
                    if e.is_no_records_found() || e.is_nx_domain() {
                        ResolveError::NotFound
                    } else {
                        ResolveError::Other(e.to_string())
                    }
                })?;
                Ok(lookup
                    .answers()
                    .iter()
                    .filter_map(|record| match &record.data {
                        RData::TXT(txt) => Some(
                            txt.txt_data
                                .iter()
                                .map(|part| String::from_utf8_lossy(part))
                                .collect::<String>(),
                        ),
                        _ => None,
                    })
                    .collect())
            })
        }
    }
}
