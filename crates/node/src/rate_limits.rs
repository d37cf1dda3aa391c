//! nwaku's `--rate-limit` flag: a list of `[protocol:]volume/period`
//! settings (`lightpush:10/1s`, `filter:100/1m`, `store:20/500ms`; one
//! without a protocol is the global default), and the node's rule for which
//! one each service gets.

use std::str::FromStr;

use waku_core::RateLimit;
use waku_core::rate_limit::RateLimitParseError;

/// Why a `--rate-limit` setting could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RateLimitSettingError {
    /// The text is not `[protocol:]volume/period`.
    #[error(
        "invalid rate-limit setting {0:?}: expected [protocol:]volume/period, e.g. lightpush:10/1s"
    )]
    Syntax(String),
    /// The protocol name is not one nwaku knows.
    #[error("unknown protocol {0:?} in rate-limit setting (known: {known})", known = KNOWN_PROTOCOLS.join(", "))]
    UnknownProtocol(String),
}

/// Protocol names accepted in front of a setting (nwaku's list plus
/// `global`, which is the same as giving none).
pub const KNOWN_PROTOCOLS: [&str; 7] = [
    "global",
    "store",
    "storev2",
    "storev3",
    "lightpush",
    "px",
    "filter",
];

/// One parsed `[protocol:]volume/period`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitSetting {
    /// The protocol (lower case), `None` for the global default.
    pub protocol: Option<String>,
    /// The limit.
    pub limit: RateLimit,
}

impl FromStr for RateLimitSetting {
    type Err = RateLimitSettingError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.trim().to_ascii_lowercase();
        let (protocol, rest) = match lower.split_once(':') {
            Some((p, rest)) => (Some(p.trim().to_owned()), rest),
            None => (None, lower.as_str()),
        };
        if let Some(p) = &protocol
            && !KNOWN_PROTOCOLS.contains(&p.as_str())
        {
            return Err(RateLimitSettingError::UnknownProtocol(p.clone()));
        }
        let limit = rest
            .parse()
            .map_err(|_: RateLimitParseError| RateLimitSettingError::Syntax(text.to_owned()))?;
        Ok(Self {
            protocol: protocol.filter(|p| p != "global"),
            limit,
        })
    }
}

/// The node's repeated `--rate-limit` flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimitSettings(Vec<RateLimitSetting>);

impl RateLimitSettings {
    /// Parses every setting; the first bad one is the error.
    pub fn parse<I, S>(settings: I) -> Result<Self, RateLimitSettingError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        settings
            .into_iter()
            .map(|s| s.as_ref().parse())
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// The limit for `protocol`, `None` when nothing applies to it.
    ///
    /// Its own setting wins (the last one given; `store` also covers
    /// `storev2` and `storev3` unless they have their own), then the global
    /// one, except for `filter`, which like nwaku never takes the global
    /// setting (the filter service then applies its own default, nwaku's 30
    /// per minute). The result may be unlimited (a zero volume or period).
    pub fn for_protocol(&self, protocol: &str) -> Option<RateLimit> {
        let own = |name: &str| {
            self.0
                .iter()
                .rev()
                .find(|s| s.protocol.as_deref() == Some(name))
                .map(|s| s.limit)
        };
        let generic_store = if protocol.starts_with("storev") {
            own("store")
        } else {
            None
        };
        let global = || {
            self.0
                .iter()
                .rev()
                .find(|s| s.protocol.is_none())
                .map(|s| s.limit)
        };
        own(protocol).or(generic_store).or_else(
            || {
                if protocol == "filter" { None } else { global() }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn parses_nwaku_forms() {
        let s: RateLimitSetting = "lightpush:10/1s".parse().unwrap();
        assert_eq!(s.protocol.as_deref(), Some("lightpush"));
        assert_eq!(s.limit, RateLimit::new(10, Duration::from_secs(1)));
        let s: RateLimitSetting = " Filter : 100 / 1m ".parse().unwrap();
        assert_eq!(s.protocol.as_deref(), Some("filter"));
        assert_eq!(s.limit, RateLimit::new(100, Duration::from_secs(60)));
        let s: RateLimitSetting = "20/500ms".parse().unwrap();
        assert_eq!(s.protocol, None);
        assert_eq!(s.limit.period, Duration::from_millis(500));
        let s: RateLimitSetting = "global:5/2h".parse().unwrap();
        assert_eq!(s.protocol, None);
        assert_eq!(s.limit.period, Duration::from_secs(7200));
    }

    #[test]
    fn refuses_malformed_settings() {
        for bad in ["", "10", "10/", "/1s", "10/1d", "x/1s", "store:10/s"] {
            assert!(
                matches!(
                    bad.parse::<RateLimitSetting>(),
                    Err(RateLimitSettingError::Syntax(_))
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            "relay:1/1s".parse::<RateLimitSetting>(),
            Err(RateLimitSettingError::UnknownProtocol("relay".into()))
        );
    }

    #[test]
    fn picks_protocol_then_global() {
        let s = RateLimitSettings::parse(["100/1s", "lightpush:10/1s", "store:3/1m"]).unwrap();
        assert_eq!(
            s.for_protocol("lightpush"),
            Some(RateLimit::new(10, Duration::from_secs(1)))
        );
        assert_eq!(
            s.for_protocol("px"),
            Some(RateLimit::new(100, Duration::from_secs(1)))
        );
        // Filter never falls back to the global setting (nwaku).
        assert_eq!(s.for_protocol("filter"), None);
        assert_eq!(
            s.for_protocol("storev3"),
            Some(RateLimit::new(3, Duration::from_secs(60)))
        );
        let off = RateLimitSettings::parse(["lightpush:0/1s"]).unwrap();
        assert!(off.for_protocol("lightpush").unwrap().is_unlimited());
        assert_eq!(RateLimitSettings::default().for_protocol("px"), None);
    }
}
