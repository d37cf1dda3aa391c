//! Node discovery over discv5 (33/WAKU2-DISCV5): the `discv5` crate with
//! Waku's protocol identity `d5waku`, our ENR published to the DHT, random
//! lookups, and the found records filtered into dial candidates.
//!
//! [`Discv5Service::start`] binds the UDP socket, contacts the bootstrap
//! records and then walks the DHT by itself; the caller reads
//! [`Candidate`]s from the returned channel and dials them (the node's peer
//! manager decides how many).

mod filter;
mod service;

pub use filter::{RecordFilter, Rejection};
pub use service::{Candidate, Config, Discv5Error, Discv5Service, PROTOCOL_ID};
