//! The shared backend suite against the in-memory store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use waku_store::{MemoryStore, MessageStore};

fn store() -> Option<Arc<dyn MessageStore>> {
    Some(Arc::new(MemoryStore::new()))
}

common::suite::backend_suite!(store());
