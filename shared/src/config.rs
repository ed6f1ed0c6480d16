//! The edge's configuration, read once per request through the adapter's variable lookup
//! (`env.var` on Workers, `std::env` under wasi:http), validated into types.

use std::collections::BTreeMap;

use crate::{
    auth::{AuthError, SigningKey, VerifyingKeys},
    geo::{RegionId, RegionMap},
    tenant::HostName,
    web::session::SessionKeys,
};

/// A valid `SESSION_KEYS` for unit tests' configurations.
#[cfg(test)]
pub(crate) const TEST_SESSION_KEYS: &str = "c2Vzc2lvbi1rZXktb2YtdGhlLXVuaXQtdGVzdHMtMzJi";

/// A configuration problem: the deployment is broken, not the request (answered as 500
/// with a generic message; the detail goes to the log, never to the client).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required variable is not set.
    #[error("missing configuration variable {0}")]
    Missing(&'static str),
    /// A variable is set to something unusable.
    #[error("invalid configuration variable {name}: {reason}")]
    Invalid { name: &'static str, reason: String },
    /// A key variable does not hold usable key material.
    #[error("invalid key in {0}: {1}")]
    Key(&'static str, AuthError),
}

/// A variable the edge reads from its deployment (`[vars]`/secrets on Workers, the
/// component's environment under wasi:http).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    pub name: &'static str,
    /// Never committed to a manifest: set with the platform's secret store.
    pub secret: bool,
    /// The edge refuses to serve without it.
    pub required: bool,
}

/// Every variable the edge reads, the one list the deployment manifests are checked
/// against (`cargo xtask test`): a key a manifest sets that is not here is read by nobody.
pub const VARIABLES: &[Variable] = &[
    Variable {
        name: "APEX_DOMAIN",
        secret: false,
        required: true,
    },
    Variable {
        name: "REGION_URLS",
        secret: false,
        required: true,
    },
    Variable {
        name: "EDGE_TOKEN_KEY",
        secret: true,
        required: true,
    },
    Variable {
        name: "API_TOKEN_PUBLIC_KEYS",
        secret: false,
        required: true,
    },
    Variable {
        name: "SESSION_KEYS",
        secret: true,
        required: true,
    },
    Variable {
        name: "ASSET_VERSION",
        secret: false,
        required: false,
    },
    Variable {
        name: "PAGE_MAX_AGE",
        secret: false,
        required: false,
    },
    Variable {
        name: "DEV_GEO_HEADERS",
        secret: false,
        required: false,
    },
];

/// Everything the core needs to know about its deployment.
pub struct EdgeConfig {
    /// The platform's apex domain: clinics live at `<slug>.<apex>` (`APEX_DOMAIN`).
    pub apex: HostName,
    /// Base URLs of each region's `regional-db` instances, never empty
    /// (`REGION_URLS=eu-west=http://a|http://b,us-east=…`).
    pub region_urls: BTreeMap<RegionId, Vec<String>>,
    /// Signs edge→region tokens (`EDGE_TOKEN_KEY`, base64 Ed25519 key pair: a secret).
    pub edge_key: SigningKey,
    /// Verifies API bearer tokens (`API_TOKEN_PUBLIC_KEYS`, comma-separated base64).
    pub api_keys: VerifyingKeys,
    /// Signs and verifies people's sessions (`SESSION_KEYS`, comma-separated base64 secrets
    /// of 32 bytes or more, the first signing: a secret).
    pub session_keys: SessionKeys,
    /// Bumped on every deploy of pages or assets: part of the page cache key (`ASSET_VERSION`).
    pub asset_version: String,
    /// The region map (embedded `infra/regions.toml`).
    pub regions: &'static RegionMap,
    /// How long a public page is fresh, at the edge and downstream, in seconds
    /// (`PAGE_MAX_AGE`, 1 to 86400, default 60). Past it, the edge re-renders the page,
    /// and serves the stale copy only if it cannot (`stale-if-error`).
    pub page_max_age: u64,
    /// Whether the `x-dev-geo-*` request headers place a request
    /// ([`crate::geo::DEV_GEO_HEADERS`]; `DEV_GEO_HEADERS=1`): local stacks only, since any
    /// client can send them. `0` or unset in production.
    pub dev_geo_headers: bool,
}

/// The default of [`EdgeConfig::page_max_age`].
pub const DEFAULT_PAGE_MAX_AGE: u64 = 60;

impl EdgeConfig {
    /// Reads the configuration from a variable lookup.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        // Every read goes through the one list, so that it cannot miss a variable.
        let get = |name: &'static str| {
            debug_assert!(
                VARIABLES.iter().any(|v| v.name == name),
                "{name} is missing from config::VARIABLES"
            );
            lookup(name)
        };
        let req = |name: &'static str| {
            get(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let apex_raw = req("APEX_DOMAIN")?;
        let apex = HostName::parse(&apex_raw).ok_or_else(|| ConfigError::Invalid {
            name: "APEX_DOMAIN",
            reason: format!("{apex_raw:?} is not a host name"),
        })?;
        let regions = RegionMap::embedded();
        let mut region_urls = BTreeMap::new();
        for pair in req("REGION_URLS")?
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let invalid = |reason: String| ConfigError::Invalid {
                name: "REGION_URLS",
                reason,
            };
            let (id, urls) = pair
                .split_once('=')
                .ok_or_else(|| invalid(format!("{pair:?} is not region=url[|url…]")))?;
            let id: RegionId = id.trim().parse().map_err(|e| invalid(format!("{e}")))?;
            if regions.get(id.as_str()).is_none() {
                return Err(invalid(format!("{id} is not in infra/regions.toml")));
            }
            let mut instances = Vec::new();
            for url in urls.split('|').map(|u| u.trim().trim_end_matches('/')) {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(invalid(format!("{url:?} is not an http(s) URL")));
                }
                instances.push(url.to_owned());
            }
            if region_urls.insert(id.clone(), instances).is_some() {
                return Err(invalid(format!("{id} is listed twice")));
            }
        }
        if !region_urls.contains_key(&regions.default_region().id) {
            return Err(ConfigError::Invalid {
                name: "REGION_URLS",
                reason: format!(
                    "the default region {} has no URL",
                    regions.default_region().id
                ),
            });
        }
        Ok(Self {
            apex,
            region_urls,
            edge_key: SigningKey::from_base64(&req("EDGE_TOKEN_KEY")?)
                .map_err(|e| ConfigError::Key("EDGE_TOKEN_KEY", e))?,
            api_keys: VerifyingKeys::from_base64_list(&req("API_TOKEN_PUBLIC_KEYS")?)
                .map_err(|e| ConfigError::Key("API_TOKEN_PUBLIC_KEYS", e))?,
            session_keys: SessionKeys::from_base64_list(&req("SESSION_KEYS")?)
                .map_err(|e| ConfigError::Key("SESSION_KEYS", e))?,
            asset_version: get("ASSET_VERSION")
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "1".into()),
            regions,
            page_max_age: match get("PAGE_MAX_AGE").filter(|v| !v.trim().is_empty()) {
                None => DEFAULT_PAGE_MAX_AGE,
                Some(v) => v
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| (1..=86_400).contains(n))
                    .ok_or_else(|| ConfigError::Invalid {
                        name: "PAGE_MAX_AGE",
                        reason: format!("{v:?} is not a number of seconds from 1 to 86400"),
                    })?,
            },
            dev_geo_headers: match get("DEV_GEO_HEADERS").as_deref().map(str::trim) {
                None | Some("" | "0") => false,
                Some("1") => true,
                Some(other) => {
                    return Err(ConfigError::Invalid {
                        name: "DEV_GEO_HEADERS",
                        reason: format!("{other:?} is neither 0 nor 1"),
                    });
                }
            },
        })
    }

    /// The `regional-db` instances of `region` (at least one), or of the default region
    /// when `region` has none configured.
    pub fn region_instances(&self, region: &RegionId) -> (&RegionId, &[String]) {
        let found = self.region_urls.get_key_value(region).or_else(|| {
            self.region_urls
                .get_key_value(&self.regions.default_region().id)
        });
        let (id, urls) = found.expect("the default region is checked at load");
        (id, urls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(region_urls: &str) -> Result<EdgeConfig, ConfigError> {
        load_with(region_urls, None)
    }

    fn load_with(region_urls: &str, page_max_age: Option<&str>) -> Result<EdgeConfig, ConfigError> {
        let key = SigningKey::from_seed([3; 32]);
        EdgeConfig::from_lookup(|name| match name {
            "APEX_DOMAIN" => Some("localhost".into()),
            "REGION_URLS" => Some(region_urls.into()),
            "EDGE_TOKEN_KEY" => Some(key.to_base64()),
            "API_TOKEN_PUBLIC_KEYS" => Some(key.public_base64()),
            "SESSION_KEYS" => Some(TEST_SESSION_KEYS.into()),
            "PAGE_MAX_AGE" => page_max_age.map(Into::into),
            _ => None,
        })
    }

    /// A full configuration reads exactly the variables of [`VARIABLES`]: none missing
    /// from the list the manifests are checked against, none listed that nobody reads.
    #[test]
    fn the_variable_list_is_what_the_edge_reads() {
        let key = SigningKey::from_seed([3; 32]);
        let asked = std::cell::RefCell::new(Vec::new());
        let config = EdgeConfig::from_lookup(|name| {
            asked.borrow_mut().push(name.to_owned());
            Some(match name {
                "APEX_DOMAIN" => "localhost".into(),
                "REGION_URLS" => "eu-west=http://a".into(),
                "EDGE_TOKEN_KEY" => key.to_base64(),
                "API_TOKEN_PUBLIC_KEYS" => key.public_base64(),
                "PAGE_MAX_AGE" => "30".into(),
                "DEV_GEO_HEADERS" => "1".into(),
                "SESSION_KEYS" => TEST_SESSION_KEYS.into(),
                _ => "2".into(),
            })
        })
        .unwrap();
        assert!(config.dev_geo_headers);
        let mut asked = asked.into_inner();
        asked.sort();
        let mut listed: Vec<String> = VARIABLES.iter().map(|v| v.name.to_owned()).collect();
        listed.sort();
        assert_eq!(asked, listed);
    }

    #[test]
    fn dev_geo_headers_is_a_switch() {
        let with = |v: &str| {
            let key = SigningKey::from_seed([3; 32]);
            EdgeConfig::from_lookup(|name| match name {
                "APEX_DOMAIN" => Some("localhost".into()),
                "REGION_URLS" => Some("eu-west=http://a".into()),
                "EDGE_TOKEN_KEY" => Some(key.to_base64()),
                "API_TOKEN_PUBLIC_KEYS" => Some(key.public_base64()),
                "SESSION_KEYS" => Some(TEST_SESSION_KEYS.into()),
                "DEV_GEO_HEADERS" => Some(v.into()),
                _ => None,
            })
        };
        assert!(with("1").unwrap().dev_geo_headers);
        assert!(!with("0").unwrap().dev_geo_headers);
        assert!(!with("").unwrap().dev_geo_headers);
        let err = with("yes").err().unwrap().to_string();
        assert!(err.contains("DEV_GEO_HEADERS"), "{err}");
    }

    #[test]
    fn page_freshness_is_bounded_seconds() {
        let eu = "eu-west=http://a";
        assert_eq!(load(eu).unwrap().page_max_age, DEFAULT_PAGE_MAX_AGE);
        assert_eq!(load_with(eu, Some(" 5 ")).unwrap().page_max_age, 5);
        for bad in ["0", "-1", "86401", "1m", "1.5"] {
            let err = load_with(eu, Some(bad)).err().expect(bad);
            assert!(err.to_string().contains("PAGE_MAX_AGE"), "{err}");
        }
    }

    #[test]
    fn regions_may_list_several_instances() {
        let c = load("eu-west=http://a:1|http://b:2/, af-south=https://af").unwrap();
        let eu: RegionId = "eu-west".parse().unwrap();
        assert_eq!(c.region_instances(&eu).1, ["http://a:1", "http://b:2"]);
        // A region without instances falls back to the default region.
        let us: RegionId = "us-east".parse().unwrap();
        assert_eq!(c.region_instances(&us).0.as_str(), "eu-west");
    }

    #[test]
    fn bad_region_urls_are_refused() {
        for bad in [
            "af-south=http://a",
            "eu-west=ftp://a",
            "eu-west=http://a|",
            "eu-west=http://a,eu-west=http://b",
            "mars=http://a,eu-west=http://b",
            "eu-west",
        ] {
            assert!(load(bad).is_err(), "{bad}");
        }
    }
}
