//! Signing in through both edges: the password is checked in the clinic's home region; a
//! wrong password and an unknown address get the same answer; repeated failures lock the
//! address (known or not); a success sets a session cookie the edge then honours; signing
//! out removes it.

use base64::Engine as _;
use reqwest::blocking::Response;
use telemed_e2e::{EDGES, Edge, headers, new_clinic, stack};
use telemed_shared::i18n::{Arg, locale::Locale, message};
use xtask::demo::DemoAccount;

fn fr(id: &str) -> String {
    message(Locale::from_tag("fr").unwrap(), id, &[])
}

/// The visitor's CSRF cookie and token, from the form page.
fn form_token(edge: Edge, host: &str) -> String {
    let r = edge.get(host, "/sign-in", &[("accept-language", "fr")]);
    let set = headers(&r)["set-cookie"].clone();
    set["csrf=".len()..].split(';').next().unwrap().to_owned()
}

fn post_form(
    edge: Edge,
    host: &str,
    path: &str,
    cookie: &str,
    fields: &[(&str, &str)],
) -> Response {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    edge.request(
        "POST",
        host,
        path,
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("cookie", cookie),
            ("accept-language", "fr"),
            ("sec-fetch-site", "same-origin"),
        ],
        Some(&body),
    )
}

fn sign_in(edge: Edge, host: &str, email: &str, password: &str) -> Response {
    let token = form_token(edge, host);
    post_form(
        edge,
        host,
        "/sign-in",
        &format!("csrf={token}"),
        &[("csrf", &token), ("email", email), ("password", password)],
    )
}

/// The alert a refused sign-in shows.
fn alert(r: Response) -> String {
    let body = r.text().unwrap();
    let start = body
        .find(r#"<p class="alert" role="alert">"#)
        .expect("an alert");
    let rest = &body[start..];
    rest[..rest.find("</p>").unwrap()].to_owned()
}

#[test]
fn a_password_signs_in_and_nothing_tells_who_has_an_account() {
    let slug = new_clinic("signin", "Clinique Connexion", "FR");
    let mut random = [0u8; 12];
    getrandom::fill(&mut random).unwrap();
    let admin = DemoAccount {
        tenant: slug.clone(),
        role: "admin".into(),
        email: format!("admin@{slug}.example"),
        password: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random),
    };
    let out = stack()
        .create_account(&slug, "FR", &admin, "Admin Connexion", None)
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    for edge in EDGES {
        let host = edge.host_for(&slug);
        // Wrong password, unknown address: the same status and the same words.
        let wrong = sign_in(edge, &host, &admin.email, "not-the-password-at-all");
        assert_eq!(wrong.status(), 401, "{edge:?}");
        assert_eq!(headers(&wrong)["cache-control"], "no-store");
        let unknown = sign_in(
            edge,
            &host,
            &format!("nobody@{slug}.example"),
            "not-the-password-at-all",
        );
        assert_eq!(unknown.status(), 401, "{edge:?}");
        let (wrong, unknown) = (alert(wrong), alert(unknown));
        assert_eq!(wrong, unknown, "{edge:?}");
        assert!(wrong.contains(&fr("sign-in-refused")), "{edge:?}: {wrong}");

        // The right one (any case of the address): a session, then off to the admin's space.
        let ok = sign_in(edge, &host, &admin.email.to_uppercase(), &admin.password);
        assert_eq!(ok.status(), 303, "{edge:?}");
        let h = headers(&ok);
        assert_eq!(h["location"], "/admin");
        let session = ok
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("session="))
            .expect("a session cookie");
        for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
            assert!(session.contains(attr), "{edge:?}: {session}");
        }
        assert!(!session.contains("Domain="), "host-only: {session}");
        let cookie = session.split(';').next().unwrap().to_owned();
        // The edge honours it: the sign-in form sends a signed-in admin to their space.
        let r = edge.get(&host, "/sign-in", &[("cookie", &cookie)]);
        assert_eq!(r.status(), 303);
        assert_eq!(headers(&r)["location"], "/admin");

        // Signing out needs the session's own CSRF token (inside the signed cookie, which
        // only the edge reads; the test peeks at the claims).
        let claims: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(cookie.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();
        let csrf = claims["csrf"].as_str().unwrap();
        let refused = post_form(
            edge,
            &host,
            "/sign-out",
            &cookie,
            &[("csrf", "forged-token-123")],
        );
        assert_eq!(refused.status(), 403, "{edge:?}");
        let out = post_form(edge, &host, "/sign-out", &cookie, &[("csrf", csrf)]);
        assert_eq!(out.status(), 303, "{edge:?}");
        let cleared = headers(&out)["set-cookie"].clone();
        assert!(
            cleared.starts_with("session=;") && cleared.contains("Max-Age=0"),
            "{cleared}"
        );
    }
}

#[test]
fn repeated_failures_lock_an_address_whether_or_not_it_has_an_account() {
    let slug = new_clinic("signin-lock", "Clinique Verrou", "FR");
    let edge = EDGES[0];
    let host = edge.host_for(&slug);
    let email = format!("someone@{slug}.example");
    // Four failures are refused as wrong; the fifth locks the address (its own answer may
    // already say so).
    for _ in 0..4 {
        assert_eq!(
            sign_in(edge, &host, &email, "wrong-password-again").status(),
            401
        );
    }
    let fifth = sign_in(edge, &host, &email, "wrong-password-again").status();
    assert!([401, 429].contains(&fifth.as_u16()), "{fifth}");
    // Locked now, on either edge: the same region keeps the count.
    for edge in EDGES {
        let r = sign_in(edge, &edge.host_for(&slug), &email, "wrong-password-again");
        assert_eq!(r.status(), 429, "{edge:?}");
        let retry: u64 = headers(&r)["retry-after"].parse().unwrap();
        assert!((1..=900).contains(&retry), "{retry}");
        let minutes = i64::try_from(retry.div_ceil(60)).unwrap();
        let expected = message(
            Locale::from_tag("fr").unwrap(),
            "sign-in-locked",
            &[("minutes", Arg::Num(minutes))],
        );
        let shown = alert(r);
        assert!(
            shown.contains(&telemed_shared::web::escape(&expected)),
            "{edge:?}: {shown}"
        );
    }
}
