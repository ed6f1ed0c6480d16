//! Apps get tokens at a clinic's `/oauth/token` (SMART Backend Services) and call the API
//! with them, on both edges: a client-secret app, and `private_key_jwt` apps whose key
//! pairs and assertions `jose` makes (ES384 with a registered JWKS, RS384 with a JWKS URL
//! served here). Every refusal is the RFC's; introspection, revocation, uninstalling and
//! the issuer's key rotation are seen from the app's side.

use std::{
    io::{BufRead, BufReader, Write},
    net::TcpListener,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use base64::Engine as _;
use serde_json::{Value, json};
use telemed_e2e::{
    EDGES, Edge,
    apps::{
        self, ClientAuth, assertion, assertion_token, basic, key_pair, post_form, secret_token,
        sign, token_url,
    },
    new_clinic, now_secs, stack,
};

const SCOPES: &str = "system/Patient.crs system/Observation.rs";

/// `(status, error code)` of an answer.
fn refusal(a: &apps::OAuthAnswer) -> (u16, &str) {
    (a.0, a.1["error"].as_str().unwrap_or("<none>"))
}

/// Calls the API with an access token: `POST /v1/patients`, then `GET` of what it created
/// (or of a made-up id when nothing was): (create status, read status).
fn use_token(edge: Edge, slug: &str, token: &str) -> (u16, u16) {
    let auth = format!("Bearer {token}");
    let created = telemed_e2e::post_patient(edge, slug, &auth, "Appli");
    let status = created.status().as_u16();
    let location = created
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .and_then(|l| l.find("/v1/").map(|i| l[i..].to_owned()))
        .unwrap_or_else(|| "/v1/patients/00000000-0000-4000-8000-000000000000".into());
    let read = edge
        .get(&edge.host_for(slug), &location, &[("authorization", &auth)])
        .status()
        .as_u16();
    (status, read)
}

/// The JWS header of a compact token.
fn header_of(jwt: &str) -> Value {
    let h = jwt.split('.').next().expect("a JWS");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(h)
            .expect("base64url header"),
    )
    .expect("JSON header")
}

#[test]
fn a_client_secret_app_gets_tokens_and_calls_the_api_on_both_edges() {
    let slug = new_clinic("oa-secret", "Clinique OAuth", "FR");
    let other = new_clinic("oa-other", "Clinique Voisine", "FR");
    let app = apps::register(ClientAuth::Secret, SCOPES);
    apps::install(&slug, &app, SCOPES);
    for edge in EDGES {
        let (status, body, headers) = secret_token(
            edge,
            &slug,
            &app,
            "system/Patient.cr system/Observation.read",
        );
        assert_eq!(status, 200, "{edge:?}: {body}");
        assert_eq!(body["token_type"], "bearer");
        assert!(body["expires_in"].as_u64().unwrap() <= 300, "{body}");
        assert_eq!(
            body["scope"], "system/Patient.cr system/Observation.rs",
            "v1 names come back in v2"
        );
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(headers["pragma"], "no-cache");
        let token = body["access_token"].as_str().unwrap();
        let h = header_of(token);
        assert_eq!(h["alg"], "EdDSA");
        let jwks: Value = edge
            .get(&edge.host_for(&slug), "/.well-known/jwks.json", &[])
            .json()
            .unwrap();
        assert!(
            jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kid"] == h["kid"]),
            "{edge:?}: the token's kid {} is published in {jwks}",
            h["kid"]
        );
        assert_eq!(use_token(edge, &slug, token), (201, 200), "{edge:?}");
        // Scopes are what was asked: no search on Patient with a token for `cr`.
        let listed_without_s = edge
            .get(
                &edge.host_for(&slug),
                "/v1/patients?family=Appli",
                &[("authorization", &format!("Bearer {token}"))],
            )
            .status();
        assert_eq!(
            listed_without_s, 403,
            "{edge:?}: Patient.s was not asked for"
        );
        // The token is for this clinic only.
        let elsewhere =
            telemed_e2e::post_patient(edge, &other, &format!("Bearer {token}"), "Ailleurs");
        assert_eq!(
            elsewhere.status(),
            403,
            "{edge:?}: a token of another clinic"
        );

        // Every refusal, in RFC 6749 §5.2's words.
        let wrong = post_form(
            edge,
            &slug,
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "system/Patient.r"),
            ],
            Some(&basic(&app.client_id, "not-the-secret")),
        );
        assert_eq!(refusal(&wrong), (401, "invalid_client"), "{edge:?}");
        assert!(
            wrong.2["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Basic ")
        );
        assert_eq!(wrong.2["cache-control"], "no-store");
        let unknown = post_form(
            edge,
            &slug,
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "system/Patient.r"),
            ],
            Some(&basic("app_nobody_at_all", "x")),
        );
        assert_eq!(refusal(&unknown), (401, "invalid_client"), "{edge:?}");
        assert_eq!(
            unknown.1["error_description"], wrong.1["error_description"],
            "an unknown client and a wrong secret are one refusal"
        );
        assert_eq!(
            refusal(&secret_token(edge, &slug, &app, "system/Appointment.r")),
            (400, "invalid_scope"),
            "{edge:?}: a scope the clinic did not grant"
        );
        assert_eq!(
            refusal(&secret_token(edge, &slug, &app, "system/Patient.crud")),
            (400, "invalid_scope"),
            "{edge:?}: more than granted on a granted type"
        );
        assert_eq!(
            refusal(&secret_token(edge, &slug, &app, "")),
            (400, "invalid_scope")
        );
        let secret = app.secret.as_deref().unwrap();
        let auth = basic(&app.client_id, secret);
        let code = |form: &[(&str, &str)], auth: Option<&str>| {
            let a = post_form(edge, &slug, "/oauth/token", form, auth);
            (a.0, a.1["error"].as_str().unwrap_or("").to_owned())
        };
        assert_eq!(
            code(&[("scope", "system/Patient.r")], Some(&auth)),
            (400, "invalid_request".into())
        );
        assert_eq!(
            code(
                &[("grant_type", "authorization_code"), ("code", "x")],
                Some(&auth)
            ),
            (400, "unsupported_grant_type".into())
        );
        assert_eq!(
            code(
                &[
                    ("grant_type", "client_credentials"),
                    ("scope", "system/Patient.r")
                ],
                None
            ),
            (400, "invalid_client".into()),
            "no client authentication at all"
        );
        assert_eq!(
            code(
                &[
                    ("grant_type", "client_credentials"),
                    ("grant_type", "client_credentials")
                ],
                Some(&auth)
            ),
            (400, "invalid_request".into()),
            "a parameter twice"
        );
        assert_eq!(
            code(
                &[
                    ("grant_type", "client_credentials"),
                    ("scope", "system/Patient.r"),
                    ("client_id", &app.client_id),
                    ("client_secret", secret)
                ],
                None
            ),
            (400, "invalid_request".into()),
            "a secret in the form is refused, not accepted"
        );
        // Not a form; not a POST: refused at the edge.
        let json_body = edge.request(
            "POST",
            &edge.host_for(&slug),
            "/oauth/token",
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
            ],
            Some("{\"grant_type\":\"client_credentials\"}"),
        );
        assert_eq!(json_body.status(), 400);
        let get = edge.get(&edge.host_for(&slug), "/oauth/token", &[]);
        assert_eq!(get.status(), 405);
        assert_eq!(get.headers()["allow"], "POST");
        // Not installed in the other clinic: the same client is unauthorized there.
        assert_eq!(
            refusal(&secret_token(edge, &other, &app, "system/Patient.r")),
            (400, "unauthorized_client"),
            "{edge:?}"
        );
    }
}

/// A JWKS URL served from this machine: the current key set, with `Cache-Control`, and
/// the number of times it was fetched.
struct JwksServer {
    url: String,
    keys: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
}

impl JwksServer {
    fn start(keys: Value, cache_control: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        let keys = Arc::new(Mutex::new(keys));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (k, f) = (keys.clone(), fetches.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                f.fetch_add(1, Ordering::SeqCst);
                let body = k.lock().unwrap().to_string();
                let mut s = stream;
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncache-control: {cache_control}\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Self { url, keys, fetches }
    }
}

#[test]
fn private_key_jwt_apps_with_es384_and_rs384_keys() {
    let slug = new_clinic("oa-jwt", "Clinique Assertions", "FR");
    // ES384: a registered key set.
    let (es_private, es_public) = key_pair("ES384", "es-1");
    let es_app = apps::register(ClientAuth::Jwks(json!({"keys": [es_public]})), SCOPES);
    apps::install(&slug, &es_app, SCOPES);
    // RS384: a key set the app publishes, cached per its Cache-Control.
    let (rs_private, rs_public) = key_pair("RS384", "rs-1");
    let server = JwksServer::start(json!({"keys": [rs_public]}), "public, max-age=300");
    let rs_app = apps::register(ClientAuth::JwksUrl(server.url.clone()), SCOPES);
    apps::install(&slug, &rs_app, SCOPES);
    let instances = stack().regions.iter().map(|r| r.urls.len()).max().unwrap();

    // The published key set is fetched once per instance at most while its max-age runs.
    for edge in EDGES {
        let aud = token_url(edge, &slug);
        for _ in 0..3 {
            let signed = assertion(&rs_private, &rs_app.client_id, &aud);
            let (status, body, _) = assertion_token(edge, &slug, &signed, "system/Patient.r");
            assert_eq!(status, 200, "{edge:?}: {body}");
        }
    }
    let fetched = server.fetches.load(Ordering::SeqCst);
    assert!(
        (1..=instances).contains(&fetched),
        "fetched {fetched} times for {instances} instance(s) within max-age"
    );
    for edge in EDGES {
        let aud = token_url(edge, &slug);
        for (app, private) in [(&es_app, &es_private), (&rs_app, &rs_private)] {
            let what = format!("{edge:?} {}", private["alg"]);
            let signed = assertion(private, &app.client_id, &aud);
            let (status, body, _) = assertion_token(edge, &slug, &signed, "system/Patient.cr");
            assert_eq!(status, 200, "{what}: {body}");
            let token = body["access_token"].as_str().unwrap();
            assert_eq!(use_token(edge, &slug, token).0, 201, "{what}");
            // The same assertion again: its jti is spent.
            let replay = assertion_token(edge, &slug, &signed, "system/Patient.cr");
            assert_eq!(refusal(&replay), (400, "invalid_client"), "{what}: replay");
            assert!(
                replay.1["error_description"]
                    .as_str()
                    .unwrap()
                    .contains("jti"),
                "{what}: {}",
                replay.1
            );

            let kid = private["kid"].as_str().unwrap();
            let alg = private["alg"].as_str().unwrap();
            let claims = |aud: &str, exp: u64| {
                json!({"iss": app.client_id, "sub": app.client_id, "aud": aud, "exp": exp,
                       "jti": format!("{}-{}", now_secs(), rand_suffix())})
            };
            let header = json!({"alg": alg, "kid": kid, "typ": "JWT"});
            let cases: Vec<(&str, String)> = vec![
                (
                    "exp too far ahead",
                    sign(private, header.clone(), claims(&aud, now_secs() + 900)),
                ),
                (
                    "expired",
                    sign(private, header.clone(), claims(&aud, now_secs() - 120)),
                ),
                (
                    "wrong aud",
                    sign(
                        private,
                        header.clone(),
                        claims("https://elsewhere.example/oauth/token", now_secs() + 120),
                    ),
                ),
                (
                    "unknown kid",
                    sign(
                        private,
                        json!({"alg": alg, "kid": "no-such-key", "typ": "JWT"}),
                        claims(&aud, now_secs() + 120),
                    ),
                ),
                (
                    "no typ",
                    sign(
                        private,
                        json!({"alg": alg, "kid": kid}),
                        claims(&aud, now_secs() + 120),
                    ),
                ),
                (
                    "iss is not sub",
                    sign(
                        private,
                        header.clone(),
                        json!({"iss": app.client_id, "sub": "someone-else", "aud": aud,
                               "exp": now_secs() + 120, "jti": rand_suffix()}),
                    ),
                ),
                (
                    "no jti",
                    sign(
                        private,
                        header.clone(),
                        json!({"iss": app.client_id, "sub": app.client_id, "aud": aud, "exp": now_secs() + 120}),
                    ),
                ),
                (
                    "signed by another key under the same kid",
                    sign(
                        &key_pair(alg, kid).0,
                        header.clone(),
                        claims(&aud, now_secs() + 120),
                    ),
                ),
            ];
            for (case, jwt) in cases {
                let a = assertion_token(edge, &slug, &jwt, "system/Patient.r");
                assert_eq!(
                    refusal(&a),
                    (400, "invalid_client"),
                    "{what}: {case}: {}",
                    a.1
                );
            }
            // Granted scopes only.
            let a = assertion_token(
                edge,
                &slug,
                &assertion(private, &app.client_id, &aud),
                "system/Consent.r",
            );
            assert_eq!(refusal(&a), (400, "invalid_scope"), "{what}");
        }
    }
    // The app rotates its key: an assertion naming a kid the cached set lacks has the set
    // fetched again (once the last fetch is a few seconds old), well before its max-age.
    let before = server.fetches.load(Ordering::SeqCst);
    let (rs2_private, rs2_public) = key_pair("RS384", "rs-2");
    *server.keys.lock().unwrap() = json!({"keys": [rs2_public]});
    std::thread::sleep(Duration::from_millis(5500));
    for edge in EDGES {
        let aud = token_url(edge, &slug);
        let a = assertion_token(
            edge,
            &slug,
            &assertion(&rs2_private, &rs_app.client_id, &aud),
            "system/Patient.r",
        );
        assert_eq!(a.0, 200, "{edge:?}: the rotated key: {}", a.1);
    }
    assert!(
        server.fetches.load(Ordering::SeqCst) > before,
        "the set was fetched again for the new kid"
    );
}

fn rand_suffix() -> String {
    let mut r = [0u8; 8];
    getrandom::fill(&mut r).unwrap();
    r.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn introspection_and_revocation_answer_the_client_about_its_own_tokens() {
    let slug = new_clinic("oa-intro", "Clinique Introspection", "US");
    let other_clinic = new_clinic("oa-intro-b", "Other Clinic", "US");
    let app = apps::register(ClientAuth::Secret, SCOPES);
    let nosy = apps::register(ClientAuth::Secret, SCOPES);
    apps::install(&slug, &app, SCOPES);
    apps::install(&slug, &nosy, SCOPES);
    apps::install(&other_clinic, &app, SCOPES);
    for edge in EDGES {
        let token = secret_token(edge, &slug, &app, "system/Patient.cr").1["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let own = basic(&app.client_id, app.secret.as_deref().unwrap());
        let theirs = basic(&nosy.client_id, nosy.secret.as_deref().unwrap());
        let introspect = |slug: &str, auth: &str, token: &str| {
            post_form(
                edge,
                slug,
                "/oauth/introspect",
                &[("token", token)],
                Some(auth),
            )
        };
        let (status, body, headers) = introspect(&slug, &own, &token);
        assert_eq!(status, 200, "{edge:?}: {body}");
        assert_eq!(body["active"], true, "{edge:?}: {body}");
        assert_eq!(body["client_id"], app.client_id.as_str());
        assert_eq!(body["scope"], "system/Patient.cr");
        assert!(body["exp"].as_u64().unwrap() <= now_secs() + 300);
        assert_eq!(headers["cache-control"], "no-store");
        // Another client, another clinic, garbage: inactive, and nothing more.
        for (who, answer) in [
            ("another client", introspect(&slug, &theirs, &token)),
            ("another clinic", introspect(&other_clinic, &own, &token)),
            ("not a token", introspect(&slug, &own, "abc.def.ghi")),
        ] {
            assert_eq!(
                (answer.0, answer.1.clone()),
                (200, json!({"active": false})),
                "{edge:?}: {who}"
            );
        }
        assert_eq!(
            refusal(&post_form(
                edge,
                &slug,
                "/oauth/introspect",
                &[("token", &token)],
                Some(&basic(&app.client_id, "wrong"))
            )),
            (401, "invalid_client")
        );
        assert_eq!(
            refusal(&post_form(
                edge,
                &slug,
                "/oauth/introspect",
                &[],
                Some(&own)
            )),
            (400, "invalid_request")
        );
        // Revocation by another client does nothing (and says nothing).
        let revoke = |auth: &str, token: &str| {
            post_form(
                edge,
                &slug,
                "/oauth/revoke",
                &[("token", token)],
                Some(auth),
            )
        };
        assert_eq!(revoke(&theirs, &token).0, 200);
        assert_eq!(
            use_token(edge, &slug, &token).0,
            201,
            "{edge:?}: still valid"
        );
        // By its client: refused on the very next call, inactive from then on.
        let (status, body, _) = revoke(&own, &token);
        assert_eq!((status, body), (200, Value::Null), "{edge:?}");
        assert_eq!(
            use_token(edge, &slug, &token),
            (401, 401),
            "{edge:?}: revoked"
        );
        assert_eq!(introspect(&slug, &own, &token).1, json!({"active": false}));
        // Unknown tokens are revoked just as quietly.
        assert_eq!(revoke(&own, "not-a-token").0, 200);
    }
}

#[test]
fn an_uninstalled_apps_tokens_are_refused_on_the_next_call() {
    let slug = new_clinic("oa-uninst", "Clinique Désinstallation", "ZA");
    let app = apps::register(ClientAuth::Secret, SCOPES);
    apps::install(&slug, &app, SCOPES);
    let tokens: Vec<(Edge, String)> = EDGES
        .iter()
        .map(|&edge| {
            let a = secret_token(edge, &slug, &app, SCOPES);
            assert_eq!(a.0, 200, "{edge:?}: {}", a.1);
            (edge, a.1["access_token"].as_str().unwrap().to_owned())
        })
        .collect();
    for (edge, token) in &tokens {
        assert_eq!(use_token(*edge, &slug, token), (201, 200), "{edge:?}");
    }
    apps::uninstall(&slug, &app);
    for (edge, token) in &tokens {
        let r = telemed_e2e::post_patient(*edge, &slug, &format!("Bearer {token}"), "Gone");
        assert_eq!(
            r.status(),
            401,
            "{edge:?}: the next call after the uninstall"
        );
        let www = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
        assert!(www.contains("invalid_token"), "{edge:?}: {www}");
        assert_eq!(
            refusal(&secret_token(*edge, &slug, &app, SCOPES)),
            (400, "unauthorized_client"),
            "{edge:?}: no new token either"
        );
    }
    // Reinstalled: the tokens of the earlier installation stay refused, new ones work.
    std::thread::sleep(Duration::from_millis(1100));
    apps::install(&slug, &app, SCOPES);
    for (edge, token) in &tokens {
        assert_eq!(
            use_token(*edge, &slug, token).0,
            401,
            "{edge:?}: an earlier installation's token"
        );
        let fresh = secret_token(*edge, &slug, &app, SCOPES);
        assert_eq!(fresh.0, 200, "{edge:?}");
        assert_eq!(
            use_token(*edge, &slug, fresh.1["access_token"].as_str().unwrap()).0,
            201
        );
    }
    // The trail names the app's client for each token it was issued.
    let issued = telemed_e2e::psql(
        apps::home_db(&slug),
        &format!(
            "SELECT count(*) FROM {}.audit_events WHERE action = 'oauth-token' AND actor = 'client:{}' \
             AND outcome = 'ok'",
            telemed_e2e::schema_of(&slug),
            app.client_id
        ),
    );
    assert_eq!(issued, "4", "two tokens per edge were issued");
}

#[test]
fn the_issuers_keys_rotate_with_overlapping_kids() {
    let slug = new_clinic("oa-rotate", "Clinique Rotation", "FR");
    let keys = stack().keys().unwrap();
    let (current, retiring) = (
        keys.api_signing_key().unwrap(),
        keys.api_retiring_key().unwrap(),
    );
    let app = apps::register(ClientAuth::Secret, SCOPES);
    apps::install(&slug, &app, SCOPES);
    for edge in EDGES {
        let r = edge.get(&edge.host_for(&slug), "/.well-known/jwks.json", &[]);
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age")
        );
        let jwks: Value = r.json().unwrap();
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert_eq!(
            kids,
            [current.key_id(), retiring.key_id()],
            "{edge:?}: both keys, the signing one first"
        );
        for k in jwks["keys"].as_array().unwrap() {
            assert_eq!(
                (k["kty"].as_str(), k["crv"].as_str(), k["alg"].as_str()),
                (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
            );
            assert!(k.get("d").is_none(), "no private part is ever published");
        }
        // The region signs with the current key.
        let issued = secret_token(edge, &slug, &app, "system/Patient.cr");
        assert_eq!(
            header_of(issued.1["access_token"].as_str().unwrap())["kid"],
            current.key_id()
        );
        // A token the retiring key signed still works, on the API and in introspection.
        let old = retiring
            .sign_access_token(
                slug.parse().unwrap(),
                &app.client_id,
                "system/Patient.cr",
                &rand_suffix(),
                now_secs(),
            )
            .unwrap();
        assert_eq!(header_of(&old)["kid"], retiring.key_id());
        assert_eq!(
            use_token(edge, &slug, &old).0,
            201,
            "{edge:?}: the retiring key's token"
        );
        let own = basic(&app.client_id, app.secret.as_deref().unwrap());
        let intro = post_form(
            edge,
            &slug,
            "/oauth/introspect",
            &[("token", &old)],
            Some(&own),
        );
        assert_eq!(intro.1["active"], true, "{edge:?}: {}", intro.1);
        // A key nobody published: refused, whatever kid it claims.
        let stranger = telemed_shared::auth::SigningKey::from_seed([42; 32]);
        let forged = stranger
            .sign_access_token(
                slug.parse().unwrap(),
                &app.client_id,
                "system/Patient.cr",
                "forged",
                now_secs(),
            )
            .unwrap();
        assert_eq!(
            use_token(edge, &slug, &forged).0,
            401,
            "{edge:?}: an unpublished key"
        );
    }
}

#[test]
fn discovery_documents_name_this_hosts_endpoints() {
    let slug = new_clinic("oa-disc", "Clinique Découverte", "SN");
    for edge in EDGES {
        let host = edge.host_for(&slug);
        for path in [
            "/.well-known/smart-configuration",
            "/fhir/R4/.well-known/smart-configuration",
        ] {
            let r = edge.get(&host, path, &[]);
            assert_eq!(r.status(), 200, "{edge:?} {path}");
            let c: Value = r.json().unwrap();
            assert_eq!(
                c["token_endpoint"],
                format!("http://{host}/oauth/token"),
                "{edge:?} {path}"
            );
            assert_eq!(
                c["introspection_endpoint"],
                format!("http://{host}/oauth/introspect")
            );
            assert_eq!(
                c["revocation_endpoint"],
                format!("http://{host}/oauth/revoke")
            );
            assert_eq!(
                c["jwks_uri"],
                format!("http://{host}/.well-known/jwks.json")
            );
            assert!(
                c["token_endpoint_auth_methods_supported"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("private_key_jwt"))
            );
            assert_eq!(c["grant_types_supported"], json!(["client_credentials"]));
        }
        let post = edge.request(
            "POST",
            &host,
            "/.well-known/smart-configuration",
            &[],
            Some(""),
        );
        assert_eq!(post.status(), 405);
    }
}
