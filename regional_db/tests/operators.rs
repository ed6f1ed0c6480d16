//! Operators (issue 11, item 4) end to end in one process: two regions' databases of one
//! cluster (`region_eu`: eu-west, which holds the control plane; `region_us`: us-east), a
//! `regional-db` for each (peers of each other, with operator connections), and the edge's
//! core run natively ([`common::edge::NativeEdge`]) on the apex host `localhost`.
//!
//! Operators' creation and sign-in (throttled, refused when disabled), every operation of
//! the JSON API with its refusals (and that a refused one changes nothing), `create` and
//! `delete` of a clinic homed in us-east (forwarded once by the control plane's region),
//! the console's pages and forms, and that operator credentials and clinic credentials
//! never pass for each other. Each test has its own operators and clinics.

mod common;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use axum::http::Request;
use common::{edge::NativeEdge, region};
use regional_db::{Config, db, operators};
use serde_json::{Value, json};
use telemed_shared::{
    accounts::{Password, Role},
    auth::{SigningKey, VerifyingKeys},
    ops::token::{self, Kind, Operator},
    web::session::{self, Session, SessionKeys},
};
use xtask::pg::PgCluster;

const EU: &str = "region_eu";
const US: &str = "region_us";
const PASSWORD: &str = "a long operator passphrase";

struct Stack {
    cluster: PgCluster,
    edge_key: Vec<u8>,
    exports: std::path::PathBuf,
}

fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        let cluster = common::cluster("operators-pg", &[EU, US]);
        let (eu, us) = (cluster.url(EU), cluster.url(US));
        std::thread::spawn(move || {
            tokio::runtime::Runtime::new().unwrap().block_on(async {
                let eu = db::pool(&eu, 1, Duration::from_secs(10)).unwrap();
                let us = db::pool(&us, 1, Duration::from_secs(10)).unwrap();
                common::migrate_two_regions(&eu, &us).await;
            })
        })
        .join()
        .unwrap();
        let exports = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("operators-exports");
        let _ = std::fs::remove_dir_all(&exports);
        Stack {
            cluster,
            edge_key: jwt_simple::prelude::Ed25519KeyPair::generate().to_bytes(),
            exports,
        }
    })
}

fn psql(db: &str, sql: &str) -> String {
    stack().cluster.psql(db, sql).unwrap().trim().to_owned()
}

fn signer() -> SigningKey {
    SigningKey::from_key_pair_bytes(&stack().edge_key).unwrap()
}

fn api_key() -> SigningKey {
    SigningKey::from_seed([7; 32])
}

/// The TXT records the test's "DNS" publishes, by name.
fn dns() -> &'static Mutex<HashMap<String, Vec<String>>> {
    static DNS: OnceLock<Mutex<HashMap<String, Vec<String>>>> = OnceLock::new();
    DNS.get_or_init(Default::default)
}

/// Both regions served, each knowing the other, with operator connections (the cluster's
/// administrator) and directory caches that expire at once; an edge calling them.
async fn regions() -> NativeEdge {
    let s = stack();
    let keys = || VerifyingKeys::from_base64_list(&signer().public_base64()).unwrap();
    let eu_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let us_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let eu_base = format!("http://{}", eu_listener.local_addr().unwrap());
    let us_base = format!("http://{}", us_listener.local_addr().unwrap());
    let lookup: regional_db::ops::TxtLookup = Arc::new(|name: String| {
        Box::pin(async move {
            Ok(dns()
                .lock()
                .unwrap()
                .get(&name)
                .cloned()
                .unwrap_or_default())
        })
    });
    for (listener, id, own, peer_id, peer) in [
        (eu_listener, "eu-west", EU, "us-east", us_base.clone()),
        (us_listener, "us-east", US, "eu-west", eu_base.clone()),
    ] {
        let url = s.cluster.url(own);
        let mut config = Config::new(region(id), url.clone(), keys());
        config.control_database_url = Some(s.cluster.url(EU));
        config.directory_ttl = Duration::ZERO;
        config.peers = HashMap::from([(region(peer_id), peer)]);
        config.operator_database_url = Some(url);
        config.operator_control_database_url = Some(s.cluster.url(EU));
        config.operator_export_dir = Some(s.exports.clone());
        config.txt_lookup = Some(lookup.clone());
        tokio::spawn(regional_db::run(listener, config, std::future::pending()));
    }
    NativeEdge::with_regions(
        &format!("eu-west={eu_base},us-east={us_base},af-south={eu_base}"),
        &signer(),
        &api_key(),
    )
}

async fn create_operator(email: &str) {
    let pool = db::pool(&stack().cluster.url(EU), 1, Duration::from_secs(10)).unwrap();
    operators::create(
        &pool,
        "eu-west",
        email,
        "Olga Ops",
        Password::new(PASSWORD),
        "test",
    )
    .await
    .unwrap();
}

/// A request to the edge: (status, JSON body, headers).
async fn send(
    edge: &NativeEdge,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Value, axum::http::HeaderMap) {
    let mut b = Request::builder().method(method).uri(url);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    if body.is_some() {
        b = b.header("content-type", "application/json");
    }
    let req = b
        .body(body.map(|v| v.to_string().into_bytes()).unwrap_or_default())
        .unwrap();
    let before = edge.host.calls.get();
    let r = edge.request(req).await.response;
    assert!(
        edge.host.calls.get() - before <= 1,
        "{method} {url}: one region call at most"
    );
    (
        r.status().as_u16(),
        serde_json::from_slice(r.body()).unwrap_or(Value::Null),
        r.headers().clone(),
    )
}

/// An operator API call with `token`.
async fn ops(
    edge: &NativeEdge,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    let (status, body, headers) = send(
        edge,
        method,
        &format!("http://localhost/ops/v1{path}"),
        &[("authorization", &auth)],
        body,
    )
    .await;
    assert_eq!(headers["cache-control"], "no-store", "{method} {path}");
    if status >= 400 {
        assert_eq!(
            headers["content-type"], "application/problem+json",
            "{method} {path}"
        );
        assert_eq!(body["status"], status, "{body}");
    }
    (status, body)
}

async fn sign_in(edge: &NativeEdge, email: &str, password: &str) -> (u16, Value) {
    let (s, b, _) = send(
        edge,
        "POST",
        "http://localhost/ops/v1/token",
        &[],
        Some(json!({"email": email, "password": password})),
    )
    .await;
    (s, b)
}

async fn token_of(edge: &NativeEdge, email: &str) -> String {
    let (status, body) = sign_in(edge, email, PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

fn events(actor: &str) -> String {
    psql(
        EU,
        &format!(
            "SELECT coalesce(string_agg(action || ':' || coalesce(slug, '-') || ':' || coalesce(detail->>'refused', 'ok'), ',' ORDER BY id), '') \
             FROM control.operator_events WHERE actor = 'operator:{actor}'"
        ),
    )
}

fn schema_exists(db: &str, slug: &str) -> bool {
    psql(
        db,
        &format!(
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_{}'",
            slug.replace('-', "_")
        ),
    ) == "1"
}

fn directory_rows(slug: &str) -> String {
    psql(
        EU,
        &format!("SELECT count(*) FROM control.tenants WHERE slug = '{slug}'"),
    )
}

fn api_token(slug: &str) -> String {
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap();
    api_key()
        .sign_api(
            slug.parse().unwrap(),
            "native-app",
            "system/Patient.rs",
            now,
            300,
        )
        .unwrap()
}

/// A clinic's page and API through the edge: (page status, API status, API body).
async fn clinic_answers(edge: &NativeEdge, slug: &str) -> (u16, u16, Value) {
    let (page, _, _) = send(
        edge,
        "GET",
        &format!("http://{slug}.localhost/"),
        &[("accept-language", "fr")],
        None,
    )
    .await;
    let auth = format!("Bearer {}", api_token(slug));
    let (api, body, _) = send(
        edge,
        "GET",
        &format!("http://{slug}.localhost/v1/patients"),
        &[("authorization", &auth), ("accept-language", "fr")],
        None,
    )
    .await;
    (page, api, body)
}

#[tokio::test]
async fn operators_are_apart_from_clinics_and_the_service_cannot_read_their_hashes() {
    stack();
    let pool = db::pool(&stack().cluster.url(EU), 1, Duration::from_secs(10)).unwrap();
    let email = "olga@ops-create.example";
    let id = operators::create(
        &pool,
        "eu-west",
        email,
        "Olga",
        Password::new(PASSWORD),
        "t",
    )
    .await
    .unwrap();
    let stored = psql(
        EU,
        &format!("SELECT password_hash FROM control.operators WHERE id = '{id}'"),
    );
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{stored}"
    );
    assert!(!stored.contains(PASSWORD));
    let again = operators::create(
        &pool,
        "eu-west",
        "OLGA@ops-create.example",
        "O",
        Password::new(PASSWORD),
        "t",
    )
    .await;
    assert!(
        matches!(again, Err(operators::OperatorError::EmailTaken(_))),
        "{again:?}"
    );
    let bad = operators::create(
        &pool,
        "eu-west",
        "not-an-email",
        "O",
        Password::new(PASSWORD),
        "t",
    )
    .await;
    assert!(
        matches!(bad, Err(operators::OperatorError::Email(_))),
        "{bad:?}"
    );
    let short = operators::create(
        &pool,
        "eu-west",
        "b@ops-create.example",
        "O",
        Password::new("short"),
        "t",
    )
    .await;
    assert!(
        matches!(short, Err(operators::OperatorError::Password(_))),
        "{short:?}"
    );
    assert_eq!(
        psql(
            EU,
            "SELECT count(*) FROM control.operators WHERE email LIKE '%ops-create.example'"
        ),
        "1"
    );
    // The service's role reads neither operators nor their failures, nor the function.
    for sql in [
        "SELECT email FROM control.operators",
        "SELECT key FROM control.sign_in_failures",
        "SELECT * FROM control.operator_credentials('olga@ops-create.example')",
    ] {
        let r = stack()
            .cluster
            .psql(EU, &format!("SET ROLE telemed_service; {sql}"));
        assert!(r.is_err(), "the service read {sql}: {r:?}");
    }
    assert!(
        operators::disable(&pool, "eu-west", email, "t")
            .await
            .unwrap()
    );
    assert!(
        !operators::disable(&pool, "eu-west", email, "t")
            .await
            .unwrap()
    );
    assert!(matches!(
        operators::disable(&pool, "eu-west", "nobody@ops-create.example", "t").await,
        Err(operators::OperatorError::Unknown(_))
    ));
}

#[tokio::test]
async fn sign_in_is_on_the_apex_throttled_and_a_disabled_operator_is_refused() {
    let edge = regions().await;
    let email = "olga@ops-sign-in.example";
    create_operator(email).await;
    let (status, body) = sign_in(&edge, "Olga@Ops-Sign-In.example", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["operator"]["email"], email);
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        ops(&edge, "GET", "/tenants?limit=1", &token, None).await.0,
        200
    );
    // Wrong password and unknown email look alike.
    let wrong = sign_in(&edge, email, "not the passphrase!").await;
    let unknown = sign_in(&edge, "nobody@ops-sign-in.example", PASSWORD).await;
    assert_eq!((wrong.0, unknown.0), (401, 401));
    assert_eq!(wrong.1["code"], unknown.1["code"]);
    assert_eq!(wrong.1["code"], "invalid_credentials");
    // Not on a clinic's host, not off the apex.
    for url in [
        "http://somewhere.localhost/ops/v1/token",
        "http://www.localhost/ops/v1/token",
    ] {
        let (s, _, _) = send(
            &edge,
            "POST",
            url,
            &[],
            Some(json!({"email": email, "password": PASSWORD})),
        )
        .await;
        assert_eq!(s, 404, "{url}");
    }
    // Throttling: 5 failures within the window lock the email, the right password too.
    let victim = "vic@ops-sign-in.example";
    create_operator(victim).await;
    let mut last = 0;
    for _ in 0..5 {
        last = sign_in(&edge, victim, "wrong wrong wrong").await.0;
    }
    assert_eq!(last, 429, "the fifth failure locks");
    let (s, b, h) = send(
        &edge,
        "POST",
        "http://localhost/ops/v1/token",
        &[],
        Some(json!({"email": victim, "password": PASSWORD})),
    )
    .await;
    assert_eq!(s, 429, "{b}");
    assert!(h.get("retry-after").is_some());
    assert_eq!(
        psql(
            EU,
            &format!(
                "SELECT last_sign_in_at IS NOT NULL FROM control.operators WHERE email = '{email}'"
            )
        ),
        "t"
    );
    // One client address guessing many emails is locked too (20 failures).
    let guesser = "agnes@ops-sign-in.example";
    create_operator(guesser).await;
    let from = |e: &str, p: &str| {
        send(
            &edge,
            "POST",
            "http://localhost/ops/v1/token",
            &[("cf-connecting-ip", "203.0.113.77")],
            Some(json!({"email": e, "password": p})),
        )
    };
    for i in 0..20 {
        let (s, _, _) = from(
            &format!("guess{i}@ops-sign-in.example"),
            "wrong wrong wrong",
        )
        .await;
        assert!(s == 401 || (i == 19 && s == 429), "attempt {i}: {s}");
    }
    assert_eq!(
        from(guesser, PASSWORD).await.0,
        429,
        "the address is locked"
    );
    let (s, b) = sign_in(&edge, guesser, PASSWORD).await;
    assert_eq!(s, 200, "from elsewhere the operator signs in: {b}");
    // Disabled: no sign-in, and the token held is refused at its next request.
    let pool = db::pool(&stack().cluster.url(EU), 1, Duration::from_secs(10)).unwrap();
    operators::disable(&pool, "eu-west", email, "t")
        .await
        .unwrap();
    assert_eq!(sign_in(&edge, email, PASSWORD).await.0, 401);
    let (s, b) = ops(&edge, "GET", "/tenants", &token, None).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (403, Some("operator_disabled")),
        "{b}"
    );
    // Every attempt is on record; an unknown email is not.
    let record = psql(
        EU,
        "SELECT string_agg(actor || '/' || (detail->>'outcome'), ',' ORDER BY id) FROM control.operator_events \
         WHERE action = 'sign-in' AND (detail->>'operator' LIKE '%ops-sign-in.example' OR actor LIKE '%ops-sign-in.example')",
    );
    assert!(
        record.starts_with("operator:olga@ops-sign-in.example/ok"),
        "{record}"
    );
    assert!(record.contains("anonymous/refused"), "{record}");
    assert_ne!(
        psql(
            EU,
            "SELECT count(*) FROM control.operator_events WHERE action = 'sign-in' AND detail->>'outcome' = 'locked'"
        ),
        "0"
    );
    assert!(!psql(EU, "SELECT count(*)::text FROM control.operator_events WHERE detail::text LIKE '%nobody@ops-sign-in%'").ne("0"));
}

#[tokio::test]
async fn every_api_operation_answers_and_refusals_change_nothing() {
    let edge = regions().await;
    let email = "olga@ops-api.example";
    create_operator(email).await;
    let t = token_of(&edge, email).await;

    // Create: in eu-west here, in us-east through the control plane's forward.
    let (s, b) = ops(
        &edge,
        "POST",
        "/tenants",
        &t,
        Some(json!({"slug": "ops-api-fr", "name": "Clinique API", "country": "FR"})),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(
        (
            b["clinic"]["home_region"].as_str(),
            b["clinic"]["status"].as_str()
        ),
        (Some("eu-west"), Some("active"))
    );
    let (s, b) = ops(
        &edge,
        "POST",
        "/tenants",
        &t,
        Some(json!({"slug": "ops-api-us", "name": "Clinic US", "country": "US"})),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["clinic"]["home_region"], "us-east");
    assert!(schema_exists(US, "ops-api-us") && !schema_exists(EU, "ops-api-us"));
    assert!(schema_exists(EU, "ops-api-fr"));
    for (body, status, code) in [
        (
            json!({"slug": "ops-api-fr", "name": "Again", "country": "FR"}),
            409,
            "already_exists",
        ),
        (
            json!({"slug": "Bad Slug!", "name": "X", "country": "FR"}),
            400,
            "bad_request",
        ),
        (
            json!({"slug": "ops-api-xx", "name": "X", "country": "ZZZ"}),
            400,
            "bad_request",
        ),
        (
            json!({"slug": "ops-api-ap", "name": "X", "country": "FR", "domains": ["clinic.localhost"]}),
            400,
            "apex_domain",
        ),
        (
            json!({"slug": "ops-api-zz", "name": "X"}),
            400,
            "bad_request",
        ),
    ] {
        let (s, b) = ops(&edge, "POST", "/tenants", &t, Some(body.clone())).await;
        assert_eq!((s, b["code"].as_str()), (status, Some(code)), "{body}: {b}");
    }
    assert_eq!(
        psql(
            EU,
            "SELECT count(*) FROM control.tenants WHERE slug IN ('ops-api-ap', 'ops-api-xx')"
        ),
        "0"
    );

    // List, paged and filtered; show.
    let (s, b) = ops(&edge, "GET", "/tenants?limit=1&after=ops-api-a", &t, None).await;
    assert_eq!(s, 200);
    assert_eq!(b["clinics"][0]["slug"], "ops-api-fr");
    assert_eq!(b["next"], "ops-api-fr");
    let (_, b) = ops(&edge, "GET", "/tenants?limit=1&after=ops-api-fr", &t, None).await;
    assert_eq!(b["clinics"][0]["slug"], "ops-api-us");
    for q in ["?status=deleted", "?limit=0", "?limit=201", "?limit=x"] {
        assert_eq!(
            ops(&edge, "GET", &format!("/tenants{q}"), &t, None).await.0,
            400,
            "{q}"
        );
    }
    let (s, b) = ops(&edge, "GET", "/tenants/ops-api-us", &t, None).await;
    assert_eq!((s, b["clinic"]["country"].as_str()), (200, Some("US")));
    let (s, b) = ops(&edge, "GET", "/tenants/ops-api-none", &t, None).await;
    assert_eq!((s, b["code"].as_str()), (404, Some("unknown_clinic")));

    // Update: the plan; a bad one changes nothing.
    let (s, b) = ops(
        &edge,
        "PATCH",
        "/tenants/ops-api-fr",
        &t,
        Some(json!({"plan": "premium"})),
    )
    .await;
    assert_eq!(
        (s, b["clinic"]["plan"].as_str()),
        (200, Some("premium")),
        "{b}"
    );
    for (body, code) in [
        (json!({"plan": "gold"}), "bad_plan"),
        (json!({}), "nothing_to_update"),
        (json!({"plan": "basic", "status": "x"}), "bad_request"),
        (json!({"name": ""}), "bad_name"),
    ] {
        let (s, b) = ops(
            &edge,
            "PATCH",
            "/tenants/ops-api-fr",
            &t,
            Some(body.clone()),
        )
        .await;
        assert_eq!((s, b["code"].as_str()), (400, Some(code)), "{body}: {b}");
    }
    assert_eq!(
        psql(
            EU,
            "SELECT plan || '/' || name FROM control.tenants WHERE slug = 'ops-api-fr'"
        ),
        "premium/Clinique API"
    );

    // Suspend and resume: the clinic's pages and API follow.
    assert_eq!(clinic_answers(&edge, "ops-api-fr").await.0, 200);
    let (s, b) = ops(&edge, "POST", "/tenants/ops-api-fr/suspend", &t, None).await;
    assert_eq!(
        (s, b["changed"].as_bool(), b["clinic"]["status"].as_str()),
        (200, Some(true), Some("suspended"))
    );
    assert_eq!(
        ops(&edge, "POST", "/tenants/ops-api-fr/suspend", &t, None)
            .await
            .1["changed"],
        false
    );
    let (page, api, body) = clinic_answers(&edge, "ops-api-fr").await;
    assert_eq!((page, api), (403, 403), "{body}");
    assert_eq!(
        ops(&edge, "POST", "/tenants/ops-api-fr/resume", &t, None)
            .await
            .1["changed"],
        true
    );
    assert_eq!(clinic_answers(&edge, "ops-api-fr").await.0, 200);
    assert_eq!(
        ops(&edge, "GET", "/tenants/ops-api-fr/suspend", &t, None)
            .await
            .0,
        405
    );

    // Domains: never the apex; pending until its TXT record is seen; one clinic each.
    for (domain, code) in [
        ("localhost", "apex_domain"),
        ("www.localhost", "apex_domain"),
        ("deep.ops-api-fr.localhost", "apex_domain"),
        ("not a domain", "bad_domain"),
        ("10.0.0.1", "bad_domain"),
    ] {
        let (s, b) = ops(
            &edge,
            "POST",
            "/tenants/ops-api-fr/domains",
            &t,
            Some(json!({"domain": domain})),
        )
        .await;
        assert_eq!((s, b["code"].as_str()), (400, Some(code)), "{domain}: {b}");
    }
    let (s, b) = ops(
        &edge,
        "POST",
        "/tenants/ops-api-fr/domains",
        &t,
        Some(json!({"domain": "WWW.Ops-Api.example"})),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let ch = &b["challenge"];
    assert_eq!(
        (ch["name"].as_str(), ch["type"].as_str()),
        (Some("_telemed-challenge.www.ops-api.example"), Some("TXT"))
    );
    let value = ch["value"].as_str().unwrap().to_owned();
    let (s, b) = ops(
        &edge,
        "POST",
        "/tenants/ops-api-fr/domains/www.ops-api.example/verify",
        &t,
        None,
    )
    .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (409, Some("domain_not_verified")),
        "{b}"
    );
    assert!(b["detail"].as_str().unwrap().contains(&value));
    dns().lock().unwrap().insert(
        "_telemed-challenge.www.ops-api.example.".into(),
        vec![value.clone()],
    );
    dns()
        .lock()
        .unwrap()
        .insert("_telemed-challenge.www.ops-api.example".into(), vec![value]);
    let (s, b) = ops(
        &edge,
        "POST",
        "/tenants/ops-api-fr/domains/www.ops-api.example/verify",
        &t,
        None,
    )
    .await;
    assert_eq!(
        (s, b["verified"].as_bool(), b["changed"].as_bool()),
        (200, Some(true), Some(true)),
        "{b}"
    );
    let (s, b) = ops(
        &edge,
        "POST",
        "/tenants/ops-api-us/domains",
        &t,
        Some(json!({"domain": "www.ops-api.example"})),
    )
    .await;
    assert_eq!((s, b["code"].as_str()), (409, Some("domain_taken")), "{b}");
    let (s, b) = ops(
        &edge,
        "DELETE",
        "/tenants/ops-api-fr/domains/www.nothing.example",
        &t,
        None,
    )
    .await;
    assert_eq!((s, b["code"].as_str()), (404, Some("unknown_domain")));
    let (s, b) = ops(
        &edge,
        "DELETE",
        "/tenants/ops-api-fr/domains/www.ops-api.example",
        &t,
        None,
    )
    .await;
    assert_eq!(
        (s, b["clinic"]["domains"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{b}"
    );

    // Delete: suspended first, confirmed, then exported and purged in the home region.
    let (s, b) = ops(
        &edge,
        "DELETE",
        "/tenants/ops-api-fr?confirm=ops-api-fr",
        &t,
        None,
    )
    .await;
    assert_eq!((s, b["code"].as_str()), (409, Some("not_suspended")), "{b}");
    ops(&edge, "POST", "/tenants/ops-api-fr/suspend", &t, None).await;
    let (s, b) = ops(&edge, "DELETE", "/tenants/ops-api-fr", &t, None).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (400, Some("confirmation_required"))
    );
    let (s, b) = ops(
        &edge,
        "DELETE",
        "/tenants/ops-api-fr?confirm=ops-api-us",
        &t,
        None,
    )
    .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (400, Some("confirmation_mismatch"))
    );
    assert!(
        schema_exists(EU, "ops-api-fr"),
        "a refused delete deletes nothing"
    );
    let (s, b) = ops(
        &edge,
        "DELETE",
        "/tenants/ops-api-fr?confirm=ops-api-fr",
        &t,
        None,
    )
    .await;
    assert_eq!(
        (s, b["result"].as_str(), b["home_region"].as_str()),
        (200, Some("deleted"), Some("eu-west")),
        "{b}"
    );
    let dir = std::path::PathBuf::from(b["export"]["directory"].as_str().unwrap());
    assert!(dir.join("manifest.json").is_file() && dir.join("patients.jsonl").is_file());
    assert!(
        b["export"]["tables"]["audit_events"].as_u64().is_some(),
        "{b}"
    );
    assert!(!schema_exists(EU, "ops-api-fr"));
    assert_eq!(directory_rows("ops-api-fr"), "0");
    assert_eq!(
        ops(&edge, "GET", "/tenants/ops-api-fr", &t, None).await.0,
        404
    );
    let (page, api, _) = clinic_answers(&edge, "ops-api-fr").await;
    assert_eq!((page, api), (404, 404));

    // The clinic homed in us-east: the control plane's region forwards the delete there.
    ops(&edge, "POST", "/tenants/ops-api-us/suspend", &t, None).await;
    let (s, b) = ops(
        &edge,
        "DELETE",
        "/tenants/ops-api-us?confirm=ops-api-us",
        &t,
        None,
    )
    .await;
    assert_eq!(
        (s, b["home_region"].as_str()),
        (200, Some("us-east")),
        "{b}"
    );
    assert!(!schema_exists(US, "ops-api-us"));
    assert_eq!(directory_rows("ops-api-us"), "0");

    // Every operation on record, with the operator, refusals included.
    let log = events(email);
    for expected in [
        "create:ops-api-fr:ok",
        "create:ops-api-us:ok",
        "create:ops-api-fr:already_exists",
        "update:ops-api-fr:ok",
        "update:ops-api-fr:bad_plan",
        "suspend:ops-api-fr:ok",
        "resume:ops-api-fr:ok",
        "domain_add:ops-api-fr:ok",
        "domain_add:ops-api-fr:apex_domain",
        "domain_verify:ops-api-fr:domain_not_verified",
        "domain_verify:ops-api-fr:ok",
        "domain_remove:ops-api-fr:ok",
        "delete:ops-api-fr:not_suspended",
        "delete:ops-api-fr:confirmation_mismatch",
        "delete:ops-api-fr:ok",
        "delete:ops-api-us:ok",
        "list:-:ok",
        "show:ops-api-us:ok",
    ] {
        assert!(log.contains(expected), "{expected} missing from {log}");
    }
}

#[tokio::test]
async fn clinic_credentials_and_operator_credentials_never_pass_for_each_other() {
    let edge = regions().await;
    let email = "olga@ops-cross.example";
    create_operator(email).await;
    let t = token_of(&edge, email).await;
    let (s, b) = ops(
        &edge,
        "POST",
        "/tenants",
        &t,
        Some(json!({"slug": "ops-cross", "name": "Cross", "country": "FR"})),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap();

    // A clinic's API token, or no token, on the operators' API: 401.
    assert_eq!(
        ops(&edge, "GET", "/tenants", &api_token("ops-cross"), None)
            .await
            .0,
        401
    );
    let (s, _, h) = send(&edge, "GET", "http://localhost/ops/v1/tenants", &[], None).await;
    assert_eq!(s, 401);
    assert!(
        h["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    // A console session is no API token.
    let operator = Operator {
        email: email.into(),
        name: "Olga".into(),
        csrf: Some("c".repeat(22)),
    };
    let ops_session = token::sign(&signer(), Kind::Session, &operator, now).unwrap();
    assert_eq!(
        ops(&edge, "GET", "/tenants", &ops_session, None).await.0,
        401
    );

    // An operator's token on a clinic's API: 401, like any foreign token.
    let (s, _, _) = send(
        &edge,
        "GET",
        "http://ops-cross.localhost/v1/patients",
        &[("authorization", &format!("Bearer {t}"))],
        None,
    )
    .await;
    assert_eq!(s, 401);

    // A clinic admin's session cookie on the console: to the operators' sign-in.
    let clinic_session = SessionKeys::from_base64_list(common::edge::SESSION_KEYS)
        .unwrap()
        .sign(
            &Session {
                tenant: "ops-cross".parse().unwrap(),
                region: region("eu-west"),
                account: "5b0c1a2e-1111-4222-8333-444455556666".into(),
                role: Role::Admin,
                name: "Admin".into(),
                patient: None,
                practitioner: None,
                csrf: "c".repeat(22),
            },
            now,
        )
        .unwrap();
    for cookie in [
        format!("{}={clinic_session}", token::SESSION_COOKIE),
        format!("{}={t}", token::SESSION_COOKIE),
        format!("session={clinic_session}"),
    ] {
        let (s, _, h) = send(
            &edge,
            "GET",
            "http://localhost/ops/tenants",
            &[("cookie", &cookie)],
            None,
        )
        .await;
        assert_eq!(
            (s, h["location"].to_str().unwrap()),
            (303, "/ops/sign-in"),
            "{cookie}"
        );
    }
    // And an operator's console session on the clinic's admin pages: no session there.
    let (s, _, h) = send(
        &edge,
        "GET",
        "http://ops-cross.localhost/admin",
        &[("cookie", &format!("{}={ops_session}", session::COOKIE))],
        None,
    )
    .await;
    assert_eq!(s, 303);
    assert!(
        h["location"].to_str().unwrap().starts_with("/sign-in"),
        "{h:?}"
    );
    // The console does not exist on a clinic's host.
    let (s, _, _) = send(
        &edge,
        "GET",
        "http://ops-cross.localhost/ops/tenants",
        &[(
            "cookie",
            &format!("{}={ops_session}", token::SESSION_COOKIE),
        )],
        None,
    )
    .await;
    assert_eq!(s, 404);
}

/// A console request: (status, HTML, headers).
async fn page(
    edge: &NativeEdge,
    method: &str,
    path: &str,
    cookie: &str,
    locale: &str,
    form: Option<&str>,
) -> (u16, String, axum::http::HeaderMap) {
    let mut b = Request::builder()
        .method(method)
        .uri(format!("http://localhost{path}"))
        .header("accept-language", locale)
        .header("cookie", cookie);
    if form.is_some() {
        b = b.header("content-type", "application/x-www-form-urlencoded");
    }
    let req = b.body(form.unwrap_or("").as_bytes().to_vec()).unwrap();
    let before = edge.host.calls.get();
    let r = edge.request(req).await.response;
    assert!(
        edge.host.calls.get() - before <= 1,
        "{method} {path}: one region call at most"
    );
    assert_eq!(r.headers()["cache-control"], "no-store", "{method} {path}");
    (
        r.status().as_u16(),
        String::from_utf8_lossy(r.body()).into_owned(),
        r.headers().clone(),
    )
}

fn set_cookie(h: &axum::http::HeaderMap, name: &str) -> Option<String> {
    h.get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

fn cookie_value(set: &str) -> String {
    set.split(';').next().unwrap().to_owned()
}

/// An `application/x-www-form-urlencoded` body.
fn encode(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn csrf_in(html: &str) -> String {
    let at =
        html.find(r#"name="csrf" value=""#).expect("a CSRF field") + r#"name="csrf" value=""#.len();
    html[at..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_console_signs_in_lists_and_changes_clinics_with_csrf_in_every_locale() {
    let edge = regions().await;
    let email = "olga@ops-console.example";
    create_operator(email).await;
    let t = token_of(&edge, email).await;
    let (s, b) = ops(
        &edge,
        "POST",
        "/tenants",
        &t,
        Some(json!({"slug": "ops-console", "name": "Console <Clinic>", "country": "FR"})),
    )
    .await;
    assert_eq!(s, 201, "{b}");

    // Unsigned: to the sign-in form, which sets its double-submit cookie.
    let (s, _, h) = page(&edge, "GET", "/ops/tenants", "", "en", None).await;
    assert_eq!((s, h["location"].to_str().unwrap()), (303, "/ops/sign-in"));
    let (s, html, h) = page(&edge, "GET", "/ops/sign-in", "", "en", None).await;
    assert_eq!(s, 200);
    assert!(html.contains("Operator sign-in"), "{html}");
    let csrf_cookie = set_cookie(&h, "ops_csrf").expect("a CSRF cookie");
    assert!(csrf_cookie.contains("SameSite=Strict") && csrf_cookie.contains("Path=/ops"));
    let csrf = csrf_in(&html);
    let form = |pw: &str, csrf: &str| encode(&[("csrf", csrf), ("email", email), ("password", pw)]);
    let jar = cookie_value(&csrf_cookie);
    // A forged post, then a wrong password: no session.
    let (s, _, h) = page(
        &edge,
        "POST",
        "/ops/sign-in",
        &jar,
        "en",
        Some(&form(PASSWORD, "forged-forged-forged")),
    )
    .await;
    assert_eq!(s, 403);
    assert!(set_cookie(&h, "ops_session").is_none());
    let (s, html, _) = page(
        &edge,
        "POST",
        "/ops/sign-in",
        &jar,
        "en",
        Some(&form("wrong wrong wrong", &csrf)),
    )
    .await;
    assert_eq!(s, 401);
    assert!(html.contains("Wrong email or password."));
    let (s, _, h) = page(
        &edge,
        "POST",
        "/ops/sign-in",
        &jar,
        "en",
        Some(&form(PASSWORD, &csrf)),
    )
    .await;
    assert_eq!((s, h["location"].to_str().unwrap()), (303, "/ops/tenants"));
    let session = set_cookie(&h, "ops_session").expect("a session");
    for attr in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/ops",
        "Max-Age=3600",
    ] {
        assert!(session.contains(attr), "{session}");
    }
    let jar = cookie_value(&session);

    // The list in the four locales: status, plan, region; Arabic right to left.
    for (locale, title, active) in [
        ("fr", "Cliniques", "Active"),
        ("en", "Clinics", "Active"),
        ("es", "Clínicas", "Activa"),
        ("ar", "العيادات", "نشطة"),
    ] {
        let (s, html, h) = page(&edge, "GET", "/ops/tenants", &jar, locale, None).await;
        assert_eq!(s, 200, "{locale}");
        assert_eq!(h["content-language"], locale);
        assert!(
            html.contains(title) && html.contains(active),
            "{locale}: {html}"
        );
        assert!(
            html.contains("ops-console") && html.contains("eu-west") && html.contains("standard")
        );
        assert!(html.contains("Console &lt;Clinic&gt;"), "escaped");
        assert!(!html.contains("<Clinic>"), "escaped everywhere");
        let dir = if locale == "ar" { "rtl" } else { "ltr" };
        assert!(
            html.contains(&format!(r#"<html lang="{locale}" dir="{dir}">"#)),
            "{locale}"
        );
    }

    // The clinic's page and its forms.
    let (s, html, _) = page(&edge, "GET", "/ops/tenants/ops-console", &jar, "en", None).await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("Console &lt;Clinic&gt;") && !html.contains("<Clinic>"));
    let csrf = csrf_in(&html);
    let post = |action: &str, fields: &[(&str, &str)]| {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        (format!("/ops/tenants/ops-console/{action}"), encode(&all))
    };
    // The plan.
    let (path, body) = post("plan", &[("plan", "basic")]);
    let (s, _, h) = page(&edge, "POST", &path, &jar, "en", Some(&body)).await;
    assert_eq!(
        (s, h["location"].to_str().unwrap()),
        (303, "/ops/tenants/ops-console?notice=updated")
    );
    assert_eq!(
        psql(
            EU,
            "SELECT plan FROM control.tenants WHERE slug = 'ops-console'"
        ),
        "basic"
    );
    let (path, body) = post("plan", &[("plan", "gold")]);
    let (s, html, _) = page(&edge, "POST", &path, &jar, "fr", Some(&body)).await;
    assert_eq!(s, 400);
    assert!(html.contains("Formule inconnue."), "{html}");
    // Suspend needs its confirmation; a forged form changes nothing.
    let (path, body) = post("suspend", &[]);
    assert_eq!(
        page(&edge, "POST", &path, &jar, "en", Some(&body)).await.0,
        400
    );
    let forged = "csrf=forged-forged-forged&confirm=yes";
    assert_eq!(
        page(&edge, "POST", &path, &jar, "en", Some(forged)).await.0,
        403
    );
    assert_eq!(
        psql(
            EU,
            "SELECT status FROM control.tenants WHERE slug = 'ops-console'"
        ),
        "active"
    );
    let (path, body) = post("suspend", &[("confirm", "yes")]);
    let (s, _, h) = page(&edge, "POST", &path, &jar, "en", Some(&body)).await;
    assert_eq!(
        (s, h["location"].to_str().unwrap()),
        (303, "/ops/tenants/ops-console?notice=suspended")
    );
    assert_eq!(
        psql(
            EU,
            "SELECT status FROM control.tenants WHERE slug = 'ops-console'"
        ),
        "suspended"
    );
    let (_, html, _) = page(
        &edge,
        "GET",
        "/ops/tenants/ops-console?notice=suspended",
        &jar,
        "en",
        None,
    )
    .await;
    assert!(
        html.contains("The clinic is suspended.") && html.contains("Resume the clinic"),
        "{html}"
    );
    // A domain: the TXT record to publish is shown; the apex is refused.
    let (path, body) = post("domain-add", &[("domain", "www.ops-console.example")]);
    assert_eq!(
        page(&edge, "POST", &path, &jar, "en", Some(&body)).await.0,
        303
    );
    let (_, html, _) = page(&edge, "GET", "/ops/tenants/ops-console", &jar, "en", None).await;
    assert!(
        html.contains(r#"_telemed-challenge.www.ops-console.example TXT "telemed-verify-"#),
        "{html}"
    );
    let (path, body) = post("domain-add", &[("domain", "x.localhost")]);
    let (s, html, _) = page(&edge, "POST", &path, &jar, "es", Some(&body)).await;
    assert_eq!(s, 400);
    assert!(html.contains("subdominios"), "{html}");
    // Delete: the slug typed again.
    let (path, body) = post("delete", &[("confirm", "ops-consol")]);
    assert_eq!(
        page(&edge, "POST", &path, &jar, "en", Some(&body)).await.0,
        400
    );
    assert!(schema_exists(EU, "ops-console"));
    let (path, body) = post("delete", &[("confirm", "ops-console")]);
    let (s, html, _) = page(&edge, "POST", &path, &jar, "ar", Some(&body)).await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("حُذفت العيادة"), "{html}");
    assert!(!schema_exists(EU, "ops-console"));
    // Signing out ends the session's cookie.
    let (s, _, h) = page(
        &edge,
        "POST",
        "/ops/sign-out",
        &jar,
        "en",
        Some(&format!("csrf={csrf}")),
    )
    .await;
    assert_eq!(s, 303);
    assert!(set_cookie(&h, "ops_session").unwrap().contains("Max-Age=0"));
}

/// `regional-db operators create|disable`: the password from the environment or standard
/// input (never the command line), clear refusals.
#[tokio::test]
async fn the_cli_creates_and_disables_operators() {
    stack();
    let run = |args: &[&str], password: Option<&str>, stdin: &str| {
        use std::io::Write as _;
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_regional-db"));
        cmd.args(args)
            .args([
                "--region",
                "eu-west",
                "--database-url",
                &stack().cluster.url(EU),
            ])
            .env("RUST_LOG", "warn")
            .env_remove("OPERATOR_PASSWORD")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if let Some(p) = password {
            cmd.env("OPERATOR_PASSWORD", p);
        }
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = run(
        &[
            "operators",
            "create",
            "--email",
            "env@ops-cli.example",
            "--name",
            "Env",
        ],
        Some(PASSWORD),
        "",
    );
    assert!(ok, "{err}");
    assert!(out.contains("created operator"), "{out}");
    let (ok, _, err) = run(
        &["operators", "create", "--email", "stdin@ops-cli.example"],
        None,
        &format!("{PASSWORD}\n"),
    );
    assert!(ok, "{err}");
    assert_eq!(
        psql(
            EU,
            "SELECT display_name FROM control.operators WHERE email = 'stdin@ops-cli.example'"
        ),
        "stdin@ops-cli.example"
    );
    let (ok, _, err) = run(
        &["operators", "create", "--email", "short@ops-cli.example"],
        Some("short"),
        "",
    );
    assert!(!ok);
    assert!(err.contains("12"), "{err}");
    let (ok, _, err) = run(
        &["operators", "create", "--email", "ENV@ops-cli.example"],
        Some(PASSWORD),
        "",
    );
    assert!(!ok);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(
        psql(
            EU,
            "SELECT count(*) FROM control.operators WHERE email LIKE '%@ops-cli.example'"
        ),
        "2"
    );
    let (ok, out, err) = run(
        &[
            "operators",
            "disable",
            "--email",
            "env@ops-cli.example",
            "--by",
            "alice",
        ],
        None,
        "",
    );
    assert!(ok, "{err}");
    assert!(out.contains("disabled"), "{out}");
    assert_eq!(
        psql(
            EU,
            "SELECT actor || ':' || action FROM control.operator_events WHERE detail->>'operator' = 'env@ops-cli.example' ORDER BY id DESC LIMIT 1"
        ),
        "alice:operator_disable"
    );
    let (ok, _, err) = run(
        &["operators", "disable", "--email", "nobody@ops-cli.example"],
        None,
        "",
    );
    assert!(!ok);
    assert!(err.contains("no operator has the email"), "{err}");
}
