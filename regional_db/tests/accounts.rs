//! People's accounts and password sign-in (`account.*` statements, `POST /v1/sign-in`,
//! `regional-db accounts create`) against a real Postgres cluster of this test binary's
//! own. As in `regional.rs`: `region_eu` (eu-west, with the control schema) and `region_us`
//! (us-east) stand for two regions' primaries, the service connects as a member of
//! `telemed_service`, and each test uses its own clinics.
//!
//! Every log line of the process is captured ([`logs`]): tests check that no password
//! they sent ever appears in it.

mod common;

use common::{Server, region};

use std::{
    collections::HashMap,
    io::Write,
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use regional_db::{Config, accounts, db, migrate, provision};
use reqwest::StatusCode;
use serde_json::{Value, json};
use telemed_shared::{
    accounts::{Password, Role, names},
    auth::{EdgeClaims, SigningKey, VerifyingKeys},
    dataplane::{
        catalog,
        wire::{BATCH_PATH, CATALOG_HEADER, SIGN_IN_PATH, SignInOutcome, SignInRequest},
    },
};
use xtask::pg::PgCluster;

const EU: &str = "region_eu";
const US: &str = "region_us";
const SERVICE_LOGIN: &str = "regional_db_accounts_test";

struct Stack {
    cluster: PgCluster,
    edge_key: Vec<u8>,
    service_password: String,
}

/// Everything the process logs, at every level.
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| Arc::new(Mutex::new(Vec::new())))
}

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        logs()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(|| Capture)
            .try_init();
        let cluster = common::cluster("regional-db-accounts-pg", &[EU, US]);
        let eu = cluster.url(EU);
        std::thread::spawn(move || {
            tokio::runtime::Runtime::new().unwrap().block_on(async {
                let pool = db::pool(&eu, 1, Duration::from_secs(10)).unwrap();
                migrate::run(&region("eu-west"), &pool, &pool, false)
                    .await
                    .unwrap();
            })
        })
        .join()
        .unwrap();
        let edge_key = jwt_simple::prelude::Ed25519KeyPair::generate().to_bytes();
        let mut raw = [0u8; 16];
        getrandom::fill(&mut raw).unwrap();
        let service_password: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        cluster
            .psql(
                EU,
                &format!(
                    "DO $$ BEGIN \
                       IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{SERVICE_LOGIN}') THEN \
                         CREATE ROLE {SERVICE_LOGIN} LOGIN IN ROLE {}; \
                       END IF; \
                       ALTER ROLE {SERVICE_LOGIN} PASSWORD '{service_password}'; \
                     END $$",
                    regional_db::grants::SERVICE_ROLE
                ),
            )
            .unwrap();
        Stack {
            cluster,
            edge_key,
            service_password,
        }
    })
}

fn url(db: &str) -> String {
    stack().cluster.url(db)
}

fn service_url(db: &str) -> String {
    let s = stack();
    format!(
        "postgres://{SERVICE_LOGIN}:{}@127.0.0.1:{}/{db}",
        s.service_password,
        s.cluster.port()
    )
}

fn psql(db: &str, sql: &str) -> String {
    stack().cluster.psql(db, sql).unwrap().trim().to_owned()
}

fn token(tenant: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = EdgeClaims {
        tenant: Some(tenant.parse().unwrap()),
        actor: Some("admin-page".into()),
        edge: Some("eu-west/CDG".into()),
        ..Default::default()
    };
    SigningKey::from_key_pair_bytes(&stack().edge_key)
        .unwrap()
        .sign_edge(claims, now)
        .unwrap()
}

/// The pools of a region's databases: (its own, the control database), as administrator.
fn pools(r: &str) -> (deadpool_postgres::Pool, deadpool_postgres::Pool) {
    let own = if r == "us-east" { US } else { EU };
    let pool = db::pool(&url(own), 2, Duration::from_secs(10)).unwrap();
    let control = db::pool(&url(EU), 2, Duration::from_secs(10)).unwrap();
    (pool, control)
}

async fn create_tenant(slug: &str, country: &str) {
    let home = if country == "US" {
        "us-east"
    } else {
        "eu-west"
    };
    let (pool, control) = pools(home);
    let r = region(home);
    let req = provision::NewTenant {
        slug: slug.into(),
        name: format!("Clinic {slug}"),
        country: country.into(),
        region: None,
        domains: Vec::new(),
        currency: None,
    };
    let target = provision::Target {
        region: &r,
        pool: &pool,
        control: &control,
        control_is_local: home == "eu-west",
    };
    provision::create(&req, &target)
        .await
        .expect("clinic created");
}

async fn serve_with(r: &str, tune: impl FnOnce(&mut Config)) -> Server {
    let own = if r == "us-east" { US } else { EU };
    let signer = SigningKey::from_key_pair_bytes(&stack().edge_key).unwrap();
    let keys = VerifyingKeys::from_base64_list(&signer.public_base64()).unwrap();
    let mut config = Config::new(region(r), service_url(own), keys);
    config.control_database_url = Some(service_url(EU));
    tune(&mut config);
    Server::spawn(config).await
}

async fn serve(r: &str) -> Server {
    serve_with(r, |_| {}).await
}

async fn batch(s: &Server, tenant: &str, statements: Value) -> (StatusCode, Value) {
    let resp = s
        .http
        .post(format!("{}{BATCH_PATH}", s.base))
        .bearer_auth(token(tenant))
        .header(CATALOG_HEADER, catalog::version())
        .body(json!({ "statements": statements }).to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// One statement that must succeed: its rows.
async fn run(s: &Server, tenant: &str, name: &str, params: Value) -> Vec<Value> {
    let (status, body) = batch(s, tenant, json!([{"name": name, "params": params}])).await;
    assert_eq!(status, StatusCode::OK, "{name}: {body}");
    body["results"][0]["rows"].as_array().unwrap().clone()
}

async fn sign_in_raw(s: &Server, tenant: &str, req: &SignInRequest) -> (StatusCode, Value) {
    let resp = s
        .http
        .post(format!("{}{SIGN_IN_PATH}", s.base))
        .bearer_auth(token(tenant))
        .json(req)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn sign_in(s: &Server, tenant: &str, email: &str, password: &str) -> SignInOutcome {
    sign_in_from(s, tenant, email, password, None).await
}

async fn sign_in_from(
    s: &Server,
    tenant: &str,
    email: &str,
    password: &str,
    client: Option<&str>,
) -> SignInOutcome {
    let req = SignInRequest {
        email: email.into(),
        password: Password::new(password),
        client: client.map(Into::into),
    };
    let (status, body) = sign_in_raw(s, tenant, &req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).unwrap()
}

const REFUSED: SignInOutcome = SignInOutcome::Refused {
    retry_after_secs: None,
};

fn retry_after(o: &SignInOutcome) -> Option<u64> {
    match o {
        SignInOutcome::Refused { retry_after_secs } => *retry_after_secs,
        SignInOutcome::SignedIn(_) => panic!("signed in: {o:?}"),
    }
}

async fn metric(s: &Server, prefix: &str) -> f64 {
    let text = s
        .http
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0.0)
}

/// `account.create` of an admin: the new account's id.
async fn create_admin(s: &Server, tenant: &str, email: &str, password: &str) -> String {
    let rows = run(
        s,
        tenant,
        names::ACCOUNT_CREATE,
        json!([email, "admin", "Clinic Admin", null, null, password]),
    )
    .await;
    rows[0]["id"].as_str().unwrap().to_owned()
}

fn assert_not_logged(passwords: &[&str]) {
    let logs = logs().lock().unwrap_or_else(|e| e.into_inner());
    let text = String::from_utf8_lossy(&logs);
    assert!(
        !text.is_empty(),
        "the capture works: the server's queries are logged"
    );
    for p in passwords {
        assert!(!text.contains(p), "a password appears in the logs");
    }
}

#[tokio::test]
async fn accounts_are_hashed_listed_and_sign_in() {
    stack();
    let clinic = "acc-lyon";
    create_tenant(clinic, "FR").await;
    let s = serve("eu-west").await;
    let password = "Lyon admin passphrase 1";

    // Created through the catalog: the row says who, never how.
    let rows = run(
        &s,
        clinic,
        names::ACCOUNT_CREATE,
        json!([
            " Admin@Lyon.example ",
            "admin",
            "Dr Admin",
            null,
            null,
            password
        ]),
    )
    .await;
    let id = rows[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(rows[0]["email"], "Admin@Lyon.example", "trimmed, case kept");
    assert_eq!(rows[0]["role"], "admin");
    assert!(rows[0].get("password_hash").is_none(), "{}", rows[0]);
    let hash = psql(
        EU,
        &format!("SELECT password_hash FROM tenant_acc_lyon.accounts WHERE id = '{id}'"),
    );
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(password));

    // Signing in: any case of the email; the account comes back, the sign-in is recorded.
    let SignInOutcome::SignedIn(account) = sign_in_from(
        &s,
        clinic,
        "admin@lyon.EXAMPLE",
        password,
        Some("203.0.113.7"),
    )
    .await
    else {
        panic!("the right password signs in");
    };
    assert_eq!(account.id, id);
    assert_eq!(account.role, Role::Admin);
    assert_eq!(account.display_name, "Dr Admin");
    assert_eq!((account.patient_id, account.practitioner_id), (None, None));
    let listed = run(&s, clinic, names::ACCOUNT_LIST, json!([50])).await;
    assert_eq!(listed.len(), 1);
    assert!(listed[0]["last_sign_in_at"].is_string(), "{}", listed[0]);
    assert_eq!(listed[0]["disabled"], false);

    // Wrong password and unknown email: the very same answer.
    let wrong = sign_in(&s, clinic, "admin@lyon.example", "not the password!").await;
    let unknown = sign_in(&s, clinic, "nobody@lyon.example", password).await;
    assert_eq!(wrong, REFUSED);
    assert_eq!(unknown, REFUSED);

    // A patient's account, linked to their Patient; a patient without one is refused.
    let patient = run(
        &s,
        clinic,
        "patient.create",
        json!([{"resourceType": "Patient", "name": [{"family": "Roux"}]}, "Roux", "Léa", "1990-01-01", "female", null, []]),
    )
    .await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let patient_password = "Léa's own passphrase";
    run(
        &s,
        clinic,
        names::ACCOUNT_CREATE,
        json!([
            "lea@example.fr",
            "patient",
            "Léa Roux",
            patient,
            null,
            patient_password
        ]),
    )
    .await;
    let SignInOutcome::SignedIn(lea) =
        sign_in(&s, clinic, "lea@example.fr", patient_password).await
    else {
        panic!("Léa signs in");
    };
    assert_eq!(
        (lea.role, lea.patient_id.as_deref()),
        (Role::Patient, Some(patient.as_str()))
    );
    let (status, body) = batch(
        &s,
        clinic,
        json!([{"name": names::ACCOUNT_CREATE, "params": ["x@example.fr", "patient", "X", null, null, "long enough password"]}]),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "constraint_violation");

    // A duplicate email, in another case: a clear conflict, not a 500.
    let (status, body) = batch(
        &s,
        clinic,
        json!([{"name": names::ACCOUNT_CREATE, "params": ["ADMIN@lyon.example", "admin", "Another", null, null, "another long password"]}]),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "conflict");
    // A password outside the rule is refused before anything is stored, without quoting it.
    let (status, body) = batch(
        &s,
        clinic,
        json!([{"name": names::ACCOUNT_CREATE, "params": ["short@lyon.example", "admin", "S", null, null, "tiny pass"]}]),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(!body.to_string().contains("tiny pass"), "{body}");

    // A new password replaces the old; a disabled account is refused like a wrong password.
    let new_password = "a brand new passphrase";
    run(
        &s,
        clinic,
        names::ACCOUNT_SET_PASSWORD,
        json!([id, new_password]),
    )
    .await;
    assert_eq!(
        sign_in(&s, clinic, "admin@lyon.example", password).await,
        REFUSED
    );
    assert!(matches!(
        sign_in(&s, clinic, "admin@lyon.example", new_password).await,
        SignInOutcome::SignedIn(_)
    ));
    run(&s, clinic, names::ACCOUNT_SET_DISABLED, json!([id, true])).await;
    assert_eq!(
        sign_in(&s, clinic, "admin@lyon.example", new_password).await,
        REFUSED
    );
    let read = run(&s, clinic, names::ACCOUNT_READ, json!([id])).await;
    assert_eq!(read[0]["disabled"], true);

    // The trail: every attempt, by outcome, about the account when the email had one.
    let trail = psql(
        EU,
        "SELECT outcome || ':' || coalesce(resource_id, '-') FROM tenant_acc_lyon.audit_events \
         WHERE action = 'sign-in' ORDER BY chain_seq",
    );
    let trail: Vec<&str> = trail.lines().collect();
    assert_eq!(
        trail,
        vec![
            format!("ok:{id}").as_str(),
            &format!("refused:{id}"),
            "refused:-",
            &format!("ok:{}", lea.id),
            &format!("refused:{id}"),
            &format!("ok:{id}"),
            &format!("refused:{id}"),
        ]
    );
    assert_eq!(
        psql(
            EU,
            "SELECT actor FROM tenant_acc_lyon.audit_events WHERE action = 'sign-in' ORDER BY chain_seq LIMIT 1"
        ),
        format!("account:{id}")
    );
    assert_eq!(
        psql(
            EU,
            "SELECT outcome || ' ' || count(*) FROM tenant_acc_lyon.audit_events \
             WHERE resource_type = 'Account' AND action = 'create' GROUP BY outcome ORDER BY outcome"
        ),
        "conflict 1\nconstraint_violation 1\nok 2",
        "refused creations are in the trail too"
    );
    let all = psql(
        EU,
        "SELECT string_agg(t::text, ' ') FROM tenant_acc_lyon.audit_events t",
    );
    for p in [password, new_password, patient_password] {
        assert!(!all.contains(p), "a password in the trail");
    }
    assert!(metric(&s, "regional_sign_ins_total{outcome=\"ok\"}").await >= 3.0);
    assert!(metric(&s, "regional_sign_ins_total{outcome=\"refused\"}").await >= 4.0);
    assert_not_logged(&[
        password,
        new_password,
        patient_password,
        "not the password!",
    ]);
}

/// The service's own role may write a hash but never read one: no catalog statement can.
#[tokio::test]
async fn the_service_role_cannot_read_password_hashes() {
    stack();
    let clinic = "acc-grants";
    create_tenant(clinic, "FR").await;
    let s = serve("eu-west").await;
    create_admin(&s, clinic, "root@grants.example", "grants admin password").await;
    let (client, conn) = tokio_postgres::connect(&service_url(EU), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let e = client
        .query("SELECT password_hash FROM tenant_acc_grants.accounts", &[])
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE)
    );
    let e = client
        .query("SELECT * FROM tenant_acc_grants.accounts", &[])
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE)
    );
    let rows = client
        .query("SELECT email, role FROM tenant_acc_grants.accounts", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
}

/// Five failures lock an email for 15 minutes, whether it has an account or not: even the
/// right password is then refused, with the time to wait.
#[tokio::test]
async fn five_failures_lock_an_email_known_or_not() {
    stack();
    let clinic = "acc-locks";
    create_tenant(clinic, "FR").await;
    let s = serve("eu-west").await;
    let password = "the locked admin's password";
    create_admin(&s, clinic, "locked@locks.example", password).await;

    for email in ["locked@locks.example", "ghost@locks.example"] {
        for attempt in 1..=4 {
            let o = sign_in(&s, clinic, email, "a wrong password").await;
            assert_eq!(o, REFUSED, "{email}: attempt {attempt}");
        }
        let fifth = sign_in(&s, clinic, email, "a wrong password").await;
        let wait = retry_after(&fifth).expect("the fifth failure locks");
        assert!((890..=900).contains(&wait), "{wait}");
        let right = sign_in(&s, clinic, email, password).await;
        let wait = retry_after(&right).expect("locked: even the right password waits");
        assert!((880..=900).contains(&wait), "{wait}");
    }
    // Another email of the clinic is not affected.
    create_admin(&s, clinic, "other@locks.example", password).await;
    assert!(matches!(
        sign_in(&s, clinic, "other@locks.example", password).await,
        SignInOutcome::SignedIn(_)
    ));
    assert!(metric(&s, "regional_sign_ins_total{outcome=\"locked\"}").await >= 2.0);
    assert_eq!(
        psql(
            EU,
            "SELECT count(*) FROM tenant_acc_locks.audit_events WHERE action = 'sign-in' AND outcome = 'locked'"
        ),
        "2"
    );
    assert_not_logged(&[password]);
}

/// A success clears its email's failures; failures from one address are counted across
/// emails, and 20 lock the address.
#[tokio::test]
async fn successes_reset_and_one_address_is_throttled_across_emails() {
    stack();
    let clinic = "acc-client";
    create_tenant(clinic, "FR").await;
    let s = serve("eu-west").await;
    let password = "client throttle password";
    create_admin(&s, clinic, "me@client.example", password).await;
    for _ in 0..4 {
        sign_in(&s, clinic, "me@client.example", "a wrong password").await;
    }
    assert!(matches!(
        sign_in(&s, clinic, "me@client.example", password).await,
        SignInOutcome::SignedIn(_)
    ));
    // The count starts again: four more failures do not lock.
    for _ in 0..4 {
        assert_eq!(
            sign_in(&s, clinic, "me@client.example", "a wrong password").await,
            REFUSED
        );
    }
    assert!(matches!(
        sign_in(&s, clinic, "me@client.example", password).await,
        SignInOutcome::SignedIn(_)
    ));

    // 20 failures from one address, each on another email (no email reaches its limit).
    let ip = "198.51.100.9";
    for i in 1..=19 {
        let o = sign_in_from(
            &s,
            clinic,
            &format!("n{i}@client.example"),
            "wrong",
            Some(ip),
        )
        .await;
        assert_eq!(o, REFUSED, "attempt {i}");
    }
    let o = sign_in_from(&s, clinic, "n20@client.example", "wrong", Some(ip)).await;
    assert!(
        retry_after(&o).is_some(),
        "the 20th failure locks the address"
    );
    let o = sign_in_from(&s, clinic, "me@client.example", password, Some(ip)).await;
    assert!(
        retry_after(&o).is_some(),
        "from that address, even the right one waits"
    );
    // From elsewhere, the account is fine.
    assert!(matches!(
        sign_in_from(&s, clinic, "me@client.example", password, Some("192.0.2.1")).await,
        SignInOutcome::SignedIn(_)
    ));
    // A malformed address or email is the edge's mistake.
    let req = SignInRequest {
        email: "me@client.example".into(),
        password: Password::new(password),
        client: Some("not an ip".into()),
    };
    let (status, body) = sign_in_raw(&s, clinic, &req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(!body.to_string().contains(password));
}

/// An account belongs to one clinic: another clinic's pages cannot sign it in, even in the
/// same region; a clinic homed elsewhere is signed in by its home region (forwarded).
#[tokio::test]
async fn accounts_sign_in_on_their_own_clinic_only_and_are_forwarded_home() {
    stack();
    create_tenant("acc-nice", "FR").await;
    create_tenant("acc-brest", "FR").await;
    create_tenant("acc-austin", "US").await;
    let us = serve("us-east").await;
    let eu = {
        let peer = us.base.clone();
        serve_with("eu-west", move |c| {
            c.peers = HashMap::from([(region("us-east"), peer)])
        })
        .await
    };
    let password = "nice clinic admin password";
    create_admin(&eu, "acc-nice", "admin@nice.example", password).await;
    assert!(matches!(
        sign_in(&eu, "acc-nice", "admin@nice.example", password).await,
        SignInOutcome::SignedIn(_)
    ));
    assert_eq!(
        sign_in(&eu, "acc-brest", "admin@nice.example", password).await,
        REFUSED
    );

    // Created through the nearest region, stored and checked in the home one.
    let austin_password = "austin clinic admin password";
    let id = create_admin(&eu, "acc-austin", "admin@austin.example", austin_password).await;
    let SignInOutcome::SignedIn(account) =
        sign_in(&eu, "acc-austin", "admin@austin.example", austin_password).await
    else {
        panic!("signed in through the nearest region");
    };
    assert_eq!(account.id, id);
    assert_eq!(
        psql(
            US,
            "SELECT count(*) FROM tenant_acc_austin.audit_events WHERE action = 'sign-in'"
        ),
        "1"
    );
    assert_eq!(
        metric(&us, "regional_sign_ins_total{outcome=\"ok\"}").await,
        1.0
    );
    assert_eq!(
        metric(&eu, "regional_sign_ins_total{outcome=\"ok\"}").await,
        1.0
    );

    // Without a token, or with one naming no clinic: refused as batches are.
    let resp = eu
        .http
        .post(format!("{}{SIGN_IN_PATH}", eu.base))
        .json(&json!({"email": "a@b.fr", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_not_logged(&[password, austin_password]);
}

/// `regional-db accounts create`: an operator's account, hashed and audited the same way.
#[tokio::test]
async fn operators_create_accounts_with_the_same_rules() {
    stack();
    let clinic = "acc-ops";
    create_tenant(clinic, "FR").await;
    let (pool, control) = pools("eu-west");
    let slug = clinic.parse().unwrap();
    let new = accounts::NewAccount {
        email: "first.admin@ops.example".into(),
        role: Role::Admin,
        display_name: "First Admin".into(),
        patient_id: None,
        practitioner_id: None,
    };
    let eu = region("eu-west");
    let password = "first admin's passphrase";
    let id = accounts::create(
        &pool,
        &control,
        &eu,
        &slug,
        &new,
        Password::new(password),
        "ops",
    )
    .await
    .unwrap();
    let again = accounts::create(
        &pool,
        &control,
        &eu,
        &slug,
        &new,
        Password::new(password),
        "ops",
    )
    .await
    .unwrap_err();
    assert!(
        matches!(again, accounts::AccountError::EmailTaken { .. }),
        "{again}"
    );
    let short = accounts::create(
        &pool,
        &control,
        &eu,
        &slug,
        &accounts::NewAccount {
            email: "x@ops.example".into(),
            ..new.clone()
        },
        Password::new("short"),
        "ops",
    )
    .await
    .unwrap_err();
    assert!(
        matches!(short, accounts::AccountError::Password(_)),
        "{short}"
    );
    let elsewhere = accounts::create(
        &pool,
        &control,
        &region("us-east"),
        &slug,
        &new,
        Password::new(password),
        "ops",
    )
    .await
    .unwrap_err();
    assert!(elsewhere.to_string().contains("homed"), "{elsewhere}");

    let s = serve("eu-west").await;
    let SignInOutcome::SignedIn(account) =
        sign_in(&s, clinic, "first.admin@ops.example", password).await
    else {
        panic!("the operator's account signs in");
    };
    assert_eq!(account.id, id.to_string());
    assert_eq!(
        psql(
            EU,
            "SELECT actor || ' ' || statement FROM tenant_acc_ops.audit_events WHERE action = 'create'"
        ),
        "ops accounts.create"
    );
}
