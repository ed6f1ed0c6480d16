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
//!   the app developer's: it must not reach into our network): [`crate::outbound`]'s
//!   policy, the one every call on someone else's URL follows; a local stack allows
//!   `http` and loopback with [`OutboundPolicy::allow_local`].

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::outbound::OutboundPolicy;

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
}
