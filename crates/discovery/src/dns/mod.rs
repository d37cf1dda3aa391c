//! EIP-1459 DNS discovery, the scheme 25/LIBP2P-DNS-DISCOVERY adapts and
//! the Waku fleets publish: a signed Merkle tree of ENRs in DNS TXT records.
//!
//! - [`TreeUrl`]: `enrtree://<base32 key>@<domain>`.
//! - [`Entry`] / [`RootEntry`]: the records (`enrtree-root:v1`,
//!   `enrtree-branch:`, `enr:`, `enrtree://`).
//! - [`Resolver`]: TXT lookups ([`MemoryResolver`] in memory;
//!   `HickoryResolver` with the `hickory` feature).
//! - [`Walker`]: verifies and walks a tree, yielding the ENRs that verify
//!   and a [`TreeError`] for each part that does not.
//! - [`TreeBuilder`] / [`Tree`]: builds and signs a tree.

mod encoding;
mod entry;
mod resolver;
mod tree;
mod url;
mod walker;

pub use encoding::{HASH_LEN, subdomain};
pub use enr::k256::ecdsa::{SigningKey, VerifyingKey};
pub use entry::{BRANCH_PREFIX, ENR_PREFIX, Entry, EntryError, ROOT_PREFIX, RootEntry};
#[cfg(feature = "hickory")]
pub use resolver::HickoryResolver;
pub use resolver::{MemoryResolver, ResolveError, Resolver};
pub use tree::{MAX_BRANCH_CHILDREN, Tree, TreeBuilder};
pub use url::{SCHEME, TreeUrl, UrlError};
pub use walker::{TreeError, VisitedTree, WalkConfig, WalkOutcome, Walker};
