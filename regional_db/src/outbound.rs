//! Which URLs the region may call on someone else's say-so: apps' key sets (`jwks_url`,
//! [`crate::oauth::jwks`]) and clinics' webhook endpoints ([`crate::jobs::webhooks`]).
//! Those URLs are typed by apps' developers and clinics' admins: they must not make the
//! region reach into its own network (SSRF: the metadata service at 169.254.169.254, the
//! database, a peer's internal port).
//!
//! - Only `https` URLs, whose host is — or resolves only to — public addresses
//!   ([`is_public`]), are called. [`OutboundPolicy::check`] says why a URL is refused, for
//!   the operator or the admin who typed it.
//! - **DNS rebinding**: a name may resolve to a public address when checked and to a
//!   private one a moment later, when the request connects. A client built with
//!   [`OutboundPolicy::client_builder`] resolves names through [`PublicResolver`], which
//!   drops every non-public address of the very answer the connection uses, so what is
//!   connected to is what was checked. (IP literals are not resolved: `check` refuses a
//!   non-public literal. A system HTTP proxy, if configured, would resolve the name
//!   itself: the guarded client uses none.)
//! - **Redirects** are not followed by the clients of such URLs (the webhooks', the key
//!   sets'): a `Location` to an IP literal would reach past both checks.
//! - A local stack and tests call `http://127.0.0.1:…`: `serve --allow-local-urls`
//!   (`ALLOW_LOCAL_URLS`) and `jobs run webhooks --allow-local-urls` allow `http` and
//!   local addresses ([`OutboundPolicy::allow_local`]). Never in production.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Which URLs the region may call on an app's or a clinic's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboundPolicy {
    /// `http` and loopback/private addresses too: for a local stack and tests only.
    pub allow_local: bool,
}

impl OutboundPolicy {
    /// Refuses a URL the region must not call: not `https`, or a host that is or resolves
    /// to a loopback, private, link-local or otherwise non-public address. The error says
    /// why, in words for whoever typed the URL.
    pub async fn check(&self, url: &str) -> Result<(), String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url} is not a URL: {e}"))?;
        if self.allow_local {
            return match parsed.scheme() {
                "https" | "http" => Ok(()),
                other => Err(format!("{other}: URLs are called over https only")),
            };
        }
        if parsed.scheme() != "https" {
            return Err(format!("{url}: URLs are called over https only"));
        }
        let host = parsed.host_str().ok_or("the URL has no host")?;
        let port = parsed.port_or_known_default().unwrap_or(443);
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
            .await
            .map_err(|e| format!("{host} does not resolve: {e}"))?
            .collect();
        if addrs.is_empty() {
            return Err(format!("{host} does not resolve"));
        }
        if addrs.iter().any(|a| !is_public(a.ip())) {
            return Err(format!(
                "{host} resolves to a non-public address (loopback, private or link-local)"
            ));
        }
        Ok(())
    }

    /// A client builder whose connections go to public addresses only (unless local URLs
    /// are allowed): names resolve through [`PublicResolver`], and no proxy is used.
    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        let builder = reqwest::Client::builder();
        if self.allow_local {
            return builder;
        }
        builder.no_proxy().dns_resolver(Arc::new(PublicResolver))
    }
}

/// Resolves names with the system's resolver and keeps their public addresses only: a
/// name all of whose addresses are private does not resolve (the connection fails), so a
/// name rebound between [`OutboundPolicy::check`] and the connection reaches nothing
/// internal.
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicResolver;

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // The port is the URL's: the connector sets it on each address.
            let public: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if public.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(strict.check("https://[::1]/jwks").await.is_err());
        assert!(
            strict
                .check("https://169.254.169.254/latest")
                .await
                .is_err()
        );
        assert!(strict.check("https://localhost/jwks").await.is_err());
        assert!(strict.check("ftp://example.com/jwks").await.is_err());
        let local = OutboundPolicy { allow_local: true };
        assert!(local.check("http://127.0.0.1:9/jwks").await.is_ok());
        assert!(local.check("file:///etc/passwd").await.is_err());
    }

    #[tokio::test]
    async fn the_guarded_resolver_drops_local_addresses() {
        let name: Name = "localhost".parse().unwrap();
        assert!(PublicResolver.resolve(name).await.is_err());
    }

    #[tokio::test]
    async fn a_guarded_client_connects_to_no_local_name() {
        // A listener on loopback, reached by name: the strict client does not connect.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let strict = OutboundPolicy::default().client_builder().build().unwrap();
        let err = strict
            .get(format!("http://localhost:{port}/"))
            .send()
            .await
            .unwrap_err();
        assert!(err.is_connect(), "{err:?}");
    }
}
