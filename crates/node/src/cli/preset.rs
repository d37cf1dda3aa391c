//! `--preset`: the settings of a known network, applied over the flags.
//!
//! As nwaku, a preset wins over the flags it sets, and each value it
//! discards is reported. `twn` also turns on discv5 with The Waku
//! Network's bootstrap records, as nwaku's does; nwaku's preset turns on
//! RLN too, which this node does not have yet, so it says so instead of
//! pretending (see docs/operators.md).

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

/// The Waku Network's discv5 bootstrap records (the fleet's public ENRs,
/// the ones nwaku's preset uses: waku/factory/networks_config.nim).
pub const TWN_BOOTSTRAP_ENRS: [&str; 3] = [
    "enr:-QESuED0qW1BCmF-oH_ARGPr97Nv767bl_43uoy70vrbah3EaCAdK3Q0iRQ6wkSTTpdrg_dU_NC2ydO8leSlRpBX4pxiAYJpZIJ2NIJpcIRA4VDAim11bHRpYWRkcnO4XAArNiZub2RlLTAxLmRvLWFtczMud2FrdS5zYW5kYm94LnN0YXR1cy5pbQZ2XwAtNiZub2RlLTAxLmRvLWFtczMud2FrdS5zYW5kYm94LnN0YXR1cy5pbQYfQN4DgnJzkwABCAAAAAEAAgADAAQABQAGAAeJc2VjcDI1NmsxoQOTd-h5owwj-cx7xrmbvQKU8CV3Fomfdvcv1MBc-67T5oN0Y3CCdl-DdWRwgiMohXdha3UyDw",
    "enr:-QEkuED9X80QF_jcN9gA2ZRhhmwVEeJnsg_Hyg7IFCTYnZD0BDI7a8HArE61NhJZFwygpHCWkgwSt2vqiABXkBxzIqZBAYJpZIJ2NIJpcIQiQlleim11bHRpYWRkcnO4bgA0Ni9ub2RlLTAxLmdjLXVzLWNlbnRyYWwxLWEud2FrdS5zYW5kYm94LnN0YXR1cy5pbQZ2XwA2Ni9ub2RlLTAxLmdjLXVzLWNlbnRyYWwxLWEud2FrdS5zYW5kYm94LnN0YXR1cy5pbQYfQN4DgnJzkwABCAAAAAEAAgADAAQABQAGAAeJc2VjcDI1NmsxoQPFAS8zz2cg1QQhxMaK8CzkGQ5wdHvPJcrgLzJGOiHpwYN0Y3CCdl-DdWRwgiMohXdha3UyDw",
    "enr:-QEkuEBfEzJm_kigJ2HoSS_RBFJYhKHocGdkhhBr6jSUAWjLdFPp6Pj1l4yiTQp7TGHyu1kC6FyaU573VN8klLsEm-XuAYJpZIJ2NIJpcIQI2SVcim11bHRpYWRkcnO4bgA0Ni9ub2RlLTAxLmFjLWNuLWhvbmdrb25nLWMud2FrdS5zYW5kYm94LnN0YXR1cy5pbQZ2XwA2Ni9ub2RlLTAxLmFjLWNuLWhvbmdrb25nLWMud2FrdS5zYW5kYm94LnN0YXR1cy5pbQYfQN4DgnJzkwABCAAAAAEAAgADAAQABQAGAAeJc2VjcDI1NmsxoQOwsS69tgD7u1K50r5-qG5hweuTwa0W26aYPnvivpNlrYN0Y3CCdl-DdWRwgiMohXdha3UyDw",
];

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
        // discv5 on (unless the operator turned it off), with the fleet's
        // records after any the operator gave.
        if !explicit("discv5_discovery") || cli.discv5_discovery {
            cli.discv5_discovery = true;
        }
        for enr in TWN_BOOTSTRAP_ENRS {
            if !cli.discv5_bootstrap_nodes.iter().any(|e| e == enr) {
                cli.discv5_bootstrap_nodes.push(enr.to_owned());
            }
        }
        warnings
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_waku_networks_bootstrap_records_decode_as_cluster_1_relays() {
        for text in TWN_BOOTSTRAP_ENRS {
            let enr = waku_enr::WakuEnr::decode(text).unwrap();
            assert!(enr.udp4().is_some(), "{text}");
            assert_eq!(enr.shards().map(|s| s.cluster), Some(1), "{text}");
            assert!(enr.is_waku_node());
        }
    }

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
