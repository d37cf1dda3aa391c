//! Running the `waku` binary as a user does.
#![allow(dead_code, clippy::expect_used)]

use std::process::{Command, Output};

/// `waku` with `args`, its output collected.
pub fn waku(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_waku"))
        .args(args)
        .output()
        .expect("run waku")
}
