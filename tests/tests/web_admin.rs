//! The clinic admin's pages through both real edges (the journeys themselves are tested
//! natively in `regional_db/tests/web_admin.rs`): every section answers an admin, refuses
//! other roles, and a practitioner added on one edge is on the other's list.

use telemed_e2e::{EDGES, headers, new_clinic, now_secs, session_cookie};
use telemed_shared::{
    accounts::Role,
    i18n::{locale::Locale, message},
    web::escape,
};

/// The CSRF token of every session `session_cookie` mints.
const CSRF: &str = "e2e-csrf-token-of-this-session";

#[test]
fn every_admin_section_answers_an_admin_on_both_edges() {
    let slug = new_clinic("webadmin", "Clinique Admin", "FR");
    let admin = session_cookie(&slug, "FR", Role::Admin, "Admin Test", None, now_secs());
    let patient = session_cookie(
        &slug,
        "FR",
        Role::Patient,
        "Awa Diop",
        Some("5b0c1a2e-1111-4222-8333-444455556666"),
        now_secs(),
    );
    let fr = |id: &str| escape(&message(Locale::from_tag("fr").unwrap(), id, &[]));
    for (n, edge) in EDGES.into_iter().enumerate() {
        let host = edge.host_for(&slug);
        for (path, title) in [
            ("/admin", "admin-title"),
            ("/admin/practitioners", "admin-practitioners-title"),
            ("/admin/prices", "admin-prices-title"),
            ("/admin/accounts", "admin-accounts-title"),
        ] {
            let r = edge.get(
                &host,
                path,
                &[("cookie", &admin), ("accept-language", "fr")],
            );
            assert_eq!(r.status(), 200, "{edge:?} {path}");
            assert_eq!(headers(&r)["cache-control"], "no-store");
            assert!(r.text().unwrap().contains(&fr(title)), "{edge:?} {path}");
            // Another role: refused; no session: to the sign-in form.
            let r = edge.get(&host, path, &[("cookie", &patient)]);
            assert_eq!(r.status(), 403, "{edge:?} {path} as a patient");
            let r = edge.get(&host, path, &[]);
            assert_eq!(r.status(), 303, "{edge:?} {path} signed out");
            assert!(headers(&r)["location"].starts_with("/sign-in?next="));
        }
        // Adding a practitioner: one post, then the new practitioner's availability page.
        let family = format!("Edge{n}");
        let body = format!(
            "csrf={CSRF}&idem=add-{n}-{slug}&given=Claire&family={family}&qualification=Cardiologie&active=on"
        );
        let r = edge.request(
            "POST",
            &host,
            "/admin/practitioners",
            &[
                ("cookie", &admin),
                ("content-type", "application/x-www-form-urlencoded"),
                ("sec-fetch-site", "same-origin"),
            ],
            Some(&body),
        );
        assert_eq!(
            r.status(),
            303,
            "{edge:?}: {}",
            r.text().unwrap_or_default()
        );
        assert!(
            headers(&r)["location"].contains("/availability"),
            "{edge:?}"
        );
    }
    // Each edge sees what the other added: one clinic, one home region.
    for edge in EDGES {
        let list = edge
            .get(
                &edge.host_for(&slug),
                "/admin/practitioners",
                &[("cookie", &admin)],
            )
            .text()
            .unwrap();
        assert!(list.contains("Edge0") && list.contains("Edge1"), "{edge:?}");
    }
}
