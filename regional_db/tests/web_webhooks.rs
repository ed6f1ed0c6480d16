//! The clinic admin's webhooks page end to end: the edge's core ([`common::edge::NativeEdge`])
//! against a real `regional-db` connected as the service's role (the grants the page's
//! statements run under in production) and Postgres. The outbox's rows are made by its own
//! triggers (patients created with an endpoint subscribed); the delivery job's outcomes
//! are set in SQL (its own tests are `webhooks.rs`).
//!
//! What is checked: the endpoints and deliveries listed, an attempt log, replay (same
//! webhook-id, due now, idempotent), re-enabling after a 410, disabling; bad ids and
//! values; another clinic's admin never sees nor touches them, even with their ids; other
//! roles are refused.

mod common;

use std::sync::OnceLock;

use common::{
    Server,
    one_region::{EU, OneRegion},
    region,
};
use regional_db::Config;
use telemed_shared::{
    accounts::Role,
    auth::{SigningKey, VerifyingKeys},
};

const LOGIN: &str = "regional_db_web_webhooks";
const PASSWORD: &str = "web-webhooks-test-password";

fn stack() -> &'static OneRegion {
    static STACK: OnceLock<OneRegion> = OnceLock::new();
    STACK.get_or_init(|| {
        let stack = OneRegion::start("regional-db-pg-web-webhooks");
        common::service_login(&stack.cluster, EU, LOGIN, PASSWORD);
        stack
    })
}

/// A `regional-db` of eu-west connected as the service's role.
async fn serve() -> Server {
    let url = format!(
        "postgres://{LOGIN}:{PASSWORD}@127.0.0.1:{}/{EU}",
        stack().cluster.port()
    );
    let keys = VerifyingKeys::from_base64_list(&stack().signer().public_base64()).unwrap();
    let mut config = Config::new(region("eu-west"), url.clone(), keys);
    config.control_database_url = Some(url);
    Server::spawn(config).await
}

async fn create_clinic(slug: &str) {
    common::create_clinic_in_eu(&stack().url(), slug, "FR", None).await;
}

/// SQL in a clinic's schema (as the administrator), its output trimmed.
fn in_clinic(slug: &str, sql: &str) -> String {
    let schema = format!("tenant_{}", slug.replace('-', "_"));
    stack()
        .cluster
        .psql(EU, &format!("SET search_path TO {schema}; {sql}"))
        .unwrap()
        .trim()
        .to_owned()
}

use common::browser::{Browser, idem, location, session, text};

/// An endpoint of `slug` subscribed to new patients, and two patients: (endpoint, the
/// deliveries' ids and webhook-ids, the patients' ids). The first delivery was delivered;
/// the second was answered 410, which disabled the endpoint.
fn seed(slug: &str, url: &str) -> (String, Vec<(String, String)>, Vec<String>) {
    let endpoint = in_clinic(
        slug,
        &format!(
            "INSERT INTO webhook_endpoints (url, secret_sealed, event_types, description) \
             VALUES ('{url}', '\\x00'::bytea, ARRAY['patient.created'], 'The CRM') RETURNING id"
        ),
    );
    let patients: Vec<String> = (0..2)
        .map(|i| {
            in_clinic(
                slug,
                &format!(
                    "INSERT INTO patients (resource, family, given, birth_date, gender) \
                     VALUES ('{{\"resourceType\": \"Patient\"}}', 'Diop{i}', 'Awa', '1980-01-01', 'female') \
                     RETURNING id"
                ),
            )
        })
        .collect();
    let deliveries: Vec<(String, String)> = in_clinic(
        slug,
        "SELECT id || ' ' || event FROM webhook_deliveries ORDER BY id",
    )
    .lines()
    .map(|l| {
        let (id, event) = l.split_once(' ').unwrap();
        (id.to_owned(), event.to_owned())
    })
    .collect();
    assert_eq!(deliveries.len(), 2);
    let (first, second) = (&deliveries[0].0, &deliveries[1].0);
    in_clinic(
        slug,
        &format!(
            "UPDATE webhook_deliveries SET status = 'delivered', attempts = 1, last_status_code = 200, \
                    delivered_at = now() WHERE id = {first}; \
             INSERT INTO webhook_attempts (delivery, attempt, at, status_code, duration_ms) \
                    VALUES ({first}, 1, now(), 200, 12); \
             UPDATE webhook_deliveries SET status = 'failed', attempts = 1, last_status_code = 410, \
                    last_error = 'HTTP 410' WHERE id = {second}; \
             INSERT INTO webhook_attempts (delivery, attempt, at, status_code, error, duration_ms) \
                    VALUES ({second}, 1, now(), 410, 'HTTP 410', 34); \
             UPDATE webhook_endpoints SET disabled_at = now(), \
                    disabled_reason = '{}'",
            telemed_shared::webhooks::GONE_REASON
        ),
    );
    (endpoint, deliveries, patients)
}

#[tokio::test]
async fn an_admin_sees_replays_and_steers_the_clinics_webhooks() {
    stack();
    let s = serve().await;
    let edge =
        common::edge::NativeEdge::new(&s.base, &stack().signer(), &SigningKey::from_seed([7; 32]));
    let slug = "web-hooks-admin";
    create_clinic(slug).await;
    let (endpoint, deliveries, patients) = seed(slug, "https://crm.example.com/hooks?k=1&x=2");
    let (cookie, csrf) = session(slug, Role::Admin);
    let admin = Browser {
        edge: &edge,
        slug: slug.into(),
        cookie: Some(cookie.clone()),
        language: "en",
    };

    let r = admin.get("/admin").await;
    assert!(text(&r).contains(r#"<a href="/admin/webhooks">Webhooks</a>"#));
    let r = admin.get("/admin/webhooks").await;
    assert_eq!(r.status(), 200);
    let html = text(&r);
    // The URL, escaped; the events; why it is disabled, with a button to enable it.
    assert!(
        html.contains("https://crm.example.com/hooks?k=1&amp;x=2"),
        "{html}"
    );
    assert!(html.contains("<code>patient.created</code>"));
    assert!(
        html.contains("Disabled: the receiver answered 410 Gone"),
        "{html}"
    );
    assert!(html.contains(&format!(
        r#"action="/admin/webhooks/endpoints/{endpoint}/disabled""#
    )));
    assert!(
        html.contains(r#"value="false"><button type="submit" class="secondary">Enable</button>"#)
    );
    // Each delivery with its webhook-id and state; never whom it is about.
    for (_, event) in &deliveries {
        assert!(html.contains(event), "{event}: {html}");
    }
    assert!(
        html.contains(">Delivered<") && html.contains(">Failed<"),
        "{html}"
    );
    for p in &patients {
        assert!(!html.contains(p), "a patient's id on the page");
    }
    assert!(!html.contains("Diop"));

    // One delivery's log.
    let (failed, failed_event) = &deliveries[1];
    let r = admin
        .get(&format!("/admin/webhooks/deliveries/{failed}"))
        .await;
    assert_eq!(r.status(), 200);
    let log = text(&r);
    assert!(
        log.replace(['\u{2068}', '\u{2069}'], "")
            .contains(&format!("<h1>Delivery {failed}</h1>")),
        "{log}"
    );
    assert!(
        log.contains("<td>410</td><td>HTTP 410</td><td>34</td>"),
        "{log}"
    );
    assert!(log.contains(failed_event.as_str()));

    // Replay: pending again, due now, the same event (webhook-id), attempts go on.
    let replay = format!("/admin/webhooks/deliveries/{failed}/replay");
    let key = idem(&log);
    let r = admin
        .post(&replay, &[("csrf", &csrf), ("idem", &key)])
        .await;
    assert_eq!(r.status(), 303, "{}", text(&r));
    assert_eq!(location(&r), format!("/admin/webhooks/deliveries/{failed}"));
    let state = |id: &str| {
        in_clinic(
            slug,
            &format!(
                "SELECT status || '|' || event || '|' || attempts || '|' || (next_attempt_at <= now()) \
                 FROM webhook_deliveries WHERE id = {id}"
            ),
        )
    };
    assert_eq!(state(failed), format!("pending|{failed_event}|1|true"));
    // The same post again (a double click): the same answer, nothing more.
    let r = admin
        .post(&replay, &[("csrf", &csrf), ("idem", &key)])
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(state(failed), format!("pending|{failed_event}|1|true"));
    // A pending delivery of a disabled endpoint says it waits.
    let html = text(&admin.get("/admin/webhooks").await);
    assert!(
        html.contains("Waiting for its endpoint to be enabled"),
        "{html}"
    );

    // Enable the endpoint again after its 410, then disable it as an admin.
    let set = format!("/admin/webhooks/endpoints/{endpoint}/disabled");
    let r = admin
        .post(
            &set,
            &[
                ("csrf", &csrf),
                ("idem", &idem(&html)),
                ("disabled", "false"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", text(&r));
    assert_eq!(location(&r), "/admin/webhooks");
    let endpoint_state = || {
        in_clinic(
            slug,
            "SELECT coalesce(disabled_reason, 'enabled') FROM webhook_endpoints",
        )
    };
    assert_eq!(endpoint_state(), "enabled");
    let html = text(&admin.get("/admin/webhooks").await);
    assert!(html.contains(">Pending<"), "{html}");
    let r = admin
        .post(
            &set,
            &[
                ("csrf", &csrf),
                ("idem", &idem(&html)),
                ("disabled", "true"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(endpoint_state(), telemed_shared::webhooks::ADMIN_REASON);
    // In French, the reason is the admin's language's.
    let fr = Browser {
        edge: &edge,
        slug: slug.into(),
        cookie: Some(cookie),
        language: "fr",
    };
    let html = text(&fr.get("/admin/webhooks").await);
    assert!(
        html.contains("Désactivé: désactivé par un administrateur"),
        "{html}"
    );
    assert!(html.contains("Renvoyer"));

    // Bad input: a clear refusal, nothing changed.
    let key = idem(&html);
    let r = admin
        .post(
            &set,
            &[("csrf", &csrf), ("idem", &key), ("disabled", "maybe")],
        )
        .await;
    assert_eq!(r.status(), 400);
    for path in [
        "/admin/webhooks/deliveries/abc/replay",
        "/admin/webhooks/deliveries/0/replay",
        "/admin/webhooks/deliveries/999999/replay",
        "/admin/webhooks/endpoints/not-a-uuid/disabled",
        "/admin/webhooks/endpoints/00000000-0000-4000-8000-000000000000/disabled",
    ] {
        // A fresh key each: a key names one request.
        let key = idem(&text(&admin.get("/admin/webhooks").await));
        let r = admin
            .post(
                path,
                &[("csrf", &csrf), ("idem", &key), ("disabled", "true")],
            )
            .await;
        assert_eq!(r.status(), 404, "{path}");
    }
    assert_eq!(
        admin
            .get("/admin/webhooks/deliveries/999999")
            .await
            .status(),
        404
    );
    assert_eq!(admin.get(&replay).await.status(), 405);
    // A forged post (no CSRF token) is refused.
    let r = admin.post(&replay, &[("idem", &key)]).await;
    assert_eq!(r.status(), 403);
    assert_eq!(endpoint_state(), telemed_shared::webhooks::ADMIN_REASON);
}

#[tokio::test]
async fn another_clinics_admin_never_sees_nor_touches_them() {
    stack();
    let s = serve().await;
    let edge =
        common::edge::NativeEdge::new(&s.base, &stack().signer(), &SigningKey::from_seed([7; 32]));
    let (a, b) = ("web-hooks-a", "web-hooks-b");
    create_clinic(a).await;
    create_clinic(b).await;
    let (endpoint, deliveries, _) = seed(a, "https://a-crm.example.com/in");
    let snapshot = || {
        in_clinic(
            a,
            "SELECT string_agg(id || status || attempts || next_attempt_at, ',' ORDER BY id) \
             FROM webhook_deliveries",
        ) + &in_clinic(a, "SELECT disabled_reason FROM webhook_endpoints")
    };
    let before = snapshot();
    let (cookie, csrf) = session(b, Role::Admin);
    let other = Browser {
        edge: &edge,
        slug: b.into(),
        cookie: Some(cookie),
        language: "en",
    };
    let html = text(&other.get("/admin/webhooks").await);
    assert!(html.contains("No endpoint yet"), "{html}");
    assert!(html.contains("No delivery yet"));
    assert!(!html.contains("a-crm.example.com"));
    for (id, event) in &deliveries {
        assert!(!html.contains(event.as_str()));
        // Guessing A's ids: the same 404 as an id nobody has.
        let r = other.get(&format!("/admin/webhooks/deliveries/{id}")).await;
        assert_eq!(r.status(), 404);
        let r = other
            .post(
                &format!("/admin/webhooks/deliveries/{id}/replay"),
                &[
                    ("csrf", &csrf),
                    ("idem", &idem(&html_with_form(&other).await)),
                ],
            )
            .await;
        assert_eq!(r.status(), 404);
    }
    let r = other
        .post(
            &format!("/admin/webhooks/endpoints/{endpoint}/disabled"),
            &[
                ("csrf", &csrf),
                ("idem", &idem(&html_with_form(&other).await)),
                ("disabled", "false"),
            ],
        )
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(snapshot(), before, "clinic A's webhooks are untouched");
    // B's own session on A's host is no session there.
    let on_a = Browser {
        slug: a.into(),
        ..other
    };
    assert_eq!(on_a.get("/admin/webhooks").await.status(), 303);
}

/// A page of `b`'s with a writing form (its `idem`): the accounts page has one whatever
/// the clinic holds.
async fn html_with_form(b: &Browser<'_>) -> String {
    text(&b.get("/admin/accounts").await)
}

#[tokio::test]
async fn only_admins_open_the_webhooks_page() {
    stack();
    let s = serve().await;
    let edge =
        common::edge::NativeEdge::new(&s.base, &stack().signer(), &SigningKey::from_seed([7; 32]));
    let slug = "web-hooks-roles";
    create_clinic(slug).await;
    let (endpoint, deliveries, _) = seed(slug, "https://roles.example.com/in");
    let before = in_clinic(
        slug,
        "SELECT string_agg(status, ',' ORDER BY id) FROM webhook_deliveries",
    );
    let nobody = Browser {
        edge: &edge,
        slug: slug.into(),
        cookie: None,
        language: "en",
    };
    let r = nobody.get("/admin/webhooks").await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/sign-in?next=%2Fadmin%2Fwebhooks");
    for role in [Role::Patient, Role::Practitioner] {
        let (cookie, csrf) = session(slug, role);
        let b = Browser {
            edge: &edge,
            slug: slug.into(),
            cookie: Some(cookie),
            language: "en",
        };
        let r = b.get("/admin/webhooks").await;
        assert_eq!(r.status(), 403, "{role:?}");
        let r = b
            .get(&format!("/admin/webhooks/deliveries/{}", deliveries[0].0))
            .await;
        assert_eq!(r.status(), 403, "{role:?}");
        let r = b
            .post(
                &format!("/admin/webhooks/deliveries/{}/replay", deliveries[1].0),
                &[("csrf", &csrf), ("idem", "k-0123456789abcdef")],
            )
            .await;
        assert_eq!(r.status(), 403, "{role:?}");
        let r = b
            .post(
                &format!("/admin/webhooks/endpoints/{endpoint}/disabled"),
                &[
                    ("csrf", &csrf),
                    ("idem", "k-0123456789abcdef"),
                    ("disabled", "false"),
                ],
            )
            .await;
        assert_eq!(r.status(), 403, "{role:?}");
    }
    assert_eq!(
        in_clinic(
            slug,
            "SELECT string_agg(status, ',' ORDER BY id) FROM webhook_deliveries"
        ),
        before
    );
    assert_ne!(
        in_clinic(slug, "SELECT disabled_at IS NULL FROM webhook_endpoints"),
        "t"
    );
}
