//! Tenants (clinics): slugs, resolution of a request to a tenant, and the directory entry.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{
    country::CountryCode,
    geo::RegionId,
    money::{Currency, UnknownCurrency},
};

/// Names that are never clinics, whatever is registered: platform hosts and names that
/// would let a clinic impersonate the platform.
pub const RESERVED_SLUGS: &[&str] = &[
    "www",
    "api",
    "admin",
    "static",
    "cdn",
    "assets",
    "app",
    "apps",
    "auth",
    "login",
    "oauth",
    "mail",
    "smtp",
    "status",
    "docs",
    "help",
    "support",
    "billing",
    "dashboard",
    "grafana",
    "metrics",
    "prometheus",
    "marketplace",
    "webhooks",
    "internal",
    "localhost",
    "edge",
    "region",
];

/// A clinic's slug: a lowercase DNS label of 2–63 characters (letters, digits, hyphens; no
/// leading, trailing or doubled-at-3–4 hyphen, so no punycode `xn--` look-alikes), not reserved.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct TenantSlug(String);

/// Why a string is not a tenant slug.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SlugError {
    /// Empty, too short or longer than a DNS label (63).
    #[error("a clinic slug has 2 to 63 characters, {0:?} has {1}")]
    Length(String, usize),
    /// A character other than a–z, 0–9 and `-`.
    #[error("a clinic slug has only lowercase letters, digits and hyphens: {0:?}")]
    Charset(String),
    /// Hyphen at either end, or `--` at positions 3–4 (reserved for IDNA/punycode).
    #[error("a clinic slug cannot start or end with a hyphen, nor hold `--` at position 3: {0:?}")]
    Hyphens(String),
    /// A reserved platform name.
    #[error("{0:?} is reserved by the platform")]
    Reserved(String),
}

impl TenantSlug {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The Postgres schema holding this clinic's data. Slugs have no `_`, so replacing `-`
    /// by `_` is injective; the name is still always used quoted.
    pub fn schema_name(&self) -> String {
        format!("tenant_{}", self.0.replace('-', "_"))
    }
}

impl FromStr for TenantSlug {
    type Err = SlugError;
    fn from_str(s: &str) -> Result<Self, SlugError> {
        let n = s.len();
        if !(2..=63).contains(&n) {
            return Err(SlugError::Length(s.to_owned(), s.chars().count()));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(SlugError::Charset(s.to_owned()));
        }
        if s.starts_with('-') || s.ends_with('-') || s.get(2..4) == Some("--") {
            return Err(SlugError::Hyphens(s.to_owned()));
        }
        if RESERVED_SLUGS.contains(&s) {
            return Err(SlugError::Reserved(s.to_owned()));
        }
        Ok(Self(s.to_owned()))
    }
}

impl<'de> Deserialize<'de> for TenantSlug {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A host name as the edge received it, normalised: lower case, no port, no trailing dot,
/// ASCII only (browsers send IDNs as punycode; raw UTF-8 in a Host header is refused).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostName(String);

impl HostName {
    /// Parses an `authority` as RFC 9110 §7.2 allows it in `Host` (`uri-host [":" port]`,
    /// IPv6 in brackets). `None` for anything else, so that the request is refused (400)
    /// rather than guessed at:
    /// - userinfo (`evil.com@clinic.example`): `Host` has none, and RFC 9110 §4.2.4 asks
    ///   recipients of an `http(s)` URI with one to treat it as an error — it must never
    ///   pick (or hide) the clinic;
    /// - a port that is not 0–65535 in digits;
    /// - a name that is not ASCII letters, digits and hyphens in dot-separated labels:
    ///   percent-encoding (`hopital%2Dparis`) or raw UTF-8 (`hôpital`) included;
    /// - brackets around anything but an IPv6 address.
    pub fn parse(authority: &str) -> Option<Self> {
        if authority.contains('@') {
            return None;
        }
        if let Some(rest) = authority.strip_prefix('[') {
            let (literal, after) = rest.split_once(']')?;
            let address: std::net::Ipv6Addr = literal.parse().ok()?;
            let port_ok = after.is_empty() || after.strip_prefix(':').is_some_and(valid_port);
            // An IP literal: never a tenant, but a valid host.
            return port_ok.then(|| Self(format!("[{address}]")));
        }
        let host = match authority.rsplit_once(':') {
            Some((host, port)) if valid_port(port) => host,
            Some(_) => return None,
            None => authority,
        };
        let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
        if host.is_empty() || host.len() > 253 {
            return None;
        }
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        host.split('.').all(label_ok).then_some(Self(host))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `port = *DIGIT` (RFC 3986 §3.2.3; empty means the scheme's default), within 0–65535.
fn valid_port(port: &str) -> bool {
    port.is_empty()
        || (port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok())
}

/// How a request names its clinic, before the directory is consulted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantSelector {
    /// `<slug>.<apex>` or the `X-Tenant-Slug` header: the slug is known without a lookup.
    Slug(TenantSlug),
    /// A custom domain registered to a clinic: needs the directory.
    Domain(String),
}

/// Why no tenant could be named from the request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResolveError {
    /// The Host is not a valid host name.
    #[error("invalid Host")]
    BadHost,
    /// The apex itself or a reserved name with no `X-Tenant-Slug`: the platform, no clinic.
    #[error("no clinic named in this request")]
    NoTenant,
    /// A subdomain or `X-Tenant-Slug` that cannot be a clinic slug.
    #[error("not a clinic: {0}")]
    BadSlug(#[from] SlugError),
}

/// Names the clinic a request is for: subdomain of `apex`, else `X-Tenant-Slug` on the
/// apex (mobile apps), else the host as a custom domain. A subdomain deeper than one label
/// (`a.b.<apex>`) is never a clinic.
pub fn resolve(
    host: &HostName,
    apex: &HostName,
    header_slug: Option<&str>,
) -> Result<TenantSelector, ResolveError> {
    let h = host.as_str();
    let a = apex.as_str();
    if h == a || h == format!("www.{a}") {
        return match header_slug {
            Some(s) => Ok(TenantSelector::Slug(s.trim().to_ascii_lowercase().parse()?)),
            None => Err(ResolveError::NoTenant),
        };
    }
    if let Some(sub) = h.strip_suffix(a).and_then(|s| s.strip_suffix('.')) {
        if sub.contains('.') {
            return Err(ResolveError::NoTenant);
        }
        return match sub.parse::<TenantSlug>() {
            Ok(slug) => Ok(TenantSelector::Slug(slug)),
            Err(SlugError::Reserved(_)) => Err(ResolveError::NoTenant),
            Err(e) => Err(e.into()),
        };
    }
    if h.starts_with('[') || h.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        // An IP literal is the platform reached directly, not a custom domain.
        return match header_slug {
            Some(s) => Ok(TenantSelector::Slug(s.trim().to_ascii_lowercase().parse()?)),
            None => Err(ResolveError::NoTenant),
        };
    }
    Ok(TenantSelector::Domain(h.to_owned()))
}

/// A clinic's lifecycle state; only `Active` clinics are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    Active,
    Suspended,
}

/// What the directory says about a clinic: everything the edge needs to serve it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantEntry {
    pub slug: TenantSlug,
    pub name: String,
    pub country: CountryCode,
    pub home_region: RegionId,
    pub default_locale: String,
    pub currency: String,
    pub plan: String,
    pub status: TenantStatus,
    #[serde(default)]
    pub domains: Vec<String>,
}

impl TenantEntry {
    /// The clinic's billing currency, parsed. `currency` stays a string on the wire so that a
    /// clinic whose currency an older edge does not know is still served (only its prices
    /// cannot be shown); provisioning writes only codes of [`crate::money::currency::TABLE`].
    pub fn billing_currency(&self) -> Result<Currency, UnknownCurrency> {
        self.currency.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(s: &str) -> HostName {
        HostName::parse(s).unwrap_or_else(|| panic!("{s} should parse"))
    }

    fn resolve_str(h: &str, header: Option<&str>) -> Result<TenantSelector, ResolveError> {
        resolve(&host(h), &host("localhost"), header)
    }

    fn slug(s: &str) -> TenantSelector {
        TenantSelector::Slug(s.parse().unwrap())
    }

    #[test]
    fn host_normalisation() {
        assert_eq!(
            host("Hopital-Paris.LOCALHOST:8787").as_str(),
            "hopital-paris.localhost"
        );
        assert_eq!(
            host("hopital-paris.localhost.").as_str(),
            "hopital-paris.localhost"
        );
        assert_eq!(
            host("hopital-paris.localhost.:443").as_str(),
            "hopital-paris.localhost"
        );
        assert_eq!(host("[::1]:8787").as_str(), "[::1]");
        assert_eq!(
            host("[0:0::1]").as_str(),
            "[::1]",
            "one spelling per address"
        );
        assert_eq!(host("clinic.localhost:").as_str(), "clinic.localhost");
        assert_eq!(host("clinic.localhost:65535").as_str(), "clinic.localhost");
        assert_eq!(
            host("xn--hpital-fva.example.fr").as_str(),
            "xn--hpital-fva.example.fr"
        );
        for bad in [
            "",
            ":8787",
            "hôpital.localhost",
            "a..b",
            "-a.localhost",
            "a_b.localhost",
            "host:port",
            "a b",
            // Issue 7: what crashed the Spin edge, and its relatives.
            "hopital%2Dparis.localhost",
            "hôpital-paris.localhost",
            "evil.com@hopital-paris.localhost",
            "@hopital-paris.localhost",
            "user:pass@hopital-paris.localhost:8788",
            "hopital-paris.localhost:abc",
            "hopital-paris.localhost:65536",
            "hopital-paris.localhost:+80",
            "hopital-paris.localhost:8788:8788",
            "[::1]garbage",
            "[::1]:x",
            "[evil.localhost]",
            "[::1",
            "hopital-paris.localhost/path",
            "hopital-paris.localhost?q",
            "hopital-paris.localhost\\",
        ] {
            assert!(HostName::parse(bad).is_none(), "{bad:?}");
        }
        assert!(HostName::parse(&"a".repeat(64)).is_none());
    }

    #[test]
    fn subdomain_header_and_custom_domain() {
        assert_eq!(
            resolve_str("hopital-paris.localhost:8787", None),
            Ok(slug("hopital-paris"))
        );
        assert_eq!(
            resolve_str("HOPITAL-PARIS.localhost.", None),
            Ok(slug("hopital-paris"))
        );
        assert_eq!(
            resolve_str("localhost:8787", Some("Clinique-Dakar")),
            Ok(slug("clinique-dakar"))
        );
        assert_eq!(resolve_str("localhost", None), Err(ResolveError::NoTenant));
        assert_eq!(
            resolve_str("127.0.0.1:8787", Some("clinique-dakar")),
            Ok(slug("clinique-dakar"))
        );
        assert_eq!(
            resolve_str("127.0.0.1:8787", None),
            Err(ResolveError::NoTenant)
        );
        assert_eq!(
            resolve_str("www.clinique-sante.fr", None),
            Ok(TenantSelector::Domain("www.clinique-sante.fr".into()))
        );
        // The subdomain wins over the header: a header cannot redirect a clinic's host.
        assert_eq!(
            resolve_str("hopital-paris.localhost", Some("clinique-dakar")),
            Ok(slug("hopital-paris"))
        );
    }

    #[test]
    fn reserved_deep_and_invalid_subdomains_are_not_clinics() {
        for h in [
            "www.localhost",
            "api.localhost",
            "admin.localhost",
            "static.localhost",
            "cdn.localhost",
        ] {
            assert_eq!(resolve_str(h, None), Err(ResolveError::NoTenant), "{h}");
        }
        assert_eq!(
            resolve_str("a.hopital-paris.localhost", None),
            Err(ResolveError::NoTenant)
        );
        assert!(matches!(
            resolve_str("xn--hpital-fva.localhost", None),
            Err(ResolveError::BadSlug(_))
        ));
        assert!(matches!(
            resolve_str("localhost", Some("bad slug")),
            Err(ResolveError::BadSlug(_))
        ));
        assert!(matches!(
            resolve_str("localhost", Some("www")),
            Err(ResolveError::BadSlug(SlugError::Reserved(_)))
        ));
    }

    #[test]
    fn slugs_must_be_dns_labels() {
        for good in ["hopital-paris", "ab", "clinic1", "a-b-c", &"a".repeat(63)] {
            assert!(good.parse::<TenantSlug>().is_ok(), "{good}");
        }
        type Check = fn(&SlugError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("", |e| matches!(e, SlugError::Length(..))),
            ("a", |e| matches!(e, SlugError::Length(..))),
            (&"a".repeat(64), |e| matches!(e, SlugError::Length(..))),
            ("Hopital", |e| matches!(e, SlugError::Charset(_))),
            ("hôpital", |e| matches!(e, SlugError::Charset(_))),
            ("a_b", |e| matches!(e, SlugError::Charset(_))),
            ("a.b", |e| matches!(e, SlugError::Charset(_))),
            ("-ab", |e| matches!(e, SlugError::Hyphens(_))),
            ("ab-", |e| matches!(e, SlugError::Hyphens(_))),
            ("xn--hpital-fva", |e| matches!(e, SlugError::Hyphens(_))),
            ("www", |e| matches!(e, SlugError::Reserved(_))),
            ("admin", |e| matches!(e, SlugError::Reserved(_))),
        ];
        for (s, ok) in cases {
            let e = s.parse::<TenantSlug>().unwrap_err();
            assert!(ok(&e), "{s:?}: {e:?}");
        }
    }

    #[test]
    fn schema_names_are_distinct_and_safe() {
        let s: TenantSlug = "hopital-paris".parse().unwrap();
        assert_eq!(s.schema_name(), "tenant_hopital_paris");
    }

    #[test]
    fn billing_currency_is_parsed_not_trusted() {
        let entry = |currency: &str| -> TenantEntry {
            serde_json::from_value(serde_json::json!({
                "slug": "clinique-dakar", "name": "Clinique", "country": "SN",
                "home_region": "af-south", "default_locale": "fr", "currency": currency,
                "plan": "standard", "status": "active"
            }))
            .unwrap()
        };
        assert_eq!(entry("XOF").billing_currency(), Ok(Currency::Xof));
        // An unknown code still deserialises (the clinic is served), but is not a currency.
        assert_eq!(
            entry("JPY").billing_currency(),
            Err(UnknownCurrency("JPY".into()))
        );
    }
}
