//! The edge cache: keys and policies.
//!
//! Pages are cached under (tenant, path, negotiated locale, asset version): never the raw
//! `Accept-Language`, whose thousands of spellings would shatter the hit ratio. The cached
//! body depends on nothing else, so a visitor whose locale came from a cookie or `?locale=`
//! is served from the same entry, only marked `private` on the way out.

use crate::{locale::Locale, tenant::TenantSlug};

/// The origin under which cache keys live. Never fetched: the Cache API only needs a URL.
const KEY_ORIGIN: &str = "https://edge-cache.telemed.internal";

/// Downstream policy of a public page: browsers and shared caches keep it a minute, may
/// serve it stale for ten while revalidating, and for a day if the platform errs.
pub const PUBLIC_PAGE: &str =
    "public, max-age=60, stale-while-revalidate=600, stale-if-error=86400";
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
}
