//! Webhooks against a real Postgres and a real HTTP receiver (issue 11 item 3): the outbox
//! row is written in the transaction of the change (none when it rolls back); the job,
//! running as the service's role, delivers it signed, and the receiver verifies the
//! signature with the `standardwebhooks` crate (the reference implementation, not ours);
//! retries keep the webhook-id; `Retry-After` is honoured; 410 disables the endpoint;
//! payloads carry ids only.

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
    jobs::webhooks::{self, NewEndpoint, Outcome, WebhookJob},
    migrate, provision,
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
        c.psql(
            DB,
            &format!(
                "DO $$ BEGIN \
                   IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{LOGIN}') THEN \
                     CREATE ROLE {LOGIN} LOGIN IN ROLE {}; \
                   END IF; \
                   ALTER ROLE {LOGIN} PASSWORD '{PASSWORD}'; \
                 END $$",
                regional_db::grants::SERVICE_ROLE
            ),
        )
        .unwrap();
        c
    })
}

fn vault() -> &'static Vault {
    static V: std::sync::OnceLock<Vault> = std::sync::OnceLock::new();
    V.get_or_init(|| Vault::new(MasterKeys::parse(&MasterKeys::generate("k1").unwrap()).unwrap()))
}

fn admin_pool() -> deadpool_postgres::Pool {
    db::pool(&cluster().url(DB), 2, Duration::from_secs(10)).unwrap()
}

/// The pool `regional-db serve` would have: the service's role.
fn service_pool() -> deadpool_postgres::Pool {
    db::pool(
        &format!(
            "postgres://{LOGIN}:{PASSWORD}@127.0.0.1:{}/{DB}",
            cluster().port()
        ),
        4,
        Duration::from_secs(10),
    )
    .unwrap()
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
        format!(
            "postgres://{LOGIN}:{PASSWORD}@127.0.0.1:{}/{DB}",
            cluster().port()
        )
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

/// One round of the job over `slug`, as the service's role, at `now`.
async fn deliver(slug: &str, now: DateTime<Utc>) -> Vec<Outcome> {
    let pool = service_pool();
    let reports = webhooks::run(
        &WebhookJob {
            now,
            only: Some(slug.parse().unwrap()),
        },
        &common::region("eu-west"),
        &pool,
        &pool,
        vault(),
        &webhooks::http_client().unwrap(),
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
