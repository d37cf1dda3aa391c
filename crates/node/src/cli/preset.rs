//! `--preset`: the settings of a known network, applied over the flags.
//!
//! As nwaku, a preset wins over the flags it sets, and each value it
//! discards is reported. nwaku's `twn` preset also turns on RLN and discv5
//! with The Waku Network's bootstrap records; this node has neither yet, so
//! it says so instead of pretending (see docs/operators.md).

use std::str::FromStr;

use waku_sharding::NetworkConfig;

use super::Cli;

/// A known network's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// No preset (`--preset` empty or absent).
    None,
    /// The Waku Network: cluster 1, autosharded over 8 shards, 150 KiB
    /// messages.
    Twn,
}

/// A `--preset` value that names no preset.
#[derive(Debug, thiserror::Error)]
#[error("Invalid --preset value passed: {0} (known: twn)")]
pub struct UnknownPreset(String);

impl FromStr for Preset {
    type Err = UnknownPreset;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.to_ascii_lowercase().as_str() {
            "" => Ok(Self::None),
            "twn" => Ok(Self::Twn),
            _ => Err(UnknownPreset(value.to_owned())),
        }
    }
}

/// The Waku Network's maximum message size.
const TWN_MAX_MSG_SIZE: &str = "150KiB";

impl Preset {
    /// Sets the preset's values in `cli`; `explicit(id)` says whether the
    /// operator gave flag `id` (then its value is discarded with a warning).
    pub fn apply(self, cli: &mut Cli, explicit: impl Fn(&str) -> bool) -> Vec<String> {
        let mut warnings = Vec::new();
        if self == Self::None {
            return warnings;
        }
        let twn = NetworkConfig::TWN;
        if explicit("cluster_id") && cli.cluster_id != twn.cluster_id {
            warnings.push(format!(
                "--cluster-id {} is overridden by --preset twn: The Waku Network is cluster {}",
                cli.cluster_id, twn.cluster_id
            ));
        }
        cli.cluster_id = twn.cluster_id;
        if explicit("num_shards_in_network") && cli.num_shards_in_network != Some(twn.num_shards) {
            warnings.push(format!(
                "--num-shards-in-network is overridden by --preset twn: The Waku Network is autosharded over {} shards",
                twn.num_shards
            ));
        }
        cli.num_shards_in_network = Some(twn.num_shards);
        if explicit("max_msg_size") && cli.max_msg_size != TWN_MAX_MSG_SIZE {
            warnings.push(format!(
                "--max-msg-size {} is overridden by --preset twn: The Waku Network's limit is {TWN_MAX_MSG_SIZE}",
                cli.max_msg_size
            ));
        }
        cli.max_msg_size = TWN_MAX_MSG_SIZE.to_owned();
        warnings.push(
            "--preset twn: RLN rate limiting is not implemented yet; messages are relayed without RLN proofs, so The Waku Network's RLN relays will not accept what this node publishes".to_owned(),
        );
        warnings.push(
            "--preset twn: discovery (discv5 with The Waku Network's bootstrap records) is not implemented yet; give peers with --staticnode".to_owned(),
        );
        warnings
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn names_are_case_insensitive_and_unknown_ones_refused() {
        assert_eq!("".parse::<Preset>().unwrap(), Preset::None);
        assert_eq!("TWN".parse::<Preset>().unwrap(), Preset::Twn);
        assert_eq!(
            "mainnet".parse::<Preset>().unwrap_err().to_string(),
            "Invalid --preset value passed: mainnet (known: twn)"
        );
    }
}
