//! Operators' clinic management end to end, through both real edges (issue 11, item 4):
//! an operator made with `regional-db operators create` signs in on the apex host
//! (`POST /ops/v1/token`), suspends a clinic — its pages and API answer "suspended" on both
//! edges — resumes it, then deletes it: its schema is gone from its home cluster, its
//! directory entry from every region's database, and its slug answers 404 on both edges.
//! Once for a clinic homed in the control plane's region, once for one homed elsewhere
//! (the delete is forwarded to its home region). The JSON API's refusals, the console and
//! the credentials' separation are tested natively in `regional_db/tests/operators.rs`.

use std::{
    thread,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use telemed_e2e::{EDGES, Edge, headers, new_clinic, new_operator, psql, schema_of, stack, token};
use telemed_shared::{
    cache::DIRECTORY_TTL_SECS,
    geo::RegionMap,
    i18n::{locale::Locale, message},
    web::escape,
};

/// Edges and regions cache directory entries: a change shows everywhere within this.
fn propagation() -> Duration {
    Duration::from_secs(DIRECTORY_TTL_SECS + 20)
}

fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + propagation();
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(250));
    }
}

/// An operator API call on `edge`'s apex host: (status, JSON).
fn ops(
    edge: Edge,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let auth = bearer.map(|t| format!("Bearer {t}"));
    let mut h = vec![("content-type", "application/json")];
    if let Some(a) = &auth {
        h.push(("authorization", a));
    }
    let text = body.map(Value::to_string);
    let r = edge.request(
        method,
        &edge.apex_host(),
        &format!("/ops/v1{path}"),
        &h,
        text.as_deref(),
    );
    let status = r.status().as_u16();
    assert_eq!(
        headers(&r)["cache-control"],
        "no-store",
        "{edge:?} {method} {path}"
    );
    (status, r.json().unwrap_or(Value::Null))
}

fn sign_in(edge: Edge, email: &str, password: &str) -> String {
    let (s, b) = ops(
        edge,
        "POST",
        "/token",
        None,
        Some(&json!({"email": email, "password": password})),
    );
    assert_eq!(s, 200, "{edge:?}: {b}");
    assert_eq!(b["token_type"], "Bearer");
    b["access_token"].as_str().unwrap().to_owned()
}

/// What a clinic answers on `edge`: (sign-in page status, its HTML, API status).
fn clinic(edge: Edge, slug: &str) -> (u16, String, u16) {
    let host = edge.host_for(slug);
    // A dynamic page: never served from the page cache, so it shows the directory's state.
    let page = edge.get(&host, "/sign-in", &[("accept-language", "fr")]);
    let page_status = page.status().as_u16();
    let html = page.text().unwrap_or_default();
    let api = edge.get(
        &host,
        "/v1/patients",
        &[(
            "authorization",
            &format!("Bearer {}", token(slug, "system/Patient.rs")),
        )],
    );
    (page_status, html, api.status().as_u16())
}

fn home_database(country: &str) -> (String, String) {
    let home = RegionMap::embedded()
        .home_for_country(&country.parse().unwrap())
        .id
        .to_string();
    let url = stack()
        .region(&home)
        .expect("home region in the stack")
        .database_url
        .clone();
    (home, url)
}

fn lifecycle(country: &str) {
    let slug = new_clinic("ops-e2e", "Clinique Opérateurs", country);
    let (email, password) = new_operator("lifecycle");
    let suspended = escape(&message(
        Locale::from_tag("fr").unwrap(),
        "clinic-suspended-title",
        &[],
    ));
    for edge in EDGES {
        let (page, _, api) = clinic(edge, &slug);
        assert_eq!(
            (page, api),
            (200, 200),
            "{edge:?}: {slug} serves before anything"
        );
    }
    // An operator signs in on each edge; either edge's token works on the other.
    let workers = sign_in(Edge::Workers, &email, &password);
    let spin = sign_in(Edge::Spin, &email, &password);
    let (s, b) = ops(
        Edge::Spin,
        "GET",
        &format!("/tenants/{slug}"),
        Some(&workers),
        None,
    );
    assert_eq!(
        (s, b["clinic"]["status"].as_str()),
        (200, Some("active")),
        "{b}"
    );
    // A clinic's API token is no operator token.
    let (s, _) = ops(
        Edge::Workers,
        "GET",
        "/tenants",
        Some(&token(&slug, "system/*.rs")),
        None,
    );
    assert_eq!(s, 401);

    // Suspend (on Workers): both edges answer "suspended", pages localized, API 403.
    let (s, b) = ops(
        Edge::Workers,
        "POST",
        &format!("/tenants/{slug}/suspend"),
        Some(&workers),
        None,
    );
    assert_eq!((s, b["changed"].as_bool()), (200, Some(true)), "{b}");
    for edge in EDGES {
        wait_for(&format!("{slug} suspended on {edge:?}"), || {
            let (page, html, api) = clinic(edge, &slug);
            page == 403 && api == 403 && html.contains(&suspended)
        });
    }
    // Resume (on Spin): served again on both.
    let (s, b) = ops(
        Edge::Spin,
        "POST",
        &format!("/tenants/{slug}/resume"),
        Some(&spin),
        None,
    );
    assert_eq!((s, b["changed"].as_bool()), (200, Some(true)), "{b}");
    for edge in EDGES {
        wait_for(&format!("{slug} resumed on {edge:?}"), || {
            let (page, _, api) = clinic(edge, &slug);
            page == 200 && api == 200
        });
    }

    // Delete: refused while active, then suspended, confirmed, exported, purged.
    let (s, b) = ops(
        Edge::Workers,
        "DELETE",
        &format!("/tenants/{slug}?confirm={slug}"),
        Some(&workers),
        None,
    );
    assert_eq!((s, b["code"].as_str()), (409, Some("not_suspended")), "{b}");
    ops(
        Edge::Workers,
        "POST",
        &format!("/tenants/{slug}/suspend"),
        Some(&workers),
        None,
    );
    let (home, home_url) = home_database(country);
    let schema = schema_of(&slug);
    assert_eq!(
        psql(
            &home_url,
            &format!("SELECT count(*) FROM pg_namespace WHERE nspname = '{schema}'")
        ),
        "1"
    );
    let (s, b) = ops(
        Edge::Spin,
        "DELETE",
        &format!("/tenants/{slug}?confirm={slug}"),
        Some(&spin),
        None,
    );
    assert_eq!((s, b["result"].as_str()), (200, Some("deleted")), "{b}");
    assert_eq!(b["home_region"], home.as_str());
    assert!(b["export"]["tables"]["patients"].is_u64(), "{b}");
    // The schema is gone from its home cluster; the directory entry from every region.
    assert_eq!(
        psql(
            &home_url,
            &format!("SELECT count(*) FROM pg_namespace WHERE nspname = '{schema}'")
        ),
        "0"
    );
    for region in &stack().regions {
        wait_for(
            &format!("{slug} gone from {}'s directory", region.id),
            || {
                psql(
                    &region.database_url,
                    &format!("SELECT count(*) FROM control.tenants WHERE slug = '{slug}'"),
                ) == "0"
            },
        );
    }
    // Its slug answers 404 everywhere: pages and API, both edges.
    for edge in EDGES {
        wait_for(&format!("{slug} 404 on {edge:?}"), || {
            let (page, _, api) = clinic(edge, &slug);
            page == 404 && api == 404
        });
        let (s, _) = ops(
            edge,
            "GET",
            &format!("/tenants/{slug}"),
            Some(&workers),
            None,
        );
        assert_eq!(s, 404, "{edge:?}");
    }
}

#[test]
fn a_clinic_of_the_control_plane_region_is_suspended_resumed_and_deleted_on_both_edges() {
    lifecycle("FR");
}

#[test]
fn a_clinic_homed_elsewhere_is_deleted_in_its_home_region_through_the_control_plane() {
    lifecycle("US");
}

#[test]
fn operators_sign_in_on_the_apex_only_and_the_console_is_never_cached() {
    let (email, password) = new_operator("console");
    for edge in EDGES {
        // Not on a clinic's host.
        let r = edge.request(
            "POST",
            &edge.host_for("some-clinic"),
            "/ops/v1/token",
            &[("content-type", "application/json")],
            Some(&json!({"email": email, "password": password}).to_string()),
        );
        assert_eq!(r.status(), 404, "{edge:?}");
        let (s, b) = ops(
            edge,
            "POST",
            "/token",
            None,
            Some(&json!({"email": email, "password": "wrong wrong wrong"})),
        );
        assert_eq!(
            (s, b["code"].as_str()),
            (401, Some("invalid_credentials")),
            "{edge:?}"
        );
        let t = sign_in(edge, &email, &password);
        let (s, b) = ops(edge, "GET", "/tenants?limit=5", Some(&t), None);
        assert_eq!(
            (s, b["result"].as_str()),
            (200, Some("clinics")),
            "{edge:?}: {b}"
        );
        // The console: the sign-in form, in Arabic right to left, never stored.
        let r = edge.get(
            &edge.apex_host(),
            "/ops/sign-in",
            &[("accept-language", "ar")],
        );
        assert_eq!(r.status(), 200, "{edge:?}");
        let h = headers(&r);
        assert_eq!(h["cache-control"], "no-store");
        assert!(r.text().unwrap().contains(r#"<html lang="ar" dir="rtl">"#));
        let r = edge.get(&edge.apex_host(), "/ops/tenants", &[]);
        assert_eq!(
            (r.status().as_u16(), headers(&r)["location"].as_str()),
            (303, "/ops/sign-in")
        );
    }
}
