//! The client side: pushes messages to a service node, v3 first with a
//! fallback to the legacy v2.

mod behaviour;

pub use crate::config::{ClientConfig as Config, ClientProtocols as Protocols};
pub use behaviour::{Behaviour, Event};
