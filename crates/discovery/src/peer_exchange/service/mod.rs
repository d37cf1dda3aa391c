//! The service side: answers peer-exchange requests from a bounded,
//! expiring cache of ENRs that the node feeds with
//! [`Behaviour::add_record`].

mod behaviour;
mod cache;
mod config;

pub use behaviour::{Behaviour, Event};
pub use cache::EnrCache;
pub use config::Config;
