//! The frame every page shares: the HTML document (language, direction, language switcher,
//! the signed-in person's bar), the style sheet, the security headers, the localized error
//! pages.
//!
//! Every string that comes from a clinic or a visitor is HTML-escaped after Fluent has
//! formatted the message, so no message and no tenant text can inject markup.

use std::fmt::Write as _;

use http::{Response, StatusCode};

use crate::{
    cache,
    i18n::{locale::Locale, message},
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

/// A message without arguments, escaped for HTML.
pub fn t(locale: Locale, id: &str) -> String {
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
footer{font-size:.875rem;color:#52606d;padding-block:2rem}\
a{color:#0b5cad}a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible\
{outline:3px solid #f0a500;outline-offset:2px}\
.bar{display:flex;gap:1rem;align-items:center;justify-content:space-between;flex-wrap:wrap;margin-block-end:.5rem}\
.bar form{display:inline}.field{margin-block:0 1rem;display:flex;flex-direction:column;gap:.25rem;max-width:28rem}\
label{font-weight:600}input,select,textarea{font:inherit;padding:.5rem;border:1px solid #7b8794;border-radius:.375rem}\
input[aria-invalid]{border-color:#b42318}.field-error,.alert{color:#b42318;font-weight:600;margin:0}\
.notice{background:#e3f1df;padding:.75rem 1rem;border-radius:.5rem}.alert{background:#fde8e7;padding:.75rem 1rem;border-radius:.5rem}\
button,.button{font:inherit;cursor:pointer;background:#0b5cad;color:#fff;border:0;padding:.6rem 1.1rem;border-radius:.5rem;text-decoration:none;display:inline-block}\
button.secondary{background:#52606d}.link{background:none;color:#0b5cad;padding:0;text-decoration:underline}\
table{border-collapse:collapse;width:100%;margin-block-end:1.5rem}th,td{text-align:start;padding:.5rem;border-block-end:1px solid #d9e2ec}\
ul.slots{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.5rem}fieldset{border:1px solid #d9e2ec;border-radius:.5rem;margin-block:0 1rem}\
.amount{font-variant-numeric:tabular-nums;white-space:nowrap}svg{max-width:100%;height:auto}\
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}";

/// A page without a signed-in person's bar.
pub fn document(locale: Locale, title: &str, body: &str) -> String {
    document_with(locale, title, "", body)
}

/// A page; `bar` (already HTML) goes above the content: the clinic's name, the signed-in
/// person and the sign-out button ([`super::Page::render`]).
pub fn document_with(locale: Locale, title: &str, bar: &str, body: &str) -> String {
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
<header>{bar}<nav aria-label="{label}"><ul class="langs">{links}</ul></nav></header>
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

/// Which error page to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorPage {
    /// No clinic at this address, or no such page.
    NotFound,
    /// The clinic is suspended.
    Suspended,
    /// The request itself is malformed (bad Host).
    BadRequest,
    /// A method the page does not answer.
    MethodNotAllowed,
    /// Signed in, but this page is for someone else (another role).
    Forbidden,
    /// A form whose CSRF token is missing or stale, or posted from another site.
    Expired,
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
            Self::Forbidden | Self::Expired => StatusCode::FORBIDDEN,
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
            Self::Forbidden => ("web-forbidden-title", "web-forbidden-body"),
            Self::Expired => ("web-expired-title", "web-expired-body"),
        }
    }
}

/// An error page's title and body (HTML), localized.
pub fn error_text(page: ErrorPage, locale: Locale) -> (String, String) {
    let (title_id, body_id) = page.ids();
    let title = t(locale, title_id);
    let body = format!(
        "<main>\n<h1>{title}</h1>\n<p>{}</p>\n</main>",
        t(locale, body_id)
    );
    (title, body)
}

/// A localized error page.
pub fn error(page: ErrorPage, locale: Locale) -> String {
    let (title, body) = error_text(page, locale);
    document(locale, &title, &body)
}

/// The headers an error status calls for (`Allow`, `Retry-After`).
pub fn error_headers(page: ErrorPage, response: &mut Response<Vec<u8>>) {
    let h = response.headers_mut();
    match page {
        ErrorPage::MethodNotAllowed => {
            h.insert("allow", http::HeaderValue::from_static("GET, HEAD, POST"));
        }
        ErrorPage::Unavailable => {
            h.insert("retry-after", http::HeaderValue::from_static("5"));
        }
        _ => {}
    }
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
