//! The marketplace against a real Postgres (this binary's own cluster) and a real
//! `regional-db` serving as the service's role (so its grants bind): the operators' CLI
//! (`regional-db apps …`: add → pending, approve, reject, rotate-secret, bad specs change
//! nothing), the app's webhook key that the service cannot select, and the pages through
//! the edge's core ([`common::edge::NativeEdge`]): the public marketplace (fr, ar), the
//! admin's installs with CSRF-checked forms (an empty grant, a scope the app did not
//! request, the app's endpoint subscribed by the grant, `app.installed` delivered signed
//! with the app's key, settings, uninstall, reinstall), a non-admin refused, and two clinics
//! that never see or change each other's installations.
//!
//! Consent gating by country: every reviewed policy (FR, US, ZA…) records a consent that
//! gates sharing with apps (`compliance::Processing::SharingWithApps`), so no real clinic is
//! refused a patient-data scope today; the refusal is tested on a policy without that
//! consent in `telemed_shared::apps`'s unit tests.

mod common;

use std::{
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use axum::{body::Bytes, extract::State, http::HeaderMap};
use regional_db::{
    Config, db,
    jobs::webhooks::{self, WebhookJob},
    migrate, provision,
    vault::{MasterKeys, Vault},
};
use serde_json::{Value, json};
use telemed_shared::{
    accounts::Role,
    auth::{SigningKey, VerifyingKeys},
};
use uuid::Uuid;
use xtask::pg::PgCluster;

const DB: &str = "apps_eu";
const LOGIN: &str = "regional_db_apps";
const PASSWORD: &str = "apps-test-password";

struct Stack {
    cluster: PgCluster,
    master_keys: String,
    edge_key: Vec<u8>,
}

fn stack() -> &'static Stack {
    static S: OnceLock<Stack> = OnceLock::new();
    S.get_or_init(|| {
        let cluster = common::cluster("apps-pg", &[DB]);
        let url = cluster.url(DB);
        std::thread::spawn(move || {
            tokio::runtime::Runtime::new().unwrap().block_on(async {
                let pool = db::pool(&url, 1, Duration::from_secs(10)).unwrap();
                migrate::run(&common::region("eu-west"), &pool, &pool, false)
                    .await
                    .unwrap();
            })
        })
        .join()
        .unwrap();
        common::service_login(&cluster, DB, LOGIN, PASSWORD);
        Stack {
            cluster,
            master_keys: MasterKeys::generate("k1").unwrap(),
            edge_key: jwt_simple::prelude::Ed25519KeyPair::generate().to_bytes(),
        }
    })
}

fn admin_url() -> String {
    stack().cluster.url(DB)
}

fn service_url() -> String {
    format!(
        "postgres://{LOGIN}:{PASSWORD}@127.0.0.1:{}/{DB}",
        stack().cluster.port()
    )
}

fn vault() -> Vault {
    Vault::new(MasterKeys::parse(&stack().master_keys).unwrap())
}

fn signer() -> SigningKey {
    SigningKey::from_key_pair_bytes(&stack().edge_key).unwrap()
}

/// A `regional-db` of eu-west connected as the service's role, with the master keys.
async fn serve() -> common::Server {
    let keys = VerifyingKeys::from_base64_list(&signer().public_base64()).unwrap();
    let mut config = Config::new(common::region("eu-west"), service_url(), keys);
    config.control_database_url = Some(service_url());
    config.master_keys = Some(MasterKeys::parse(&stack().master_keys).unwrap());
    common::Server::spawn(config).await
}

fn psql(sql: &str) -> String {
    stack().cluster.psql(DB, sql).unwrap().trim().to_owned()
}

fn in_clinic(slug: &str, sql: &str) -> String {
    psql(&format!(
        "SET search_path TO tenant_{}; {sql}",
        slug.replace('-', "_")
    ))
}

async fn clinic(slug: &str) {
    let pool = db::pool(&admin_url(), 2, Duration::from_secs(10)).unwrap();
    provision::create(
        &provision::NewTenant {
            slug: slug.into(),
            name: format!("Clinic {slug}"),
            country: "FR".into(),
            region: None,
            domains: vec![],
            currency: None,
        },
        &provision::Target {
            region: &common::region("eu-west"),
            pool: &pool,
            control: &pool,
            control_is_local: true,
        },
    )
    .await
    .expect("clinic created");
}

/// `regional-db <args> --region eu-west --database-url …`: (success, stdout, stderr).
fn cli(args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_regional-db"))
        .args(args)
        .args(["--region", "eu-west", "--database-url", &admin_url()])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `apps add` of `spec` (written to a file): the printed JSON, or the error.
fn add(spec: &Value) -> Result<Value, String> {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("apps-specs");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{}.json", Uuid::new_v4()));
    std::fs::write(&file, spec.to_string()).unwrap();
    let (ok, out, err) = cli(&[
        "apps",
        "add",
        "--file",
        file.to_str().unwrap(),
        "--by",
        "olga",
    ]);
    if ok {
        Ok(serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}")))
    } else {
        Err(err)
    }
}

fn spec(slug: &str) -> Value {
    json!({
        "slug": slug,
        "names": {"en": "Glucose Sync", "fr": "Synchro glycémie", "ar": "مزامنة السكر"},
        "descriptions": {"en": "Sends glucose readings to the clinic.", "fr": "Envoie les glycémies à l'établissement."},
        "developer": "Acme Health",
        "developer_url": "https://acme.example",
        "category": "iot",
        "pricing": {"model": "monthly", "amount": "9.90", "currency": "EUR"},
        "requested_scopes": "system/Observation.crs system/Patient.read",
        "webhook_url": "http://127.0.0.1:9/hook",
        "webhook_events": ["observation.created", "patient.created"],
        "client": {"auth": "client_secret_basic"}
    })
}

/// Apps whose slug starts with `prefix` (tests run side by side: each counts its own).
fn apps_count(prefix: &str) -> i64 {
    psql(&format!(
        "SELECT count(*) FROM control.apps WHERE slug LIKE '{prefix}%'"
    ))
    .parse()
    .unwrap()
}

#[tokio::test]
async fn the_cli_registers_reviews_and_rotates_and_refuses_bad_specs() {
    stack();
    let added = add(&spec("cli-glucose")).unwrap();
    let app_id = added["app_id"].as_str().unwrap().to_owned();
    let client_id = added["client_id"].as_str().unwrap();
    let secret = added["client_secret"].as_str().unwrap().to_owned();
    let whsec = added["webhook_secret"].as_str().unwrap().to_owned();
    assert_eq!(added["slug"], "cli-glucose");
    assert!(
        client_id.starts_with("app_") && client_id.len() == 28,
        "{client_id}"
    );
    assert_eq!(secret.len(), 43, "32 bytes as base64url without padding");
    assert!(whsec.starts_with("whsec_"));
    // Pending, scopes normalized to v2, only the secret's SHA-256 stored.
    assert_eq!(
        psql(&format!(
            "SELECT status || ' ' || requested_scopes FROM control.apps WHERE id = '{app_id}'"
        )),
        "pending system/Observation.crs system/Patient.rs"
    );
    let sha: String = hmac_sha256::Hash::hash(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        psql(&format!(
            "SELECT encode(secret_sha256, 'hex') FROM control.oauth_clients WHERE client_id = '{client_id}'"
        )),
        sha
    );
    assert_eq!(
        psql(
            "SELECT actor || ' ' || action FROM control.operator_events WHERE slug = 'cli-glucose'"
        ),
        "olga app.add"
    );

    // Bad specs: a clear error, a non-zero exit, nothing written.
    let before = apps_count("cli-");
    let cases: Vec<(Value, &str)> = vec![
        (json!({"slug": "cli-glucose"}), "exists already"),
        (
            json!({"requested_scopes": "system/Patient.rs user/Nope.x"}),
            "user/Nope.x",
        ),
        (json!({"names": {"fr": "Sans anglais"}}), "names"),
        (
            json!({"pricing": {"model": "monthly", "amount": "9.999", "currency": "EUR"}}),
            "pricing",
        ),
        (json!({"category": "games"}), "category"),
        (
            json!({"webhook_events": ["patient.deleted"]}),
            "webhook_events",
        ),
        (json!({"client": {"auth": "private_key_jwt"}}), "client"),
        (json!({"surprise": true}), "unknown field"),
    ];
    for (patch, expected) in cases {
        let mut s = spec("cli-bad");
        if patch.get("slug").is_some() {
            s = spec("cli-glucose");
        } else {
            for (k, v) in patch.as_object().unwrap() {
                s[k] = v.clone();
            }
        }
        let err = add(&s).expect_err(&patch.to_string());
        assert!(err.contains(expected), "{patch}: {err}");
    }
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("apps-specs");
    std::fs::write(dir.join("broken.json"), "{ not json").unwrap();
    let (ok, _, err) = cli(&[
        "apps",
        "add",
        "--file",
        dir.join("broken.json").to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("is not JSON"), "{err}");
    assert_eq!(apps_count("cli-"), before);

    // list, show (never a secret).
    let (ok, out, err) = cli(&["apps", "list", "--status", "pending"]);
    assert!(ok, "{err}");
    assert!(out.lines().any(|l| l.contains("\"cli-glucose\"")), "{out}");
    let (ok, _, err) = cli(&["apps", "list", "--status", "maybe"]);
    assert!(!ok && err.contains("unknown status"), "{err}");
    let (ok, out, err) = cli(&["apps", "show", "cli-glucose"]);
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["client_id"], client_id);
    for hidden in [
        "webhook_secret",
        "secret_sha256",
        secret.as_str(),
        &whsec[6..],
    ] {
        assert!(!out.contains(hidden), "{out}");
    }
    let (ok, _, err) = cli(&["apps", "show", "nope"]);
    assert!(!ok && err.contains("no app"), "{err}");

    // Reviews: a rejection says why; who and when are kept; each is logged.
    let (ok, _, err) = cli(&["apps", "reject", "cli-glucose"]);
    assert!(!ok && err.contains("--note"), "{err}");
    let (ok, _, err) = cli(&[
        "apps",
        "reject",
        "cli-glucose",
        "--note",
        "privacy policy missing",
        "--by",
        "rita",
    ]);
    assert!(ok, "{err}");
    assert_eq!(
        psql(
            "SELECT status || '|' || review_note || '|' || reviewed_by || '|' || (reviewed_at IS NOT NULL) FROM control.apps WHERE slug = 'cli-glucose'"
        ),
        "rejected|privacy policy missing|rita|true"
    );
    let (ok, _, err) = cli(&["apps", "approve", "cli-glucose", "--by", "rita"]);
    assert!(ok, "{err}");
    assert_eq!(
        psql(
            "SELECT string_agg(action, ',' ORDER BY id) FROM control.operator_events WHERE slug = 'cli-glucose'"
        ),
        "app.add,app.reject,app.approve"
    );

    // A new client secret, once; the old hash is gone.
    let (ok, out, err) = cli(&["apps", "rotate-secret", "cli-glucose"]);
    assert!(ok, "{err}");
    let rotated: Value = serde_json::from_str(out.trim()).unwrap();
    let new_secret = rotated["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    let sha: String = hmac_sha256::Hash::hash(new_secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        psql(&format!(
            "SELECT encode(secret_sha256, 'hex') FROM control.oauth_clients WHERE client_id = '{client_id}'"
        )),
        sha
    );
    // A private_key_jwt app has no secret to rotate.
    let mut jwt = spec("cli-jwt");
    jwt["client"] =
        json!({"auth": "private_key_jwt", "jwks_url": "https://acme.example/jwks.json"});
    jwt.as_object_mut().unwrap().remove("webhook_url");
    jwt.as_object_mut().unwrap().remove("webhook_events");
    let jwt_added = add(&jwt).unwrap();
    assert!(jwt_added.get("client_secret").is_none() && jwt_added.get("webhook_secret").is_none());
    let (ok, _, err) = cli(&["apps", "rotate-secret", "cli-jwt"]);
    assert!(!ok && err.contains("private_key_jwt"), "{err}");

    // The service's role reads the catalog but never the webhook key, except through the
    // one function the install uses (which answers approved apps only).
    let (service, conn) = tokio_postgres::connect(&service_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let denied = service
        .query("SELECT webhook_secret FROM control.apps", &[])
        .await
        .unwrap_err();
    assert!(
        denied.to_string().contains("permission denied") || format!("{denied:?}").contains("42501"),
        "{denied:?}"
    );
    service
        .query("SELECT slug, names FROM control.apps", &[])
        .await
        .unwrap();
    let id = Uuid::parse_str(&app_id).unwrap();
    let key: Option<Vec<u8>> = service
        .query_one("SELECT control.app_webhook_secret($1)", &[&id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        key.unwrap(),
        webhooks::Secret::parse(&whsec).unwrap().as_bytes()
    );
}

use common::browser::{Browser, idem_for, location, plain, session};

/// A fresh `idem` for the form posting to `action`: the page rendered anew, as a browser
/// shows it before each post (a key is for one post).
async fn fresh(browser: &Browser<'_>, action: &str) -> String {
    idem_for(&plain(&browser.get("/admin/apps").await), action)
}

/// A receiver of webhooks: what it got, verified with the `standardwebhooks` crate.
#[derive(Default)]
struct Hooks {
    secret: Mutex<String>,
    got: Mutex<Vec<(String, Value, bool)>>,
}

async fn receiver() -> (String, Arc<Hooks>) {
    async fn receive(State(s): State<Arc<Hooks>>, headers: HeaderMap, body: Bytes) -> &'static str {
        let secret = s.secret.lock().unwrap().clone();
        let verified = standardwebhooks::Webhook::new(&secret)
            .unwrap()
            .verify(&body, &headers)
            .is_ok();
        let id = headers["webhook-id"].to_str().unwrap().to_owned();
        s.got
            .lock()
            .unwrap()
            .push((id, serde_json::from_slice(&body).unwrap(), verified));
        ""
    }
    let hooks = Arc::new(Hooks::default());
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(hooks.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, hooks)
}

/// Sends `slug`'s due deliveries once (as `regional-db jobs run webhooks` would).
async fn deliver(slug: &str) {
    let pool = db::pool(&service_url(), 2, Duration::from_secs(10)).unwrap();
    // The receiver is on this machine: the local stack's policy.
    let settings =
        webhooks::Settings::new(regional_db::outbound::OutboundPolicy { allow_local: true });
    let job = WebhookJob {
        now: chrono::Utc::now() + chrono::Duration::minutes(1),
        only: Some(slug.parse().unwrap()),
        settings,
    };
    webhooks::run(
        &job,
        &common::region("eu-west"),
        &pool,
        &pool,
        &vault(),
        &webhooks::http_client(&settings).unwrap(),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_clinic_admin_installs_configures_uninstalls_and_reinstalls_an_app() {
    stack();
    let (a, b) = ("apps-clinic-a", "apps-clinic-b");
    clinic(a).await;
    clinic(b).await;
    let (hook_url, hooks) = receiver().await;
    let mut s = spec("page-glucose");
    s["webhook_url"] = json!(hook_url);
    let added = add(&s).unwrap();
    let app = added["app_id"].as_str().unwrap().to_owned();
    *hooks.secret.lock().unwrap() = added["webhook_secret"].as_str().unwrap().to_owned();
    // Another app, still pending: never shown.
    add(&spec("page-pending")).unwrap();
    let mut free = spec("page-agenda");
    free["category"] = json!("scheduling");
    free["pricing"] = json!({"model": "free"});
    free["requested_scopes"] = json!("system/Slot.rs");
    free.as_object_mut().unwrap().remove("webhook_url");
    free.as_object_mut().unwrap().remove("webhook_events");
    add(&free).unwrap();
    for slug in ["page-glucose", "page-agenda"] {
        let (ok, _, err) = cli(&["apps", "approve", slug]);
        assert!(ok, "{err}");
    }

    let server = serve().await;
    let edge =
        common::edge::NativeEdge::new(&server.base, &signer(), &SigningKey::from_seed([7; 32]));

    // The public marketplace: approved apps, localized, priced, filtered; one region call.
    let visitor = Browser {
        edge: &edge,
        slug: a.into(),
        cookie: None,
        language: "fr",
    };
    let calls = edge.host.calls.get();
    let r = visitor.get("/marketplace").await;
    assert_eq!(r.status(), 200, "{}", plain(&r));
    assert_eq!(
        edge.host.calls.get() - calls,
        1,
        "the catalog and the directory entry in one call"
    );
    let html = plain(&r);
    assert!(html.contains("Synchro glycémie"), "{html}");
    assert!(html.contains("9,90\u{a0}€ par mois"), "{html}");
    assert!(
        html.contains("lire, rechercher : dossiers des patients"),
        "{html}"
    );
    assert!(
        html.contains("page-agenda") && !html.contains("page-pending"),
        "{html}"
    );
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("public")
    );
    let r = visitor.get("/marketplace?category=scheduling").await;
    let html = plain(&r);
    assert!(
        html.contains("page-agenda") && !html.contains("page-glucose"),
        "{html}"
    );
    let ar = Browser {
        edge: &edge,
        slug: a.into(),
        cookie: None,
        language: "ar",
    };
    let html = plain(&ar.get("/marketplace").await);
    assert!(
        html.contains(r#"dir="rtl""#) && html.contains("مزامنة السكر"),
        "{html}"
    );
    assert!(
        html.contains("Sends glucose readings"),
        "falls back to English: {html}"
    );
    let r = visitor.post("/marketplace", &[]).await;
    assert_eq!(r.status(), 405);

    // No session: to the sign-in form. Not an admin: refused.
    let r = visitor.get("/admin/apps").await;
    assert_eq!(r.status(), 303);
    assert!(
        location(&r).starts_with("/sign-in?next="),
        "{}",
        location(&r)
    );
    let (cookie, csrf) = session(a, Role::Practitioner);
    let practitioner = Browser {
        edge: &edge,
        slug: a.into(),
        cookie: Some(cookie),
        language: "en",
    };
    assert_eq!(practitioner.get("/admin/apps").await.status(), 403);
    let r = practitioner
        .post(
            &format!("/admin/apps/{app}/install"),
            &[("csrf", &csrf), ("scope", "system/Observation.crs")],
        )
        .await;
    assert_eq!(r.status(), 403);

    let (cookie, csrf) = session(a, Role::Admin);
    let admin = Browser {
        edge: &edge,
        slug: a.into(),
        cookie: Some(cookie),
        language: "en",
    };
    let r = admin.get("/admin/apps").await;
    assert_eq!(r.status(), 200, "{}", plain(&r));
    let html = plain(&r);
    assert!(html.contains("No app is installed."), "{html}");
    let install = format!("/admin/apps/{app}/install");
    // Every scope offered, none checked.
    assert!(
        html.contains(r#"name="scope" value="system/Observation.crs">"#),
        "{html}"
    );
    assert!(
        html.contains(r#"name="scope" value="system/Patient.rs">"#),
        "{html}"
    );
    assert!(!html.contains(" checked"), "{html}");

    // A forged post (no CSRF token), an empty grant, a scope never requested: nothing.
    let r = admin
        .post(&install, &[("scope", "system/Observation.crs")])
        .await;
    assert_eq!(r.status(), 403);
    let r = admin
        .post(
            &install,
            &[("csrf", &csrf), ("idem", &fresh(&admin, &install).await)],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(plain(&r).contains("Choose at least one access to grant."));
    let r = admin
        .post(
            &install,
            &[
                ("csrf", &csrf),
                ("idem", &fresh(&admin, &install).await),
                ("scope", "system/Appointment.rs"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(
        location(&r).contains("error=not-installable"),
        "{}",
        location(&r)
    );
    assert_eq!(in_clinic(a, "SELECT count(*) FROM app_installations"), "0");
    assert_eq!(in_clinic(a, "SELECT count(*) FROM webhook_endpoints"), "0");

    // Installed with Observation only: the app's endpoint takes observation.created and
    // app.*, never patient.created (Patient not granted).
    let r = admin
        .post(
            &install,
            &[
                ("csrf", &csrf),
                ("idem", &fresh(&admin, &install).await),
                ("scope", "system/Observation.crs"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", plain(&r));
    assert!(location(&r).contains("done=installed"));
    assert_eq!(
        in_clinic(
            a,
            &format!(
                "SELECT status || '|' || granted_scopes || '|' || installed_by FROM app_installations WHERE app = '{app}'"
            )
        ),
        "installed|system/Observation.crs|account/00000000-0000-4000-8000-00000000a0a0"
    );
    assert_eq!(
        in_clinic(
            a,
            &format!(
                "SELECT array_to_string(event_types, ',') FROM webhook_endpoints WHERE app = '{app}'"
            )
        ),
        "app.installed,app.uninstalled,observation.created"
    );
    assert_eq!(
        in_clinic(
            a,
            &format!(
                "SELECT action || ' ' || actor FROM audit_events WHERE resource_type = 'AppInstallation' AND resource_id = '{app}'"
            )
        ),
        "create account/00000000-0000-4000-8000-00000000a0a0"
    );
    // The refused attempt is in the trail too, with no resource.
    assert_eq!(
        in_clinic(
            a,
            "SELECT count(*) FROM audit_events WHERE resource_type = 'AppInstallation' AND resource_id IS NULL"
        ),
        "1"
    );
    let installed_at = in_clinic(
        a,
        &format!("SELECT installed_at FROM app_installations WHERE app = '{app}'"),
    );

    // app.installed reaches the app, signed with the key it was given; then an observation
    // does, a new patient does not.
    deliver(a).await;
    {
        let got = hooks.got.lock().unwrap().clone();
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].2, "verified with the app's whsec_");
        assert_eq!(got[0].1["type"], "app.installed");
        assert_eq!(got[0].1["data"]["app"], app.as_str());
        assert_eq!(got[0].1["data"]["scope"], "system/Observation.crs");
    }
    let patient = in_clinic(
        a,
        "INSERT INTO patients (resource, family, given, birth_date, gender) VALUES ('{\"resourceType\": \"Patient\"}', 'Diop', 'Awa', '1980-01-01', 'female') RETURNING id",
    );
    let patient = patient.lines().next().unwrap().trim().to_owned();
    assert_eq!(
        in_clinic(
            a,
            "SELECT count(*) FROM outbox_events WHERE type = 'patient.created'"
        ),
        "0"
    );
    in_clinic(
        a,
        &format!(
            "INSERT INTO observations (resource, patient, status, effective) \
             VALUES ('{{\"resourceType\": \"Observation\"}}', '{patient}', 'final', now())"
        ),
    );
    deliver(a).await;
    {
        let got = hooks.got.lock().unwrap().clone();
        let types: Vec<&str> = got.iter().map(|g| g.1["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["app.installed", "observation.created"]);
        assert!(!types.contains(&"patient.created"), "{types:?}");
        assert!(got.iter().all(|g| g.2));
    }

    // The admin page lists it with its grant; settings are checked, then saved.
    let html = plain(&admin.get("/admin/apps").await);
    assert!(
        html.contains("Installed by account/00000000-0000-4000-8000-00000000a0a0"),
        "{html}"
    );
    let configure = format!("/admin/apps/{app}/configure");
    let r = admin
        .post(
            &configure,
            &[
                ("csrf", &csrf),
                ("idem", &fresh(&admin, &configure).await),
                ("config", "[1, 2]"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(
        plain(&r).contains("These settings cannot be saved"),
        "{}",
        plain(&r)
    );
    let r = admin
        .post(
            &configure,
            &[
                ("csrf", &csrf),
                ("idem", &fresh(&admin, &configure).await),
                ("config", r#"{"unit": "mmol/L"}"#),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        in_clinic(
            a,
            &format!("SELECT config->>'unit' FROM app_installations WHERE app = '{app}'")
        ),
        "mmol/L"
    );

    // Clinic B sees the app as available, none of A's installation; installing in B leaves A alone.
    let (cookie_b, csrf_b) = session(b, Role::Admin);
    let admin_b = Browser {
        edge: &edge,
        slug: b.into(),
        cookie: Some(cookie_b),
        language: "en",
    };
    let html_b = plain(&admin_b.get("/admin/apps").await);
    assert!(html_b.contains("No app is installed."), "{html_b}");
    assert!(
        !html_b.contains("mmol/L") && !html_b.contains("Installed by"),
        "{html_b}"
    );
    // B cannot configure or uninstall what only A installed: nothing there to change.
    let r = admin_b
        .post(
            &format!("/admin/apps/{app}/configure"),
            &[
                ("csrf", &csrf_b),
                ("idem", "b-configure-0123456789"),
                ("config", r#"{"unit": "mg/dL"}"#),
            ],
        )
        .await;
    assert!(
        r.status() == 303 && location(&r).contains("error=not-installed"),
        "{}",
        r.status()
    );
    let r = admin_b
        .post(
            &format!("/admin/apps/{app}/uninstall"),
            &[
                ("csrf", &csrf_b),
                ("idem", "b-uninstall-0123456789"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert!(
        r.status() == 303 && location(&r).contains("error=not-installed"),
        "{}",
        r.status()
    );
    assert_eq!(
        in_clinic(
            a,
            &format!(
                "SELECT status || '|' || (config->>'unit') FROM app_installations WHERE app = '{app}'"
            )
        ),
        "installed|mmol/L"
    );
    assert_eq!(in_clinic(b, "SELECT count(*) FROM app_installations"), "0");
    // A's session is no session at B.
    let (cookie_a_at_b, _) = session(a, Role::Admin);
    let intruder = Browser {
        edge: &edge,
        slug: b.into(),
        cookie: Some(cookie_a_at_b),
        language: "en",
    };
    let r = intruder.get("/admin/apps").await;
    assert_eq!(r.status(), 303, "to sign-in");
    let r = admin_b
        .post(
            &install,
            &[
                ("csrf", &csrf_b),
                ("idem", &fresh(&admin_b, &install).await),
                ("scope", "system/Patient.rs"),
                ("scope", "system/Observation.crs"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        in_clinic(
            b,
            &format!("SELECT granted_scopes FROM app_installations WHERE app = '{app}'")
        ),
        "system/Patient.rs system/Observation.crs"
    );
    assert_eq!(
        in_clinic(
            b,
            &format!(
                "SELECT array_to_string(event_types, ',') FROM webhook_endpoints WHERE app = '{app}'"
            )
        ),
        "app.installed,app.uninstalled,observation.created,patient.created"
    );
    assert_eq!(
        in_clinic(
            a,
            &format!(
                "SELECT granted_scopes || '|' || installed_at FROM app_installations WHERE app = '{app}'"
            )
        ),
        format!("system/Observation.crs|{installed_at}")
    );

    // Uninstall: confirmed or nothing; then the endpoint is off and the row says who.
    let uninstall = format!("/admin/apps/{app}/uninstall");
    let r = admin
        .post(
            &uninstall,
            &[("csrf", &csrf), ("idem", &fresh(&admin, &uninstall).await)],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        in_clinic(
            a,
            &format!("SELECT status FROM app_installations WHERE app = '{app}'")
        ),
        "installed"
    );
    let r = admin
        .post(
            &uninstall,
            &[
                ("csrf", &csrf),
                ("idem", &fresh(&admin, &uninstall).await),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        in_clinic(
            a,
            &format!(
                "SELECT status || '|' || uninstalled_by || '|' || (uninstalled_at IS NOT NULL) FROM app_installations WHERE app = '{app}'"
            )
        ),
        "uninstalled|account/00000000-0000-4000-8000-00000000a0a0|true"
    );
    assert_eq!(
        in_clinic(
            a,
            &format!("SELECT disabled_reason FROM webhook_endpoints WHERE app = '{app}'")
        ),
        "app uninstalled"
    );
    assert_eq!(
        in_clinic(
            a,
            &format!(
                "SELECT string_agg(action, ',' ORDER BY id) FROM audit_events WHERE resource_type = 'AppInstallation' AND resource_id = '{app}'"
            )
        ),
        "create,update,delete"
    );
    // B still has it.
    assert_eq!(
        in_clinic(
            b,
            &format!("SELECT status FROM app_installations WHERE app = '{app}'")
        ),
        "installed"
    );
    // Uninstalling twice (an old tab's form, its own key): nothing to uninstall.
    let r = admin
        .post(
            &uninstall,
            &[
                ("csrf", &csrf),
                ("idem", "an-old-tab-0123456789"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert!(
        r.status() == 303 && location(&r).contains("error=not-installed"),
        "{}",
        r.status()
    );

    // Reinstall: the same row, installed_at moves, the endpoint is back on.
    let html = plain(&admin.get("/admin/apps").await);
    assert!(html.contains("Uninstalled by account/"), "{html}");
    let r = admin
        .post(
            &install,
            &[
                ("csrf", &csrf),
                ("idem", &fresh(&admin, &install).await),
                ("scope", "system/Observation.crs"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        in_clinic(
            a,
            &format!(
                "SELECT status || '|' || (installed_at > '{installed_at}') || '|' || (uninstalled_at IS NULL) || '|' || (config->>'unit') FROM app_installations WHERE app = '{app}'"
            )
        ),
        "installed|true|true|mmol/L"
    );
    assert_eq!(in_clinic(a, "SELECT count(*) FROM app_installations"), "1");
    assert_eq!(
        in_clinic(
            a,
            &format!("SELECT disabled_at IS NULL FROM webhook_endpoints WHERE app = '{app}'")
        ),
        "t"
    );
    let dashboard = plain(&admin.get("/admin").await);
    assert!(
        dashboard.contains(r#"href="/admin/apps""#) && dashboard.contains("1 app installed"),
        "{dashboard}"
    );
}
