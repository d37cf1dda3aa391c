#![doc = include_str!("../README.md")]

pub mod catalog;
pub mod checks;
pub mod options;
pub mod report;
pub mod rest;
mod runner;
pub mod session;
pub mod transport;
pub mod wire;

pub use catalog::{Catalog, Level};
pub use options::{Muxer, Options, Suite};
pub use report::{Finding, Outcome, Report, Verdict};
pub use runner::{RunError, run};
