//! # waku-enr
//!
//! Waku node records: EIP-778 ENRs with the entries of 31/WAKU2-ENR
//! (`multiaddrs`, `waku2`) and of RELAY-SHARDING (`rs`, `rsv`).
//!
//! - [`WakuEnr`] reads `enr:...` text (or RLP bytes), checks the 300-byte limit
//!   and the signature, and decodes the Waku entries; it gives the peer id, the
//!   EIP-778 endpoints, [`Capabilities`], the multiaddrs, the shards and the
//!   addresses to dial.
//! - [`WakuEnrBuilder`] writes and signs one, deterministically.
//! - [`multiaddrs`] and [`shards_field`] hold the value codecs.
//!
//! ```
//! use waku_enr::{Capabilities, SigningKey, WakuEnr, WakuEnrBuilder};
//! use waku_sharding::RelayShards;
//!
//! let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
//! let record = WakuEnrBuilder::new()
//!     .ip("192.0.2.1".parse().unwrap())
//!     .tcp(60000)
//!     .multiaddr("/dns4/node.example.org/tcp/8000/wss".parse().unwrap())
//!     .capabilities(Capabilities::RELAY | Capabilities::STORE)
//!     .shards(RelayShards::new(1, [0, 1, 2]))
//!     .build(&key)
//!     .unwrap();
//! let text = record.encode();
//!
//! let read = WakuEnr::decode(&text).unwrap();
//! assert_eq!(read.shards(), Some(RelayShards::new(1, [0, 1, 2])));
//! assert_eq!(read.dial_addresses().len(), 2);
//! ```

mod builder;
mod capabilities;
mod error;
pub mod multiaddrs;
mod record;
pub mod shards_field;

pub use builder::WakuEnrBuilder;
pub use capabilities::{Capabilities, Capability, CapabilityParseError};
pub use enr::k256::ecdsa::SigningKey;
pub use error::{EnrError, MAX_ENR_SIZE};
pub use record::{Enr, TEXT_PREFIX, WAKU2_KEY, WakuEnr};
