//! [`LogControl`]: changing the running node's log level, as nwaku's
//! `POST /admin/v1/log-level/{level}` does.

use std::sync::Arc;

type Setter = dyn Fn(&str) -> Result<(), String> + Send + Sync;

/// Replaces the log filter of the running process with a `tracing` filter
/// directive. Given by whoever installed the tracing subscriber (the
/// `wakunode` binary, with a reloadable filter); without one the REST route
/// answers 503.
#[derive(Clone)]
pub struct LogControl(Arc<Setter>);

impl LogControl {
    /// A control that applies a directive with `set`.
    pub fn new(set: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static) -> Self {
        Self(Arc::new(set))
    }

    /// Applies `directive` (see [`crate::config::log_filter`]).
    pub fn set(&self, directive: &str) -> Result<(), String> {
        (self.0)(directive)
    }
}

impl std::fmt::Debug for LogControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogControl")
    }
}
