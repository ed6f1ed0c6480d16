//! A browser on the in-process edge ([`super::edge::NativeEdge`]): a clinic's pages with
//! or without a session cookie, its forms posted as a browser posts them (same-site, form
//! encoded), and what tests read back from an answer.

use axum::http::{Request, Response};
use telemed_shared::{
    accounts::Role,
    web::session::{COOKIE, Session, SessionKeys},
};

use super::edge::NativeEdge;

pub struct Browser<'e> {
    pub edge: &'e NativeEdge,
    pub slug: String,
    /// `Accept-Language` of every request.
    pub language: &'static str,
    /// `session=<token>`, when signed in.
    pub cookie: Option<String>,
}

impl<'e> Browser<'e> {
    /// A visitor of clinic `slug` reading English, signed in with `cookie` if any.
    pub fn new(edge: &'e NativeEdge, slug: &str, cookie: Option<String>) -> Self {
        Self {
            edge,
            slug: slug.to_owned(),
            language: "en",
            cookie,
        }
    }

    pub async fn get(&self, path: &str) -> Response<Vec<u8>> {
        let mut b = Request::get(format!("http://{}.localhost{path}", self.slug))
            .header("accept-language", self.language);
        if let Some(c) = &self.cookie {
            b = b.header("cookie", c);
        }
        self.edge
            .request(b.body(Vec::new()).unwrap())
            .await
            .response
    }

    /// A form's `fields` posted to `path`, from a page of the same site.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response<Vec<u8>> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut b = Request::post(format!("http://{}.localhost{path}", self.slug))
            .header("accept-language", self.language)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin");
        if let Some(c) = &self.cookie {
            b = b.header("cookie", c);
        }
        self.edge
            .request(b.body(body.into_bytes()).unwrap())
            .await
            .response
    }
}

/// The body, as sent.
pub fn text(r: &Response<Vec<u8>>) -> String {
    String::from_utf8_lossy(r.body()).into_owned()
}

/// The body, without Fluent's isolation marks around placeables.
pub fn plain(r: &Response<Vec<u8>>) -> String {
    text(r).replace(['\u{2068}', '\u{2069}'], "")
}

pub fn location(r: &Response<Vec<u8>>) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// The value of the first hidden `idem` input of a page's form.
pub fn idem(html: &str) -> String {
    let at = html
        .find(r#"name="idem" value=""#)
        .expect("a form that writes")
        + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

/// The `idem` of the form posting to `action` on a page.
pub fn idem_for(html: &str, action: &str) -> String {
    let at = html
        .find(&format!(r#"action="{action}""#))
        .unwrap_or_else(|| panic!("no form to {action}: {html}"));
    idem(&html[at..])
}

/// `application/x-www-form-urlencoded` of one name or value.
pub fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A session of `role` at `slug` (homed in eu-west), signed as a sign-in signs it with the
/// in-process edge's key: (cookie, csrf).
pub fn session(slug: &str, role: Role) -> (String, String) {
    let csrf = format!("csrf-{slug}-{role:?}-0123456789");
    let s = Session {
        tenant: slug.parse().unwrap(),
        region: super::region("eu-west"),
        account: "00000000-0000-4000-8000-00000000a0a0".into(),
        role,
        name: "Alice Admin".into(),
        patient: None,
        practitioner: None,
        csrf: csrf.clone(),
    };
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap();
    let token = SessionKeys::from_base64_list(super::edge::SESSION_KEYS)
        .unwrap()
        .sign(&s, now)
        .unwrap();
    (format!("{COOKIE}={token}"), csrf)
}
