//! People's sessions at the edges: a signed cookie checked by the edge itself; a forged,
//! expired or other clinic's cookie is no session; pages with a session are never stored;
//! a post without the form's CSRF token, or from another site, changes nothing.

use telemed_e2e::{EDGES, headers, new_clinic, now_secs, session_cookie};
use telemed_shared::{
    accounts::Role,
    i18n::{locale::Locale, message},
    web::session::SESSION_TTL_SECS,
};

const SOMEONE: &str = "5b0c1a2e-1111-4222-8333-444455556666";

fn sign_in_title() -> String {
    message(Locale::from_tag("fr").unwrap(), "sign-in-title", &[])
}

#[test]
fn forged_expired_and_other_clinics_sessions_are_no_sessions() {
    let a = new_clinic("sess-a", "Clinique A", "FR");
    let b = new_clinic("sess-b", "Clinique B", "FR");
    let now = now_secs();
    let valid = session_cookie(&a, "FR", Role::Patient, "Awa Diop", Some(SOMEONE), now);
    // The same claims signed by someone without the key: the signature no longer fits.
    let forged = {
        let (head, sig) = valid.rsplit_once('.').unwrap();
        let flipped = if sig.starts_with('A') { "B" } else { "A" };
        format!("{head}.{flipped}{}", &sig[1..])
    };
    let expired = session_cookie(
        &a,
        "FR",
        Role::Patient,
        "Awa Diop",
        Some(SOMEONE),
        now - SESSION_TTL_SECS - 60,
    );
    let other_clinic = session_cookie(&b, "FR", Role::Patient, "Awa Diop", Some(SOMEONE), now);
    // A session from the wrong region for this clinic (a token minted for a copy elsewhere).
    let wrong_region = session_cookie(&a, "US", Role::Patient, "Awa Diop", Some(SOMEONE), now);
    for edge in EDGES {
        let host = edge.host_for(&a);
        // A valid session has nothing to do on the sign-in form: off to its space.
        let r = edge.get(&host, "/sign-in", &[("cookie", &valid)]);
        assert_eq!(r.status(), 303, "{edge:?}");
        assert_eq!(headers(&r)["location"], "/patient", "{edge:?}");
        for (what, cookie) in [
            ("forged", &forged),
            ("expired", &expired),
            ("another clinic's", &other_clinic),
            ("another region's", &wrong_region),
        ] {
            let r = edge.get(
                &host,
                "/sign-in",
                &[("cookie", cookie), ("accept-language", "fr")],
            );
            assert_eq!(r.status(), 200, "{edge:?}: a {what} session");
            let h = headers(&r);
            assert_eq!(h["cache-control"], "no-store", "{edge:?} {what}");
            let body = r.text().unwrap();
            assert!(
                body.contains(&sign_in_title()),
                "{edge:?}: a {what} session must see the sign-in form"
            );
            assert!(!body.contains("Awa Diop"), "{edge:?} {what}");
        }
    }
}

#[test]
fn pages_with_a_session_are_never_stored_nor_shared() {
    let slug = new_clinic("sess-cache", "Clinique Cache", "FR");
    let cookie = session_cookie(
        &slug,
        "FR",
        Role::Patient,
        "Awa Diop",
        Some(SOMEONE),
        now_secs(),
    );
    for edge in EDGES {
        let host = edge.host_for(&slug);
        for _ in 0..2 {
            for (path, cookie) in [("/sign-in", cookie.as_str()), ("/sign-in", "")] {
                let r = edge.get(&host, path, &[("cookie", cookie)]);
                let h = headers(&r);
                assert_eq!(h["cache-control"], "no-store", "{edge:?} {path}");
                assert!(h["vary"].contains("Cookie"), "{edge:?} {path}");
                assert_ne!(h.get("x-cache").map(String::as_str), Some("HIT"));
            }
        }
        // The public home page carries nothing of anyone's session: the cached copy is
        // the one every visitor gets.
        let with = edge.get(
            &host,
            "/",
            &[("cookie", &cookie), ("accept-language", "fr")],
        );
        let without = edge.get(&host, "/", &[("accept-language", "fr")]);
        assert_eq!(with.status(), 200);
        let (with, without) = (with.text().unwrap(), without.text().unwrap());
        assert!(!with.contains("Awa Diop"), "{edge:?}");
        assert_eq!(
            with, without,
            "{edge:?}: the public page is the same for all"
        );
    }
}

#[test]
fn posts_without_the_forms_token_or_from_another_site_are_refused() {
    let slug = new_clinic("sess-csrf", "Clinique Jeton", "FR");
    for edge in EDGES {
        let host = edge.host_for(&slug);
        // The form page sets the visitor's CSRF cookie and repeats it in the form.
        let r = edge.get(&host, "/sign-in", &[("accept-language", "fr")]);
        let set = headers(&r)
            .get("set-cookie")
            .cloned()
            .expect("a CSRF cookie for a visitor without one");
        assert!(
            set.starts_with("csrf=") && set.contains("HttpOnly") && set.contains("SameSite=Lax")
        );
        let token = set["csrf=".len()..].split(';').next().unwrap().to_owned();
        let body = r.text().unwrap();
        assert!(
            body.contains(&format!(r#"name="csrf" value="{token}""#)),
            "{edge:?}"
        );
        let form = "content-type";
        let urlencoded = "application/x-www-form-urlencoded";
        let cookie = format!("csrf={token}");
        let expired = message(Locale::from_tag("fr").unwrap(), "web-expired-title", &[]);
        for (what, body, extra) in [
            ("no token", "email=a%40b.fr&password=x".to_owned(), None),
            (
                "another token",
                "csrf=AAAAAAAAAAAAAAAAAAAAAA&email=a%40b.fr&password=x".to_owned(),
                None,
            ),
            (
                "another site",
                format!("csrf={token}&email=a%40b.fr&password=x"),
                Some(("sec-fetch-site", "cross-site")),
            ),
        ] {
            let mut hs = vec![
                (form, urlencoded),
                ("cookie", cookie.as_str()),
                ("accept-language", "fr"),
            ];
            hs.extend(extra);
            let r = edge.request("POST", &host, "/sign-in", &hs, Some(&body));
            assert_eq!(r.status(), 403, "{edge:?}: {what}");
            assert!(r.text().unwrap().contains(&expired), "{edge:?}: {what}");
        }
    }
}
