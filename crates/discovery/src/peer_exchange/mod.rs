//! 34/WAKU2-PEER-EXCHANGE: `/vac/waku/peer-exchange/2.0.0-alpha1`, a
//! request/response protocol through which a (light) node asks a service
//! node for the ENRs of other peers.
//!
//! - [`service`]: answers requests from a bounded, expiring cache of ENRs
//!   that the node feeds (from discv5, DNS discovery, ...).
//! - [`client`]: asks a service node for `num_peers` ENRs and reports the
//!   ones that decode and verify.
//! - [`proto`]: the wire types, for tools that write and read frames
//!   themselves (the conformance runner).

pub mod client;
mod codec;
pub mod proto;
pub mod service;
mod status;

pub use codec::{MAX_REQUEST_SIZE, MAX_RESPONSE_SIZE, PROTOCOL};
pub use status::StatusCode;
