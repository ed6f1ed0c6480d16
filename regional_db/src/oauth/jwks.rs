//! Apps' published key sets (`jwks_url`), fetched by the region and cached per their
//! `Cache-Control` (SMART Backend Services: "the authorization server SHALL cache … per
//! the HTTP caching headers").
//!
//! - `max-age=N` keeps the set N seconds (at most a day); `no-store`/`no-cache` not at
//!   all; no header, [`DEFAULT_TTL`].
//! - An assertion naming a `kid` the cached set lacks refetches once — the app rotated its
//!   keys — but no sooner than [`REFETCH_AFTER`] since the last fetch, so a client cannot
//!   make the region hammer a URL with made-up `kid`s.
//! - Only `https` URLs whose host resolves to public addresses are fetched (the URL is
//!   the app developer's: it must not reach into our network); a local stack allows
//!   `http` and loopback with [`OutboundPolicy::allow_local`].

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

use serde_json::Value;

/// How long a set without caching headers is kept.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);
/// The longest a set is kept, whatever its headers say.
pub const MAX_TTL: Duration = Duration::from_secs(24 * 3600);
/// The shortest time between two fetches of one URL when an unknown `kid` asks for one:
/// an app that rotated its key waits this long at most; made-up `kid`s make the region
/// fetch a URL once per this period per instance, no more.
pub const REFETCH_AFTER: Duration = Duration::from_secs(5);
/// The largest key set read.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;

/// Which URLs the region may call on an app's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboundPolicy {
    /// `http` and loopback/private addresses too: for a local stack and tests only.
    pub allow_local: bool,
}

impl OutboundPolicy {
    /// Refuses a URL the region must not call: not `https`, or a host that is or resolves
    /// to a loopback, private, link-local or otherwise non-public address.
    pub async fn check(&self, url: &str) -> Result<(), String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url} is not a URL: {e}"))?;
        if self.allow_local {
            return match parsed.scheme() {
                "https" | "http" => Ok(()),
                other => Err(format!("{other}: URLs are fetched over https only")),
            };
        }
        if parsed.scheme() != "https" {
            return Err("key sets are fetched over https only".into());
        }
        let host = parsed.host_str().ok_or("the URL has no host")?;
        let port = parsed.port_or_known_default().unwrap_or(443);
        let addrs = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
            .await
            .map_err(|e| format!("{host} does not resolve: {e}"))?;
        for addr in addrs {
            if !is_public(addr.ip()) {
                return Err(format!("{host} resolves to a non-public address"));
            }
        }
        Ok(())
    }
}

/// Whether an address is on the public internet (not loopback, private, link-local,
/// shared, documentation, multicast or unspecified).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

struct Cached {
    keys: Value,
    fetched: Instant,
    ttl: Duration,
}

/// The key sets fetched so far, by URL.
pub struct JwksCache {
    http: reqwest::Client,
    policy: OutboundPolicy,
    entries: Mutex<HashMap<String, Cached>>,
}

impl JwksCache {
    pub fn new(http: reqwest::Client, policy: OutboundPolicy) -> Self {
        Self {
            http,
            policy,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The key set at `url`, holding `kid` if it can: the cached set while fresh and
    /// holding it, else a fetch (see the module documentation). The error says why, for
    /// the client's `error_description`.
    pub async fn get(&self, url: &str, kid: &str) -> Result<Value, String> {
        let cached = {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries.get(url).map(|c| {
                (
                    c.keys.clone(),
                    c.fetched.elapsed() < c.ttl,
                    c.fetched.elapsed(),
                )
            })
        };
        if let Some((keys, fresh, age)) = cached {
            let has_kid = find_key(&keys, kid).is_some();
            // Fresh and holding the kid; or fresh and fetched too recently to fetch again.
            if fresh && (has_kid || age < REFETCH_AFTER) {
                return Ok(keys);
            }
        }
        let (keys, ttl) = self.fetch(url).await?;
        if !ttl.is_zero() {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries.insert(
                url.to_owned(),
                Cached {
                    keys: keys.clone(),
                    fetched: Instant::now(),
                    ttl,
                },
            );
        }
        Ok(keys)
    }

    async fn fetch(&self, url: &str) -> Result<(Value, Duration), String> {
        self.policy.check(url).await?;
        let response = self
            .http
            .get(url)
            .header("accept", "application/json, application/jwk-set+json")
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| {
                format!(
                    "the key set at {url} could not be fetched: {}",
                    e.without_url()
                )
            })?;
        if !response.status().is_success() {
            return Err(format!(
                "the key set at {url} answered HTTP {}",
                response.status().as_u16()
            ));
        }
        let ttl = ttl_of(
            response
                .headers()
                .get_all("cache-control")
                .iter()
                .filter_map(|v| v.to_str().ok()),
        );
        if response
            .content_length()
            .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
        {
            return Err(format!(
                "the key set at {url} is larger than {MAX_JWKS_BYTES} bytes"
            ));
        }
        let body = response.bytes().await.map_err(|e| {
            format!(
                "the key set at {url} could not be read: {}",
                e.without_url()
            )
        })?;
        if body.len() > MAX_JWKS_BYTES {
            return Err(format!(
                "the key set at {url} is larger than {MAX_JWKS_BYTES} bytes"
            ));
        }
        let keys: Value = serde_json::from_slice(&body)
            .map_err(|_| format!("the key set at {url} is not JSON"))?;
        if !keys["keys"].is_array() {
            return Err(format!(
                "the document at {url} is not a JWK Set (no \"keys\" array)"
            ));
        }
        Ok((keys, ttl))
    }
}

/// How long a response may be kept, by its `Cache-Control` values.
pub fn ttl_of<'a>(values: impl Iterator<Item = &'a str>) -> Duration {
    let mut ttl = None;
    for directive in values.flat_map(|v| v.split(',')) {
        let directive = directive.trim().to_ascii_lowercase();
        if directive == "no-store" || directive == "no-cache" {
            return Duration::ZERO;
        }
        if let Some(secs) = directive
            .strip_prefix("max-age=")
            .and_then(|s| s.trim_matches('"').parse::<u64>().ok())
        {
            ttl = Some(Duration::from_secs(secs).min(MAX_TTL));
        }
    }
    ttl.unwrap_or(DEFAULT_TTL)
}

/// The key of a set with this `kid`.
pub fn find_key<'k>(keys: &'k Value, kid: &str) -> Option<&'k Value> {
    keys["keys"]
        .as_array()?
        .iter()
        .find(|k| k["kid"].as_str() == Some(kid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_decides_how_long() {
        let ttl = |v: &[&str]| ttl_of(v.iter().copied());
        assert_eq!(ttl(&["public, max-age=60"]), Duration::from_secs(60));
        assert_eq!(ttl(&["max-age=999999999"]), MAX_TTL);
        assert_eq!(ttl(&["no-store"]), Duration::ZERO);
        assert_eq!(ttl(&["max-age=60", "no-cache"]), Duration::ZERO);
        assert_eq!(ttl(&[]), DEFAULT_TTL);
        assert_eq!(ttl(&["max-age=abc"]), DEFAULT_TTL);
    }

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["8.8.8.8", "2606:4700::1111", "93.184.216.34"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn the_policy_refuses_plain_http_and_local_hosts_unless_allowed() {
        let strict = OutboundPolicy::default();
        assert!(strict.check("http://example.com/jwks").await.is_err());
        assert!(strict.check("https://127.0.0.1/jwks").await.is_err());
        assert!(strict.check("https://localhost/jwks").await.is_err());
        assert!(strict.check("ftp://example.com/jwks").await.is_err());
        let local = OutboundPolicy { allow_local: true };
        assert!(local.check("http://127.0.0.1:9/jwks").await.is_ok());
        assert!(local.check("file:///etc/passwd").await.is_err());
    }
}
