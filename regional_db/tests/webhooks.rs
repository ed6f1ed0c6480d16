//! Webhooks against a real Postgres and a real HTTP receiver (issue 11 item 3): the outbox
//! row is written in the transaction of the change (none when it rolls back); the job,
//! running as the service's role, delivers it signed, and the receiver verifies the
//! signature with the `standardwebhooks` crate (the reference implementation, not ours);
//! retries keep the webhook-id; `Retry-After` is honoured; 410 disables the endpoint;
//! payloads carry ids only; the real `regional-db` binary killed mid-delivery loses
//! nothing once restarted; URLs the outbound policy refuses are neither added nor called.

mod common;

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
};
use chrono::{DateTime, Utc};
use regional_db::{
    db,
    jobs::webhooks::{self, NewEndpoint, Outcome, Settings, WebhookJob},
    migrate,
    outbound::OutboundPolicy,
    provision,
    vault::{MasterKeys, Vault},
};
use serde_json::Value;
use uuid::Uuid;
use xtask::pg::PgCluster;

const DB: &str = "webhooks_eu";
const LOGIN: &str = "regional_db_webhooks";
const PASSWORD: &str = "webhooks-test-password";

fn cluster() -> &'static PgCluster {
    static C: std::sync::OnceLock<PgCluster> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        let c = common::cluster("webhooks-pg", &[DB]);
        let url = c.url(DB);
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
        common::service_login(&c, DB, LOGIN, PASSWORD);
        c
    })
}

/// The region's `MASTER_KEYS`, for the vault here and for the binary's runs.
fn master_keys() -> &'static str {
    static K: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    K.get_or_init(|| MasterKeys::generate("k1").unwrap())
}

fn vault() -> &'static Vault {
    static V: std::sync::OnceLock<Vault> = std::sync::OnceLock::new();
    V.get_or_init(|| Vault::new(MasterKeys::parse(master_keys()).unwrap()))
}

/// A local stack's policy: the receivers listen on 127.0.0.1 over http.
const LOCAL: OutboundPolicy = OutboundPolicy { allow_local: true };

fn admin_pool() -> deadpool_postgres::Pool {
    db::pool(&cluster().url(DB), 2, Duration::from_secs(10)).unwrap()
}

fn service_url() -> String {
    format!(
        "postgres://{LOGIN}:{PASSWORD}@127.0.0.1:{}/{DB}",
        cluster().port()
    )
}

/// The pool `regional-db serve` would have: the service's role.
fn service_pool() -> deadpool_postgres::Pool {
    db::pool(&service_url(), 4, Duration::from_secs(10)).unwrap()
}

/// A clinic homed in eu-west.
async fn clinic(slug: &str) {
    let pool = admin_pool();
    let r = common::region("eu-west");
    provision::create(
        &provision::NewTenant {
            slug: slug.into(),
            name: format!("Clinic {slug}"),
            country: "FR".into(),
            region: Some("eu-west".into()),
            domains: vec![],
            currency: None,
        },
        &provision::Target {
            region: &r,
            pool: &pool,
            control: &pool,
            control_is_local: true,
        },
    )
    .await
    .unwrap();
}

/// A connection pinned to `slug`'s schema, as the administrator or the service's role.
async fn pinned(slug: &str, service: bool) -> tokio_postgres::Client {
    let url = if service {
        service_url()
    } else {
        cluster().url(DB)
    };
    common::pinned(&url, slug).await
}

/// A patient (named, born), a practitioner, a schedule and a free slot, `n` hours after a
/// base time. Returns (patient, slot).
async fn seed(c: &tokio_postgres::Client, n: i32) -> (Uuid, Uuid) {
    let id = |row: tokio_postgres::Row| row.get::<_, Uuid>(0);
    let patient = id(c
        .query_one(
            "INSERT INTO patients (resource, family, given, birth_date, gender) \
             VALUES ('{\"resourceType\": \"Patient\"}', 'Diop', 'Awa', '1980-01-01', 'female') RETURNING id",
            &[],
        )
        .await
        .unwrap());
    let practitioner = id(c
        .query_one(
            "INSERT INTO practitioners (resource) VALUES ('{\"resourceType\": \"Practitioner\"}') RETURNING id",
            &[],
        )
        .await
        .unwrap());
    let schedule = id(c
        .query_one(
            "INSERT INTO schedules (resource, practitioner) VALUES ('{\"resourceType\": \"Schedule\"}', $1) RETURNING id",
            &[&practitioner],
        )
        .await
        .unwrap());
    let slot = id(c
        .query_one(
            "INSERT INTO slots (resource, schedule, status, starts_at, ends_at) VALUES \
               ('{\"resourceType\": \"Slot\"}', $1, 'free', \
                timestamptz '2026-12-01T09:00:00Z' + make_interval(hours => $2), \
                timestamptz '2026-12-01T09:30:00Z' + make_interval(hours => $2)) RETURNING id",
            &[&schedule, &n],
        )
        .await
        .unwrap());
    (patient, slot)
}

const BOOK_SQL: &str = "INSERT INTO appointments (resource, slot, patient, status) \
    VALUES ('{\"resourceType\": \"Appointment\", \"status\": \"booked\"}', $1, $2, 'booked') RETURNING id";

/// Books `slot` for `patient` (the consent gate bypassed for the seed, as other tests do).
async fn book(c: &tokio_postgres::Client, patient: Uuid, slot: Uuid) -> Uuid {
    c.batch_execute("ALTER TABLE appointments DISABLE TRIGGER appointment_consent_gate")
        .await
        .unwrap();
    let id = c
        .query_one(BOOK_SQL, &[&slot, &patient])
        .await
        .unwrap()
        .get(0);
    c.batch_execute("ALTER TABLE appointments ENABLE TRIGGER appointment_consent_gate")
        .await
        .unwrap();
    id
}

/// A receiver's scripted answer that never comes: it holds the connection.
const STALL: u16 = 0;

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    body: Value,
    /// `standardwebhooks::Webhook::verify` accepted it.
    verified: bool,
}

#[derive(Default)]
struct ReceiverState {
    secret: Mutex<Option<String>>,
    /// What to answer next (status, Retry-After); 200 once empty.
    script: Mutex<VecDeque<(u16, Option<&'static str>)>>,
    got: Mutex<Vec<Received>>,
}

struct Receiver {
    url: String,
    state: Arc<ReceiverState>,
}

impl Receiver {
    async fn spawn(script: &[(u16, Option<&'static str>)]) -> Receiver {
        let state = Arc::new(ReceiverState::default());
        state.script.lock().unwrap().extend(script.iter().copied());
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, state }
    }

    fn got(&self) -> Vec<Received> {
        self.state.got.lock().unwrap().clone()
    }
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let secret = state.secret.lock().unwrap().clone().expect("secret set");
    let verified = standardwebhooks::Webhook::new(&secret)
        .unwrap()
        .verify(&body, &headers)
        .is_ok();
    state.got.lock().unwrap().push(Received {
        id: headers
            .get("webhook-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        verified,
    });
    let (status, retry_after) = state
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or((200, None));
    if status == STALL {
        // The connection stays open and unanswered until the sender goes away.
        std::future::pending::<()>().await;
    }
    let mut headers = HeaderMap::new();
    if let Some(r) = retry_after {
        headers.insert("retry-after", r.parse().unwrap());
    }
    (StatusCode::from_u16(status).unwrap(), headers, "")
}

/// A clinic with one endpoint on a fresh receiver, subscribed to `events`.
async fn endpoint(slug: &str, events: &[&str], receiver: &Receiver) -> Uuid {
    let (id, secret) = webhooks::add_endpoint(
        &admin_pool(),
        &admin_pool(),
        &common::region("eu-west"),
        vault(),
        &LOCAL,
        &slug.parse().unwrap(),
        &NewEndpoint {
            url: receiver.url.clone(),
            event_types: events.iter().map(|s| (*s).to_owned()).collect(),
            description: None,
        },
    )
    .await
    .unwrap();
    *receiver.state.secret.lock().unwrap() = Some(secret.expose());
    id
}

/// One round of the job over `slug`, as the service's role, at `now`, under a local
/// stack's policy.
async fn deliver(slug: &str, now: DateTime<Utc>) -> Vec<Outcome> {
    deliver_under(slug, now, LOCAL).await
}

async fn deliver_under(slug: &str, now: DateTime<Utc>, policy: OutboundPolicy) -> Vec<Outcome> {
    let pool = service_pool();
    let settings = Settings::new(policy);
    let reports = webhooks::run(
        &WebhookJob {
            now,
            only: Some(slug.parse().unwrap()),
            settings,
        },
        &common::region("eu-west"),
        &pool,
        &pool,
        vault(),
        &webhooks::http_client(&settings).unwrap(),
    )
    .await
    .unwrap();
    reports.into_iter().flat_map(|r| r.outcomes).collect()
}

async fn events_of(c: &impl tokio_postgres::GenericClient, ty: &str) -> Vec<(Uuid, Value)> {
    c.query(
        "SELECT id, payload FROM outbox_events WHERE type = $1 ORDER BY seq",
        &[&ty],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

#[tokio::test]
async fn the_event_is_written_in_the_transaction_of_the_change() {
    let slug = "hooks-outbox";
    clinic(slug).await;
    let mut c = pinned(slug, true).await;
    let admin = pinned(slug, false).await;
    // Nobody subscribed: changes store no event at all.
    seed(&admin, 0).await;
    let n: i64 = c
        .query_one("SELECT count(*) FROM outbox_events", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0, "an event nobody takes is not stored");
    let receiver = Receiver::spawn(&[]).await;
    endpoint(
        slug,
        &[
            "appointment.booked",
            "appointment.cancelled",
            "patient.created",
        ],
        &receiver,
    )
    .await;
    let (patient, slot) = seed(&admin, 1).await;
    admin
        .batch_execute("ALTER TABLE appointments DISABLE TRIGGER appointment_consent_gate")
        .await
        .unwrap();

    // Rolled back: no event.
    let tx = c.transaction().await.unwrap();
    tx.query_one(BOOK_SQL, &[&slot, &patient]).await.unwrap();
    assert_eq!(events_of(&tx, "appointment.booked").await.len(), 1);
    tx.rollback().await.unwrap();
    assert!(events_of(&c, "appointment.booked").await.is_empty());

    // Committed, as the service's role: one event, ids only.
    let tx = c.transaction().await.unwrap();
    let appointment: Uuid = tx
        .query_one(BOOK_SQL, &[&slot, &patient])
        .await
        .unwrap()
        .get(0);
    tx.commit().await.unwrap();
    let booked = events_of(&c, "appointment.booked").await;
    assert_eq!(booked.len(), 1);
    assert_eq!(
        booked[0].1["appointment"],
        format!("Appointment/{appointment}")
    );
    assert_eq!(booked[0].1["patient"], format!("Patient/{patient}"));
    let text = booked[0].1.to_string();
    assert!(!text.contains("Diop") && !text.contains("Awa") && !text.contains("1980"));

    // Cancelled: one more event; another update (no status change) none.
    c.execute(
        "UPDATE appointments SET status = 'cancelled' WHERE id = $1",
        &[&appointment],
    )
    .await
    .unwrap();
    c.execute(
        "UPDATE appointments SET last_updated = now() WHERE id = $1",
        &[&appointment],
    )
    .await
    .unwrap();
    assert_eq!(events_of(&c, "appointment.cancelled").await.len(), 1);
    // The patient's creation too, with its id alone.
    let created = events_of(&c, "patient.created").await;
    assert_eq!(created.len(), 1);
    assert_eq!(
        created[0].1,
        serde_json::json!({"patient": format!("Patient/{patient}")})
    );
    // One delivery per event the endpoint takes (none is run here).
    let n: i64 = c
        .query_one("SELECT count(*) FROM webhook_deliveries", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 3);
    // The service's role cannot read a secret, nor rewrite an event.
    assert!(
        c.query("SELECT secret_sealed FROM webhook_endpoints", &[])
            .await
            .is_err()
    );
    assert!(
        c.execute("DELETE FROM outbox_events", &[]).await.is_err(),
        "the outbox is append-only for the service"
    );
}

#[tokio::test]
async fn a_booking_is_delivered_signed_and_the_reference_receiver_verifies_it() {
    let slug = "hooks-signed";
    clinic(slug).await;
    let receiver = Receiver::spawn(&[]).await;
    endpoint(slug, &["appointment.booked"], &receiver).await;
    let admin = pinned(slug, false).await;
    let (patient, slot) = seed(&admin, 1).await;
    let appointment = book(&admin, patient, slot).await;

    assert_eq!(deliver(slug, Utc::now()).await, vec![Outcome::Delivered]);
    let got = receiver.got();
    assert_eq!(got.len(), 1, "only the subscribed type: {got:?}");
    assert!(got[0].verified, "standardwebhooks verifies the signature");
    let event = &events_of(&admin, "appointment.booked").await[0];
    assert_eq!(got[0].id, event.0.to_string());
    assert_eq!(got[0].body["type"], "appointment.booked");
    assert_eq!(
        got[0].body["data"]["appointment"],
        format!("Appointment/{appointment}")
    );
    let text = got[0].body.to_string();
    assert!(!text.contains("Diop") && !text.contains("Awa") && !text.contains("1980"));

    let row = admin
        .query_one(
            "SELECT status, attempts, last_status_code, delivered_at IS NOT NULL \
             FROM webhook_deliveries",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "delivered");
    assert_eq!(row.get::<_, i32>(1), 1);
    assert_eq!(row.get::<_, Option<i32>>(2), Some(200));
    assert!(row.get::<_, bool>(3));
    // Nothing more to send.
    assert!(deliver(slug, Utc::now()).await.is_empty());
    assert_eq!(receiver.got().len(), 1);
}

#[tokio::test]
async fn a_failed_attempt_is_retried_with_the_same_webhook_id() {
    let slug = "hooks-retry";
    clinic(slug).await;
    let receiver = Receiver::spawn(&[(500, None)]).await;
    endpoint(slug, &["appointment.booked"], &receiver).await;
    let admin = pinned(slug, false).await;
    let (patient, slot) = seed(&admin, 2).await;
    book(&admin, patient, slot).await;

    let now = Utc::now();
    assert_eq!(deliver(slug, now).await, vec![Outcome::Retried]);
    // The next attempt is 5 s later (up to 6 s with jitter): not before.
    assert!(deliver(slug, now + Duration::from_secs(1)).await.is_empty());
    assert_eq!(
        deliver(slug, now + Duration::from_secs(7)).await,
        vec![Outcome::Delivered]
    );
    let got = receiver.got();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].id, got[1].id, "the same webhook-id, for dedupe");
    assert!(got.iter().all(|r| r.verified));
    let log: Vec<(i32, Option<i32>)> = admin
        .query(
            "SELECT attempt, status_code FROM webhook_attempts ORDER BY attempt",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(log, vec![(1, Some(500)), (2, Some(200))]);
}

#[tokio::test]
async fn retry_after_delays_the_next_attempt() {
    let slug = "hooks-429";
    clinic(slug).await;
    let receiver = Receiver::spawn(&[(429, Some("120"))]).await;
    endpoint(slug, &["appointment.booked"], &receiver).await;
    let admin = pinned(slug, false).await;
    let (patient, slot) = seed(&admin, 3).await;
    book(&admin, patient, slot).await;

    let now = Utc::now();
    assert_eq!(deliver(slug, now).await, vec![Outcome::Retried]);
    let next: DateTime<Utc> = admin
        .query_one("SELECT next_attempt_at FROM webhook_deliveries", &[])
        .await
        .unwrap()
        .get(0);
    let wait = (next - now).num_seconds();
    assert!((120..=125).contains(&wait), "next attempt in {wait} s");
    // Past the schedule's 5 s, before Retry-After: not yet.
    assert!(
        deliver(slug, now + Duration::from_secs(60))
            .await
            .is_empty()
    );
    assert_eq!(
        deliver(slug, now + Duration::from_secs(130)).await,
        vec![Outcome::Delivered]
    );
    assert_eq!(receiver.got().len(), 2);
}

#[tokio::test]
async fn gone_disables_the_endpoint() {
    let slug = "hooks-gone";
    clinic(slug).await;
    let receiver = Receiver::spawn(&[(410, None)]).await;
    let id = endpoint(slug, &["appointment.booked", "patient.created"], &receiver).await;
    let admin = pinned(slug, false).await;
    let (patient, slot) = seed(&admin, 4).await;

    // The patient's creation goes first and is refused for good.
    assert_eq!(deliver(slug, Utc::now()).await, vec![Outcome::Disabled]);
    let row = admin
        .query_one(
            "SELECT disabled_at IS NOT NULL, disabled_reason FROM webhook_endpoints WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0));
    assert!(row.get::<_, String>(1).contains("410"));
    // No delivery is made for a disabled endpoint, nothing is sent to it.
    book(&admin, patient, slot).await;
    let n: i64 = admin
        .query_one("SELECT count(*) FROM webhook_deliveries", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    assert!(
        deliver(slug, Utc::now() + Duration::from_secs(3600))
            .await
            .is_empty()
    );
    assert_eq!(receiver.got().len(), 1);
}

const PATIENT_SQL: &str = "INSERT INTO patients (resource, family, given, birth_date, gender) \
    VALUES ('{\"resourceType\": \"Patient\"}', 'Diop', 'Awa', '1980-01-01', 'female') RETURNING id";

/// A patient, named, in a transaction of its own (its `patient.created` event with it).
async fn patient(c: &impl tokio_postgres::GenericClient) -> Uuid {
    c.query_one(PATIENT_SQL, &[]).await.unwrap().get(0)
}

#[tokio::test]
async fn a_change_that_rolls_back_sends_nothing() {
    let slug = "hooks-rollback";
    clinic(slug).await;
    let receiver = Receiver::spawn(&[]).await;
    endpoint(slug, &["patient.created"], &receiver).await;
    let mut c = pinned(slug, true).await;
    // The patient is written, then the transaction fails on its next statement.
    let tx = c.transaction().await.unwrap();
    patient(&tx).await;
    assert_eq!(events_of(&tx, "patient.created").await.len(), 1);
    assert!(tx.execute("SELECT 1/0", &[]).await.is_err());
    drop(tx);
    assert!(events_of(&c, "patient.created").await.is_empty());
    let n: i64 = c
        .query_one("SELECT count(*) FROM webhook_deliveries", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    assert!(deliver(slug, Utc::now()).await.is_empty());
    assert!(receiver.got().is_empty());
    // A committed one is delivered: the endpoint works.
    patient(&c).await;
    assert_eq!(deliver(slug, Utc::now()).await, vec![Outcome::Delivered]);
    assert_eq!(receiver.got().len(), 1);
}

/// `regional-db jobs run webhooks` over `slug`, as `regional-db serve` would run it (the
/// service's role, the region's master keys), with short timings: a receiver has 5 s to
/// answer and a claim is held 8 s.
fn job_process(slug: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_regional-db"));
    cmd.args([
        "jobs",
        "run",
        "webhooks",
        "--tenant",
        slug,
        "--allow-local-urls",
        "--timeout-seconds",
        "5",
        "--lease-seconds",
        "8",
    ])
    .env("REGION", "eu-west")
    .env("DATABASE_URL", service_url())
    .env_remove("CONTROL_DATABASE_URL")
    .env("MASTER_KEYS", master_keys())
    .env("RUST_LOG", "error");
    cmd
}

/// Runs the job to its end, off the test's runtime (which serves the receiver meanwhile).
async fn job_output(slug: &str) -> String {
    let mut cmd = job_process(slug);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// (status, attempts) of each delivery, by event id.
async fn deliveries(c: &tokio_postgres::Client) -> std::collections::HashMap<Uuid, (String, i32)> {
    c.query(
        "SELECT event, status, attempts FROM webhook_deliveries",
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), (r.get(1), r.get(2))))
    .collect()
}

#[tokio::test]
async fn a_sender_killed_mid_delivery_loses_nothing() {
    let slug = "hooks-crash";
    clinic(slug).await;
    // The first request is held open: the sender is killed while waiting for it.
    let receiver = Receiver::spawn(&[(STALL, None)]).await;
    endpoint(slug, &["patient.created"], &receiver).await;
    let admin = pinned(slug, false).await;
    for _ in 0..3 {
        patient(&admin).await;
    }
    let events: std::collections::BTreeSet<String> = events_of(&admin, "patient.created")
        .await
        .into_iter()
        .map(|(id, _)| id.to_string())
        .collect();
    assert_eq!(events.len(), 3);

    // The real binary sends the three; two are answered and recorded, one hangs.
    let mut child = job_process(slug).spawn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let delivered = deliveries(&admin)
            .await
            .values()
            .filter(|(s, _)| s == "delivered")
            .count();
        if receiver.got().len() == 3 && delivered == 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the job did not reach the stalled delivery: {:?}",
            receiver.got()
        );
        assert!(child.try_wait().unwrap().is_none(), "the job ended early");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // SIGKILL mid-delivery: no answer recorded, nothing cleaned up.
    child.kill().unwrap();
    child.wait().unwrap();
    let state = deliveries(&admin).await;
    let pending: Vec<Uuid> = state
        .iter()
        .filter(|(_, (s, _))| s == "pending")
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(pending.len(), 1, "{state:?}");
    let stalled = pending[0];
    assert_eq!(state[&stalled], ("pending".to_owned(), 1), "claimed once");

    // Restarted at once: the dead sender's claim still holds, nothing is sent twice.
    let stdout = job_output(slug).await;
    assert!(stdout.contains("0 delivered, 0 to retry"), "{stdout}");
    assert_eq!(receiver.got().len(), 3);

    // Once the lease ended, the restarted job sends it again, with the same webhook-id.
    tokio::time::sleep(Duration::from_millis(8500)).await;
    let stdout = job_output(slug).await;
    assert!(stdout.contains("1 delivered, 0 to retry"), "{stdout}");

    let got = receiver.got();
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(got.iter().all(|r| r.verified), "every attempt verifies");
    let mut per_id = std::collections::BTreeMap::<String, usize>::new();
    for r in &got {
        *per_id.entry(r.id.clone()).or_default() += 1;
    }
    // Deduped on webhook-id, the receiver has every event exactly once.
    assert_eq!(
        per_id
            .keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>(),
        events
    );
    assert_eq!(
        per_id[&stalled.to_string()],
        2,
        "the retry kept its webhook-id"
    );
    assert!(
        per_id
            .iter()
            .filter(|(id, _)| **id != stalled.to_string())
            .all(|(_, n)| *n == 1),
        "what was answered is not sent again: {per_id:?}"
    );
    let state = deliveries(&admin).await;
    assert!(state.values().all(|(s, _)| s == "delivered"), "{state:?}");
    assert_eq!(state[&stalled].1, 2);
    // The log has the second attempt only: the first one's sender died before writing.
    let log: Vec<i32> = admin
        .query(
            "SELECT a.attempt FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery \
             WHERE d.event = $1",
            &[&stalled],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(log, vec![2]);
}

#[tokio::test]
async fn urls_the_policy_refuses_are_neither_added_nor_called() {
    let slug = "hooks-ssrf";
    clinic(slug).await;
    let strict = OutboundPolicy::default();
    let add = |url: &str| NewEndpoint {
        url: url.to_owned(),
        event_types: vec!["patient.created".into()],
        description: None,
    };
    for url in [
        "http://hooks.example.com/in",
        "https://127.0.0.1/in",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/in",
        "https://10.0.0.7/in",
        "https://localhost/in",
    ] {
        let err = webhooks::add_endpoint(
            &admin_pool(),
            &admin_pool(),
            &common::region("eu-west"),
            vault(),
            &strict,
            &slug.parse().unwrap(),
            &add(url),
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("will not call"), "{url}: {err}");
    }
    // The operator's command refuses it too, unless the stack allows local URLs.
    let add_cli = |allow_local: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_regional-db"));
        cmd.args([
            "webhooks",
            "add",
            "--tenant",
            slug,
            "--url",
            "http://127.0.0.1:9/in",
            "--events",
            "patient.created",
        ])
        .env("REGION", "eu-west")
        .env("DATABASE_URL", cluster().url(DB))
        .env_remove("CONTROL_DATABASE_URL")
        .env_remove("ALLOW_LOCAL_URLS")
        .env("MASTER_KEYS", master_keys())
        .env("RUST_LOG", "error");
        if allow_local {
            cmd.arg("--allow-local-urls");
        }
        cmd.output().unwrap()
    };
    let out = add_cli(false);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("will not call"),
        "{out:?}"
    );
    let admin = pinned(slug, false).await;
    let n: i64 = admin
        .query_one("SELECT count(*) FROM webhook_endpoints", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0, "nothing refused was added");
    let out = add_cli(true);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("whsec_"));
    admin
        .execute("DELETE FROM webhook_endpoints", &[])
        .await
        .unwrap();

    // An endpoint added under a local stack's policy, then sent by a strict region: the
    // attempt fails, says why, and the receiver gets nothing.
    let receiver = Receiver::spawn(&[]).await;
    endpoint(slug, &["patient.created"], &receiver).await;
    patient(&admin).await;
    assert_eq!(
        deliver_under(slug, Utc::now(), strict).await,
        vec![Outcome::Retried]
    );
    assert!(receiver.got().is_empty());
    let error: String = admin
        .query_one("SELECT last_error FROM webhook_deliveries", &[])
        .await
        .unwrap()
        .get(0);
    assert!(
        error.contains("will not call") && error.contains("https only"),
        "{error}"
    );
    let logged: Option<String> = admin
        .query_one("SELECT error FROM webhook_attempts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(logged.as_deref(), Some(error.as_str()));
}

/// How many events, deliveries and attempts mention `patient` anywhere, and how many of
/// each the clinic has in all.
async fn outbox_of(c: &tokio_postgres::Client, patient: Uuid) -> [i64; 4] {
    let row = c
        .query_one(
            "SELECT (SELECT count(*) FROM outbox_events WHERE strpos(payload::text, $1) > 0), \
                    (SELECT count(*) FROM outbox_events), \
                    (SELECT count(*) FROM webhook_deliveries), \
                    (SELECT count(*) FROM webhook_attempts)",
            &[&patient.to_string()],
        )
        .await
        .unwrap();
    [row.get(0), row.get(1), row.get(2), row.get(3)]
}

/// `Patient/$erase`'s statement from the shared catalog, as the service runs it: one
/// transaction, the service's role.
async fn erase(c: &mut tokio_postgres::Client, patient: Uuid, commit: bool) -> Value {
    let statement = telemed_shared::dataplane::catalog::lookup(telemed_shared::api::erase::ERASE)
        .expect("the catalog has $erase");
    let tx = c.transaction().await.unwrap();
    let row = tx
        .query_one(statement.sql, &[&patient, &Utc::now()])
        .await
        .unwrap();
    let answer = serde_json::json!({
        "outcome": row.get::<_, String>("outcome"),
        "webhook_events": row.get::<_, i32>("webhook_events"),
    });
    if commit {
        tx.commit().await.unwrap();
    } else {
        tx.rollback().await.unwrap();
    }
    answer
}

#[tokio::test]
async fn an_erased_patient_leaves_nothing_in_the_outbox() {
    let slug = "hooks-erase";
    clinic(slug).await;
    let receiver = Receiver::spawn(&[]).await;
    endpoint(
        slug,
        &[
            "patient.created",
            "appointment.booked",
            "appointment.cancelled",
        ],
        &receiver,
    )
    .await;
    let admin = pinned(slug, false).await;
    let mut service = pinned(slug, true).await;
    let (erased, slot) = seed(&admin, 1).await;
    let (other, other_slot) = seed(&admin, 2).await;
    let held = patient(&admin).await;
    book(&admin, other, other_slot).await;
    let appointment = book(&admin, erased, slot).await;
    // Delivered: past deliveries and their attempt log.
    assert_eq!(deliver(slug, Utc::now()).await.len(), 5);
    // And one pending: the cancellation, not sent yet.
    admin
        .execute(
            "UPDATE appointments SET status = 'cancelled' WHERE id = $1",
            &[&appointment],
        )
        .await
        .unwrap();
    assert_eq!(outbox_of(&admin, erased).await, [3, 6, 6, 5]);

    // Rolled back, the erasure takes nothing: the outbox goes with it or not at all.
    let answer = erase(&mut service, erased, false).await;
    assert_eq!(answer["webhook_events"], 3, "{answer}");
    assert_eq!(outbox_of(&admin, erased).await, [3, 6, 6, 5]);

    let answer = erase(&mut service, erased, true).await;
    assert_eq!(
        answer["outcome"], "kept",
        "France keeps the record: {answer}"
    );
    assert_eq!(answer["webhook_events"], 3, "{answer}");
    // Nothing mentions the patient: events, deliveries (sent or pending), attempts.
    assert_eq!(outbox_of(&admin, erased).await, [0, 3, 3, 3]);
    let left: Vec<String> = admin
        .query("SELECT payload::text FROM outbox_events", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        left.iter().all(|p| !p.contains(&erased.to_string())),
        "{left:?}"
    );
    // Nothing is left to send about them.
    assert!(deliver(slug, Utc::now()).await.is_empty());

    // A legal hold keeps everything, the outbox too.
    regional_db::jobs::holds::place(
        &admin_pool(),
        &admin_pool(),
        &common::region("eu-west"),
        &slug.parse().unwrap(),
        held,
        "litigation",
        "test",
    )
    .await
    .unwrap();
    let answer = erase(&mut service, held, true).await;
    assert_eq!(answer["outcome"], "held", "{answer}");
    assert_eq!(answer["webhook_events"], 0);
    assert_eq!(outbox_of(&admin, held).await[0], 1);

    // A patient row deleted by any other path (a purge) takes its events with it.
    admin
        .execute("DELETE FROM appointments WHERE patient = $1", &[&other])
        .await
        .unwrap();
    admin
        .execute("DELETE FROM patients WHERE id = $1", &[&other])
        .await
        .unwrap();
    assert_eq!(outbox_of(&admin, other).await, [0, 1, 1, 1]);
}

#[tokio::test]
async fn a_replayed_delivery_is_sent_again_with_its_webhook_id() {
    let slug = "hooks-replay";
    clinic(slug).await;
    let receiver = Receiver::spawn(&[]).await;
    endpoint(slug, &["patient.created"], &receiver).await;
    let service = pinned(slug, true).await;
    patient(&service).await;
    assert_eq!(deliver(slug, Utc::now()).await, vec![Outcome::Delivered]);
    let id: i64 = service
        .query_one("SELECT id FROM webhook_deliveries", &[])
        .await
        .unwrap()
        .get(0);
    // The admin page's statement, as the service runs it.
    let replay =
        telemed_shared::dataplane::catalog::lookup(telemed_shared::webhooks::names::REPLAY)
            .unwrap();
    assert_eq!(service.query(replay.sql, &[&id]).await.unwrap().len(), 1);
    assert_eq!(deliver(slug, Utc::now()).await, vec![Outcome::Delivered]);
    let got = receiver.got();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].id, got[1].id, "a replay keeps the webhook-id");
    assert!(got.iter().all(|r| r.verified));
    let log: Vec<i32> = service
        .query("SELECT attempt FROM webhook_attempts ORDER BY attempt", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(log, vec![1, 2], "the log goes on");
}
