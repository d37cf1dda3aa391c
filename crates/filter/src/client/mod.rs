//! The client side: subscribe, unsubscribe, unsubscribe-all and ping a
//! service node, and receive its pushes.

mod behaviour;

pub use crate::config::ClientConfig as Config;
pub use behaviour::{Behaviour, Event, FilterError, PushDropReason};
