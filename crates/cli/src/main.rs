//! `waku`: a small tool to compute message hashes, content-topic shards, to
//! encode and decode Waku ENRs and to sign messages for protected shards. It
//! links the foundation crates and relay (for the protected-shard
//! signature), not the node.

mod enr_cmd;
mod hash_cmd;
mod shard_cmd;
mod sign_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for invalid input (bad arguments, invalid topics, invalid ENRs).
const EXIT_INVALID: u8 = 2;

/// Waku debugging tool.
#[derive(Debug, Parser)]
#[command(
    name = "waku",
    version,
    about = "Waku v2 debugging tool: message hashes, shards, ENRs, protected-shard signatures"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the deterministic hash (14/WAKU2-MESSAGE) of a message as 64 hex characters.
    Hash(hash_cmd::HashArgs),
    /// Print the autosharded pubsub topic of each content topic, one per line.
    Shard(shard_cmd::ShardArgs),
    /// Encode or decode Waku ENRs (31/WAKU2-ENR).
    Enr {
        #[command(subcommand)]
        command: enr_cmd::EnrCommand,
    },
    /// Sign a message for a protected shard and print it as nwaku's REST
    /// publish body (or print a key's public key with --public-key).
    Sign(sign_cmd::SignArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Hash(args) => hash_cmd::run(&args),
        Command::Shard(args) => shard_cmd::run(&args),
        Command::Enr { command } => enr_cmd::run(&command),
        Command::Sign(args) => sign_cmd::run(&args),
    };
    match result {
        Ok(output) => {
            print!("{output}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(EXIT_INVALID)
        }
    }
}
