//! Operators: the platform's super-admins, who manage clinics. They are nobody's account at
//! any clinic: they live on the control plane (`control.operators`), sign in on the apex
//! host only, and hold credentials no clinic host accepts ([`token`]).
//!
//! On the apex host (`https://<APEX_DOMAIN>`), and there only:
//! - `/ops/v1/…`, a JSON API ([`api`]): `POST /ops/v1/token` (email + password → an
//!   operator bearer token), then the clinics under `/ops/v1/tenants` with that token.
//! - `/ops/…`, the console ([`console`]): `/ops/sign-in`, `/ops/tenants` (the list, with
//!   status, plan, home region and domains) and `/ops/tenants/<slug>` (its forms).
//!
//! Why `/ops` and not `/admin/tenants` (the word): on a clinic's host `/admin` is
//! that clinic's admin pages; the operators' space has its own prefix on its own host, so
//! the operator's cookie (`Path=/ops`) and a clinic admin's never meet, and a clinic host
//! answers 404 to every `/ops` path (no page there has that name).
//!
//! Every operation is one call to the control plane's region ([`wire`]): the edge verifies
//! the credential itself, the region checks the operator is still enabled and records the
//! operation in `control.operator_events`.

pub mod api;
pub mod console;
pub mod token;
pub mod wire;

use http::{Request, Response};

use crate::{ctx::Ctx, host::Host, tenant::HostName};

/// Whether `path` belongs to the operators' space (on the apex host).
pub fn is_ops_path(path: &str) -> bool {
    path == "/ops" || path.starts_with("/ops/")
}

/// Serves an operators' path on the apex host.
pub async fn handle<H: Host>(ctx: &mut Ctx<'_, H>, req: &Request<Vec<u8>>) -> Response<Vec<u8>> {
    let path = req.uri().path();
    if path == "/ops/v1" || path.starts_with("/ops/v1/") {
        api::handle(ctx, req).await
    } else {
        console::handle(ctx, req).await
    }
}

/// Whether `domain` is the platform's apex or a name under it: never a clinic's custom
/// domain (clinics' subdomains are the platform's to give, by slug).
pub fn under_apex(domain: &str, apex: &str) -> bool {
    let (d, a) = (
        domain.trim().trim_end_matches('.').to_ascii_lowercase(),
        apex.trim().trim_end_matches('.').to_ascii_lowercase(),
    );
    !a.is_empty() && (d == a || d.ends_with(&format!(".{a}")))
}

/// Whether the request is for the apex host itself (not a clinic, not `www.`).
pub fn on_apex(host: &HostName, apex: &HostName) -> bool {
    host == apex
}

/// The client's address as the platform reports it (`CF-Connecting-IP`), for the
/// per-address throttle of sign-ins; only a well-formed address is passed on.
pub(crate) fn client_address(req: &Request<Vec<u8>>) -> Option<String> {
    req.headers()
        .get("cf-connecting-ip")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<std::net::IpAddr>().ok())
        .map(|ip| ip.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_apex_and_its_subdomains_are_no_custom_domain() {
        for d in [
            "telemed.example",
            "www.telemed.example",
            "a.b.Telemed.Example.",
            "x.telemed.example",
        ] {
            assert!(under_apex(d, "telemed.example"), "{d}");
        }
        for d in [
            "clinique.example",
            "nottelemed.example",
            "telemed.example.fr",
        ] {
            assert!(!under_apex(d, "telemed.example"), "{d}");
        }
        assert!(is_ops_path("/ops") && is_ops_path("/ops/tenants"));
        assert!(!is_ops_path("/opsx") && !is_ops_path("/admin/tenants"));
    }
}
