//! The `waku2` entry: one byte of capability flags.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};
use std::str::FromStr;

/// One protocol a node can advertise in its `waku2` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Capability {
    /// 11/WAKU2-RELAY, bit 0.
    Relay,
    /// Store, bit 1.
    Store,
    /// Filter, bit 2.
    Filter,
    /// Light push, bit 3.
    Lightpush,
    /// Store sync, bit 4.
    Sync,
    /// Mix, bit 5 (assigned by WAKU-MIX).
    Mix,
}

impl Capability {
    /// Every defined capability, lowest bit first.
    pub const ALL: [Capability; 6] = [
        Capability::Relay,
        Capability::Store,
        Capability::Filter,
        Capability::Lightpush,
        Capability::Sync,
        Capability::Mix,
    ];

    /// The flag of this capability in the `waku2` byte.
    pub const fn bit(self) -> u8 {
        match self {
            Capability::Relay => 1 << 0,
            Capability::Store => 1 << 1,
            Capability::Filter => 1 << 2,
            Capability::Lightpush => 1 << 3,
            Capability::Sync => 1 << 4,
            Capability::Mix => 1 << 5,
        }
    }

    /// The lowercase name used in comma lists (`relay`, `store`, `filter`,
    /// `lightpush`, `sync`, `mix`).
    pub const fn name(self) -> &'static str {
        match self {
            Capability::Relay => "relay",
            Capability::Store => "store",
            Capability::Filter => "filter",
            Capability::Lightpush => "lightpush",
            Capability::Sync => "sync",
            Capability::Mix => "mix",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Capability {
    type Err = CapabilityParseError;

    /// Parses one name, ignoring ASCII case and surrounding whitespace.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        Capability::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| CapabilityParseError::Unknown(name.to_string()))
    }
}

/// A capability list that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CapabilityParseError {
    /// A name that is not one of the defined capabilities.
    #[error("unknown waku2 capability `{0}` (known: relay, store, filter, lightpush, sync, mix)")]
    Unknown(String),
    /// An empty item, as in `relay,,store`.
    #[error("empty item in capability list")]
    EmptyItem,
}

/// The `waku2` capability byte of 31/WAKU2-ENR.
///
/// Bit 0 is relay, then store, filter, lightpush, sync and mix (bit 5). The raw
/// byte read from a record is kept as is, so bits 6 and 7 (not yet defined)
/// survive a decode; [`WakuEnrBuilder`](crate::WakuEnrBuilder) only ever writes
/// the defined bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Capabilities(u8);

impl Capabilities {
    /// Relay only.
    pub const RELAY: Self = Self(Capability::Relay.bit());
    /// Store only.
    pub const STORE: Self = Self(Capability::Store.bit());
    /// Filter only.
    pub const FILTER: Self = Self(Capability::Filter.bit());
    /// Light push only.
    pub const LIGHTPUSH: Self = Self(Capability::Lightpush.bit());
    /// Sync only.
    pub const SYNC: Self = Self(Capability::Sync.bit());
    /// Mix only.
    pub const MIX: Self = Self(Capability::Mix.bit());
    /// The mask of the defined bits (0 to 5).
    pub const DEFINED_BITS: u8 = 0b0011_1111;

    /// No capability.
    pub const fn empty() -> Self {
        Self(0)
    }

    /// The capabilities of a raw `waku2` byte, undefined bits included.
    pub const fn from_byte(byte: u8) -> Self {
        Self(byte)
    }

    /// The raw `waku2` byte.
    pub const fn byte(self) -> u8 {
        self.0
    }

    /// The same set with the undefined bits 6 and 7 cleared.
    pub const fn defined_only(self) -> Self {
        Self(self.0 & Self::DEFINED_BITS)
    }

    /// Whether no bit at all is set (such records are dropped by discv5).
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether `capability` is set.
    pub const fn contains(self, capability: Capability) -> bool {
        self.0 & capability.bit() != 0
    }

    /// Whether every flag set in `other` is also set here.
    pub const fn contains_all(self, other: Capabilities) -> bool {
        self.0 & other.0 == other.0
    }

    /// This set plus `capability`.
    #[must_use]
    pub const fn with(self, capability: Capability) -> Self {
        Self(self.0 | capability.bit())
    }

    /// This set without `capability`.
    #[must_use]
    pub const fn without(self, capability: Capability) -> Self {
        Self(self.0 & !capability.bit())
    }

    /// The defined capabilities that are set, lowest bit first.
    pub fn iter(self) -> impl Iterator<Item = Capability> {
        Capability::ALL
            .into_iter()
            .filter(move |c| self.contains(*c))
    }

    /// The names of the defined capabilities that are set, lowest bit first.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        self.iter().map(Capability::name)
    }
}

impl From<Capability> for Capabilities {
    fn from(capability: Capability) -> Self {
        Self(capability.bit())
    }
}

impl FromIterator<Capability> for Capabilities {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        iter.into_iter().fold(Self::empty(), Self::with)
    }
}

impl BitOr for Capabilities {
    type Output = Self;

    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl BitOr<Capability> for Capabilities {
    type Output = Self;

    fn bitor(self, rhs: Capability) -> Self {
        self.with(rhs)
    }
}

impl BitOrAssign for Capabilities {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

impl fmt::Display for Capabilities {
    /// The comma list of the defined capabilities that are set (`relay,store`);
    /// empty when none is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, name) in self.names().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

impl FromStr for Capabilities {
    type Err = CapabilityParseError;

    /// Parses a comma list such as `relay,store` (ASCII case and whitespace
    /// around names ignored). An empty or all-blank string is the empty set.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().is_empty() {
            return Ok(Self::empty());
        }
        s.split(',')
            .map(|item| {
                if item.trim().is_empty() {
                    Err(CapabilityParseError::EmptyItem)
                } else {
                    item.parse::<Capability>()
                }
            })
            .collect()
    }
}

/// Reads the value of a `waku2` entry: exactly one byte.
pub(crate) fn decode_waku2(value: &[u8]) -> Result<Capabilities, String> {
    match value {
        [byte] => Ok(Capabilities::from_byte(*byte)),
        _ => Err(format!("expected 1 byte, got {}", value.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_follow_the_table() {
        let all: Capabilities = Capability::ALL.into_iter().collect();
        assert_eq!(all.byte(), 0x3f);
        assert_eq!((Capabilities::RELAY | Capabilities::STORE).byte(), 0x03);
        assert_eq!(Capabilities::MIX.byte(), 0x20);
    }

    #[test]
    fn parse_and_display() {
        let caps: Capabilities = " Relay, store ,LIGHTPUSH".parse().unwrap();
        assert_eq!(caps.byte(), 0x0b);
        assert_eq!(caps.to_string(), "relay,store,lightpush");
        assert_eq!("".parse::<Capabilities>().unwrap(), Capabilities::empty());
        assert_eq!(
            "relay,gossip".parse::<Capabilities>(),
            Err(CapabilityParseError::Unknown("gossip".into()))
        );
        assert_eq!(
            "relay,,store".parse::<Capabilities>(),
            Err(CapabilityParseError::EmptyItem)
        );
    }

    #[test]
    fn undefined_bits_are_kept_but_not_named() {
        let caps = Capabilities::from_byte(0xc1);
        assert_eq!(caps.byte(), 0xc1);
        assert_eq!(caps.names().collect::<Vec<_>>(), ["relay"]);
        assert_eq!(caps.defined_only().byte(), 0x01);
    }

    #[test]
    fn waku2_value_is_one_byte() {
        assert_eq!(decode_waku2(&[0x0f]).unwrap().byte(), 0x0f);
        assert!(decode_waku2(&[]).is_err());
        assert!(decode_waku2(&[1, 2]).is_err());
    }
}
