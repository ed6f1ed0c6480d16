//! Posted forms: `application/x-www-form-urlencoded` bodies, CSRF tokens and the errors
//! shown next to fields.
//!
//! CSRF: every form carries a hidden `csrf` field. With a session its value is the
//! session's secret (inside the signed cookie); without one (sign-in, booking as a new
//! patient) it is the value of a random `csrf` cookie the form page set, and the post must
//! send both, equal (the double-submit pattern). On top, a browser that says where a post
//! comes from (`Sec-Fetch-Site`, `Origin`) must say "this site". `SameSite=Lax` on the
//! cookies is the third layer.

use http::Request;

use super::layout::escape;

/// The hidden field every form carries.
pub const CSRF_FIELD: &str = "csrf";
/// The cookie of a visitor without a session.
pub const CSRF_COOKIE: &str = "csrf";
/// The hidden field of a form that writes: a random key drawn when the form was rendered,
/// so that posting it twice (a double click, a retried request) writes once.
pub const IDEMPOTENCY_FIELD: &str = "idem";
/// Largest form body read.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// A parsed form body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Form(Vec<(String, String)>);

/// Why a post is refused before its page sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("the body is not a form (application/x-www-form-urlencoded)")]
    NotAForm,
    #[error("the form is larger than {MAX_FORM_BYTES} bytes")]
    TooLarge,
    /// Missing or wrong CSRF token, or a post from another site.
    #[error("the form's CSRF token is missing or does not match")]
    Forged,
}

impl Form {
    /// Parses a posted body.
    pub fn parse(req: &Request<Vec<u8>>) -> Result<Self, FormError> {
        let content_type = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mime = content_type.split(';').next().unwrap_or("").trim();
        if !mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Err(FormError::NotAForm);
        }
        if req.body().len() > MAX_FORM_BYTES {
            return Err(FormError::TooLarge);
        }
        Ok(Self::from_pairs(
            form_urlencoded::parse(req.body()).map(|(k, v)| (k.into_owned(), v.into_owned())),
        ))
    }

    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Self(pairs.into_iter().collect())
    }

    /// The first value of a field, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A field's value as typed (not trimmed): passwords.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Every value of a repeated field (checkboxes).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Whether the post carries `expected` as its CSRF token.
    pub fn csrf_matches(&self, expected: &str) -> bool {
        !expected.is_empty()
            && self
                .raw(CSRF_FIELD)
                .is_some_and(|got| constant_time_eq(got.as_bytes(), expected.as_bytes()))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of a cookie of the request (the first, when repeated).
pub fn cookie<'r>(req: &'r Request<Vec<u8>>, name: &str) -> Option<&'r str> {
    req.headers()
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

/// Whether the browser says the request comes from another site. Browsers send
/// `Sec-Fetch-Site` on every request (and `Origin` on posts); a client that sends neither
/// is judged by its CSRF token alone.
pub fn cross_site(req: &Request<Vec<u8>>) -> bool {
    let header = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site")
        && !matches!(site, "same-origin" | "none")
    {
        return true;
    }
    match (header("origin"), req.uri().authority()) {
        (Some("null"), _) => true,
        (Some(origin), Some(authority)) => {
            origin
                .split_once("://")
                .map(|(_, host)| host.trim_end_matches('/'))
                != Some(authority.as_str())
        }
        _ => false,
    }
}

/// A random token for forms and idempotency keys: 16 bytes, base64url.
pub fn random_token(fill: impl FnOnce(&mut [u8])) -> String {
    use base64::Engine as _;
    let mut b = [0u8; 16];
    fill(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The hidden inputs of a form: its CSRF token and, for a form that writes, a fresh
/// idempotency key.
pub fn hidden(csrf: &str, idempotency: Option<&str>) -> String {
    let mut s = format!(
        r#"<input type="hidden" name="{CSRF_FIELD}" value="{}">"#,
        escape(csrf)
    );
    if let Some(k) = idempotency {
        s.push_str(&format!(
            r#"<input type="hidden" name="{IDEMPOTENCY_FIELD}" value="{}">"#,
            escape(k)
        ));
    }
    s
}

/// The faults of a posted form, by field, as already-localized messages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: String) {
        self.0.push((field, message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn of(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn fields(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0.iter().map(|(f, m)| (*f, m.as_str()))
    }
}

/// One labelled input, with its error (if any) tied to it for assistive technology:
/// `aria-invalid` and `aria-describedby` pointing at the message.
pub struct Field<'a> {
    pub name: &'static str,
    /// The label as text (escaped here).
    pub label: &'a str,
    /// `text`, `email`, `password`, `date`, `tel`, `number`…
    pub kind: &'static str,
    pub value: Option<&'a str>,
    pub required: bool,
    /// The `autocomplete` token (`email`, `current-password`, `given-name`…).
    pub autocomplete: Option<&'static str>,
}

impl Field<'_> {
    /// The field's HTML: label, input, error message.
    pub fn html(&self, errors: &FieldErrors) -> String {
        let id = format!("f-{}", self.name);
        let error = errors.of(self.name);
        let mut attrs = String::new();
        if self.required {
            attrs.push_str(" required");
        }
        if let Some(a) = self.autocomplete {
            attrs.push_str(&format!(r#" autocomplete="{a}""#));
        }
        if let Some(v) = self.value {
            attrs.push_str(&format!(r#" value="{}""#, escape(v)));
        }
        let message = match error {
            Some(m) => {
                attrs.push_str(&format!(
                    r#" aria-invalid="true" aria-describedby="{id}-error""#
                ));
                format!(
                    r#"<p class="field-error" id="{id}-error">{}</p>"#,
                    escape(m)
                )
            }
            None => String::new(),
        };
        format!(
            r#"<div class="field"><label for="{id}">{label}</label><input id="{id}" name="{name}" type="{kind}"{attrs}>{message}</div>"#,
            label = escape(self.label),
            name = self.name,
            kind = self.kind,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(body: &str, headers: &[(&str, &str)]) -> Request<Vec<u8>> {
        let mut b = Request::post("http://c.localhost:8787/sign-in")
            .header("content-type", "application/x-www-form-urlencoded");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(body.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn forms_parse_and_trim() {
        let f = Form::parse(&post("email=+a%40b.fr+&password=+x+&c=1&c=2&e=", &[])).unwrap();
        assert_eq!(f.get("email"), Some("a@b.fr"));
        assert_eq!(f.raw("password"), Some(" x "));
        assert_eq!(f.all("c"), ["1", "2"]);
        assert_eq!(f.get("e"), None);
        let json = Request::post("/")
            .header("content-type", "application/json")
            .body(b"{}".to_vec())
            .unwrap();
        assert_eq!(Form::parse(&json), Err(FormError::NotAForm));
        let big = "a=".to_owned() + &"x".repeat(MAX_FORM_BYTES);
        assert_eq!(Form::parse(&post(&big, &[])), Err(FormError::TooLarge));
    }

    #[test]
    fn csrf_tokens_must_match_exactly() {
        let f = Form::parse(&post("csrf=abc", &[])).unwrap();
        assert!(f.csrf_matches("abc"));
        assert!(!f.csrf_matches("abd"));
        assert!(!f.csrf_matches("ab"));
        assert!(!f.csrf_matches(""));
        assert!(!Form::default().csrf_matches("abc"));
    }

    #[test]
    fn posts_from_other_sites_are_detected() {
        assert!(!cross_site(&post("", &[])));
        assert!(!cross_site(&post(
            "",
            &[
                ("sec-fetch-site", "same-origin"),
                ("origin", "http://c.localhost:8787")
            ]
        )));
        assert!(cross_site(&post("", &[("sec-fetch-site", "cross-site")])));
        assert!(cross_site(&post("", &[("sec-fetch-site", "same-site")])));
        assert!(cross_site(&post(
            "",
            &[("origin", "http://evil.localhost:8787")]
        )));
        assert!(cross_site(&post("", &[("origin", "null")])));
    }

    #[test]
    fn fields_tie_their_error_to_the_input() {
        let mut e = FieldErrors::default();
        e.add("email", "Bad <email>".into());
        let f = Field {
            name: "email",
            label: "Email",
            kind: "email",
            value: Some(r#""x"#),
            required: true,
            autocomplete: Some("email"),
        };
        let html = f.html(&e);
        assert!(
            html.contains(r#"<label for="f-email">Email</label>"#),
            "{html}"
        );
        assert!(html.contains(r#"aria-describedby="f-email-error""#));
        assert!(html.contains(r#"id="f-email-error">Bad &lt;email&gt;</p>"#));
        assert!(html.contains(r#"value="&quot;x""#));
        assert!(!f.html(&FieldErrors::default()).contains("aria-invalid"));
    }
}
