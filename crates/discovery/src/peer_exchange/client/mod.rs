//! The client side: asks a service node for ENRs with
//! [`Behaviour::request`] and reports the ones that decode and verify.

mod behaviour;
mod config;

pub use behaviour::{Behaviour, Event, RequestError};
pub use config::Config;
