//! Server-rendered pages: the clinic's home page and the localized error pages.
//!
//! Every string that comes from a clinic or a visitor is HTML-escaped after Fluent has
//! formatted the message, so no message and no tenant text can inject markup.

use std::fmt::Write as _;

use http::{Response, StatusCode};

use crate::{
    cache,
    i18n::{Arg, locale::Locale, message},
    tenant::TenantEntry,
};

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn t(locale: Locale, id: &str) -> String {
    escape(&message(locale, id, &[]))
}

/// Security headers every page carries: no inline script at all, styles inline only.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI','Noto Sans','Noto Sans Arabic',sans-serif;\
margin:0;color:#1b2733;background:#f6f8fa;line-height:1.5}\
header,main,footer{max-width:44rem;margin-inline:auto;padding-inline:1.25rem}\
header{padding-block:1rem}.langs{display:flex;gap:.75rem;list-style:none;margin:0;padding:0;flex-wrap:wrap}\
.langs a{color:#0b5cad}.langs a[aria-current]{font-weight:700;text-decoration:none;color:#1b2733}\
main{padding-block:2rem}h1{font-size:2rem;margin-block:0 1rem}\
.book{display:inline-block;background:#0b5cad;color:#fff;padding:.75rem 1.25rem;border-radius:.5rem;text-decoration:none}\
footer{font-size:.875rem;color:#52606d;padding-block:2rem}";

fn document(locale: Locale, title: &str, body: &str) -> String {
    let mut alternates = String::new();
    let mut links = String::new();
    let label = t(locale, "language-switcher-label");
    for l in Locale::all() {
        let tag = l.tag();
        let _ = write!(
            alternates,
            r#"<link rel="alternate" hreflang="{tag}" href="/?locale={tag}">"#
        );
        let current = if l == locale {
            r#" aria-current="true""#
        } else {
            ""
        };
        let _ = write!(
            links,
            r#"<li><a href="?locale={tag}" hreflang="{tag}" lang="{tag}" dir="{dir}"{current}>{name}</a></li>"#,
            dir = l.dir().as_str(),
            name = escape(&l.autonym()),
        );
    }
    format!(
        r#"<!doctype html>
<html lang="{lang}" dir="{dir}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
{alternates}
<style>{STYLE}</style>
</head>
<body>
<header><nav aria-label="{label}"><ul class="langs">{links}</ul></nav></header>
{body}
<footer><p>{privacy}</p></footer>
</body>
</html>
"#,
        lang = locale.tag(),
        dir = locale.dir().as_str(),
        privacy = t(locale, "footer-privacy"),
    )
}

/// The clinic's home page, in `locale`.
pub fn home(entry: &TenantEntry, locale: Locale) -> String {
    let clinic = [("clinic", Arg::Str(&entry.name))];
    let title = escape(&message(locale, "home-title", &clinic));
    let body = format!(
        r#"<main>
<h1>{greeting}</h1>
<p>{intro}</p>
<p><a class="book" href="/appointments/new">{book}</a></p>
</main>"#,
        greeting = escape(&message(locale, "home-greeting", &clinic)),
        intro = t(locale, "home-intro"),
        book = t(locale, "home-book"),
    );
    document(locale, &title, &body)
}

/// Which error page to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorPage {
    /// No clinic at this address, or no such page.
    NotFound,
    /// The clinic is suspended.
    Suspended,
    /// The request itself is malformed (bad Host).
    BadRequest,
    /// A method other than GET/HEAD on a page.
    MethodNotAllowed,
    /// A region is unreachable or overloaded: try again.
    Unavailable,
    /// A fault of ours.
    Internal,
}

impl ErrorPage {
    pub fn status(self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Suspended => StatusCode::FORBIDDEN,
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn ids(self) -> (&'static str, &'static str) {
        match self {
            Self::NotFound => ("not-found-title", "not-found-body"),
            Self::Suspended => ("clinic-suspended-title", "clinic-suspended-body"),
            Self::BadRequest | Self::MethodNotAllowed => ("bad-request-title", "bad-request-body"),
            Self::Unavailable => ("unavailable-title", "unavailable-body"),
            Self::Internal => ("error-title", "error-body"),
        }
    }
}

/// A localized error page.
pub fn error(page: ErrorPage, locale: Locale) -> String {
    let (title_id, body_id) = page.ids();
    let title = t(locale, title_id);
    let body = format!(
        "<main>\n<h1>{title}</h1>\n<p>{}</p>\n</main>",
        t(locale, body_id)
    );
    document(locale, &title, &body)
}

/// The headers every HTML response carries, whatever its status.
pub fn html_response(
    status: StatusCode,
    locale: Locale,
    cache_control: &str,
    html: String,
) -> Response<Vec<u8>> {
    let mut b = Response::builder()
        .status(status)
        .header("content-type", "text/html; charset=utf-8")
        .header("content-language", locale.tag())
        .header("vary", "Accept-Language, Cookie")
        .header("cache-control", cache_control)
        .header("content-security-policy", CSP)
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "strict-origin-when-cross-origin");
    if status == StatusCode::METHOD_NOT_ALLOWED {
        b = b.header("allow", "GET, HEAD");
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        b = b.header("retry-after", "5");
    }
    b.body(html.into_bytes())
        .expect("static header names and values")
}

/// An error page response; never stored in the edge cache.
pub fn error_response(page: ErrorPage, locale: Locale) -> Response<Vec<u8>> {
    let cc = if page == ErrorPage::NotFound {
        cache::ERROR_PAGE
    } else {
        cache::NO_STORE
    };
    html_response(page.status(), locale, cc, error(page, locale))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str) -> TenantEntry {
        serde_json::from_value(serde_json::json!({
            "slug": "hopital-paris", "name": name, "country": "FR", "home_region": "eu-west",
            "default_locale": "fr", "currency": "EUR", "plan": "standard", "status": "active"
        }))
        .unwrap()
    }

    #[test]
    fn tenant_text_is_escaped() {
        let html = home(
            &entry(r#"<script>alert("x")</script> & Co'"#),
            Locale::from_tag("en").unwrap(),
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co&#39;"));
    }

    #[test]
    fn arabic_is_rtl_and_every_locale_is_offered() {
        let html = home(&entry("Hôpital Paris"), Locale::from_tag("ar").unwrap());
        assert!(html.contains(r#"<html lang="ar" dir="rtl">"#));
        for l in Locale::all() {
            assert!(
                html.contains(&format!(r#"hreflang="{}" lang="{}""#, l.tag(), l.tag())),
                "{}",
                l.tag()
            );
        }
        assert!(html.contains("aria-current"));
        let fr = home(&entry("Hôpital Paris"), Locale::from_tag("fr").unwrap());
        assert!(fr.contains(r#"<html lang="fr" dir="ltr">"#));
        assert!(fr.contains("Hôpital Paris"));
    }

    #[test]
    fn error_pages_have_their_status_and_language() {
        let r = error_response(ErrorPage::NotFound, Locale::from_tag("es").unwrap());
        assert_eq!(r.status(), 404);
        assert_eq!(r.headers()["content-language"], "es");
        let r = error_response(ErrorPage::Unavailable, Locale::from_tag("fr").unwrap());
        assert_eq!(r.headers()["retry-after"], "5");
        assert_eq!(r.headers()["cache-control"], "no-store");
    }
}
