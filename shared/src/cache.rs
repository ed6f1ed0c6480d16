//! The edge cache: keys and policies.
//!
//! Pages are cached under (tenant, path, negotiated locale, asset version): never the raw
//! `Accept-Language`, whose thousands of spellings would shatter the hit ratio. The cached
//! body depends on nothing else, so a visitor whose locale came from a cookie or `?locale=`
//! is served from the same entry, only marked `private` on the way out.

use http::{Response, header::HeaderValue};

use crate::{i18n::locale::Locale, tenant::TenantSlug};

/// The origin under which cache keys live. Never fetched: the Cache API only needs a URL.
const KEY_ORIGIN: &str = "https://edge-cache.telemed.internal";

/// How long past its freshness a page may be served while the platform errs: downstream
/// (`stale-if-error`) and by the edge itself, which keeps its copy that long.
pub const STALE_IF_ERROR_SECS: u64 = 86_400;
/// How long past its freshness downstream caches may serve a page while revalidating.
pub const STALE_WHILE_REVALIDATE_SECS: u64 = 600;

/// Downstream policy of a public page: fresh for `max_age` seconds
/// ([`crate::config::EdgeConfig::page_max_age`]), then served stale for ten minutes while
/// revalidating, and for a day if the platform errs.
pub fn public_page(max_age: u64) -> String {
    format!(
        "public, max-age={max_age}, stale-while-revalidate={STALE_WHILE_REVALIDATE_SECS}, stale-if-error={STALE_IF_ERROR_SECS}"
    )
}

/// When the edge stored a page (milliseconds since the epoch): an internal header of the
/// stored copy, never sent to a client.
const STORED_AT: &str = "x-telemed-stored-at";

/// Whether a page from the edge cache may be served as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    /// Past its `max-age`: re-render it, and serve this copy only if that fails.
    Stale,
}

/// The copy of a public page the edge stores: kept `max_age` plus [`STALE_IF_ERROR_SECS`]
/// (the platform cache honours `Cache-Control`), stamped with the time it was stored.
pub fn for_storage(mut page: Response<Vec<u8>>, now_ms: u64, max_age: u64) -> Response<Vec<u8>> {
    let h = page.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "public, max-age={}",
        max_age + STALE_IF_ERROR_SECS
    )) {
        h.insert("cache-control", v);
    }
    h.insert(STORED_AT, HeaderValue::from(now_ms));
    page
}

/// A stored page as a client gets it — its public `Cache-Control` back, its `Age`, no
/// internal header — and whether it is still fresh. A copy without a readable stamp (an
/// older deployment's) counts as stale.
pub fn from_storage(
    mut stored: Response<Vec<u8>>,
    now_ms: u64,
    max_age: u64,
) -> (Response<Vec<u8>>, Freshness) {
    let h = stored.headers_mut();
    let stored_at = h
        .remove(STORED_AT)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let age = stored_at.map(|at| now_ms.saturating_sub(at) / 1000);
    if let Ok(v) = HeaderValue::from_str(&public_page(max_age)) {
        h.insert("cache-control", v);
    }
    if let Some(age) = age {
        h.insert("age", HeaderValue::from(age));
    }
    let freshness = match age {
        Some(age) if age < max_age => Freshness::Fresh,
        _ => Freshness::Stale,
    };
    (stored, freshness)
}
/// The same page when its locale came from the visitor's own choice (cookie or query).
pub const PRIVATE_PAGE: &str = "private, max-age=60";
/// Error pages: short, so a fixed fault disappears quickly.
pub const ERROR_PAGE: &str = "public, max-age=10";
/// API responses and anything with a session: never stored anywhere.
pub const NO_STORE: &str = "no-store";
/// How long a directory entry is trusted at the edge, and how long a miss is remembered.
pub const DIRECTORY_TTL_SECS: u64 = 30;
pub const DIRECTORY_MISS_TTL_SECS: u64 = 10;

/// The cache key of a page. `path` must be the request path without query.
pub fn page_key(tenant: &TenantSlug, path: &str, locale: Locale, asset_version: &str) -> String {
    let path = percent_encoding::utf8_percent_encode(path, percent_encoding::NON_ALPHANUMERIC);
    format!(
        "{KEY_ORIGIN}/page/v{}/{}/{}/{path}",
        enc(asset_version),
        tenant,
        locale.tag()
    )
}

/// The cache key of a directory entry, by slug or custom domain.
pub fn directory_key(kind: &str, value: &str) -> String {
    format!("{KEY_ORIGIN}/directory/{kind}/{}", enc(value))
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_keys_separate_tenant_path_locale_and_version() {
        let a: TenantSlug = "hopital-paris".parse().unwrap();
        let b: TenantSlug = "clinique-dakar".parse().unwrap();
        let fr = Locale::from_tag("fr").unwrap();
        let ar = Locale::from_tag("ar").unwrap();
        let k = page_key(&a, "/", fr, "1");
        assert!(k.starts_with("https://"));
        let others = [
            page_key(&b, "/", fr, "1"),
            page_key(&a, "/x", fr, "1"),
            page_key(&a, "/", ar, "1"),
            page_key(&a, "/", fr, "2"),
        ];
        for o in others {
            assert_ne!(k, o);
        }
        // A path cannot smuggle another tenant's key.
        assert_ne!(
            page_key(&a, "/../clinique-dakar/fr/", fr, "1"),
            page_key(&b, "/", fr, "1")
        );
        assert_ne!(directory_key("slug", "a/b"), directory_key("slug", "a%2Fb"));
    }

    #[test]
    fn stored_pages_outlive_their_freshness_and_come_back_as_they_left() {
        let page = Response::builder()
            .header("cache-control", public_page(60))
            .header("content-language", "fr")
            .body(b"<html>".to_vec())
            .unwrap();
        let stored = for_storage(page, 1_000_000, 60);
        assert_eq!(
            stored.headers()["cache-control"],
            format!("public, max-age={}", 60 + STALE_IF_ERROR_SECS)
        );
        let (fresh, f) = from_storage(stored.clone(), 1_000_000 + 59_999, 60);
        assert_eq!(f, Freshness::Fresh);
        assert_eq!(fresh.headers()["cache-control"], public_page(60));
        assert_eq!(fresh.headers()["age"], "59");
        assert!(fresh.headers().get(STORED_AT).is_none());
        assert_eq!(fresh.headers()["content-language"], "fr");
        assert_eq!(fresh.body(), b"<html>");
        let (stale, f) = from_storage(stored, 1_000_000 + 60_000, 60);
        assert_eq!(f, Freshness::Stale);
        assert_eq!(stale.headers()["age"], "60");
        // A copy without a stamp is never taken for fresh.
        let (_, f) = from_storage(Response::new(Vec::new()), 0, 60);
        assert_eq!(f, Freshness::Stale);
    }
}
