#![doc = include_str!("../README.md")]

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
